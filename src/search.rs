//! The public scan API: the `K` nearest history items of every query ([`topk_shared`],
//! [`topk_batch`], the owned [`TopK`]), or every distance ([`distances_shared`],
//! [`distances_batch`]); the validation of every call and the empty-slot sentinels around the
//! kernels (`crate::arch`), which only ever see validated shapes.
//!
//! Result order is the contract's: the `K` smallest `(distance, index)` pairs in lexicographic
//! order, so equal distances go to the smaller index; indices are positions in the history.
//! Slots beyond the number of valid items hold [`EMPTY_INDEX`] and [`EMPTY_DISTANCE`]. Every
//! function validates everything before writing, and writes nothing on error.
//!
//! Thread safety: all functions are re-entrant; they share nothing but the read-only kernel
//! table, so any number of threads may scan at once.

use crate::arch::{BatchScan, SelectKernels, SharedScan};
use crate::dispatch::Engine;
use crate::error::{Error, Result};
use crate::fingerprints::{FingerprintsRef, HistoryBatchRef, HistoryRef};
use crate::layout::{mul, with_lane_type, Layout, EMPTY_DISTANCE, EMPTY_INDEX};
use crate::shape::{check_k, check_len, owned_slots};

fn same_bits(a: Layout, b: Layout) -> Result<()> {
    if a == b {
        Ok(())
    } else {
        Err(Error::InvalidBits { m: b.bits() })
    }
}

/// Fills slots `from..k` of every row with the empty sentinels.
fn fill_empty(
    k: usize,
    rows: impl Iterator<Item = (usize, usize)>,
    idx: &mut [u32],
    dist: &mut [u16],
) {
    for (b, filled) in rows {
        idx[b * k + filled..(b + 1) * k].fill(EMPTY_INDEX);
        dist[b * k + filled..(b + 1) * k].fill(EMPTY_DISTANCE);
    }
}

fn shared_args<'a, T: SelectKernels>(
    q: FingerprintsRef<'a>,
    h: HistoryRef<'a>,
) -> SharedScan<'a, T> {
    SharedScan {
        q: q.lanes::<T>(),
        nq: q.len(),
        lanes: q.layout().lanes(),
        hist: h.lanes::<T>(),
        len: h.len(),
        stride: h.stride(),
    }
}

fn batch_args<'a, T: SelectKernels>(
    q: FingerprintsRef<'a>,
    h: HistoryBatchRef<'a>,
) -> BatchScan<'a, T> {
    BatchScan {
        q: q.lanes::<T>(),
        nq: q.len(),
        lanes: q.layout().lanes(),
        hists: h.lanes::<T>(),
        lens: h.lens(),
        cap: h.capacity(),
        stride: h.stride(),
    }
}

fn check_batch_count(queries: FingerprintsRef<'_>, histories: HistoryBatchRef<'_>) -> Result<()> {
    if histories.count() != queries.len() {
        return Err(Error::BufferTooShort {
            what: "histories (one per query)",
            needed: queries.len(),
            got: histories.count(),
        });
    }
    Ok(())
}

/// Every check of a shared top-K call, before anything is written: returns `B * k`.
pub(crate) fn check_topk_shared(
    queries: FingerprintsRef<'_>,
    history: HistoryRef<'_>,
    k: usize,
    idx: &[u32],
    dist: &[u16],
) -> Result<usize> {
    check_k(k)?;
    same_bits(queries.layout(), history.layout())?;
    let needed = mul(queries.len(), k)?;
    check_len("indices", needed, idx.len())?;
    check_len("distances", needed, dist.len())?;
    Ok(needed)
}

/// Every check of a per-query top-K call, before anything is written: returns `B * k`.
pub(crate) fn check_topk_batch(
    queries: FingerprintsRef<'_>,
    histories: HistoryBatchRef<'_>,
    k: usize,
    idx: &[u32],
    dist: &[u16],
    filled: &[u32],
) -> Result<usize> {
    check_k(k)?;
    same_bits(queries.layout(), histories.layout())?;
    check_batch_count(queries, histories)?;
    let needed = mul(queries.len(), k)?;
    check_len("indices", needed, idx.len())?;
    check_len("distances", needed, dist.len())?;
    check_len("filled", queries.len(), filled.len())?;
    Ok(needed)
}

