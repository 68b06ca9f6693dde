//! The C ABI, declared in `include/eta_hamming.h` (generated from this file by cbindgen).
//!
//! Conventions, for every function:
//! - Functions that can fail return an `eta_status`; `ETA_STATUS_OK` is 0. On any other status
//!   nothing has been written to any output.
//! - Every argument is validated before anything is written: `m` in `1..=4096`, `K >= 1`,
//!   `d >= 1`, `stride >= L`, `L < 2^32 - 1`, `lens[b] <= L`, ids inside the table, products of
//!   sizes that fit `size_t` (and `PTRDIFF_MAX` bytes), pointers aligned to their element type,
//!   and outputs that overlap no input or other output.
//! - A pointer may be NULL only when the size it describes is zero (an empty `std::vector`'s
//!   `data()` is fine); the documented optional outputs may always be NULL.
//! - Buffer sizes are implied by the shapes (as in BLAS): the library reads and writes exactly the
//!   elements the shape names, so the caller must pass buffers at least that large.
//! - Fingerprints are passed as `void *` because their lane type depends on `m`: `uint8_t` for
//!   `m <= 8`, `uint16_t` for `m <= 16`, `uint32_t` for `m <= 32`, else `ceil(m / 64)`
//!   `uint64_t` words; `eta_fingerprint_lanes()` and `eta_fingerprint_lane_bytes()` say which.
//!   Bits at and above `m` must be zero (the library always writes them zero).
//! - No panic crosses this boundary: one that escaped the library's checks would be caught and
//!   reported as `ETA_STATUS_INTERNAL`.
//! - Thread safety: every function may be called from any number of threads at once, with the
//!   same hasher too; `eta_isa_force` and `eta_isa_reset` change a process-wide choice, which
//!   calls already running do not see.

use core::ffi::{c_char, CStr};
use core::panic::AssertUnwindSafe;
use core::{mem, slice};

use crate::dispatch::{Engine, Isa};
use crate::error::{Error, EtaStatus, Result};
use crate::fingerprints::{
    batch_span, check_history_shape, history_span, with_lane_type, FingerprintsRef,
    HistoryBatchRef, HistoryRef,
};
use crate::layout::{mul, Layout};
use crate::simhash::SimHasher;
use crate::topk;

/// Bits a fingerprint may have at most.
pub const ETA_MAX_BITS: usize = 4096;
/// Index of an empty top-K slot (fewer than `K` valid items).
pub const ETA_EMPTY_INDEX: u32 = 0xFFFF_FFFF;
/// Distance of an empty top-K slot.
pub const ETA_EMPTY_DISTANCE: u16 = 0xFFFF;
/// The largest history length `L` (indices are `uint32_t`, `0xFFFFFFFF` is the sentinel).
pub const ETA_MAX_HISTORY_LEN: u64 = 0xFFFF_FFFE;

/// A SimHash encoder (opaque). Made by `eta_hasher_new_seeded` or
/// `eta_hasher_new_from_projection`, released by `eta_hasher_free`. Immutable: one hasher may
/// be used from many threads at once.
pub struct EtaHasher {
    inner: SimHasher,
}

/// Runs `f`, turning its error or a panic into a status.
fn boundary(f: impl FnOnce() -> Result<()>) -> EtaStatus {
    match std::panic::catch_unwind(AssertUnwindSafe(f)) {
        Ok(Ok(())) => EtaStatus::Ok,
        Ok(Err(e)) => e.status(),
        Err(_) => EtaStatus::Internal,
    }
}

/// A buffer named by a C argument: where it is and how many bytes the shape says it holds.
#[derive(Clone, Copy)]
struct Span {
    what: &'static str,
    addr: usize,
    bytes: usize,
}

/// Checks a C buffer of `len` elements of `T`: NULL only when empty, aligned, and at most
/// `isize::MAX` bytes.
fn span<T>(what: &'static str, p: *const T, len: usize) -> Result<Span> {
    if len == 0 {
        return Ok(Span {
            what,
            addr: 0,
            bytes: 0,
        });
    }
    if p.is_null() {
        return Err(Error::NullPointer { what });
    }
    if !(p as usize).is_multiple_of(mem::align_of::<T>()) {
        return Err(Error::Misaligned {
            what,
            align: mem::align_of::<T>(),
        });
    }
    let bytes = mul(len, mem::size_of::<T>())?;
    if bytes > isize::MAX as usize || (p as usize).checked_add(bytes).is_none() {
        return Err(Error::SizeOverflow);
    }
    Ok(Span {
        what,
        addr: p as usize,
        bytes,
    })
}

/// `Error::Overlap` if any output overlaps any input or another output.
fn no_overlap(outputs: &[Span], inputs: &[Span]) -> Result<()> {
    let hit = |a: &Span, b: &Span| {
        a.bytes > 0 && b.bytes > 0 && a.addr < b.addr + b.bytes && b.addr < a.addr + a.bytes
    };
    for (i, o) in outputs.iter().enumerate() {
        if inputs.iter().chain(&outputs[i + 1..]).any(|x| hit(o, x)) {
            return Err(Error::Overlap { what: o.what });
        }
    }
    Ok(())
}

