//! The small-m path (one `u8` lane, `m <= 8`, and one `u16` lane, `m <= 16`: the distance
//! histogram decides the top-K), every available instruction set forced through its own
//! `Engine` (the scalar table, the reference kernels, among them) against the contract's
//! naive reference: every width 1..=17, lengths around the vector width, the 64-item mask
//! blocks and the path's length limit, `K` of 1, 32, 50 and beyond `L`, ties everywhere, one
//! query and many (several query blocks, their remainders, the threshold guess carried from
//! query to query and missed), shared and per-query with ragged lengths.

mod common;

use common::*;
use eta_hamming::kernel_boundaries::SMALL_M_MAX_ITEMS;
use eta_hamming::{
    Engine, FingerprintsRef, HistoryBatchRef, HistoryRef, Lane, LaneType, Layout, EMPTY_DISTANCE,
};
use rand::RngExt;

/// Queries and one history of `m`-bit fingerprints (`u64` per lane, one lane).
struct Case {
    m: usize,
    queries: Vec<Vec<u64>>,
    items: Vec<Vec<u64>>,
    stride: usize,
    k: usize,
}

/// Shared scan of every engine against the naive reference.
fn check_shared<T: Lane>(case: &Case, engines: &[Engine], what: &str) {
    let (m, b, len, k) = (case.m, case.queries.len(), case.items.len(), case.k);
    let q: Vec<T> = narrow(&flatten(&case.queries));
    // Padding items hold all ones: a kernel that reads past `len` would see them.
    let h: Vec<T> = narrow(&soa(&case.items, 1, case.stride, u64::MAX));
    let qv = FingerprintsRef::new(m, b, &q).unwrap();
    let hv = HistoryRef::new(m, len, case.stride, &h).unwrap();
    let (mut want_idx, mut want_dist) = (Vec::new(), Vec::new());
    for qf in &case.queries {
        let (i, d, _) = naive_topk(qf, &case.items, k);
        want_idx.extend(i);
        want_dist.extend(d);
    }
    for e in engines {
        let mut idx = vec![7u32; b * k];
        let mut dist = vec![7u16; b * k];
        let filled = e.topk_shared(qv, hv, k, &mut idx, &mut dist).unwrap();
        assert_eq!(filled, k.min(len), "filled: {what} {e:?}");
        assert_rows(
            &idx,
            &dist,
            &want_idx,
            &want_dist,
            k,
            &format!("{what} {e:?}"),
        );
    }
}

/// Every query's row of `K` indices and distances equals the reference's.
fn assert_rows(
    idx: &[u32],
    dist: &[u16],
    want_idx: &[u32],
    want_dist: &[u16],
    k: usize,
    what: &str,
) {
    for (j, r) in (0..idx.len().checked_div(k).unwrap_or(0)).map(|j| (j, j * k..(j + 1) * k)) {
        assert_eq!(idx[r.clone()], want_idx[r.clone()], "idx q{j}: {what}");
        assert_eq!(dist[r.clone()], want_dist[r], "dist q{j}: {what}");
    }
}

/// Per-query scan of every engine against the naive reference: history `j` is the case's
/// items rotated by `j`, cut to `lens[j]`.
fn check_batch<T: Lane>(case: &Case, lens: &[u32], engines: &[Engine], what: &str) {
    let (m, b, cap, k) = (case.m, case.queries.len(), case.items.len(), case.k);
    let hists: Vec<Vec<Vec<u64>>> = (0..b)
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
    for items in &hists {
        h64.extend(soa(items, 1, case.stride, u64::MAX));
    }
    let q: Vec<T> = narrow(&flatten(&case.queries));
    let h: Vec<T> = narrow(&h64);
    let qv = FingerprintsRef::new(m, b, &q).unwrap();
    let hv = HistoryBatchRef::new(m, cap, case.stride, lens, &h).unwrap();
    let (mut want_idx, mut want_dist, mut want_filled) = (vec![], vec![], vec![]);
    for (qf, items) in case.queries.iter().zip(&hists) {
        let (i, d, f) = naive_topk(qf, items, k);
        want_idx.extend(i);
        want_dist.extend(d);
        want_filled.push(f as u32);
    }
    for e in engines {
        let mut idx = vec![7u32; b * k];
        let mut dist = vec![7u16; b * k];
        let mut filled = vec![7u32; b];
        e.topk_batch(qv, hv, k, &mut idx, &mut dist, &mut filled)
            .unwrap();
        assert_eq!(filled, want_filled, "filled: {what} {e:?}");
        assert_rows(
            &idx,
            &dist,
            &want_idx,
            &want_dist,
            k,
            &format!("{what} {e:?}"),
        );
    }
}