impl Engine {
    /// The `k` nearest items of `history` for every query: query `b`'s `j`-th result at
    /// `idx[b * k + j]`, `dist[b * k + j]`. Returns the number of filled slots per query,
    /// `min(k, L)`. Errors: `k = 0`, `m` differing between queries and history, `idx` or `dist`
    /// shorter than `B * k`, `B * k` overflowing.
    pub fn topk_shared(
        &self,
        queries: FingerprintsRef<'_>,
        history: HistoryRef<'_>,
        k: usize,
        idx: &mut [u32],
        dist: &mut [u16],
    ) -> Result<usize> {
        let needed = check_topk_shared(queries, history, k, idx, dist)?;
        let filled = k.min(history.len());
        let kernels = self.kernels();
        with_lane_type!(queries.layout(), T => {
            let args = shared_args::<T>(queries, history);
            debug_assert!(args.invariants_hold() && idx.len() >= needed && dist.len() >= needed);
            // SAFETY: the table only holds kernels this CPU runs; shapes are validated above and by
            // the view constructors (history span, stride >= len, output rows of k).
            unsafe { (T::select(kernels).topk_shared)(&args, k, idx, dist) }
        });
        fill_empty(k, (0..queries.len()).map(|b| (b, filled)), idx, dist);
        Ok(filled)
    }

    /// The `k` nearest items for every query `b` within its own history `b` (its first `lens[b]`
    /// items). `filled[b]` receives `min(k, lens[b])`. Errors: `k = 0`, differing `m`, a number of
    /// queries other than the number of histories (`BufferTooShort`), short outputs.
    pub fn topk_batch(
        &self,
        queries: FingerprintsRef<'_>,
        histories: HistoryBatchRef<'_>,
        k: usize,
        idx: &mut [u32],
        dist: &mut [u16],
        filled: &mut [u32],
    ) -> Result<()> {
        let needed = check_topk_batch(queries, histories, k, idx, dist, filled)?;
        let kernels = self.kernels();
        with_lane_type!(queries.layout(), T => {
            let args = batch_args::<T>(queries, histories);
            debug_assert!(args.invariants_hold() && idx.len() >= needed && dist.len() >= needed);
            // SAFETY: as in `topk_shared`; `lens[b] <= cap <= stride` is checked by the view.
            unsafe { (T::select(kernels).topk_batch)(&args, k, idx, dist) }
        });
        for (f, &len) in filled.iter_mut().zip(histories.lens()) {
            *f = k.min(len as usize) as u32;
        }
        fill_empty(k, filled.iter().map(|&f| f as usize).enumerate(), idx, dist);
        Ok(())
    }

    /// Every distance between each query and each history item: `out[b * L + i]` (`B x L`).
    pub fn distances_shared(
        &self,
        queries: FingerprintsRef<'_>,
        history: HistoryRef<'_>,
        out: &mut [u16],
    ) -> Result<()> {
        same_bits(queries.layout(), history.layout())?;
        check_len("distances", mul(queries.len(), history.len())?, out.len())?;
        let kernels = self.kernels();
        with_lane_type!(queries.layout(), T => {
            let args = shared_args::<T>(queries, history);
            debug_assert!(args.invariants_hold() && out.len() >= queries.len() * history.len());
            // SAFETY: as in `topk_shared`; `out` holds `B * L` distances.
            unsafe { (T::select(kernels).dist_shared)(&args, out) }
        });
        Ok(())
    }

    /// Every distance between query `b` and the items of its own history: `out[b * L + i]`
    /// (`B x L`, `L` the capacity); slots at and beyond `lens[b]` hold [`EMPTY_DISTANCE`].
    pub fn distances_batch(
        &self,
        queries: FingerprintsRef<'_>,
        histories: HistoryBatchRef<'_>,
        out: &mut [u16],
    ) -> Result<()> {
        same_bits(queries.layout(), histories.layout())?;
        check_batch_count(queries, histories)?;
        let cap = histories.capacity();
        check_len("distances", mul(queries.len(), cap)?, out.len())?;
        let kernels = self.kernels();
        with_lane_type!(queries.layout(), T => {
            let args = batch_args::<T>(queries, histories);
            debug_assert!(args.invariants_hold() && out.len() >= queries.len() * cap);
            // SAFETY: as in `topk_batch`; `out` holds `B * L` distances.
            unsafe { (T::select(kernels).dist_batch)(&args, out) }
        });
        for (b, &len) in histories.lens().iter().enumerate() {
            out[b * cap + len as usize..(b + 1) * cap].fill(EMPTY_DISTANCE);
        }
        Ok(())
    }
}

