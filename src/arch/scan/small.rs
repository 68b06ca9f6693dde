//! The small-m path (`u8` lanes, `m <= 8`: every distance in `0..=8`): the distance histogram
//! decides the top-K, with no distance buffer, no key and no sort.
//!
//! Distances take `maxd + 1` values, so the `K` nearest are every item below the `K`-th
//! smallest distance `kth`, then the first items at `kth` in index order; and the output order
//! `(distance, index)` is distance value by distance value, each in index order. One pass per
//! query block ([`fill_masks`]) keeps, per query, threshold `t` and 64-item block, the mask of
//! the items with distance `<= t` (one vector compare per threshold); then per query
//! ([`select_one`]) the counts of those masks give `kth` and how many lie below, and the items
//! are written straight to their final slots, value by value, by walking the masks
//! `le(v) & !le(v - 1)`.
//!
//! Only thresholds `0..=g` are computed, `g` the largest `kth` of the previous query block
//! (every threshold for the first block): at small `m` the `K`-th distance barely moves
//! between queries (at `m = 4`, `K = 32`, `L = 1024` it is 0 for nearly every query). A query
//! whose `kth` exceeds `g` has its masks recomputed alone over every threshold.
//!
//! Exactly the contract's order and fill: `min(K, len)` slots per query, sentinels left to the
//! caller; a length of 0 writes nothing. Measurements: `docs/design/scan.md`, "Small m".

use super::rows::{distances, HistRows};
use super::two_pass::prefetch;
use super::vector::Vector;
use super::{BatchScan, SharedScan};
use crate::arch::scratch::Pooled;
use crate::layout::{Lane, LaneType};

/// The longest history (items) the small-m path takes; longer ones take the general paths
/// (its mask buffer grows with the history: `QB * 9` masks per 64 items).
// Public only for the tests, through the hidden `eta_hamming::kernel_boundaries`.
pub const SMALL_M_MAX_ITEMS: usize = 32768;

/// Whether the small-m path answers a history of `len` items with lanes of type `T`.
#[inline(always)]
pub(crate) fn applies<T: Lane>(len: usize) -> bool {
    T::TYPE == LaneType::U8 && len <= SMALL_M_MAX_ITEMS
}

/// The largest distance of the small-m path (`u8` lanes, one lane: 8 bits).
const MAXD: usize = 8;

/// Thresholds per query in the mask buffer: `0..=MAXD`.
const THRESHOLDS: usize = MAXD + 1;

/// The masks of one pass: `QB` queries, `THRESHOLDS` thresholds of `nblk` blocks each; bit `i`
/// of `masks[(j * THRESHOLDS + t) * nblk + b]` set when item `64 b + i` is valid and its
/// distance to query `j` is `<= t`.
///
/// Thresholds `0..=g` of every query are written; `g <= MAXD`.
///
/// # Safety
/// `q` holds `QB * rows.lanes` lanes; every row of `rows` readable at `0..rows.len`; `masks`
/// holds `QB * THRESHOLDS * nblk` masks, `nblk = rows.len.div_ceil(64)`; the instruction set
/// of `V` is available.
#[inline(always)]
unsafe fn fill_masks<V: Vector, const QB: usize, const W: usize>(
    q: *const V::Lane,
    rows: HistRows<V::Lane>,
    g: usize,
    masks: &mut [u64],
) {
    let len = rows.len;
    let nblk = len.div_ceil(64);
    let masks = &mut masks[..QB * THRESHOLDS * nblk];
    let out = masks.as_mut_ptr();
    debug_assert!(g <= MAXD && V::N == 64);
    // SAFETY: for the whole body, the caller guarantees the rows and queries; every write is
    // at `(j * THRESHOLDS + t) * nblk + b` with `j < QB`, `t <= g <= MAXD`, `b < nblk`.
    unsafe {
        let mut tv = [V::splat_dist(1); THRESHOLDS];
        for (t, v) in tv.iter_mut().enumerate() {
            *v = V::splat_dist(t as u32 + 1);
        }
        for b in 0..nblk {
            let i = b * 64;
            let n = (len - i).min(64);
            let partial = if n == 64 { None } else { Some(n) };
            let valid = if n == 64 { u64::MAX } else { (1u64 << n) - 1 };
            let d = distances::<V, QB, W>(q, rows, i, partial);
            for (j, dj) in d.into_iter().enumerate() {
                let o = out.add(j * THRESHOLDS * nblk + b);
                for (t, &tt) in tv[..=g].iter().enumerate() {
                    o.add(t * nblk).write(V::lt_mask(dj, tt) & valid);
                }
            }
        }
    }
}

