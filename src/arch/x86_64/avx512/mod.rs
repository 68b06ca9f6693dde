//! AVX-512: the [`Avx512`] token, the one feature list (F, BW, VL, VPOPCNTDQ, BITALG, VBMI2, with
//! the AVX2 set; VBMI2's `vpcompressb` extracts the small-m path's indices) from which both the
//! kernels' `#[target_feature]` and [`detect`] come, and the kernel table [`KERNELS`].
//!
//! A CPU with AVX-512 F, BW and VL but without VPOPCNTDQ or BITALG (the native popcounts;
//! Skylake-SP, Cascade Lake) runs the `avx512bw` table (`super::avx512bw`), which shares this
//! module's vectors, sorting network, [`ScanOps`](crate::arch::scan::ScanOps) and encoder and
//! differs only in its popcount and index compress.

use crate::arch::Kernels;
use crate::isa::Isa;

feature_set!($ target_features = is_x86_feature_detected [
    "avx512f",
    "avx512bw",
    "avx512vl",
    "avx512vpopcntdq",
    "avx512bitalg",
    "avx512vbmi2",
    "avx2",
    "fma",
    "popcnt",
    "bmi1",
    "bmi2",
]);

pub(super) mod encode;
pub(super) mod scan;
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
