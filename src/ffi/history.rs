//! History builders into caller memory: fingerprints laid one after another, or rows of a
//! fingerprint table picked by id, written as a history at the caller's stride.

use core::ffi::c_void;

use super::span::{input, lanes_span, run, span, Entry, RawOutput, Span, Spans};
use crate::error::{EtaStatus, Result};
use crate::fingerprints::FingerprintsRef;
use crate::layout::{Lane, Layout};
use crate::shape::{check_ids, fingerprint_lanes, history_lanes};

/// `eta_history_from_fingerprints`.
struct FromFingerprints {
    fps: *const c_void,
    l: usize,
    m: usize,
    out: *mut c_void,
    stride: usize,
}

impl Entry for FromFingerprints {
    unsafe fn spans(&self) -> Result<Spans> {
        let layout = Layout::new(self.m)?;
        let out = history_lanes(layout.lanes(), self.l, self.stride)?;
        let fps = lanes_span("fps", layout, self.fps, fingerprint_lanes(layout, self.l)?)?;
        let out = lanes_span("out", layout, self.out.cast_const(), out)?;
        Ok(Spans {
            layout,
            inputs: [fps, Span::NONE, Span::NONE, Span::NONE],
            outputs: [out, Span::NONE, Span::NONE],
        })
    }

    unsafe fn call<T: Lane>(self, spans: &Spans) -> Result<()> {
        let ([fps, ..], [out, ..]) = (spans.inputs, spans.outputs);
        // SAFETY: spans checked for these pointers and disjoint (`run`); readable and writable
        // by the caller's contract.
        let (fps, out) = unsafe {
            (
                input(fps, self.fps.cast::<T>()),
                RawOutput::new(out, self.out.cast::<T>()),
            )
        };
        let lanes = FingerprintsRef::new::<T>(self.m, self.l, fps)?
            .layout()
            .lanes();
        scatter(fps.chunks_exact(lanes), out, self.stride);
        Ok(())
    }
}

/// Stores fingerprint `i` of `items` (each `lanes` lanes) as item `i` of a history at `stride`
/// through the raw view: only lanes `w * stride + i` are written, padding is neither written nor
/// covered by a reference (it may be uninitialised caller memory).
fn scatter<'a, T: Lane>(
    items: impl Iterator<Item = &'a [T]>,
    mut out: RawOutput<T>,
    stride: usize,
) {
    for (i, fp) in items.enumerate() {
        for (w, &lane) in fp.iter().enumerate() {
            out.write(w * stride + i, lane);
        }
    }
}

/// `eta_history_gather`.
struct Gather {
    table: *const c_void,
    table_len: usize,
    m: usize,
    ids: *const u64,
    l: usize,
    out: *mut c_void,
    stride: usize,
}

impl Entry for Gather {
    unsafe fn spans(&self) -> Result<Spans> {
        let layout = Layout::new(self.m)?;
        let out = history_lanes(layout.lanes(), self.l, self.stride)?;
        let table_lanes = fingerprint_lanes(layout, self.table_len)?;
        let table = lanes_span("table", layout, self.table, table_lanes)?;
        let out = lanes_span("out", layout, self.out.cast_const(), out)?;
        let ids = span("ids", self.ids, self.l)?;
        Ok(Spans {
            layout,
            inputs: [table, ids, Span::NONE, Span::NONE],
            outputs: [out, Span::NONE, Span::NONE],
        })
    }

    unsafe fn call<T: Lane>(self, spans: &Spans) -> Result<()> {
        let ([table, ids, ..], [out, ..]) = (spans.inputs, spans.outputs);
        // SAFETY: spans checked for these pointers and disjoint (`run`); readable and writable
        // by the caller's contract.
        let (table, ids, out) = unsafe {
            (
                input(table, self.table.cast::<T>()),
                input(ids, self.ids),
                RawOutput::new(out, self.out.cast::<T>()),
            )
        };
        let lanes = FingerprintsRef::new::<T>(self.m, self.table_len, table)?
            .layout()
            .lanes();
        // Every id first: one out of range is an error with nothing written.
        check_ids(ids, self.table_len, 0)?;
        let rows = ids.iter().map(|&id| &table[id as usize * lanes..][..lanes]);
        scatter(rows, out, self.stride);
        Ok(())
    }
}

/// Writes `l` fingerprints laid one after another (`fps`, `l x lanes` lanes) as a history into
/// `out` (lane `w` of item `i` at `out[w * stride + i]`, `stride >= l`); positions between `l`
/// and `stride` are not written.
///
/// # Safety
/// `fps` is readable for `l * lanes` lanes, `out` writable for `(lanes - 1) * stride + l` lanes,
/// both aligned to the lane type.
#[no_mangle]
#[must_use = "a status other than ETA_STATUS_OK means nothing was done"]
pub unsafe extern "C" fn eta_history_from_fingerprints(
    fps: *const c_void,
    l: usize,
    m: usize,
    out: *mut c_void,
    stride: usize,
) -> EtaStatus {
    // SAFETY: forwarded contract.
    unsafe {
        run(FromFingerprints {
            fps,
            l,
            m,
            out,
            stride,
        })
    }
}

/// Writes the history whose item `i` is row `ids[i]` of the fingerprint table `table`
/// (`table_len` fingerprints laid one after another) into `out` (lane `w` of item `i` at
/// `out[w * stride + i]`, `stride >= l`). Every id is checked first: one `>= table_len` is
/// `ETA_STATUS_ID_OUT_OF_RANGE` and nothing is written. (Signed 64-bit ids, as torch's, may be
/// passed as they are: a negative id reads as a huge one and is rejected.)
///
/// # Safety
/// `table` is readable for `table_len * lanes` lanes, `ids` for `l` values, `out` writable for
/// `(lanes - 1) * stride + l` lanes; fingerprint pointers aligned to the lane type.
#[no_mangle]
#[must_use = "a status other than ETA_STATUS_OK means nothing was done"]
pub unsafe extern "C" fn eta_history_gather(
    table: *const c_void,
    table_len: usize,
    m: usize,
    ids: *const u64,
    l: usize,
    out: *mut c_void,
    stride: usize,
) -> EtaStatus {
    let args = Gather {
        table,
        table_len,
        m,
        ids,
        l,
        out,
        stride,
    };
    // SAFETY: forwarded contract.
    unsafe { run(args) }
}
