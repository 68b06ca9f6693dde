// One C++ binary linking eta-hamming's static library and a second Rust static library
// (other_rust_lib.rs), built by scripts/check-install.sh, also under --whole-archive (Bazel
// alwayslink, CMake WHOLE_ARCHIVE). Exits 0 when both libraries answer correctly.
#include "eta_hamming.h"

#include <cstddef>
#include <cstdio>
#include <cstring>

extern "C" size_t other_rust_sum(size_t n);

int main() {
  eta_hasher *h = nullptr;
  if (eta_hasher_new_seeded(16, 8, 1, &h) != ETA_STATUS_OK) return 1;
  const size_t bits = eta_hasher_bits(h);
  eta_hasher_free(h);
  const size_t sum = other_rust_sum(100);
  std::printf("eta_hamming %s (m = %zu) beside another Rust library (sum = %zu)\n", eta_version(),
              bits, sum);
  return (bits == 8 && sum == 4950) ? 0 : 1;
}
