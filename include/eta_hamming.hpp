/*
 * eta-hamming for C++17 and later: a header-only layer over the C ABI of eta_hamming.h.
 *
 * - eta::error: the exception every failing call throws, carrying the eta_status and a message.
 * - eta::span<T>: a pointer and a length (std::span is C++20); built from a std::vector, an
 *   array, or a pointer and a count. Every call checks the lengths it is given against the
 *   shape (ETA_STATUS_BUFFER_TOO_SHORT, thrown before the C call), so a short buffer is an
 *   exception here, never undefined behaviour.
 * - Typed lanes: fingerprint buffers are spans of uint8_t, uint16_t, uint32_t or uint64_t; a
 *   lane type that is not m's is ETA_STATUS_INVALID_BITS (eta::lane_type_matches).
 * - RAII handles: eta::hasher, eta::fingerprints, eta::history (move-only, freed by their
 *   destructors), and eta::topk over handles, which refuses mixed widths.
 *
 * Written against the C header only: every function here calls the C ABI, and the C ABI's own
 * checks (NULL, alignment, overlap, shapes) still apply. Tested by tests/c_abi.rs
 * (c_tests/test_hpp.cpp, -Wall -Wextra -Wpedantic -Werror, C++17 and C++20).
 */
#ifndef ETA_HAMMING_HPP
#define ETA_HAMMING_HPP

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "eta_hamming.h"

#if !defined(__cplusplus) || __cplusplus < 201703L
#error "eta_hamming.hpp needs C++17 or later"
#endif

namespace eta {

/* ---- errors ---------------------------------------------------------------------------- */

/** A failed call: the status (never ETA_STATUS_OK) and a message (eta_status_message, or the
 * wrapper's own for a length it checked). Nothing was written. */
class error : public std::runtime_error {
public:
    explicit error(eta_status status)
        : std::runtime_error(eta_status_message(static_cast<uint32_t>(status))), status_(status) {}
    error(eta_status status, const std::string &message)
        : std::runtime_error(message), status_(status) {}
    /** The status code (an ETA_STATUS_* value). */
    eta_status status() const noexcept { return status_; }

private:
    eta_status status_;
};

/** Throws eta::error unless `status` is ETA_STATUS_OK. */
inline void check(eta_status status) {
    if (status != ETA_STATUS_OK) throw error(status);
}

namespace detail {
inline void need(const char *what, std::size_t have, std::size_t needed) {
    if (have < needed)
        throw error(ETA_STATUS_BUFFER_TOO_SHORT,
                    std::string("eta: ") + what + " holds " + std::to_string(have) + " elements, the shape needs " +
                        std::to_string(needed));
}
inline std::size_t mul(std::size_t a, std::size_t b) {
    if (a != 0 && b > SIZE_MAX / a) throw error(ETA_STATUS_SIZE_OVERFLOW);
    return a * b;
}
}  // namespace detail

/* ---- views ------------------------------------------------------------------------------ */

/** A contiguous view: a pointer and a number of elements (C++17's stand-in for std::span). */
template <class T>
class span {
public:
    constexpr span() noexcept : data_(nullptr), size_(0) {}
    constexpr span(T *data, std::size_t size) noexcept : data_(data), size_(size) {}
    template <std::size_t N>
    constexpr span(T (&array)[N]) noexcept : data_(array), size_(N) {}
    template <class U, class A, class = std::enable_if_t<std::is_convertible<U (*)[], T (*)[]>::value>>
    span(std::vector<U, A> &v) noexcept : data_(v.data()), size_(v.size()) {}
    template <class U, class A,
              class = std::enable_if_t<std::is_const<T>::value && std::is_convertible<const U (*)[], T (*)[]>::value>>
    span(const std::vector<U, A> &v) noexcept : data_(v.data()), size_(v.size()) {}
    template <class U, class = std::enable_if_t<std::is_convertible<U (*)[], T (*)[]>::value>>
    constexpr span(span<U> other) noexcept : data_(other.data()), size_(other.size()) {}

