//! The IEEE floating-point environment SimHash needs, whatever the host process set.
//!
//! The contract's bits are those of round-to-nearest-even FMAs with subnormals honoured. A host
//! process may have changed that: ML runtimes often set flush-to-zero / denormals-are-zero
//! (x86 MXCSR FTZ and DAZ, aarch64 FPCR.FZ) for speed, and some code changes the rounding mode.
//! Under such a mode the same FMA chain gives other bits (a subnormal partial sum flushed to
//! zero flips `s > 0`). So every encode runs inside a `StrictFp` guard, which sets the
//! default environment for the current thread and restores the caller's on drop (also on
//! unwind). Cost: two control-register writes per encode call, nothing per embedding.
//!
//! Only the calling thread's control register is touched, and only for the duration of the
//! call, so this is invisible to the caller except through the encode's (correct) result.

/// Sets the default floating-point environment on this thread until dropped.
pub(crate) struct StrictFp {
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    saved: u64,
}

#[cfg(target_arch = "x86_64")]
mod imp {
    /// MXCSR bits that change FMA results: DAZ (6), rounding control (13-14), FTZ (15).
    const NON_DEFAULT: u32 = (1 << 6) | (3 << 13) | (1 << 15);

    pub(super) fn enter() -> u64 {
        let mut csr: u32 = 0;
        // SAFETY: `stmxcsr` stores the SSE control/status register to the given 4-byte location,
        // which is a live local; SSE is part of the x86-64 baseline.
        unsafe {
            core::arch::asm!("stmxcsr [{}]", in(reg) &mut csr, options(nostack, preserves_flags))
        };
        if csr & NON_DEFAULT != 0 {
            let strict = csr & !NON_DEFAULT;
            // SAFETY: `ldmxcsr` loads a valid MXCSR value (the current one with DAZ, FTZ and the
            // rounding mode cleared: reserved bits unchanged), from a live local.
            unsafe {
                core::arch::asm!("ldmxcsr [{}]", in(reg) &strict, options(nostack, preserves_flags))
            };
        }
        u64::from(csr)
    }

    pub(super) fn leave(saved: u64) {
        let csr = saved as u32;
        if csr & NON_DEFAULT != 0 {
            // SAFETY: restores the exact MXCSR value read by `enter` on this thread.
            unsafe {
                core::arch::asm!("ldmxcsr [{}]", in(reg) &csr, options(nostack, preserves_flags))
            };
        }
    }
}

#[cfg(target_arch = "aarch64")]
mod imp {
    /// FPCR bits that change FMA results: FZ16 (19), RMode (22-23), FZ (24); and AH/FIZ (1, 0)
    /// of FEAT_AFP, which also flush subnormals.
    const NON_DEFAULT: u64 = (1 << 19) | (3 << 22) | (1 << 24) | 0b11;

    pub(super) fn enter() -> u64 {
        let fpcr: u64;
        // SAFETY: reading FPCR has no side effect and is allowed at EL0.
        unsafe {
            core::arch::asm!("mrs {}, fpcr", out(reg) fpcr, options(nomem, nostack, preserves_flags))
        };
        if fpcr & NON_DEFAULT != 0 {
            // SAFETY: writes FPCR with only the listed mode bits cleared; allowed at EL0.
            unsafe {
                core::arch::asm!("msr fpcr, {}", in(reg) fpcr & !NON_DEFAULT, options(nomem, nostack, preserves_flags))
            };
        }
        fpcr
    }

    pub(super) fn leave(saved: u64) {
        if saved & NON_DEFAULT != 0 {
            // SAFETY: restores the exact FPCR value read by `enter` on this thread.
            unsafe {
                core::arch::asm!("msr fpcr, {}", in(reg) saved, options(nomem, nostack, preserves_flags))
            };
        }
    }
}

impl StrictFp {
    /// Enters the default environment (a no-op where it already is).
    #[inline]
    pub(crate) fn enter() -> StrictFp {
        StrictFp {
            #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
            saved: imp::enter(),
        }
    }
}

impl Drop for StrictFp {
    #[inline]
    fn drop(&mut self) {
        #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
        imp::leave(self.saved);
    }
}

/// Test support: runs `f` with flush-to-zero and denormals-are-zero (and, on x86, round toward
/// zero) set on this thread, restoring the environment after.
#[doc(hidden)]
pub fn with_hostile_fp_env<R>(f: impl FnOnce() -> R) -> R {
    #[cfg(target_arch = "x86_64")]
    {
        let mut csr: u32 = 0;
        // SAFETY: as in `imp::enter`.
        unsafe {
            core::arch::asm!("stmxcsr [{}]", in(reg) &mut csr, options(nostack, preserves_flags))
        };
        let hostile = csr | (1 << 6) | (3 << 13) | (1 << 15);
        // SAFETY: a valid MXCSR value: DAZ, FTZ and round-toward-zero set, all exceptions masked
        // as before.
        unsafe {
            core::arch::asm!("ldmxcsr [{}]", in(reg) &hostile, options(nostack, preserves_flags))
        };
        struct Restore(u32);
        impl Drop for Restore {
            fn drop(&mut self) {
                // SAFETY: restores the value read above.
                unsafe {
                    core::arch::asm!("ldmxcsr [{}]", in(reg) &self.0, options(nostack, preserves_flags))
                };
            }
        }
        let _restore = Restore(csr);
        f()
    }
    #[cfg(target_arch = "aarch64")]
    {
        let fpcr: u64;
        // SAFETY: as in `imp::enter`.
        unsafe {
            core::arch::asm!("mrs {}, fpcr", out(reg) fpcr, options(nomem, nostack, preserves_flags))
        };
        // SAFETY: FZ and round-toward-zero (RMode = 0b11) set.
        unsafe {
            core::arch::asm!("msr fpcr, {}", in(reg) fpcr | (1 << 24) | (3 << 22), options(nomem, nostack, preserves_flags))
        };
        struct Restore(u64);
        impl Drop for Restore {
            fn drop(&mut self) {
                // SAFETY: restores the value read above.
                unsafe {
                    core::arch::asm!("msr fpcr, {}", in(reg) self.0, options(nomem, nostack, preserves_flags))
                };
            }
        }
        let _restore = Restore(fpcr);
        f()
    }
    #[cfg(not(any(target_arch = "x86_64", target_arch = "aarch64")))]
    f()
}