/// Writes query `j`'s `kept = min(K, len)` nearest to `idx`/`dist` from its masks (thresholds
/// `0..=g` of `nblk` blocks); returns its `K`-th distance, or `None`, writing nothing, when
/// that lies above `g` (the masks must then be recomputed up to `MAXD`).
#[inline(always)]
fn select_one(
    masks: &[u64],
    nblk: usize,
    g: usize,
    kept: usize,
    idx: &mut [u32],
    dist: &mut [u16],
) -> Option<usize> {
    let le = |t: usize| &masks[t * nblk..][..nblk];
    let mut kth = None;
    for t in 0..=g {
        let c: u32 = le(t).iter().map(|m| m.count_ones()).sum();
        if c as usize >= kept {
            kth = Some(t);
            break;
        }
    }
    let kth = kth?;
    let (idx, dist) = (&mut idx[..kept], &mut dist[..kept]);
    let mut o = 0;
    // Value by value (the output's order), each in index order: every item below `kth`, then
    // the first at `kth` until `kept` are written.
    'values: for v in 0..=kth {
        let at = le(v);
        for (b, &m) in at.iter().enumerate() {
            let mut m = if v == 0 { m } else { m & !le(v - 1)[b] };
            while m != 0 {
                if o == kept {
                    break 'values;
                }
                idx[o] = (b * 64) as u32 + m.trailing_zeros();
                dist[o] = v as u16;
                o += 1;
                m &= m - 1;
            }
        }
    }
    debug_assert_eq!(
        o, kept,
        "small-m selection: the counts and the masks disagree"
    );
    Some(kth)
}

/// Answers `QB` queries at `q` (results at `idx/dist[j * k..]`) over `rows`, computing
/// thresholds `0..=g` first; returns the largest `K`-th distance of the block.
///
/// # Safety
/// As [`fill_masks`]; `1 <= rows.len`; `idx`/`dist` hold `QB * k` slots.
#[inline(always)]
unsafe fn run_block<V: Vector, const QB: usize, const W: usize>(
    q: *const V::Lane,
    rows: HistRows<V::Lane>,
    g: usize,
    k: usize,
    masks: &mut [u64],
    idx: &mut [u32],
    dist: &mut [u16],
) -> usize {
    let nblk = rows.len.div_ceil(64);
    let kept = k.min(rows.len);
    let per_query = THRESHOLDS * nblk;
    // SAFETY: forwarded.
    unsafe { fill_masks::<V, QB, W>(q, rows, g, masks) };
    let mut top = 0;
    for j in 0..QB {
        let (idx, dist) = (&mut idx[j * k..], &mut dist[j * k..]);
        let mine = &mut masks[j * per_query..][..per_query];
        let kth = match select_one(mine, nblk, g, kept, idx, dist) {
            Some(kth) => kth,
            None => {
                // SAFETY: query `j` of the block, its own `THRESHOLDS * nblk` masks.
                unsafe { fill_masks::<V, 1, W>(q.add(j * rows.lanes), rows, MAXD, mine) };
                select_one(mine, nblk, MAXD, kept, idx, dist).unwrap_or(MAXD)
            }
        };
        top = top.max(kth);
    }
    top
}

