//! The hasher (an opaque `eta_hasher`: made, queried, freed) and the encoders, one per element
//! type (`float`, bfloat16 and binary16 bit patterns) and layout (query or history).

use core::ffi::c_void;
use core::mem;

use super::span::{input, lanes_span, output, run, span, Entry, RawOutput, Span, Spans};
use super::{guard, status};
use crate::error::{Error, EtaStatus, Result};
use crate::layout::{mul, Lane};
use crate::shape::{check_hasher_shape, fingerprint_lanes, history_lanes};
use crate::simhash::{Bf16, Element, SimHasher, F16};

/// A SimHash encoder (opaque). Made by `eta_hasher_new_seeded` or
/// `eta_hasher_new_from_projection`, released by `eta_hasher_free`. Immutable: one hasher may
/// be used from many threads at once.
pub struct EtaHasher {
    inner: SimHasher,
}

/// Checks `out`, the place for a new hasher, like every other pointer: non-null and aligned
/// (`ETA_STATUS_NULL_POINTER`, `ETA_STATUS_MISALIGNED`).
fn check_out(out: *mut *mut EtaHasher) -> Result<()> {
    span("out", out.cast_const(), 1).map(|_| ())
}

/// Stores a new hasher in `out`, checked by [`check_out`].
fn publish(out: *mut *mut EtaHasher, hasher: SimHasher) {
    let boxed = Box::into_raw(Box::new(EtaHasher { inner: hasher }));
    debug_assert!(check_out(out).is_ok());
    // SAFETY: `out` was checked non-null and aligned by `check_out` and points to writable
    // storage for one pointer by the C caller's contract.
    unsafe { out.write(boxed) };
}

/// The buffers a hasher owns, all inputs of every call that takes it (no output may overlap
/// them): the `EtaHasher` object itself and its projection buffers (see
/// [`SimHasher::buffers`]).
fn hasher_spans(ptr: *const EtaHasher, h: &SimHasher) -> [Span; 3] {
    let [proj, padded] = h.buffers();
    [
        Span::of_object("hasher", ptr),
        Span::of_slice("hasher", proj),
        Span::of_slice("hasher", padded),
    ]
}

/// # Safety
/// `h` is NULL or a live hasher.
pub(super) unsafe fn hasher_ref<'a>(h: *const EtaHasher) -> Result<&'a SimHasher> {
    // SAFETY: NULL or live by the caller's contract.
    unsafe { h.as_ref() }
        .map(|h| &h.inner)
        .ok_or(Error::NullPointer { what: "hasher" })
}

