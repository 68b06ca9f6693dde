//! aarch64 kernels: NEON (Advanced SIMD, present on every aarch64 CPU).

mod encode;

use super::{scalar, Kernels, LaneKernels};
use crate::dispatch::Isa;
use crate::layout::Lane;

/// Whether this CPU runs the NEON table.
pub(crate) fn has_neon() -> bool {
    std::arch::is_aarch64_feature_detected!("neon")
}

const fn scalar_lanes<T: Lane>() -> LaneKernels<T> {
    LaneKernels {
        topk_shared: scalar::topk_shared::<T>,
        topk_batch: scalar::topk_batch::<T>,
        dist_shared: scalar::dist_shared::<T>,
        dist_batch: scalar::dist_batch::<T>,
    }
}

/// The NEON table.
pub(crate) static NEON: Kernels = Kernels {
    isa: Isa::Neon,
    u8: scalar_lanes::<u8>(),
    u16: scalar_lanes::<u16>(),
    u32: scalar_lanes::<u32>(),
    u64: scalar_lanes::<u64>(),
    encode: encode::encode_neon,
};
