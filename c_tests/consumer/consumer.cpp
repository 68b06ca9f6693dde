// A serving consumer of an installed eta-hamming (README, "C and C++"): built with CMake
// (find_package) and with pkg-config, against the shared and the static library, by .ci/run.
//
// It models one serving process: an item table of embeddings with the fingerprint of every item
// kept beside it (computed once, at load), and several request threads, each serving requests of
// one user: a history of thousands of item ids whose fingerprints are gathered from the table,
// hundreds of candidate items, the K nearest history items of each candidate. Every result is
// checked against a brute force over the same fingerprints (popcount of XOR, sorted by
// (distance, position)), every candidate's gathered fingerprint against a fresh encoding of its
// embedding, and one bad request (an id past the table) must be refused with nothing written.
// Exit status 0 only when everything matched.

#include "eta_hamming.h"

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <string>
#include <thread>
#include <utility>
#include <vector>

#ifndef ETA_CONSUMER_LINK
#define ETA_CONSUMER_LINK "unknown"
#endif

namespace {

constexpr size_t kItems = 50000;   // rows of the item table
constexpr size_t kDim = 64;        // embedding width d
constexpr size_t kBits = 64;       // m: one uint64_t lane per fingerprint
constexpr size_t kHistory = 4000;  // L: items in a user's history
constexpr size_t kStride = 4096;   // history stride (>= L)
constexpr size_t kCandidates = 300;  // B
constexpr size_t kK = 50;
constexpr int kThreads = 4;
constexpr int kRequestsPerThread = 6;

// splitmix64: a deterministic generator, so every run checks the same requests.
struct Rng {
  uint64_t s;
  uint64_t next() {
    uint64_t z = (s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
  }
  float unit() { return static_cast<float>(next() >> 40) / 16777216.0f * 2.0f - 1.0f; }
};

std::atomic<int> failures{0};

void fail(const std::string &what) {
  if (failures.fetch_add(1) < 10) std::fprintf(stderr, "consumer: FAIL: %s\n", what.c_str());
}

bool ok(uint32_t status, const char *call) {
  if (status == 0) return true;
  fail(std::string(call) + ": " + eta_status_message(status));
  return false;
}

struct Server {
  const eta_hasher *hasher;
  std::vector<float> embeddings;      // kItems x kDim
  std::vector<uint64_t> fingerprints;  // kItems, beside the embeddings
};

// One request: user history and candidates drawn from `seed`; returns the results checked.
size_t serve(const Server &srv, uint64_t seed, bool use_pool) {
  Rng rng{seed};
  std::vector<uint64_t> history_ids(kHistory), candidate_ids(kCandidates);
  for (auto &id : history_ids) id = rng.next() % kItems;
  for (auto &id : candidate_ids) id = rng.next() % kItems;

  // The history: the user's items' fingerprints gathered from the table by id.
  std::vector<uint64_t> history(kStride);
  if (!ok(eta_history_gather(srv.fingerprints.data(), kItems, kBits, history_ids.data(), kHistory,
                             history.data(), kStride),
          "eta_history_gather"))
    return 0;

  // The candidates: gathered by id too, and checked against a fresh encoding of their embeddings.
  std::vector<uint64_t> queries(kCandidates), encoded(kCandidates);
  std::vector<float> candidate_emb(kCandidates * kDim);
  for (size_t b = 0; b < kCandidates; ++b) {
    queries[b] = srv.fingerprints[candidate_ids[b]];
    std::memcpy(&candidate_emb[b * kDim], &srv.embeddings[candidate_ids[b] * kDim],
                kDim * sizeof(float));
  }
  if (!ok(eta_encode(srv.hasher, candidate_emb.data(), kCandidates, encoded.data()), "eta_encode"))
    return 0;
  if (encoded != queries) fail("a candidate's fresh fingerprint differs from the table's");

  std::vector<uint32_t> idx(kCandidates * kK);
  std::vector<uint16_t> dist(kCandidates * kK);
  uint32_t filled = 0;
  uint32_t status =
      use_pool ? eta_topk_shared_mt(queries.data(), kCandidates, history.data(), kHistory, kStride,
                                    kBits, kK, idx.data(), dist.data(), &filled, 0)
               : eta_topk_shared(queries.data(), kCandidates, history.data(), kHistory, kStride,
                                 kBits, kK, idx.data(), dist.data(), &filled);
  if (!ok(status, use_pool ? "eta_topk_shared_mt" : "eta_topk_shared")) return 0;
  if (filled != kK) fail("filled != K");

  // Brute force: every distance, sorted by (distance, position), the first K.
  size_t checked = 0;
  std::vector<std::pair<uint16_t, uint32_t>> all(kHistory);
  for (size_t b = 0; b < kCandidates; ++b) {
    for (size_t i = 0; i < kHistory; ++i) {
      const uint64_t x = queries[b] ^ srv.fingerprints[history_ids[i]];
      all[i] = {static_cast<uint16_t>(__builtin_popcountll(x)), static_cast<uint32_t>(i)};
    }
    std::partial_sort(all.begin(), all.begin() + kK, all.end());
    for (size_t j = 0; j < kK; ++j) {
      if (idx[b * kK + j] != all[j].second || dist[b * kK + j] != all[j].first) {
        fail("request " + std::to_string(seed) + ", candidate " + std::to_string(b) + ", rank " +
             std::to_string(j) + ": got (" + std::to_string(idx[b * kK + j]) + ", " +
             std::to_string(dist[b * kK + j]) + "), brute force (" +
             std::to_string(all[j].second) + ", " + std::to_string(all[j].first) + ")");
        return checked;
      }
      ++checked;
    }
  }
  return checked;
}

}  // namespace

int main() {
#ifdef ETA_CONSUMER_EXPECTED_VERSION
  if (std::strcmp(eta_version(), ETA_CONSUMER_EXPECTED_VERSION) != 0)
    fail(std::string("eta_version() is ") + eta_version() + ", the package says " +
         ETA_CONSUMER_EXPECTED_VERSION);
#endif

  // Load: the item table and, beside it, every item's fingerprint.
  eta_hasher *hasher = nullptr;
  if (!ok(eta_hasher_new_seeded(kDim, kBits, 42, &hasher), "eta_hasher_new_seeded")) return 1;
  Server srv{hasher, std::vector<float>(kItems * kDim), std::vector<uint64_t>(kItems)};
  Rng rng{7};
  for (auto &x : srv.embeddings) x = rng.unit();
  if (!ok(eta_encode(hasher, srv.embeddings.data(), kItems, srv.fingerprints.data()), "eta_encode"))
    return 1;

  // Several request threads at once, half of the requests on the library's worker pool.
  std::atomic<size_t> checked{0};
  std::vector<std::thread> threads;
  for (int t = 0; t < kThreads; ++t) {
    threads.emplace_back([&srv, &checked, t] {
      for (int r = 0; r < kRequestsPerThread; ++r) {
        const uint64_t seed = static_cast<uint64_t>(t * kRequestsPerThread + r);
        checked += serve(srv, seed, r % 2 == 1);
      }
    });
  }
  for (auto &th : threads) th.join();

  // A bad request: an id past the table is refused and nothing is written.
  std::vector<uint64_t> ids = {1, kItems, 2};
  std::vector<uint64_t> out(4, 0xABABABABABABABABull);
  uint32_t status =
      eta_history_gather(srv.fingerprints.data(), kItems, kBits, ids.data(), 3, out.data(), 4);
  if (status != ETA_STATUS_ID_OUT_OF_RANGE) fail("an id past the table was not refused");
  for (uint64_t v : out)
    if (v != 0xABABABABABABABABull) fail("a refused gather wrote its output");

  eta_hasher_free(hasher);
  const size_t want = static_cast<size_t>(kThreads) * kRequestsPerThread * kCandidates * kK;
  if (checked != want) fail("checked " + std::to_string(checked.load()) + " of " + std::to_string(want));
  if (failures.load() != 0) {
    std::fprintf(stderr, "consumer (%s): %d failure(s)\n", ETA_CONSUMER_LINK, failures.load());
    return 1;
  }
  std::printf("consumer (%s, eta_hamming %s, %s): %d threads x %d requests, L = %zu, B = %zu, "
              "K = %zu: %zu results equal the brute force\n",
              ETA_CONSUMER_LINK, eta_version(), eta_isa_name(), kThreads, kRequestsPerThread,
              kHistory, kCandidates, kK, checked.load());
  return 0;
}
