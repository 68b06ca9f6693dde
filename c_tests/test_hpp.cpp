/*
 * include/eta_hamming.hpp, the C++17 layer: RAII handles, span views, typed lanes, eta::error.
 * Built by tests/c_abi.rs as C++17 and C++20 with -Wall -Wextra -Wpedantic -Werror against the
 * staticlib, and run. Results are compared with the C ABI's (itself checked against the
 * reference in c_tests/suite.h) and every error path checks the status it throws.
 */
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <string>
#include <utility>
#include <vector>

#include "eta_hamming.hpp"

static unsigned long g_checks;

#define CHECK(cond)                                                                              \
    do {                                                                                         \
        g_checks++;                                                                              \
        if (!(cond)) {                                                                           \
            std::fprintf(stderr, "%s:%d: check failed: %s\n", __FILE__, __LINE__, #cond);       \
            std::exit(1);                                                                        \
        }                                                                                        \
    } while (0)

/* Runs `body`, which must throw eta::error with `want`. */
template <class F>
static void expect_error(F body, eta_status want, int line) {
    g_checks++;
    try {
        body();
    } catch (const eta::error &e) {
        if (e.status() != want) {
            std::fprintf(stderr, "line %d: threw status %u (%s), want %u\n", line, (unsigned)e.status(), e.what(),
                         (unsigned)want);
            std::exit(1);
        }
        if (std::strlen(e.what()) == 0) {
            std::fprintf(stderr, "line %d: empty message\n", line);
            std::exit(1);
        }
        return;
    }
    std::fprintf(stderr, "line %d: no exception, want status %u\n", line, (unsigned)want);
    std::exit(1);
}
#define EXPECT_ERROR(body, want) expect_error([&] { body; }, want, __LINE__)

static std::vector<float> embeddings(std::size_t n, std::size_t d, uint64_t seed) {
    std::vector<float> v(n * d);
    uint64_t s = seed;
    for (float &x : v) {
        s = s * 6364136223846793005ull + 1442695040888963407ull;
        x = (float)((int)(s >> 40) % 2001 - 1000) / 997.0f;
    }
    return v;
}

/* One width, lane type Lane: the wrapper's results equal the C ABI's. */
template <class Lane>
static void check_width(std::size_t m) {
    const std::size_t d = 7, L = 60, B = 4, K = 9;
    const std::size_t lanes = eta::lanes_per_fingerprint(m);
    CHECK(eta::lane_type_matches<Lane>(m));
    std::vector<float> hist_emb = embeddings(L, d, 3 + m), q_emb = embeddings(B, d, 5 + m);

    eta::hasher h = eta::hasher::seeded(d, m, 42);
    CHECK(h.dim() == d && h.bits() == m);
    std::vector<float> proj = h.projection();
    CHECK(proj.size() == d * m);
    eta::hasher h2 = eta::hasher::from_projection(proj, d, m);
    CHECK(h2.projection() == proj);

    /* Raw C results. */
    const std::size_t S = 64;
    std::vector<Lane> q_raw(B * lanes), hist_raw(lanes * S);
    if (eta_encode(h.get(), q_emb.data(), B, q_raw.data()) != ETA_STATUS_OK) CHECK(false);
    if (eta_encode_history(h.get(), hist_emb.data(), L, hist_raw.data(), S) != ETA_STATUS_OK) CHECK(false);
    std::vector<uint32_t> want_idx(B * K);
    std::vector<uint16_t> want_dist(B * K);
    uint32_t want_filled = 0;
    if (eta_topk_shared(q_raw.data(), B, hist_raw.data(), L, S, m, K, want_idx.data(), want_dist.data(),
                        &want_filled) != ETA_STATUS_OK)
        CHECK(false);

    /* Typed views over caller buffers. */
    std::vector<Lane> q(B * lanes), hv(lanes * S);
    CHECK(h.encode<Lane>(q_emb, q) == B);
    CHECK(q == q_raw);
    CHECK(h.encode_history<Lane>(hist_emb, hv, S) == L);
    CHECK(hv == hist_raw);
    std::vector<uint32_t> idx(B * K);
    std::vector<uint16_t> dist(B * K);
    CHECK(eta::topk_shared<Lane>(q, hv, L, S, m, K, idx, dist) == K);
    CHECK(idx == want_idx && dist == want_dist);

    /* Handles. */
    eta::fingerprints fq(m, B);
    fq.encode(h, q_emb);
    CHECK(fq.size() == B && fq.bits() == m);
    eta::span<const Lane> fl = fq.lanes<Lane>();
    CHECK(fl.size() == B * lanes && std::vector<Lane>(fl.begin(), fl.end()) == q_raw);
    eta::history hh(m, L);
    hh.encode(h, hist_emb);
    CHECK(hh.size() == L && hh.bits() == m && hh.stride() == 64);
    for (std::size_t threads : {std::size_t(1), std::size_t(0), std::size_t(3)}) {
        eta::topk_result r = eta::topk(fq, hh, K, threads);
        CHECK(r.k == K && r.filled == K && r.idx == want_idx && r.dist == want_dist);
    }
    std::vector<uint16_t> all = eta::distances(fq, hh);
    CHECK(all.size() == B * L);
    for (std::size_t b = 0; b < B; b++) CHECK(all[b * L + want_idx[b * K]] == want_dist[b * K]);

    /* A wrapped (borrowed) history, and moves. */
    eta::history wrapped = eta::history::wrap<Lane>(hv, m, L, L, S);
    CHECK(wrapped.size() == L && wrapped.stride() == S);
    eta::history moved = std::move(wrapped);
    CHECK(wrapped.get() == nullptr && moved.size() == L);
    eta::topk_result r2 = eta::topk(fq, moved, K);
    CHECK(r2.idx == want_idx);

    /* Errors: the status, as an exception; nothing written. */
    std::vector<Lane> short_out(B * lanes - 1, Lane(7));
    EXPECT_ERROR(h.encode<Lane>(q_emb, short_out), ETA_STATUS_BUFFER_TOO_SHORT);
    CHECK(short_out[0] == Lane(7));
    std::vector<float> ragged(d + 1);
    EXPECT_ERROR(h.encode<Lane>(ragged, q), ETA_STATUS_BUFFER_TOO_SHORT);
    EXPECT_ERROR(eta::hasher::seeded(0, m, 1), ETA_STATUS_INVALID_DIM);
    EXPECT_ERROR(eta::hasher::seeded(d, 0, 1), ETA_STATUS_INVALID_BITS);
    EXPECT_ERROR(eta::hasher::from_projection(proj, d + 1, m), ETA_STATUS_BUFFER_TOO_SHORT);
    EXPECT_ERROR(eta::topk(fq, hh, 0), ETA_STATUS_INVALID_K);
    EXPECT_ERROR(fq.encode(h, embeddings(B + 1, d, 9)), ETA_STATUS_LEN_EXCEEDS_CAPACITY);
    CHECK(fq.size() == B);
    EXPECT_ERROR(eta::fingerprints(4097, 1), ETA_STATUS_INVALID_BITS);
    EXPECT_ERROR(eta::history::wrap<Lane>(hv, m, L, L, L - 1), ETA_STATUS_STRIDE_TOO_SMALL);
    EXPECT_ERROR(eta::history::wrap<Lane>(hv, m, L, L + 5, S * 2), ETA_STATUS_BUFFER_TOO_SHORT);
    std::vector<uint32_t> small_idx(B * K - 1);
    EXPECT_ERROR(eta::topk_shared<Lane>(q, hv, L, S, m, K, small_idx, dist), ETA_STATUS_BUFFER_TOO_SHORT);

    /* Mixed widths through handles: refused. */
    const std::size_t other = m == 64 ? 65 : 64;
    eta::history other_hist(other, L);
    EXPECT_ERROR(eta::topk(fq, other_hist, K), ETA_STATUS_INVALID_BITS);
    EXPECT_ERROR(eta::distances(fq, other_hist), ETA_STATUS_INVALID_BITS);
    eta::hasher ho = eta::hasher::seeded(d, other, 1);
    EXPECT_ERROR(hh.encode(ho, hist_emb), ETA_STATUS_INVALID_BITS);
    CHECK(hh.size() == L);
}

/* A lane type that is not m's. */
static void check_typed_lanes() {
    CHECK(!eta::lane_type_matches<uint64_t>(8));
    CHECK(eta::lane_type_matches<uint8_t>(8) && eta::lane_type_matches<uint64_t>(65));
    eta::hasher h = eta::hasher::seeded(4, 16, 1);
    std::vector<float> emb(8, 0.5f);
    std::vector<uint64_t> wrong(2);
    EXPECT_ERROR(h.encode<uint64_t>(emb, wrong), ETA_STATUS_INVALID_BITS);
    eta::fingerprints f(16, 2);
    EXPECT_ERROR(f.lanes<uint32_t>(), ETA_STATUS_INVALID_BITS);
    EXPECT_ERROR(eta::lanes_per_fingerprint(0), ETA_STATUS_INVALID_BITS);
    try {
        eta::check(ETA_STATUS_OVERLAP);
        CHECK(false);
    } catch (const eta::error &e) {
        CHECK(e.status() == ETA_STATUS_OVERLAP);
        CHECK(std::string(e.what()) == eta_status_message(ETA_STATUS_OVERLAP));
    }
}

int main() {
    CHECK(eta::version_compatible());
    check_width<uint8_t>(1);
    check_width<uint8_t>(8);
    check_width<uint16_t>(16);
    check_width<uint32_t>(32);
    check_width<uint64_t>(64);
    check_width<uint64_t>(65);
    check_width<uint64_t>(4096);
    check_typed_lanes();
    std::printf("test_hpp: %lu checks passed (C++%ld)\n", g_checks, (long)__cplusplus);
    return 0;
}
