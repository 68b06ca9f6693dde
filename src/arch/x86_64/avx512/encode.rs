//! The AVX-512 SimHash encoder: the generic tile code of [`crate::arch::encode`] over `__m512`
//! (16 `f32` lanes): tiles of 4 embeddings x 64 outputs (16 accumulators, 4 projection vectors,
//! one broadcast; one tile fills one `u64` word), and for `m <= 32` tiles of 8 x 32 or 16 x 16,
//! so that there are still 16 independent chains (docs/design/encode.md); for
//! `m <= ACROSS_MAX_M` the across-embeddings tile of [`crate::arch::encode_across`] (2 vectors
//! of 16 embeddings x 4 outputs, 16 x 16 blocks transposed by `vinsertf32x4` and in-lane
//! `vunpck*ps`/`vshufps`).
//!
//! `vfmadd231ps` is the contract's `fma` (one rounding); `> 0` is the ordered compare
//! `_CMP_GT_OQ` (false for NaN) into a mask register. `f16` widening is the 512-bit
//! `VCVTPH2PS` (AVX-512 F, exact); `bf16` widening a zero-extension and a shift by 16.

use core::arch::x86_64::*;

use super::Avx512;
use crate::arch::encode::{widen_scalar, Encoder, Projection, Rows, Simd};
use crate::arch::encode_across::Across;

/// The largest `m` for which the across-embeddings tile runs (groups of
/// [`ACROSS_GROUPS`] x 16 embeddings); above it, the column tiles. Measured:
/// docs/design/encode.md.
pub(crate) const ACROSS_MAX_M: usize = 8;

/// Vectors of 16 embeddings per across-embeddings group.
const ACROSS_GROUPS: usize = 2;

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
    #[inline(always)]
    unsafe fn transpose(src: *const f32, src_stride: usize, dst: *mut f32, dst_stride: usize) {
        // SAFETY: the caller guarantees AVX-512 F and the 16 rows of 16 floats at both sides.
        unsafe {
            let row = |i: usize| src.add(i * src_stride);
            // Per block of 4 columns: rows i, i + 4, i + 8, i + 12 share a vector, one per
            // 128-bit lane (a 128-bit load and three `vinsertf32x4` from memory, which run on
            // two ports), then one 4 x 4 transposition in every lane: 8 in-lane shuffles per
            // 4 output rows, 32 per 16 x 16 block (the register-only transposition takes 64).
            for c in 0..4 {
                let mut v = [_mm512_setzero_ps(); 4];
                for (i, v) in v.iter_mut().enumerate() {
                    let a = _mm512_castps128_ps512(_mm_loadu_ps(row(i).add(4 * c)));
                    let a = _mm512_insertf32x4::<1>(a, _mm_loadu_ps(row(i + 4).add(4 * c)));
                    let a = _mm512_insertf32x4::<2>(a, _mm_loadu_ps(row(i + 8).add(4 * c)));
                    *v = _mm512_insertf32x4::<3>(a, _mm_loadu_ps(row(i + 12).add(4 * c)));
                }
                let t0 = _mm512_unpacklo_ps(v[0], v[1]);
                let t1 = _mm512_unpackhi_ps(v[0], v[1]);
                let t2 = _mm512_unpacklo_ps(v[2], v[3]);
                let t3 = _mm512_unpackhi_ps(v[2], v[3]);
                let out = dst.add(4 * c * dst_stride);
                _mm512_storeu_ps(out, _mm512_shuffle_ps::<0x44>(t0, t2));
                _mm512_storeu_ps(out.add(dst_stride), _mm512_shuffle_ps::<0xEE>(t0, t2));
                _mm512_storeu_ps(out.add(2 * dst_stride), _mm512_shuffle_ps::<0x44>(t1, t3));
                _mm512_storeu_ps(out.add(3 * dst_stride), _mm512_shuffle_ps::<0xEE>(t1, t3));
            }
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
        if proj.m <= ACROSS_MAX_M {
            return Across::<Avx512, ACROSS_GROUPS>::encode(proj, emb, n, out);
        }
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
