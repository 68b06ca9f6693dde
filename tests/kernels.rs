//! The one harness every kernel runs: each available instruction set, through an explicit
//! `Engine`, against the naive reference of the contract, on random data, adversarial patterns
//! and the edge shapes (L = 0, 1, vector widths +- 1, K > L, every lane width, odd strides).

mod common;

use common::*;
use eta_hamming::kernel_boundaries::{
    DENSE_GATHER_ITEMS, GROUP, PREFIX_ITEMS, RANK_SORT_MAX, SMALL_M_MAX_ITEMS, TILE_BYTES,
    U8_MAX_DISTANCE,
};
use eta_hamming::{
    Engine, FingerprintsRef, HistoryBatchRef, HistoryRef, Lane, LaneType, Layout, EMPTY_DISTANCE,
    MAX_BITS,
};
use rand::RngExt;

const BITS: [usize; 20] = [
    1, 4, 5, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 200, 256, 512,
];
const LENS: [usize; 22] = [
    0, 1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33, 63, 64, 65, 127, 128, 129, 255, 257, 1000,
];

struct Case {
    layout: Layout,
    queries: Vec<Vec<u64>>,
    items: Vec<Vec<u64>>,
    stride: usize,
    k: usize,
}

fn make_case(
    seed: u64,
    m: usize,
    b: usize,
    len: usize,
    extra_stride: usize,
    k: usize,
    pattern: Pattern,
) -> Case {
    let mut r = rng(seed);
    let layout = Layout::new(m).unwrap();
    let mut queries: Vec<Vec<u64>> = (0..b).map(|_| random_fp(&mut r, layout)).collect();
    let items = history_fps(&mut r, layout, &queries[0], len, pattern);
    // Some queries equal to history items: distance-0 hits.
    if len > 0 && b > 1 {
        queries[1] = items[r.random_range(0..len)].clone();
    }
    Case {
        layout,
        queries,
        items,
        stride: len + extra_stride,
        k,
    }
}

fn check_shared<T: Lane>(case: &Case, engines: &[Engine], what: &str) {
    let (m, lanes, b) = (case.layout.bits(), case.layout.lanes(), case.queries.len());
    let q: Vec<T> = narrow(&flatten(&case.queries));
    let h: Vec<T> = narrow(&soa(&case.items, lanes, case.stride, u64::MAX));
    let qv = FingerprintsRef::new(m, b, &q).unwrap();
    let hv = HistoryRef::new(m, case.items.len(), case.stride, &h).unwrap();
    let k = case.k;
    let mut want_idx = Vec::new();
    let mut want_dist = Vec::new();
    for qf in &case.queries {
        let (i, d, _) = naive_topk(qf, &case.items, k);
        want_idx.extend(i);
        want_dist.extend(d);
    }
    let want_all: Vec<u16> = case
        .queries
        .iter()
        .flat_map(|qf| case.items.iter().map(|it| hamming(qf, it) as u16))
        .collect();
    for e in engines {
        let mut idx = vec![7u32; b * k];
        let mut dist = vec![7u16; b * k];
        let filled = e.topk_shared(qv, hv, k, &mut idx, &mut dist).unwrap();
        assert_eq!(filled, k.min(case.items.len()), "{what} {e:?}");
        assert_eq!(idx, want_idx, "indices: {what} {e:?}");
        assert_eq!(dist, want_dist, "distances: {what} {e:?}");
        let mut all = vec![7u16; b * case.items.len()];
        e.distances_shared(qv, hv, &mut all).unwrap();
        assert_eq!(all, want_all, "distance matrix: {what} {e:?}");
    }
}

