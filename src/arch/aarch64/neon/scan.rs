//! NEON scan kernels: the vectors (four `q` registers = 64 bytes of lanes) of every lane type,
//! the [`ScanOps`] of the [`Neon`] token, and the four kernel tables per lane type.
//!
//! Popcount: `vcntq_u8` per byte, then widening pairwise adds (`vpaddlq_u8/u16/u32`) up to the
//! lane's width. Survivor masks: NEON has no movemask, so the compare results are first OR-ed
//! and tested with one `umaxv` (the common "no survivor" case stops there); only then are the
//! lanes weighted by their bit (`and` with `1 << item`) and summed across (`addv`, or a
//! `vpaddq_u8` tree for 64 byte lanes). Tails go through the generic zero-padded copy
//! ([`Vector::load_partial`]'s default): nothing past the valid items is read.

use core::arch::aarch64::*;

use super::Neon;
use crate::arch::scan::{scan_kernels, ScanOps, Vector};

/// The lane-type-independent scan operations: the portable defaults, which the compiler
/// vectorises for NEON.
impl ScanOps for Neon {}

/// `[f(0), f(1), f(2), f(3)]` written out: closures and `array::from_fn` would not inline into
/// the `#[target_feature]` context.
macro_rules! each4 {
    (|$j:ident| $e:expr) => {
        [
            {
                let $j = 0;
                $e
            },
            {
                let $j = 1;
                $e
            },
            {
                let $j = 2;
                $e
            },
            {
                let $j = 3;
                $e
            },
        ]
    };
}

/// Per-byte popcount of `a ^ b`.
///
/// # Safety
/// NEON is available.
#[inline(always)]
unsafe fn xor_cnt(a: uint8x16_t, b: uint8x16_t) -> uint8x16_t {
    // SAFETY: NEON is available (the Vector contract).
    unsafe { vcntq_u8(veorq_u8(a, b)) }
}

/// Whether any of the four compare results has a set lane.
///
/// # Safety
/// NEON is available.
#[inline(always)]
unsafe fn any(c: [uint8x16_t; 4]) -> bool {
    // SAFETY: NEON is available.
    unsafe {
        let o = vorrq_u8(vorrq_u8(c[0], c[1]), vorrq_u8(c[2], c[3]));
        vmaxvq_u32(vreinterpretq_u32_u8(o)) != 0
    }
}

