/*
 * The C ABI from C++17: the shared suite (suite.h, compiled here as C++), plus what C++ callers
 * do: RAII ownership of the hasher, std::vector buffers (an empty vector's data() may be NULL),
 * and one hasher used from several threads at once.
 */
#undef NDEBUG
#include <assert.h>

#include "suite.h"

#include <cstdint>
#include <cstdio>
#include <memory>
#include <thread>
#include <vector>

#if __cplusplus < 201703L
#error "test_cpp.cpp is a C++17 test"
#endif

namespace {

struct HasherDeleter {
    void operator()(eta_hasher *h) const noexcept { eta_hasher_free(h); }
};
using Hasher = std::unique_ptr<eta_hasher, HasherDeleter>;

Hasher make_seeded(size_t d, size_t m, uint64_t seed) {
    eta_hasher *raw = nullptr;
    CHECK_STATUS(eta_hasher_new_seeded(d, m, seed, &raw), ETA_STATUS_OK);
    CHECK(raw != nullptr);
    return Hasher(raw);
}

void check_vectors_and_threads() {
    const size_t d = 16, m = 128, lanes = 2, L = 64, B = 8, K = 10;
    Hasher h = make_seeded(d, m, 2024);
    std::vector<float> proj(d * m);
    CHECK_STATUS(eta_hasher_projection(h.get(), proj.data()), ETA_STATUS_OK);

    uint64_t rng = 99;
    std::vector<float> emb((L + B) * d);
    for (float &x : emb) x = ref_random_float(&rng);

    // Reference: fingerprints of the history items and the queries, top-K of each query.
    std::vector<uint64_t> fp((L + B) * lanes);
    for (size_t i = 0; i < L + B; i++) ref_simhash(&emb[i * d], d, proj.data(), m, &fp[i * lanes]);
    std::vector<uint32_t> want_idx(B * K);
    std::vector<uint16_t> want_dist(B * K);
    for (size_t b = 0; b < B; b++)
        ref_topk(&fp[(L + b) * lanes], fp.data(), L, lanes, K, &want_idx[b * K], &want_dist[b * K]);

    // Empty vectors: data() may be NULL, sizes are 0.
    std::vector<float> no_emb;
    std::vector<uint64_t> no_fps;
    CHECK_STATUS(eta_encode(h.get(), no_emb.data(), 0, no_fps.data()), ETA_STATUS_OK);
    std::vector<uint32_t> no_idx;
    std::vector<uint16_t> no_dist;
    std::vector<uint64_t> one_history(lanes * L);
    CHECK_STATUS(eta_encode_history(h.get(), emb.data(), L, one_history.data(), L), ETA_STATUS_OK);
    uint32_t filled = 0;
    CHECK_STATUS(eta_topk_shared(no_fps.data(), 0, one_history.data(), L, L, m, K, no_idx.data(),
                                 no_dist.data(), &filled),
                 ETA_STATUS_OK);
    CHECK(filled == K);

    // Several threads share one hasher (and the process-wide ISA choice).
    const unsigned threads = 4;
    std::vector<int> ok(threads, 0);
    std::vector<std::thread> pool;
    for (unsigned t = 0; t < threads; t++) {
        pool.emplace_back([&, t] {
            for (int round = 0; round < 20; round++) {
                std::vector<uint64_t> hist(lanes * (L + 3));
                std::vector<uint64_t> qs(B * lanes);
                std::vector<uint32_t> idx(B * K);
                std::vector<uint16_t> dist(B * K);
                uint32_t f = 0;
                bool good = eta_encode_history(h.get(), emb.data(), L, hist.data(), L + 3) == ETA_STATUS_OK &&
                            eta_encode(h.get(), &emb[L * d], B, qs.data()) == ETA_STATUS_OK &&
                            eta_topk_shared(qs.data(), B, hist.data(), L, L + 3, m, K, idx.data(),
                                            dist.data(), &f) == ETA_STATUS_OK &&
                            f == K && idx == want_idx && dist == want_dist;
                if (!good) return;
            }
            ok[t] = 1;
        });
    }
    for (std::thread &th : pool) th.join();
    for (unsigned t = 0; t < threads; t++) CHECK(ok[t] == 1);
}

}  // namespace

int main() {
    run_suite("test_cpp");
    check_vectors_and_threads();
    std::printf("test_cpp: C++ checks passed (%lu checks in all)\n", g_checks);
    return 0;
}