/// What `slice::from_raw_parts` needs and [`span`] checked, asserted again in debug builds (the
/// fuzz targets and the test suite run with debug assertions): the span was made for this very
/// pointer (same address, so the slice keeps the caller's provenance and no stale span is
/// reused for another buffer), which is non-null and aligned, and the byte count is a whole
/// number of elements within `isize::MAX`.
#[inline(always)]
fn debug_assert_span<T>(s: Span, p: *const T) {
    debug_assert!(
        !p.is_null(),
        "{}: NULL pointer behind a non-empty span",
        s.what
    );
    debug_assert_eq!(
        s.addr, p as usize,
        "{}: span checked for another pointer",
        s.what
    );
    debug_assert!(
        (p as usize).is_multiple_of(mem::align_of::<T>()),
        "{}: misaligned for its element type",
        s.what
    );
    debug_assert!(
        s.bytes.is_multiple_of(mem::size_of::<T>()),
        "{}: not a whole number of elements",
        s.what
    );
    debug_assert!(
        s.bytes <= isize::MAX as usize,
        "{}: over isize::MAX bytes",
        s.what
    );
}

/// # Safety
/// `s` was checked by [`span`] for `p` and the caller guarantees it is valid for reads.
unsafe fn input<'a, T>(s: Span, p: *const T) -> &'a [T] {
    if s.bytes == 0 {
        return &[];
    }
    debug_assert_span(s, p);
    // SAFETY: non-null, aligned, at most isize::MAX bytes (checked by `span`); readable for the
    // shape's size by the caller's contract.
    unsafe { slice::from_raw_parts(p, s.bytes / mem::size_of::<T>()) }
}

/// # Safety
/// As [`input`], for writes, and no other live reference overlaps it ([`no_overlap`]).
unsafe fn output<'a, T>(s: Span, p: *mut T) -> &'a mut [T] {
    if s.bytes == 0 {
        return &mut [];
    }
    debug_assert_span(s, p.cast_const());
    // SAFETY: as in `input`; exclusive because `no_overlap` rejected overlapping buffers.
    unsafe { slice::from_raw_parts_mut(p, s.bytes / mem::size_of::<T>()) }
}

/// Turns a NUL-terminated static C string into a pointer for C.
const fn cstr(s: &'static CStr) -> *const c_char {
    s.as_ptr()
}

// ------------------------------------------------------------------------------------------------
// Version, statuses, instruction sets.

/// The library version, e.g. "0.1.0" (static storage; never free it).
#[no_mangle]
pub extern "C" fn eta_version() -> *const c_char {
    const V: &CStr =
        match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
            Ok(v) => v,
            Err(_) => c"unknown",
        };
    cstr(V)
}

/// A static description of a status code (never NULL; "unknown status" for a value that is no
/// `eta_status`).
#[no_mangle]
pub extern "C" fn eta_status_message(status: u32) -> *const c_char {
    match EtaStatus::ALL.get(status as usize) {
        Some(s) => cstr(s.message_cstr()),
        None => cstr(c"unknown status"),
    }
}

/// Turns a C value into an [`Isa`] without trusting it to be a valid enum value.
fn isa_from_u32(isa: u32) -> Result<Isa> {
    Isa::ALL.get(isa as usize).copied().ok_or(Error::UnknownIsa)
}

/// The instruction set the kernels run now (detected at first use, or read from
/// `ETA_HAMMING_ISA`, or forced).
#[no_mangle]
pub extern "C" fn eta_isa_current() -> Isa {
    std::panic::catch_unwind(Isa::current).unwrap_or(Isa::Scalar)
}

/// The name of the instruction set the kernels run now: "scalar", "avx2", "avx512" or "neon"
/// (static storage).
#[no_mangle]
pub extern "C" fn eta_isa_name() -> *const c_char {
    cstr(isa_cstr(eta_isa_current()))
}

fn isa_cstr(isa: Isa) -> &'static CStr {
    match isa {
        Isa::Scalar => c"scalar",
        Isa::Avx2 => c"avx2",
        Isa::Avx512 => c"avx512",
        Isa::Neon => c"neon",
    }
}

/// The best instruction set this CPU offers, ignoring any forcing.
#[no_mangle]
pub extern "C" fn eta_isa_detect() -> Isa {
    std::panic::catch_unwind(Isa::detect).unwrap_or(Isa::Scalar)
}

/// Whether this CPU (and build) can run `isa` (an `eta_isa` value; anything else is false).
#[no_mangle]
pub extern "C" fn eta_isa_is_available(isa: u32) -> bool {
    std::panic::catch_unwind(|| isa_from_u32(isa).is_ok_and(Isa::is_available)).unwrap_or(false)
}

/// Makes every later call in the process use `isa`. `ETA_STATUS_UNKNOWN_ISA` for a value that is
/// no `eta_isa`, `ETA_STATUS_ISA_UNAVAILABLE` when this CPU lacks it; either way nothing changes.
#[no_mangle]
pub extern "C" fn eta_isa_force(isa: u32) -> EtaStatus {
    boundary(|| isa_from_u32(isa)?.force())
}

/// [`eta_isa_force`] by name ("scalar", "avx2", "avx512", "neon"; case-insensitive).
///
/// # Safety
/// `name` is NULL (`ETA_STATUS_NULL_POINTER`) or a NUL-terminated string.
#[no_mangle]
pub unsafe extern "C" fn eta_isa_force_name(name: *const c_char) -> EtaStatus {
    boundary(|| {
        if name.is_null() {
            return Err(Error::NullPointer { what: "name" });
        }
        // SAFETY: non-null and NUL-terminated by the caller's contract.
        let name = unsafe { CStr::from_ptr(name) };
        Isa::from_name(name.to_str().map_err(|_| Error::UnknownIsa)?)?.force()
    })
}

/// Undoes `eta_isa_force`: back to `ETA_HAMMING_ISA`'s choice, or to detection.
#[no_mangle]
pub extern "C" fn eta_isa_reset() {
    let _ = std::panic::catch_unwind(Isa::reset);
}