fn check_batch<T: Lane>(case: &Case, lens: &[u32], engines: &[Engine], what: &str) {
    // History b is `case.items` rotated by b, truncated to lens[b].
    let (m, lanes, b) = (case.layout.bits(), case.layout.lanes(), case.queries.len());
    let cap = case.items.len();
    let stride = case.stride;
    let hist_items: Vec<Vec<Vec<u64>>> = (0..b)
        .map(|j| {
            let mut v = case.items.clone();
            if cap > 0 {
                v.rotate_left(j % cap);
            }
            v.truncate(lens[j] as usize);
            v
        })
        .collect();
    let mut h64 = Vec::new();
    for items in &hist_items {
        h64.extend(soa(items, lanes, stride, u64::MAX));
    }
    let q: Vec<T> = narrow(&flatten(&case.queries));
    let h: Vec<T> = narrow(&h64);
    let qv = FingerprintsRef::new(m, b, &q).unwrap();
    let hv = HistoryBatchRef::new(m, cap, stride, lens, &h).unwrap();
    let k = case.k;
    let (mut want_idx, mut want_dist, mut want_filled, mut want_all) =
        (vec![], vec![], vec![], vec![]);
    for (qf, items) in case.queries.iter().zip(&hist_items) {
        let (i, d, f) = naive_topk(qf, items, k);
        want_idx.extend(i);
        want_dist.extend(d);
        want_filled.push(f as u32);
        let mut row: Vec<u16> = items.iter().map(|it| hamming(qf, it) as u16).collect();
        row.resize(cap, EMPTY_DISTANCE);
        want_all.extend(row);
    }
    for e in engines {
        let mut idx = vec![7u32; b * k];
        let mut dist = vec![7u16; b * k];
        let mut filled = vec![7u32; b];
        e.topk_batch(qv, hv, k, &mut idx, &mut dist, &mut filled)
            .unwrap();
        assert_eq!(filled, want_filled, "{what} {e:?}");
        assert_eq!(idx, want_idx, "indices: {what} {e:?}");
        assert_eq!(dist, want_dist, "distances: {what} {e:?}");
        let mut all = vec![7u16; b * cap];
        e.distances_batch(qv, hv, &mut all).unwrap();
        assert_eq!(all, want_all, "distance matrix: {what} {e:?}");
    }
}

fn run_case(case: &Case, lens: &[u32], engines: &[Engine], what: &str) {
    match case.layout.lane_type() {
        LaneType::U8 => {
            check_shared::<u8>(case, engines, what);
            check_batch::<u8>(case, lens, engines, what);
        }
        LaneType::U16 => {
            check_shared::<u16>(case, engines, what);
            check_batch::<u16>(case, lens, engines, what);
        }
        LaneType::U32 => {
            check_shared::<u32>(case, engines, what);
            check_batch::<u32>(case, lens, engines, what);
        }
        LaneType::U64 => {
            check_shared::<u64>(case, engines, what);
            check_batch::<u64>(case, lens, engines, what);
        }
    }
}

fn lens_for(seed: u64, b: usize, cap: usize) -> Vec<u32> {
    let mut r = rng(seed ^ 0xABCD);
    (0..b)
        .map(|j| match j % 4 {
            0 => cap as u32,
            1 => 0,
            _ => r.random_range(0..=cap) as u32,
        })
        .collect()
}

#[test]
fn every_width_and_edge_length_matches_the_reference() {
    let engines = engines();
    let mut seed = 1;
    for &m in &BITS {
        for &len in &LENS {
            for &k in &[1usize, 3, 32, len, len + 1] {
                if k == 0 {
                    continue;
                }
                seed += 1;
                let extra = [0usize, 1, 13][seed as usize % 3];
                let case = make_case(seed, m, 5, len, extra, k, Pattern::Random);
                let lens = lens_for(seed, 5, len);
                run_case(
                    &case,
                    &lens,
                    &engines,
                    &format!("m={m} L={len} K={k} stride=L+{extra}"),
                );
            }
        }
    }
}

#[test]
fn adversarial_patterns_match_the_reference() {
    let engines = engines();
    let mut seed = 1000;
    for pattern in PATTERNS {
        for &m in &[8usize, 16, 32, 64, 128, 256] {
            for &len in &[1usize, 31, 64, 200, 1025] {
                for &k in &[1usize, 16, 128, len] {
                    seed += 1;
                    let case = make_case(seed, m, 4, len, 3, k, pattern);
                    let lens = lens_for(seed, 4, len);
                    run_case(
                        &case,
                        &lens,
                        &engines,
                        &format!("{pattern:?} m={m} L={len} K={k}"),
                    );
                }
            }
        }
    }
}

#[test]
fn random_shapes_match_the_reference() {
    let engines = engines();
    let mut r = rng(77);
    for seed in 0..300u64 {
        let m = r.random_range(1..=600);
        let b = r.random_range(1..=9);
        let len = r.random_range(0..=700);
        let k = r.random_range(1..=len + 40);
        let extra = r.random_range(0..=70);
        let pattern = PATTERNS[r.random_range(0..PATTERNS.len())];
        let case = make_case(seed, m, b, len, extra, k, pattern);
        let lens = lens_for(seed, b, len);
        run_case(
            &case,
            &lens,
            &engines,
            &format!("{pattern:?} m={m} B={b} L={len} K={k} stride=L+{extra}"),
        );
    }
}

