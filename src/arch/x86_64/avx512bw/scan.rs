//! AVX-512 BW scan kernels: the `avx512` table's vectors (`super::super::avx512::scan`) with a
//! 512-bit nibble-lookup popcount ([`Lut`]), and the four kernel tables per lane type.
//!
//! Byte counts: the low and high nibble of every byte index a 16-entry table (`vpshufb`, per
//! 128-bit lane) and the two counts are added (`vpand`, `vpsrlw`, 2 x `vpshufb`, `vpaddb`).
//! Wider lanes sum their bytes in one more instruction each: `vpsadbw` against zero for `u64`,
//! `vpmaddubsw` by ones for `u16`, and `vpmaddwd` by ones after that for `u32`
//! (docs/design/scan.md).

use core::arch::x86_64::*;

use crate::arch::scan::scan_kernels;
use crate::arch::x86_64::avx512::scan::{ZmmPopcnt, V16, V32, V64, V8};

/// The nibble-lookup popcount (AVX-512 F/BW only).
#[derive(Clone, Copy)]
pub(crate) struct Lut;

impl ZmmPopcnt for Lut {
    #[inline(always)]
    unsafe fn pop64(v: __m512i) -> __m512i {
        // SAFETY: AVX-512 BW available (this table).
        unsafe { _mm512_sad_epu8(Lut::pop8(v), _mm512_setzero_si512()) }
    }
    #[inline(always)]
    unsafe fn pop32(v: __m512i) -> __m512i {
        // SAFETY: AVX-512 BW available (this table).
        unsafe { _mm512_madd_epi16(Lut::pop16(v), _mm512_set1_epi16(1)) }
    }
    #[inline(always)]
    unsafe fn pop16(v: __m512i) -> __m512i {
        // SAFETY: AVX-512 BW available (this table). The byte counts are at most 8, so the
        // unsigned-by-signed pair products never saturate.
        unsafe { _mm512_maddubs_epi16(Lut::pop8(v), _mm512_set1_epi8(1)) }
    }
    #[inline(always)]
    unsafe fn pop8(v: __m512i) -> __m512i {
        // SAFETY: AVX-512 F/BW available (this table).
        unsafe {
            let lut = _mm512_broadcast_i32x4(_mm_setr_epi8(
                0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,
            ));
            let low = _mm512_set1_epi8(0x0F);
            let lo = _mm512_and_si512(v, low);
            let hi = _mm512_and_si512(_mm512_srli_epi16::<4>(v), low);
            _mm512_add_epi8(_mm512_shuffle_epi8(lut, lo), _mm512_shuffle_epi8(lut, hi))
        }
    }
}

// Query blocks: 8 queries per history vector, as on `avx512`.
scan_kernels!(target_features, u64s, V64<Lut>, 8);
scan_kernels!(target_features, u32s, V32<Lut>, 8);
scan_kernels!(target_features, u16s, V16<Lut>, 8);
scan_kernels!(target_features, u8s, V8<Lut>, 8);
