//! Handles (issue 11 item 4): an opaque `eta_fingerprints` (fingerprints in query layout) and
//! `eta_history` (one history at a stride) that record `m`, the length, the capacity and the
//! stride beside their buffer, so that the scans taking handles cannot mix widths or shapes
//! (`ETA_STATUS_INVALID_BITS`, nothing written). A handle owns a zeroed buffer
//! (`eta_*_new`) or borrows the caller's (`eta_history_wrap`). Every call on a handle goes
//! through the same steps as the raw entry points (`span::run_result`: shape, spans, overlap,
//! views), with the handle's pointer and shape as the arguments; no reference to a handle is
//! held while caller buffers are viewed (its fields are copied out first).

use core::ffi::c_void;

use super::hasher::{hasher_ref, Encode, EtaHasher};
use super::scan::{DistancesShared, SharedArgs, TopkOut, TopkShared};
use super::span::{run_result, span};
use super::{guard, status};
use crate::error::{Error, EtaStatus, Result};
use crate::layout::{mul, Layout};
use crate::shape::{check_history_shape, fingerprint_lanes, history_lanes, padded_stride};

/// Fingerprints in query layout (opaque): `len` of at most `capacity` fingerprints of `m` bits,
/// in a zeroed buffer the handle owns. Made by `eta_fingerprints_new`, filled by
/// `eta_fingerprints_encode`, released by `eta_fingerprints_free`. Many threads may read one
/// handle at once (scans); a call that writes it (encode) needs it to itself.
pub struct EtaFingerprints {
    ptr: *mut c_void,
    _owned: Vec<u64>,
    m: usize,
    len: usize,
    capacity: usize,
}

/// One history (opaque): `len` of at most `capacity` items of `m` bits, lane `w` of item `i` at
/// `w * stride + i` of its buffer, which the handle owns (`eta_history_new`: zeroed, the stride
/// rounded up to 64 items) or borrows (`eta_history_wrap`). Released by `eta_history_free`
/// (which never frees a borrowed buffer). Threads as for `eta_fingerprints`.
pub struct EtaHistory {
    ptr: *mut c_void,
    _owned: Vec<u64>,
    m: usize,
    len: usize,
    capacity: usize,
    stride: usize,
}

// SAFETY: a handle is plain data plus a buffer it owns or that the caller lent for its life;
// the C contract says who may write it when (one writer, or many readers).
unsafe impl Send for EtaHistory {}
// SAFETY: as above.
unsafe impl Sync for EtaHistory {}
// SAFETY: as above (the pointer is into the buffer the handle owns).
unsafe impl Send for EtaFingerprints {}
// SAFETY: as above.
unsafe impl Sync for EtaFingerprints {}

/// A zeroed buffer of `lanes` lanes of `layout`'s lane type (`u64` words, so aligned for every
/// lane type), or `Error::SizeOverflow` / `Error::OutOfMemory`.
fn zeroed(layout: Layout, lanes: usize) -> Result<Vec<u64>> {
    let bytes = mul(lanes, layout.lane_type().bytes())?;
    if bytes > isize::MAX as usize {
        return Err(Error::SizeOverflow);
    }
    let words = bytes.div_ceil(8);
    let mut v = Vec::new();
    v.try_reserve_exact(words).map_err(|_| Error::OutOfMemory)?;
    v.resize(words, 0);
    Ok(v)
}

/// Stores a new handle in `out`, after checking `out` like every other pointer.
///
/// # Safety
/// `out` is NULL or valid for writing one pointer.
unsafe fn publish<H>(out: *mut *mut H, handle: H) -> Result<()> {
    span("out", out.cast_const(), 1)?;
    // SAFETY: checked non-null and aligned; writable by the caller's contract.
    unsafe { out.write(Box::into_raw(Box::new(handle))) };
    Ok(())
}

/// # Safety
/// `p` is NULL or a live handle.
unsafe fn live<'a, H>(p: *const H, what: &'static str) -> Result<&'a H> {
    // SAFETY: NULL or live by the caller's contract.
    unsafe { p.as_ref() }.ok_or(Error::NullPointer { what })
}

/// Makes an empty fingerprints handle for up to `capacity` fingerprints of `m` bits (a zeroed
/// buffer it owns) and stores it in `*out`. Errors: `out` NULL or misaligned, `m` outside
/// `1..=4096`, sizes overflowing, memory.
///
/// # Safety
/// `out` is NULL or valid for writing one pointer.
#[no_mangle]
#[must_use = "a status other than ETA_STATUS_OK means nothing was done"]
pub unsafe extern "C" fn eta_fingerprints_new(
    m: usize,
    capacity: usize,
    out: *mut *mut EtaFingerprints,
) -> EtaStatus {
    status(|| {
        span("out", out.cast_const(), 1)?;
        let layout = Layout::new(m)?;
        let mut owned = zeroed(layout, fingerprint_lanes(layout, capacity)?)?;
        let handle = EtaFingerprints {
            ptr: owned.as_mut_ptr().cast(),
            _owned: owned,
            m,
            len: 0,
            capacity,
        };
        // SAFETY: forwarded contract.
        unsafe { publish(out, handle) }
    })
}

