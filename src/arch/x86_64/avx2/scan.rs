//! AVX2 scan kernels: the vectors (two `ymm` = 64 bytes of lanes) of every lane type, the
//! [`ScanOps`] of the [`Avx2`] token, and the four kernel tables per lane type.
//!
//! Popcount: nibble lookup with `vpshufb` gives per-byte counts, then the lane's width is
//! reached by `vpsadbw` against zero (`u64`), `vpmaddubsw` (`u16`), or `vpmaddubsw` + `vpmaddwd`
//! (`u32`). Distances are small (at most `maxd + 1 <= 4097`), so signed compares (`vpcmpgt*`)
//! are exact; the survivor mask comes from `vmovmskpd`/`vmovmskps`/`vpmovmskb` (for `u16`
//! after packing the two compare results to bytes in item order). Tails go through the generic
//! zero-padded copy ([`Vector::load_partial`]'s default): nothing past the valid items is read.

use core::arch::x86_64::*;

use super::Avx2;
use crate::arch::scan::{scan_kernels, ScanOps, Vector};

/// Byte popcount by nibble lookup.
///
/// # Safety
/// AVX2 is available.
#[inline(always)]
unsafe fn popcnt_bytes(v: __m256i) -> __m256i {
    // SAFETY: AVX2 is available (the Vector contract).
    unsafe {
        let lut = _mm256_setr_epi8(
            0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, //
            0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,
        );
        let low = _mm256_set1_epi8(0x0F);
        let lo = _mm256_and_si256(v, low);
        let hi = _mm256_and_si256(_mm256_srli_epi16::<4>(v), low);
        _mm256_add_epi8(_mm256_shuffle_epi8(lut, lo), _mm256_shuffle_epi8(lut, hi))
    }
}

/// `d <= t` per unsigned 16-bit lane (all ones or zero).
///
/// # Safety
/// AVX2 is available.
#[inline(always)]
unsafe fn le_u16(d: __m256i, t: __m256i) -> __m256i {
    // SAFETY: AVX2 available.
    unsafe { _mm256_cmpeq_epi16(_mm256_min_epu16(d, t), d) }
}

/// A distance type whose `d <= t` bits AVX2 computes 32 at a time: `u16` by `vpminuw`/`vpcmpeqw`
/// and a pack to bytes, `u8` by `vpminub`/`vpcmpeqb`. The count and mask loops of [`ScanOps`]
/// are written once over it ([`count_le`], [`le_mask64`]).
trait Le32: Copy {
    /// `bound` in every element of a vector.
    ///
    /// # Safety
    /// AVX2 is available.
    unsafe fn splat(bound: Self) -> __m256i;
    /// The `d <= t` bits (unsigned) of the 32 distances at `d`, in order.
    ///
    /// # Safety
    /// `d..d + 32` readable; AVX2 is available.
    unsafe fn le_mask32(d: *const Self, t: __m256i) -> u32;
}

impl Le32 for u16 {
    #[inline(always)]
    unsafe fn splat(bound: u16) -> __m256i {
        // SAFETY: AVX2 available (caller).
        unsafe { _mm256_set1_epi16(bound as i16) }
    }
    #[inline(always)]
    unsafe fn le_mask32(d: *const u16, t: __m256i) -> u32 {
        // SAFETY: the caller guarantees 32 readable distances; AVX2 available.
        unsafe {
            let a = le_u16(_mm256_loadu_si256(d.cast()), t);
            let b = le_u16(_mm256_loadu_si256(d.add(16).cast()), t);
            // packs per 128-bit half: [a 0-7, b 0-7 | a 8-15, b 8-15]; reorder quads.
            let p = _mm256_permute4x64_epi64::<0xD8>(_mm256_packs_epi16(a, b));
            _mm256_movemask_epi8(p) as u32
        }
    }
}

