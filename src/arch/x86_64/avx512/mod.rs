//! AVX-512: the [`Avx512`] token, the one feature list (F, BW, VL, VPOPCNTDQ, BITALG, with the
//! AVX2 set) from which both the kernels' `#[target_feature]` and [`detect`] come, and the
//! kernel table [`KERNELS`].
//!
//! A CPU with AVX-512 but without one of these features (BITALG, for the native byte and word
//! popcounts of `u8`/`u16` lanes; every CPU with F, BW, VL and VPOPCNTDQ has it, from Ice Lake
//! and Zen 4 on) runs the AVX2 table.

use crate::arch::Kernels;
use crate::isa::Isa;

feature_set!($ target_features = is_x86_feature_detected [
    "avx512f",
    "avx512bw",
    "avx512vl",
    "avx512vpopcntdq",
    "avx512bitalg",
    "avx2",
    "fma",
    "popcnt",
]);

mod encode;
mod scan;
mod sort_net;

/// The AVX-512 instruction set's token: implements the scan side's
/// [`ScanOps`](crate::arch::scan::ScanOps) and the encode side's
/// [`Simd`](crate::arch::encode::Simd) (`f32` vectors of 16 lanes).
pub(crate) struct Avx512;

/// The AVX-512 table; handed out only where [`detect`] holds.
pub(crate) static KERNELS: Kernels = Kernels {
    isa: Isa::Avx512,
    u8: scan::u8s::KERNELS,
    u16: scan::u16s::KERNELS,
    u32: scan::u32s::KERNELS,
    u64: scan::u64s::KERNELS,
    encode: encode::encode,
};
