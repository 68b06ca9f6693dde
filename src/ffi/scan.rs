//! Scans: the top-K of every query over one shared history or over its own history, and every
//! distance, single- or multi-threaded. Each entry point is a struct of its C arguments whose
//! [`Entry`] steps read: shape, spans, then views and the call.

use core::ffi::c_void;

use super::span::{
    input, lanes_span, lens_span, optional, output, run, span, Entry, RawOutput, Span, Spans,
};
use crate::dispatch::Engine;
use crate::error::{EtaStatus, Result};
use crate::fingerprints::{FingerprintsRef, HistoryBatchRef, HistoryRef};
use crate::layout::{mul, Lane, Layout};
use crate::search;
use crate::shape::{batch_lanes, check_k, fingerprint_lanes, history_lanes};

/// The queries and the shared history of `eta_topk_shared*` and `eta_distances_shared`.
#[derive(Clone, Copy)]
pub(super) struct SharedArgs {
    pub queries: *const c_void,
    pub b: usize,
    pub history: *const c_void,
    pub l: usize,
    pub stride: usize,
    pub m: usize,
}

impl SharedArgs {
    /// The layout and the spans of `queries` and `history`, after the shape checks.
    fn spans(&self) -> Result<(Layout, Span, Span)> {
        let layout = Layout::new(self.m)?;
        let history = history_lanes(layout.lanes(), self.l, self.stride)?;
        let queries = lanes_span(
            "queries",
            layout,
            self.queries,
            fingerprint_lanes(layout, self.b)?,
        )?;
        let history = lanes_span("history", layout, self.history, history)?;
        Ok((layout, queries, history))
    }

    /// The views over the checked spans.
    ///
    /// # Safety
    /// `queries` and `history` came from [`SharedArgs::spans`] on `self`, for readable memory.
    unsafe fn views<'a, T: Lane>(
        &self,
        queries: Span,
        history: Span,
    ) -> Result<(FingerprintsRef<'a>, HistoryRef<'a>)> {
        // SAFETY: checked by `spans` for these pointers; readable by the caller's contract.
        let (q, h) = unsafe {
            (
                input(queries, self.queries.cast::<T>()),
                input(history, self.history.cast::<T>()),
            )
        };
        Ok((
            FingerprintsRef::new::<T>(self.m, self.b, q)?,
            HistoryRef::new::<T>(self.m, self.l, self.stride, h)?,
        ))
    }
}

/// The queries and the per-query histories of `eta_topk_batch*` and `eta_distances_batch`.
#[derive(Clone, Copy)]
struct BatchArgs {
    queries: *const c_void,
    b: usize,
    histories: *const c_void,
    l: usize,
    stride: usize,
    lens: *const u32,
    m: usize,
}

impl BatchArgs {
    /// The layout and the spans of `queries` and `histories`, after the shape checks (`lens`
    /// is checked by [`BatchArgs::lens`], after the outputs, as the C arguments come).
    fn spans(&self) -> Result<(Layout, Span, Span)> {
        let layout = Layout::new(self.m)?;
        let histories = batch_lanes(layout.lanes(), self.b, self.l, self.stride)?;
        let queries = lanes_span(
            "queries",
            layout,
            self.queries,
            fingerprint_lanes(layout, self.b)?,
        )?;
        let histories = lanes_span("histories", layout, self.histories, histories)?;
        Ok((layout, queries, histories))
    }

    /// The span of `lens`, every value checked against `l`.
    ///
    /// # Safety
    /// `lens` is readable for `b` values.
    unsafe fn lens(&self) -> Result<Span> {
        // SAFETY: forwarded contract.
        unsafe { lens_span(self.lens, self.b, self.l) }
    }

    /// The views over the checked spans.
    ///
    /// # Safety
    /// The spans came from [`BatchArgs::spans`] and [`BatchArgs::lens`] on `self`, for readable
    /// memory.
    unsafe fn views<'a, T: Lane>(
        &self,
        queries: Span,
        histories: Span,
        lens: Span,
    ) -> Result<(FingerprintsRef<'a>, HistoryBatchRef<'a>)> {
        // SAFETY: checked by `spans`/`lens` for these pointers; readable by the caller's contract.
        let (q, h, lens) = unsafe {
            (
                input(queries, self.queries.cast::<T>()),
                input(histories, self.histories.cast::<T>()),
                input(lens, self.lens),
            )
        };
        Ok((
            FingerprintsRef::new::<T>(self.m, self.b, q)?,
            HistoryBatchRef::new::<T>(self.m, self.l, self.stride, lens, h)?,
        ))
    }
}