impl Le32 for u8 {
    #[inline(always)]
    unsafe fn splat(bound: u8) -> __m256i {
        // SAFETY: AVX2 available (caller).
        unsafe { _mm256_set1_epi8(bound as i8) }
    }
    #[inline(always)]
    unsafe fn le_mask32(d: *const u8, t: __m256i) -> u32 {
        // SAFETY: the caller guarantees 32 readable bytes; AVX2 available.
        unsafe {
            let v = _mm256_loadu_si256(d.cast());
            _mm256_movemask_epi8(_mm256_cmpeq_epi8(_mm256_min_epu8(v, t), v)) as u32
        }
    }
}

/// How many of the `n` distances at `d` are `<= bound`; two independent count chains.
///
/// # Safety
/// `n` is a multiple of 64 and `d..d + n` readable; AVX2 is available.
#[inline(always)]
unsafe fn count_le<T: Le32>(d: *const T, n: usize, bound: T) -> usize {
    // SAFETY: the caller guarantees `n` (a multiple of 64) readable distances and AVX2.
    unsafe {
        let tv = T::splat(bound);
        let (mut c0, mut c1) = (0u32, 0u32);
        let mut i = 0;
        while i < n {
            c0 += T::le_mask32(d.add(i), tv).count_ones();
            c1 += T::le_mask32(d.add(i + 32), tv).count_ones();
            i += 64;
        }
        (c0 + c1) as usize
    }
}

/// The `d <= bound` bits of the 64 distances at `d`, in order.
///
/// # Safety
/// `d..d + 64` readable; AVX2 is available.
#[inline(always)]
unsafe fn le_mask64<T: Le32>(d: *const T, bound: T) -> u64 {
    // SAFETY: the caller guarantees 64 readable distances and AVX2.
    unsafe {
        let tv = T::splat(bound);
        u64::from(T::le_mask32(d, tv)) | (u64::from(T::le_mask32(d.add(32), tv)) << 32)
    }
}

/// The lane-type-independent scan operations: `u16` and `u8` counts and masks by unsigned
/// minimum, equality and `vpmovmskb` ([`Le32`]); the key sort keeps the portable default.
impl ScanOps for Avx2 {
    #[inline(always)]
    unsafe fn count_le_u16(d: *const u16, n: usize, bound: u16) -> usize {
        // SAFETY: the caller guarantees `n` (a multiple of 64) readable distances and AVX2.
        unsafe { count_le(d, n, bound) }
    }

    #[inline(always)]
    unsafe fn le_mask_u16(d: *const u16, bound: u16) -> u64 {
        // SAFETY: the caller guarantees 64 readable distances and AVX2.
        unsafe { le_mask64(d, bound) }
    }

    #[inline(always)]
    unsafe fn count_le_u8(d: *const u8, n: usize, bound: u8) -> usize {
        // SAFETY: the caller guarantees `n` (a multiple of 64) readable distances and AVX2.
        unsafe { count_le(d, n, bound) }
    }

    #[inline(always)]
    unsafe fn le_mask_u8(d: *const u8, bound: u8) -> u64 {
        // SAFETY: the caller guarantees 64 readable distances and AVX2.
        unsafe { le_mask64(d, bound) }
    }
}

/// Writes the 64 bytes `lo, hi` to `out`, then `0xFF` at every byte whose bit in `valid` is
/// clear (only a history's last, partial block has any).
///
/// # Safety
/// `out..out + 64` writable; AVX is available.
#[inline(always)]
unsafe fn store_bytes(lo: __m256i, hi: __m256i, valid: u64, out: *mut u8) {
    // SAFETY: the caller guarantees 64 writable bytes.
    unsafe {
        _mm256_storeu_si256(out.cast(), lo);
        _mm256_storeu_si256(out.add(32).cast(), hi);
        let mut pad = !valid;
        while pad != 0 {
            out.add(pad.trailing_zeros() as usize).write(0xFF);
            pad &= pad - 1;
        }
    }
}

