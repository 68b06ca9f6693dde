//! AVX-512 without the native popcounts (Skylake-SP, Cascade Lake, Cooper Lake): the one feature
//! list (F, BW, VL, with the AVX2 set) from which both the kernels' `#[target_feature]` and
//! [`detect`] come, and the kernel table [`KERNELS`].
//!
//! Everything but the popcount is the `avx512` table's code (`super::avx512`), compiled again
//! for this feature list: its `zmm` vectors (generic over the popcount), `vpcmpu*` masks, byte
//! distance blocks and sorting network (the two-pass path), and its encoder (AVX-512 F only).
//! The popcount is a 512-bit nibble lookup ([`scan`]). [`crate::dispatch`] prefers the `avx512`
//! table where the CPU also has VPOPCNTDQ and BITALG; this one stays forceable there.

use crate::arch::encode::{Projection, Rows};
use crate::arch::Kernels;
use crate::isa::Isa;

feature_set!($ target_features = is_x86_feature_detected [
    "avx512f",
    "avx512bw",
    "avx512vl",
    "avx2",
    "fma",
    "popcnt",
    "bmi1",
    "bmi2",
]);

mod scan;

target_features! {
/// The AVX-512 encoder (`super::avx512`'s tiles), compiled for this table's features.
///
/// # Safety
/// The CPU has this table's features, and the arguments satisfy
/// [`crate::arch::EncodeFn`]'s invariants.
unsafe fn encode(proj: &Projection<'_>, emb: Rows<'_>, n: usize, out: &mut [u64]) {
    // SAFETY: AVX-512 F is enabled here, and the caller guarantees the shapes.
    unsafe { super::avx512::encode::encode_tiles(proj, emb, n, out) }
}
}

/// The AVX-512 BW table; handed out only where [`detect`] holds.
pub(crate) static KERNELS: Kernels = Kernels {
    isa: Isa::Avx512Bw,
    u8: scan::u8s::KERNELS,
    u16: scan::u16s::KERNELS,
    u32: scan::u32s::KERNELS,
    u64: scan::u64s::KERNELS,
    encode,
};