/// Releases a fingerprints handle. NULL is a no-op.
///
/// # Safety
/// `fps` is NULL or a handle from `eta_fingerprints_new` not yet freed; no call may use it after.
#[no_mangle]
pub unsafe extern "C" fn eta_fingerprints_free(fps: *mut EtaFingerprints) {
    guard((), || {
        if !fps.is_null() {
            // SAFETY: made by `Box::into_raw` in `publish`, freed once by the caller's contract.
            drop(unsafe { Box::from_raw(fps) });
        }
    })
}

/// Hashes `n` embeddings (`n x d` floats) with `hasher` into the handle, which then holds `n`
/// fingerprints. Errors: NULL handle, hasher or `emb`; the hasher's `m` differs from the
/// handle's (`ETA_STATUS_INVALID_BITS`); `n` above the capacity
/// (`ETA_STATUS_LEN_EXCEEDS_CAPACITY`); `emb` overlapping the handle's buffer. On error the
/// handle is unchanged.
///
/// # Safety
/// `fps` is NULL or a live handle no other thread uses during the call; `hasher` NULL or live;
/// `emb` readable for `n * d` floats.
#[no_mangle]
#[must_use = "a status other than ETA_STATUS_OK means nothing was done"]
pub unsafe extern "C" fn eta_fingerprints_encode(
    fps: *mut EtaFingerprints,
    hasher: *const EtaHasher,
    emb: *const f32,
    n: usize,
) -> EtaStatus {
    status(|| {
        // The fields are copied: no reference to the handle outlives this block.
        let (ptr, m, capacity) = {
            // SAFETY: forwarded contract.
            let f = unsafe { live(fps, "fingerprints")? };
            (f.ptr, f.m, f.capacity)
        };
        // SAFETY: the handle's buffer holds `capacity` fingerprints of width `m`; the rest by
        // the caller's contract.
        unsafe { encode_into(hasher, emb, n, ptr, m, capacity, None)? };
        // SAFETY: live and used by this thread alone (contract); no view of it remains.
        unsafe { (*fps).len = n };
        Ok(())
    })
}

/// Hashes `n` embeddings with `hasher` into a handle's buffer `out` (width `m`, room for
/// `capacity` items, lane rows `stride` apart for a history, `None` for query layout), after
/// checking that the hasher's width is `m` (`InvalidBits`) and `n <= capacity`
/// (`LenExceedsCapacity`). The caller records the new length only on success.
///
/// # Safety
/// `hasher` is NULL or live; `out` is a handle's buffer of that shape; `emb` readable for
/// `n * d` floats.
unsafe fn encode_into(
    hasher: *const EtaHasher,
    emb: *const f32,
    n: usize,
    out: *mut c_void,
    m: usize,
    capacity: usize,
    stride: Option<usize>,
) -> Result<()> {
    // SAFETY: forwarded contract.
    let bits = unsafe { hasher_ref(hasher)? }.bits();
    if bits != m {
        return Err(Error::InvalidBits { m: bits });
    }
    if n > capacity {
        return Err(Error::LenExceedsCapacity {
            index: 0,
            len: n,
            capacity,
        });
    }
    let encode = Encode {
        hasher,
        emb,
        n,
        out,
        stride,
    };
    // SAFETY: the buffer holds `capacity >= n` items of the hasher's `m` (at `stride` when
    // given); the rest by the caller's contract.
    unsafe { run_result(encode) }
}

/// The number of fingerprints the handle holds; 0 for NULL.
///
/// # Safety
/// `fps` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn eta_fingerprints_len(fps: *const EtaFingerprints) -> usize {
    guard(0, || {
        // SAFETY: forwarded contract.
        unsafe { live(fps, "fingerprints") }.map_or(0, |f| f.len)
    })
}

/// The fingerprint width `m` of the handle; 0 for NULL.
///
/// # Safety
/// `fps` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn eta_fingerprints_bits(fps: *const EtaFingerprints) -> usize {
    guard(0, || {
        // SAFETY: forwarded contract.
        unsafe { live(fps, "fingerprints") }.map_or(0, |f| f.m)
    })
}

