//! The NEON SimHash encoder: the generic tile code of [`crate::arch::encode`] instantiated with
//! `float32x4_t`, tiles of 4 embeddings x 16 outputs (16 accumulators, 4 projection vectors,
//! one broadcast: 21 of the 32 vector registers).
//!
//! `vfmaq_f32` is `FMLA` (one rounding, the contract's `fma`); `vcgtq_f32` is an ordered `>`
//! (false for NaN), its lane masks are weighted by `1, 2, 4, 8` and summed across into 4 bits.
//! `f16` widening is `FCVTL` (exact; written as inline assembly because the `float16x4_t`
//! intrinsics are not stable Rust), `bf16` widening is `SHLL #16`.

use core::arch::aarch64::*;
use core::arch::asm;

use super::Neon;
use crate::arch::encode::{widen_scalar, Encoder, Projection, Rows, Simd};

// SAFETY: each method is the documented operation (128-bit load, load-and-replicate, `FMLA`,
// ordered `FCMGT` against zero packed into 4 bits, exact conversions).
unsafe impl Simd for Neon {
    const LANES: usize = 4;
    type V = float32x4_t;

    #[inline(always)]
    unsafe fn zero() -> float32x4_t {
        // SAFETY: the caller guarantees NEON.
        unsafe { vdupq_n_f32(0.0) }
    }
    #[inline(always)]
    unsafe fn load(p: *const f32) -> float32x4_t {
        // SAFETY: the caller guarantees NEON and 4 readable floats at `p`.
        unsafe { vld1q_f32(p) }
    }
    #[inline(always)]
    unsafe fn splat(p: *const f32) -> float32x4_t {
        // SAFETY: the caller guarantees NEON and a readable float at `p`.
        unsafe { vld1q_dup_f32(p) }
    }
    #[inline(always)]
    unsafe fn fma(a: float32x4_t, b: float32x4_t, c: float32x4_t) -> float32x4_t {
        // SAFETY: the caller guarantees NEON. `vfmaq_f32(c, a, b)` is `c + a * b`, fused.
        unsafe { vfmaq_f32(c, a, b) }
    }
    #[inline(always)]
    unsafe fn positive_bits(v: float32x4_t) -> u64 {
        const WEIGHTS: [u32; 4] = [1, 2, 4, 8];
        // SAFETY: the caller guarantees NEON; `WEIGHTS` holds 4 `u32`.
        unsafe {
            let gt = vcgtq_f32(v, vdupq_n_f32(0.0));
            u64::from(vaddvq_u32(vandq_u32(gt, vld1q_u32(WEIGHTS.as_ptr()))))
        }
    }
    #[inline(always)]
    unsafe fn widen(src: Rows<'_>, dst: &mut [f32]) {
        let body = dst.len() / 4 * 4;
        match src {
            Rows::F32(s) => dst.copy_from_slice(s),
            Rows::Bf16(s) => {
                for i in (0..body).step_by(4) {
                    // SAFETY: the caller guarantees NEON; elements `i .. i + 4 <= body`.
                    unsafe {
                        let w = vshll_n_u16::<16>(vld1_u16(s.as_ptr().add(i)));
                        vst1q_f32(dst.as_mut_ptr().add(i), vreinterpretq_f32_u32(w));
                    }
                }
                widen_scalar(Rows::Bf16(&s[body..]), &mut dst[body..]);
            }
            Rows::F16(s) => {
                for i in (0..body).step_by(4) {
                    // SAFETY: the caller guarantees NEON; elements `i .. i + 4 <= body`. The
                    // assembly only converts one register into another.
                    unsafe {
                        let h = vld1_u16(s.as_ptr().add(i));
                        let f: float32x4_t;
                        asm!(
                            "fcvtl {f:v}.4s, {h:v}.4h",
                            h = in(vreg) h,
                            f = lateout(vreg) f,
                            options(pure, nomem, nostack, preserves_flags),
                        );
                        vst1q_f32(dst.as_mut_ptr().add(i), f);
                    }
                }
                widen_scalar(Rows::F16(&s[body..]), &mut dst[body..]);
            }
        }
    }
}

target_features! {
/// The NEON encoder (see the module docs).
///
/// # Safety
/// The CPU has NEON, and the arguments satisfy [`crate::arch::EncodeFn`]'s invariants.
pub(crate) unsafe fn encode(proj: &Projection<'_>, emb: Rows<'_>, n: usize, out: &mut [u64]) {
    // SAFETY: NEON is enabled here, and the caller guarantees the shapes.
    unsafe { Encoder::<Neon, 4, 4>::encode(proj, emb, n, out) }
}
}

#[cfg(test)]
mod tests {
    #[test]
    fn widening_is_exact_on_every_pattern() {
        if super::super::detect() {
            crate::arch::encode::check_widen::<super::Neon>();
        }
    }
}