/// Top-K over a shared history of `u8` lanes by histogram, `QB` queries per pass.
///
/// # Safety
/// As [`super::topk_shared`], with [`applies`] true and `W` the lane count or 0.
#[inline(always)]
pub(crate) unsafe fn topk_shared<V: Vector, const QB: usize, const W: usize>(
    a: &SharedScan<'_, V::Lane>,
    k: usize,
    idx: &mut [u32],
    dist: &mut [u16],
) {
    let len = a.len;
    if len == 0 || a.nq == 0 {
        return;
    }
    let rows = HistRows {
        hist: a.hist.as_ptr(),
        lanes: a.lanes,
        stride: a.stride,
        len,
    };
    let per_query = THRESHOLDS * len.div_ceil(64);
    let mut masks = Pooled::<u64>::take(QB.min(a.nq) * per_query);
    let mut g = MAXD;
    let full = a.nq / QB * QB;
    for b0 in (0..full).step_by(QB) {
        let q = a.q[b0 * a.lanes..].as_ptr();
        let (idx, dist) = (&mut idx[b0 * k..][..QB * k], &mut dist[b0 * k..][..QB * k]);
        // SAFETY: SharedScan's invariants: the rows readable at `0..len`, `QB` queries at `q`;
        // `masks` holds `QB` queries' masks.
        g = unsafe { run_block::<V, QB, W>(q, rows, g, k, &mut masks, idx, dist) };
    }
    for b in full..a.nq {
        let q = a.q[b * a.lanes..].as_ptr();
        let (idx, dist) = (&mut idx[b * k..][..k], &mut dist[b * k..][..k]);
        // SAFETY: as above, one query.
        g = unsafe { run_block::<V, 1, W>(q, rows, g, k, &mut masks, idx, dist) };
    }
}

/// Top-K over per-query histories of `u8` lanes by histogram, one query at a time.
///
/// # Safety
/// As [`super::topk_batch`], with [`applies`] true for the longest history and `W` the lane
/// count or 0.
#[inline(always)]
pub(crate) unsafe fn topk_batch<V: Vector, const W: usize>(
    a: &BatchScan<'_, V::Lane>,
    k: usize,
    idx: &mut [u32],
    dist: &mut [u16],
) {
    let longest = a.lens.iter().max().map_or(0, |&l| l as usize);
    if longest == 0 {
        return;
    }
    let lanes = a.lanes;
    let mut masks = Pooled::<u64>::take(THRESHOLDS * longest.div_ceil(64));
    let history = |b: usize| HistRows {
        hist: a.hists[b * lanes * a.stride..].as_ptr(),
        lanes,
        stride: a.stride,
        len: a.lens[b] as usize,
    };
    let mut g = MAXD;
    for b in 0..a.nq {
        if a.lens[b] == 0 {
            continue; // its history may lie beyond the end of `hists`
        }
        let q = a.q[b * lanes..].as_ptr();
        let (idx, dist) = (&mut idx[b * k..][..k], &mut dist[b * k..][..k]);
        let rows = history(b);
        // SAFETY: BatchScan's invariants: history `b` readable at `0..lens[b]`; `masks` holds
        // one query's masks of the longest history.
        unsafe { fill_masks::<V, 1, W>(q, rows, g, &mut masks) };
        prefetch((b + 1 < a.nq && a.lens[b + 1] > 0).then(|| history(b + 1)));
        let nblk = rows.len.div_ceil(64);
        let kept = k.min(rows.len);
        g = match select_one(&masks, nblk, g, kept, idx, dist) {
            Some(kth) => kth,
            None => {
                // SAFETY: as above.
                unsafe { fill_masks::<V, 1, W>(q, rows, MAXD, &mut masks) };
                select_one(&masks, nblk, MAXD, kept, idx, dist).unwrap_or(MAXD)
            }
        };
    }
}