/// The handle's fingerprints, `len x lanes` lanes in query layout (valid until the handle is
/// freed or written); NULL for NULL.
///
/// # Safety
/// `fps` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn eta_fingerprints_data(fps: *const EtaFingerprints) -> *const c_void {
    guard(core::ptr::null(), || {
        // SAFETY: forwarded contract.
        unsafe { live(fps, "fingerprints") }.map_or(core::ptr::null(), |f| f.ptr.cast_const())
    })
}

/// Makes an empty history handle for up to `capacity` items of `m` bits: a zeroed buffer it
/// owns, its stride `capacity` rounded up to a multiple of 64. Errors as
/// `eta_fingerprints_new`, and `capacity` above `ETA_MAX_HISTORY_LEN`.
///
/// # Safety
/// `out` is NULL or valid for writing one pointer.
#[no_mangle]
#[must_use = "a status other than ETA_STATUS_OK means nothing was done"]
pub unsafe extern "C" fn eta_history_new(
    m: usize,
    capacity: usize,
    out: *mut *mut EtaHistory,
) -> EtaStatus {
    status(|| {
        span("out", out.cast_const(), 1)?;
        let layout = Layout::new(m)?;
        check_history_shape(capacity, capacity)?;
        let stride = padded_stride(capacity)?;
        let mut owned = zeroed(layout, mul(layout.lanes(), stride)?)?;
        let handle = EtaHistory {
            ptr: owned.as_mut_ptr().cast(),
            _owned: owned,
            m,
            len: 0,
            capacity,
            stride,
        };
        // SAFETY: forwarded contract.
        unsafe { publish(out, handle) }
    })
}

/// Makes a history handle that borrows the caller's history `lanes` (`len` items of `m` bits,
/// capacity `capacity`, lane `w` of item `i` at `lanes[w * stride + i]`), checked like the raw
/// scans' arguments: `m` valid, `len <= capacity <= stride`, `capacity <=
/// ETA_MAX_HISTORY_LEN`, `lanes` aligned to the lane type and non-NULL unless empty.
/// `eta_history_free` releases the handle, never the buffer.
///
/// # Safety
/// `lanes` stays valid, initialised over `(lanes_per_fingerprint - 1) * stride + capacity` lanes
/// (padding included), until the handle is freed; it is written only by calls that write the
/// handle (`eta_history_encode`), and the caller writes it only when no call uses the handle.
#[no_mangle]
#[must_use = "a status other than ETA_STATUS_OK means nothing was done"]
pub unsafe extern "C" fn eta_history_wrap(
    lanes: *mut c_void,
    m: usize,
    len: usize,
    capacity: usize,
    stride: usize,
    out: *mut *mut EtaHistory,
) -> EtaStatus {
    status(|| {
        span("out", out.cast_const(), 1)?;
        let layout = Layout::new(m)?;
        let span_lanes = history_lanes(layout.lanes(), capacity, stride)?;
        if len > capacity {
            return Err(Error::LenExceedsCapacity {
                index: 0,
                len,
                capacity,
            });
        }
        super::span::lanes_span("lanes", layout, lanes.cast_const(), span_lanes)?;
        let handle = EtaHistory {
            ptr: lanes,
            _owned: Vec::new(),
            m,
            len,
            capacity,
            stride,
        };
        // SAFETY: forwarded contract.
        unsafe { publish(out, handle) }
    })
}

/// Releases a history handle (and its buffer if it owns it). NULL is a no-op.
///
/// # Safety
/// `history` is NULL or a handle from `eta_history_new` / `eta_history_wrap` not yet freed; no
/// call may use it after.
#[no_mangle]
pub unsafe extern "C" fn eta_history_free(history: *mut EtaHistory) {
    guard((), || {
        if !history.is_null() {
            // SAFETY: made by `Box::into_raw` in `publish`, freed once by the caller's contract.
            drop(unsafe { Box::from_raw(history) });
        }
    })
}

/// Hashes `n` embeddings (`n x d` floats) with `hasher` into the history, which then holds `n`
/// items (written at the handle's stride; padding untouched). Errors as
/// `eta_fingerprints_encode`; on error the handle is unchanged.
///
/// # Safety
/// `history` is NULL or a live handle no other thread uses during the call; `hasher` NULL or
/// live; `emb` readable for `n * d` floats.
#[no_mangle]
#[must_use = "a status other than ETA_STATUS_OK means nothing was done"]
pub unsafe extern "C" fn eta_history_encode(
    history: *mut EtaHistory,
    hasher: *const EtaHasher,
    emb: *const f32,
    n: usize,
) -> EtaStatus {
    status(|| {
        // The fields are copied: no reference to the handle outlives this block.
        let (ptr, m, capacity, stride) = {
            // SAFETY: forwarded contract.
            let h = unsafe { live(history, "history")? };
            (h.ptr, h.m, h.capacity, h.stride)
        };
        // SAFETY: the handle's buffer spans `capacity` items of width `m` at `stride`; the rest
        // by the caller's contract.
        unsafe { encode_into(hasher, emb, n, ptr, m, capacity, Some(stride))? };
        // SAFETY: live and used by this thread alone (contract); no view of it remains.
        unsafe { (*history).len = n };
        Ok(())
    })
}

