//! The streaming path for long histories: the prefix pre-pass ([`prefix_bound`]: the exact
//! `K`-th distance of the first [`stream_prefix`] items caps each query's filter, and the
//! prefix's own survivors are offered from its distance buffer, [`offer_prefix`]), then one
//! pass over the rest of the history ([`stream_items`]) comparing each vector of distances
//! against the running threshold of the query's top-K state ([`Topk`]), tile by tile
//! ([`TILE_BYTES`], [`GROUP`]). Only set mask bits (survivors) reach the scalar top-K code.
//! Why the prefix is short and never scanned twice (the step past the two-pass limit):
//! `docs/design/scan.md`, "Long histories".

use super::ops::ScanOps;
use super::rows::{dist_rows, distances, HistRows};
use super::select::kth_smallest;
use super::state::{Topk, MAX_VECTOR_ITEMS};
use super::vector::Vector;
use crate::layout::Lane;

/// Bytes of history (all rows of a tile) scanned by a group of queries before the next tile.
pub const TILE_BYTES: usize = 256 * 1024;
/// Queries sharing the tiles of a long history (a multiple of every `QB`).
pub const GROUP: usize = 64;

/// Items of the prefix pre-pass ([`prefix_bound`]), and the longest history the two-pass path
/// ([`super::two_pass`]) takes: its `u16` distance buffer, `QB` rows of this, stays within L2
/// (512 KiB).
// Public only for the tests, through the hidden `eta_hamming::kernel_boundaries`; the links
// serve the crate's private docs.
#[allow(rustdoc::private_intra_doc_links)]
pub const PREFIX_ITEMS: usize = 32768;

/// The shortest pre-pass prefix of the streaming path ([`stream_prefix`]).
pub(crate) const STREAM_PREFIX_MIN: usize = 4096;

/// Pre-pass items per `K` on the streaming path ([`stream_prefix`]).
const STREAM_PREFIX_PER_K: usize = 128;

/// The pre-pass prefix of a streaming history of `len` items, top-`k`: `128 K` items, at least
/// [`STREAM_PREFIX_MIN`] and at most [`PREFIX_ITEMS`] (the buffer's bound) or `len`. The
/// pre-pass costs more per item than the stream (its distances are stored and counted about
/// eight times), while a longer prefix saves only about `K ln(2)` survivors per doubling
/// (`docs/design/scan.md`, "Long histories"). Below `k`, no pre-pass runs.
#[inline(always)]
pub(crate) fn stream_prefix(len: usize, k: usize) -> usize {
    let want = k.saturating_mul(STREAM_PREFIX_PER_K).max(STREAM_PREFIX_MIN);
    len.min(PREFIX_ITEMS).min(want)
}

/// Items per tile for `lanes` rows (a multiple of 64, at least 64).
#[inline(always)]
pub(crate) fn tile_items<T: Lane>(lanes: usize) -> usize {
    (TILE_BYTES / (lanes * core::mem::size_of::<T>()) / 64 * 64).max(64)
}

/// Feeds the survivors (`mask`) of distances `d` for items `base..` to `top`, and refreshes the
/// filter vector. Kept out of line: survivors are rare once the threshold has settled, and the
/// scan loop stays small.
#[inline(never)]
#[cold]
fn offer(top: &mut Topk<'_>, d: &[u16; MAX_VECTOR_ITEMS], base: usize, mask: u64) -> u32 {
    top.take(d, base, mask);
    top.filter()
}