/// [`Engine::topk_shared`] on the process-wide engine ([`Engine::current`]).
pub fn topk_shared(
    queries: FingerprintsRef<'_>,
    history: HistoryRef<'_>,
    k: usize,
    idx: &mut [u32],
    dist: &mut [u16],
) -> Result<usize> {
    Engine::current().topk_shared(queries, history, k, idx, dist)
}

/// [`Engine::topk_batch`] on the process-wide engine.
pub fn topk_batch(
    queries: FingerprintsRef<'_>,
    histories: HistoryBatchRef<'_>,
    k: usize,
    idx: &mut [u32],
    dist: &mut [u16],
    filled: &mut [u32],
) -> Result<()> {
    Engine::current().topk_batch(queries, histories, k, idx, dist, filled)
}

/// [`Engine::distances_shared`] on the process-wide engine.
pub fn distances_shared(
    queries: FingerprintsRef<'_>,
    history: HistoryRef<'_>,
    out: &mut [u16],
) -> Result<()> {
    Engine::current().distances_shared(queries, history, out)
}

/// [`Engine::distances_batch`] on the process-wide engine.
pub fn distances_batch(
    queries: FingerprintsRef<'_>,
    histories: HistoryBatchRef<'_>,
    out: &mut [u16],
) -> Result<()> {
    Engine::current().distances_batch(queries, histories, out)
}

/// An owned top-K result: `B` rows of `k` slots.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct TopK {
    k: usize,
    idx: Vec<u32>,
    dist: Vec<u16>,
    filled: Vec<u32>,
}

impl TopK {
    /// [`topk_shared`] into freshly allocated buffers.
    pub fn shared(queries: FingerprintsRef<'_>, history: HistoryRef<'_>, k: usize) -> Result<TopK> {
        let n = owned_slots(queries.len(), k)?;
        let (mut idx, mut dist) = (vec![0; n], vec![0; n]);
        let f = Engine::current().topk_shared(queries, history, k, &mut idx, &mut dist)?;
        Ok(TopK {
            k,
            idx,
            dist,
            filled: vec![f as u32; queries.len()],
        })
    }

    /// [`topk_batch`] into freshly allocated buffers.
    pub fn batch(
        queries: FingerprintsRef<'_>,
        histories: HistoryBatchRef<'_>,
        k: usize,
    ) -> Result<TopK> {
        let n = owned_slots(queries.len(), k)?;
        let (mut idx, mut dist, mut filled) = (vec![0; n], vec![0; n], vec![0; queries.len()]);
        Engine::current().topk_batch(queries, histories, k, &mut idx, &mut dist, &mut filled)?;
        Ok(TopK {
            k,
            idx,
            dist,
            filled,
        })
    }

    /// Slots per query.
    pub fn k(&self) -> usize {
        self.k
    }

    /// Number of queries.
    pub fn len(&self) -> usize {
        self.filled.len()
    }

    /// Whether there are no queries.
    pub fn is_empty(&self) -> bool {
        self.filled.is_empty()
    }

    /// The filled indices of query `b`, nearest first. Panics if `b >= len()`.
    pub fn indices(&self, b: usize) -> &[u32] {
        &self.idx[b * self.k..][..self.filled[b] as usize]
    }

    /// The filled distances of query `b`, ascending. Panics if `b >= len()`.
    pub fn distances(&self, b: usize) -> &[u16] {
        &self.dist[b * self.k..][..self.filled[b] as usize]
    }

    /// All `B * k` index slots, sentinels included.
    pub fn all_indices(&self) -> &[u32] {
        &self.idx
    }

    /// All `B * k` distance slots, sentinels included.
    pub fn all_distances(&self) -> &[u16] {
        &self.dist
    }

    /// Filled slots per query.
    pub fn filled(&self) -> &[u32] {
        &self.filled
    }
}
