//! x86-64 kernels: one directory per instruction set ([`avx2`]: AVX2 + FMA; [`avx512`]: AVX-512
//! F/BW/VL/VPOPCNTDQ/BITALG; [`avx512bw`]: AVX-512 F/BW/VL, the `avx512` code with a nibble-lookup
//! popcount), each with its feature list and detection, scan and encode kernels, and kernel
//! table. [`crate::dispatch`] only hands a table out after its `detect()`.

pub(crate) mod avx2;
pub(crate) mod avx512;
pub(crate) mod avx512bw;