/// Handles the survivors of one step for `QB` queries (`masks[j]` of `d[j]`).
///
/// # Safety
/// The instruction set of `V` is available; every set bit `j` of `masks[q]` is below `V::N`.
#[inline(always)]
unsafe fn offer_all<V: Vector, const QB: usize>(
    tops: &mut [Topk<'_>; QB],
    filters: &mut [V; QB],
    d: &[V; QB],
    masks: &[u64; QB],
    base: usize,
) {
    let mut buf = [0u16; MAX_VECTOR_ITEMS];
    for j in 0..QB {
        if masks[j] != 0 {
            // SAFETY: `buf` holds 64 >= N distances; the instruction set is available (we run
            // inside its entry point).
            unsafe {
                V::store_u16(d[j], buf.as_mut_ptr());
                filters[j] = V::splat_dist(offer(&mut tops[j], &buf, base, masks[j]));
            }
        }
    }
}

/// Steps of one query's stream whose survivor masks share one branch ([`stream_items`]).
const UNROLL: usize = 4;

/// Scans items `start..end` of one history for `QB` queries, feeding their top-K states: per
/// step, `QB` vector compares against the filters, OR-ed into one branch (for one query, the
/// compares of [`UNROLL`] steps).
///
/// # Safety
/// As [`distances`], for every item in `start..end`; `end < 2^32`.
#[inline(always)]
pub(crate) unsafe fn stream_items<V: Vector, const QB: usize, const W: usize>(
    q: *const V::Lane,
    rows: HistRows<V::Lane>,
    start: usize,
    end: usize,
    tops: &mut [Topk<'_>; QB],
) {
    // SAFETY: for the whole body, the caller guarantees the items `start..end` of every row are
    // readable; we run inside the instruction set's entry point.
    unsafe {
        let mut filters = [V::splat_dist(0); QB];
        for (f, top) in filters.iter_mut().zip(tops.iter()) {
            *f = V::splat_dist(top.filter());
        }
        let mut i = start;
        // One query: `UNROLL` steps per branch (their masks OR-ed), which the registers allow
        // only for a single query (a block's distances and filters fill them already).
        let unroll = if QB == 1 { UNROLL } else { 1 };
        while i + unroll * V::N <= end {
            let mut ds = [[V::splat_dist(0); QB]; UNROLL];
            let mut any = 0;
            for (s, d) in ds.iter_mut().enumerate().take(unroll) {
                *d = distances::<V, QB, W>(q, rows, i + s * V::N, None);
                for j in 0..QB {
                    any |= V::lt_mask(d[j], filters[j]);
                }
            }
            if any != 0 {
                // Step by step against the filters as the earlier steps left them.
                for (s, d) in ds.iter().enumerate().take(unroll) {
                    let mut masks = [0u64; QB];
                    let mut some = 0;
                    for j in 0..QB {
                        masks[j] = V::lt_mask(d[j], filters[j]);
                        some |= masks[j];
                    }
                    if some != 0 {
                        offer_all(tops, &mut filters, d, &masks, i + s * V::N);
                    }
                }
            }
            i += unroll * V::N;
        }
        while i + V::N <= end {
            let d = distances::<V, QB, W>(q, rows, i, None);
            let mut masks = [0u64; QB];
            let mut any = 0;
            for j in 0..QB {
                masks[j] = V::lt_mask(d[j], filters[j]);
                any |= masks[j];
            }
            if any != 0 {
                offer_all(tops, &mut filters, &d, &masks, i);
            }
            i += V::N;
        }
        if i < end {
            let n = end - i;
            let d = distances::<V, QB, W>(q, rows, i, Some(n));
            let valid = (1u64 << n) - 1;
            let mut masks = [0u64; QB];
            for j in 0..QB {
                masks[j] = V::lt_mask(d[j], filters[j]) & valid;
            }
            offer_all(tops, &mut filters, &d, &masks, i);
        }
    }
}

/// The prefix pre-pass: distances of the first `prefix.len` items (`k <= prefix.len <=
/// PREFIX_ITEMS`) for `QB` queries into `buf` (rows of `prefix.len` rounded up to 64, padded
/// with `u16::MAX`), then per query the exact `k`-th smallest of them ([`kth_smallest`], started
/// from the previous query's), which caps the query's filter ([`Topk::set_cap`]). Without it,
/// the running threshold starts at "everything" and falls slowly, and the first few hundred
/// items each cost a survivor; with it, only the items that end in the prefix's top-K (and later
/// improvements) survive. The prefix's items then go to the states from `buf`
/// ([`offer_prefix`]), not from a second pass over the history. Returns the last query's `K`-th
/// prefix distance (the next hint).
///
/// # Safety
/// As [`stream_items`] for the items of `prefix`; `buf` holds `QB` padded rows.
#[inline(always)]
pub(crate) unsafe fn prefix_bound<V: Vector, const QB: usize, const W: usize>(
    q: *const V::Lane,
    prefix: HistRows<V::Lane>,
    tops: &mut [Topk<'_>; QB],
    buf: &mut [u16],
    mut hint: Option<u32>,
) -> Option<u32> {
    let (k, p, maxd) = (tops[0].k(), prefix.len, prefix.max_distance());
    let row_len = p.next_multiple_of(64);
    let buf = &mut buf[..QB * row_len];
    // SAFETY: guaranteed by the caller; `buf` holds `QB` rows of `row_len >= p`.
    unsafe { dist_rows::<V, QB, W>(q, prefix, buf.as_mut_ptr(), row_len) };
    for (j, top) in tops.iter_mut().enumerate() {
        buf[j * row_len + p..(j + 1) * row_len].fill(u16::MAX);
        // SAFETY: the row holds `row_len` distances, `p >= k` of them real.
        let kth = unsafe {
            kth_smallest::<V::Ops, u16>(buf[j * row_len..].as_ptr(), row_len, k, maxd, hint)
        };
        top.set_cap(kth.dist as u32);
        hint = Some(kth.dist as u32);
    }
    hint
}

/// Offers the prefix's items to the states as [`stream_items`] would (in index order, each
/// vector of 64 against the filter as the earlier ones left it), from the rows [`prefix_bound`]
/// wrote to `buf` (`p` distances each, rows of `p` rounded up to 64, padded with `u16::MAX`,
/// which no mask accepts): the stream then starts at item `p`.
///
/// # Safety
/// `buf` holds `QB` rows as [`prefix_bound`] wrote them for a prefix of `p` items; the
/// instruction set of `O` is available.
#[inline(always)]
pub(crate) unsafe fn offer_prefix<O: ScanOps, const QB: usize>(
    tops: &mut [Topk<'_>; QB],
    buf: &[u16],
    p: usize,
) {
    let row_len = p.next_multiple_of(64);
    for (j, top) in tops.iter_mut().enumerate() {
        let row = &buf[j * row_len..][..row_len];
        let mut f = top.filter();
        for (c, block) in row.chunks_exact(MAX_VECTOR_ITEMS).enumerate() {
            if f == 0 {
                break; // `K` items at distance 0: nothing later can enter
            }
            // SAFETY: `block` holds 64 readable distances; we run inside `O`'s entry point.
            // `f - 1 <= maxd < u16::MAX`, so the padding never passes.
            let mask = unsafe { O::le_mask_u16(block.as_ptr(), (f - 1) as u16) };
            if mask != 0 {
                let d: &[u16; MAX_VECTOR_ITEMS] = block.try_into().expect("64 distances");
                f = offer(top, d, c * MAX_VECTOR_ITEMS, mask);
            }
        }
    }
}