    constexpr T *data() const noexcept { return data_; }
    constexpr std::size_t size() const noexcept { return size_; }
    constexpr bool empty() const noexcept { return size_ == 0; }
    constexpr T *begin() const noexcept { return data_; }
    constexpr T *end() const noexcept { return data_ + size_; }
    constexpr T &operator[](std::size_t i) const noexcept { return data_[i]; }

private:
    T *data_;
    std::size_t size_;
};

/* ---- lanes ------------------------------------------------------------------------------ */

/** Whether `Lane` is a lane type at all (uint8_t, uint16_t, uint32_t, uint64_t). */
template <class Lane>
constexpr bool is_lane_v = std::is_same<Lane, uint8_t>::value || std::is_same<Lane, uint16_t>::value ||
                           std::is_same<Lane, uint32_t>::value || std::is_same<Lane, uint64_t>::value;

/** Lanes per fingerprint of `m` bits; throws ETA_STATUS_INVALID_BITS for an invalid m. */
inline std::size_t lanes_per_fingerprint(std::size_t m) {
    std::size_t lanes = eta_fingerprint_lanes(m);
    if (lanes == 0) throw error(ETA_STATUS_INVALID_BITS);
    return lanes;
}

/** Whether `Lane` is the lane type of m-bit fingerprints. */
template <class Lane>
bool lane_type_matches(std::size_t m) noexcept {
    static_assert(is_lane_v<std::remove_const_t<Lane>>, "a lane is uint8_t, uint16_t, uint32_t or uint64_t");
    return eta_fingerprint_lane_bytes(m) == sizeof(Lane);
}

namespace detail {
template <class Lane>
std::size_t lanes_of(std::size_t m) {
    std::size_t lanes = lanes_per_fingerprint(m);
    if (!lane_type_matches<Lane>(m))
        throw error(ETA_STATUS_INVALID_BITS,
                    "eta: m = " + std::to_string(m) + " is stored in " + std::to_string(eta_fingerprint_lane_bytes(m)) +
                        "-byte lanes, not " + std::to_string(sizeof(Lane)) + "-byte ones");
    return lanes;
}
/** Lanes a history of `len` items at `stride` spans (the last row need only reach len). */
inline std::size_t history_span(std::size_t lanes, std::size_t len, std::size_t stride) {
    return len == 0 ? 0 : mul(lanes - 1, stride) + len;
}
}  // namespace detail

/* ---- the hasher ------------------------------------------------------------------------- */

/** An eta_hasher, freed by the destructor. Immutable: share it between threads freely. */
class hasher {
public:
    /** The frozen projection of `seed` for d-dimensional embeddings and m-bit fingerprints. */
    static hasher seeded(std::size_t d, std::size_t m, uint64_t seed) {
        eta_hasher *h = nullptr;
        check(eta_hasher_new_seeded(d, m, seed, &h));
        return hasher(h);
    }
    /** The caller's `d x m` projection (row-major), copied. */
    static hasher from_projection(span<const float> proj, std::size_t d, std::size_t m) {
        detail::need("the projection", proj.size(), detail::mul(d, m));
        eta_hasher *h = nullptr;
        check(eta_hasher_new_from_projection(proj.data(), d, m, &h));
        return hasher(h);
    }

    hasher(hasher &&other) noexcept : h_(std::exchange(other.h_, nullptr)) {}
    hasher &operator=(hasher &&other) noexcept {
        if (this != &other) {
            eta_hasher_free(h_);
            h_ = std::exchange(other.h_, nullptr);
        }
        return *this;
    }
    hasher(const hasher &) = delete;
    hasher &operator=(const hasher &) = delete;
    ~hasher() { eta_hasher_free(h_); }

