/*
 * The C ABI checks shared by test_c.c (compiled as C11) and test_cpp.cpp (compiled as C++17):
 * every entry point of eta_hamming.h, against the independent reference in reference.h, under
 * every instruction set this CPU runs, and every error path with its status and untouched
 * outputs. Include this file once, after defining _POSIX_C_SOURCE (C) and undefining NDEBUG.
 */
#ifndef ETA_SUITE_H
#define ETA_SUITE_H

#undef NDEBUG
#include <assert.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "eta_hamming.h"
#include "reference.h"

/* ---------------------------------------------------------------------------------------------
 * Checking. assert() is always on; a failed check first prints where and under which ISA. */

static unsigned long g_checks;

static const char *const g_status_names[] = {
    "OK",           "NULL_POINTER",  "INVALID_BITS",         "INVALID_DIM",
    "INVALID_K",    "LEN_EXCEEDS_CAPACITY", "STRIDE_TOO_SMALL", "SIZE_OVERFLOW",
    "HISTORY_TOO_LONG", "BUFFER_TOO_SHORT", "MISALIGNED",   "OVERLAP",
    "ID_OUT_OF_RANGE", "NON_FINITE_PROJECTION", "ISA_UNAVAILABLE", "UNKNOWN_ISA",
    "INTERNAL",     "OUT_OF_MEMORY"};
#define N_STATUSES 18

static const char *status_name(int s) {
    return s >= 0 && s < N_STATUSES ? g_status_names[s] : "(not a status)";
}

static const char *const g_isa_names[] = {"scalar", "avx2", "avx512", "neon", "avx512bw"};
#define N_ISAS 5u
/* Speed rank of each ISA value (detection picks the highest-ranked available one). */
static const unsigned g_isa_rank[] = {0, 1, 3, 1, 2};