/// Defines a four-`q` vector type over lanes `$lane` in NEON type `$vt`; `$body` supplies the
/// lane-specific methods.
macro_rules! q4_vector {
    ($(#[$doc:meta])* $name:ident, $lane:ty, $n:literal, $vt:ty, $ld:ident, { $($body:tt)* }) => {
        $(#[$doc])*
        #[derive(Clone, Copy)]
        pub(crate) struct $name([$vt; 4]);

        impl Vector for $name {
            type Lane = $lane;
            type Ops = Neon;
            const N: usize = $n;

            #[inline(always)]
            unsafe fn load(p: *const $lane) -> Self {
                // SAFETY: the caller guarantees 64 readable bytes at `p`; NEON available.
                unsafe {
                    Self([$ld(p), $ld(p.add($n / 4)), $ld(p.add($n / 2)), $ld(p.add(3 * $n / 4))])
                }
            }

            $($body)*
        }
    };
}

q4_vector!(
    /// 8 `u64` lanes (2 per register).
    V64, u64, 8, uint64x2_t, vld1q_u64, {
    #[inline(always)]
    unsafe fn splat(x: u64) -> Self {
        // SAFETY: NEON available.
        unsafe { Self([vdupq_n_u64(x); 4]) }
    }
    #[inline(always)]
    unsafe fn xor_popcnt(a: Self, b: Self) -> Self {
        // SAFETY: NEON available.
        unsafe {
            Self(each4!(|j| {
                let c = xor_cnt(vreinterpretq_u8_u64(a.0[j]), vreinterpretq_u8_u64(b.0[j]));
                vpaddlq_u32(vpaddlq_u16(vpaddlq_u8(c)))
            }))
        }
    }
    #[inline(always)]
    unsafe fn add(a: Self, b: Self) -> Self {
        // SAFETY: NEON available.
        unsafe { Self(each4!(|j| vaddq_u64(a.0[j], b.0[j]))) }
    }
    #[inline(always)]
    unsafe fn splat_dist(t: u32) -> Self {
        // SAFETY: NEON available.
        unsafe { Self::splat(u64::from(t)) }
    }
    #[inline(always)]
    unsafe fn lt_mask(d: Self, t: Self) -> u64 {
        // SAFETY: NEON available.
        unsafe {
            let c: [uint64x2_t; 4] = each4!(|j| vcltq_u64(d.0[j], t.0[j]));
            if !any(each4!(|j| vreinterpretq_u8_u64(c[j]))) {
                return 0;
            }
            let mut acc = vdupq_n_u64(0);
            for (j, cj) in c.into_iter().enumerate() {
                let w: [u64; 2] = [1 << (2 * j), 2 << (2 * j)];
                acc = vorrq_u64(acc, vandq_u64(cj, vld1q_u64(w.as_ptr())));
            }
            vaddvq_u64(acc)
        }
    }
    #[inline(always)]
    unsafe fn store_u16(d: Self, out: *mut u16) {
        // SAFETY: 16 writable bytes at `out` (the caller); NEON available.
        unsafe {
            let lo = vcombine_u32(vmovn_u64(d.0[0]), vmovn_u64(d.0[1]));
            let hi = vcombine_u32(vmovn_u64(d.0[2]), vmovn_u64(d.0[3]));
            vst1q_u16(out, vcombine_u16(vmovn_u32(lo), vmovn_u32(hi)));
        }
    }
});

q4_vector!(
    /// 16 `u32` lanes (4 per register).
    V32, u32, 16, uint32x4_t, vld1q_u32, {
    #[inline(always)]
    unsafe fn splat(x: u32) -> Self {
        // SAFETY: NEON available.
        unsafe { Self([vdupq_n_u32(x); 4]) }
    }
    #[inline(always)]
    unsafe fn xor_popcnt(a: Self, b: Self) -> Self {
        // SAFETY: NEON available.
        unsafe {
            Self(each4!(|j| {
                let c = xor_cnt(vreinterpretq_u8_u32(a.0[j]), vreinterpretq_u8_u32(b.0[j]));
                vpaddlq_u16(vpaddlq_u8(c))
            }))
        }
    }
    #[inline(always)]
    unsafe fn add(a: Self, b: Self) -> Self {
        // SAFETY: NEON available.
        unsafe { Self(each4!(|j| vaddq_u32(a.0[j], b.0[j]))) }
    }
    #[inline(always)]
    unsafe fn splat_dist(t: u32) -> Self {
        // SAFETY: NEON available.
        unsafe { Self::splat(t) }
    }
    #[inline(always)]
    unsafe fn lt_mask(d: Self, t: Self) -> u64 {
        // SAFETY: NEON available.
        unsafe {
            let c: [uint32x4_t; 4] = each4!(|j| vcltq_u32(d.0[j], t.0[j]));
            if !any(each4!(|j| vreinterpretq_u8_u32(c[j]))) {
                return 0;
            }
            let mut acc = vdupq_n_u32(0);
            for (j, cj) in c.into_iter().enumerate() {
                let s = 4 * j;
                let w: [u32; 4] = [1 << s, 2 << s, 4 << s, 8 << s];
                acc = vorrq_u32(acc, vandq_u32(cj, vld1q_u32(w.as_ptr())));
            }
            u64::from(vaddvq_u32(acc))
        }
    }
    #[inline(always)]
    unsafe fn store_u16(d: Self, out: *mut u16) {
        // SAFETY: 32 writable bytes at `out` (the caller); NEON available.
        unsafe {
            vst1q_u16(out, vcombine_u16(vmovn_u32(d.0[0]), vmovn_u32(d.0[1])));
            vst1q_u16(out.add(8), vcombine_u16(vmovn_u32(d.0[2]), vmovn_u32(d.0[3])));
        }
    }
});

q4_vector!(
    /// 32 `u16` lanes (8 per register).
    V16, u16, 32, uint16x8_t, vld1q_u16, {
    #[inline(always)]
    unsafe fn splat(x: u16) -> Self {
        // SAFETY: NEON available.
        unsafe { Self([vdupq_n_u16(x); 4]) }
    }
    #[inline(always)]
    unsafe fn xor_popcnt(a: Self, b: Self) -> Self {
        // SAFETY: NEON available.
        unsafe {
            Self(each4!(|j| {
                vpaddlq_u8(xor_cnt(vreinterpretq_u8_u16(a.0[j]), vreinterpretq_u8_u16(b.0[j])))
            }))
        }
    }
    #[inline(always)]
    unsafe fn add(a: Self, b: Self) -> Self {
        // SAFETY: NEON available.
        unsafe { Self(each4!(|j| vaddq_u16(a.0[j], b.0[j]))) }
    }
    #[inline(always)]
    unsafe fn splat_dist(t: u32) -> Self {
        // SAFETY: NEON available.
        unsafe { Self::splat(t as u16) }
    }
    #[inline(always)]
    unsafe fn lt_mask(d: Self, t: Self) -> u64 {
        // SAFETY: NEON available.
        unsafe {
            let c: [uint16x8_t; 4] = each4!(|j| vcltq_u16(d.0[j], t.0[j]));
            if !any(each4!(|j| vreinterpretq_u8_u16(c[j]))) {
                return 0;
            }
            let w: [u16; 8] = [1, 2, 4, 8, 16, 32, 64, 128];
            let w = vld1q_u16(w.as_ptr());
            let wh = vshlq_n_u16::<8>(w);
            let lo = vorrq_u16(vandq_u16(c[0], w), vandq_u16(c[1], wh));
            let hi = vorrq_u16(vandq_u16(c[2], w), vandq_u16(c[3], wh));
            u64::from(vaddvq_u16(lo)) | (u64::from(vaddvq_u16(hi)) << 16)
        }
    }
    #[inline(always)]
    unsafe fn store_u16(d: Self, out: *mut u16) {
        // SAFETY: 64 writable bytes at `out` (the caller); NEON available.
        unsafe {
            for (j, dj) in d.0.into_iter().enumerate() {
                vst1q_u16(out.add(8 * j), dj);
            }
        }
    }
});

q4_vector!(
    /// 64 `u8` lanes (16 per register).
    V8, u8, 64, uint8x16_t, vld1q_u8, {
    #[inline(always)]
    unsafe fn splat(x: u8) -> Self {
        // SAFETY: NEON available.
        unsafe { Self([vdupq_n_u8(x); 4]) }
    }
    #[inline(always)]
    unsafe fn xor_popcnt(a: Self, b: Self) -> Self {
        // SAFETY: NEON available.
        unsafe { Self(each4!(|j| xor_cnt(a.0[j], b.0[j]))) }
    }
    #[inline(always)]
    unsafe fn add(a: Self, b: Self) -> Self {
        // SAFETY: NEON available.
        unsafe { Self(each4!(|j| vaddq_u8(a.0[j], b.0[j]))) }
    }
    #[inline(always)]
    unsafe fn splat_dist(t: u32) -> Self {
        // SAFETY: NEON available.
        unsafe { Self::splat(t as u8) }
    }
    #[inline(always)]
    unsafe fn lt_mask(d: Self, t: Self) -> u64 {
        // SAFETY: NEON available.
        unsafe {
            let c: [uint8x16_t; 4] = each4!(|j| vcltq_u8(d.0[j], t.0[j]));
            if !any(c) {
                return 0;
            }
            let w: [u8; 16] = [1, 2, 4, 8, 16, 32, 64, 128, 1, 2, 4, 8, 16, 32, 64, 128];
            let w = vld1q_u8(w.as_ptr());
            let a = each4!(|j| vandq_u8(c[j], w));
            // Pairwise sums: 16 -> 8 -> 4 -> 2 bytes per register: one mask byte per 8 items,
            // in item order.
            let p1 = vpaddq_u8(a[0], a[1]);
            let p2 = vpaddq_u8(a[2], a[3]);
            let p3 = vpaddq_u8(p1, p2);
            let p4 = vpaddq_u8(p3, p3);
            vgetq_lane_u64::<0>(vreinterpretq_u64_u8(p4))
        }
    }
    #[inline(always)]
    unsafe fn store_u16(d: Self, out: *mut u16) {
        // SAFETY: 128 writable bytes at `out` (the caller); NEON available.
        unsafe {
            for (j, dj) in d.0.into_iter().enumerate() {
                vst1q_u16(out.add(16 * j), vmovl_u8(vget_low_u8(dj)));
                vst1q_u16(out.add(16 * j + 8), vmovl_high_u8(dj));
            }
        }
    }
});

// Query blocks of 4 (32 `q` registers; each vector takes 4).
scan_kernels!(target_features, u64s, V64, 4);
scan_kernels!(target_features, u32s, V32, 4);
scan_kernels!(target_features, u16s, V16, 4);
scan_kernels!(target_features, u8s, V8, 4);