    std::size_t dim() const noexcept { return eta_hasher_dim(h_); }
    std::size_t bits() const noexcept { return eta_hasher_bits(h_); }
    /** The projection, `d x m` floats, row-major. */
    std::vector<float> projection() const {
        std::vector<float> p(detail::mul(dim(), bits()));
        check(eta_hasher_projection(h_, p.data()));
        return p;
    }
    /** Fingerprints of the embeddings `emb` (`n x d` floats, n = emb.size() / d) into `out`
     * (`n x lanes` lanes of m's lane type). Returns n. */
    template <class Lane>
    std::size_t encode(span<const float> emb, span<Lane> out) const {
        std::size_t n = rows(emb.size());
        detail::need("out", out.size(), detail::mul(n, detail::lanes_of<Lane>(bits())));
        check(eta_encode(h_, emb.data(), n, out.data()));
        return n;
    }
    /** The same, as a history at `stride` (lane w of item i at out[w * stride + i]). */
    template <class Lane>
    std::size_t encode_history(span<const float> emb, span<Lane> out, std::size_t stride) const {
        std::size_t n = rows(emb.size());
        detail::need("out", out.size(), detail::history_span(detail::lanes_of<Lane>(bits()), n, stride));
        check(eta_encode_history(h_, emb.data(), n, out.data(), stride));
        return n;
    }
    /** The C handle, for calls this layer does not wrap. */
    const eta_hasher *get() const noexcept { return h_; }

private:
    explicit hasher(eta_hasher *h) noexcept : h_(h) {}
    std::size_t rows(std::size_t floats) const {
        std::size_t d = dim();
        if (d == 0 || floats % d != 0)
            throw error(ETA_STATUS_BUFFER_TOO_SHORT, "eta: embeddings are not a whole number of rows of d floats");
        return floats / d;
    }
    eta_hasher *h_;
};

/* ---- handles ---------------------------------------------------------------------------- */

/** An eta_fingerprints handle: up to `capacity` fingerprints of m bits in query layout. */
class fingerprints {
public:
    fingerprints(std::size_t m, std::size_t capacity) : f_(nullptr) { check(eta_fingerprints_new(m, capacity, &f_)); }
    fingerprints(fingerprints &&other) noexcept : f_(std::exchange(other.f_, nullptr)) {}
    fingerprints &operator=(fingerprints &&other) noexcept {
        if (this != &other) {
            eta_fingerprints_free(f_);
            f_ = std::exchange(other.f_, nullptr);
        }
        return *this;
    }
    fingerprints(const fingerprints &) = delete;
    fingerprints &operator=(const fingerprints &) = delete;
    ~fingerprints() { eta_fingerprints_free(f_); }

    /** Hashes the embeddings `emb` (`n x d`, n = emb.size() / d) into the handle. */
    void encode(const hasher &h, span<const float> emb) {
        std::size_t d = h.dim();
        if (d == 0 || emb.size() % d != 0)
            throw error(ETA_STATUS_BUFFER_TOO_SHORT, "eta: embeddings are not a whole number of rows of d floats");
        check(eta_fingerprints_encode(f_, h.get(), emb.data(), emb.size() / d));
    }
    std::size_t size() const noexcept { return eta_fingerprints_len(f_); }
    std::size_t bits() const noexcept { return eta_fingerprints_bits(f_); }
    /** The fingerprints, `size() x lanes` lanes of type `Lane` (m's lane type, else it throws). */
    template <class Lane>
    span<const Lane> lanes() const {
        std::size_t lanes = detail::lanes_of<Lane>(bits());
        return span<const Lane>(static_cast<const Lane *>(eta_fingerprints_data(f_)), size() * lanes);
    }
    const eta_fingerprints *get() const noexcept { return f_; }

private:
    eta_fingerprints *f_;
};

/** An eta_history handle: up to `capacity` items of m bits at a stride, in a buffer it owns
 * (the constructor) or borrows (history::wrap). */
class history {
public:
    /** An empty history that owns a zeroed buffer for `capacity` items. */
    history(std::size_t m, std::size_t capacity) : h_(nullptr) { check(eta_history_new(m, capacity, &h_)); }
    /** A history over the caller's buffer `lanes` (`len` of `capacity` items at `stride`),
     * which must outlive the handle and be initialised over its span. */
    template <class Lane>
    static history wrap(span<Lane> lanes, std::size_t m, std::size_t len, std::size_t capacity, std::size_t stride) {
        static_assert(!std::is_const<Lane>::value, "a wrapped history may be written (history::encode)");
        detail::need("the history buffer", lanes.size(), detail::history_span(detail::lanes_of<Lane>(m), capacity, stride));
        eta_history *h = nullptr;
        check(eta_history_wrap(lanes.data(), m, len, capacity, stride, &h));
        return history(h);
    }
    history(history &&other) noexcept : h_(std::exchange(other.h_, nullptr)) {}
    history &operator=(history &&other) noexcept {
        if (this != &other) {
            eta_history_free(h_);
            h_ = std::exchange(other.h_, nullptr);
        }
        return *this;
    }
    history(const history &) = delete;
    history &operator=(const history &) = delete;
    ~history() { eta_history_free(h_); }