#[test]
fn widest_fingerprints_match_the_reference() {
    let engines = engines();
    for (seed, &len) in [0usize, 1, 17, 300].iter().enumerate() {
        let case = make_case(seed as u64, 4096, 3, len, 5, 10, Pattern::Random);
        let lens = lens_for(seed as u64, 3, len);
        run_case(&case, &lens, &engines, &format!("m=4096 L={len}"));
    }
}

/// Items in one history tile of `m`-bit fingerprints (`u64` lanes).
fn tile_items(m: usize) -> usize {
    TILE_BYTES / (m.div_ceil(64) * 8)
}

/// The internal boundaries of the SIMD kernels (`eta_hamming::kernel_boundaries`): query blocks
/// (4 on AVX2/NEON, 8 on AVX-512) and their remainders, the group of queries sharing history
/// tiles, tile edges, the two-pass limit and pre-pass prefix (`PREFIX_ITEMS`, or 4 tiles of
/// history) +- 1, K larger than any internal buffer, and ties spread across tile edges.
#[test]
fn block_tile_and_prefix_boundaries_match_the_reference() {
    let engines = engines();
    let mut seed = 5000;
    let (p, t256, tmax) = (PREFIX_ITEMS, tile_items(256), tile_items(MAX_BITS));
    let shapes: &[(usize, usize, usize, usize, Pattern)] = &[
        // (m, B, L, K, pattern)
        (64, 9, 2047, 32, Pattern::Random),
        (64, 9, 2048, 32, Pattern::Random),
        (64, 9, 2049, 32, Pattern::Descending),
        (64, 17, 2049, 2048, Pattern::Random),
        (64, 1, 2048, 2049, Pattern::Random),
        (64, 5, 5000, 1000, Pattern::Random),
        (64, 3, 5000, 1000, Pattern::FewValues),
        (64, 9, p - 1, 32, Pattern::Random),
        (64, 9, p + 1, 32, Pattern::FewValues),
        (64, GROUP + 1, p + 1, 7, Pattern::Random),
        (64, 4, p + 1, 3, Pattern::AllEqual),
        (64, 4, p + p / 4, 5000, Pattern::Ascending),
        (256, 9, t256 - 1, 16, Pattern::Random),
        (256, 9, t256 + 1, 16, Pattern::AllEqual),
        (256, 3, 2 * t256 + 1, 100, Pattern::Descending),
        (MAX_BITS, 9, tmax - 1, 5, Pattern::Random),
        (MAX_BITS, 9, tmax + 1, 600, Pattern::FewValues),
        (MAX_BITS, 2, 2 * tmax + 1, 1, Pattern::Random),
        (8, GROUP + 1, 3000, 40, Pattern::Random),
        (8, 9, p + 1, 40, Pattern::FewValues),
        (128, 3, p + 1, 64, Pattern::Random),
        (MAX_BITS, 2, 4 * tmax + 1, 9, Pattern::Descending),
        (16, 9, DENSE_GATHER_ITEMS + 1, 1, Pattern::Random),
        (32, 9, DENSE_GATHER_ITEMS + 1, 2000, Pattern::FewValues),
    ];
    for &(m, b, len, k, pattern) in shapes {
        seed += 1;
        let case = make_case(seed, m, b, len, 1, k, pattern);
        let lens = lens_for(seed, b, len);
        run_case(
            &case,
            &lens,
            &engines,
            &format!("{pattern:?} m={m} B={b} L={len} K={k}"),
        );
    }
}

/// Every query block size and remainder, for each lane width, on a short history.
#[test]
fn every_query_count_matches_the_reference() {
    let engines = engines();
    for (i, &m) in [6usize, 12, 24, 64, 128, 192, 300].iter().enumerate() {
        for b in 1..=18 {
            let seed = 9000 + (i * 100 + b) as u64;
            let case = make_case(seed, m, b, 300, 0, 10, Pattern::Random);
            let lens = lens_for(seed, b, 300);
            run_case(&case, &lens, &engines, &format!("m={m} B={b}"));
        }
    }
}

