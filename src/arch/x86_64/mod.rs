//! x86-64 kernels: one directory per instruction set ([`avx2`]: AVX2 + FMA; [`avx512`]: AVX-512
//! F/BW/VL/VPOPCNTDQ/BITALG), each with its token, feature list and detection, scan and encode
//! kernels, and kernel table. [`crate::dispatch`] only hands a table out after its `detect()`.

pub(crate) mod avx2;
pub(crate) mod avx512;