/// The top-K outputs: `b x k` indices and distances, and the optional filled counts (one for a
/// shared history, one per query; `uint32_t` in both families).
#[derive(Clone, Copy)]
pub(super) struct TopkOut {
    pub k: usize,
    pub idx: *mut u32,
    pub dist: *mut u16,
    pub filled: *mut u32,
}

impl TopkOut {
    /// The spans of the outputs for `b` queries, with `filled_len` counts.
    fn spans(&self, b: usize, filled_len: usize) -> Result<[Span; 3]> {
        let slots = mul(b, self.k)?;
        Ok([
            span("out_idx", self.idx.cast_const(), slots)?,
            span("out_dist", self.dist.cast_const(), slots)?,
            optional("out_filled", self.filled, filled_len)?,
        ])
    }
}

/// `eta_topk_shared` and `eta_topk_shared_mt`.
pub(super) struct TopkShared {
    pub threads: usize,
    pub args: SharedArgs,
    pub out: TopkOut,
}

impl Entry for TopkShared {
    unsafe fn spans(&self) -> Result<Spans> {
        check_k(self.out.k)?;
        let (layout, queries, history) = self.args.spans()?;
        Ok(Spans {
            layout,
            inputs: [queries, history, Span::NONE, Span::NONE],
            outputs: self.out.spans(self.args.b, 1)?,
        })
    }

    unsafe fn call<T: Lane>(self, spans: &Spans) -> Result<()> {
        let ([queries, history, ..], [idx, dist, filled]) = (spans.inputs, spans.outputs);
        // SAFETY: all spans checked for these pointers and disjoint (`run`).
        let (queries, history) = unsafe { self.args.views::<T>(queries, history)? };
        // SAFETY: as above; writable by the caller's contract.
        let (idx, dist) = unsafe { (output(idx, self.out.idx), output(dist, self.out.dist)) };
        let k = self.out.k;
        let n = Engine::current()
            .parallel(self.threads)
            .topk_shared(queries, history, k, idx, dist)?;
        if !self.out.filled.is_null() {
            // `n = min(k, l) <= l <= ETA_MAX_HISTORY_LEN < 2^32` (checked by the shape): exact.
            debug_assert!(u32::try_from(n).is_ok());
            // SAFETY: checked non-null, aligned and disjoint above; a raw store, no reference.
            unsafe { RawOutput::new(filled, self.out.filled) }.write(0, n as u32);
        }
        Ok(())
    }
}

/// `eta_topk_batch` and `eta_topk_batch_mt`.
struct TopkBatch {
    threads: usize,
    args: BatchArgs,
    out: TopkOut,
}

impl Entry for TopkBatch {
    unsafe fn spans(&self) -> Result<Spans> {
        check_k(self.out.k)?;
        let (layout, queries, histories) = self.args.spans()?;
        let outputs = self.out.spans(self.args.b, self.args.b)?;
        // SAFETY: forwarded contract.
        let lens = unsafe { self.args.lens()? };
        Ok(Spans {
            layout,
            inputs: [queries, histories, lens, Span::NONE],
            outputs,
        })
    }

    unsafe fn call<T: Lane>(self, spans: &Spans) -> Result<()> {
        let ([queries, histories, lens, _], [idx, dist, filled]) = (spans.inputs, spans.outputs);
        // SAFETY: all spans checked for these pointers and disjoint (`run`).
        let (queries, histories) = unsafe { self.args.views::<T>(queries, histories, lens)? };
        // SAFETY: as above; writable by the caller's contract.
        let (idx, dist) = unsafe { (output(idx, self.out.idx), output(dist, self.out.dist)) };
        let mut scratch;
        let filled = if self.out.filled.is_null() {
            scratch = vec![0u32; self.args.b];
            &mut scratch[..]
        } else {
            // SAFETY: as above.
            unsafe { output(filled, self.out.filled) }
        };
        let k = self.out.k;
        Engine::current()
            .parallel(self.threads)
            .topk_batch(queries, histories, k, idx, dist, filled)
    }
}

/// `eta_distances_shared`.
pub(super) struct DistancesShared {
    pub args: SharedArgs,
    pub out: *mut u16,
}

impl Entry for DistancesShared {
    unsafe fn spans(&self) -> Result<Spans> {
        let (layout, queries, history) = self.args.spans()?;
        let out = span("out", self.out.cast_const(), mul(self.args.b, self.args.l)?)?;
        Ok(Spans {
            layout,
            inputs: [queries, history, Span::NONE, Span::NONE],
            outputs: [out, Span::NONE, Span::NONE],
        })
    }

    unsafe fn call<T: Lane>(self, spans: &Spans) -> Result<()> {
        let ([queries, history, ..], [out, ..]) = (spans.inputs, spans.outputs);
        // SAFETY: all spans checked for these pointers and disjoint (`run`); `out` writable by
        // the caller's contract.
        let ((queries, history), out) = unsafe {
            (
                self.args.views::<T>(queries, history)?,
                output(out, self.out),
            )
        };
        search::distances_shared(queries, history, out)
    }
}