fn run(case: &Case, lens: &[u32], engines: &[Engine], what: &str) {
    match Layout::new(case.m).unwrap().lane_type() {
        LaneType::U8 => {
            check_shared::<u8>(case, engines, what);
            check_batch::<u8>(case, lens, engines, what);
        }
        LaneType::U16 => {
            check_shared::<u16>(case, engines, what);
            check_batch::<u16>(case, lens, engines, what);
        }
        // `m = 17`: the general paths beside the limit.
        LaneType::U32 => {
            check_shared::<u32>(case, engines, what);
            check_batch::<u32>(case, lens, engines, what);
        }
        t => panic!("not a small width: {t:?}"),
    }
}

fn make_case(seed: u64, m: usize, b: usize, len: usize, k: usize, pattern: Pattern) -> Case {
    let mut r = rng(seed);
    let layout = Layout::new(m).unwrap();
    let mut queries: Vec<Vec<u64>> = (0..b).map(|_| random_fp(&mut r, layout)).collect();
    let items = history_fps(&mut r, layout, &queries[0], len, pattern);
    // Some queries equal to history items: distance-0 hits.
    for j in (1..b).step_by(3) {
        if len > 0 {
            queries[j] = items[r.random_range(0..len)].clone();
        }
    }
    Case {
        m,
        queries,
        items,
        stride: len + (seed as usize % 3) * 7,
        k,
    }
}

/// Full lengths, empty ones and random ones in between (a ragged batch).
fn ragged(seed: u64, b: usize, cap: usize) -> Vec<u32> {
    let mut r = rng(seed ^ 0x5EED);
    (0..b)
        .map(|j| match j % 4 {
            0 => cap as u32,
            1 if b > 1 => 0,
            _ => r.random_range(0..=cap) as u32,
        })
        .collect()
}

/// Every small width, edge lengths, `K` of 1, 32, 50, `L` and beyond; one query and 19 (four
/// query blocks of 4 and a remainder); every pattern (ties everywhere among them).
#[test]
fn every_small_width_and_edge_length_matches_the_reference() {
    let engines = engines();
    let mut seed = 1;
    for m in 1..=17 {
        for &len in &[0usize, 1, 31, 32, 33, 63, 64, 65, 127, 129, 1024] {
            for &k in &[1usize, 32, 50, len + 1] {
                for &b in &[1usize, 19] {
                    let pattern = PATTERNS[seed as usize % PATTERNS.len()];
                    seed += 1;
                    let case = make_case(seed, m, b, len, k, pattern);
                    let lens = ragged(seed, b, len);
                    run(
                        &case,
                        &lens,
                        &engines,
                        &format!("{pattern:?} m={m} B={b} L={len} K={k}"),
                    );
                }
            }
        }
    }
}

/// The benchmark's shape (B = 256, L = 1024, K 32 and 50) at m = 1, 4, 8, 9, 16: many query
/// blocks, the guess settling, and per-query lengths varying.
#[test]
fn many_queries_match_the_reference() {
    let engines = engines();
    let mut seed = 500;
    for &m in &[1usize, 4, 8, 9, 16] {
        for &k in &[32usize, 50] {
            for pattern in [Pattern::Random, Pattern::FewValues] {
                seed += 1;
                let case = make_case(seed, m, 256, 1024, k, pattern);
                let lens = ragged(seed, 256, 1024);
                run(
                    &case,
                    &lens,
                    &engines,
                    &format!("{pattern:?} m={m} B=256 K={k}"),
                );
            }
        }
    }
}

/// The path's length limit and the general paths beyond it: L = 32767, 32768, 32769.
#[test]
fn the_length_limit_matches_the_reference() {
    let engines = engines();
    let lim = SMALL_M_MAX_ITEMS;
    let mut seed = 900;
    for &m in &[3usize, 8, 16] {
        for len in [lim - 1, lim, lim + 1] {
            for &k in &[1usize, 50] {
                seed += 1;
                let case = make_case(seed, m, 5, len, k, Pattern::Random);
                let lens = ragged(seed, 5, len);
                run(
                    &case,
                    &lens,
                    &engines,
                    &format!("limit m={m} L={len} K={k}"),
                );
            }
        }
    }
    // A `K` that needs the largest distance as its `K`-th, over many blocks.
    seed += 1;
    let case = make_case(seed, 8, 3, lim, lim - 1, Pattern::Descending);
    run(
        &case,
        &[lim as u32, 1000, lim as u32 - 5],
        &engines,
        "limit K=L-1",
    );
}

