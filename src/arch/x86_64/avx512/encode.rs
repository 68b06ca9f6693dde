//! The AVX-512 SimHash encoder: the generic tile code of [`crate::arch::encode`] over `__m512`
//! (16 `f32` lanes): tiles of 4 embeddings x 64 outputs (16 accumulators, 4 projection vectors,
//! one broadcast; one tile fills one `u64` word), and for `m <= 32` tiles of 8 x 32 or 16 x 16,
//! so that there are still 16 independent chains (docs/design/encode.md).
//!
//! `vfmadd231ps` is the contract's `fma` (one rounding); `> 0` is the ordered compare
//! `_CMP_GT_OQ` (false for NaN) into a mask register. `f16` widening is the 512-bit
//! `VCVTPH2PS` (AVX-512 F, exact); `bf16` widening a zero-extension and a shift by 16.

use core::arch::x86_64::*;

use super::Avx512;
use crate::arch::encode::{widen_scalar, Encoder, Projection, Rows, Simd};

// SAFETY: each method is the documented operation (512-bit unaligned load, broadcast,
// `vfmadd*ps`, ordered greater-than compare into a 16-bit mask, exact conversions).
unsafe impl Simd for Avx512 {
    const LANES: usize = 16;
    type V = __m512;

    #[inline(always)]
    unsafe fn zero() -> __m512 {
        // SAFETY: the caller guarantees AVX-512 F.
        unsafe { _mm512_setzero_ps() }
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> __m512 {
        // SAFETY: the caller guarantees AVX-512 F and 16 readable floats at `p`.
        unsafe { _mm512_loadu_ps(p) }
    }
    #[inline(always)]
    unsafe fn splat(p: *const f32) -> __m512 {
        // SAFETY: the caller guarantees AVX-512 F and a readable float at `p`.
        unsafe { _mm512_set1_ps(*p) }
    }
    #[inline(always)]
    unsafe fn fma(a: __m512, b: __m512, c: __m512) -> __m512 {
        // SAFETY: the caller guarantees AVX-512 F.
        unsafe { _mm512_fmadd_ps(a, b, c) }
    }
    #[inline(always)]
    unsafe fn positive_bits(v: __m512) -> u64 {
        // SAFETY: the caller guarantees AVX-512 F.
        unsafe { u64::from(_mm512_cmp_ps_mask::<_CMP_GT_OQ>(v, _mm512_setzero_ps())) }
    }
    #[inline(always)]
    unsafe fn widen(src: Rows<'_>, dst: &mut [f32]) {
        let body = dst.len() / 16 * 16;
        // SAFETY: the caller guarantees AVX-512 F (which includes the 512-bit VCVTPH2PS and
        // VPMOVZXWD); every access is to elements `i .. i + 16 <= body <= len` of `src`/`dst`.
        unsafe {
            match src {
                Rows::F32(_) => {}
                Rows::Bf16(s) => {
                    for i in (0..body).step_by(16) {
                        let h = _mm256_loadu_si256(s.as_ptr().add(i).cast());
                        let w = _mm512_slli_epi32::<16>(_mm512_cvtepu16_epi32(h));
                        _mm512_storeu_ps(dst.as_mut_ptr().add(i), _mm512_castsi512_ps(w));
                    }
                }
                Rows::F16(s) => {
                    for i in (0..body).step_by(16) {
                        let h = _mm256_loadu_si256(s.as_ptr().add(i).cast());
                        _mm512_storeu_ps(dst.as_mut_ptr().add(i), _mm512_cvtph_ps(h));
                    }
                }
            }
        }
        match src {
            Rows::F32(s) => dst.copy_from_slice(s),
            _ => widen_scalar(src.slice(body, dst.len() - body), &mut dst[body..]),
        }
    }
}

/// The AVX-512 encoder's body, compiled inside each AVX-512 table's entry point (`avx512` here,
/// `avx512bw` in its own module): it needs AVX-512 F only.
///
/// # Safety
/// AVX-512 F is available, and the arguments satisfy [`crate::arch::EncodeFn`]'s invariants.
#[inline(always)]
pub(crate) unsafe fn encode_tiles(proj: &Projection<'_>, emb: Rows<'_>, n: usize, out: &mut [u64]) {
    // SAFETY: AVX-512 F is available (the caller), and the caller guarantees the shapes.
    unsafe {
        match proj.stride {
            16 => Encoder::<Avx512, 16, 1>::encode(proj, emb, n, out),
            32 => Encoder::<Avx512, 8, 2>::encode(proj, emb, n, out),
            _ => Encoder::<Avx512, 4, 4>::encode(proj, emb, n, out),
        }
    }
}

target_features! {
/// The AVX-512 encoder (see the module docs).
///
/// # Safety
/// The CPU has the AVX-512 table's features, and the arguments satisfy
/// [`crate::arch::EncodeFn`]'s invariants.
pub(crate) unsafe fn encode(
    proj: &Projection<'_>,
    emb: Rows<'_>,
    n: usize,
    out: &mut [u64],
) {
    // SAFETY: AVX-512 F is enabled here, and the caller guarantees the shapes.
    unsafe { encode_tiles(proj, emb, n, out) }
}
}

#[cfg(test)]
mod tests {
    #[test]
    fn widening_is_exact_on_every_pattern() {
        if super::super::detect() {
            crate::arch::encode::check_widen::<super::Avx512>();
        }
    }
}
