//! The streaming path for long histories: the prefix pre-pass ([`prefix_bound`]: the exact
//! `K`-th distance of the first [`PREFIX_ITEMS`] items caps each query's filter), then one pass
//! over the history ([`stream_items`]) comparing each vector of distances against the running
//! threshold of the query's top-K state ([`Topk`]), tile by tile ([`TILE_BYTES`], [`GROUP`]).
//! Only set mask bits (survivors) reach the scalar top-K code.

use super::rows::{dist_rows, distances, HistRows};
use super::select::kth_smallest;
use super::state::{Topk, MAX_VECTOR_ITEMS};
use super::vector::Vector;
use crate::layout::Lane;

/// Bytes of history (all rows of a tile) scanned by a group of queries before the next tile.
// Public (hidden) only for `kernel_boundaries`: its doc links name crate-private items.
#[allow(rustdoc::private_intra_doc_links)]
pub const TILE_BYTES: usize = 256 * 1024;
/// Queries sharing the tiles of a long history (a multiple of every `QB`).
pub const GROUP: usize = 64;

/// Items of the prefix pre-pass ([`prefix_bound`]), and the longest history the two-pass path
/// ([`super::two_pass`]) takes: its `u16` distance buffer, `QB` rows of this, stays within L2
/// (512 KiB).
// Public (hidden) only for `kernel_boundaries`: its doc links name crate-private items.
#[allow(rustdoc::private_intra_doc_links)]
pub const PREFIX_ITEMS: usize = 32768;

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

/// Scans items `start..end` of one history for `QB` queries, feeding their top-K states: per
/// step, `QB` vector compares against the filters, OR-ed into one branch.
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
/// improvements) survive. Returns the last query's `K`-th prefix distance (the next hint).
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
