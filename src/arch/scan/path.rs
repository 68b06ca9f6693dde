//! The path one history's scan takes ([`Path`]: streaming, or two-pass with `u16` or `u8`
//! distances, each with the buffer it uses) and what the query blocks of that scan share
//! ([`HistoryScan`]), which runs one query block down its path.

use core::ops::Range;

use super::rows::HistRows;
use super::state::Topk;
use super::stream::{offer_prefix, prefix_bound, stream_items};
use super::two_pass::{fill_rows, prefetch, select_block};
use super::vector::Vector;
use crate::layout::Lane;

/// How every query block of one history is answered, with the distance buffer the path uses
/// (borrowed from the call's scratch, sized by the caller for `QB` padded rows of its largest
/// block and history).
pub(crate) enum Path<'b> {
    /// Long histories: the prefix pre-pass over the first `prefix` items (when they hold at
    /// least `K`: [`prefix_bound`], into `buf`, whose survivors [`offer_prefix`] takes), then
    /// the streaming scan of the items after them ([`stream_items`]); the states collect the
    /// items for [`Topk::finish`].
    Stream {
        /// [`stream_prefix`](super::stream::stream_prefix): the pre-pass prefix.
        prefix: usize,
        /// The pre-pass's rows (empty when `prefix < K`).
        buf: &'b mut [u16],
    },
    /// Short histories (`K <= len <= PREFIX_ITEMS`): the two-pass path, `u16` distances.
    TwoPass16(&'b mut [u16]),
    /// The two-pass path with `u8` distances (every distance below `0xFF` and the vector type
    /// packs bytes, [`Vector::U8_BUF`]); a shared history with several queries up to
    /// [`Vector::TWO_PASS_U8_ITEMS`] items.
    TwoPass8(&'b mut [u8]),
}

/// What the query blocks of one history's scan share: the history, its path, and the next
/// history to prefetch (per-query histories only). The shared-history kernel makes one per
/// call, the per-query one one per history.
pub(crate) struct HistoryScan<'b, T> {
    /// The history.
    pub rows: HistRows<T>,
    /// Its path and buffer.
    pub path: Path<'b>,
    /// The history scanned after this one, whose lines the two-pass path asks for once its
    /// distance pass is done ([`prefetch`]).
    pub next: Option<HistRows<T>>,
}

impl<T: Lane> HistoryScan<'_, T> {
    /// Runs the `Q` queries at `q` over `items` of the history. On a two-pass path (the whole
    /// history, one call per query block) their results go to `idx`/`dist` (`Q * k` slots);
    /// on the streaming path the pre-pass caps the states and offers them the prefix's items at
    /// `items.start == 0` (whatever the range: the prefix may span several tiles), every call
    /// streams the items of `items` past the prefix, and the states collect the items for
    /// [`Topk::finish`]. Returns the next `kth_smallest` hint.
    ///
    /// # Safety
    /// As [`stream_items`] for `items` (`0..len` on a two-pass path) of `self.rows`; `q` holds
    /// `Q` queries; the states fresh at `items.start == 0`; the buffer holds `Q` padded rows of
    /// the path's length; the instruction set of `V` is available.
    #[inline(always)]
    pub(crate) unsafe fn run<V: Vector<Lane = T>, const Q: usize, const W: usize>(
        &mut self,
        q: *const T,
        tops: &mut [Topk<'_>; Q],
        items: Range<usize>,
        mut hint: Option<u32>,
        idx: &mut [u32],
        dist: &mut [u16],
    ) -> Option<u32> {
        let rows = self.rows;
        let maxd = rows.max_distance();
        // SAFETY: for the whole body, guaranteed by the caller (the two-pass paths only run on
        // histories of `K..=2^16` items, with distances at most 4096).
        unsafe {
            match &mut self.path {
                Path::TwoPass16(buf) => {
                    fill_rows::<V, Q, W, u16>(q, rows, buf);
                    prefetch(self.next);
                    select_block::<V::Ops, Q, u16>(tops, buf, rows.len, maxd, hint, idx, dist)
                }
                Path::TwoPass8(buf) => {
                    fill_rows::<V, Q, W, u8>(q, rows, buf);
                    prefetch(self.next);
                    select_block::<V::Ops, Q, u8>(tops, buf, rows.len, maxd, hint, idx, dist)
                }
                Path::Stream { prefix, buf } => {
                    let p = *prefix;
                    // The pre-pass runs (at the first range) exactly when the prefix holds `K`.
                    let pre = p >= tops[0].k();
                    if pre && items.start == 0 {
                        hint = prefix_bound::<V, Q, W>(q, rows.prefix(p), tops, buf, hint);
                        offer_prefix::<V::Ops, Q>(tops, buf, p);
                    }
                    let from = if pre { items.start.max(p) } else { items.start };
                    if from < items.end {
                        stream_items::<V, Q, W>(q, rows, from, items.end, tops);
                    }
                    hint
                }
            }
        }
    }
}
