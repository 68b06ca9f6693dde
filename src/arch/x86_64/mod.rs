//! x86-64 kernels: AVX2 (+FMA, POPCNT) and AVX-512 (F, BW, VL, VPOPCNTDQ, and BITALG where
//! present).
//!
//! Each table below is only handed out by [`crate::dispatch`] after the CPU reports every feature
//! its kernels are compiled for, which is what makes calling them sound. The scans are the
//! generic algorithms of [`super::generic`] over the vectors of [`avx2`] and [`avx512`].
//! AVX-512 has two tables, both reported as `Isa::Avx512`: [`AVX512_BITALG`] (native byte and
//! word popcounts for `u8`/`u16` lanes) where the CPU has BITALG, else [`AVX512`] (nibble lookup
//! for those lanes); `u32`/`u64` lanes use the same VPOPCNTDQ kernels in both.

mod encode;

use super::Kernels;
use crate::dispatch::Isa;

mod avx2;
mod avx512;

/// Whether this CPU runs the AVX2 table: AVX2, FMA and POPCNT.
pub(crate) fn has_avx2() -> bool {
    is_x86_feature_detected!("avx2")
        && is_x86_feature_detected!("fma")
        && is_x86_feature_detected!("popcnt")
}

/// Whether this AVX-512 CPU also has BITALG (`vpopcntb`/`vpopcntw`): selects [`AVX512_BITALG`].
pub(crate) fn has_bitalg() -> bool {
    has_avx512() && is_x86_feature_detected!("avx512bitalg")
}

/// Whether this CPU runs the AVX-512 table: F, BW, VL, VPOPCNTDQ, plus the AVX2 set.
pub(crate) fn has_avx512() -> bool {
    has_avx2()
        && is_x86_feature_detected!("avx512f")
        && is_x86_feature_detected!("avx512bw")
        && is_x86_feature_detected!("avx512vl")
        && is_x86_feature_detected!("avx512vpopcntdq")
}

/// The AVX2 table.
pub(crate) static AVX2: Kernels = Kernels {
    isa: Isa::Avx2,
    u8: avx2::u8s::KERNELS,
    u16: avx2::u16s::KERNELS,
    u32: avx2::u32s::KERNELS,
    u64: avx2::u64s::KERNELS,
    encode: encode::encode_avx2,
};

/// The AVX-512 table for CPUs without BITALG (Ice Lake has it; this is for any that lacks it).
pub(crate) static AVX512: Kernels = Kernels {
    isa: Isa::Avx512,
    u8: avx512::u8s_lut::KERNELS,
    u16: avx512::u16s_lut::KERNELS,
    u32: avx512::u32s::KERNELS,
    u64: avx512::u64s::KERNELS,
    encode: encode::encode_avx512,
};

/// The AVX-512 table for CPUs with BITALG (Ice Lake, Zen 4 and later).
pub(crate) static AVX512_BITALG: Kernels = Kernels {
    isa: Isa::Avx512,
    u8: avx512::u8s_bitalg::KERNELS,
    u16: avx512::u16s_bitalg::KERNELS,
    u32: avx512::u32s::KERNELS,
    u64: avx512::u64s::KERNELS,
    encode: encode::encode_avx512,
};