/// The byte distance buffer of the two-pass path (AVX-512 `u64` lanes, AVX2 `u64` and `u32`
/// lanes, when no distance exceeds `U8_MAX_DISTANCE`: m <= 192 in `u64` lanes, every m of
/// `u32` lanes, 17..=32) and its neighbours in `u16`: widths on both sides
/// of the switch, 64-item block tails (partial steps of 8 items), distance 0 and the largest
/// distance, ties that run out inside a block, K at the buffer edges (1, 64, L - 1, L) and on
/// both sides of the ranking limit, and rows on both sides of the switch between the two ways
/// of gathering keys (`DENSE_GATHER_ITEMS`).
#[test]
fn byte_distance_buffer_boundaries_match_the_reference() {
    let engines = engines();
    let mut seed = 12000;
    // The widest fingerprint whose distances fit a byte: whole `u64` lanes up to the limit.
    let m8 = U8_MAX_DISTANCE / 64 * 64;
    let dense = DENSE_GATHER_ITEMS;
    for &m in &[17usize, 32, 64, 65, m8 - 1, m8, m8 + 1, 254, 255, 256, 257] {
        for &len in &[57usize, 63, 64, 65, 127, 129, 1024, 1025, dense, dense + 1] {
            for &k in &[1usize, 32, RANK_SORT_MAX, RANK_SORT_MAX + 1, len - 1, len] {
                for pattern in [
                    Pattern::Random,
                    Pattern::AllEqual,
                    Pattern::FewValues,
                    Pattern::Descending,
                ] {
                    if k == 0 || k > len {
                        continue;
                    }
                    seed += 1;
                    let case = make_case(seed, m, 10, len, seed as usize % 3, k, pattern);
                    let lens = lens_for(seed, 10, len);
                    run_case(
                        &case,
                        &lens,
                        &engines,
                        &format!("{pattern:?} m={m} L={len} K={k}"),
                    );
                }
            }
        }
    }
}

/// The small-m path (`m <= 8`: the distance histogram decides the top-K) and its neighbours:
/// widths on both sides of its `u8`-lane limit (8/9) and of the `u16` one (16/17), heavy ties
/// (few values, all equal, and the natural ties of `m + 1` distance values), lengths around
/// the vector width and the 64-item mask blocks, the path's length limit, K of 1, 32, 50, L and
/// beyond L, and enough queries (B = 19) for several query blocks, their remainders and the
/// threshold guess that one block hands the next (a query whose `K`-th distance exceeds it).
#[test]
fn small_m_histogram_path_matches_the_reference() {
    let engines = engines();
    let mut seed = 20000;
    for &m in &[1usize, 2, 4, 7, 8, 9, 16, 17] {
        for &len in &[
            1usize, 31, 63, 64, 65, 127, 128, 129, 1000, 1024, 1025, 4097,
        ] {
            for &k in &[1usize, 2, 32, 50, len - 1, len, len + 1, len + 64] {
                if k == 0 {
                    continue;
                }
                let pattern = [
                    Pattern::Random,
                    Pattern::FewValues,
                    Pattern::AllEqual,
                    Pattern::Ascending,
                    Pattern::Descending,
                ][seed as usize % 5];
                seed += 1;
                let case = make_case(seed, m, 19, len, seed as usize % 3, k, pattern);
                let lens = lens_for(seed, 19, len);
                run_case(
                    &case,
                    &lens,
                    &engines,
                    &format!("{pattern:?} m={m} L={len} K={k}"),
                );
            }
        }
    }
    // The length limit of the path (the general paths beyond), and a K that needs the largest
    // distance as its K-th.
    let lim = SMALL_M_MAX_ITEMS;
    for &(m, b, len, k, pattern) in &[
        (4usize, 9usize, lim, 32usize, Pattern::Random),
        (8, 9, lim + 1, 50, Pattern::Random),
        (4, 3, lim - 1, lim - 2, Pattern::FewValues),
        (8, 9, 300, 299, Pattern::Random),
        (3, 17, 2000, 1999, Pattern::Descending),
    ] {
        seed += 1;
        let case = make_case(seed, m, b, len, 1, k, pattern);
        let lens = lens_for(seed, b, len);
        run_case(
            &case,
            &lens,
            &engines,
            &format!("limit {pattern:?} m={m} B={b} L={len} K={k}"),
        );
    }
}