/// `eta_distances_batch`.
struct DistancesBatch {
    args: BatchArgs,
    out: *mut u16,
}

impl Entry for DistancesBatch {
    unsafe fn spans(&self) -> Result<Spans> {
        let (layout, queries, histories) = self.args.spans()?;
        let out = span("out", self.out.cast_const(), mul(self.args.b, self.args.l)?)?;
        // SAFETY: forwarded contract.
        let lens = unsafe { self.args.lens()? };
        Ok(Spans {
            layout,
            inputs: [queries, histories, lens, Span::NONE],
            outputs: [out, Span::NONE, Span::NONE],
        })
    }

    unsafe fn call<T: Lane>(self, spans: &Spans) -> Result<()> {
        let ([queries, histories, lens, _], [out, ..]) = (spans.inputs, spans.outputs);
        // SAFETY: all spans checked for these pointers and disjoint (`run`); `out` writable by
        // the caller's contract.
        let ((queries, histories), out) = unsafe {
            (
                self.args.views::<T>(queries, histories, lens)?,
                output(out, self.out),
            )
        };
        search::distances_batch(queries, histories, out)
    }
}

/// For each of `b` queries, the `k` nearest of the `l` items of one shared history.
///
/// `queries`: `b x lanes` lanes. `history`: lane `w` of item `i` at `history[w * stride + i]`
/// (`stride >= l`, at least `(lanes - 1) * stride + l` lanes). Outputs: `out_idx` (`uint32_t`)
/// and `out_dist` (`uint16_t`), `b x k` each, query `q`'s `j`-th result at `q * k + j`, sorted
/// by (distance, index); slots past `min(k, l)` hold `ETA_EMPTY_INDEX` / `ETA_EMPTY_DISTANCE`.
/// `out_filled` (optional, may be NULL) receives `min(k, l)` (a `uint32_t`, as in
/// `eta_topk_batch`).
///
/// # Safety
/// Every pointer is valid for the elements its shape names (or NULL where that is zero, or
/// where optional), and fingerprint pointers are aligned to the lane type.
#[no_mangle]
#[must_use = "a status other than ETA_STATUS_OK means nothing was done"]
#[allow(clippy::too_many_arguments)] // The C signature is flat: one argument per shape value and buffer.
pub unsafe extern "C" fn eta_topk_shared(
    queries: *const c_void,
    b: usize,
    history: *const c_void,
    l: usize,
    stride: usize,
    m: usize,
    k: usize,
    out_idx: *mut u32,
    out_dist: *mut u16,
    out_filled: *mut u32,
) -> EtaStatus {
    let args = SharedArgs {
        queries,
        b,
        history,
        l,
        stride,
        m,
    };
    let out = TopkOut {
        k,
        idx: out_idx,
        dist: out_dist,
        filled: out_filled,
    };
    // SAFETY: forwarded contract.
    unsafe {
        run(TopkShared {
            threads: 1,
            args,
            out,
        })
    }
}

/// `eta_topk_shared` spread over up to `threads` threads (0: every available core): the queries
/// are split when there are many, the history when there are few (one user, one candidate, a
/// very long history). The result is identical to `eta_topk_shared`'s. The work runs on a
/// process-wide pool of `cores - 1` worker threads, started on the first call that splits and
/// kept for the life of the process, and on the calling thread, which always does a share;
/// any number of threads may call at once, and every call returns only when all of its work is
/// done. With `threads = 0` a call is split only when each thread gets enough work to pay for
/// it: at least 32768 fingerprint comparisons per thread (a call counts `B * (L + 1024)`) while
/// a worker is awake, 64 times as many while every worker sleeps; an explicit count is honoured
/// (parts beyond the pool's size wait their turn; at most 1024).
///
/// # Safety
/// As `eta_topk_shared`.
#[no_mangle]
#[must_use = "a status other than ETA_STATUS_OK means nothing was done"]
#[allow(clippy::too_many_arguments)] // The C signature is flat: one argument per shape value and buffer.
pub unsafe extern "C" fn eta_topk_shared_mt(
    queries: *const c_void,
    b: usize,
    history: *const c_void,
    l: usize,
    stride: usize,
    m: usize,
    k: usize,
    out_idx: *mut u32,
    out_dist: *mut u16,
    out_filled: *mut u32,
    threads: usize,
) -> EtaStatus {
    let args = SharedArgs {
        queries,
        b,
        history,
        l,
        stride,
        m,
    };
    let out = TopkOut {
        k,
        idx: out_idx,
        dist: out_dist,
        filled: out_filled,
    };
    // SAFETY: forwarded contract.
    unsafe { run(TopkShared { threads, args, out }) }
}