/// Defines a two-`ymm` vector type; `$body` supplies the lane-specific methods.
macro_rules! ymm2_vector {
    ($(#[$doc:meta])* $name:ident, $lane:ty, $n:literal, { $($body:tt)* }) => {
        $(#[$doc])*
        #[derive(Clone, Copy)]
        pub(crate) struct $name(__m256i, __m256i);

        impl Vector for $name {
            type Lane = $lane;
            type Ops = Avx2;
            const N: usize = $n;

            #[inline(always)]
            unsafe fn load(p: *const $lane) -> Self {
                // SAFETY: the caller guarantees 64 readable bytes at `p`; AVX available.
                unsafe {
                    let p: *const __m256i = p.cast();
                    Self(_mm256_loadu_si256(p), _mm256_loadu_si256(p.add(1)))
                }
            }

            #[inline(always)]
            unsafe fn xor_popcnt(a: Self, b: Self) -> Self {
                // SAFETY: AVX2 available (the Vector contract).
                unsafe {
                    let c0 = popcnt_bytes(_mm256_xor_si256(a.0, b.0));
                    let c1 = popcnt_bytes(_mm256_xor_si256(a.1, b.1));
                    Self(Self::widen(c0), Self::widen(c1))
                }
            }

            $($body)*
        }
    };
}

ymm2_vector!(
    /// 8 `u64` lanes: byte counts summed by `vpsadbw`.
    V64, u64, 8, {
    #[inline(always)]
    unsafe fn splat(x: u64) -> Self {
        // SAFETY: AVX available.
        unsafe { Self(_mm256_set1_epi64x(x as i64), _mm256_set1_epi64x(x as i64)) }
    }
    #[inline(always)]
    unsafe fn add(a: Self, b: Self) -> Self {
        // SAFETY: AVX2 available.
        unsafe { Self(_mm256_add_epi64(a.0, b.0), _mm256_add_epi64(a.1, b.1)) }
    }
    #[inline(always)]
    unsafe fn splat_dist(t: u32) -> Self {
        // SAFETY: AVX2 available.
        unsafe { Self::splat(u64::from(t)) }
    }
    #[inline(always)]
    unsafe fn lt_mask(d: Self, t: Self) -> u64 {
        // SAFETY: AVX2 available.
        unsafe {
            let m0 = _mm256_movemask_pd(_mm256_castsi256_pd(_mm256_cmpgt_epi64(t.0, d.0)));
            let m1 = _mm256_movemask_pd(_mm256_castsi256_pd(_mm256_cmpgt_epi64(t.1, d.1)));
            (m0 | (m1 << 4)) as u64
        }
    }
    #[inline(always)]
    unsafe fn store_u16(d: Self, out: *mut u16) {
        // SAFETY: 16 writable bytes at `out` (the caller); AVX2 available.
        unsafe {
            // Low dwords of the 4 + 4 lanes to the low and high 128 bits, then pack to u16.
            let even = _mm256_setr_epi32(0, 2, 4, 6, 0, 2, 4, 6);
            let a = _mm256_permutevar8x32_epi32(d.0, even);
            let b = _mm256_permutevar8x32_epi32(d.1, even);
            let ab = _mm256_blend_epi32::<0xF0>(a, b);
            let packed =
                _mm_packus_epi32(_mm256_castsi256_si128(ab), _mm256_extracti128_si256::<1>(ab));
            _mm_storeu_si128(out.cast(), packed);
        }
    }
    // Byte buffer: step `s` (items `8 s .. 8 s + 8`) goes to byte `s` of every `u64` lane, so
    // lane `l` of the block accumulator holds items `8 s + l` (`l < 4` in `.0`, the rest in
    // `.1`); the store is an 8 x 8 byte transpose in 8 shuffles, against 4 shuffles and a
    // blend per 8 items for `store_u16`.
    const U8_BUF: bool = true;
    #[inline(always)]
    unsafe fn pack_u8(acc: Self, d: Self, s: usize) -> Self {
        // SAFETY: AVX2 available.
        unsafe {
            let c = _mm_cvtsi64_si128(8 * s as i64);
            Self(
                _mm256_or_si256(acc.0, _mm256_sll_epi64(d.0, c)),
                _mm256_or_si256(acc.1, _mm256_sll_epi64(d.1, c)),
            )
        }
    }
    #[inline(always)]
    unsafe fn store_block_u8(acc: Self, valid: u64, out: *mut u8) {
        // SAFETY: 64 writable bytes at `out` (the caller); AVX2 available.
        unsafe {
            // Per 128-bit half (lanes `l`, `l + 1`): byte pairs, word `s` = (lane `l` byte
            // `s`, lane `l + 1` byte `s`): x = [G01 | G23], y = [G45 | G67] (`Gab` word `s`:
            // items `8 s + a`, `8 s + b`).
            let pairs = _mm256_broadcastsi128_si256(_mm_setr_epi8(
                0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15,
            ));
            let x = _mm256_shuffle_epi8(acc.0, pairs);
            let y = _mm256_shuffle_epi8(acc.1, pairs);
            // [G01 | G45] and [G23 | G67].
            let p = _mm256_permute2x128_si256::<0x20>(x, y);
            let q = _mm256_permute2x128_si256::<0x31>(x, y);
            // Dword `s` of each half: (G01, G23) and (G45, G67) of step `s` (lo: s < 4).
            let lo = _mm256_unpacklo_epi16(p, q);
            let hi = _mm256_unpackhi_epi16(p, q);
            // Interleave the halves' dwords: step `s` as 8 bytes in item order.
            let order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
            store_bytes(
                _mm256_permutevar8x32_epi32(lo, order),
                _mm256_permutevar8x32_epi32(hi, order),
                valid,
                out,
            );
        }
    }
});

impl V64 {
    /// Byte counts to `u64` lane counts.
    ///
    /// # Safety
    /// AVX2 is available.
    #[inline(always)]
    unsafe fn widen(c: __m256i) -> __m256i {
        // SAFETY: AVX2 available.
        unsafe { _mm256_sad_epu8(c, _mm256_setzero_si256()) }
    }
}

ymm2_vector!(
    /// 16 `u32` lanes: byte counts summed by `vpmaddubsw` then `vpmaddwd`.
    V32, u32, 16, {
    #[inline(always)]
    unsafe fn splat(x: u32) -> Self {
        // SAFETY: AVX available.
        unsafe { Self(_mm256_set1_epi32(x as i32), _mm256_set1_epi32(x as i32)) }
    }
    #[inline(always)]
    unsafe fn add(a: Self, b: Self) -> Self {
        // SAFETY: AVX2 available.
        unsafe { Self(_mm256_add_epi32(a.0, b.0), _mm256_add_epi32(a.1, b.1)) }
    }
    #[inline(always)]
    unsafe fn splat_dist(t: u32) -> Self {
        // SAFETY: AVX available.
        unsafe { Self::splat(t) }
    }
    #[inline(always)]
    unsafe fn lt_mask(d: Self, t: Self) -> u64 {
        // SAFETY: AVX2 available.
        unsafe {
            let m0 = _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpgt_epi32(t.0, d.0)));
            let m1 = _mm256_movemask_ps(_mm256_castsi256_ps(_mm256_cmpgt_epi32(t.1, d.1)));
            (m0 | (m1 << 8)) as u64
        }
    }
    #[inline(always)]
    unsafe fn store_u16(d: Self, out: *mut u16) {
        // SAFETY: 32 writable bytes at `out` (the caller); AVX2 available.
        unsafe {
            // packus works per 128-bit half: [d0 0-3, d1 0-3 | d0 4-7, d1 4-7]; reorder quads.
            let p = _mm256_permute4x64_epi64::<0xD8>(_mm256_packus_epi32(d.0, d.1));
            _mm256_storeu_si256(out.cast(), p);
        }
    }
    // Byte buffer: step `s` (items `16 s .. 16 s + 16`) goes to byte `s` of every `u32` lane,
    // so lane `l` of the block accumulator holds items `16 s + l`; the store is a 4 x 4 byte
    // transpose per 128-bit half, then a 4 x 4 dword transpose across the halves.
    const U8_BUF: bool = true;
    #[inline(always)]
    unsafe fn pack_u8(acc: Self, d: Self, s: usize) -> Self {
        // SAFETY: AVX2 available.
        unsafe {
            let c = _mm_cvtsi64_si128(8 * s as i64);
            Self(
                _mm256_or_si256(acc.0, _mm256_sll_epi32(d.0, c)),
                _mm256_or_si256(acc.1, _mm256_sll_epi32(d.1, c)),
            )
        }
    }
    #[inline(always)]
    unsafe fn store_block_u8(acc: Self, valid: u64, out: *mut u8) {
        // SAFETY: 64 writable bytes at `out` (the caller); AVX2 available.
        unsafe {
            // Per half: dword `s` = step `s` of its 4 lanes: x = [A | B], y = [C | D].
            let t4 = _mm256_broadcastsi128_si256(_mm_setr_epi8(
                0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15,
            ));
            let order = _mm256_setr_epi32(0, 4, 1, 5, 2, 6, 3, 7);
            // [A0 B0 A1 B1 | A2 B2 A3 B3], [C0 D0 C1 D1 | C2 D2 C3 D3].
            let x = _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(acc.0, t4), order);
            let y = _mm256_permutevar8x32_epi32(_mm256_shuffle_epi8(acc.1, t4), order);
            // [A0 B0 C0 D0 | A2 B2 C2 D2], [A1 B1 C1 D1 | A3 B3 C3 D3].
            let even = _mm256_unpacklo_epi64(x, y);
            let odd = _mm256_unpackhi_epi64(x, y);
            store_bytes(
                _mm256_permute2x128_si256::<0x20>(even, odd),
                _mm256_permute2x128_si256::<0x31>(even, odd),
                valid,
                out,
            );
        }
    }
});

