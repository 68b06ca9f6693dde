//! The [`Isa`] enum: the instruction sets the kernels are written for, and their names. It
//! stands below both [`crate::arch`] (each kernel table names its instruction set) and
//! [`crate::dispatch`] (detection, forcing and the cached table, which add their methods to
//! `Isa`), so neither module imports the other's vocabulary.

use crate::error::{Error, Result};

/// An instruction set the kernels are written for.
///
/// `Avx512` means AVX-512 F, BW, VL and VPOPCNTDQ (Ice Lake and later, Zen 4 and later); an
/// AVX-512 CPU without VPOPCNTDQ runs the AVX2 kernels. `Avx2` means AVX2 and FMA together; a CPU
/// with AVX2 but no FMA runs scalar. `Neon` is aarch64's Advanced SIMD.
// The doc comment above is copied into include/eta_hamming.h by cbindgen, which this change
// leaves alone: the precise feature sets (AVX-512 also needs BITALG and the AVX2 set; AVX2 also
// needs POPCNT and F16C) are in `Isa::is_available` and `src/arch/x86_64/*/mod.rs`.
#[repr(C)]
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Isa {
    /// Portable Rust, any CPU: the reference every other kernel is tested against.
    Scalar = 0,
    /// x86-64 AVX2 + FMA.
    Avx2 = 1,
    /// x86-64 AVX-512 F/BW/VL/VPOPCNTDQ.
    Avx512 = 2,
    /// aarch64 NEON.
    Neon = 3,
}

impl Isa {
    /// Every instruction set, slowest first.
    pub(crate) const ALL: [Isa; 4] = [Isa::Scalar, Isa::Avx2, Isa::Avx512, Isa::Neon];

    /// The lower-case name used by `ETA_HAMMING_ISA`, reports and `eta_isa_name()`.
    pub const fn name(self) -> &'static str {
        match self {
            Isa::Scalar => "scalar",
            Isa::Avx2 => "avx2",
            Isa::Avx512 => "avx512",
            Isa::Neon => "neon",
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