/// The number of items the history holds; 0 for NULL.
///
/// # Safety
/// `history` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn eta_history_len(history: *const EtaHistory) -> usize {
    guard(0, || {
        // SAFETY: forwarded contract.
        unsafe { live(history, "history") }.map_or(0, |h| h.len)
    })
}

/// The fingerprint width `m` of the history; 0 for NULL.
///
/// # Safety
/// `history` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn eta_history_bits(history: *const EtaHistory) -> usize {
    // SAFETY: forwarded contract.
    guard(0, || unsafe { live(history, "history") }.map_or(0, |h| h.m))
}

/// The stride of the history's buffer (items between two lane rows); 0 for NULL.
///
/// # Safety
/// `history` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn eta_history_stride(history: *const EtaHistory) -> usize {
    guard(0, || {
        // SAFETY: forwarded contract.
        unsafe { live(history, "history") }.map_or(0, |h| h.stride)
    })
}

/// The history's buffer (lane `w` of item `i` at `[w * stride + i]`); NULL for NULL.
///
/// # Safety
/// `history` is NULL or a live handle.
#[no_mangle]
pub unsafe extern "C" fn eta_history_data(history: *const EtaHistory) -> *const c_void {
    guard(core::ptr::null(), || {
        // SAFETY: forwarded contract.
        unsafe { live(history, "history") }.map_or(core::ptr::null(), |h| h.ptr.cast_const())
    })
}

/// The raw scans' arguments for `queries` against `history`, after checking that both hold
/// fingerprints of one `m` (`Error::InvalidBits` otherwise).
///
/// # Safety
/// Both are NULL or live handles.
unsafe fn shared_args(
    queries: *const EtaFingerprints,
    history: *const EtaHistory,
) -> Result<SharedArgs> {
    // SAFETY: forwarded contract; the fields are copied, no reference outlives this block.
    let (q, h) = unsafe { (live(queries, "queries")?, live(history, "history")?) };
    if q.m != h.m {
        return Err(Error::InvalidBits { m: q.m });
    }
    Ok(SharedArgs {
        queries: q.ptr.cast_const(),
        b: q.len,
        history: h.ptr.cast_const(),
        l: h.len,
        stride: h.stride,
        m: q.m,
    })
}

/// `eta_topk_shared_mt` over handles: for each of the handle's queries, the `k` nearest items of
/// the history (outputs `len(queries) x k`, `out_filled` optional). Fingerprints and history of
/// different `m` are `ETA_STATUS_INVALID_BITS`, with nothing written. `threads` as in
/// `eta_topk_shared_mt` (1: the calling thread only).
///
/// # Safety
/// Both handles are NULL or live and not written during the call; the outputs are writable for
/// `len(queries) * k` values (one for `out_filled`).
#[no_mangle]
#[allow(clippy::too_many_arguments)] // The C signature is flat: one argument per buffer.
#[must_use = "a status other than ETA_STATUS_OK means nothing was done"]
pub unsafe extern "C" fn eta_topk_history(
    queries: *const EtaFingerprints,
    history: *const EtaHistory,
    k: usize,
    out_idx: *mut u32,
    out_dist: *mut u16,
    out_filled: *mut u32,
    threads: usize,
) -> EtaStatus {
    status(|| {
        // SAFETY: forwarded contract.
        let args = unsafe { shared_args(queries, history)? };
        let out = TopkOut {
            k,
            idx: out_idx,
            dist: out_dist,
            filled: out_filled,
        };
        // SAFETY: the handles' buffers hold what their recorded shapes name; the outputs by
        // the caller's contract.
        unsafe { run_result(TopkShared { threads, args, out }) }
    })
}

/// `eta_distances_shared` over handles: every distance, `out[q * len(history) + i]`. Widths
/// as in `eta_topk_history`.
///
/// # Safety
/// Both handles are NULL or live and not written during the call; `out` is writable for
/// `len(queries) * len(history)` values.
#[no_mangle]
#[must_use = "a status other than ETA_STATUS_OK means nothing was done"]
pub unsafe extern "C" fn eta_distances_history(
    queries: *const EtaFingerprints,
    history: *const EtaHistory,
    out: *mut u16,
) -> EtaStatus {
    status(|| {
        // SAFETY: forwarded contract.
        let args = unsafe { shared_args(queries, history)? };
        // SAFETY: as in `eta_topk_history`.
        unsafe { run_result(DistancesShared { args, out }) }
    })
}
