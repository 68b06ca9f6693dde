//! The IEEE floating-point environment SimHash needs, whatever the host process set.
//!
//! The contract's bits are those of round-to-nearest-even FMAs with subnormals honoured. A host
//! process may have changed that: ML runtimes often set flush-to-zero / denormals-are-zero
//! (x86 MXCSR FTZ and DAZ, aarch64 FPCR.FZ) for speed, and some code changes the rounding mode.
//! Under such a mode the same FMA chain gives other bits (a subnormal partial sum flushed to
//! zero flips `s > 0`). A host may also have unmasked floating-point exceptions
//! (`feenableexcept`): the kernels then trap (SIGFPE) on an infinity in an embedding (invalid)
//! or on any rounding (inexact). So every encode runs inside a `StrictFp` guard, which sets the
//! default environment for the current thread (round-to-nearest, no flushing, every exception
//! masked) and restores the caller's exact state on drop (also on unwind): controls and the
//! sticky exception flags, which encoding sets and the caller must not see change. Cost: a few
//! control/status-register reads and writes per encode call, nothing per embedding.
//!
//! Only the calling thread's control register is touched, and only for the duration of the
//! call, so this is invisible to the caller except through the encode's (correct) result.

/// Sets the default floating-point environment on this thread until dropped.
pub(crate) struct StrictFp {
    #[cfg(any(target_arch = "x86_64", target_arch = "aarch64"))]
    saved: imp::Saved,
}

#[cfg(target_arch = "x86_64")]
mod imp {
    /// MXCSR bits that change FMA results: DAZ (6), rounding control (13-14), FTZ (15).
    const NON_DEFAULT: u32 = (1 << 6) | (3 << 13) | (1 << 15);
    /// MXCSR exception masks (7-12: invalid, denormal, divide-by-zero, overflow, underflow,
    /// precision): all set while encoding, so that a host's unmasked exception cannot trap
    /// (SIGFPE) in the kernels.
    const MASKS: u32 = 0x3F << 7;

    /// The caller's MXCSR, flags (bits 0-5) included.
    pub(super) type Saved = u32;

    fn read() -> u32 {
        let mut csr: u32 = 0;
        // SAFETY: `stmxcsr` stores the SSE control/status register to the given 4-byte location,
        // which is a live local; SSE is part of the x86-64 baseline.
        unsafe {
            core::arch::asm!("stmxcsr [{}]", in(reg) &mut csr, options(nostack, preserves_flags))
        };
        csr
    }

    /// # Safety
    /// `csr` is a valid MXCSR value: one read by [`read`] with only defined bits (0-15) changed.
    unsafe fn write(csr: u32) {
        // SAFETY: `ldmxcsr` loads the value from a live local; valid by the caller's contract
        // (reserved bits as read, so no #GP).
        unsafe {
            core::arch::asm!("ldmxcsr [{}]", in(reg) &csr, options(nostack, preserves_flags))
        };
    }

    pub(super) fn enter() -> Saved {
        let csr = read();
        let strict = (csr & !NON_DEFAULT) | MASKS;
        if strict != csr {
            // SAFETY: the current value with DAZ, FTZ and the rounding mode cleared and every
            // exception masked: reserved bits unchanged.
            unsafe { write(strict) };
        }
        csr
    }

    pub(super) fn leave(saved: Saved) {
        // Encoding sets sticky flags (precision, invalid on an infinity): the caller's come back
        // exactly as they were.
        if read() != saved {
            // SAFETY: restores the exact MXCSR value read by `enter` on this thread.
            unsafe { write(saved) };
        }
    }

    #[cfg(test)]
    pub(super) fn current() -> Saved {
        read()
    }

    /// # Safety
    /// As [`write`].
    #[cfg(test)]
    pub(super) unsafe fn set(csr: Saved) {
        // SAFETY: forwarded contract.
        unsafe { write(csr) }
    }
}

#[cfg(target_arch = "aarch64")]
mod imp {
    /// FPCR bits that change FMA results: FZ16 (19), RMode (22-23), FZ (24); and AH/FIZ (1, 0)
    /// of FEAT_AFP, which also flush subnormals.
    const NON_DEFAULT: u64 = (1 << 19) | (3 << 22) | (1 << 24) | 0b11;
    /// FPCR trap enables: IOE (8), DZE (9), OFE (10), UFE (11), IXE (12), IDE (15). All cleared
    /// while encoding, so that a host's enabled trap cannot fire (SIGFPE) in the kernels.
    const TRAPS: u64 = (0x1F << 8) | (1 << 15);

    /// The caller's FPCR and FPSR (the cumulative exception flags, bits 0-4 and 7, and QC).
    pub(super) type Saved = (u64, u64);