/// The status of `ETA_HAMMING_ISA` as read now: `ETA_STATUS_OK` when it is unset, `auto`, or an
/// instruction set this CPU runs; `ETA_STATUS_UNKNOWN_ISA` or `ETA_STATUS_ISA_UNAVAILABLE` when
/// it was ignored (the library then runs the best detected instruction set).
#[no_mangle]
pub extern "C" fn eta_isa_env_status() -> EtaStatus {
    boundary(|| Isa::env_override().map_or(Ok(()), |r| r.map(|_| ())))
}

// ------------------------------------------------------------------------------------------------
// Layout.

/// Lanes per fingerprint of `m` bits (1 for `m <= 32`, else `ceil(m / 64)`); 0 for an invalid `m`.
#[no_mangle]
pub extern "C" fn eta_fingerprint_lanes(m: usize) -> usize {
    Layout::new(m).map_or(0, Layout::lanes)
}

/// Bytes per lane (1, 2, 4 or 8; also the buffers' required alignment) for `m` bits; 0 for an
/// invalid `m`.
#[no_mangle]
pub extern "C" fn eta_fingerprint_lane_bytes(m: usize) -> usize {
    Layout::new(m).map_or(0, |l| l.lane_type().bytes())
}

// ------------------------------------------------------------------------------------------------
// Hasher.

fn publish(out: *mut *mut EtaHasher, hasher: SimHasher) {
    let boxed = Box::into_raw(Box::new(EtaHasher { inner: hasher }));
    // SAFETY: `out` was checked non-null by the caller of `publish` and points to writable
    // storage for one pointer by the C caller's contract.
    unsafe { out.write(boxed) };
}

/// Makes a hasher for `d`-dimensional embeddings and `m`-bit fingerprints with the frozen
/// projection of `seed` (the generator is specified in the crate docs and never changes), and
/// stores it in `*out`. Errors: `out` NULL, `d` 0, `m` outside `1..=4096`, `d * m` overflowing.
///
/// # Safety
/// `out` is NULL or valid for writing one pointer.
#[no_mangle]
pub unsafe extern "C" fn eta_hasher_new_seeded(
    d: usize,
    m: usize,
    seed: u64,
    out: *mut *mut EtaHasher,
) -> EtaStatus {
    boundary(|| {
        if out.is_null() {
            return Err(Error::NullPointer { what: "out" });
        }
        Layout::new(m)?;
        if d == 0 {
            return Err(Error::InvalidDim);
        }
        // The projection the hasher allocates: `d * m` floats must also fit `PTRDIFF_MAX` bytes
        // (as every caller buffer must), or the allocation would panic ("capacity overflow")
        // and the caller would see ETA_STATUS_INTERNAL instead of ETA_STATUS_SIZE_OVERFLOW.
        let bytes = mul(mul(d, m)?, mem::size_of::<f32>())?;
        if bytes > isize::MAX as usize {
            return Err(Error::SizeOverflow);
        }
        publish(out, SimHasher::from_seed(d, m, seed)?);
        Ok(())
    })
}

/// Makes a hasher with the caller's projection `proj` (`d x m` floats, row-major: the layout of
/// `torch.randn(d, m)`), copied; stores it in `*out`. Errors: NULL pointers, `d` 0, `m` outside
/// `1..=4096`, overflow, a NaN or infinity in `proj` (`ETA_STATUS_NON_FINITE_PROJECTION`).
///
/// # Safety
/// `proj` is valid for reading `d * m` floats; `out` is NULL or valid for writing one pointer.
#[no_mangle]
pub unsafe extern "C" fn eta_hasher_new_from_projection(
    proj: *const f32,
    d: usize,
    m: usize,
    out: *mut *mut EtaHasher,
) -> EtaStatus {
    boundary(|| {
        Layout::new(m)?;
        if d == 0 {
            return Err(Error::InvalidDim);
        }
        if out.is_null() {
            return Err(Error::NullPointer { what: "out" });
        }
        let s = span("proj", proj, mul(d, m)?)?;
        // SAFETY: checked by `span`; readable by the caller's contract.
        let p = unsafe { input(s, proj) };
        publish(out, SimHasher::from_projection(d, m, p)?);
        Ok(())
    })
}

/// Releases a hasher. NULL is a no-op.
///
/// # Safety
/// `hasher` is NULL or a pointer from `eta_hasher_new_*` not yet freed; no call may use it after.
#[no_mangle]
pub unsafe extern "C" fn eta_hasher_free(hasher: *mut EtaHasher) {
    if !hasher.is_null() {
        // SAFETY: made by `Box::into_raw` in `publish`, freed once by the caller's contract.
        drop(unsafe { Box::from_raw(hasher) });
    }
}

/// # Safety
/// `h` is NULL or a live hasher.
unsafe fn hasher_ref<'a>(h: *const EtaHasher) -> Result<&'a SimHasher> {
    // SAFETY: NULL or live by the caller's contract.
    unsafe { h.as_ref() }
        .map(|h| &h.inner)
        .ok_or(Error::NullPointer { what: "hasher" })
}

/// The embedding dimension `d` of a hasher; 0 for NULL.
///
/// # Safety
/// `hasher` is NULL or a live hasher.
#[no_mangle]
pub unsafe extern "C" fn eta_hasher_dim(hasher: *const EtaHasher) -> usize {
    // SAFETY: forwarded contract.
    unsafe { hasher_ref(hasher) }.map_or(0, SimHasher::dim)
}

/// The fingerprint width `m` of a hasher; 0 for NULL.
///
/// # Safety
/// `hasher` is NULL or a live hasher.
#[no_mangle]
pub unsafe extern "C" fn eta_hasher_bits(hasher: *const EtaHasher) -> usize {
    // SAFETY: forwarded contract.
    unsafe { hasher_ref(hasher) }.map_or(0, SimHasher::bits)
}