/// Makes a hasher for `d`-dimensional embeddings and `m`-bit fingerprints with the frozen
/// projection of `seed` (the generator is specified in the crate docs and never changes), and
/// stores it in `*out`. Errors: `out` NULL or misaligned, `d` 0, `m` outside `1..=4096`, `d * m`
/// overflowing.
///
/// # Safety
/// `out` is NULL or valid for writing one pointer.
#[no_mangle]
#[must_use = "a status other than ETA_STATUS_OK means nothing was done"]
pub unsafe extern "C" fn eta_hasher_new_seeded(
    d: usize,
    m: usize,
    seed: u64,
    out: *mut *mut EtaHasher,
) -> EtaStatus {
    status(|| {
        check_out(out)?;
        check_hasher_shape(d, m)?;
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
/// `torch.randn(d, m)`), copied; stores it in `*out`. Errors: NULL or misaligned pointers, `d` 0,
/// `m` outside `1..=4096`, overflow, a NaN or infinity in `proj`
/// (`ETA_STATUS_NON_FINITE_PROJECTION`).
///
/// # Safety
/// `proj` is valid for reading `d * m` floats; `out` is NULL or valid for writing one pointer.
#[no_mangle]
#[must_use = "a status other than ETA_STATUS_OK means nothing was done"]
pub unsafe extern "C" fn eta_hasher_new_from_projection(
    proj: *const f32,
    d: usize,
    m: usize,
    out: *mut *mut EtaHasher,
) -> EtaStatus {
    status(|| {
        check_hasher_shape(d, m)?;
        check_out(out)?;
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
    guard((), || {
        if !hasher.is_null() {
            // SAFETY: made by `Box::into_raw` in `publish`, freed once by the caller's contract.
            drop(unsafe { Box::from_raw(hasher) });
        }
    })
}

/// The embedding dimension `d` of a hasher; 0 for NULL.
///
/// # Safety
/// `hasher` is NULL or a live hasher.
#[no_mangle]
pub unsafe extern "C" fn eta_hasher_dim(hasher: *const EtaHasher) -> usize {
    guard(0, || {
        // SAFETY: forwarded contract.
        unsafe { hasher_ref(hasher) }.map_or(0, SimHasher::dim)
    })
}

/// The fingerprint width `m` of a hasher; 0 for NULL.
///
/// # Safety
/// `hasher` is NULL or a live hasher.
#[no_mangle]
pub unsafe extern "C" fn eta_hasher_bits(hasher: *const EtaHasher) -> usize {
    guard(0, || {
        // SAFETY: forwarded contract.
        unsafe { hasher_ref(hasher) }.map_or(0, SimHasher::bits)
    })
}

/// Copies the hasher's projection (`d x m` floats, row-major) into `out`, which may not overlap
/// the hasher (`ETA_STATUS_OVERLAP`).
///
/// # Safety
/// `hasher` is NULL or live; `out` is valid for writing `d * m` floats.
#[no_mangle]
#[must_use = "a status other than ETA_STATUS_OK means nothing was done"]
pub unsafe extern "C" fn eta_hasher_projection(
    hasher: *const EtaHasher,
    out: *mut f32,
) -> EtaStatus {
    status(|| {
        // SAFETY: forwarded contract.
        let h = unsafe { hasher_ref(hasher)? };
        let p = h.projection();
        let s = span("out", out, p.len())?;
        super::span::no_overlap(&[s], &hasher_spans(hasher, h))?;
        if !p.is_empty() {
            // SAFETY: `out` checked by `span` (non-null, aligned, `p.len()` floats) and by
            // `no_overlap` (disjoint from the hasher's buffers, so from `p`); writable by the
            // caller's contract. A raw copy: no slice over the possibly uninitialised `out`.
            unsafe { core::ptr::copy_nonoverlapping(p.as_ptr(), out, p.len()) };
        }
        Ok(())
    })
}

/// The arguments of every encoder: `n` embeddings of element type `E` at `emb`, written to `out`
/// in query layout (`stride` `None`) or as a history at `stride`.
pub(super) struct Encode<E> {
    pub hasher: *const EtaHasher,
    pub emb: *const E,
    pub n: usize,
    pub out: *mut c_void,
    pub stride: Option<usize>,
}

impl<E: Element> Entry for Encode<E> {
    unsafe fn spans(&self) -> Result<Spans> {
        // SAFETY: forwarded contract.
        let h = unsafe { hasher_ref(self.hasher)? };
        let layout = h.layout();
        let emb = span("emb", self.emb, mul(self.n, h.dim())?)?;
        let out_lanes = match self.stride {
            None => fingerprint_lanes(layout, self.n)?,
            Some(stride) => history_lanes(layout.lanes(), self.n, stride)?,
        };
        let out = lanes_span("out", layout, self.out, out_lanes)?;
        let [object, proj, padded] = hasher_spans(self.hasher, h);
        Ok(Spans {
            layout,
            inputs: [object, proj, padded, emb],
            outputs: [out, Span::NONE, Span::NONE],
        })
    }

    unsafe fn call<T: Lane>(self, spans: &Spans) -> Result<()> {
        let ([.., emb], [out, ..]) = (spans.inputs, spans.outputs);
        // SAFETY: `spans` checked these pointers for these shapes, disjoint; the hasher is live
        // by the caller's contract.
        let (h, emb) = unsafe { (hasher_ref(self.hasher)?, input(emb, self.emb)) };
        match self.stride {
            // Contiguous outputs the encoder writes in full: an initialised view ([`output`]).
            None => {
                // SAFETY: as above.
                let out = unsafe { output(out, self.out.cast::<T>()) };
                h.encode_into::<E, T>(emb, self.n, out)
            }
            Some(stride) if h.layout().lanes() == 1 || stride == self.n => {
                // SAFETY: as above; one lane row, or rows without padding: the span is written
                // in full.
                let out = unsafe { output(out, self.out.cast::<T>()) };
                h.encode_history_into::<E, T>(emb, self.n, out, stride)
            }
            // Padding lanes inside the span stay unwritten (and may be uninitialised): encode
            // through a stack buffer, then store each lane through a raw view.
            Some(stride) => {
                // SAFETY: as above.
                let out = unsafe { RawOutput::new(out, self.out.cast::<T>()) };
                encode_history_scattered::<E, T>(h, emb, self.n, out, stride)
            }
        }
    }
}

/// Words of the stack buffer [`encode_history_scattered`] encodes through (16 KiB: 32 items at
/// `m = 4096`, 2048 at `m = 65`).
const SCATTER_WORDS: usize = 2048;

/// Writes `n` fingerprints as a history at `stride` through a raw view, so the padding lanes
/// between the rows are neither written nor covered by a reference: encodes up to
/// `SCATTER_WORDS` words at a time into a stack buffer (query layout), then stores lane `w` of
/// item `i` at `w * stride + i`. Shapes were checked by the caller; an error can come only from
/// the first chunk, before anything is stored.
fn encode_history_scattered<E: Element, T: Lane>(
    h: &SimHasher,
    emb: &[E],
    n: usize,
    mut out: RawOutput<T>,
    stride: usize,
) -> Result<()> {
    let (d, lanes) = (h.dim(), h.layout().lanes());
    let mut buf = [0u64; SCATTER_WORDS];
    let scratch: &mut [T] = bytemuck::cast_slice_mut(&mut buf);
    let per = scratch.len() / lanes; // >= 32: lanes <= 64 and T is u64 when lanes > 1
    for start in (0..n).step_by(per) {
        let count = per.min(n - start);
        let fps = &mut scratch[..count * lanes];
        h.encode_into::<E, T>(&emb[start * d..(start + count) * d], count, fps)?;
        for (i, fp) in fps.chunks_exact(lanes).enumerate() {
            for (w, &lane) in fp.iter().enumerate() {
                out.write(w * stride + start + i, lane);
            }
        }
    }
    Ok(())
}

/// Hashes `n` embeddings (`emb`, `n x d` floats, row-major) into `n` fingerprints laid one after
/// another in `out` (`n x lanes` lanes of the lane type for the hasher's `m`). `out` may overlap
/// neither `emb` nor the hasher (`ETA_STATUS_OVERLAP`). Encoding runs with the default
/// floating-point environment (round-to-nearest, no flushing, every exception masked) whatever
/// the caller set, and restores the caller's exactly, exception flags included.
///
/// # Safety
/// `hasher` is NULL or live; `emb` is readable for `n * d` floats; `out` is writable for
/// `n * lanes` lanes and aligned to the lane type.
#[no_mangle]
#[must_use = "a status other than ETA_STATUS_OK means nothing was done"]
pub unsafe extern "C" fn eta_encode(
    hasher: *const EtaHasher,
    emb: *const f32,
    n: usize,
    out: *mut c_void,
) -> EtaStatus {
    let stride = None;
    // SAFETY: forwarded contract.
    unsafe {
        run(Encode {
            hasher,
            emb,
            n,
            out,
            stride,
        })
    }
}

/// Hashes `n` embeddings into a history at `out`: lane `w` of item `i` at
/// `out[w * stride + i]` (`stride >= n`); positions between `n` and `stride` are not written.
///
/// # Safety
/// `hasher` is NULL or live; `emb` is readable for `n * d` floats; `out` is writable for
/// `(lanes - 1) * stride + n` lanes and aligned to the lane type.
#[no_mangle]
#[must_use = "a status other than ETA_STATUS_OK means nothing was done"]
pub unsafe extern "C" fn eta_encode_history(
    hasher: *const EtaHasher,
    emb: *const f32,
    n: usize,
    out: *mut c_void,
    stride: usize,
) -> EtaStatus {
    let stride = Some(stride);
    // SAFETY: forwarded contract.
    unsafe {
        run(Encode {
            hasher,
            emb,
            n,
            out,
            stride,
        })
    }
}

/// `eta_encode` for bfloat16 embeddings (`n x d` `uint16_t` bit patterns), widened exactly to
/// float (the pattern shifted left by 16): the fingerprints equal `eta_encode`'s on the widened
/// values.
///
/// # Safety
/// As `eta_encode`, with `emb` readable for `n * d` `uint16_t` values.
#[no_mangle]
#[must_use = "a status other than ETA_STATUS_OK means nothing was done"]
pub unsafe extern "C" fn eta_encode_bf16(
    hasher: *const EtaHasher,
    emb: *const u16,
    n: usize,
    out: *mut c_void,
) -> EtaStatus {
    let (stride, emb) = (None, emb.cast::<Bf16>());
    // SAFETY: forwarded contract (`Bf16` is `repr(transparent)` over `u16`).
    unsafe {
        run(Encode {
            hasher,
            emb,
            n,
            out,
            stride,
        })
    }
}

/// `eta_encode` for IEEE half-precision embeddings (`n x d` `uint16_t` bit patterns), widened
/// exactly to float (subnormals, infinities and NaNs included): the fingerprints equal
/// `eta_encode`'s on the widened values.
///
/// # Safety
/// As `eta_encode`, with `emb` readable for `n * d` `uint16_t` values.
#[no_mangle]
#[must_use = "a status other than ETA_STATUS_OK means nothing was done"]
pub unsafe extern "C" fn eta_encode_f16(
    hasher: *const EtaHasher,
    emb: *const u16,
    n: usize,
    out: *mut c_void,
) -> EtaStatus {
    let (stride, emb) = (None, emb.cast::<F16>());
    // SAFETY: forwarded contract (`F16` is `repr(transparent)` over `u16`).
    unsafe {
        run(Encode {
            hasher,
            emb,
            n,
            out,
            stride,
        })
    }
}

/// `eta_encode_history` for bfloat16 embeddings (see `eta_encode_bf16`).
///
/// # Safety
/// As `eta_encode_history`, with `emb` readable for `n * d` `uint16_t` values.
#[no_mangle]
#[must_use = "a status other than ETA_STATUS_OK means nothing was done"]
pub unsafe extern "C" fn eta_encode_history_bf16(
    hasher: *const EtaHasher,
    emb: *const u16,
    n: usize,
    out: *mut c_void,
    stride: usize,
) -> EtaStatus {
    let (stride, emb) = (Some(stride), emb.cast::<Bf16>());
    // SAFETY: forwarded contract (`Bf16` is `repr(transparent)` over `u16`).
    unsafe {
        run(Encode {
            hasher,
            emb,
            n,
            out,
            stride,
        })
    }
}

/// `eta_encode_history` for IEEE half-precision embeddings (see `eta_encode_f16`).
///
/// # Safety
/// As `eta_encode_history`, with `emb` readable for `n * d` `uint16_t` values.
#[no_mangle]
#[must_use = "a status other than ETA_STATUS_OK means nothing was done"]
pub unsafe extern "C" fn eta_encode_history_f16(
    hasher: *const EtaHasher,
    emb: *const u16,
    n: usize,
    out: *mut c_void,
    stride: usize,
) -> EtaStatus {
    let (stride, emb) = (Some(stride), emb.cast::<F16>());
    // SAFETY: forwarded contract (`F16` is `repr(transparent)` over `u16`).
    unsafe {
        run(Encode {
            hasher,
            emb,
            n,
            out,
            stride,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every call that takes a hasher refuses an output over the hasher object or either of its
    /// projection buffers (`ETA_STATUS_OVERLAP`), and writes nothing: the hasher is unchanged.
    #[test]
    fn an_output_over_the_hasher_or_its_projections_is_an_overlap() {
        let (d, m) = (3, 70); // 70 bits: a padded copy exists, and two u64 lanes per item
        let mut h = core::ptr::null_mut();
        // SAFETY: `h` is valid for writing one pointer.
        let made = unsafe { eta_hasher_new_seeded(d, m, 7, &mut h) };
        assert_eq!(made, EtaStatus::Ok);
        // SAFETY: made just above, freed at the end.
        let inner = unsafe { &(*h).inner };
        let [proj, padded] = inner.buffers();
        assert!(!padded.is_empty());
        let snapshot = || {
            let [p, q] = inner.buffers();
            let at = (p.as_ptr(), p.len(), q.as_ptr(), q.len());
            (inner.dim(), inner.bits(), at, p.to_vec(), q.to_vec())
        };
        let before = snapshot();
        let emb = [0.5f32; 3];
        let half = [0x3C00u16; 3];
        let targets: [*mut c_void; 5] = [
            h.cast(),
            h.cast::<u8>().wrapping_add(8).cast(),
            proj.as_ptr().cast_mut().cast(),
            padded.as_ptr().cast_mut().cast(),
            padded
                .as_ptr()
                .wrapping_add(padded.len() - 4)
                .cast_mut()
                .cast(),
        ];
        for (t, &out) in targets.iter().enumerate() {
            // SAFETY: valid pointers and shapes; every call must refuse before writing.
            let got = unsafe {
                [
                    eta_encode(h, emb.as_ptr(), 1, out),
                    eta_encode_history(h, emb.as_ptr(), 1, out, 1),
                    eta_encode_bf16(h, half.as_ptr(), 1, out),
                    eta_encode_f16(h, half.as_ptr(), 1, out),
                    eta_encode_history_bf16(h, half.as_ptr(), 1, out, 1),
                    eta_encode_history_f16(h, half.as_ptr(), 1, out, 1),
                    eta_hasher_projection(h, out.cast()),
                ]
            };
            assert_eq!(got, [EtaStatus::Overlap; 7], "target {t}");
            assert!(snapshot() == before, "target {t}: the hasher changed");
        }
        // SAFETY: made above, not used after.
        unsafe { eta_hasher_free(h) };
    }

    #[test]
    fn a_misaligned_place_for_a_new_hasher_is_refused_and_not_written() {
        let mut place = [0u64; 2];
        let out = place
            .as_mut_ptr()
            .cast::<u8>()
            .wrapping_add(1)
            .cast::<*mut EtaHasher>();
        let proj = [1.0f32; 4];
        // SAFETY: `out` points into `place`, writable for a pointer's bytes; it must be refused.
        let got = unsafe {
            [
                eta_hasher_new_seeded(2, 2, 1, out),
                eta_hasher_new_from_projection(proj.as_ptr(), 2, 2, out),
            ]
        };
        assert_eq!(got, [EtaStatus::Misaligned; 2]);
        assert_eq!(place, [0, 0]);
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
}
