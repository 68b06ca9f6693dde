//! Long histories around the two-pass limit (`PREFIX_ITEMS`) and the streaming path's pre-pass
//! prefix (at least 4096 items, `128 K`, at most `PREFIX_ITEMS`; `stream::stream_prefix`),
//! against the naive reference of the contract, on every instruction set the machine has
//! (forced through an explicit `Engine`), one thread and split over threads: L = 32767..32769 and
//! 65535..65537 (the two-pass limit of AVX-512 for several queries), the chunks past it,
//! prefixes spanning several tiles (m = 4096), `K` whose prefix is longer than the minimum, ties
//! everywhere (and `K` items at distance 0), ascending and descending histories.

mod common;

use common::*;
use eta_hamming::kernel_boundaries::{PREFIX_ITEMS, TILE_BYTES};
use eta_hamming::{FingerprintsRef, HistoryRef, Layout, MAX_BITS};

/// The streaming path's shortest pre-pass prefix (`stream::STREAM_PREFIX_MIN`).
const STREAM_PREFIX_MIN: usize = 4096;

/// Top-K of `b` queries over one shared history of `len` items (`pattern`), every engine, one
/// thread and `threads` split ways, against the reference.
fn check(seed: u64, m: usize, b: usize, len: usize, k: usize, pattern: Pattern, threads: &[usize]) {
    let what = format!("{pattern:?} m={m} B={b} L={len} K={k}");
    let mut r = rng(seed);
    let layout = Layout::new(m).unwrap();
    let mut queries: Vec<Vec<u64>> = (0..b).map(|_| random_fp(&mut r, layout)).collect();
    let items = history_fps(&mut r, layout, &queries[0], len, pattern);
    if b > 1 && len > 0 {
        // Distance-0 hits (with `AllEqual`, every item: `K` items at distance 0).
        queries[1] = items[len / 3].clone();
    }
    let (lanes, stride) = (layout.lanes(), len + 3);
    assert_eq!(layout.lane_type().bytes(), 8, "u64 lanes only here");
    let q = flatten(&queries);
    let h = soa(&items, lanes, stride, u64::MAX);
    let qv = FingerprintsRef::new(m, b, &q).unwrap();
    let hv = HistoryRef::new(m, len, stride, &h).unwrap();
    let (mut want_idx, mut want_dist) = (Vec::new(), Vec::new());
    for qf in &queries {
        let (i, d, _) = naive_topk(qf, &items, k);
        want_idx.extend(i);
        want_dist.extend(d);
    }
    for e in engines() {
        for &t in [1usize].iter().chain(threads) {
            let (mut idx, mut dist) = (vec![7u32; b * k], vec![7u16; b * k]);
            let filled = e
                .parallel(t)
                .topk_shared(qv, hv, k, &mut idx, &mut dist)
                .unwrap();
            assert_eq!(filled, k.min(len), "{what} {e:?} threads={t}");
            assert_eq!(idx, want_idx, "indices: {what} {e:?} threads={t}");
            assert_eq!(dist, want_dist, "distances: {what} {e:?} threads={t}");
        }
    }
}

/// Both sides of the two-pass limit and of its double, one query and a few, `K` = 32 and 50.
#[test]
fn both_sides_of_the_two_pass_limit_match_the_reference() {
    let p = PREFIX_ITEMS;
    let mut seed = 140_000;
    for len in [p - 1, p, p + 1, 2 * p - 1, 2 * p, 2 * p + 1] {
        for (b, k, pattern) in [
            (1, 32, Pattern::Random),
            (5, 50, Pattern::Random),
            (5, 32, Pattern::FewValues),
            (2, 50, Pattern::Descending),
        ] {
            seed += 1;
            check(seed, 64, b, len, k, pattern, &[2]);
        }
    }
    // Ascending (the prefix holds the best items), all equal (`K` items at distance 0 for the
    // second query), a `K` whose prefix is `128 K`, and one whose prefix is the whole limit.
    for (len, b, k, pattern) in [
        (p + 1, 3, 32, Pattern::Ascending),
        (p + 1, 3, 50, Pattern::AllEqual),
        (2 * p + 1, 2, 100, Pattern::Random),
        (2 * p + 1, 2, 400, Pattern::FewValues),
        // The two-pass path up to 2^16 items (AVX-512, several queries): indices past 2^15 in
        // the keys of every sort (network, rank, counting).
        (2 * p, 3, 100, Pattern::Descending),
        (2 * p, 2, 400, Pattern::Random),
        (2 * p, 2, 1000, Pattern::FewValues),
        (2 * p + 1, 1, p, Pattern::Random),
        (2 * p + 1, 1, p + 1, Pattern::Random),
    ] {
        seed += 1;
        check(seed, 64, b, len, k, pattern, &[3]);
    }
}

/// Past the AVX-512 two-pass limit with several queries, the history is answered in two-pass
/// chunks merged by `(distance, index)`: two and three chunks, ties across chunk boundaries
/// (all equal, few values), the best items in the first or the last chunk, `m` of two and three
/// lanes (smaller chunks by bytes), and `K` from 32 to more than half a chunk. (Other
/// instruction sets stream these histories: the same reference holds.)
#[test]
fn chunked_two_pass_matches_the_reference() {
    let p = PREFIX_ITEMS;
    let mut seed = 141_000;
    for (len, m, b, k, pattern) in [
        (4 * p + 5, 64, 3, 50, Pattern::Random),
        (4 * p + 5, 64, 2, 50, Pattern::AllEqual),
        (2 * p + 1, 64, 3, 32, Pattern::Descending),
        (2 * p + 1, 64, 2, 32, Pattern::Ascending),
        (2 * p + 1, 128, 3, 50, Pattern::FewValues),
        (2 * p + 1, 192, 2, 50, Pattern::Random),
        (3 * p, 64, 2, p + 1, Pattern::Random),
        (2 * p + 1, 64, 2, 2000, Pattern::FewValues),
    ] {
        seed += 1;
        check(seed, m, b, len, k, pattern, &[2]);
    }
}

/// The streaming path on short histories of wide fingerprints (over four tiles of bytes): the
/// pre-pass prefix spans several tiles, and histories end at, just past and just short of it.
#[test]
fn prefixes_spanning_tiles_match_the_reference() {
    let tile = TILE_BYTES / (MAX_BITS / 8);
    let s = STREAM_PREFIX_MIN;
    assert!(s > 2 * tile, "the prefix spans several tiles");
    let mut seed = 150_000;
    for (len, b, k, pattern) in [
        (s - 1, 5, 9, Pattern::Random),
        (s, 5, 9, Pattern::FewValues),
        (s + 1, 5, 9, Pattern::Descending),
        (s + tile + 1, 2, 40, Pattern::Random),
        (3 * s + 7, 1, 33, Pattern::AllEqual),
    ] {
        seed += 1;
        check(seed, MAX_BITS, b, len, k, pattern, &[2]);
    }
}