/// Copies the hasher's projection (`d x m` floats, row-major) into `out`.
///
/// # Safety
/// `hasher` is NULL or live; `out` is valid for writing `d * m` floats.
#[no_mangle]
pub unsafe extern "C" fn eta_hasher_projection(
    hasher: *const EtaHasher,
    out: *mut f32,
) -> EtaStatus {
    boundary(|| {
        // SAFETY: forwarded contract.
        let h = unsafe { hasher_ref(hasher)? };
        let p = h.projection();
        let s = span("out", out, p.len())?;
        no_overlap(
            &[s],
            &[Span {
                what: "hasher",
                addr: p.as_ptr() as usize,
                bytes: mem::size_of_val(p),
            }],
        )?;
        // SAFETY: checked by `span` and `no_overlap`; writable by the caller's contract.
        unsafe { output(s, out) }.copy_from_slice(p);
        Ok(())
    })
}

/// Shared checks of the two encoders: the hasher, the embeddings (`n x d` floats) and the output
/// span of `out_lanes` lanes.
///
/// # Safety
/// As the encoders.
unsafe fn encode_args<'a, E>(
    hasher: *const EtaHasher,
    emb: *const E,
    n: usize,
    out: *mut core::ffi::c_void,
    out_lanes: impl FnOnce(Layout) -> Result<usize>,
) -> Result<(&'a SimHasher, &'a [E], Span)> {
    // SAFETY: forwarded contract.
    let h = unsafe { hasher_ref(hasher)? };
    let layout = h.layout();
    let e = span("embeddings", emb, mul(n, h.dim())?)?;
    let lanes = out_lanes(layout)?;
    let o = with_lane_type!(layout, T => span("out", out.cast::<T>().cast_const(), lanes))?;
    no_overlap(&[o], &[e])?;
    // SAFETY: checked by `span`; readable by the caller's contract.
    Ok((h, unsafe { input(e, emb) }, o))
}

/// Hashes `n` embeddings (`emb`, `n x d` floats, row-major) into `n` fingerprints laid one after
/// another in `out` (`n x lanes` lanes of the lane type for the hasher's `m`).
///
/// # Safety
/// `hasher` is NULL or live; `emb` is readable for `n * d` floats; `out` is writable for
/// `n * lanes` lanes and aligned to the lane type.
#[no_mangle]
pub unsafe extern "C" fn eta_encode(
    hasher: *const EtaHasher,
    emb: *const f32,
    n: usize,
    out: *mut core::ffi::c_void,
) -> EtaStatus {
    boundary(|| {
        // SAFETY: forwarded contract.
        let (h, e, o) = unsafe { encode_args(hasher, emb, n, out, |l| mul(n, l.lanes()))? };
        with_lane_type!(h.layout(), T => {
            // SAFETY: checked by `encode_args`.
            h.encode_into::<T>(e, n, unsafe { output(o, out.cast::<T>()) })
        })
    })
}

/// Hashes `n` embeddings into a history at `out`: lane `w` of item `i` at
/// `out[w * stride + i]` (`stride >= n`); positions between `n` and `stride` are not written.
///
/// # Safety
/// `hasher` is NULL or live; `emb` is readable for `n * d` floats; `out` is writable for
/// `(lanes - 1) * stride + n` lanes and aligned to the lane type.
#[no_mangle]
pub unsafe extern "C" fn eta_encode_history(
    hasher: *const EtaHasher,
    emb: *const f32,
    n: usize,
    out: *mut core::ffi::c_void,
    stride: usize,
) -> EtaStatus {
    boundary(|| {
        let lanes = |l: Layout| {
            check_history_shape(n, stride)?;
            history_span(l.lanes(), n, stride)
        };
        // SAFETY: forwarded contract.
        let (h, e, o) = unsafe { encode_args(hasher, emb, n, out, lanes)? };
        with_lane_type!(h.layout(), T => {
            // SAFETY: checked by `encode_args`.
            h.encode_history_into::<T>(e, n, unsafe { output(o, out.cast::<T>()) }, stride)
        })
    })
}

/// Which half-precision format a `uint16_t` embedding buffer holds.
#[derive(Clone, Copy)]
enum Half {
    Bf16,
    F16,
}

/// The four half-precision encoders: `history` is `Some(stride)` for the history layout.
///
/// # Safety
/// As `eta_encode` / `eta_encode_history`, with `emb` readable for `n * d` `uint16_t` values.
unsafe fn encode_half(
    format: Half,
    hasher: *const EtaHasher,
    emb: *const u16,
    n: usize,
    out: *mut core::ffi::c_void,
    history: Option<usize>,
) -> EtaStatus {
    boundary(|| {
        let lanes = |l: Layout| match history {
            Some(stride) => one_history(l.lanes(), n, stride),
            None => mul(n, l.lanes()),
        };
        // SAFETY: forwarded contract.
        let (h, e, o) = unsafe { encode_args(hasher, emb, n, out, lanes)? };
        with_lane_type!(h.layout(), T => {
            // SAFETY: checked by `encode_args`.
            let out = unsafe { output(o, out.cast::<T>()) };
            match (format, history) {
                (Half::Bf16, None) => h.encode_bf16_into::<T>(e, n, out),
                (Half::F16, None) => h.encode_f16_into::<T>(e, n, out),
                (Half::Bf16, Some(stride)) => h.encode_history_bf16_into::<T>(e, n, out, stride),
                (Half::F16, Some(stride)) => h.encode_history_f16_into::<T>(e, n, out, stride),
            }
        })
    })
}

