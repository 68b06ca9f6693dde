//! x86-64 kernels: AVX2 (+FMA, POPCNT) and AVX-512 (F, BW, VL, VPOPCNTDQ).
//!
//! Each table below is only handed out by [`crate::dispatch`] after the CPU reports every feature
//! its kernels are compiled for, which is what makes calling them sound.

mod encode;

use super::{scalar, Kernels, LaneKernels};
use crate::dispatch::Isa;
use crate::layout::Lane;

/// Whether this CPU runs the AVX2 table: AVX2, FMA and POPCNT.
pub(crate) fn has_avx2() -> bool {
    is_x86_feature_detected!("avx2")
        && is_x86_feature_detected!("fma")
        && is_x86_feature_detected!("popcnt")
}

/// Whether this CPU runs the AVX-512 table: F, BW, VL, VPOPCNTDQ, plus the AVX2 set.
pub(crate) fn has_avx512() -> bool {
    has_avx2()
        && is_x86_feature_detected!("avx512f")
        && is_x86_feature_detected!("avx512bw")
        && is_x86_feature_detected!("avx512vl")
        && is_x86_feature_detected!("avx512vpopcntdq")
}

const fn scalar_lanes<T: Lane>() -> LaneKernels<T> {
    LaneKernels {
        topk_shared: scalar::topk_shared::<T>,
        topk_batch: scalar::topk_batch::<T>,
        dist_shared: scalar::dist_shared::<T>,
        dist_batch: scalar::dist_batch::<T>,
    }
}

/// The AVX2 table.
pub(crate) static AVX2: Kernels = Kernels {
    isa: Isa::Avx2,
    u8: scalar_lanes::<u8>(),
    u16: scalar_lanes::<u16>(),
    u32: scalar_lanes::<u32>(),
    u64: scalar_lanes::<u64>(),
    encode: encode::encode_avx2,
};

/// The AVX-512 table.
pub(crate) static AVX512: Kernels = Kernels {
    isa: Isa::Avx512,
    u8: scalar_lanes::<u8>(),
    u16: scalar_lanes::<u16>(),
    u32: scalar_lanes::<u32>(),
    u64: scalar_lanes::<u64>(),
    encode: encode::encode_avx512,
};
