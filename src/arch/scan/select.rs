//! Selection over a row of distances: the exact `K`-th smallest distance ([`kth_smallest`],
//! by vector counts), and the sorting of kept keys `(distance << 16) | index` into the output
//! order ([`sort_keys`]: a sorting network where the instruction set has one, else ranking,
//! else [`counting_sort_keys`]).

use super::ops::ScanOps;
use super::rows::DistBuf;

/// The `K`-th smallest distance of a row, and how many items lie below it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Kth {
    /// The smallest distance with at least `K` items at or below it.
    pub dist: usize,
    /// `#{items with distance < dist}` (`< K`).
    pub below: usize,
}

/// The smallest distance with at least `k` of the distances `d` (`n` of them, a multiple of 64,
/// `k <= n` counting only real items: padding is all-ones) at or below it: from `hint` (the
/// answer of a similar query) by galloping, which usually takes two or three counts, else by
/// binary search over `0..=maxd`.
///
/// # Safety
/// `d..d + n` readable; at least `k` of them `<= maxd`; the instruction set of `O` is available.
#[inline(always)]
pub(crate) unsafe fn kth_smallest<O: ScanOps, D: DistBuf>(
    d: *const D,
    n: usize,
    k: usize,
    maxd: usize,
    hint: Option<u32>,
) -> Kth {
    let count = |bound: usize| {
        // SAFETY: `d..d + n` readable, as the caller guarantees.
        unsafe { D::count_le::<O>(d, n, bound) }
    };
    let found = |dist, below| Kth { dist, below };
    // Invariant of the bisection: `count(lo) < k <= count(hi)` (`lo = None` standing for
    // "below 0", count 0).
    let (mut lo, mut lo_count, mut hi): (Option<usize>, usize, usize);
    match hint {
        Some(h) => {
            // Gallop from the hint (steps 1, 2, 4, ...) to a bracket, so a good hint costs two
            // or three counts and a bad one O(log |kth - hint|).
            let start = (h as usize).min(maxd);
            let c = count(start);
            let mut step = 1;
            if c >= k {
                hi = start;
                loop {
                    if hi == 0 {
                        return found(0, 0);
                    }
                    let probe = hi.saturating_sub(step);
                    let pc = count(probe);
                    if pc < k {
                        (lo, lo_count) = (Some(probe), pc);
                        break;
                    }
                    hi = probe;
                    step *= 2;
                }
            } else {
                (lo, lo_count) = (Some(start), c);
                loop {
                    // `count(maxd)` counts every real item, at least `k`: this ends.
                    let probe = (lo.unwrap_or(0) + step).min(maxd);
                    let pc = count(probe);
                    if pc >= k {
                        hi = probe;
                        break;
                    }
                    (lo, lo_count) = (Some(probe), pc);
                    step *= 2;
                }
            }
        }
        None => (lo, lo_count, hi) = (None, 0, maxd),
    }
    loop {
        let low = lo.map_or(0, |l| l + 1);
        if low >= hi {
            return found(hi, lo_count);
        }
        let mid = (low + hi - 1) / 2;
        let c = count(mid);
        if c >= k {
            hi = mid;
        } else {
            (lo, lo_count) = (Some(mid), c);
        }
    }
}

/// The most keys [`sort_keys`] sorts by ranking (all-pairs vector compares, `O(n^2 / 16)`
/// operations and no memory-carried dependency); more take a counting sort
/// ([`counting_sort_keys`]), whose increments chain through memory (measurements:
/// `docs/design/scan.md`).
// Public (hidden) only for `kernel_boundaries`: its doc links name crate-private items.
#[allow(rustdoc::private_intra_doc_links)]
pub const RANK_SORT_MAX: usize = 64;

/// Writes the `n` keys `(distance << 16) | index` at `keys` (distinct, non-negative, in index
/// order, every distance `<= max_dist`) to `idx`/`dist` sorted by `(distance, index)`, which is
/// the keys' own order. Where the instruction set has one ([`ScanOps::sort_net`]: AVX-512, up
/// to 128 keys), a sorting network in registers. Else, up to [`RANK_SORT_MAX`] keys, each key's
/// slot is its rank: the keys, padded with `i32::MAX` to `M`, a multiple of 16 (`keys` must hold
/// that many), stay in registers as `M` rank counters do, and every real key adds one to the
/// rank of each key above it (a broadcast, a subtract and a shift per 16 keys, no horizontal
/// sum, no memory dependency). Beyond, a counting sort over `cnt[..=max_dist]`.
#[inline(always)]
pub(crate) fn sort_keys<O: ScanOps>(
    keys: &mut [i32],
    n: usize,
    max_dist: usize,
    cnt: &mut [u32],
    idx: &mut [u32],
    dist: &mut [u16],
) {
    if keys.len() >= n && idx.len() >= n && dist.len() >= n {
        // SAFETY: `keys` holds `n`, `idx`/`dist` `n` slots; we run inside `O`'s entry point.
        if unsafe { O::sort_net(keys.as_ptr(), n, idx.as_mut_ptr(), dist.as_mut_ptr()) } {
            return;
        }
    }
    #[inline(always)]
    fn rank<const M: usize>(keys: &mut [i32], n: usize, idx: &mut [u32], dist: &mut [u16]) {
        let keys: &mut [i32; M] = (&mut keys[..M]).try_into().expect("M keys");
        keys[n..].fill(i32::MAX);
        let mut rank = [0u32; M];
        for &y in &keys[..n] {
            for (r, &x) in rank.iter_mut().zip(keys.iter()) {
                // `y < x` as the sign of `y - x` (no overflow: keys are non-negative).
                *r += (y.wrapping_sub(x) as u32) >> 31;
            }
        }
        for (&x, &r) in keys[..n].iter().zip(&rank) {
            // Keys are distinct, so the ranks of the `n` real keys are exactly `0..n`.
            idx[r as usize] = (x & 0xFFFF) as u32;
            dist[r as usize] = (x >> 16) as u16;
        }
    }
    match n.next_multiple_of(16) {
        0 => {}
        16 => rank::<16>(keys, n, idx, dist),
        32 => rank::<32>(keys, n, idx, dist),
        48 => rank::<48>(keys, n, idx, dist),
        64 => rank::<64>(keys, n, idx, dist),
        _ => counting_sort_keys(&keys[..n], max_dist, cnt, idx, dist),
    }
}

/// Stable counting sort of the `n` keys `(distance << 16) | index` at `keys` (in index order,
/// every distance `<= max_dist`, indices below `2^16`) into `idx`/`dist`, by
/// `(distance, index)`, through the histogram `cnt[..=max_dist]` (overwritten). Each key costs a
/// read-modify-write of its distance's count, a chain through memory when distances repeat (a
/// few cycles per key): the two-pass path ranks up to [`RANK_SORT_MAX`] keys instead.
pub(crate) fn counting_sort_keys(
    keys: &[i32],
    max_dist: usize,
    cnt: &mut [u32],
    idx: &mut [u32],
    dist: &mut [u16],
) {
    let cnt = &mut cnt[..=max_dist];
    cnt.fill(0);
    for &x in keys {
        cnt[(x >> 16) as usize] += 1;
    }
    let mut s = 0u32;
    for c in cnt.iter_mut() {
        let here = *c;
        *c = s;
        s += here;
    }
    for &x in keys {
        let d = (x >> 16) as usize;
        let slot = cnt[d] as usize;
        cnt[d] += 1;
        idx[slot] = (x & 0xFFFF) as u32;
        dist[slot] = d as u16;
    }
}