/// `eta_encode` for bfloat16 embeddings (`n x d` `uint16_t` bit patterns), widened exactly to
/// float (the pattern shifted left by 16): the fingerprints equal `eta_encode`'s on the widened
/// values.
///
/// # Safety
/// As `eta_encode`, with `emb` readable for `n * d` `uint16_t` values.
#[no_mangle]
pub unsafe extern "C" fn eta_encode_bf16(
    hasher: *const EtaHasher,
    emb: *const u16,
    n: usize,
    out: *mut core::ffi::c_void,
) -> EtaStatus {
    // SAFETY: forwarded contract.
    unsafe { encode_half(Half::Bf16, hasher, emb, n, out, None) }
}

/// `eta_encode` for IEEE half-precision embeddings (`n x d` `uint16_t` bit patterns), widened
/// exactly to float (subnormals, infinities and NaNs included): the fingerprints equal
/// `eta_encode`'s on the widened values.
///
/// # Safety
/// As `eta_encode`, with `emb` readable for `n * d` `uint16_t` values.
#[no_mangle]
pub unsafe extern "C" fn eta_encode_f16(
    hasher: *const EtaHasher,
    emb: *const u16,
    n: usize,
    out: *mut core::ffi::c_void,
) -> EtaStatus {
    // SAFETY: forwarded contract.
    unsafe { encode_half(Half::F16, hasher, emb, n, out, None) }
}

/// `eta_encode_history` for bfloat16 embeddings (see `eta_encode_bf16`).
///
/// # Safety
/// As `eta_encode_history`, with `emb` readable for `n * d` `uint16_t` values.
#[no_mangle]
pub unsafe extern "C" fn eta_encode_history_bf16(
    hasher: *const EtaHasher,
    emb: *const u16,
    n: usize,
    out: *mut core::ffi::c_void,
    stride: usize,
) -> EtaStatus {
    // SAFETY: forwarded contract.
    unsafe { encode_half(Half::Bf16, hasher, emb, n, out, Some(stride)) }
}

/// `eta_encode_history` for IEEE half-precision embeddings (see `eta_encode_f16`).
///
/// # Safety
/// As `eta_encode_history`, with `emb` readable for `n * d` `uint16_t` values.
#[no_mangle]
pub unsafe extern "C" fn eta_encode_history_f16(
    hasher: *const EtaHasher,
    emb: *const u16,
    n: usize,
    out: *mut core::ffi::c_void,
    stride: usize,
) -> EtaStatus {
    // SAFETY: forwarded contract.
    unsafe { encode_half(Half::F16, hasher, emb, n, out, Some(stride)) }
}

// ------------------------------------------------------------------------------------------------
// Scans.

/// Checked shapes of one scan call, before any slice exists.
struct ScanSpans {
    layout: Layout,
    queries: Span,
    history: Span,
}

fn scan_spans(
    m: usize,
    queries: *const core::ffi::c_void,
    b: usize,
    history: *const core::ffi::c_void,
    history_lanes: impl FnOnce(usize) -> Result<usize>,
) -> Result<ScanSpans> {
    let layout = Layout::new(m)?;
    let lanes = layout.lanes();
    let hl = history_lanes(lanes)?;
    with_lane_type!(layout, T => Ok(ScanSpans {
        layout,
        queries: span("queries", queries.cast::<T>(), mul(b, lanes)?)?,
        history: span("history", history.cast::<T>(), hl)?,
    }))
}

/// Lanes a history of `l` items at `stride` spans, after its shape checks.
fn one_history(lanes: usize, l: usize, stride: usize) -> Result<usize> {
    check_history_shape(l, stride)?;
    history_span(lanes, l, stride)
}

/// Lanes `b` histories of capacity `l` at `stride` span, after their shape checks.
fn histories_of(lanes: usize, b: usize, l: usize, stride: usize) -> Result<usize> {
    check_history_shape(l, stride)?;
    batch_span(lanes, b, l, stride)
}

/// `lens` checked against `cap`, read only after its pointer is checked.
///
/// # Safety
/// `lens` is readable for `b` values.
unsafe fn read_lens<'a>(lens: *const u32, b: usize, cap: usize) -> Result<(Span, &'a [u32])> {
    let s = span("lens", lens, b)?;
    // SAFETY: checked by `span`; readable by the caller's contract.
    let l = unsafe { input(s, lens) };
    if let Some((index, &len)) = l.iter().enumerate().find(|(_, &x)| x as usize > cap) {
        return Err(Error::LenExceedsCapacity {
            index,
            len: len as usize,
            capacity: cap,
        });
    }
    Ok((s, l))
}

/// For each of `b` queries, the `k` nearest of the `l` items of one shared history.
///
/// `queries`: `b x lanes` lanes. `history`: lane `w` of item `i` at `history[w * stride + i]`
/// (`stride >= l`, at least `(lanes - 1) * stride + l` lanes). Outputs: `out_idx` (`uint32_t`)
/// and `out_dist` (`uint16_t`), `b x k` each, query `q`'s `j`-th result at `q * k + j`, sorted
/// by (distance, index); slots past `min(k, l)` hold `ETA_EMPTY_INDEX` / `ETA_EMPTY_DISTANCE`.
/// `out_filled` (optional, may be NULL) receives `min(k, l)`.
///
/// # Safety
/// Every pointer is valid for the elements its shape names (or NULL where that is zero, or
/// where optional), and fingerprint pointers are aligned to the lane type.
#[no_mangle]
pub unsafe extern "C" fn eta_topk_shared(
    queries: *const core::ffi::c_void,
    b: usize,
    history: *const core::ffi::c_void,
    l: usize,
    stride: usize,
    m: usize,
    k: usize,
    out_idx: *mut u32,
    out_dist: *mut u16,
    out_filled: *mut usize,
) -> EtaStatus {
    // SAFETY: forwarded contract.
    unsafe {
        topk_shared_on(
            1, queries, b, history, l, stride, m, k, out_idx, out_dist, out_filled,
        )
    }
}