    /** Hashes the embeddings `emb` (`n x d`) into the history, which then holds n items. */
    void encode(const hasher &h, span<const float> emb) {
        std::size_t d = h.dim();
        if (d == 0 || emb.size() % d != 0)
            throw error(ETA_STATUS_BUFFER_TOO_SHORT, "eta: embeddings are not a whole number of rows of d floats");
        check(eta_history_encode(h_, h.get(), emb.data(), emb.size() / d));
    }
    std::size_t size() const noexcept { return eta_history_len(h_); }
    std::size_t bits() const noexcept { return eta_history_bits(h_); }
    std::size_t stride() const noexcept { return eta_history_stride(h_); }
    const eta_history *get() const noexcept { return h_; }

private:
    explicit history(eta_history *h) noexcept : h_(h) {}
    eta_history *h_;
};

/* ---- scans ------------------------------------------------------------------------------ */

/** Top-K results: query q's j-th result at [q * k + j]; `filled` slots of each row hold results,
 * the rest ETA_EMPTY_INDEX / ETA_EMPTY_DISTANCE. */
struct topk_result {
    std::size_t k = 0;
    uint32_t filled = 0;
    std::vector<uint32_t> idx;
    std::vector<uint16_t> dist;
};

/** For each query, the k nearest items of the history (over `threads` threads; 1: this one,
 * 0: all cores). Mixed widths throw ETA_STATUS_INVALID_BITS. */
inline topk_result topk(const fingerprints &queries, const history &hist, std::size_t k, std::size_t threads = 1) {
    topk_result r;
    r.k = k;
    std::size_t slots = detail::mul(queries.size(), k);
    r.idx.resize(slots);
    r.dist.resize(slots);
    check(eta_topk_history(queries.get(), hist.get(), k, r.idx.data(), r.dist.data(), &r.filled, threads));
    return r;
}

/** Every distance between each query and each history item: [q * hist.size() + i]. */
inline std::vector<uint16_t> distances(const fingerprints &queries, const history &hist) {
    std::vector<uint16_t> out(detail::mul(queries.size(), hist.size()));
    check(eta_distances_history(queries.get(), hist.get(), out.data()));
    return out;
}

/** eta_topk_shared over typed views: `queries` holds `b` fingerprints, `hist` a history of `l`
 * items at `stride`; outputs `b x k`. Lengths are checked before the call. Returns min(k, l). */
template <class Lane>
uint32_t topk_shared(span<const Lane> queries, span<const Lane> hist, std::size_t l, std::size_t stride, std::size_t m,
                     std::size_t k, span<uint32_t> idx, span<uint16_t> dist) {
    std::size_t lanes = detail::lanes_of<Lane>(m);
    std::size_t b = queries.size() / lanes;
    if (queries.size() % lanes != 0)
        throw error(ETA_STATUS_BUFFER_TOO_SHORT, "eta: queries are not a whole number of fingerprints");
    detail::need("the history", hist.size(), detail::history_span(lanes, l, stride));
    detail::need("idx", idx.size(), detail::mul(b, k));
    detail::need("dist", dist.size(), detail::mul(b, k));
    uint32_t filled = 0;
    check(eta_topk_shared(queries.data(), b, hist.data(), l, stride, m, k, idx.data(), dist.data(), &filled));
    return filled;
}

/** Whether the loaded library serves a program built against this header. */
inline bool version_compatible() noexcept {
    return eta_version_compatible(ETA_HAMMING_VERSION_MAJOR, ETA_HAMMING_VERSION_MINOR);
}

}  // namespace eta

#endif /* ETA_HAMMING_HPP */
