/*
 * An independent C reference of the eta-hamming contract (docs/CONTRACT.md), written from the
 * contract alone, for the C ABI tests. Deliberately naive: popcount by a bit loop,
 * top-K by sorting every (distance, index) pair, SimHash by the fmaf chain of the contract.
 * Compiles as C11 and as C++17.
 */
#ifndef ETA_REFERENCE_H
#define ETA_REFERENCE_H

#include <assert.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* Bytes per lane: u8 for m <= 8, u16 for m <= 16, u32 for m <= 32, else u64; 0 if m is invalid. */
static inline size_t ref_lane_bytes(size_t m) {
    if (m == 0 || m > 4096) return 0;
    if (m <= 8) return 1;
    if (m <= 16) return 2;
    if (m <= 32) return 4;
    return 8;
}

/* Lanes per fingerprint: 1 for m <= 32, else ceil(m / 64); 0 if m is invalid. */
static inline size_t ref_lanes(size_t m) {
    if (m == 0 || m > 4096) return 0;
    return m <= 32 ? 1 : (m + 63) / 64;
}

static inline size_t ref_lane_bits(size_t m) { return 8 * ref_lane_bytes(m); }

/* Stores v (already within the lane's bits) as lane i of a buffer of m's lane type. */
static inline void ref_set(void *buf, size_t m, size_t i, uint64_t v) {
    switch (ref_lane_bytes(m)) {
    case 1: ((uint8_t *)buf)[i] = (uint8_t)v; break;
    case 2: ((uint16_t *)buf)[i] = (uint16_t)v; break;
    case 4: ((uint32_t *)buf)[i] = (uint32_t)v; break;
    default: ((uint64_t *)buf)[i] = v; break;
    }
}

/* The bits of lane w that are below m. */
static inline uint64_t ref_lane_mask(size_t m, size_t w) {
    size_t lo = w * ref_lane_bits(m);
    if (lo >= m) return 0;
    if (m - lo >= 64) return UINT64_MAX;
    return (UINT64_C(1) << (m - lo)) - 1;
}

static inline unsigned ref_popcount(uint64_t x) {
    unsigned c = 0;
    while (x) {
        c += (unsigned)(x & 1u);
        x >>= 1;
    }
    return c;
}

/* Hamming distance of two fingerprints given as widened lanes (lanes each). */
static inline unsigned ref_distance(const uint64_t *a, const uint64_t *b, size_t lanes) {
    unsigned d = 0;
    for (size_t w = 0; w < lanes; w++) d += ref_popcount(a[w] ^ b[w]);
    return d;
}

/* SimHash of one embedding e (d floats) with projection P (d x m, row-major) into widened lanes:
 * bit j is 1 exactly when s_j > 0, s = +0.0; for k: s = fmaf(e[k], P[k][j], s). */
static inline void ref_simhash(const float *e, size_t d, const float *P, size_t m, uint64_t *fp) {
    size_t lanes = ref_lanes(m), lane_bits = ref_lane_bits(m);
    for (size_t w = 0; w < lanes; w++) fp[w] = 0;
    for (size_t j = 0; j < m; j++) {
        float s = +0.0f;
        for (size_t k = 0; k < d; k++) s = fmaf(e[k], P[k * m + j], s);
        if (s > 0.0f) fp[j / lane_bits] |= UINT64_C(1) << (j % lane_bits);
    }
}

typedef struct {
    unsigned dist;
    uint32_t idx;
} ref_pair;

static inline int ref_pair_cmp(const void *pa, const void *pb) {
    const ref_pair *a = (const ref_pair *)pa, *b = (const ref_pair *)pb;
    if (a->dist != b->dist) return a->dist < b->dist ? -1 : 1;
    if (a->idx != b->idx) return a->idx < b->idx ? -1 : 1;
    return 0;
}

/* Top-K of one query against the first `valid` items of a history given as widened
 * fingerprints (items[i * lanes + w]): the K smallest (distance, index) pairs, ascending;
 * empty slots get 0xFFFFFFFF / 0xFFFF. Returns the number of filled slots. */
static inline size_t ref_topk(const uint64_t *query, const uint64_t *items, size_t valid, size_t lanes,
                       size_t k, uint32_t *idx, uint16_t *dist) {
    ref_pair *pairs = (ref_pair *)malloc((valid ? valid : 1) * sizeof(ref_pair));
    assert(pairs);
    for (size_t i = 0; i < valid; i++) {
        pairs[i].dist = ref_distance(query, items + i * lanes, lanes);
        pairs[i].idx = (uint32_t)i;
    }
    qsort(pairs, valid, sizeof(ref_pair), ref_pair_cmp);
    size_t filled = valid < k ? valid : k;
    for (size_t j = 0; j < k; j++) {
        idx[j] = j < filled ? pairs[j].idx : UINT32_C(0xFFFFFFFF);
        dist[j] = j < filled ? (uint16_t)pairs[j].dist : (uint16_t)0xFFFF;
    }
    free(pairs);
    return filled;
}

/* SplitMix64, for test data. */
static inline uint64_t ref_rng_next(uint64_t *state) {
    uint64_t z = (*state += UINT64_C(0x9E3779B97F4A7C15));
    z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
    return z ^ (z >> 31);
}

/* A random well-formed fingerprint (padding bits zero), widened. */
static inline void ref_random_fp(uint64_t *state, size_t m, uint64_t *fp) {
    for (size_t w = 0; w < ref_lanes(m); w++) fp[w] = ref_rng_next(state) & ref_lane_mask(m, w);
}

/* A float in [-1, 1). */
static inline float ref_random_float(uint64_t *state) {
    return (float)((double)(ref_rng_next(state) >> 40) / (double)(UINT64_C(1) << 23) - 1.0);
}

#endif /* ETA_REFERENCE_H */
