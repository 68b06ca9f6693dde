//! The AVX2 + FMA SimHash encoder: the generic tile code of [`crate::arch::encode`] over
//! `__m256` (8 `f32` lanes), tiles of 6 embeddings x 16 outputs (12 accumulators, 2 projection
//! vectors, one broadcast, in the 16 registers of AVX2; docs/design/encode.md).
//!
//! `vfmadd231ps` is the contract's `fma` (one rounding); `> 0` is the ordered compare
//! `_CMP_GT_OQ` (false for NaN) and `vmovmskps`. `f16` widening is F16C's `VCVTPH2PS` (exact;
//! F16C is part of the AVX2 table's features); `bf16` widening a zero-extension and a shift by 16.

use core::arch::x86_64::*;

use super::Avx2;
use crate::arch::encode::{widen_scalar, Encoder, Projection, Rows, Simd};

// SAFETY: each method is the documented operation (256-bit unaligned load, broadcast,
// `vfmadd*ps`, ordered greater-than compare and `vmovmskps`, exact conversions).
unsafe impl Simd for Avx2 {
    const LANES: usize = 8;
    type V = __m256;

    #[inline(always)]
    unsafe fn zero() -> __m256 {
        // SAFETY: the caller guarantees AVX.
        unsafe { _mm256_setzero_ps() }
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> __m256 {
        // SAFETY: the caller guarantees AVX and 8 readable floats at `p`.
        unsafe { _mm256_loadu_ps(p) }
    }
    #[inline(always)]
    unsafe fn splat(p: *const f32) -> __m256 {
        // SAFETY: the caller guarantees AVX and a readable float at `p`.
        unsafe { _mm256_broadcast_ss(&*p) }
    }
    #[inline(always)]
    unsafe fn fma(a: __m256, b: __m256, c: __m256) -> __m256 {
        // SAFETY: the caller guarantees FMA.
        unsafe { _mm256_fmadd_ps(a, b, c) }
    }
    #[inline(always)]
    unsafe fn positive_bits(v: __m256) -> u64 {
        // SAFETY: the caller guarantees AVX.
        unsafe {
            let gt = _mm256_cmp_ps::<_CMP_GT_OQ>(v, _mm256_setzero_ps());
            u64::from(_mm256_movemask_ps(gt) as u32)
        }
    }
    #[inline(always)]
    unsafe fn widen(src: Rows<'_>, dst: &mut [f32]) {
        let body = dst.len() / 8 * 8;
        match src {
            Rows::F32(s) => dst.copy_from_slice(s),
            Rows::Bf16(s) => {
                for i in (0..body).step_by(8) {
                    // SAFETY: the caller guarantees AVX2; elements `i .. i + 8 <= body`.
                    unsafe {
                        let h = _mm_loadu_si128(s.as_ptr().add(i).cast());
                        let w = _mm256_slli_epi32::<16>(_mm256_cvtepu16_epi32(h));
                        _mm256_storeu_ps(dst.as_mut_ptr().add(i), _mm256_castsi256_ps(w));
                    }
                }
                widen_scalar(Rows::Bf16(&s[body..]), &mut dst[body..]);
            }
            Rows::F16(s) => {
                for i in (0..body).step_by(8) {
                    // SAFETY: the caller guarantees the AVX2 table's features, F16C among them;
                    // elements `i .. i + 8 <= body`.
                    unsafe {
                        let h = _mm_loadu_si128(s.as_ptr().add(i).cast());
                        _mm256_storeu_ps(dst.as_mut_ptr().add(i), _mm256_cvtph_ps(h));
                    }
                }
                widen_scalar(Rows::F16(&s[body..]), &mut dst[body..]);
            }
        }
    }
}

target_features! {
/// The AVX2 + FMA encoder (see the module docs).
///
/// # Safety
/// The CPU has the AVX2 table's features, and the arguments satisfy
/// [`crate::arch::EncodeFn`]'s invariants.
pub(crate) unsafe fn encode(proj: &Projection<'_>, emb: Rows<'_>, n: usize, out: &mut [u64]) {
    // SAFETY: AVX2 and FMA are enabled here, and the caller guarantees the shapes.
    unsafe { Encoder::<Avx2, 6, 2>::encode(proj, emb, n, out) }
}
}

#[cfg(test)]
mod tests {
    #[test]
    fn widening_is_exact_on_every_pattern() {
        if super::super::detect() {
            crate::arch::encode::check_widen::<super::Avx2>();
        }
    }
}