/// The threshold guess missed in every way: a history where each query's distances are all
/// one value that jumps from query to query (0, m, 1, m - 1, ...: the `K`-th distance goes
/// from one end of `0..=m` to the other), so the guess from the queries before is too low,
/// too high and right in turn; every item at the `K`-th distance is a tie.
#[test]
fn jumping_kth_distances_match_the_reference() {
    let engines = engines();
    for &m in &[2usize, 4, 7, 8, 9, 13, 16] {
        let layout = Layout::new(m).unwrap();
        let mut r = rng(m as u64);
        let anchor = random_fp(&mut r, layout);
        for &len in &[65usize, 700] {
            // Two values only: `anchor`, and far from it; the queries at distance `e` from
            // the anchor see every item at `e` or at the far distance.
            let far = flip_bits(&mut r, layout, &anchor, m);
            let items: Vec<Vec<u64>> = (0..len)
                .map(|i| {
                    if i % 5 == 4 {
                        far.clone()
                    } else {
                        anchor.clone()
                    }
                })
                .collect();
            let order: Vec<usize> = (0..=m)
                .flat_map(|e| [e / 2, m - e / 2])
                .chain([0, 0, 0, m, m, 1])
                .collect();
            let queries: Vec<Vec<u64>> = order
                .iter()
                .map(|&e| flip_bits(&mut r, layout, &anchor, e))
                .collect();
            let b = queries.len();
            for &k in &[1usize, 20, len - 1] {
                let case = Case {
                    m,
                    queries: queries.clone(),
                    items: items.clone(),
                    stride: len,
                    k,
                };
                let lens: Vec<u32> = (0..b).map(|j| (len - j % 3) as u32).collect();
                run(
                    &case,
                    &lens,
                    &engines,
                    &format!("jumping m={m} L={len} K={k}"),
                );
            }
        }
    }
}

/// Sentinels: slots past a short history's length keep `EMPTY_DISTANCE` (the caller's part),
/// whatever the small-m path writes before them.
#[test]
fn short_histories_leave_sentinels() {
    let engines = engines();
    let case = make_case(77, 4, 6, 40, 64, Pattern::FewValues);
    let lens = [40u32, 0, 1, 39, 17, 40];
    run(&case, &lens, &engines, "sentinels");
    let q: Vec<u8> = narrow(&flatten(&case.queries));
    let h: Vec<u8> = narrow(&soa(&case.items, 1, case.stride, u64::MAX));
    let qv = FingerprintsRef::new(4, 6, &q).unwrap();
    let hv = HistoryRef::new(4, 40, case.stride, &h).unwrap();
    for e in &engines {
        let (mut idx, mut dist) = (vec![0u32; 6 * 64], vec![0u16; 6 * 64]);
        e.topk_shared(qv, hv, 64, &mut idx, &mut dist).unwrap();
        for j in 0..6 {
            assert!(dist[j * 64 + 40..(j + 1) * 64]
                .iter()
                .all(|&d| d == EMPTY_DISTANCE));
        }
    }
}

/// Repeated query codes (answered once, then copied, in the shared path) and the exact-match
/// path (`kth = 0`, stopped early) against its fallback: queries drawn from a few codes, in
/// runs and interleaved, over histories where distance 0 is frequent (few codes among the
/// items: the path succeeds, its stop landing anywhere in a block), rare (it fails after the
/// whole history), and exactly `K` times (the last matching item ends it); more than 16
/// queries, so the path is retried however its estimate stands.
#[test]
fn repeated_queries_and_exact_matches_match_the_reference() {
    let engines = engines();
    let mut seed = 40_000;
    for &m in &[1usize, 4, 8] {
        let layout = Layout::new(m).unwrap();
        for &len in &[1usize, 63, 64, 65, 1000] {
            for &k in &[1usize, 32, 50, len + 1] {
                for codes in [1usize, 3] {
                    seed += 1;
                    let mut r = rng(seed);
                    let pool: Vec<Vec<u64>> =
                        (0..codes).map(|_| random_fp(&mut r, layout)).collect();
                    // Items: a quarter equal to the first code, the rest random.
                    let mut items: Vec<Vec<u64>> = (0..len)
                        .map(|_| {
                            if r.random_range(0..4) == 0 {
                                pool[0].clone()
                            } else {
                                random_fp(&mut r, layout)
                            }
                        })
                        .collect();
                    // Exactly `k` matches of code 0 when the history has room: the last one
                    // completes the top-K.
                    if seed % 2 == 0 && k <= len {
                        let other = (pool[0][0] ^ 1) & ((1u64 << m) - 1);
                        for it in items.iter_mut() {
                            if it[0] == pool[0][0] {
                                it[0] = other;
                            }
                        }
                        for j in 0..k {
                            items[j * len / k][0] = pool[0][0];
                        }
                    }
                    let b = 37;
                    let queries: Vec<Vec<u64>> = (0..b)
                        .map(|j| {
                            pool[if j < b / 2 {
                                j % codes
                            } else {
                                (j / 5) % codes
                            }]
                            .clone()
                        })
                        .collect();
                    let case = Case {
                        m,
                        queries,
                        items,
                        stride: len + 3,
                        k,
                    };
                    let lens = ragged(seed, b, len);
                    run(
                        &case,
                        &lens,
                        &engines,
                        &format!("repeats m={m} L={len} K={k} codes={codes}"),
                    );
                }
            }
        }
    }
}