/// For each query `q`, the `k` nearest of the first `lens[q]` items of its own history `q`.
///
/// `histories`: `b` histories of capacity `l` at one stride, lane `w` of item `i` of history `q`
/// at `histories[(q * lanes + w) * stride + i]` (`stride >= l`, at least
/// `(b * lanes - 1) * stride + l` lanes). `lens`: `b` values, each `<= l`. Outputs as in
/// `eta_topk_shared`; `out_filled` (optional) receives `b` values `min(k, lens[q])`.
///
/// # Safety
/// As `eta_topk_shared`; `lens` is readable for `b` values.
#[no_mangle]
#[must_use = "a status other than ETA_STATUS_OK means nothing was done"]
#[allow(clippy::too_many_arguments)] // The C signature is flat: one argument per shape value and buffer.
pub unsafe extern "C" fn eta_topk_batch(
    queries: *const c_void,
    b: usize,
    histories: *const c_void,
    l: usize,
    stride: usize,
    lens: *const u32,
    m: usize,
    k: usize,
    out_idx: *mut u32,
    out_dist: *mut u16,
    out_filled: *mut u32,
) -> EtaStatus {
    let args = BatchArgs {
        queries,
        b,
        histories,
        l,
        stride,
        lens,
        m,
    };
    let out = TopkOut {
        k,
        idx: out_idx,
        dist: out_dist,
        filled: out_filled,
    };
    // SAFETY: forwarded contract.
    unsafe {
        run(TopkBatch {
            threads: 1,
            args,
            out,
        })
    }
}

/// `eta_topk_batch` spread over up to `threads` threads (0: every available core), split by
/// queries. The result is identical to `eta_topk_batch`'s; thread counts as in
/// `eta_topk_shared_mt`.
///
/// # Safety
/// As `eta_topk_batch`.
#[no_mangle]
#[must_use = "a status other than ETA_STATUS_OK means nothing was done"]
#[allow(clippy::too_many_arguments)] // The C signature is flat: one argument per shape value and buffer.
pub unsafe extern "C" fn eta_topk_batch_mt(
    queries: *const c_void,
    b: usize,
    histories: *const c_void,
    l: usize,
    stride: usize,
    lens: *const u32,
    m: usize,
    k: usize,
    out_idx: *mut u32,
    out_dist: *mut u16,
    out_filled: *mut u32,
    threads: usize,
) -> EtaStatus {
    let args = BatchArgs {
        queries,
        b,
        histories,
        l,
        stride,
        lens,
        m,
    };
    let out = TopkOut {
        k,
        idx: out_idx,
        dist: out_dist,
        filled: out_filled,
    };
    // SAFETY: forwarded contract.
    unsafe { run(TopkBatch { threads, args, out }) }
}

/// Every distance between each of `b` queries and each of the `l` items of a shared history:
/// `out[q * l + i]` (`b x l` `uint16_t`). Shapes as in `eta_topk_shared`.
///
/// # Safety
/// As `eta_topk_shared`; `out` is writable for `b * l` values.
#[no_mangle]
#[must_use = "a status other than ETA_STATUS_OK means nothing was done"]
pub unsafe extern "C" fn eta_distances_shared(
    queries: *const c_void,
    b: usize,
    history: *const c_void,
    l: usize,
    stride: usize,
    m: usize,
    out: *mut u16,
) -> EtaStatus {
    let args = SharedArgs {
        queries,
        b,
        history,
        l,
        stride,
        m,
    };
    // SAFETY: forwarded contract.
    unsafe { run(DistancesShared { args, out }) }
}

/// Every distance between query `q` and the items of its own history: `out[q * l + i]`
/// (`b x l` `uint16_t`); slots at and past `lens[q]` receive `ETA_EMPTY_DISTANCE`. Shapes as in
/// `eta_topk_batch`.
///
/// # Safety
/// As `eta_topk_batch`; `out` is writable for `b * l` values.
#[no_mangle]
#[must_use = "a status other than ETA_STATUS_OK means nothing was done"]
#[allow(clippy::too_many_arguments)] // The C signature is flat: one argument per shape value and buffer.
pub unsafe extern "C" fn eta_distances_batch(
    queries: *const c_void,
    b: usize,
    histories: *const c_void,
    l: usize,
    stride: usize,
    lens: *const u32,
    m: usize,
    out: *mut u16,
) -> EtaStatus {
    let args = BatchArgs {
        queries,
        b,
        histories,
        l,
        stride,
        lens,
        m,
    };
    // SAFETY: forwarded contract.
    unsafe { run(DistancesBatch { args, out }) }
}