/// `eta_topk_shared` spread over up to `threads` threads (0: every available core): the queries
/// are split when there are many, the history when there are few (one user, one candidate, a
/// very long history). The result is identical to `eta_topk_shared`'s. The work runs on a
/// process-wide pool of `cores - 1` worker threads, started on the first call that splits and
/// kept for the life of the process, and on the calling thread, which always does a share;
/// any number of threads may call at once, and every call returns only when all of its work is
/// done. With `threads = 0` a call is split only when each thread gets enough comparisons
/// (about `B * L`) to pay for it (`MIN_WORK_PER_THREAD` in the Rust docs); an explicit count is
/// honoured (parts beyond the pool's size wait their turn; at most 1024).
///
/// # Safety
/// As `eta_topk_shared`.
#[no_mangle]
pub unsafe extern "C" fn eta_topk_shared_mt(
    queries: *const core::ffi::c_void,
    b: usize,
    history: *const core::ffi::c_void,
    l: usize,
    stride: usize,
    m: usize,
    k: usize,
    out_idx: *mut u32,
    out_dist: *mut u16,
    out_filled: *mut usize,
    threads: usize,
) -> EtaStatus {
    // SAFETY: forwarded contract.
    unsafe {
        topk_shared_on(
            threads, queries, b, history, l, stride, m, k, out_idx, out_dist, out_filled,
        )
    }
}

