//! The [`Isa`] enum: the instruction sets the kernels are written for, and their names. It
//! stands below both [`crate::arch`] (each kernel table names its instruction set) and
//! [`crate::dispatch`] (detection, forcing and the cached table, which add their methods to
//! `Isa`), so neither module imports the other's vocabulary.

use crate::error::{Error, Result};

/// An instruction set the kernels are written for.
///
/// 32 bits wide (`eta_isa` is a `uint32_t` in C); values are append-only, like the status codes.
/// The AVX-512 set means AVX-512 F, BW, VL, VPOPCNTDQ, BITALG and VBMI2 (Ice Lake and later, Zen
/// 4 and later: every CPU with the first five has VBMI2) plus the AVX2 set. The AVX-512 BW set
/// means AVX-512 F, BW and VL plus the AVX2 set (Skylake-SP, Cascade Lake: the same kernels with
/// a nibble-lookup popcount), and is what an AVX-512 CPU without VPOPCNTDQ or BITALG runs. The
/// AVX2 set means AVX2, FMA, POPCNT, F16C, BMI1 and BMI2 together (every AVX2 CPU since Haswell
/// and Excavator has all six); a CPU with AVX2 but not the rest runs scalar. NEON is aarch64's
/// Advanced SIMD.
#[repr(u32)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Isa {
    /// Portable code, any CPU: the reference every other kernel is tested against.
    Scalar = 0,
    /// x86-64 AVX2 + FMA (+ POPCNT, F16C, BMI1, BMI2).
    Avx2 = 1,
    /// x86-64 AVX-512 F/BW/VL/VPOPCNTDQ/BITALG/VBMI2.
    Avx512 = 2,
    /// aarch64 NEON.
    Neon = 3,
    /// x86-64 AVX-512 F/BW/VL without VPOPCNTDQ/BITALG (slower than `Avx512`, faster than `Avx2`;
    /// numbered after `Neon` so that the older values stay as they were).
    Avx512Bw = 4,
}

impl Isa {
    /// Every instruction set, in the order of their values (`ALL[i] as u32 == i`).
    pub(crate) const ALL: [Isa; 5] = [
        Isa::Scalar,
        Isa::Avx2,
        Isa::Avx512,
        Isa::Neon,
        Isa::Avx512Bw,
    ];

    /// Every instruction set, slowest first (detection takes the last available one).
    pub(crate) const BY_SPEED: [Isa; 5] = [
        Isa::Scalar,
        Isa::Avx2,
        Isa::Avx512Bw,
        Isa::Avx512,
        Isa::Neon,
    ];

    /// The lower-case name used by `ETA_HAMMING_ISA`, reports and `eta_isa_name()`.
    pub const fn name(self) -> &'static str {
        match self {
            Isa::Scalar => "scalar",
            Isa::Avx2 => "avx2",
            Isa::Avx512 => "avx512",
            Isa::Neon => "neon",
            Isa::Avx512Bw => "avx512bw",
        }
    }

    /// The instruction set with this name (case-insensitive), or `Error::UnknownIsa`.
    pub fn from_name(name: &str) -> Result<Isa> {
        Isa::ALL
            .into_iter()
            .find(|isa| isa.name().eq_ignore_ascii_case(name.trim()))
            .ok_or(Error::UnknownIsa)
    }
}

impl core::fmt::Display for Isa {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.write_str(self.name())
    }
}
