//! AVX2: the [`Avx2`] token, the one feature list (AVX2, FMA, POPCNT, F16C, BMI1, BMI2; BMI1's
//! `tzcnt`/`blsr` extract the small-m path's indices) from which both the
//! kernels' `#[target_feature]` and [`detect`] come, and the kernel table [`KERNELS`]. A CPU
//! lacking one of these features runs the scalar table.

use crate::arch::Kernels;
use crate::isa::Isa;

feature_set!($ target_features = is_x86_feature_detected [
    "avx2", "fma", "popcnt", "f16c", "bmi1", "bmi2",
]);

mod encode;
mod scan;

/// The AVX2 instruction set's token: implements the scan side's
/// [`ScanOps`](crate::arch::scan::ScanOps) and the encode side's
/// [`Simd`](crate::arch::encode::Simd) (`f32` vectors of 8 lanes).
pub(crate) struct Avx2;

/// The AVX2 table; handed out only where [`detect`] holds.
pub(crate) static KERNELS: Kernels = Kernels {
    isa: Isa::Avx2,
    u8: scan::u8s::KERNELS,
    u16: scan::u16s::KERNELS,
    u32: scan::u32s::KERNELS,
    u64: scan::u64s::KERNELS,
    encode: encode::encode,
};
