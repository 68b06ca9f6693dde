//! aarch64 kernels: one directory per instruction set ([`neon`]: Advanced SIMD, present on every
//! aarch64 CPU), with its token, feature list and detection, scan and encode kernels, and
//! kernel table. [`crate::dispatch`] only hands a table out after its `detect()`.

pub(crate) mod neon;