#define CHECK(cond)                                                                              \
    do {                                                                                         \
        g_checks++;                                                                              \
        if (!(cond)) {                                                                           \
            fprintf(stderr, "%s:%d: check failed (isa %s): %s\n", __FILE__, __LINE__,           \
                    eta_isa_name(), #cond);                                                      \
            fflush(stderr);                                                                      \
        }                                                                                        \
        assert(cond);                                                                            \
    } while (0)

#define CHECK_STATUS(call, want)                                                                 \
    do {                                                                                         \
        int got_ = (int)(call);                                                                  \
        int want_ = (int)(want);                                                                 \
        g_checks++;                                                                              \
        if (got_ != want_) {                                                                     \
            fprintf(stderr, "%s:%d: %s\n    returned %d (%s), want %d (%s), isa %s\n", __FILE__, \
                    __LINE__, #call, got_, status_name(got_), want_, status_name(want_),         \
                    eta_isa_name());                                                             \
            fflush(stderr);                                                                      \
        }                                                                                        \
        assert(got_ == want_ && #call);                                                          \
    } while (0)

/* Compares two byte images; on a difference prints the first differing offset. */
#define CHECK_SAME_BYTES(a, b, n, what) check_same_bytes(a, b, n, what, __FILE__, __LINE__)

static void check_same_bytes(const void *a, const void *b, size_t n, const char *what,
                             const char *file, int line) {
    const unsigned char *x = (const unsigned char *)a, *y = (const unsigned char *)b;
    g_checks++;
    for (size_t i = 0; i < n; i++) {
        if (x[i] != y[i]) {
            fprintf(stderr, "%s:%d: %s differs at byte %zu of %zu: got 0x%02x, want 0x%02x (isa %s)\n",
                    file, line, what, i, n, x[i], y[i], eta_isa_name());
            fflush(stderr);
            assert(x[i] == y[i] && "byte images differ");
        }
    }
}

/* ---------------------------------------------------------------------------------------------
 * Buffers: 64-byte aligned, with SLACK bytes after the shape's size so that a stray write
 * lands in memory we check instead of corrupting the heap. Outputs start as the canary. */

#define CANARY 0xA5
#define SLACK 256

typedef struct {
    unsigned char *p;
    size_t n; /* bytes, slack included */
} buf;

static buf buf_new(size_t bytes) {
    buf b;
    size_t n = bytes + SLACK;
    n = (n + 63) / 64 * 64;
    b.p = (unsigned char *)aligned_alloc(64, n);
    assert(b.p);
    b.n = n;
    memset(b.p, CANARY, n);
    return b;
}

static buf buf_copy(buf src) {
    buf b = buf_new(src.n - SLACK);
    assert(b.n == src.n);
    memcpy(b.p, src.p, src.n);
    return b;
}

static void buf_free(buf *b) {
    free(b->p);
    b->p = NULL;
    b->n = 0;
}

static void buf_canary(buf b) { memset(b.p, CANARY, b.n); }

/* Packs count widened lanes into a buffer of m's lane type. */
static void pack_lanes(void *dst, size_t m, const uint64_t *src, size_t count) {
    for (size_t i = 0; i < count; i++) ref_set(dst, m, i, src[i]);
}

/* Writes the expected history image of L widened fingerprints (items[i * lanes + w]) into img:
 * lane w of item i at img[w * stride + i]; every other byte is left as it is. */
static void image_history(void *img, size_t m, const uint64_t *items, size_t L, size_t stride) {
    size_t lanes = ref_lanes(m);
    for (size_t i = 0; i < L; i++)
        for (size_t w = 0; w < lanes; w++) ref_set(img, m, w * stride + i, items[i * lanes + w]);
}

static float *floats_new(size_t n) {
    float *p = (float *)aligned_alloc(64, (n * sizeof(float) + 63) / 64 * 64 + 64);
    assert(p);
    return p;
}

static uint64_t *words_new(size_t n) {
    uint64_t *p = (uint64_t *)malloc((n ? n : 1) * sizeof(uint64_t));
    assert(p);
    return p;
}

static size_t min_size(size_t a, size_t b) { return a < b ? a : b; }

/* ---------------------------------------------------------------------------------------------
 * Version, statuses, constants, layout queries. */

static void check_meta(void) {
    const char *v = eta_version();
    CHECK(v != NULL);
    CHECK(v[0] >= '0' && v[0] <= '9');
#ifdef ETA_EXPECTED_VERSION
    CHECK(strcmp(v, ETA_EXPECTED_VERSION) == 0);
#endif
    CHECK(eta_version() == v); /* static storage */

    CHECK(ETA_STATUS_OK == 0);
    CHECK(ETA_STATUS_NULL_POINTER == 1);
    CHECK(ETA_STATUS_NON_FINITE_PROJECTION == 13);
    CHECK(ETA_STATUS_INTERNAL == 16);
    CHECK(ETA_STATUS_OUT_OF_MEMORY == 17);
    CHECK(ETA_ISA_SCALAR == 0 && ETA_ISA_AVX2 == 1 && ETA_ISA_AVX512 == 2 && ETA_ISA_NEON == 3);
    CHECK(ETA_MAX_BITS == 4096);
    CHECK(ETA_EMPTY_INDEX == 0xFFFFFFFFu);
    CHECK(ETA_EMPTY_DISTANCE == 0xFFFFu);
    CHECK(ETA_MAX_HISTORY_LEN == 0xFFFFFFFEu);

    /* Fixed widths (issue 11 item 3): statuses and ISAs are 32 bits, constants unsigned (printed
     * with %u under -Werror=format, as the test is compiled with -Wall). */
    CHECK(sizeof(eta_status) == 4 && sizeof(eta_isa) == 4);
    char text[96];
    snprintf(text, sizeof text, "%u %u %u %u", ETA_EMPTY_INDEX, ETA_MAX_HISTORY_LEN, ETA_MAX_BITS,
             ETA_EMPTY_DISTANCE);
    CHECK(strcmp(text, "4294967295 4294967294 4096 65535") == 0);

    /* Version: the header's macros, the library's number, the compatibility check. */
    snprintf(text, sizeof text, "%u.%u.%u", ETA_HAMMING_VERSION_MAJOR, ETA_HAMMING_VERSION_MINOR,
             ETA_HAMMING_VERSION_PATCH);
    CHECK(strcmp(text, v) == 0);
    CHECK(ETA_HAMMING_VERSION_NUMBER ==
          ETA_HAMMING_VERSION_MAJOR * 1000000u + ETA_HAMMING_VERSION_MINOR * 1000u + ETA_HAMMING_VERSION_PATCH);
    CHECK(eta_version_number() == ETA_HAMMING_VERSION_NUMBER);
    CHECK(eta_version_compatible(ETA_HAMMING_VERSION_MAJOR, ETA_HAMMING_VERSION_MINOR));
    CHECK(!eta_version_compatible(ETA_HAMMING_VERSION_MAJOR + 1, ETA_HAMMING_VERSION_MINOR));
    CHECK(!eta_version_compatible(ETA_HAMMING_VERSION_MAJOR, ETA_HAMMING_VERSION_MINOR + 1));
    if (ETA_HAMMING_VERSION_MAJOR == 0 && ETA_HAMMING_VERSION_MINOR > 0)
        CHECK(!eta_version_compatible(0, ETA_HAMMING_VERSION_MINOR - 1)); /* 0.x: minor must match */

    const char *msgs[N_STATUSES];
    for (uint32_t s = 0; s < N_STATUSES; s++) {
        msgs[s] = eta_status_message(s);
        CHECK(msgs[s] != NULL);
        CHECK(msgs[s][0] != '\0');
        CHECK(strcmp(msgs[s], "unknown status") != 0);
        for (uint32_t t = 0; t < s; t++) CHECK(strcmp(msgs[s], msgs[t]) != 0);
    }
    const uint32_t unknown[] = {N_STATUSES, 100, 0x7FFFFFFFu, 0xFFFFFFFFu};
    for (size_t i = 0; i < sizeof unknown / sizeof unknown[0]; i++) {
        const char *u = eta_status_message(unknown[i]);
        CHECK(u != NULL && strcmp(u, "unknown status") == 0);
    }

    const size_t ms[] = {1, 7, 8, 9, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 4095, 4096};
    for (size_t i = 0; i < sizeof ms / sizeof ms[0]; i++) {
        CHECK(eta_fingerprint_lanes(ms[i]) == ref_lanes(ms[i]));
        CHECK(eta_fingerprint_lane_bytes(ms[i]) == ref_lane_bytes(ms[i]));
    }
    const size_t bad[] = {0, 4097, 65536 + 8, SIZE_MAX};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        CHECK(eta_fingerprint_lanes(bad[i]) == 0);
        CHECK(eta_fingerprint_lane_bytes(bad[i]) == 0);
    }
}

/* ---------------------------------------------------------------------------------------------
 * Instruction sets: detection, names, forcing, reset, ETA_HAMMING_ISA. */

static int name_eq_nocase(const char *a, const char *b) {
    for (;; a++, b++) {
        char x = (*a >= 'A' && *a <= 'Z') ? (char)(*a - 'A' + 'a') : *a;
        char y = (*b >= 'A' && *b <= 'Z') ? (char)(*b - 'A' + 'a') : *b;
        if (x != y) return 0;
        if (x == '\0') return 1;
    }
}

/* The ISA ETA_HAMMING_ISA names (0..N_ISAS-1), N_ISAS for unset/empty/"auto", N_ISAS + 1 for unknown. */
static uint32_t env_isa(const char *value) {
    if (value == NULL || value[0] == '\0' || name_eq_nocase(value, "auto")) return N_ISAS;
    for (uint32_t i = 0; i < N_ISAS; i++)
        if (name_eq_nocase(value, g_isa_names[i])) return i;
    return N_ISAS + 1;
}

#ifndef _WIN32
static void check_env_choice(const char *value, int want_status, uint32_t want_isa) {
    if (value)
        CHECK(setenv("ETA_HAMMING_ISA", value, 1) == 0);
    else
        CHECK(unsetenv("ETA_HAMMING_ISA") == 0);
    CHECK_STATUS(eta_isa_env_status(), want_status);
    CHECK_STATUS(eta_isa_force(ETA_ISA_SCALAR), ETA_STATUS_OK);
    eta_isa_reset();
    CHECK((uint32_t)eta_isa_current() == want_isa);
}
#endif

static void check_isa_api(void) {
    const char *env0 = getenv("ETA_HAMMING_ISA");
    char env_saved[64] = {0};
    int env_was_set = env0 != NULL;
    if (env0) {
        assert(strlen(env0) < sizeof env_saved);
        strcpy(env_saved, env0);
    }
    /* The first call reads the environment as the runner set it. */
    uint32_t initial = (uint32_t)eta_isa_current();
    uint32_t detected = (uint32_t)eta_isa_detect();
    CHECK(initial < N_ISAS && detected < N_ISAS);
    CHECK(eta_isa_is_available(ETA_ISA_SCALAR));
    CHECK(eta_isa_is_available(detected));
    for (uint32_t i = 0; i < N_ISAS; i++) /* best */
        CHECK(!eta_isa_is_available(i) || g_isa_rank[i] <= g_isa_rank[detected]);
    CHECK(!eta_isa_is_available(N_ISAS));
    CHECK(!eta_isa_is_available(0xFFFFFFFFu));
    CHECK(!(eta_isa_is_available(ETA_ISA_NEON) &&
            (eta_isa_is_available(ETA_ISA_AVX2) || eta_isa_is_available(ETA_ISA_AVX512) ||
             eta_isa_is_available(ETA_ISA_AVX512_BW))));
    /* The AVX-512 tiers nest. */
    CHECK(!eta_isa_is_available(ETA_ISA_AVX512) || eta_isa_is_available(ETA_ISA_AVX512_BW));

    uint32_t want = env_isa(env_was_set ? env_saved : NULL);
    if (want < N_ISAS && eta_isa_is_available(want)) {
        CHECK(initial == want);
        CHECK_STATUS(eta_isa_env_status(), ETA_STATUS_OK);
    } else {
        CHECK(initial == detected);
        CHECK_STATUS(eta_isa_env_status(), want == N_ISAS       ? ETA_STATUS_OK
                                           : want == N_ISAS + 1 ? ETA_STATUS_UNKNOWN_ISA
                                                                : ETA_STATUS_ISA_UNAVAILABLE);
    }
    CHECK(strcmp(eta_isa_name(), g_isa_names[initial]) == 0);
    CHECK(eta_isa_name() == eta_isa_name()); /* static storage */

    /* Forcing each ISA, by value and by name. */
    CHECK_STATUS(eta_isa_force(ETA_ISA_SCALAR), ETA_STATUS_OK);
    for (uint32_t i = 0; i < N_ISAS; i++) {
        uint32_t before = (uint32_t)eta_isa_current();
        if (eta_isa_is_available(i)) {
            CHECK_STATUS(eta_isa_force(i), ETA_STATUS_OK);
            CHECK((uint32_t)eta_isa_current() == i);
            CHECK(strcmp(eta_isa_name(), g_isa_names[i]) == 0);
            CHECK((uint32_t)eta_isa_detect() == detected); /* detection ignores forcing */
            CHECK_STATUS(eta_isa_force(ETA_ISA_SCALAR), ETA_STATUS_OK);
            CHECK_STATUS(eta_isa_force_name(g_isa_names[i]), ETA_STATUS_OK);
            CHECK((uint32_t)eta_isa_current() == i);
        } else {
            CHECK_STATUS(eta_isa_force(i), ETA_STATUS_ISA_UNAVAILABLE);
            CHECK((uint32_t)eta_isa_current() == before);
            CHECK_STATUS(eta_isa_force_name(g_isa_names[i]), ETA_STATUS_ISA_UNAVAILABLE);
            CHECK((uint32_t)eta_isa_current() == before);
        }
    }
    /* Unknown values and names change nothing. */
    CHECK_STATUS(eta_isa_force(ETA_ISA_SCALAR), ETA_STATUS_OK);
    const uint32_t bad_values[] = {N_ISAS, 6, 255, 0x80000000u, 0xFFFFFFFFu};
    for (size_t i = 0; i < sizeof bad_values / sizeof bad_values[0]; i++) {
        CHECK_STATUS(eta_isa_force(bad_values[i]), ETA_STATUS_UNKNOWN_ISA);
        CHECK(eta_isa_current() == ETA_ISA_SCALAR);
    }
    const char *bad_names[] = {"", "auto", "avx", "avx-512", "sse4", "scalar2", "x", "\xff\xfe"};
    for (size_t i = 0; i < sizeof bad_names / sizeof bad_names[0]; i++) {
        CHECK_STATUS(eta_isa_force_name(bad_names[i]), ETA_STATUS_UNKNOWN_ISA);
        CHECK(eta_isa_current() == ETA_ISA_SCALAR);
    }
    CHECK_STATUS(eta_isa_force_name(NULL), ETA_STATUS_NULL_POINTER);
    CHECK(eta_isa_current() == ETA_ISA_SCALAR);
    /* Names are case-insensitive. */
    CHECK_STATUS(eta_isa_force_name("SCALAR"), ETA_STATUS_OK);
    CHECK(eta_isa_current() == ETA_ISA_SCALAR);
    if (eta_isa_is_available(ETA_ISA_AVX2)) {
        CHECK_STATUS(eta_isa_force_name("AvX2"), ETA_STATUS_OK);
        CHECK(eta_isa_current() == ETA_ISA_AVX2);
    }

    /* Reset goes back to the initial choice. */
    eta_isa_reset();
    CHECK((uint32_t)eta_isa_current() == initial);

#ifndef _WIN32
    /* ETA_HAMMING_ISA as read now: reported by eta_isa_env_status, obeyed by eta_isa_reset. */
    uint32_t unavailable = N_ISAS;
    for (uint32_t i = 0; i < N_ISAS; i++)
        if (!eta_isa_is_available(i)) unavailable = i;
    CHECK(unavailable < N_ISAS); /* neon and the x86 sets never coexist */
    check_env_choice(NULL, ETA_STATUS_OK, detected);
    check_env_choice("", ETA_STATUS_OK, detected);
    check_env_choice("auto", ETA_STATUS_OK, detected);
    check_env_choice("AUTO", ETA_STATUS_OK, detected);
    check_env_choice("scalar", ETA_STATUS_OK, ETA_ISA_SCALAR);
    check_env_choice("Scalar", ETA_STATUS_OK, ETA_ISA_SCALAR);
    check_env_choice(g_isa_names[detected], ETA_STATUS_OK, detected);
    check_env_choice("no-such-isa", ETA_STATUS_UNKNOWN_ISA, detected);
    check_env_choice(g_isa_names[unavailable], ETA_STATUS_ISA_UNAVAILABLE, detected);
    if (env_was_set)
        CHECK(setenv("ETA_HAMMING_ISA", env_saved, 1) == 0);
    else
        CHECK(unsetenv("ETA_HAMMING_ISA") == 0);
    eta_isa_reset();
    CHECK((uint32_t)eta_isa_current() == initial);
#endif
}

/* ---------------------------------------------------------------------------------------------
 * Results against the reference, for one fingerprint width, under the current ISA. */

/* eta_encode of rows embeddings with hasher h (projection P) equals the reference. */
static void check_encode(const eta_hasher *h, const float *emb, size_t rows, const float *P) {
    size_t m = eta_hasher_bits(h), d = eta_hasher_dim(h), lanes = ref_lanes(m);
    uint64_t *fp = words_new(rows * lanes);
    for (size_t i = 0; i < rows; i++) ref_simhash(emb + i * d, d, P, m, fp + i * lanes);
    buf out = buf_new(rows * lanes * ref_lane_bytes(m));
    buf want = buf_new(rows * lanes * ref_lane_bytes(m));
    pack_lanes(want.p, m, fp, rows * lanes);
    CHECK_STATUS(eta_encode(h, emb, rows, out.p), ETA_STATUS_OK);
    CHECK_SAME_BYTES(out.p, want.p, out.n, "eta_encode output");
    buf_free(&out);
    buf_free(&want);
    free(fp);
}

/* The projection of h, copied out; checks it is finite and the canary around it survives. */
static float *projection_of(const eta_hasher *h) {
    size_t n = eta_hasher_dim(h) * eta_hasher_bits(h);
    float *P = floats_new(n + 16);
    memset(P, CANARY, (n + 16) * sizeof(float));
    CHECK_STATUS(eta_hasher_projection(h, P), ETA_STATUS_OK);
    for (size_t i = 0; i < n; i++) CHECK(isfinite(P[i]));
    const unsigned char *tail = (const unsigned char *)(P + n);
    for (size_t i = 0; i < 16 * sizeof(float); i++) CHECK(tail[i] == CANARY);
    return P;
}

static void check_width(size_t m, uint64_t seed) {
    const size_t lanes = ref_lanes(m), lb = ref_lane_bytes(m);
    const size_t d = 9, n = 13, L = 37, B = 4, T = 50;
    const size_t strides[2] = {37, 41}; /* stride == L, and an odd stride > L */
    const size_t ks[4] = {1, 5, 37, 40}; /* ... K == L and K > L */
    const uint32_t lens[4] = {0, 37, 17, 1};
    uint64_t rng = seed * 7919 + m;

    CHECK(eta_fingerprint_lanes(m) == lanes);
    CHECK(eta_fingerprint_lane_bytes(m) == lb);

    /* Hashers: seeded, its projection round-tripped, and a caller projection with exact zeros. */
    eta_hasher *h = NULL, *hp = NULL, *hi = NULL, *hs = NULL;
    CHECK_STATUS(eta_hasher_new_seeded(d, m, seed, &h), ETA_STATUS_OK);
    CHECK(h != NULL);
    CHECK(eta_hasher_dim(h) == d && eta_hasher_bits(h) == m);
    float *P = projection_of(h);
    size_t nonzero = 0;
    for (size_t i = 0; i < d * m; i++) nonzero += P[i] != 0.0f;
    CHECK(nonzero > d * m / 2);

    CHECK_STATUS(eta_hasher_new_seeded(d, m, seed, &hs), ETA_STATUS_OK);
    float *Psame = projection_of(hs);
    CHECK_SAME_BYTES(Psame, P, d * m * sizeof(float), "projection of the same seed");
    eta_hasher_free(hs);
    hs = NULL;
    CHECK_STATUS(eta_hasher_new_seeded(d, m, seed + 1, &hs), ETA_STATUS_OK);
    float *Pother = projection_of(hs);
    CHECK(memcmp(Pother, P, d * m * sizeof(float)) != 0);
    eta_hasher_free(hs);

    CHECK_STATUS(eta_hasher_new_from_projection(P, d, m, &hp), ETA_STATUS_OK);
    CHECK(hp != NULL && hp != h);
    CHECK(eta_hasher_dim(hp) == d && eta_hasher_bits(hp) == m);
    float *Pback = projection_of(hp);
    CHECK_SAME_BYTES(Pback, P, d * m * sizeof(float), "eta_hasher_projection round trip");

    float *Pi = floats_new(d * m);
    for (size_t i = 0; i < d * m; i++) Pi[i] = (float)((int)(ref_rng_next(&rng) % 5) - 2);
    Pi[0] = -0.0f;
    Pi[d * m - 1] = 1e-40f; /* subnormal */
    CHECK_STATUS(eta_hasher_new_from_projection(Pi, d, m, &hi), ETA_STATUS_OK);
    float *Piback = projection_of(hi);
    CHECK_SAME_BYTES(Piback, Pi, d * m * sizeof(float), "caller projection round trip");

    /* Embeddings: random, plus zero, negative zero, NaN, infinities and subnormals. */
    const size_t rows = n + L;
    float *emb = floats_new(rows * d), *embi = floats_new(rows * d);
    for (size_t i = 0; i < rows * d; i++) {
        emb[i] = ref_random_float(&rng);
        embi[i] = (float)((int)(ref_rng_next(&rng) % 3) - 1);
    }
    for (size_t k = 0; k < d; k++) {
        emb[0 * d + k] = 0.0f;
        emb[1 * d + k] = -0.0f;
        emb[4 * d + k] *= 1e-38f;
        embi[2 * d + k] = 0.0f;
    }
    emb[2 * d + 3] = NAN;
    emb[3 * d + 0] = INFINITY;
    emb[5 * d + 1] = -INFINITY;
    embi[3 * d + 4] = -0.0f;

    check_encode(h, emb, rows, P);
    check_encode(hp, emb, rows, P);
    check_encode(hi, embi, rows, Pi);
    check_encode(hi, emb, rows, Pi);
    check_encode(h, emb, 1, P);
    check_encode(h, emb + 5 * d, 2, P);

    /* Fused, not multiply-then-add: with x = 1 + 2^-12, x * x = 1 + 2^-11 + 2^-24 exactly, which
     * rounds to 1 + 2^-11 in f32. So e = (1, x) against P column (-(1 + 2^-11), x) sums to
     * +2^-24 (bit 1) with fmaf, and to 0 (bit 0) with a rounded product. */
    {
        const float x = 1.0f + 1.0f / 4096.0f, y = 1.0f + 1.0f / 2048.0f;
        float *Pf = floats_new(2 * m), ef[8] = {1.0f, x, -1.0f, -x, 1.0f, -x, 2.0f, 2.0f * x};
        for (size_t j = 0; j < m; j++) {
            Pf[0 * m + j] = j % 3 == 2 ? y : -y;
            Pf[1 * m + j] = j % 3 == 1 ? -x : x;
        }
        eta_hasher *hf = NULL;
        CHECK_STATUS(eta_hasher_new_from_projection(Pf, 2, m, &hf), ETA_STATUS_OK);
        uint64_t probe[64];
        ref_simhash(ef, 2, Pf, m, probe);
        CHECK((probe[0] & 1) == 1); /* the reference itself fuses */
        check_encode(hf, ef, 4, Pf);
        eta_hasher_free(hf);
        free(Pf);
    }

    /* History items with exact duplicates (ties), queries with distance-0 ties. */
    uint64_t *items = words_new(L * lanes), *qs = words_new(B * lanes),
             *table = words_new(T * lanes), *bitems = words_new(B * L * lanes);
    uint64_t ids[37];
    for (size_t i = 0; i < L; i++) ref_random_fp(&rng, m, items + i * lanes);
    for (size_t w = 0; w < lanes; w++) {
        items[5 * lanes + w] = items[2 * lanes + w];
        items[11 * lanes + w] = items[2 * lanes + w];
        items[36 * lanes + w] = items[2 * lanes + w];
    }
    for (size_t b = 0; b < B; b++) ref_random_fp(&rng, m, qs + b * lanes);
    for (size_t w = 0; w < lanes; w++) {
        qs[0 * lanes + w] = items[2 * lanes + w];
        qs[1 * lanes + w] = items[2 * lanes + w];
    }
    qs[1 * lanes] ^= 1; /* distance 1 from items 2, 5, 11, 36 */
    for (size_t t = 0; t < T; t++) ref_random_fp(&rng, m, table + t * lanes);
    for (size_t i = 0; i < L; i++) ids[i] = ref_rng_next(&rng) % T;
    ids[0] = 0;
    ids[1] = T - 1;
    ids[3] = ids[2];
    for (size_t i = 0; i < B * L; i++) ref_random_fp(&rng, m, bitems + i * lanes);
    for (size_t w = 0; w < lanes; w++) bitems[(2 * L + 7) * lanes + w] = bitems[(2 * L + 3) * lanes + w];

    buf fps = buf_new(L * lanes * lb), q = buf_new(B * lanes * lb), tab = buf_new(T * lanes * lb);
    pack_lanes(fps.p, m, items, L * lanes);
    pack_lanes(q.p, m, qs, B * lanes);
    pack_lanes(tab.p, m, table, T * lanes);

    /* The SimHash of the last L embeddings, as a history. */
    uint64_t *eitems = words_new(L * lanes);
    for (size_t i = 0; i < L; i++) ref_simhash(emb + (n + i) * d, d, P, m, eitems + i * lanes);

    for (size_t si = 0; si < 2; si++) {
        const size_t stride = strides[si];
        const size_t hbytes = lanes * stride * lb;

        /* Builders. */
        buf hist = buf_new(hbytes), want = buf_new(hbytes);
        image_history(want.p, m, items, L, stride);
        CHECK_STATUS(eta_history_from_fingerprints(fps.p, L, m, hist.p, stride), ETA_STATUS_OK);
        CHECK_SAME_BYTES(hist.p, want.p, hist.n, "eta_history_from_fingerprints");

        buf gathered = buf_new(hbytes), gwant = buf_new(hbytes);
        uint64_t *gitems = words_new(L * lanes);
        for (size_t i = 0; i < L; i++)
            for (size_t w = 0; w < lanes; w++) gitems[i * lanes + w] = table[ids[i] * lanes + w];
        image_history(gwant.p, m, gitems, L, stride);
        CHECK_STATUS(eta_history_gather(tab.p, T, m, ids, L, gathered.p, stride), ETA_STATUS_OK);
        CHECK_SAME_BYTES(gathered.p, gwant.p, gathered.n, "eta_history_gather");

        buf ehist = buf_new(hbytes), ewant = buf_new(hbytes);
        image_history(ewant.p, m, eitems, L, stride);
        CHECK_STATUS(eta_encode_history(h, emb + n * d, L, ehist.p, stride), ETA_STATUS_OK);
        CHECK_SAME_BYTES(ehist.p, ewant.p, ehist.n, "eta_encode_history");

        /* Shared history: distances and top-K. */
        buf dout = buf_new(B * L * 2), dwant = buf_new(B * L * 2);
        for (size_t b = 0; b < B; b++)
            for (size_t i = 0; i < L; i++)
                ((uint16_t *)(void *)dwant.p)[b * L + i] =
                    (uint16_t)ref_distance(qs + b * lanes, items + i * lanes, lanes);
        CHECK_STATUS(eta_distances_shared(q.p, B, hist.p, L, stride, m, (uint16_t *)(void *)dout.p),
                     ETA_STATUS_OK);
        CHECK_SAME_BYTES(dout.p, dwant.p, dout.n, "eta_distances_shared");

        for (size_t ki = 0; ki < 4; ki++) {
            const size_t K = ks[ki];
            buf idx = buf_new(B * K * 4), dist = buf_new(B * K * 2);
            buf iwant = buf_new(B * K * 4), dwant2 = buf_new(B * K * 2);
            for (size_t b = 0; b < B; b++) {
                size_t f = ref_topk(qs + b * lanes, items, L, lanes, K,
                                    (uint32_t *)(void *)iwant.p + b * K,
                                    (uint16_t *)(void *)dwant2.p + b * K);
                CHECK(f == min_size(K, L));
            }
            uint32_t filled = 12345;
            CHECK_STATUS(eta_topk_shared(q.p, B, hist.p, L, stride, m, K, (uint32_t *)(void *)idx.p,
                                         (uint16_t *)(void *)dist.p, &filled),
                         ETA_STATUS_OK);
            CHECK(filled == min_size(K, L));
            CHECK_SAME_BYTES(idx.p, iwant.p, idx.n, "eta_topk_shared indices");
            CHECK_SAME_BYTES(dist.p, dwant2.p, dist.n, "eta_topk_shared distances");
            buf_canary(idx);
            buf_canary(dist);
            CHECK_STATUS(eta_topk_shared(q.p, B, hist.p, L, stride, m, K, (uint32_t *)(void *)idx.p,
                                         (uint16_t *)(void *)dist.p, NULL),
                         ETA_STATUS_OK);
            CHECK_SAME_BYTES(idx.p, iwant.p, idx.n, "eta_topk_shared indices (filled NULL)");
            CHECK_SAME_BYTES(dist.p, dwant2.p, dist.n, "eta_topk_shared distances (filled NULL)");
            /* The history the encoder wrote scans the same as the reference fingerprints. */
            uint32_t *i2 = (uint32_t *)(void *)iwant.p;
            uint16_t *d2 = (uint16_t *)(void *)dwant2.p;
            for (size_t b = 0; b < B; b++) ref_topk(qs + b * lanes, eitems, L, lanes, K, i2 + b * K, d2 + b * K);
            CHECK_STATUS(eta_topk_shared(q.p, B, ehist.p, L, stride, m, K, (uint32_t *)(void *)idx.p,
                                         (uint16_t *)(void *)dist.p, &filled),
                         ETA_STATUS_OK);
            CHECK_SAME_BYTES(idx.p, iwant.p, idx.n, "eta_topk_shared on an encoded history");
            CHECK_SAME_BYTES(dist.p, dwant2.p, dist.n, "eta_topk_shared on an encoded history");
            buf_free(&idx);
            buf_free(&dist);
            buf_free(&iwant);
            buf_free(&dwant2);
        }

        /* Per-query histories: lens 0, L, 17, 1; items past lens are there but ignored. */
        buf hists = buf_new(B * hbytes);
        buf bfps = buf_new(B * L * lanes * lb);
        pack_lanes(bfps.p, m, bitems, B * L * lanes);
        for (size_t b = 0; b < B; b++)
            CHECK_STATUS(eta_history_from_fingerprints(bfps.p + b * L * lanes * lb, L, m,
                                                       hists.p + b * hbytes, stride),
                         ETA_STATUS_OK);
        buf bd = buf_new(B * L * 2), bdwant = buf_new(B * L * 2);
        for (size_t b = 0; b < B; b++)
            for (size_t i = 0; i < L; i++)
                ((uint16_t *)(void *)bdwant.p)[b * L + i] =
                    i < lens[b] ? (uint16_t)ref_distance(qs + b * lanes, bitems + (b * L + i) * lanes, lanes)
                                : (uint16_t)0xFFFF;
        CHECK_STATUS(eta_distances_batch(q.p, B, hists.p, L, stride, lens, m, (uint16_t *)(void *)bd.p),
                     ETA_STATUS_OK);
        CHECK_SAME_BYTES(bd.p, bdwant.p, bd.n, "eta_distances_batch");

        for (size_t ki = 0; ki < 4; ki++) {
            const size_t K = ks[ki];
            buf idx = buf_new(B * K * 4), dist = buf_new(B * K * 2), fl = buf_new(B * 4);
            buf iwant = buf_new(B * K * 4), dwant2 = buf_new(B * K * 2), fwant = buf_new(B * 4);
            for (size_t b = 0; b < B; b++) {
                size_t f = ref_topk(qs + b * lanes, bitems + b * L * lanes, lens[b], lanes, K,
                                    (uint32_t *)(void *)iwant.p + b * K,
                                    (uint16_t *)(void *)dwant2.p + b * K);
                ((uint32_t *)(void *)fwant.p)[b] = (uint32_t)f;
            }
            CHECK_STATUS(eta_topk_batch(q.p, B, hists.p, L, stride, lens, m, K,
                                        (uint32_t *)(void *)idx.p, (uint16_t *)(void *)dist.p,
                                        (uint32_t *)(void *)fl.p),
                         ETA_STATUS_OK);
            CHECK_SAME_BYTES(idx.p, iwant.p, idx.n, "eta_topk_batch indices");
            CHECK_SAME_BYTES(dist.p, dwant2.p, dist.n, "eta_topk_batch distances");
            CHECK_SAME_BYTES(fl.p, fwant.p, fl.n, "eta_topk_batch filled");
            buf_canary(idx);
            buf_canary(dist);
            CHECK_STATUS(eta_topk_batch(q.p, B, hists.p, L, stride, lens, m, K,
                                        (uint32_t *)(void *)idx.p, (uint16_t *)(void *)dist.p, NULL),
                         ETA_STATUS_OK);
            CHECK_SAME_BYTES(idx.p, iwant.p, idx.n, "eta_topk_batch indices (filled NULL)");
            CHECK_SAME_BYTES(dist.p, dwant2.p, dist.n, "eta_topk_batch distances (filled NULL)");
            buf_free(&idx);
            buf_free(&dist);
            buf_free(&fl);
            buf_free(&iwant);
            buf_free(&dwant2);
            buf_free(&fwant);
        }

        buf_free(&hist);
        buf_free(&want);
        buf_free(&gathered);
        buf_free(&gwant);
        free(gitems);
        buf_free(&ehist);
        buf_free(&ewant);
        buf_free(&dout);
        buf_free(&dwant);
        buf_free(&hists);
        buf_free(&bfps);
        buf_free(&bd);
        buf_free(&bdwant);
    }

    /* A single-row history (lanes == 1) may use any stride, even SIZE_MAX. */
    if (lanes == 1) {
        buf hist = buf_new(L * lb);
        CHECK_STATUS(eta_history_from_fingerprints(fps.p, L, m, hist.p, SIZE_MAX), ETA_STATUS_OK);
        CHECK_SAME_BYTES(hist.p, fps.p, L * lb, "single-row history at stride SIZE_MAX");
        buf idx = buf_new(B * 3 * 4), dist = buf_new(B * 3 * 2);
        buf iwant = buf_new(B * 3 * 4), dwant = buf_new(B * 3 * 2);
        for (size_t b = 0; b < B; b++)
            ref_topk(qs + b * lanes, items, L, lanes, 3, (uint32_t *)(void *)iwant.p + b * 3,
                     (uint16_t *)(void *)dwant.p + b * 3);
        CHECK_STATUS(eta_topk_shared(q.p, B, hist.p, L, SIZE_MAX, m, 3, (uint32_t *)(void *)idx.p,
                                     (uint16_t *)(void *)dist.p, NULL),
                     ETA_STATUS_OK);
        CHECK_SAME_BYTES(idx.p, iwant.p, idx.n, "top-K at stride SIZE_MAX");
        CHECK_SAME_BYTES(dist.p, dwant.p, dist.n, "top-K at stride SIZE_MAX");
        buf_free(&hist);
        buf_free(&idx);
        buf_free(&dist);
        buf_free(&iwant);
        buf_free(&dwant);
    }

    /* L = 0: every slot empty, filled 0; NULL history and outputs accepted where sizes are 0. */
    {
        buf idx = buf_new(B * 3 * 4), dist = buf_new(B * 3 * 2), fl = buf_new(B * 4);
        uint32_t filled = 99;
        CHECK_STATUS(eta_topk_shared(q.p, B, NULL, 0, 0, m, 3, (uint32_t *)(void *)idx.p,
                                     (uint16_t *)(void *)dist.p, &filled),
                     ETA_STATUS_OK);
        CHECK(filled == 0);
        for (size_t j = 0; j < B * 3; j++) {
            CHECK(((uint32_t *)(void *)idx.p)[j] == ETA_EMPTY_INDEX);
            CHECK(((uint16_t *)(void *)dist.p)[j] == ETA_EMPTY_DISTANCE);
        }
        for (size_t j = B * 3 * 4; j < idx.n; j++) CHECK(idx.p[j] == CANARY);
        buf_canary(idx);
        buf_canary(dist);
        const uint32_t zeros[4] = {0, 0, 0, 0};
        CHECK_STATUS(eta_topk_batch(q.p, B, NULL, 0, 5, zeros, m, 3, (uint32_t *)(void *)idx.p,
                                    (uint16_t *)(void *)dist.p, (uint32_t *)(void *)fl.p),
                     ETA_STATUS_OK);
        for (size_t j = 0; j < B * 3; j++) {
            CHECK(((uint32_t *)(void *)idx.p)[j] == ETA_EMPTY_INDEX);
            CHECK(((uint16_t *)(void *)dist.p)[j] == ETA_EMPTY_DISTANCE);
        }
        for (size_t b = 0; b < B; b++) CHECK(((uint32_t *)(void *)fl.p)[b] == 0);
        CHECK_STATUS(eta_distances_shared(q.p, B, NULL, 0, 0, m, NULL), ETA_STATUS_OK);
        CHECK_STATUS(eta_distances_batch(q.p, B, NULL, 0, 0, zeros, m, NULL), ETA_STATUS_OK);
        CHECK_STATUS(eta_history_from_fingerprints(NULL, 0, m, NULL, 0), ETA_STATUS_OK);
        CHECK_STATUS(eta_history_gather(NULL, 0, m, NULL, 0, NULL, 0), ETA_STATUS_OK);
        CHECK_STATUS(eta_history_gather(tab.p, T, m, NULL, 0, NULL, 3), ETA_STATUS_OK);
        CHECK_STATUS(eta_encode_history(h, NULL, 0, NULL, 0), ETA_STATUS_OK);
        CHECK_STATUS(eta_encode(h, NULL, 0, NULL), ETA_STATUS_OK);
        /* B = 0: NULL queries and outputs; the shared form still reports min(K, L). */
        buf hist = buf_new(lanes * L * lb);
        CHECK_STATUS(eta_history_from_fingerprints(fps.p, L, m, hist.p, L), ETA_STATUS_OK);
        filled = 99;
        CHECK_STATUS(eta_topk_shared(NULL, 0, hist.p, L, L, m, 5, NULL, NULL, &filled), ETA_STATUS_OK);
        CHECK(filled == 5);
        CHECK_STATUS(eta_topk_shared(NULL, 0, hist.p, L, L, m, 50, NULL, NULL, &filled), ETA_STATUS_OK);
        CHECK(filled == L);
        CHECK_STATUS(eta_topk_shared(NULL, 0, hist.p, L, L, m, 5, NULL, NULL, NULL), ETA_STATUS_OK);
        CHECK_STATUS(eta_topk_batch(NULL, 0, NULL, L, L, NULL, m, 5, NULL, NULL, NULL), ETA_STATUS_OK);
        CHECK_STATUS(eta_distances_shared(NULL, 0, hist.p, L, L, m, NULL), ETA_STATUS_OK);
        CHECK_STATUS(eta_distances_batch(NULL, 0, NULL, L, L, NULL, m, NULL), ETA_STATUS_OK);
        buf_free(&idx);
        buf_free(&dist);
        buf_free(&fl);
        buf_free(&hist);
    }

    buf_free(&fps);
    buf_free(&q);
    buf_free(&tab);
    free(items);
    free(qs);
    free(table);
    free(bitems);
    free(eitems);
    free(emb);
    free(embi);
    free(P);
    free(Psame);
    free(Pother);
    free(Pback);
    free(Pi);
    free(Piback);
    eta_hasher_free(h);
    eta_hasher_free(hp);
    eta_hasher_free(hi);
}

/* ---------------------------------------------------------------------------------------------
 * Error paths: each bad argument gives its status, and no buffer (outputs start as the canary)
 * changes by a single byte. */

typedef struct {
    buf *bufs[32];
    buf snaps[32];
    size_t count;
} watch;

static void watch_add(watch *w, buf *b) {
    assert(w->count < 32);
    w->bufs[w->count] = b;
    w->snaps[w->count] = buf_copy(*b);
    w->count++;
}

static void watch_snap(watch *w) {
    for (size_t i = 0; i < w->count; i++) memcpy(w->snaps[i].p, w->bufs[i]->p, w->bufs[i]->n);
}

static void watch_check(watch *w, const char *file, int line, const char *call) {
    for (size_t i = 0; i < w->count; i++) {
        if (memcmp(w->snaps[i].p, w->bufs[i]->p, w->bufs[i]->n) != 0) {
            fprintf(stderr, "%s:%d: %s failed but wrote to buffer %zu\n", file, line, call, i);
            check_same_bytes(w->bufs[i]->p, w->snaps[i].p, w->bufs[i]->n, "untouched buffer", file,
                             line);
        }
    }
    g_checks++;
}

static void watch_free(watch *w) {
    for (size_t i = 0; i < w->count; i++) buf_free(&w->snaps[i]);
    w->count = 0;
}

/* The call returns `want` and changes no watched buffer. */
#define EXPECT(w, call, want)                                                                    \
    do {                                                                                         \
        watch_snap(w);                                                                           \
        CHECK_STATUS(call, want);                                                                \
        watch_check(w, __FILE__, __LINE__, #call);                                               \
    } while (0)

#define U32(b) ((uint32_t *)(void *)(b).p)
#define U16(b) ((uint16_t *)(void *)(b).p)
#define U64(b) ((uint64_t *)(void *)(b).p)
#define SZ(b) ((size_t *)(void *)(b).p)
#define F32(b) ((float *)(void *)(b).p)
/* One byte past the start: misaligned for any lane or element wider than a byte. */
#define OFF1(T, b) ((T *)(void *)((b).p + 1))

static void check_errors(size_t m) {
    const size_t lanes = ref_lanes(m), lb = ref_lane_bytes(m);
    const size_t B = 3, L = 5, S = 7, K = 4, T = 6, d = 3, n = 4;
    const size_t hbytes = lanes * S * lb;
    const size_t too_long = (size_t)0xFFFFFFFFu;
    uint64_t rng = 0xC0FFEE + m;
    watch w;
    w.count = 0;

    /* Inputs: random bytes (the checks never get to read them); outputs: the canary. */
    buf q = buf_new(B * lanes * lb), hist = buf_new(hbytes), hists = buf_new(B * hbytes),
        fps = buf_new(L * lanes * lb), tab = buf_new(T * lanes * lb), lens = buf_new(B * 4),
        ids = buf_new(L * 8), emb = buf_new(n * d * 4), proj = buf_new(d * m * 4);
    buf *inputs[] = {&q, &hist, &hists, &fps, &tab, &lens, &ids, &emb, &proj};
    for (size_t i = 0; i < sizeof inputs / sizeof inputs[0]; i++)
        for (size_t j = 0; j < inputs[i]->n; j++) inputs[i]->p[j] = (unsigned char)ref_rng_next(&rng);
    U32(lens)[0] = 0;
    U32(lens)[1] = (uint32_t)L;
    U32(lens)[2] = 2;
    for (size_t i = 0; i < L; i++) U64(ids)[i] = ref_rng_next(&rng) % T;
    for (size_t i = 0; i < n * d; i++) F32(emb)[i] = ref_random_float(&rng);
    for (size_t i = 0; i < d * m; i++) F32(proj)[i] = ref_random_float(&rng);

    buf idx = buf_new(B * K * 4), dist = buf_new(B * K * 2), sfill = buf_new(sizeof(uint32_t)),
        bfill = buf_new(B * 4), dout = buf_new(B * L * 2), hout = buf_new(hbytes),
        eout = buf_new(n * lanes * lb), pout = buf_new(d * m * 4);
    buf *all[] = {&q,    &hist,  &hists, &fps,  &tab,  &lens, &ids,  &emb,  &proj,
                  &idx,  &dist,  &sfill, &bfill, &dout, &hout, &eout, &pout};
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) watch_add(&w, all[i]);

    eta_hasher *h = NULL;
    CHECK_STATUS(eta_hasher_new_from_projection(F32(proj), d, m, &h), ETA_STATUS_OK);

    /* ---- hasher constructors: *out untouched on error ---- */
    static char token;
    eta_hasher *const sentinel = (eta_hasher *)(void *)&token;
    eta_hasher *out = sentinel;
#define EXPECT_NO_HASHER(call, want)                                                             \
    do {                                                                                         \
        out = sentinel;                                                                          \
        EXPECT(&w, call, want);                                                                  \
        CHECK(out == sentinel);                                                                  \
    } while (0)
    EXPECT_NO_HASHER(eta_hasher_new_seeded(d, m, 1, NULL), ETA_STATUS_NULL_POINTER);
    EXPECT_NO_HASHER(eta_hasher_new_seeded(0, m, 1, &out), ETA_STATUS_INVALID_DIM);
    EXPECT_NO_HASHER(eta_hasher_new_seeded(d, 0, 1, &out), ETA_STATUS_INVALID_BITS);
    EXPECT_NO_HASHER(eta_hasher_new_seeded(d, 4097, 1, &out), ETA_STATUS_INVALID_BITS);
    EXPECT_NO_HASHER(eta_hasher_new_seeded(d, SIZE_MAX, 1, &out), ETA_STATUS_INVALID_BITS);
    EXPECT_NO_HASHER(eta_hasher_new_seeded(SIZE_MAX / 2 + 1, 4, 1, &out), ETA_STATUS_SIZE_OVERFLOW);
    /* d * m fits size_t, but d * m floats do not, or exceed PTRDIFF_MAX bytes. */
    EXPECT_NO_HASHER(eta_hasher_new_seeded(SIZE_MAX / 4 + 1, 1, 1, &out), ETA_STATUS_SIZE_OVERFLOW);
    /* A size that fits but cannot be allocated (16 PiB) is an error, not an abort. */
    EXPECT_NO_HASHER(eta_hasher_new_seeded((size_t)1 << 52, 1, 1, &out), ETA_STATUS_OUT_OF_MEMORY);
    EXPECT_NO_HASHER(eta_hasher_new_seeded((size_t)PTRDIFF_MAX / 4 + 1, 1, 1, &out),
                     ETA_STATUS_SIZE_OVERFLOW);

    EXPECT_NO_HASHER(eta_hasher_new_from_projection(F32(proj), d, m, NULL), ETA_STATUS_NULL_POINTER);
    EXPECT_NO_HASHER(eta_hasher_new_from_projection(NULL, d, m, &out), ETA_STATUS_NULL_POINTER);
    EXPECT_NO_HASHER(eta_hasher_new_from_projection(F32(proj), 0, m, &out), ETA_STATUS_INVALID_DIM);
    EXPECT_NO_HASHER(eta_hasher_new_from_projection(F32(proj), d, 0, &out), ETA_STATUS_INVALID_BITS);
    EXPECT_NO_HASHER(eta_hasher_new_from_projection(F32(proj), d, 4097, &out), ETA_STATUS_INVALID_BITS);
    EXPECT_NO_HASHER(eta_hasher_new_from_projection(F32(proj), SIZE_MAX / 2 + 1, 4, &out),
                     ETA_STATUS_SIZE_OVERFLOW);
    EXPECT_NO_HASHER(eta_hasher_new_from_projection(F32(proj), SIZE_MAX / 4 + 1, 1, &out),
                     ETA_STATUS_SIZE_OVERFLOW);
    EXPECT_NO_HASHER(eta_hasher_new_from_projection(F32(proj), (size_t)PTRDIFF_MAX / 4 + 1, 1, &out),
                     ETA_STATUS_SIZE_OVERFLOW);
    EXPECT_NO_HASHER(eta_hasher_new_from_projection(OFF1(float, proj), d, m, &out),
                     ETA_STATUS_MISALIGNED);
    /* A misaligned `out` is refused like any other pointer, and not written (issue 13). */
    EXPECT(&w, eta_hasher_new_seeded(d, m, 1, OFF1(eta_hasher *, pout)), ETA_STATUS_MISALIGNED);
    EXPECT(&w, eta_hasher_new_from_projection(F32(proj), d, m, OFF1(eta_hasher *, pout)),
           ETA_STATUS_MISALIGNED);
    {
        const size_t at[3] = {0, d * m / 2, d * m - 1};
        const float bad[3] = {NAN, INFINITY, -INFINITY};
        for (size_t a = 0; a < 3; a++)
            for (size_t v = 0; v < 3; v++) {
                float keep = F32(proj)[at[a]];
                F32(proj)[at[a]] = bad[v];
                EXPECT_NO_HASHER(eta_hasher_new_from_projection(F32(proj), d, m, &out),
                                 ETA_STATUS_NON_FINITE_PROJECTION);
                F32(proj)[at[a]] = keep;
            }
        /* Only the first d * m floats are read: a NaN right after them is fine. */
        float keep = F32(proj)[d * m];
        F32(proj)[d * m] = NAN;
        out = NULL;
        CHECK_STATUS(eta_hasher_new_from_projection(F32(proj), d, m, &out), ETA_STATUS_OK);
        CHECK(out != NULL);
        eta_hasher_free(out);
        F32(proj)[d * m] = keep;
    }
#undef EXPECT_NO_HASHER

    /* ---- hasher accessors ---- */
    eta_hasher_free(NULL);
    CHECK(eta_hasher_dim(NULL) == 0);
    CHECK(eta_hasher_bits(NULL) == 0);
    EXPECT(&w, eta_hasher_projection(NULL, F32(pout)), ETA_STATUS_NULL_POINTER);
    EXPECT(&w, eta_hasher_projection(h, NULL), ETA_STATUS_NULL_POINTER);
    EXPECT(&w, eta_hasher_projection(h, OFF1(float, pout)), ETA_STATUS_MISALIGNED);

    /* ---- encoders ---- */
    EXPECT(&w, eta_encode(NULL, F32(emb), n, eout.p), ETA_STATUS_NULL_POINTER);
    EXPECT(&w, eta_encode(NULL, NULL, 0, NULL), ETA_STATUS_NULL_POINTER);
    EXPECT(&w, eta_encode(h, NULL, n, eout.p), ETA_STATUS_NULL_POINTER);
    EXPECT(&w, eta_encode(h, F32(emb), n, NULL), ETA_STATUS_NULL_POINTER);
    EXPECT(&w, eta_encode(h, F32(emb), SIZE_MAX / 2, eout.p), ETA_STATUS_SIZE_OVERFLOW);
    EXPECT(&w, eta_encode(h, OFF1(float, emb), n, eout.p), ETA_STATUS_MISALIGNED);
    if (lb > 1) EXPECT(&w, eta_encode(h, F32(emb), n, eout.p + 1), ETA_STATUS_MISALIGNED);
    EXPECT(&w, eta_encode(h, F32(emb), n, emb.p), ETA_STATUS_OVERLAP);
    EXPECT(&w, eta_encode(h, F32(emb), n, emb.p + (n * d * 4 / 2) / 8 * 8), ETA_STATUS_OVERLAP);
    {
        /* n * d floats fit, n * lanes lanes do not (only when lanes * lb > 4 * d). */
        size_t per = lanes * lb;
        size_t big = SIZE_MAX / per + 1;
        if (per > 4 * d && big <= (size_t)PTRDIFF_MAX / (4 * d))
            EXPECT(&w, eta_encode(h, F32(emb), big, eout.p), ETA_STATUS_SIZE_OVERFLOW);
    }

    EXPECT(&w, eta_encode_history(NULL, F32(emb), n, hout.p, S), ETA_STATUS_NULL_POINTER);
    EXPECT(&w, eta_encode_history(h, NULL, n, hout.p, S), ETA_STATUS_NULL_POINTER);
    EXPECT(&w, eta_encode_history(h, F32(emb), n, NULL, S), ETA_STATUS_NULL_POINTER);
    EXPECT(&w, eta_encode_history(h, F32(emb), n, hout.p, n - 1), ETA_STATUS_STRIDE_TOO_SMALL);
    EXPECT(&w, eta_encode_history(h, F32(emb), n, hout.p, 0), ETA_STATUS_STRIDE_TOO_SMALL);
    EXPECT(&w, eta_encode_history(h, F32(emb), too_long, hout.p, too_long), ETA_STATUS_HISTORY_TOO_LONG);
    EXPECT(&w, eta_encode_history(h, F32(emb), SIZE_MAX / 2, hout.p, SIZE_MAX), ETA_STATUS_SIZE_OVERFLOW);
    if (lanes > 1)
        EXPECT(&w, eta_encode_history(h, F32(emb), n, hout.p, SIZE_MAX), ETA_STATUS_SIZE_OVERFLOW);
    if (lb > 1) EXPECT(&w, eta_encode_history(h, F32(emb), n, hout.p + 1, S), ETA_STATUS_MISALIGNED);
    EXPECT(&w, eta_encode_history(h, OFF1(float, emb), n, hout.p, S), ETA_STATUS_MISALIGNED);
    EXPECT(&w, eta_encode_history(h, F32(emb), n, emb.p, S), ETA_STATUS_OVERLAP);

    /* ---- outputs over the hasher object: it is an input of every call that takes it (issue
     * 13). Nothing is written, so the hasher still works and gives the same projection. ---- */
    {
        float *before = floats_new(d * m), *after = floats_new(d * m);
        CHECK_STATUS(eta_hasher_projection(h, before), ETA_STATUS_OK);
        void *hv = (void *)h;
        uint16_t *h16 = (uint16_t *)(void *)F32(emb);
        EXPECT(&w, eta_encode(h, F32(emb), 1, hv), ETA_STATUS_OVERLAP);
        EXPECT(&w, eta_encode_history(h, F32(emb), 1, hv, 1), ETA_STATUS_OVERLAP);
        EXPECT(&w, eta_encode_bf16(h, h16, 1, hv), ETA_STATUS_OVERLAP);
        EXPECT(&w, eta_encode_f16(h, h16, 1, hv), ETA_STATUS_OVERLAP);
        EXPECT(&w, eta_encode_history_bf16(h, h16, 1, hv, 1), ETA_STATUS_OVERLAP);
        EXPECT(&w, eta_encode_history_f16(h, h16, 1, hv, 1), ETA_STATUS_OVERLAP);
        EXPECT(&w, eta_hasher_projection(h, (float *)hv), ETA_STATUS_OVERLAP);
        CHECK(eta_hasher_dim(h) == d);
        CHECK(eta_hasher_bits(h) == m);
        CHECK_STATUS(eta_hasher_projection(h, after), ETA_STATUS_OK);
        CHECK_SAME_BYTES(after, before, d * m * sizeof(float), "projection after overlap errors");
        free(before);
        free(after);
    }

    /* ---- shared scans ---- */
    uint32_t *I = U32(idx);
    uint16_t *D = U16(dist);
    uint32_t *F = U32(sfill);
    EXPECT(&w, eta_topk_shared(q.p, B, hist.p, L, S, m, 0, I, D, F), ETA_STATUS_INVALID_K);
    EXPECT(&w, eta_topk_shared(q.p, B, hist.p, L, S, 0, K, I, D, F), ETA_STATUS_INVALID_BITS);
    EXPECT(&w, eta_topk_shared(q.p, B, hist.p, L, S, 4097, K, I, D, F), ETA_STATUS_INVALID_BITS);
    EXPECT(&w, eta_topk_shared(q.p, B, hist.p, L, S, SIZE_MAX, K, I, D, F), ETA_STATUS_INVALID_BITS);
    EXPECT(&w, eta_topk_shared(NULL, B, hist.p, L, S, m, K, I, D, F), ETA_STATUS_NULL_POINTER);
    EXPECT(&w, eta_topk_shared(q.p, B, NULL, L, S, m, K, I, D, F), ETA_STATUS_NULL_POINTER);
    EXPECT(&w, eta_topk_shared(q.p, B, hist.p, L, S, m, K, NULL, D, F), ETA_STATUS_NULL_POINTER);
    EXPECT(&w, eta_topk_shared(q.p, B, hist.p, L, S, m, K, I, NULL, F), ETA_STATUS_NULL_POINTER);
    EXPECT(&w, eta_topk_shared(q.p, B, hist.p, L, L - 1, m, K, I, D, F), ETA_STATUS_STRIDE_TOO_SMALL);
    EXPECT(&w, eta_topk_shared(q.p, B, hist.p, too_long, too_long, m, K, I, D, F),
           ETA_STATUS_HISTORY_TOO_LONG);
    EXPECT(&w, eta_topk_shared(q.p, B, hist.p, SIZE_MAX, SIZE_MAX, m, K, I, D, F),
           ETA_STATUS_HISTORY_TOO_LONG);
    /* 2^32 - 2 is the longest history: it passes that check and fails the next one. */
    EXPECT(&w, eta_topk_shared(q.p, B, hist.p, too_long - 1, too_long - 2, m, K, I, D, F),
           ETA_STATUS_STRIDE_TOO_SMALL);
    EXPECT(&w, eta_topk_shared(q.p, SIZE_MAX, hist.p, L, S, m, K, I, D, F), ETA_STATUS_SIZE_OVERFLOW);
    EXPECT(&w, eta_topk_shared(q.p, B, hist.p, L, S, m, SIZE_MAX / 2, I, D, F), ETA_STATUS_SIZE_OVERFLOW);
    EXPECT(&w, eta_topk_shared(q.p, B, hist.p, L, S, m, SIZE_MAX / 4 / B + 1, I, D, F),
           ETA_STATUS_SIZE_OVERFLOW);
    if (lanes > 1)
        EXPECT(&w, eta_topk_shared(q.p, B, hist.p, L, SIZE_MAX, m, K, I, D, F), ETA_STATUS_SIZE_OVERFLOW);
    if (lb > 1) {
        EXPECT(&w, eta_topk_shared(q.p + 1, B, hist.p, L, S, m, K, I, D, F), ETA_STATUS_MISALIGNED);
        EXPECT(&w, eta_topk_shared(q.p, B, hist.p + 1, L, S, m, K, I, D, F), ETA_STATUS_MISALIGNED);
    }
    EXPECT(&w, eta_topk_shared(q.p, B, hist.p, L, S, m, K, OFF1(uint32_t, idx), D, F), ETA_STATUS_MISALIGNED);
    EXPECT(&w, eta_topk_shared(q.p, B, hist.p, L, S, m, K, I, OFF1(uint16_t, dist), F), ETA_STATUS_MISALIGNED);
    EXPECT(&w, eta_topk_shared(q.p, B, hist.p, L, S, m, K, I, D, OFF1(uint32_t, sfill)), ETA_STATUS_MISALIGNED);
    EXPECT(&w, eta_topk_shared(q.p, B, hist.p, L, S, m, K, U32(q), D, F), ETA_STATUS_OVERLAP);
    EXPECT(&w, eta_topk_shared(q.p, B, hist.p, L, S, m, K, U32(hist), D, F), ETA_STATUS_OVERLAP);
    EXPECT(&w, eta_topk_shared(q.p, B, hist.p, L, S, m, K, I, U16(q), F), ETA_STATUS_OVERLAP);
    EXPECT(&w, eta_topk_shared(q.p, B, hist.p, L, S, m, K, I, U16(hist), F), ETA_STATUS_OVERLAP);
    EXPECT(&w, eta_topk_shared(q.p, B, hist.p, L, S, m, K, I, (uint16_t *)(void *)I, F), ETA_STATUS_OVERLAP);
    EXPECT(&w, eta_topk_shared(q.p, B, hist.p, L, S, m, K, I, (uint16_t *)(void *)(I + B * K - 1), F),
           ETA_STATUS_OVERLAP);
    EXPECT(&w, eta_topk_shared(q.p, B, hist.p, L, S, m, K, I, D, I), ETA_STATUS_OVERLAP);
    EXPECT(&w, eta_topk_shared(q.p, B, hist.p, L, S, m, K, I, D, (uint32_t *)(void *)D), ETA_STATUS_OVERLAP);
    EXPECT(&w, eta_topk_shared(q.p, B, hist.p, L, S, m, K, I, D, U32(q)), ETA_STATUS_OVERLAP);

    uint16_t *O = U16(dout);
    EXPECT(&w, eta_distances_shared(q.p, B, hist.p, L, S, 0, O), ETA_STATUS_INVALID_BITS);
    EXPECT(&w, eta_distances_shared(q.p, B, hist.p, L, S, 4097, O), ETA_STATUS_INVALID_BITS);
    EXPECT(&w, eta_distances_shared(NULL, B, hist.p, L, S, m, O), ETA_STATUS_NULL_POINTER);
    EXPECT(&w, eta_distances_shared(q.p, B, NULL, L, S, m, O), ETA_STATUS_NULL_POINTER);
    EXPECT(&w, eta_distances_shared(q.p, B, hist.p, L, S, m, NULL), ETA_STATUS_NULL_POINTER);
    EXPECT(&w, eta_distances_shared(q.p, B, hist.p, L, L - 1, m, O), ETA_STATUS_STRIDE_TOO_SMALL);
    EXPECT(&w, eta_distances_shared(q.p, B, hist.p, too_long, too_long, m, O), ETA_STATUS_HISTORY_TOO_LONG);
    EXPECT(&w, eta_distances_shared(q.p, SIZE_MAX, hist.p, L, S, m, O), ETA_STATUS_SIZE_OVERFLOW);
    /* B * lanes lanes fit, B * L distances do not. */
    EXPECT(&w, eta_distances_shared(q.p, SIZE_MAX / 16 / (lanes * lb), hist.p, 4096, 4096, m, O),
           ETA_STATUS_SIZE_OVERFLOW);
    if (lanes > 1)
        EXPECT(&w, eta_distances_shared(q.p, B, hist.p, L, SIZE_MAX, m, O), ETA_STATUS_SIZE_OVERFLOW);
    if (lb > 1) {
        EXPECT(&w, eta_distances_shared(q.p + 1, B, hist.p, L, S, m, O), ETA_STATUS_MISALIGNED);
        EXPECT(&w, eta_distances_shared(q.p, B, hist.p + 1, L, S, m, O), ETA_STATUS_MISALIGNED);
    }
    EXPECT(&w, eta_distances_shared(q.p, B, hist.p, L, S, m, OFF1(uint16_t, dout)), ETA_STATUS_MISALIGNED);
    EXPECT(&w, eta_distances_shared(q.p, B, hist.p, L, S, m, U16(q)), ETA_STATUS_OVERLAP);
    EXPECT(&w, eta_distances_shared(q.p, B, hist.p, L, S, m, U16(hist)), ETA_STATUS_OVERLAP);

    /* ---- per-query scans ---- */
    const uint32_t *LN = U32(lens);
    uint32_t *BF = U32(bfill);
    EXPECT(&w, eta_topk_batch(q.p, B, hists.p, L, S, LN, m, 0, I, D, BF), ETA_STATUS_INVALID_K);
    EXPECT(&w, eta_topk_batch(q.p, B, hists.p, L, S, LN, 0, K, I, D, BF), ETA_STATUS_INVALID_BITS);
    EXPECT(&w, eta_topk_batch(q.p, B, hists.p, L, S, LN, 4097, K, I, D, BF), ETA_STATUS_INVALID_BITS);
    EXPECT(&w, eta_topk_batch(NULL, B, hists.p, L, S, LN, m, K, I, D, BF), ETA_STATUS_NULL_POINTER);
    EXPECT(&w, eta_topk_batch(q.p, B, NULL, L, S, LN, m, K, I, D, BF), ETA_STATUS_NULL_POINTER);
    EXPECT(&w, eta_topk_batch(q.p, B, hists.p, L, S, NULL, m, K, I, D, BF), ETA_STATUS_NULL_POINTER);
    EXPECT(&w, eta_topk_batch(q.p, B, hists.p, L, S, LN, m, K, NULL, D, BF), ETA_STATUS_NULL_POINTER);
    EXPECT(&w, eta_topk_batch(q.p, B, hists.p, L, S, LN, m, K, I, NULL, BF), ETA_STATUS_NULL_POINTER);
    EXPECT(&w, eta_topk_batch(q.p, B, hists.p, L, L - 1, LN, m, K, I, D, BF), ETA_STATUS_STRIDE_TOO_SMALL);
    EXPECT(&w, eta_topk_batch(q.p, B, hists.p, too_long, too_long, LN, m, K, I, D, BF),
           ETA_STATUS_HISTORY_TOO_LONG);
    EXPECT(&w, eta_topk_batch(q.p, B, hists.p, L, S, LN, m, SIZE_MAX / 2, I, D, BF), ETA_STATUS_SIZE_OVERFLOW);
    EXPECT(&w, eta_topk_batch(q.p, B, hists.p, L, SIZE_MAX / 2, LN, m, K, I, D, BF), ETA_STATUS_SIZE_OVERFLOW);
    EXPECT(&w, eta_topk_batch(q.p, SIZE_MAX, hists.p, L, S, LN, m, K, I, D, BF), ETA_STATUS_SIZE_OVERFLOW);
    for (size_t b = 0; b < B; b++) {
        const uint32_t bad[2] = {(uint32_t)L + 1, 0xFFFFFFFFu};
        for (size_t v = 0; v < 2; v++) {
            uint32_t keep = U32(lens)[b];
            U32(lens)[b] = bad[v];
            EXPECT(&w, eta_topk_batch(q.p, B, hists.p, L, S, LN, m, K, I, D, BF),
                   ETA_STATUS_LEN_EXCEEDS_CAPACITY);
            EXPECT(&w, eta_topk_batch(q.p, B, hists.p, L, S, LN, m, K, I, D, NULL),
                   ETA_STATUS_LEN_EXCEEDS_CAPACITY);
            EXPECT(&w, eta_distances_batch(q.p, B, hists.p, L, S, LN, m, O),
                   ETA_STATUS_LEN_EXCEEDS_CAPACITY);
            U32(lens)[b] = keep;
        }
    }
    if (lb > 1) {
        EXPECT(&w, eta_topk_batch(q.p + 1, B, hists.p, L, S, LN, m, K, I, D, BF), ETA_STATUS_MISALIGNED);
        EXPECT(&w, eta_topk_batch(q.p, B, hists.p + 1, L, S, LN, m, K, I, D, BF), ETA_STATUS_MISALIGNED);
    }
    EXPECT(&w, eta_topk_batch(q.p, B, hists.p, L, S, OFF1(const uint32_t, lens), m, K, I, D, BF),
           ETA_STATUS_MISALIGNED);
    EXPECT(&w, eta_topk_batch(q.p, B, hists.p, L, S, LN, m, K, OFF1(uint32_t, idx), D, BF), ETA_STATUS_MISALIGNED);
    EXPECT(&w, eta_topk_batch(q.p, B, hists.p, L, S, LN, m, K, I, OFF1(uint16_t, dist), BF), ETA_STATUS_MISALIGNED);
    EXPECT(&w, eta_topk_batch(q.p, B, hists.p, L, S, LN, m, K, I, D, OFF1(uint32_t, bfill)), ETA_STATUS_MISALIGNED);
    EXPECT(&w, eta_topk_batch(q.p, B, hists.p, L, S, LN, m, K, U32(q), D, BF), ETA_STATUS_OVERLAP);
    EXPECT(&w, eta_topk_batch(q.p, B, hists.p, L, S, LN, m, K, U32(hists), D, BF), ETA_STATUS_OVERLAP);
    EXPECT(&w, eta_topk_batch(q.p, B, hists.p, L, S, LN, m, K, U32(lens), D, BF), ETA_STATUS_OVERLAP);
    EXPECT(&w, eta_topk_batch(q.p, B, hists.p, L, S, LN, m, K, I, U16(lens), BF), ETA_STATUS_OVERLAP);
    EXPECT(&w, eta_topk_batch(q.p, B, hists.p, L, S, LN, m, K, I, (uint16_t *)(void *)I, BF), ETA_STATUS_OVERLAP);
    EXPECT(&w, eta_topk_batch(q.p, B, hists.p, L, S, LN, m, K, I, D, U32(lens)), ETA_STATUS_OVERLAP);
    EXPECT(&w, eta_topk_batch(q.p, B, hists.p, L, S, LN, m, K, I, D, I + 1), ETA_STATUS_OVERLAP);
    EXPECT(&w, eta_topk_batch(q.p, B, hists.p, L, S, LN, m, K, I, D, (uint32_t *)(void *)D), ETA_STATUS_OVERLAP);
    EXPECT(&w, eta_topk_batch(q.p, B, hists.p, L, S, LN, m, K, I, D, U32(hists)), ETA_STATUS_OVERLAP);

    EXPECT(&w, eta_distances_batch(q.p, B, hists.p, L, S, LN, 0, O), ETA_STATUS_INVALID_BITS);
    EXPECT(&w, eta_distances_batch(q.p, B, hists.p, L, S, LN, 4097, O), ETA_STATUS_INVALID_BITS);
    EXPECT(&w, eta_distances_batch(NULL, B, hists.p, L, S, LN, m, O), ETA_STATUS_NULL_POINTER);
    EXPECT(&w, eta_distances_batch(q.p, B, NULL, L, S, LN, m, O), ETA_STATUS_NULL_POINTER);
    EXPECT(&w, eta_distances_batch(q.p, B, hists.p, L, S, NULL, m, O), ETA_STATUS_NULL_POINTER);
    EXPECT(&w, eta_distances_batch(q.p, B, hists.p, L, S, LN, m, NULL), ETA_STATUS_NULL_POINTER);
    EXPECT(&w, eta_distances_batch(q.p, B, hists.p, L, L - 1, LN, m, O), ETA_STATUS_STRIDE_TOO_SMALL);
    EXPECT(&w, eta_distances_batch(q.p, B, hists.p, too_long, too_long, LN, m, O), ETA_STATUS_HISTORY_TOO_LONG);
    EXPECT(&w, eta_distances_batch(q.p, B, hists.p, L, SIZE_MAX / 2, LN, m, O), ETA_STATUS_SIZE_OVERFLOW);
    EXPECT(&w, eta_distances_batch(q.p, SIZE_MAX, hists.p, L, S, LN, m, O), ETA_STATUS_SIZE_OVERFLOW);
    if (lb > 1) {
        EXPECT(&w, eta_distances_batch(q.p + 1, B, hists.p, L, S, LN, m, O), ETA_STATUS_MISALIGNED);
        EXPECT(&w, eta_distances_batch(q.p, B, hists.p + 1, L, S, LN, m, O), ETA_STATUS_MISALIGNED);
    }
    EXPECT(&w, eta_distances_batch(q.p, B, hists.p, L, S, OFF1(const uint32_t, lens), m, O), ETA_STATUS_MISALIGNED);
    EXPECT(&w, eta_distances_batch(q.p, B, hists.p, L, S, LN, m, OFF1(uint16_t, dout)), ETA_STATUS_MISALIGNED);
    EXPECT(&w, eta_distances_batch(q.p, B, hists.p, L, S, LN, m, U16(q)), ETA_STATUS_OVERLAP);
    EXPECT(&w, eta_distances_batch(q.p, B, hists.p, L, S, LN, m, U16(hists)), ETA_STATUS_OVERLAP);
    EXPECT(&w, eta_distances_batch(q.p, B, hists.p, L, S, LN, m, U16(lens)), ETA_STATUS_OVERLAP);

    /* ---- history builders ---- */
    EXPECT(&w, eta_history_from_fingerprints(fps.p, L, 0, hout.p, S), ETA_STATUS_INVALID_BITS);
    EXPECT(&w, eta_history_from_fingerprints(fps.p, L, 4097, hout.p, S), ETA_STATUS_INVALID_BITS);
    EXPECT(&w, eta_history_from_fingerprints(NULL, L, m, hout.p, S), ETA_STATUS_NULL_POINTER);
    EXPECT(&w, eta_history_from_fingerprints(fps.p, L, m, NULL, S), ETA_STATUS_NULL_POINTER);
    EXPECT(&w, eta_history_from_fingerprints(fps.p, L, m, hout.p, L - 1), ETA_STATUS_STRIDE_TOO_SMALL);
    EXPECT(&w, eta_history_from_fingerprints(fps.p, too_long, m, hout.p, too_long), ETA_STATUS_HISTORY_TOO_LONG);
    EXPECT(&w, eta_history_from_fingerprints(fps.p, SIZE_MAX, m, hout.p, SIZE_MAX),
           ETA_STATUS_HISTORY_TOO_LONG);
    if (lanes > 1)
        EXPECT(&w, eta_history_from_fingerprints(fps.p, L, m, hout.p, SIZE_MAX), ETA_STATUS_SIZE_OVERFLOW);
    if (lb > 1) {
        EXPECT(&w, eta_history_from_fingerprints(fps.p + 1, L, m, hout.p, S), ETA_STATUS_MISALIGNED);
        EXPECT(&w, eta_history_from_fingerprints(fps.p, L, m, hout.p + 1, S), ETA_STATUS_MISALIGNED);
    }
    EXPECT(&w, eta_history_from_fingerprints(fps.p, L, m, fps.p, S), ETA_STATUS_OVERLAP);
    EXPECT(&w, eta_history_from_fingerprints(fps.p, L, m, fps.p + (L * lanes - 1) * lb, S), ETA_STATUS_OVERLAP);

    const uint64_t *ID = U64(ids);
    EXPECT(&w, eta_history_gather(tab.p, T, 0, ID, L, hout.p, S), ETA_STATUS_INVALID_BITS);
    EXPECT(&w, eta_history_gather(tab.p, T, 4097, ID, L, hout.p, S), ETA_STATUS_INVALID_BITS);
    EXPECT(&w, eta_history_gather(NULL, T, m, ID, L, hout.p, S), ETA_STATUS_NULL_POINTER);
    EXPECT(&w, eta_history_gather(tab.p, T, m, NULL, L, hout.p, S), ETA_STATUS_NULL_POINTER);
    EXPECT(&w, eta_history_gather(tab.p, T, m, ID, L, NULL, S), ETA_STATUS_NULL_POINTER);
    EXPECT(&w, eta_history_gather(tab.p, T, m, ID, L, hout.p, L - 1), ETA_STATUS_STRIDE_TOO_SMALL);
    EXPECT(&w, eta_history_gather(tab.p, T, m, ID, too_long, hout.p, too_long), ETA_STATUS_HISTORY_TOO_LONG);
    EXPECT(&w, eta_history_gather(tab.p, SIZE_MAX, m, ID, L, hout.p, S), ETA_STATUS_SIZE_OVERFLOW);
    EXPECT(&w, eta_history_gather(tab.p, T, m, ID, SIZE_MAX / 4, hout.p, SIZE_MAX / 4),
           ETA_STATUS_HISTORY_TOO_LONG);
    if (lanes > 1)
        EXPECT(&w, eta_history_gather(tab.p, T, m, ID, L, hout.p, SIZE_MAX), ETA_STATUS_SIZE_OVERFLOW);
    for (size_t i = 0; i < L; i++) {
        const uint64_t bad[3] = {T, T + 1, UINT64_MAX /* (int64_t)-1 */};
        for (size_t v = 0; v < 3; v++) {
            uint64_t keep = U64(ids)[i];
            U64(ids)[i] = bad[v];
            EXPECT(&w, eta_history_gather(tab.p, T, m, ID, L, hout.p, S), ETA_STATUS_ID_OUT_OF_RANGE);
            U64(ids)[i] = keep;
        }
    }
    EXPECT(&w, eta_history_gather(NULL, 0, m, ID, L, hout.p, S), ETA_STATUS_ID_OUT_OF_RANGE);
    EXPECT(&w, eta_history_gather(tab.p, 0, m, ID, L, hout.p, S), ETA_STATUS_ID_OUT_OF_RANGE);
    if (lb > 1) {
        EXPECT(&w, eta_history_gather(tab.p + 1, T, m, ID, L, hout.p, S), ETA_STATUS_MISALIGNED);
        EXPECT(&w, eta_history_gather(tab.p, T, m, ID, L, hout.p + 1, S), ETA_STATUS_MISALIGNED);
    }
    EXPECT(&w, eta_history_gather(tab.p, T, m, OFF1(const uint64_t, ids), L, hout.p, S), ETA_STATUS_MISALIGNED);
    EXPECT(&w, eta_history_gather(tab.p, T, m, ID, L, tab.p, S), ETA_STATUS_OVERLAP);
    EXPECT(&w, eta_history_gather(tab.p, T, m, ID, L, ids.p, S), ETA_STATUS_OVERLAP);

    /* ---- the fixture itself is valid: every call above failed for its one bad argument ---- */
    CHECK_STATUS(eta_hasher_projection(h, F32(pout)), ETA_STATUS_OK);
    CHECK(memcmp(pout.p, proj.p, d * m * 4) == 0);
    CHECK_STATUS(eta_encode(h, F32(emb), n, eout.p), ETA_STATUS_OK);
    CHECK_STATUS(eta_encode_history(h, F32(emb), n, hout.p, S), ETA_STATUS_OK);
    CHECK_STATUS(eta_topk_shared(q.p, B, hist.p, L, S, m, K, I, D, F), ETA_STATUS_OK);
    CHECK(*F == K);
    CHECK_STATUS(eta_distances_shared(q.p, B, hist.p, L, S, m, O), ETA_STATUS_OK);
    CHECK_STATUS(eta_topk_batch(q.p, B, hists.p, L, S, LN, m, K, I, D, BF), ETA_STATUS_OK);
    CHECK(BF[0] == 0 && BF[1] == K && BF[2] == 2);
    CHECK_STATUS(eta_distances_batch(q.p, B, hists.p, L, S, LN, m, O), ETA_STATUS_OK);
    CHECK_STATUS(eta_history_from_fingerprints(fps.p, L, m, hout.p, S), ETA_STATUS_OK);
    CHECK_STATUS(eta_history_gather(tab.p, T, m, ID, L, hout.p, S), ETA_STATUS_OK);
    /* Outputs that touch end to end do not overlap. */
    {
        buf both = buf_new(B * K * 6 + sizeof(uint32_t) + 4);
        uint32_t *bi = U32(both);
        uint16_t *bd = (uint16_t *)(void *)(bi + B * K);
        uint32_t *bf = (uint32_t *)(void *)(both.p + (B * K * 6 + 3) / 4 * 4);
        CHECK_STATUS(eta_topk_shared(q.p, B, hist.p, L, S, m, K, bi, bd, bf), ETA_STATUS_OK);
        CHECK(*bf == K);
        buf_free(&both);
    }

    eta_hasher_free(h);
    watch_free(&w);
    for (size_t i = 0; i < sizeof all / sizeof all[0]; i++) buf_free(all[i]);
}

/* ---------------------------------------------------------------------------------------------
 * The whole suite: metadata and ISA API once, then results and errors under every ISA. */

/* The multi-threaded entry points: large enough that the library really splits the work (the
 * history for few queries, the queries for per-query histories), equal to the reference, and
 * the same errors as the single-threaded calls. Items repeat a small pool, so ties abound. */
static void check_multithreaded(void) {
    const size_t m = 64, L = 150000, K = 40, B = 3, BB = 4, LB = 40000;
    uint64_t state = 99, pool[64];
    for (size_t i = 0; i < 64; i++) pool[i] = ref_rng_next(&state);
    uint64_t *items = words_new(L), *qs = words_new(BB);
    for (size_t i = 0; i < L; i++) items[i] = pool[(i * 7919u + i / 5u) % 64u];
    for (size_t b = 0; b < BB; b++) qs[b] = ref_rng_next(&state);
    uint64_t *hist = words_new(L);
    CHECK_STATUS(eta_history_from_fingerprints(items, L, m, hist, L), ETA_STATUS_OK);
    uint32_t *idx = (uint32_t *)malloc(BB * K * 4), *iwant = (uint32_t *)malloc(BB * K * 4);
    uint16_t *dist = (uint16_t *)malloc(BB * K * 2), *dwant = (uint16_t *)malloc(BB * K * 2);
    uint32_t fl[4], fwant[4];
    assert(idx && iwant && dist && dwant);
    for (size_t b = 0; b < B; b++) ref_topk(qs + b, items, L, 1, K, iwant + b * K, dwant + b * K);
    const size_t threads[] = {0, 1, 2, 5};
    for (size_t t = 0; t < 4; t++) {
        uint32_t filled = 0;
        memset(idx, CANARY, B * K * 4);
        CHECK_STATUS(eta_topk_shared_mt(qs, B, hist, L, L, m, K, idx, dist, &filled, threads[t]), ETA_STATUS_OK);
        CHECK(filled == K);
        CHECK_SAME_BYTES(idx, iwant, B * K * 4, "eta_topk_shared_mt indices");
        CHECK_SAME_BYTES(dist, dwant, B * K * 2, "eta_topk_shared_mt distances");
    }
    /* A cap on the threads per call changes no result; 0 removes it again. */
    const size_t cap_before = eta_max_threads();
    for (size_t cap = 1; cap <= 2; cap++) {
        CHECK_STATUS(eta_set_max_threads(cap), ETA_STATUS_OK);
        CHECK(eta_max_threads() == cap);
        memset(idx, CANARY, B * K * 4);
        CHECK_STATUS(eta_topk_shared_mt(qs, B, hist, L, L, m, K, idx, dist, NULL, 5), ETA_STATUS_OK);
        CHECK_SAME_BYTES(idx, iwant, B * K * 4, "eta_topk_shared_mt indices, capped");
        CHECK_SAME_BYTES(dist, dwant, B * K * 2, "eta_topk_shared_mt distances, capped");
    }
    CHECK_STATUS(eta_set_max_threads(0), ETA_STATUS_OK);
    CHECK(eta_max_threads() == 0);
    CHECK_STATUS(eta_set_max_threads(cap_before), ETA_STATUS_OK);
    /* Per-query: BB histories of capacity LB cut from the same items, lens LB, 0, 17, LB - 1. */
    const uint32_t lens[4] = {(uint32_t)LB, 0, 17, (uint32_t)(LB - 1)};
    uint64_t *hists = words_new(BB * LB);
    for (size_t b = 0; b < BB; b++)
        CHECK_STATUS(eta_history_from_fingerprints(items + b * 1000, LB, m, hists + b * LB, LB), ETA_STATUS_OK);
    for (size_t b = 0; b < BB; b++)
        fwant[b] = (uint32_t)ref_topk(qs + b, items + b * 1000, lens[b], 1, K, iwant + b * K, dwant + b * K);
    for (size_t t = 0; t < 4; t++) {
        memset(idx, CANARY, BB * K * 4);
        CHECK_STATUS(eta_topk_batch_mt(qs, BB, hists, LB, LB, lens, m, K, idx, dist, fl, threads[t]), ETA_STATUS_OK);
        CHECK_SAME_BYTES(idx, iwant, BB * K * 4, "eta_topk_batch_mt indices");
        CHECK_SAME_BYTES(dist, dwant, BB * K * 2, "eta_topk_batch_mt distances");
        CHECK_SAME_BYTES(fl, fwant, sizeof fl, "eta_topk_batch_mt filled");
    }
    /* Errors are those of the single-threaded calls, and nothing is written. */
    memset(idx, CANARY, BB * K * 4);
    memcpy(iwant, idx, BB * K * 4);
    CHECK_STATUS(eta_topk_shared_mt(qs, B, hist, L, L, m, 0, idx, dist, NULL, 4), ETA_STATUS_INVALID_K);
    CHECK_STATUS(eta_topk_shared_mt(qs, B, hist, L, L - 1, m, K, idx, dist, NULL, 4), ETA_STATUS_STRIDE_TOO_SMALL);
    const uint32_t bad[4] = {1, 2, (uint32_t)LB + 1, 3};
    CHECK_STATUS(eta_topk_batch_mt(qs, BB, hists, LB, LB, bad, m, K, idx, dist, NULL, 4),
                 ETA_STATUS_LEN_EXCEEDS_CAPACITY);
    CHECK_SAME_BYTES(idx, iwant, BB * K * 4, "outputs after rejected multi-threaded calls");
    free(items);
    free(qs);
    free(hist);
    free(hists);
    free(idx);
    free(iwant);
    free(dist);
    free(dwant);
}

/* Half-precision embeddings: bf16 and IEEE f16 bit patterns hash exactly like the floats they
 * widen to (bf16: the pattern shifted left by 16; f16: exact, with subnormals, infinities, NaN). */
static float f32_of_bits(uint32_t b) {
    float f;
    memcpy(&f, &b, sizeof f);
    return f;
}

static void check_half_precision(void) {
    enum { D = 8, N = 6, M = 70, LANES = 2, STRIDE = 9 };
    /* f16 patterns and their exact float values: 0, -0, 1, -1, 0.5, 3, 2^-24 (the smallest
     * subnormal), 65504 (the largest finite), +Inf, -Inf, NaN, and a few ordinary values. */
    static const uint16_t f16_bits[12] = {0x0000, 0x8000, 0x3C00, 0xBC00, 0x3800, 0x4200,
                                          0x0001, 0x7BFF, 0x7C00, 0xFC00, 0x7E00, 0xC500};
    const float f16_vals[12] = {0.0f,  -0.0f, 1.0f,  -1.0f,     0.5f,      3.0f,
                                0x1p-24f, 65504.0f, INFINITY, -INFINITY, NAN, -5.0f};
    uint16_t h16[N * D], b16[N * D];
    float wide_h[N * D], wide_b[N * D];
    uint64_t state = 7;
    for (size_t i = 0; i < N * D; i++) {
        const size_t pick = (size_t)(ref_rng_next(&state) % 12u);
        h16[i] = f16_bits[pick];
        wide_h[i] = f16_vals[pick];
        b16[i] = (uint16_t)(ref_rng_next(&state) >> 48);
        wide_b[i] = f32_of_bits((uint32_t)b16[i] << 16);
    }
    eta_hasher *h = NULL;
    CHECK_STATUS(eta_hasher_new_seeded(D, M, 11, &h), ETA_STATUS_OK);
    uint64_t want[N * LANES], got[N * LANES], hwant[LANES * STRIDE], hgot[LANES * STRIDE];
    for (int format = 0; format < 2; format++) {
        const uint16_t *half = format ? h16 : b16;
        const float *wide = format ? wide_h : wide_b;
        CHECK_STATUS(eta_encode(h, wide, N, want), ETA_STATUS_OK);
        memset(got, CANARY, sizeof got);
        CHECK_STATUS(format ? eta_encode_f16(h, half, N, got) : eta_encode_bf16(h, half, N, got), ETA_STATUS_OK);
        CHECK_SAME_BYTES(got, want, sizeof got, format ? "eta_encode_f16" : "eta_encode_bf16");
        memset(hwant, CANARY, sizeof hwant);
        memset(hgot, CANARY, sizeof hgot);
        CHECK_STATUS(eta_encode_history(h, wide, N, hwant, STRIDE), ETA_STATUS_OK);
        CHECK_STATUS(format ? eta_encode_history_f16(h, half, N, hgot, STRIDE)
                            : eta_encode_history_bf16(h, half, N, hgot, STRIDE),
                     ETA_STATUS_OK);
        CHECK_SAME_BYTES(hgot, hwant, sizeof hgot, format ? "eta_encode_history_f16" : "eta_encode_history_bf16");
        /* Errors leave the output untouched. */
        memcpy(want, got, sizeof got);
        CHECK_STATUS(format ? eta_encode_f16(h, NULL, N, got) : eta_encode_bf16(h, NULL, N, got),
                     ETA_STATUS_NULL_POINTER);
        CHECK_STATUS(format ? eta_encode_f16(NULL, half, N, got) : eta_encode_bf16(NULL, half, N, got),
                     ETA_STATUS_NULL_POINTER);
        CHECK_STATUS(format ? eta_encode_f16(h, (const uint16_t *)(const void *)((const char *)half + 1), N, got)
                            : eta_encode_bf16(h, (const uint16_t *)(const void *)((const char *)half + 1), N, got),
                     ETA_STATUS_MISALIGNED);
        CHECK_STATUS(format ? eta_encode_history_f16(h, half, N, got, N - 1)
                            : eta_encode_history_bf16(h, half, N, got, N - 1),
                     ETA_STATUS_STRIDE_TOO_SMALL);
        CHECK_SAME_BYTES(got, want, sizeof got, "half-precision output after errors");
    }
    eta_hasher_free(h);
}

/* ---------------------------------------------------------------------------------------------
 * Host-enabled floating-point traps (issue 13, item 1): a host that unmasked FP exceptions
 * (feenableexcept) must get correct fingerprints, no SIGFPE, and its exact FP state back, the
 * sticky flags included. Run in a forked child, so that a trap fails this check instead of
 * killing the suite. glibc on x86-64 and aarch64 only (feenableexcept is a GNU extension); where
 * the hardware cannot trap (most aarch64 cores, qemu), feenableexcept fails and only the state
 * is checked. */
#if defined(__linux__) && defined(__GLIBC__) && (defined(__x86_64__) || defined(__aarch64__))
#define ETA_FP_TRAPS_TEST 1
#include <fenv.h>
#include <signal.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>
#if defined(__x86_64__)
#include <xmmintrin.h>
#endif

/* The raw FP control/status state of this thread: MXCSR on x86-64, FPCR and FPSR on aarch64. */
typedef struct {
    uint64_t control;
    uint64_t status;
} fp_state;

static fp_state fp_state_now(void) {
    fp_state s;
#if defined(__x86_64__)
    s.control = _mm_getcsr();
    s.status = 0;
#else
    uint64_t cr, sr;
    __asm__ __volatile__("mrs %0, fpcr" : "=r"(cr));
    __asm__ __volatile__("mrs %0, fpsr" : "=r"(sr));
    s.control = cr;
    s.status = sr;
#endif
    return s;
}

/* Sets sticky flags without raising (so without trapping): UNDERFLOW and DIVBYZERO. */
static void fp_set_some_flags(void) {
#if defined(__x86_64__)
    /* MXCSR flags: ZE (bit 2), UE (bit 4). SSE traps only on an operation, never on a flag
     * already set. */
    _mm_setcsr(_mm_getcsr() | (1u << 2) | (1u << 4));
#else
    /* FPSR cumulative flags: DZC (bit 1), UFC (bit 3); writing them raises nothing. */
    uint64_t sr;
    __asm__ __volatile__("mrs %0, fpsr" : "=r"(sr));
    sr |= (1u << 1) | (1u << 3);
    __asm__ __volatile__("msr fpsr, %0" : : "r"(sr));
#endif
}

#define FP_CHILD_FAIL(code, what)                                                                \
    do {                                                                                         \
        fprintf(stderr, "fp traps child (isa %s): %s\n", eta_isa_name(), what);                  \
        fflush(stderr);                                                                          \
        _exit(code);                                                                             \
    } while (0)

/* The child: encodes with every encoder, traps enabled, and checks bits and state. */
static void fp_traps_child(void) {
    enum { D = 8, N = 6, M = 70, LANES = 2, STRIDE = 9 };
    float emb[N * D];
    uint16_t h16[N * D], b16[N * D];
    uint64_t state = 99;
    for (size_t i = 0; i < N * D; i++) {
        emb[i] = ref_random_float(&state);
        h16[i] = (uint16_t)(ref_rng_next(&state) >> 48);
        b16[i] = (uint16_t)(ref_rng_next(&state) >> 48);
    }
    /* Specials: inf (inf * 0 and inf - inf are invalid), an overflowing value, a quiet NaN,
     * signalling NaNs in f16 and bf16 (their widening is an invalid operation on some ISAs). */
    emb[3] = INFINITY;
    emb[D + 1] = -INFINITY;
    emb[2 * D + 5] = 3.0e38f;
    emb[3 * D + 2] = NAN;
    h16[4] = 0x7C00;
    h16[D + 4] = 0x7D00; /* f16 signalling NaN */
    h16[2 * D + 1] = 0x0001;
    b16[4] = 0x7F80;
    b16[D + 3] = 0x7F81; /* bf16 signalling NaN */
    eta_hasher *h = NULL;
    if (eta_hasher_new_seeded(D, M, 5, &h) != ETA_STATUS_OK) FP_CHILD_FAIL(10, "hasher");
    /* First with traps enabled, then (the reference) the same calls with every exception
     * masked; the state must come back exactly in both. */
    uint64_t want[6][LANES * STRIDE], got[6][LANES * STRIDE];
    memset(want, 0, sizeof want);
    memset(got, 0, sizeof got);
    for (int pass = 0; pass < 2; pass++) {
        const int trapping = pass == 0;
        uint64_t(*o)[LANES * STRIDE] = trapping ? got : want;
        fp_state before = fp_state_now();
        int kept = 0;
        if (trapping) {
            /* What the machine kept: all five on x86-64; none where traps are unsupported
             * (most aarch64 cores, qemu) or not emulated (valgrind). */
            (void)feenableexcept(FE_INVALID | FE_DIVBYZERO | FE_OVERFLOW | FE_UNDERFLOW |
                                 FE_INEXACT);
            kept = fegetexcept();
            fp_set_some_flags();
            before = fp_state_now();
        }
        int bad = 0;
        bad |= eta_encode(h, emb, N, o[0]) != ETA_STATUS_OK;
        bad |= eta_encode_history(h, emb, N, o[1], STRIDE) != ETA_STATUS_OK;
        bad |= eta_encode_f16(h, h16, N, o[2]) != ETA_STATUS_OK;
        bad |= eta_encode_bf16(h, b16, N, o[3]) != ETA_STATUS_OK;
        bad |= eta_encode_history_f16(h, h16, N, o[4], STRIDE) != ETA_STATUS_OK;
        bad |= eta_encode_history_bf16(h, b16, N, o[5], STRIDE) != ETA_STATUS_OK;
        fp_state after = fp_state_now();
        if (trapping) {
            const int enabled = fegetexcept();
            fedisableexcept(FE_ALL_EXCEPT);
            if (enabled != kept) FP_CHILD_FAIL(11, "the enabled traps changed");
        }
        if (bad) FP_CHILD_FAIL(12, "an encoder failed");
        if (before.control != after.control || before.status != after.status) {
            fprintf(stderr, "control %#llx -> %#llx, status %#llx -> %#llx\n",
                    (unsigned long long)before.control, (unsigned long long)after.control,
                    (unsigned long long)before.status, (unsigned long long)after.status);
            FP_CHILD_FAIL(13, "the caller's FP state (masks or flags) changed");
        }
    }
    if (memcmp(want, got, sizeof want) != 0) FP_CHILD_FAIL(14, "other bits with traps enabled");
    eta_hasher_free(h);
    _exit(0);
}

static void check_fp_traps(void) {
    fflush(stdout);
    fflush(stderr);
    pid_t pid = fork();
    CHECK(pid >= 0);
    if (pid == 0) fp_traps_child();
    int st = 0;
    const pid_t waited = waitpid(pid, &st, 0);
    CHECK(waited == pid);
    if (WIFSIGNALED(st))
        fprintf(stderr, "fp traps child (isa %s) killed by signal %d%s\n", eta_isa_name(),
                WTERMSIG(st), WTERMSIG(st) == SIGFPE ? " (SIGFPE)" : "");
    CHECK(WIFEXITED(st) && WEXITSTATUS(st) == 0);
}
#else
static void check_fp_traps(void) {}
#endif

/* ---------------------------------------------------------------------------------------------
 * Outputs in memory never written (malloc), issue 13 item 4. Every entry point that writes is
 * called twice: into zeroed memory (calloc) and into malloc'ed memory nobody wrote. The written
 * elements must be equal; under valgrind, comparing them also proves each one was written (a
 * byte left uninitialised makes memcmp's branch depend on it, an error). History padding lanes
 * [n, stride) are not compared: the builders leave them as they are, uninitialised here. Scans
 * read histories whose padding is initialised, as the contract asks (calloc). */

static void *raw_new(size_t bytes) {
    void *p = malloc(bytes ? bytes : 1);
    assert(p);
    return p;
}

static void *zero_new(size_t bytes) {
    void *p = calloc(bytes ? bytes : 1, 1);
    assert(p);
    return p;
}

/* The written rows of two histories: lanes [w * stride, w * stride + n) of every row w. */
static void check_same_rows(const void *a, const void *b, size_t m, size_t n, size_t stride,
                            const char *what) {
    const size_t lanes = ref_lanes(m), lb = ref_lane_bytes(m);
    for (size_t w = 0; w < lanes; w++)
        CHECK_SAME_BYTES((const unsigned char *)a + w * stride * lb,
                         (const unsigned char *)b + w * stride * lb, n * lb, what);
}

static void check_uninit_outputs(size_t m) {
    const size_t lanes = ref_lanes(m), lb = ref_lane_bytes(m);
    const size_t d = 5, n = 70, stride = 75, B = 3, K = 8;
    const size_t fp_bytes = n * lanes * lb, hist_bytes = lanes * stride * lb;
    eta_hasher *h = NULL;
    CHECK_STATUS(eta_hasher_new_seeded(d, m, 11 + m, &h), ETA_STATUS_OK);

    float *emb = (float *)raw_new(n * d * sizeof(float));
    uint16_t *half = (uint16_t *)raw_new(n * d * sizeof(uint16_t));
    uint64_t rng = 977 + m;
    for (size_t i = 0; i < n * d; i++) {
        emb[i] = (float)((int)(ref_rng_next(&rng) % 2001) - 1000) / 997.0f;
        half[i] = (uint16_t)(0x3000 + ref_rng_next(&rng) % 0x1000) | (uint16_t)((i & 1) << 15);
    }

    /* The projection. */
    float *pz = (float *)zero_new(d * m * sizeof(float)), *pr = (float *)raw_new(d * m * sizeof(float));
    CHECK_STATUS(eta_hasher_projection(h, pz), ETA_STATUS_OK);
    CHECK_STATUS(eta_hasher_projection(h, pr), ETA_STATUS_OK);
    CHECK_SAME_BYTES(pr, pz, d * m * sizeof(float), "projection into malloc'ed memory");

    /* Query layout, three element types. */
    void *fz = zero_new(fp_bytes), *fr = raw_new(fp_bytes);
    CHECK_STATUS(eta_encode_bf16(h, half, n, fz), ETA_STATUS_OK);
    CHECK_STATUS(eta_encode_bf16(h, half, n, fr), ETA_STATUS_OK);
    CHECK_SAME_BYTES(fr, fz, fp_bytes, "eta_encode_bf16 into malloc'ed memory");
    CHECK_STATUS(eta_encode_f16(h, half, n, fz), ETA_STATUS_OK);
    CHECK_STATUS(eta_encode_f16(h, half, n, fr), ETA_STATUS_OK);
    CHECK_SAME_BYTES(fr, fz, fp_bytes, "eta_encode_f16 into malloc'ed memory");
    CHECK_STATUS(eta_encode(h, emb, n, fz), ETA_STATUS_OK);
    free(fr);
    fr = raw_new(fp_bytes);
    CHECK_STATUS(eta_encode(h, emb, n, fr), ETA_STATUS_OK);
    CHECK_SAME_BYTES(fr, fz, fp_bytes, "eta_encode into malloc'ed memory");

    /* Histories at a padded stride (padding stays unwritten) and at stride == n. */
    const size_t strides[2] = {stride, n};
    for (size_t s = 0; s < 2; s++) {
        const size_t st = strides[s];
        void *hz = zero_new(hist_bytes), *hr = raw_new(hist_bytes);
        CHECK_STATUS(eta_encode_history(h, emb, n, hz, st), ETA_STATUS_OK);
        CHECK_STATUS(eta_encode_history(h, emb, n, hr, st), ETA_STATUS_OK);
        check_same_rows(hr, hz, m, n, st, "eta_encode_history into malloc'ed memory");
        free(hr);
        hr = raw_new(hist_bytes);
        CHECK_STATUS(eta_encode_history_bf16(h, half, n, hz, st), ETA_STATUS_OK);
        CHECK_STATUS(eta_encode_history_bf16(h, half, n, hr, st), ETA_STATUS_OK);
        check_same_rows(hr, hz, m, n, st, "eta_encode_history_bf16 into malloc'ed memory");
        free(hr);
        hr = raw_new(hist_bytes);
        CHECK_STATUS(eta_encode_history_f16(h, half, n, hz, st), ETA_STATUS_OK);
        CHECK_STATUS(eta_encode_history_f16(h, half, n, hr, st), ETA_STATUS_OK);
        check_same_rows(hr, hz, m, n, st, "eta_encode_history_f16 into malloc'ed memory");
        free(hr);
        hr = raw_new(hist_bytes);
        CHECK_STATUS(eta_history_from_fingerprints(fz, n, m, hz, st), ETA_STATUS_OK);
        CHECK_STATUS(eta_history_from_fingerprints(fz, n, m, hr, st), ETA_STATUS_OK);
        check_same_rows(hr, hz, m, n, st, "eta_history_from_fingerprints into malloc'ed memory");
        free(hr);
        hr = raw_new(hist_bytes);
        uint64_t ids[70];
        for (size_t i = 0; i < n; i++) ids[i] = (i * 31 + 7) % n;
        CHECK_STATUS(eta_history_gather(fz, n, m, ids, n, hz, st), ETA_STATUS_OK);
        CHECK_STATUS(eta_history_gather(fz, n, m, ids, n, hr, st), ETA_STATUS_OK);
        check_same_rows(hr, hz, m, n, st, "eta_history_gather into malloc'ed memory");
        free(hr);
        free(hz);
    }

    /* Scans: a calloc'ed history (padding initialised, as the contract asks), malloc'ed outputs. */
    void *hist = zero_new(hist_bytes);
    CHECK_STATUS(eta_encode_history(h, emb, n, hist, stride), ETA_STATUS_OK);
    void *hists = zero_new(B * hist_bytes);
    uint32_t lens[3] = {(uint32_t)n, 0, 17};
    for (size_t q = 0; q < B; q++)
        CHECK_STATUS(eta_encode_history(h, emb, lens[q], (unsigned char *)hists + q * hist_bytes, stride),
                     ETA_STATUS_OK);
    const size_t slots = B * K;
    uint32_t *iz = (uint32_t *)zero_new(slots * 4), *ir = (uint32_t *)raw_new(slots * 4);
    uint16_t *dz = (uint16_t *)zero_new(slots * 2), *dr = (uint16_t *)raw_new(slots * 2);
    uint32_t *sz = (uint32_t *)zero_new(4), *sr = (uint32_t *)raw_new(4);
    uint32_t *bz = (uint32_t *)zero_new(B * 4), *br = (uint32_t *)raw_new(B * 4);
    CHECK_STATUS(eta_topk_shared(fz, B, hist, n, stride, m, K, iz, dz, sz), ETA_STATUS_OK);
    CHECK_STATUS(eta_topk_shared(fz, B, hist, n, stride, m, K, ir, dr, sr), ETA_STATUS_OK);
    CHECK_SAME_BYTES(ir, iz, slots * 4, "eta_topk_shared indices into malloc'ed memory");
    CHECK_SAME_BYTES(dr, dz, slots * 2, "eta_topk_shared distances into malloc'ed memory");
    CHECK(*sr == *sz && *sr == K);
    free(ir), free(dr);
    ir = (uint32_t *)raw_new(slots * 4), dr = (uint16_t *)raw_new(slots * 2);
    CHECK_STATUS(eta_topk_shared_mt(fz, B, hist, n, stride, m, K, ir, dr, NULL, 2), ETA_STATUS_OK);
    CHECK_SAME_BYTES(ir, iz, slots * 4, "eta_topk_shared_mt indices into malloc'ed memory");
    CHECK_SAME_BYTES(dr, dz, slots * 2, "eta_topk_shared_mt distances into malloc'ed memory");
    free(ir), free(dr);
    ir = (uint32_t *)raw_new(slots * 4), dr = (uint16_t *)raw_new(slots * 2);
    CHECK_STATUS(eta_topk_batch(fz, B, hists, n, stride, lens, m, K, iz, dz, bz), ETA_STATUS_OK);
    CHECK_STATUS(eta_topk_batch(fz, B, hists, n, stride, lens, m, K, ir, dr, br), ETA_STATUS_OK);
    CHECK_SAME_BYTES(ir, iz, slots * 4, "eta_topk_batch indices into malloc'ed memory");
    CHECK_SAME_BYTES(dr, dz, slots * 2, "eta_topk_batch distances into malloc'ed memory");
    CHECK_SAME_BYTES(br, bz, B * 4, "eta_topk_batch filled counts into malloc'ed memory");
    free(ir), free(dr), free(br);
    ir = (uint32_t *)raw_new(slots * 4), dr = (uint16_t *)raw_new(slots * 2);
    br = (uint32_t *)raw_new(B * 4);
    CHECK_STATUS(eta_topk_batch_mt(fz, B, hists, n, stride, lens, m, K, ir, dr, br, 2), ETA_STATUS_OK);
    CHECK_SAME_BYTES(ir, iz, slots * 4, "eta_topk_batch_mt indices into malloc'ed memory");
    CHECK_SAME_BYTES(dr, dz, slots * 2, "eta_topk_batch_mt distances into malloc'ed memory");
    CHECK_SAME_BYTES(br, bz, B * 4, "eta_topk_batch_mt filled counts into malloc'ed memory");
    uint16_t *xz = (uint16_t *)zero_new(B * n * 2), *xr = (uint16_t *)raw_new(B * n * 2);
    CHECK_STATUS(eta_distances_shared(fz, B, hist, n, stride, m, xz), ETA_STATUS_OK);
    CHECK_STATUS(eta_distances_shared(fz, B, hist, n, stride, m, xr), ETA_STATUS_OK);
    CHECK_SAME_BYTES(xr, xz, B * n * 2, "eta_distances_shared into malloc'ed memory");
    free(xr);
    xr = (uint16_t *)raw_new(B * n * 2);
    CHECK_STATUS(eta_distances_batch(fz, B, hists, n, stride, lens, m, xz), ETA_STATUS_OK);
    CHECK_STATUS(eta_distances_batch(fz, B, hists, n, stride, lens, m, xr), ETA_STATUS_OK);
    CHECK_SAME_BYTES(xr, xz, B * n * 2, "eta_distances_batch into malloc'ed memory");

    free(xz), free(xr), free(iz), free(ir), free(dz), free(dr), free(sz), free(sr), free(bz), free(br);
    free(hist), free(hists), free(fz), free(fr), free(pz), free(pr), free(emb), free(half);
    eta_hasher_free(h);
}

/* ---------------------------------------------------------------------------------------------
 * Handles (issue 11 item 4): eta_fingerprints and eta_history record m, length and stride; the
 * scans over handles equal the raw scans, and refuse mixed widths with nothing written. */

static void check_handles(size_t m) {
    const size_t lanes = ref_lanes(m), lb = ref_lane_bytes(m);
    const size_t d = 6, L = 45, B = 3, K = 7, cap = 50;
    const size_t other_m = m == 64 ? 65 : 64; /* a width of another lane count or type */
    eta_hasher *h = NULL, *h2 = NULL;
    CHECK_STATUS(eta_hasher_new_seeded(d, m, 5 + m, &h), ETA_STATUS_OK);
    CHECK_STATUS(eta_hasher_new_seeded(d, other_m, 5, &h2), ETA_STATUS_OK);
    float *emb = (float *)raw_new((L + B) * d * sizeof(float));
    uint64_t rng = 31 + m;
    for (size_t i = 0; i < (L + B) * d; i++) emb[i] = ref_random_float(&rng);

    /* The raw path, for comparison. */
    const size_t S = 64;
    void *qraw = zero_new(B * lanes * lb), *hraw = zero_new(lanes * S * lb);
    CHECK_STATUS(eta_encode(h, emb + L * d, B, qraw), ETA_STATUS_OK);
    CHECK_STATUS(eta_encode_history(h, emb, L, hraw, S), ETA_STATUS_OK);
    uint32_t iw[21], ig[21], fw = 0, fg = 0;
    uint16_t dw[21], dg[21];
    uint16_t *xw = (uint16_t *)zero_new(B * L * 2), *xg = (uint16_t *)zero_new(B * L * 2);
    CHECK_STATUS(eta_topk_shared(qraw, B, hraw, L, S, m, K, iw, dw, &fw), ETA_STATUS_OK);
    CHECK_STATUS(eta_distances_shared(qraw, B, hraw, L, S, m, xw), ETA_STATUS_OK);

    /* Owned handles. */
    eta_fingerprints *q = NULL;
    eta_history *hist = NULL;
    CHECK_STATUS(eta_fingerprints_new(m, B + 2, &q), ETA_STATUS_OK);
    CHECK_STATUS(eta_history_new(m, cap, &hist), ETA_STATUS_OK);
    CHECK(eta_fingerprints_len(q) == 0 && eta_fingerprints_bits(q) == m);
    CHECK(eta_history_len(hist) == 0 && eta_history_bits(hist) == m && eta_history_stride(hist) == 64);
    CHECK(eta_fingerprints_data(q) != NULL && eta_history_data(hist) != NULL);
    CHECK_STATUS(eta_fingerprints_encode(q, h, emb + L * d, B), ETA_STATUS_OK);
    CHECK_STATUS(eta_history_encode(hist, h, emb, L), ETA_STATUS_OK);
    CHECK(eta_fingerprints_len(q) == B && eta_history_len(hist) == L);
    CHECK_SAME_BYTES(eta_fingerprints_data(q), qraw, B * lanes * lb, "eta_fingerprints_encode");
    check_same_rows(eta_history_data(hist), hraw, m, L, S, "eta_history_encode");
    for (size_t t = 0; t < 3; t++) {
        memset(ig, 0xA5, sizeof ig), memset(dg, 0xA5, sizeof dg);
        CHECK_STATUS(eta_topk_history(q, hist, K, ig, dg, &fg, t), ETA_STATUS_OK);
        CHECK_SAME_BYTES(ig, iw, B * K * 4, "eta_topk_history indices");
        CHECK_SAME_BYTES(dg, dw, B * K * 2, "eta_topk_history distances");
        CHECK(fg == fw && fg == K);
    }
    CHECK_STATUS(eta_distances_history(q, hist, xg), ETA_STATUS_OK);
    CHECK_SAME_BYTES(xg, xw, B * L * 2, "eta_distances_history");

    /* A borrowed history: the caller's buffer, its shape recorded. */
    eta_history *wrapped = NULL;
    CHECK_STATUS(eta_history_wrap(hraw, m, L, L, S, &wrapped), ETA_STATUS_OK);
    CHECK(eta_history_data(wrapped) == hraw && eta_history_len(wrapped) == L);
    CHECK(eta_history_stride(wrapped) == S && eta_history_bits(wrapped) == m);
    CHECK_STATUS(eta_topk_history(q, wrapped, K, ig, dg, NULL, 1), ETA_STATUS_OK);
    CHECK_SAME_BYTES(ig, iw, B * K * 4, "eta_topk_history over a wrapped history");
    /* Writing through it writes the caller's buffer (the same bytes again here). */
    CHECK_STATUS(eta_history_encode(wrapped, h, emb, 20), ETA_STATUS_OK);
    CHECK(eta_history_len(wrapped) == 20);
    check_same_rows(hraw, eta_history_data(hist), m, 20, S, "eta_history_encode into a wrapped history");

    /* Mixed widths: a status, nothing written, handles unchanged. */
    eta_history *h_other = NULL;
    eta_fingerprints *q_other = NULL;
    CHECK_STATUS(eta_history_new(other_m, cap, &h_other), ETA_STATUS_OK);
    CHECK_STATUS(eta_fingerprints_new(other_m, B, &q_other), ETA_STATUS_OK);
    memset(ig, 0xA5, sizeof ig), memset(dg, 0xA5, sizeof dg), memset(xg, 0xA5, B * L * 2);
    fg = 12345;
    CHECK_STATUS(eta_topk_history(q, h_other, K, ig, dg, &fg, 1), ETA_STATUS_INVALID_BITS);
    CHECK_STATUS(eta_topk_history(q_other, hist, K, ig, dg, &fg, 1), ETA_STATUS_INVALID_BITS);
    CHECK_STATUS(eta_distances_history(q_other, hist, xg), ETA_STATUS_INVALID_BITS);
    CHECK_STATUS(eta_history_encode(hist, h2, emb, 1), ETA_STATUS_INVALID_BITS);
    CHECK_STATUS(eta_fingerprints_encode(q, h2, emb, 1), ETA_STATUS_INVALID_BITS);
    CHECK(fg == 12345 && ig[0] == 0xA5A5A5A5u && dg[0] == 0xA5A5u && xg[0] == 0xA5A5u);
    CHECK(eta_history_len(hist) == L && eta_fingerprints_len(q) == B);

    /* Other bad input: the status, nothing written. */
    CHECK_STATUS(eta_history_encode(hist, h, emb, cap + 1), ETA_STATUS_LEN_EXCEEDS_CAPACITY);
    CHECK_STATUS(eta_fingerprints_encode(q, h, emb, B + 3), ETA_STATUS_LEN_EXCEEDS_CAPACITY);
    CHECK_STATUS(eta_topk_history(q, hist, 0, ig, dg, &fg, 1), ETA_STATUS_INVALID_K);
    CHECK_STATUS(eta_topk_history(q, hist, K, NULL, dg, &fg, 1), ETA_STATUS_NULL_POINTER);
    CHECK_STATUS(eta_topk_history(q, hist, K, ig, (uint16_t *)(void *)ig, &fg, 1), ETA_STATUS_OVERLAP);
    CHECK_STATUS(eta_topk_history(q, hist, K, ig, dg, (uint32_t *)(void *)((unsigned char *)ig + 1), 1),
                 ETA_STATUS_MISALIGNED);
    CHECK_STATUS(eta_topk_history(NULL, hist, K, ig, dg, &fg, 1), ETA_STATUS_NULL_POINTER);
    CHECK_STATUS(eta_topk_history(q, NULL, K, ig, dg, &fg, 1), ETA_STATUS_NULL_POINTER);
    CHECK_STATUS(eta_distances_history(q, NULL, xg), ETA_STATUS_NULL_POINTER);
    CHECK_STATUS(eta_distances_history(q, hist, NULL), ETA_STATUS_NULL_POINTER);
    CHECK_STATUS(eta_history_encode(NULL, h, emb, 1), ETA_STATUS_NULL_POINTER);
    CHECK_STATUS(eta_history_encode(hist, NULL, emb, 1), ETA_STATUS_NULL_POINTER);
    CHECK_STATUS(eta_history_encode(hist, h, NULL, 1), ETA_STATUS_NULL_POINTER);
    CHECK_STATUS(eta_fingerprints_encode(NULL, h, emb, 1), ETA_STATUS_NULL_POINTER);
    CHECK_STATUS(eta_fingerprints_encode(q, NULL, emb, 1), ETA_STATUS_NULL_POINTER);
    /* emb over the handle's own buffer is an overlap. */
    CHECK_STATUS(eta_fingerprints_encode(q, h, (const float *)eta_fingerprints_data(q), 1),
                 ETA_STATUS_OVERLAP);
    CHECK(fg == 12345 && ig[0] == 0xA5A5A5A5u && dg[0] == 0xA5A5u && xg[0] == 0xA5A5u);
    CHECK(eta_history_len(hist) == L && eta_fingerprints_len(q) == B);
    CHECK_SAME_BYTES(eta_fingerprints_data(q), qraw, B * lanes * lb, "handle after refused calls");

    eta_history *none = (eta_history *)(void *)&rng; /* must stay as it is */
    eta_fingerprints *fnone = (eta_fingerprints *)(void *)&rng;
    CHECK_STATUS(eta_history_new(0, cap, &none), ETA_STATUS_INVALID_BITS);
    CHECK_STATUS(eta_history_new(4097, cap, &none), ETA_STATUS_INVALID_BITS);
    CHECK_STATUS(eta_history_new(m, (size_t)ETA_MAX_HISTORY_LEN + 1, &none), ETA_STATUS_HISTORY_TOO_LONG);
    CHECK_STATUS(eta_history_new(m, cap, NULL), ETA_STATUS_NULL_POINTER);
    CHECK_STATUS(eta_fingerprints_new(0, 1, &fnone), ETA_STATUS_INVALID_BITS);
    CHECK_STATUS(eta_fingerprints_new(m, SIZE_MAX, &fnone), ETA_STATUS_SIZE_OVERFLOW);
    CHECK_STATUS(eta_fingerprints_new(m, 1, NULL), ETA_STATUS_NULL_POINTER);
    CHECK_STATUS(eta_history_wrap(hraw, m, L, L, L - 1, &none), ETA_STATUS_STRIDE_TOO_SMALL);
    CHECK_STATUS(eta_history_wrap(hraw, m, L + 1, L, S, &none), ETA_STATUS_LEN_EXCEEDS_CAPACITY);
    CHECK_STATUS(eta_history_wrap(NULL, m, 0, L, S, &none), ETA_STATUS_NULL_POINTER);
    CHECK_STATUS(eta_history_wrap(hraw, 0, L, L, S, &none), ETA_STATUS_INVALID_BITS);
    CHECK_STATUS(eta_history_wrap(hraw, m, L, L, S, NULL), ETA_STATUS_NULL_POINTER);
    if (lb > 1)
        CHECK_STATUS(eta_history_wrap((unsigned char *)hraw + 1, m, L, L, S, &none), ETA_STATUS_MISALIGNED);
    CHECK(none == (eta_history *)(void *)&rng && fnone == (eta_fingerprints *)(void *)&rng);

    /* Accessors on NULL; free(NULL) is a no-op. */
    CHECK(eta_history_len(NULL) == 0 && eta_history_bits(NULL) == 0 && eta_history_stride(NULL) == 0);
    CHECK(eta_history_data(NULL) == NULL && eta_fingerprints_data(NULL) == NULL);
    CHECK(eta_fingerprints_len(NULL) == 0 && eta_fingerprints_bits(NULL) == 0);
    eta_history_free(NULL);
    eta_fingerprints_free(NULL);

    /* Empty handles scan to sentinels. */
    eta_history *empty = NULL;
    CHECK_STATUS(eta_history_new(m, 0, &empty), ETA_STATUS_OK);
    CHECK_STATUS(eta_topk_history(q, empty, K, ig, dg, &fg, 1), ETA_STATUS_OK);
    CHECK(fg == 0 && ig[0] == ETA_EMPTY_INDEX && dg[0] == ETA_EMPTY_DISTANCE);
    eta_history_free(empty);

    eta_history_free(wrapped); /* the buffer stays the caller's: freed below, by free() */
    eta_history_free(h_other);
    eta_fingerprints_free(q_other);
    eta_history_free(hist);
    eta_fingerprints_free(q);
    free(qraw), free(hraw), free(xw), free(xg), free(emb);
    eta_hasher_free(h);
    eta_hasher_free(h2);
}

static const size_t g_widths[] = {1, 8, 16, 17, 32, 33, 64, 65, 128, 4096};
#define N_WIDTHS (sizeof g_widths / sizeof g_widths[0])

static void run_under_current_isa(uint64_t seed) {
    check_fp_traps();
    check_half_precision();
    for (size_t i = 0; i < N_WIDTHS; i++) check_width(g_widths[i], seed + i);
    for (size_t i = 0; i < N_WIDTHS; i++) check_errors(g_widths[i]);
}

static void run_suite(const char *program) {
    check_meta();
    check_isa_api();
    uint32_t initial = (uint32_t)eta_isa_current();
    char ran[64] = {0};
    for (uint32_t isa = 0; isa < N_ISAS; isa++) {
        if (!eta_isa_is_available(isa)) continue;
        CHECK_STATUS(eta_isa_force(isa), ETA_STATUS_OK);
        CHECK((uint32_t)eta_isa_current() == isa);
        run_under_current_isa(42);
        /* Forcing an unavailable or unknown ISA in the middle changes nothing. */
        for (uint32_t other = 0; other < N_ISAS; other++)
            if (!eta_isa_is_available(other)) CHECK_STATUS(eta_isa_force(other), ETA_STATUS_ISA_UNAVAILABLE);
        CHECK_STATUS(eta_isa_force(N_ISAS), ETA_STATUS_UNKNOWN_ISA);
        CHECK((uint32_t)eta_isa_current() == isa);
        strcat(ran, " ");
        strcat(ran, g_isa_names[isa]);
    }
    /* After every ISA's fork-based checks: the multi-threaded calls here start the worker pool,
     * whose threads a forked child would not have (valgrind then reports their handles lost). */
    for (uint32_t isa = 0; isa < N_ISAS; isa++) {
        if (!eta_isa_is_available(isa)) continue;
        CHECK_STATUS(eta_isa_force(isa), ETA_STATUS_OK);
        for (size_t i = 0; i < N_WIDTHS; i++) check_uninit_outputs(g_widths[i]);
        for (size_t i = 0; i < N_WIDTHS; i++) check_handles(g_widths[i]);
    }
    check_multithreaded();
    eta_isa_reset();
    CHECK((uint32_t)eta_isa_current() == initial);
    printf("%s: eta-hamming %s: %lu checks passed under ISAs:%s (initial %s)\n", program, eta_version(),
           g_checks, ran, g_isa_names[initial]);
    fflush(stdout);
}

#endif /* ETA_SUITE_H */
