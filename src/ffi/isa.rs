//! Instruction sets: which one the kernels run, detection, forcing (process-wide) and the
//! `ETA_HAMMING_ISA` override.

use core::ffi::{c_char, CStr};

use super::{cstr, guard, status};
use crate::dispatch::Isa;
use crate::error::{Error, EtaStatus, Result};

/// Turns a C value into an [`Isa`] without trusting it to be a valid enum value.
fn isa_from_u32(isa: u32) -> Result<Isa> {
    Isa::ALL.get(isa as usize).copied().ok_or(Error::UnknownIsa)
}

fn isa_cstr(isa: Isa) -> &'static CStr {
    match isa {
        Isa::Scalar => c"scalar",
        Isa::Avx2 => c"avx2",
        Isa::Avx512 => c"avx512",
        Isa::Neon => c"neon",
        Isa::Avx512Bw => c"avx512bw",
    }
}

/// The instruction set the kernels run now (detected at first use, or read from
/// `ETA_HAMMING_ISA`, or forced).
#[no_mangle]
pub extern "C" fn eta_isa_current() -> Isa {
    guard(Isa::Scalar, Isa::current)
}

/// The name of the instruction set the kernels run now: "scalar", "avx2", "avx512", "neon" or
/// "avx512bw"
/// (static storage).
#[no_mangle]
pub extern "C" fn eta_isa_name() -> *const c_char {
    guard(cstr(c"scalar"), || cstr(isa_cstr(eta_isa_current())))
}

/// The best instruction set this CPU offers, ignoring any forcing.
#[no_mangle]
pub extern "C" fn eta_isa_detect() -> Isa {
    guard(Isa::Scalar, Isa::detect)
}

/// Whether this CPU (and build) can run `isa` (an `eta_isa` value; anything else is false).
#[no_mangle]
pub extern "C" fn eta_isa_is_available(isa: u32) -> bool {
    guard(false, || isa_from_u32(isa).is_ok_and(Isa::is_available))
}

/// Makes every later call in the process use `isa`. `ETA_STATUS_UNKNOWN_ISA` for a value that is
/// no `eta_isa`, `ETA_STATUS_ISA_UNAVAILABLE` when this CPU lacks it; either way nothing changes.
#[no_mangle]
#[must_use = "a status other than ETA_STATUS_OK means nothing was done"]
pub extern "C" fn eta_isa_force(isa: u32) -> EtaStatus {
    status(|| isa_from_u32(isa)?.force())
}

/// `eta_isa_force` by name ("scalar", "avx2", "avx512", "neon", "avx512bw";
/// case-insensitive).
///
/// # Safety
/// `name` is NULL (`ETA_STATUS_NULL_POINTER`) or a NUL-terminated string.
#[no_mangle]
#[must_use = "a status other than ETA_STATUS_OK means nothing was done"]
pub unsafe extern "C" fn eta_isa_force_name(name: *const c_char) -> EtaStatus {
    status(|| {
        if name.is_null() {
            return Err(Error::NullPointer { what: "name" });
        }
        // SAFETY: non-null and NUL-terminated by the caller's contract.
        let name = unsafe { CStr::from_ptr(name) };
        Isa::from_name(name.to_str().map_err(|_| Error::UnknownIsa)?)?.force()
    })
}

/// Undoes `eta_isa_force`: back to `ETA_HAMMING_ISA`'s choice, or to detection.
#[no_mangle]
pub extern "C" fn eta_isa_reset() {
    guard((), Isa::reset)
}

/// The status of `ETA_HAMMING_ISA` as read now: `ETA_STATUS_OK` when it is unset, `auto`, or an
/// instruction set this CPU runs; `ETA_STATUS_UNKNOWN_ISA` or `ETA_STATUS_ISA_UNAVAILABLE` when
/// it was ignored (the library then runs the best detected instruction set).
#[no_mangle]
#[must_use = "a status other than ETA_STATUS_OK means nothing was done"]
pub extern "C" fn eta_isa_env_status() -> EtaStatus {
    status(|| Isa::env_override().map_or(Ok(()), |r| r.map(|_| ())))
}