/// The body of `eta_topk_shared` and `eta_topk_shared_mt`.
///
/// # Safety
/// As `eta_topk_shared`.
unsafe fn topk_shared_on(
    threads: usize,
    queries: *const core::ffi::c_void,
    b: usize,
    history: *const core::ffi::c_void,
    l: usize,
    stride: usize,
    m: usize,
    k: usize,
    out_idx: *mut u32,
    out_dist: *mut u16,
    out_filled: *mut usize,
) -> EtaStatus {
    boundary(|| {
        if k == 0 {
            return Err(Error::InvalidK);
        }
        let s = scan_spans(m, queries, b, history, |lanes| {
            one_history(lanes, l, stride)
        })?;
        let n = mul(b, k)?;
        let oi = span("out_idx", out_idx, n)?;
        let od = span("out_dist", out_dist, n)?;
        let of = if out_filled.is_null() {
            None
        } else {
            Some(span("out_filled", out_filled, 1)?)
        };
        no_overlap(
            &[
                oi,
                od,
                of.unwrap_or(Span {
                    what: "",
                    addr: 0,
                    bytes: 0,
                }),
            ],
            &[s.queries, s.history],
        )?;
        with_lane_type!(s.layout, T => {
            // SAFETY: all spans checked above and disjoint; sizes from the shapes.
            let (qv, hv) = unsafe {
                (
                    FingerprintsRef::new::<T>(m, b, input(s.queries, queries.cast::<T>()))?,
                    HistoryRef::new::<T>(m, l, stride, input(s.history, history.cast::<T>()))?,
                )
            };
            // SAFETY: as above.
            let (idx, dist) = unsafe { (output(oi, out_idx), output(od, out_dist)) };
            let filled = Engine::current().topk_shared_par(threads, qv, hv, k, idx, dist)?;
            if let Some(f) = of {
                // SAFETY: checked non-null, aligned and disjoint above.
                unsafe { output(f, out_filled)[0] = filled };
            }
        });
        Ok(())
    })
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
pub unsafe extern "C" fn eta_topk_batch(
    queries: *const core::ffi::c_void,
    b: usize,
    histories: *const core::ffi::c_void,
    l: usize,
    stride: usize,
    lens: *const u32,
    m: usize,
    k: usize,
    out_idx: *mut u32,
    out_dist: *mut u16,
    out_filled: *mut u32,
) -> EtaStatus {
    // SAFETY: forwarded contract.
    unsafe {
        topk_batch_on(
            1, queries, b, histories, l, stride, lens, m, k, out_idx, out_dist, out_filled,
        )
    }
}

/// `eta_topk_batch` spread over up to `threads` threads (0: every available core), split by
/// queries. The result is identical to `eta_topk_batch`'s; thread counts as in
/// `eta_topk_shared_mt`.
///
/// # Safety
/// As `eta_topk_batch`.
#[no_mangle]
pub unsafe extern "C" fn eta_topk_batch_mt(
    queries: *const core::ffi::c_void,
    b: usize,
    histories: *const core::ffi::c_void,
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
    // SAFETY: forwarded contract.
    unsafe {
        topk_batch_on(
            threads, queries, b, histories, l, stride, lens, m, k, out_idx, out_dist, out_filled,
        )
    }
}

/// The body of `eta_topk_batch` and `eta_topk_batch_mt`.
///
/// # Safety
/// As `eta_topk_batch`.
unsafe fn topk_batch_on(
    threads: usize,
    queries: *const core::ffi::c_void,
    b: usize,
    histories: *const core::ffi::c_void,
    l: usize,
    stride: usize,
    lens: *const u32,
    m: usize,
    k: usize,
    out_idx: *mut u32,
    out_dist: *mut u16,
    out_filled: *mut u32,
) -> EtaStatus {
    boundary(|| {
        if k == 0 {
            return Err(Error::InvalidK);
        }
        let s = scan_spans(m, queries, b, histories, |lanes| {
            histories_of(lanes, b, l, stride)
        })?;
        let n = mul(b, k)?;
        let oi = span("out_idx", out_idx, n)?;
        let od = span("out_dist", out_dist, n)?;
        let of = if out_filled.is_null() {
            None
        } else {
            Some(span("out_filled", out_filled, b)?)
        };
        // SAFETY: `lens` readable for `b` values by the caller's contract.
        let (ls, lens) = unsafe { read_lens(lens, b, l)? };
        no_overlap(
            &[
                oi,
                od,
                of.unwrap_or(Span {
                    what: "",
                    addr: 0,
                    bytes: 0,
                }),
            ],
            &[s.queries, s.history, ls],
        )?;
        with_lane_type!(s.layout, T => {
            // SAFETY: all spans checked above and disjoint.
            let (qv, hv) = unsafe {
                (
                    FingerprintsRef::new::<T>(m, b, input(s.queries, queries.cast::<T>()))?,
                    HistoryBatchRef::new::<T>(m, l, stride, lens, input(s.history, histories.cast::<T>()))?,
                )
            };
            // SAFETY: as above.
            let (idx, dist) = unsafe { (output(oi, out_idx), output(od, out_dist)) };
            let mut scratch;
            let filled = match of {
                // SAFETY: as above.
                Some(f) => unsafe { output(f, out_filled) },
                None => {
                    scratch = vec![0u32; b];
                    &mut scratch[..]
                }
            };
            Engine::current().topk_batch_par(threads, qv, hv, k, idx, dist, filled)?;
        });
        Ok(())
    })
}

/// Every distance between each of `b` queries and each of the `l` items of a shared history:
/// `out[q * l + i]` (`b x l` `uint16_t`). Shapes as in `eta_topk_shared`.
///
/// # Safety
/// As `eta_topk_shared`; `out` is writable for `b * l` values.
#[no_mangle]
pub unsafe extern "C" fn eta_distances_shared(
    queries: *const core::ffi::c_void,
    b: usize,
    history: *const core::ffi::c_void,
    l: usize,
    stride: usize,
    m: usize,
    out: *mut u16,
) -> EtaStatus {
    boundary(|| {
        let s = scan_spans(m, queries, b, history, |lanes| {
            one_history(lanes, l, stride)
        })?;
        let o = span("out", out, mul(b, l)?)?;
        no_overlap(&[o], &[s.queries, s.history])?;
        with_lane_type!(s.layout, T => {
            // SAFETY: all spans checked above and disjoint.
            let (qv, hv, out) = unsafe {
                (
                    FingerprintsRef::new::<T>(m, b, input(s.queries, queries.cast::<T>()))?,
                    HistoryRef::new::<T>(m, l, stride, input(s.history, history.cast::<T>()))?,
                    output(o, out),
                )
            };
            topk::distances_shared(qv, hv, out)
        })
    })
}

/// Every distance between query `q` and the items of its own history: `out[q * l + i]`
/// (`b x l` `uint16_t`); slots at and past `lens[q]` receive `ETA_EMPTY_DISTANCE`. Shapes as in
/// `eta_topk_batch`.
///
/// # Safety
/// As `eta_topk_batch`; `out` is writable for `b * l` values.
#[no_mangle]
pub unsafe extern "C" fn eta_distances_batch(
    queries: *const core::ffi::c_void,
    b: usize,
    histories: *const core::ffi::c_void,
    l: usize,
    stride: usize,
    lens: *const u32,
    m: usize,
    out: *mut u16,
) -> EtaStatus {
    boundary(|| {
        let s = scan_spans(m, queries, b, histories, |lanes| {
            histories_of(lanes, b, l, stride)
        })?;
        let o = span("out", out, mul(b, l)?)?;
        // SAFETY: `lens` readable for `b` values by the caller's contract.
        let (ls, lens) = unsafe { read_lens(lens, b, l)? };
        no_overlap(&[o], &[s.queries, s.history, ls])?;
        with_lane_type!(s.layout, T => {
            // SAFETY: all spans checked above and disjoint.
            let (qv, hv, out) = unsafe {
                (
                    FingerprintsRef::new::<T>(m, b, input(s.queries, queries.cast::<T>()))?,
                    HistoryBatchRef::new::<T>(m, l, stride, lens, input(s.history, histories.cast::<T>()))?,
                    output(o, out),
                )
            };
            topk::distances_batch(qv, hv, out)
        })
    })
}

// ------------------------------------------------------------------------------------------------
// History builders.

/// Writes `l` fingerprints laid one after another (`fps`, `l x lanes` lanes) as a history into
/// `out` (lane `w` of item `i` at `out[w * stride + i]`, `stride >= l`); positions between `l`
/// and `stride` are not written.
///
/// # Safety
/// `fps` is readable for `l * lanes` lanes, `out` writable for `(lanes - 1) * stride + l` lanes,
/// both aligned to the lane type.
#[no_mangle]
pub unsafe extern "C" fn eta_history_from_fingerprints(
    fps: *const core::ffi::c_void,
    l: usize,
    m: usize,
    out: *mut core::ffi::c_void,
    stride: usize,
) -> EtaStatus {
    boundary(|| {
        let s = scan_spans(m, fps, l, out.cast_const(), |lanes| {
            one_history(lanes, l, stride)
        })?;
        no_overlap(&[s.history], &[s.queries])?;
        with_lane_type!(s.layout, T => {
            // SAFETY: spans checked above and disjoint.
            let (src, dst) = unsafe {
                (FingerprintsRef::new::<T>(m, l, input(s.queries, fps.cast::<T>()))?, output(s.history, out.cast::<T>()))
            };
            crate::fingerprints::history_from_fingerprints_into(src, dst, stride)
        })
    })
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
pub unsafe extern "C" fn eta_history_gather(
    table: *const core::ffi::c_void,
    table_len: usize,
    m: usize,
    ids: *const u64,
    l: usize,
    out: *mut core::ffi::c_void,
    stride: usize,
) -> EtaStatus {
    boundary(|| {
        let s = scan_spans(m, table, table_len, out.cast_const(), |lanes| {
            one_history(lanes, l, stride)
        })?;
        let is = span("ids", ids, l)?;
        no_overlap(&[s.history], &[s.queries, is])?;
        with_lane_type!(s.layout, T => {
            // SAFETY: spans checked above and disjoint.
            let (src, ids, dst) = unsafe {
                (
                    FingerprintsRef::new::<T>(m, table_len, input(s.queries, table.cast::<T>()))?,
                    input(is, ids),
                    output(s.history, out.cast::<T>()),
                )
            };
            crate::fingerprints::history_gather_into(src, ids, dst, stride)
        })
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_has_a_message_and_a_code_in_order() {
        for (i, s) in EtaStatus::ALL.iter().enumerate() {
            assert_eq!(*s as u32 as usize, i);
            // SAFETY: static NUL-terminated strings.
            let msg = unsafe { CStr::from_ptr(eta_status_message(i as u32)) };
            assert!(!msg.to_bytes().is_empty());
        }
        // SAFETY: static NUL-terminated string.
        let unknown = unsafe { CStr::from_ptr(eta_status_message(999)) };
        assert_eq!(unknown.to_str().unwrap(), "unknown status");
    }

    #[test]
    fn a_seeded_projection_too_large_to_allocate_is_a_size_overflow() {
        // `d * m` fits `usize`, but `d * m` floats overflow it or exceed `isize::MAX` bytes:
        // the allocation used to panic, reported as ETA_STATUS_INTERNAL.
        for d in [usize::MAX / 4 + 1, isize::MAX as usize / 4 + 1] {
            let mut out = core::ptr::null_mut();
            // SAFETY: `out` is valid for writing one pointer.
            let status = unsafe { eta_hasher_new_seeded(d, 1, 7, &mut out) };
            assert_eq!(status, EtaStatus::SizeOverflow, "d = {d}");
            assert!(out.is_null());
        }
    }

    #[test]
    fn checked_spans_make_slices_of_exactly_their_elements() {
        let v = [1u64, 2, 3];
        let s = span("v", v.as_ptr(), 3).unwrap();
        // SAFETY: checked by `span` for this pointer; `v` is live and readable.
        assert_eq!(unsafe { input(s, v.as_ptr()) }, &v);
        let mut w = [0u16; 5];
        let s = span("w", w.as_ptr(), 5).unwrap();
        // SAFETY: as above, writable and not aliased.
        unsafe { output(s, w.as_mut_ptr()) }.fill(7);
        assert_eq!(w, [7; 5]);
        // Empty spans give empty slices whatever the pointer (NULL included).
        let e = span::<u64>("e", core::ptr::null(), 0).unwrap();
        // SAFETY: an empty span is never dereferenced.
        assert!(unsafe { input(e, core::ptr::null::<u64>()) }.is_empty());
    }

    #[test]
    fn span_refuses_what_a_slice_may_not_be() {
        let v = [0u64; 2];
        let odd = v.as_ptr().cast::<u8>().wrapping_add(1).cast::<u64>();
        assert_eq!(
            span("v", odd, 1).map(|_| ()),
            Err(Error::Misaligned {
                what: "v",
                align: 8
            })
        );
        assert_eq!(
            span::<u64>("v", core::ptr::null(), 1).map(|_| ()),
            Err(Error::NullPointer { what: "v" })
        );
        assert_eq!(
            span("v", v.as_ptr(), isize::MAX as usize / 8 + 1).map(|_| ()),
            Err(Error::SizeOverflow)
        );
    }

    /// The debug assertions in `input`/`output` catch a span that was checked for another
    /// pointer (they fire before any slice is made, so nothing is read).
    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "span checked for another pointer")]
    fn a_span_for_another_pointer_is_caught_in_debug_builds() {
        let (a, b) = ([0u32; 4], [0u32; 4]);
        let s = span("a", a.as_ptr(), 4).unwrap();
        // SAFETY: not upheld on purpose: the debug assertion panics before the slice is made.
        let _ = unsafe { input(s, b.as_ptr()) };
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "misaligned for its element type")]
    fn a_misaligned_pointer_is_caught_in_debug_builds() {
        let v = [0u64; 2];
        let odd = v.as_ptr().cast::<u8>().wrapping_add(4).cast::<u64>();
        let s = Span {
            what: "v",
            addr: odd as usize,
            bytes: 8,
        };
        // SAFETY: not upheld on purpose: the debug assertion panics before the slice is made.
        let _ = unsafe { input(s, odd) };
    }

    #[test]
    fn overlap_is_detected_only_for_shared_bytes() {
        let a = Span {
            what: "a",
            addr: 100,
            bytes: 10,
        };
        let b = Span {
            what: "b",
            addr: 110,
            bytes: 10,
        };
        let c = Span {
            what: "c",
            addr: 105,
            bytes: 1,
        };
        assert!(no_overlap(&[a], &[b]).is_ok());
        assert_eq!(no_overlap(&[a], &[c]), Err(Error::Overlap { what: "a" }));
        assert_eq!(no_overlap(&[a, c], &[]), Err(Error::Overlap { what: "a" }));
        assert!(no_overlap(
            &[Span {
                what: "e",
                addr: 0,
                bytes: 0
            }],
            &[a]
        )
        .is_ok());
    }
}
