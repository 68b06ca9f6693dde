//! SimHash kernels for AVX-512 and AVX2 + FMA: the generic tile code of [`crate::arch::encode`]
//! instantiated with `__m512` (16 lanes, tiles of 4 embeddings x 64 outputs: 16 accumulators,
//! 4 projection vectors, one broadcast; one tile fills one `u64` word; for `m <= 32` tiles of
//! 8 x 32 or 16 x 16, so that there are still 16 independent chains) and `__m256` (8 lanes,
//! tiles of 6 embeddings x 16 outputs: 12 accumulators, 2 projection vectors, one broadcast, in
//! the 16 registers of AVX2).
//!
//! Both use `vfmadd231ps` (one rounding, the contract's `fma`) and an ordered `> 0` compare
//! (`_CMP_GT_OQ`: false for NaN) turned into a lane mask. `f16` widening uses `VCVTPH2PS`, which
//! is exact (AVX-512 F has the 512-bit form; AVX2 uses F16C when the CPU reports it, and the
//! portable conversion otherwise); `bf16` widening is a zero-extension and a shift by 16.

use core::arch::x86_64::*;

use crate::arch::encode::{widen_scalar, Encoder, Projection, Rows, Simd};

/// AVX-512 F vectors of 16 `f32`.
pub(crate) struct Avx512;

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

/// AVX2 + FMA vectors of 8 `f32`.
pub(crate) struct Avx2;

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
                if std::is_x86_feature_detected!("f16c") {
                    // SAFETY: the CPU has F16C (just checked) and AVX (the caller).
                    unsafe { widen_f16_f16c(&s[..body], &mut dst[..body]) };
                    widen_scalar(Rows::F16(&s[body..]), &mut dst[body..]);
                } else {
                    widen_scalar(src, dst);
                }
            }
        }
    }
}

/// `f16` to `f32` with F16C, 8 at a time; `src.len() == dst.len()`, a multiple of 8.
#[target_feature(enable = "avx,f16c")]
unsafe fn widen_f16_f16c(src: &[u16], dst: &mut [f32]) {
    for i in (0..dst.len()).step_by(8) {
        // SAFETY: F16C and AVX are enabled; elements `i .. i + 8 <= len` of both slices.
        unsafe {
            let h = _mm_loadu_si128(src.as_ptr().add(i).cast());
            _mm256_storeu_ps(dst.as_mut_ptr().add(i), _mm256_cvtph_ps(h));
        }
    }
}

/// The AVX-512 encoder (see the module docs).
///
/// # Safety
/// The CPU has the AVX-512 table's features, and the arguments satisfy
/// [`crate::arch::EncodeFn`]'s invariants.
#[target_feature(enable = "avx512f,avx512bw,avx512vl,avx512vpopcntdq,avx2,fma,popcnt")]
pub(crate) unsafe fn encode_avx512(
    proj: &Projection<'_>,
    emb: Rows<'_>,
    n: usize,
    out: &mut [u64],
) {
    // SAFETY: AVX-512 F is enabled here, and the caller guarantees the shapes.
    unsafe {
        match proj.stride {
            16 => Encoder::<Avx512, 16, 1>::encode(proj, emb, n, out),
            32 => Encoder::<Avx512, 8, 2>::encode(proj, emb, n, out),
            _ => Encoder::<Avx512, 4, 4>::encode(proj, emb, n, out),
        }
    }
}

/// The AVX2 + FMA encoder (see the module docs).
///
/// # Safety
/// The CPU has the AVX2 table's features, and the arguments satisfy
/// [`crate::arch::EncodeFn`]'s invariants.
#[target_feature(enable = "avx2,fma,popcnt")]
pub(crate) unsafe fn encode_avx2(proj: &Projection<'_>, emb: Rows<'_>, n: usize, out: &mut [u64]) {
    // SAFETY: AVX2 and FMA are enabled here, and the caller guarantees the shapes.
    unsafe { Encoder::<Avx2, 6, 2>::encode(proj, emb, n, out) }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::arch::encode::{bf16_to_f32, f16_to_f32};

    fn check_widen<S: Simd>() {
        let all: Vec<u16> = (0..=u16::MAX).collect();
        for len in [all.len(), 1, 7, 8, 9, 15, 16, 17, 33] {
            let src = &all[all.len() - len..];
            for (rows, conv) in [
                (Rows::F16(src), f16_to_f32 as fn(u16) -> f32),
                (Rows::Bf16(src), bf16_to_f32),
            ] {
                let mut dst = vec![0.0f32; len];
                // SAFETY: callers check the CPU features first.
                unsafe { S::widen(rows, &mut dst) };
                for (h, o) in src.iter().zip(&dst) {
                    assert_eq!(o.to_bits(), conv(*h).to_bits(), "{h:#06x}");
                }
            }
        }
    }

    #[test]
    fn widening_is_exact_on_every_pattern() {
        if super::super::has_avx2() {
            check_widen::<Avx2>();
        }
        if super::super::has_avx512() {
            check_widen::<Avx512>();
        }
    }
}
