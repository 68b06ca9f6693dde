//! The AVX2 + FMA SimHash encoder: the generic tile code of [`crate::arch::encode`] over
//! `__m256` (8 `f32` lanes), tiles of 6 embeddings x 16 outputs (12 accumulators, 2 projection
//! vectors, one broadcast, in the 16 registers of AVX2; docs/design/encode.md); for
//! `m <= ACROSS_MAX_M` the across-embeddings tile of [`crate::arch::encode_across`] (2 vectors
//! of 8 embeddings x 4 outputs, 8 x 8 blocks transposed by `vinsertf128` and in-lane
//! `vunpck*ps`/`vshufps`).
//!
//! `vfmadd231ps` is the contract's `fma` (one rounding); `> 0` is the ordered compare
//! `_CMP_GT_OQ` (false for NaN) and `vmovmskps`. `f16` widening is F16C's `VCVTPH2PS` (exact;
//! F16C is part of the AVX2 table's features); `bf16` widening a zero-extension and a shift by 16.

use core::arch::x86_64::*;

use super::Avx2;
use crate::arch::encode::{widen_scalar, Encoder, Projection, Rows, Simd};
use crate::arch::encode_across::Across;

/// The largest `m` for which the across-embeddings tile runs (groups of 2 x 8 embeddings, 8
/// accumulators); above it, the 6 x 16 column tile. Measured: docs/design/encode.md.
pub(crate) const ACROSS_MAX_M: usize = 8;

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
    #[inline(always)]
    unsafe fn transpose(src: *const f32, src_stride: usize, dst: *mut f32, dst_stride: usize) {
        // SAFETY: the caller guarantees AVX and the 8 rows of 8 floats at both sides.
        unsafe {
            let row = |i: usize| src.add(i * src_stride);
            // Rows i and i + 4 share a vector, one per 128-bit half (a 128-bit load and a
            // `vinsertf128` from memory): columns 0-3 in `a`, 4-7 in `b`. Then one 4 x 4
            // transposition per half and per set: 16 in-lane shuffles in all.
            let mut a = [_mm256_setzero_ps(); 4];
            let mut b = [_mm256_setzero_ps(); 4];
            for i in 0..4 {
                let lo = _mm256_castps128_ps256(_mm_loadu_ps(row(i)));
                a[i] = _mm256_insertf128_ps::<1>(lo, _mm_loadu_ps(row(i + 4)));
                let lo = _mm256_castps128_ps256(_mm_loadu_ps(row(i).add(4)));
                b[i] = _mm256_insertf128_ps::<1>(lo, _mm_loadu_ps(row(i + 4).add(4)));
            }
            for (half, v) in [a, b].into_iter().enumerate() {
                let t0 = _mm256_unpacklo_ps(v[0], v[1]);
                let t1 = _mm256_unpackhi_ps(v[0], v[1]);
                let t2 = _mm256_unpacklo_ps(v[2], v[3]);
                let t3 = _mm256_unpackhi_ps(v[2], v[3]);
                let out = dst.add(half * 4 * dst_stride);
                _mm256_storeu_ps(out, _mm256_shuffle_ps::<0x44>(t0, t2));
                _mm256_storeu_ps(out.add(dst_stride), _mm256_shuffle_ps::<0xEE>(t0, t2));
                _mm256_storeu_ps(out.add(2 * dst_stride), _mm256_shuffle_ps::<0x44>(t1, t3));
                _mm256_storeu_ps(out.add(3 * dst_stride), _mm256_shuffle_ps::<0xEE>(t1, t3));
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
    unsafe {
        if proj.m <= ACROSS_MAX_M {
            Across::<Avx2, 2>::encode(proj, emb, n, out)
        } else {
            Encoder::<Avx2, 6, 2>::encode(proj, emb, n, out)
        }
    }
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
