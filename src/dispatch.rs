//! Runtime choice of the instruction set: detected once, cached in an atomic pointer to a
//! static kernel table, reportable and forceable.
//!
//! The first call into any kernel reads `ETA_HAMMING_ISA` (`scalar`, `avx2`, `avx512bw`, `avx512`, `neon`;
//! case-insensitive). If it names an instruction set this CPU and build can run, that one is
//! used; if it is unset, empty or `auto`, the best available one is. An unknown or unavailable
//! value is ignored (the best available instruction set runs) and reported by
//! [`Isa::env_override`], so a misconfigured fleet never crashes; check it where it matters.
//!
//! Thread safety: every function here may be called from any thread at any time. Forcing is
//! process-wide: a call already running keeps the kernel table it started with; calls that start
//! after [`Isa::force`] returns use the forced one. Results never depend on the instruction set.
//!
//! [`Isa`] itself is defined in a module below this one and the kernels (`src/isa.rs`), and is
//! re-exported here; this module adds its detection and forcing methods. What each instruction
//! set requires of the CPU is written once, in its directory under `src/arch`, and its `detect`
//! is derived from that list.

use core::ptr;
use core::sync::atomic::{AtomicPtr, Ordering};

use crate::arch::{self, Kernels};
use crate::error::{Error, Result};
pub use crate::isa::Isa;

/// The environment variable that forces an instruction set at first use.
pub const ISA_ENV_VAR: &str = "ETA_HAMMING_ISA";

impl Isa {
    /// Whether this CPU has the instruction set and this build has kernels for it. Exactly
    /// what each table requires: `Avx512`: AVX-512 F, BW, VL, VPOPCNTDQ and BITALG, with AVX2,
    /// FMA and POPCNT (a CPU lacking VPOPCNTDQ or BITALG runs `Avx512Bw`); `Avx512Bw`: AVX-512
    /// F, BW and VL, with AVX2, FMA and POPCNT (a CPU lacking one of them runs `Avx2`); `Avx2`:
    /// AVX2, FMA, POPCNT and F16C (a CPU lacking one of them runs `Scalar`); `Neon`: NEON.
    pub fn is_available(self) -> bool {
        self.kernels().is_some()
    }

    /// The best available instruction set on this CPU, ignoring any forcing.
    pub fn detect() -> Isa {
        Isa::BY_SPEED
            .into_iter()
            .rev()
            .find(|isa| isa.is_available())
            .unwrap_or(Isa::Scalar)
    }

    /// Every available instruction set, slowest first (for tests and benchmarks).
    pub fn available() -> Vec<Isa> {
        Isa::BY_SPEED
            .into_iter()
            .filter(|isa| isa.is_available())
            .collect()
    }

    /// The instruction set the kernels run now (detecting, or reading the environment, on first
    /// use).
    pub fn current() -> Isa {
        kernels().isa
    }

    /// Makes every later call in this process use `self`; `Error::IsaUnavailable` (and no change)
    /// when this CPU or build cannot run it.
    pub fn force(self) -> Result<()> {
        let table = self
            .kernels()
            .ok_or(Error::IsaUnavailable { isa: self.name() })?;
        ACTIVE.store(ptr::from_ref(table).cast_mut(), Ordering::Release);
        Ok(())
    }

    /// Undoes [`Isa::force`]: back to the environment's choice, or to detection.
    pub fn reset() {
        ACTIVE.store(ptr::from_ref(initial_table()).cast_mut(), Ordering::Release);
    }

    /// What `ETA_HAMMING_ISA` asks for now: `None` when unset, empty or `auto`; otherwise the
    /// instruction set, or the reason it cannot be used (`UnknownIsa`, `IsaUnavailable`).
    pub fn env_override() -> Option<Result<Isa>> {
        let value = std::env::var(ISA_ENV_VAR).ok()?;
        let value = value.trim();
        if value.is_empty() || value.eq_ignore_ascii_case("auto") {
            return None;
        }
        Some(Isa::from_name(value).and_then(|isa| {
            if isa.is_available() {
                Ok(isa)
            } else {
                Err(Error::IsaUnavailable { isa: isa.name() })
            }
        }))
    }

    /// The kernel table of this instruction set, if the CPU and build can run it.
    pub(crate) fn kernels(self) -> Option<&'static Kernels> {
        match self {
            Isa::Scalar => Some(&arch::scalar::KERNELS),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx2 if arch::x86_64::avx2::detect() => Some(&arch::x86_64::avx2::KERNELS),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512 if arch::x86_64::avx512::detect() => Some(&arch::x86_64::avx512::KERNELS),
            #[cfg(target_arch = "x86_64")]
            Isa::Avx512Bw if arch::x86_64::avx512bw::detect() => {
                Some(&arch::x86_64::avx512bw::KERNELS)
            }
            #[cfg(target_arch = "aarch64")]
            Isa::Neon if arch::aarch64::neon::detect() => Some(&arch::aarch64::neon::KERNELS),
            _ => None,
        }
    }
}

/// A handle on one instruction set's kernels, for callers that choose per call rather than
/// process-wide (tests and benchmarks comparing instruction sets side by side, or a server that
/// pins one). Every scan and encode function has an `Engine` method; the free functions and
/// [`crate::SimHasher`]'s methods use [`Engine::current`]. Cheap to copy; `Send + Sync`.
#[derive(Clone, Copy)]
pub struct Engine {
    kernels: &'static Kernels,
}

impl Engine {
    /// The engine of the process-wide choice (detection, `ETA_HAMMING_ISA`, or [`Isa::force`]),
    /// read now.
    #[inline]
    pub fn current() -> Engine {
        Engine { kernels: kernels() }
    }

    /// The engine of `isa`; `Error::IsaUnavailable` when this CPU or build cannot run it.
    pub fn new(isa: Isa) -> Result<Engine> {
        isa.kernels()
            .map(|kernels| Engine { kernels })
            .ok_or(Error::IsaUnavailable { isa: isa.name() })
    }

    /// The instruction set this engine runs.
    pub fn isa(&self) -> Isa {
        self.kernels.isa
    }

    #[inline]
    pub(crate) fn kernels(&self) -> &'static Kernels {
        self.kernels
    }
}

impl core::fmt::Debug for Engine {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_tuple("Engine").field(&self.isa()).finish()
    }
}

/// The active kernel table; null until first use.
static ACTIVE: AtomicPtr<Kernels> = AtomicPtr::new(ptr::null_mut());

fn initial_table() -> &'static Kernels {
    let isa = match Isa::env_override() {
        Some(Ok(isa)) => isa,
        _ => Isa::detect(),
    };
    isa.kernels().unwrap_or(&arch::scalar::KERNELS)
}

/// The active kernel table. One relaxed-cost atomic load per call once initialised.
#[inline]
pub(crate) fn kernels() -> &'static Kernels {
    let p = ACTIVE.load(Ordering::Acquire);
    if !p.is_null() {
        // SAFETY: ACTIVE only ever holds null or a pointer to one of the `static` kernel tables,
        // which live for the whole program and are never written.
        return unsafe { &*p };
    }
    let table = ptr::from_ref(initial_table()).cast_mut();
    // Only the first initialisation wins, so a concurrent `force` is never overwritten by a late
    // detection.
    match ACTIVE.compare_exchange(ptr::null_mut(), table, Ordering::AcqRel, Ordering::Acquire) {
        // SAFETY: as above: `table` points to a static kernel table.
        Ok(_) => unsafe { &*table },
        // SAFETY: as above: the winner stored a pointer to a static kernel table.
        Err(winner) => unsafe { &*winner },
    }
}