    fn read() -> Saved {
        let (fpcr, fpsr): (u64, u64);
        // SAFETY: reading FPCR and FPSR has no side effect and is allowed at EL0.
        unsafe {
            core::arch::asm!(
                "mrs {}, fpcr",
                "mrs {}, fpsr",
                out(reg) fpcr,
                out(reg) fpsr,
                options(nomem, nostack, preserves_flags)
            )
        };
        (fpcr, fpsr)
    }

    fn write_fpcr(fpcr: u64) {
        // SAFETY: writes FPCR with a value read from it, only defined mode/trap bits changed;
        // allowed at EL0.
        unsafe {
            core::arch::asm!("msr fpcr, {}", in(reg) fpcr, options(nomem, nostack, preserves_flags))
        };
    }

    fn write_fpsr(fpsr: u64) {
        // SAFETY: writes FPSR (status flags only) with a value read from it; allowed at EL0.
        unsafe {
            core::arch::asm!("msr fpsr, {}", in(reg) fpsr, options(nomem, nostack, preserves_flags))
        };
    }

    pub(super) fn enter() -> Saved {
        let (fpcr, fpsr) = read();
        let strict = fpcr & !(NON_DEFAULT | TRAPS);
        if strict != fpcr {
            write_fpcr(strict);
        }
        (fpcr, fpsr)
    }

    pub(super) fn leave(saved: Saved) {
        let (fpcr, fpsr) = read();
        // The flags first: with the traps still disabled, restoring them raises nothing (writing
        // FPSR never traps anyway). Encoding sets sticky flags: the caller's come back exactly.
        if fpsr != saved.1 {
            write_fpsr(saved.1);
        }
        if fpcr != saved.0 {
            write_fpcr(saved.0);
        }
    }

    #[cfg(test)]
    pub(super) fn current() -> Saved {
        read()
    }

    /// # Safety
    /// Values read by [`current`] with only defined mode, trap and flag bits changed.
    #[cfg(test)]
    pub(super) unsafe fn set(saved: Saved) {
        write_fpsr(saved.1);
        write_fpcr(saved.0);
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

#[cfg(all(test, any(target_arch = "x86_64", target_arch = "aarch64")))]
mod tests {
    use super::*;

    /// A hostile state: FTZ/DAZ-like and rounding bits set, every exception unmasked (trap
    /// enabled), and some sticky flags set.
    #[cfg(target_arch = "x86_64")]
    fn hostile(s: imp::Saved) -> imp::Saved {
        (s | (1 << 6) | (3 << 13) | (1 << 15) | (1 << 2) | (1 << 4)) & !(0x3F << 7)
    }

    #[cfg(target_arch = "aarch64")]
    fn hostile(s: imp::Saved) -> imp::Saved {
        (
            s.0 | (1 << 24) | (3 << 22) | (0x1F << 8) | (1 << 15),
            s.1 | (1 << 1) | (1 << 3),
        )
    }

    /// Inside the guard: default controls, everything masked; after it: the caller's exact
    /// state, although the guarded code raised flags (precision, invalid) that were unmasked.
    #[test]
    fn the_guard_masks_every_exception_and_restores_the_exact_state() {
        let original = imp::current();
        // SAFETY: the current state with defined control, mask/trap and flag bits changed. No
        // floating-point operation runs until the guard masks every exception again.
        unsafe { imp::set(hostile(original)) };
        // What the hardware kept (aarch64 cores without trapping read the enables back as 0).
        let before = imp::current();
        let inside = {
            let _fp = StrictFp::enter();
            let inside = imp::current();
            // Inexact, and invalid (inf - inf): trapped were they unmasked.
            let x = core::hint::black_box(1.0f32) / core::hint::black_box(3.0f32);
            let inf = core::hint::black_box(f32::INFINITY);
            core::hint::black_box((x, inf - inf));
            inside
        };
        let after = imp::current();
        // SAFETY: the state read at the start.
        unsafe { imp::set(original) };
        assert_eq!(
            after, before,
            "the caller's state, flags included, is restored"
        );
        #[cfg(target_arch = "x86_64")]
        {
            assert_eq!(inside & (0x3F << 7), 0x3F << 7, "every exception masked");
            assert_eq!(
                inside & ((1 << 6) | (3 << 13) | (1 << 15)),
                0,
                "default modes"
            );
        }
        #[cfg(target_arch = "aarch64")]
        assert_eq!(
            inside.0 & ((0x1F << 8) | (1 << 15) | (1 << 24) | (3 << 22)),
            0,
            "traps disabled, default modes"
        );
    }
}
