//! aarch64 kernels: NEON (Advanced SIMD, present on every aarch64 CPU).
//!
//! The scans are the generic algorithms of [`super::generic`] over the vectors of [`neon`].

mod encode;

use super::Kernels;
use crate::dispatch::Isa;

mod neon;

/// Whether this CPU runs the NEON table.
pub(crate) fn has_neon() -> bool {
    std::arch::is_aarch64_feature_detected!("neon")
}

/// The NEON table.
pub(crate) static NEON: Kernels = Kernels {
    isa: Isa::Neon,
    u8: neon::u8s::KERNELS,
    u16: neon::u16s::KERNELS,
    u32: neon::u32s::KERNELS,
    u64: neon::u64s::KERNELS,
    encode: encode::encode_neon,
};