impl V32 {
    /// Byte counts to `u32` lane counts.
    ///
    /// # Safety
    /// AVX2 is available.
    #[inline(always)]
    unsafe fn widen(c: __m256i) -> __m256i {
        // SAFETY: AVX2 available.
        unsafe {
            let w = _mm256_maddubs_epi16(c, _mm256_set1_epi8(1));
            _mm256_madd_epi16(w, _mm256_set1_epi16(1))
        }
    }
}

ymm2_vector!(
    /// 32 `u16` lanes: byte counts summed in pairs by `vpmaddubsw`.
    V16, u16, 32, {
    #[inline(always)]
    unsafe fn splat(x: u16) -> Self {
        // SAFETY: AVX available.
        unsafe { Self(_mm256_set1_epi16(x as i16), _mm256_set1_epi16(x as i16)) }
    }
    #[inline(always)]
    unsafe fn add(a: Self, b: Self) -> Self {
        // SAFETY: AVX2 available.
        unsafe { Self(_mm256_add_epi16(a.0, b.0), _mm256_add_epi16(a.1, b.1)) }
    }
    #[inline(always)]
    unsafe fn splat_dist(t: u32) -> Self {
        // SAFETY: AVX available.
        unsafe { Self::splat(t as u16) }
    }
    #[inline(always)]
    unsafe fn lt_mask(d: Self, t: Self) -> u64 {
        // SAFETY: AVX2 available.
        unsafe {
            let c0 = _mm256_cmpgt_epi16(t.0, d.0);
            let c1 = _mm256_cmpgt_epi16(t.1, d.1);
            // packs per 128-bit half: [c0 0-7, c1 0-7 | c0 8-15, c1 8-15]; reorder quads.
            let p = _mm256_permute4x64_epi64::<0xD8>(_mm256_packs_epi16(c0, c1));
            u64::from(_mm256_movemask_epi8(p) as u32)
        }
    }
    #[inline(always)]
    unsafe fn store_u16(d: Self, out: *mut u16) {
        // SAFETY: 64 writable bytes at `out` (the caller); AVX available.
        unsafe {
            let o: *mut __m256i = out.cast();
            _mm256_storeu_si256(o, d.0);
            _mm256_storeu_si256(o.add(1), d.1);
        }
    }
});

