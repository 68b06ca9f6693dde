//! NEON: the [`Neon`] token, the one feature list from which both the kernels'
//! `#[target_feature]` and [`detect`] come, and the kernel table [`KERNELS`].

use crate::arch::Kernels;
use crate::isa::Isa;

feature_set!($ target_features = is_aarch64_feature_detected ["neon"]);

mod encode;
mod scan;

/// The NEON instruction set's token: implements the scan side's
/// [`ScanOps`](crate::arch::scan::ScanOps) (the portable defaults) and the encode side's
/// [`Simd`](crate::arch::encode::Simd) (`f32` vectors of 4 lanes).
pub(crate) struct Neon;

/// The NEON table; handed out only where [`detect`] holds.
pub(crate) static KERNELS: Kernels = Kernels {
    isa: Isa::Neon,
    u8: scan::u8s::KERNELS,
    u16: scan::u16s::KERNELS,
    u32: scan::u32s::KERNELS,
    u64: scan::u64s::KERNELS,
    encode: encode::encode,
};