impl V16 {
    /// Byte counts to `u16` lane counts.
    ///
    /// # Safety
    /// AVX2 is available.
    #[inline(always)]
    unsafe fn widen(c: __m256i) -> __m256i {
        // SAFETY: AVX2 available.
        unsafe { _mm256_maddubs_epi16(c, _mm256_set1_epi8(1)) }
    }
}

ymm2_vector!(
    /// 64 `u8` lanes: the byte counts are the distances.
    V8, u8, 64, {
    #[inline(always)]
    unsafe fn splat(x: u8) -> Self {
        // SAFETY: AVX available.
        unsafe { Self(_mm256_set1_epi8(x as i8), _mm256_set1_epi8(x as i8)) }
    }
    #[inline(always)]
    unsafe fn add(a: Self, b: Self) -> Self {
        // SAFETY: AVX2 available.
        unsafe { Self(_mm256_add_epi8(a.0, b.0), _mm256_add_epi8(a.1, b.1)) }
    }
    #[inline(always)]
    unsafe fn splat_dist(t: u32) -> Self {
        // SAFETY: AVX available.
        unsafe { Self::splat(t as u8) }
    }
    #[inline(always)]
    unsafe fn lt_mask(d: Self, t: Self) -> u64 {
        // SAFETY: AVX2 available.
        unsafe {
            let m0 = _mm256_movemask_epi8(_mm256_cmpgt_epi8(t.0, d.0)) as u32;
            let m1 = _mm256_movemask_epi8(_mm256_cmpgt_epi8(t.1, d.1)) as u32;
            u64::from(m0) | (u64::from(m1) << 32)
        }
    }
    #[inline(always)]
    unsafe fn eq_mask(a: Self, b: Self) -> u64 {
        // SAFETY: AVX2 available.
        unsafe {
            let m0 = _mm256_movemask_epi8(_mm256_cmpeq_epi8(a.0, b.0)) as u32;
            let m1 = _mm256_movemask_epi8(_mm256_cmpeq_epi8(a.1, b.1)) as u32;
            u64::from(m0) | (u64::from(m1) << 32)
        }
    }
    #[inline(always)]
    unsafe fn store_u16(d: Self, out: *mut u16) {
        // SAFETY: 128 writable bytes at `out` (the caller); AVX2 available.
        unsafe {
            let o: *mut __m256i = out.cast();
            let parts = [
                _mm256_castsi256_si128(d.0),
                _mm256_extracti128_si256::<1>(d.0),
                _mm256_castsi256_si128(d.1),
                _mm256_extracti128_si256::<1>(d.1),
            ];
            for (j, p) in parts.into_iter().enumerate() {
                _mm256_storeu_si256(o.add(j), _mm256_cvtepu8_epi16(p));
            }
        }
    }
});

impl V8 {
    /// Byte counts are the `u8` lane counts.
    ///
    /// # Safety
    /// None (kept `unsafe` like its siblings).
    #[inline(always)]
    unsafe fn widen(c: __m256i) -> __m256i {
        c
    }
}

// Query blocks of 4: 16 ymm registers hold 4 distance pairs, 4 threshold pairs and the history.
scan_kernels!(target_features, u64s, V64, 4);
scan_kernels!(target_features, u32s, V32, 4);
scan_kernels!(target_features, u16s, V16, 4);
scan_kernels!(target_features, u8s, V8, 4);
