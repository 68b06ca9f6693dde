//! The C ABI, declared in `include/eta_hamming.h` (generated from this folder by cbindgen).
//! This file holds the conventions, the C constants (tied to the Rust ones at compile time), the
//! one panic boundary every export goes through, the version and the status messages. By domain:
//! `span` (C buffers: spans, the overlap check, views, and the steps every fingerprint entry
//! point runs), `isa` (instruction sets), `layout` (lane types of `m`), `hasher` (the hasher
//! and the encoders), `scan` (top-K and distances), `history` (history builders), `handles`
//! (`eta_fingerprints` and `eta_history`, which record their width and shape).
//!
//! Conventions, for every function:
//! - Functions that can fail return an `eta_status` (a `uint32_t`; `ETA_STATUS_OK` is 0),
//!   declared `ETA_MUST_USE` so that a compiler warns when it is ignored. On any other status
//!   nothing has been written to any output. Status codes and `eta_isa` values are append-only.
//! - Every argument is validated before anything is written: `m` in `1..=4096`, `K >= 1`,
//!   `d >= 1`, `stride >= L`, `L < 2^32 - 1`, `lens[b] <= L`, ids inside the table, products of
//!   sizes that fit `size_t` (and `PTRDIFF_MAX` bytes), pointers aligned to their element type,
//!   and outputs that overlap no input or other output. A hasher is an input of every call that
//!   takes it: the `eta_hasher` object and the projection buffers it owns.
//! - A pointer may be NULL only when the size it describes is zero (an empty `std::vector`'s
//!   `data()` is fine); the documented optional outputs may always be NULL.
//! - Buffer sizes are implied by the shapes (as in BLAS): the library reads and writes exactly the
//!   elements the shape names, so the caller must pass buffers at least that large.
//! - Fingerprints are passed as `void *` because their lane type depends on `m`: `uint8_t` for
//!   `m <= 8`, `uint16_t` for `m <= 16`, `uint32_t` for `m <= 32`, else `ceil(m / 64)`
//!   `uint64_t` words; `eta_fingerprint_lanes()` and `eta_fingerprint_lane_bytes()` say which.
//!   Bits at and above `m` must be zero (the library always writes them zero).
//! - No panic crosses this boundary: every export runs its body through `guard` (or
//!   `status`), so one that escaped the library's checks is caught and reported as
//!   `ETA_STATUS_INTERNAL` (or the documented fallback of a function that returns no status).
//! - Thread safety: every function may be called from any number of threads at once, with the
//!   same hasher too; `eta_isa_force` and `eta_isa_reset` change a process-wide choice, which
//!   calls already running do not see.

use core::ffi::{c_char, CStr};
use core::panic::AssertUnwindSafe;

use crate::error::{EtaStatus, Result};
use crate::layout::{EMPTY_DISTANCE, EMPTY_INDEX, MAX_BITS, MAX_HISTORY_LEN};

// cbindgen reads these modules as declared, so their order is the order of the functions in the
// generated header; each comment keeps rustfmt from sorting them.
// Instruction sets.
mod isa;
// Lanes of a fingerprint of `m` bits.
mod layout;
// The hasher and the encoders.
mod hasher;
// Top-K and distances.
mod scan;
// History builders.
mod history;
// The worker pool of the `_mt` calls.
mod pool;
// Handles: fingerprints and histories that know their width and shape.
mod handles;
// Spans, the overlap check, views, and the steps of every fingerprint entry point.
mod span;

pub use handles::*;
pub use hasher::*;
pub use history::*;
pub use isa::*;
pub use layout::*;
pub use pool::*;
pub use scan::*;

/// Bits a fingerprint may have at most.
pub const ETA_MAX_BITS: u32 = 4096u32;
/// Index of an empty top-K slot (fewer than `K` valid items).
pub const ETA_EMPTY_INDEX: u32 = 0xFFFF_FFFFu32;
/// Distance of an empty top-K slot (compare it with `uint16_t` distances).
pub const ETA_EMPTY_DISTANCE: u32 = 0xFFFFu32;
/// The largest history length `L` (indices are `uint32_t`, `0xFFFFFFFF` is the sentinel).
pub const ETA_MAX_HISTORY_LEN: u32 = 0xFFFF_FFFEu32;

/// Major version of this header: `eta_version()` is "MAJOR.MINOR.PATCH". The ABI may change
/// incompatibly when the major version changes (and, while it is 0, when the minor one does).
pub const ETA_HAMMING_VERSION_MAJOR: u32 = 0u32;
/// Minor version of this header.
pub const ETA_HAMMING_VERSION_MINOR: u32 = 1u32;
/// Patch version of this header.
pub const ETA_HAMMING_VERSION_PATCH: u32 = 0u32;
/// The version of this header as one number: `MAJOR * 1000000 + MINOR * 1000 + PATCH` (what
/// `eta_version_number()` returns for the library).
pub const ETA_HAMMING_VERSION_NUMBER: u32 = 1000u32;

// The C constants are literals (cbindgen writes them into the header as they are written here);
// these tie them to the Rust constants and to Cargo.toml's version, so that they cannot drift.
const _: () = assert!(ETA_MAX_BITS as usize == MAX_BITS);
const _: () = assert!(ETA_EMPTY_INDEX == EMPTY_INDEX);
const _: () = assert!(ETA_EMPTY_DISTANCE == EMPTY_DISTANCE as u32);
const _: () = assert!(ETA_MAX_HISTORY_LEN as usize == MAX_HISTORY_LEN);
const _: () = assert!(ETA_HAMMING_VERSION_MAJOR == parse_u32(env!("CARGO_PKG_VERSION_MAJOR")));
const _: () = assert!(ETA_HAMMING_VERSION_MINOR == parse_u32(env!("CARGO_PKG_VERSION_MINOR")));
const _: () = assert!(ETA_HAMMING_VERSION_PATCH == parse_u32(env!("CARGO_PKG_VERSION_PATCH")));
const _: () = assert!(
    ETA_HAMMING_VERSION_NUMBER
        == ETA_HAMMING_VERSION_MAJOR * 1_000_000
            + ETA_HAMMING_VERSION_MINOR * 1000
            + ETA_HAMMING_VERSION_PATCH
);
const _: () = assert!(ETA_HAMMING_VERSION_MINOR < 1000 && ETA_HAMMING_VERSION_PATCH < 1000);

/// A decimal version component at compile time (Cargo's `CARGO_PKG_VERSION_*`).
const fn parse_u32(s: &str) -> u32 {
    let b = s.as_bytes();
    let mut i = 0;
    let mut v = 0u32;
    while i < b.len() {
        assert!(b[i].is_ascii_digit(), "a version component is decimal");
        v = v * 10 + (b[i] - b'0') as u32;
        i += 1;
    }
    v
}

/// The one panic boundary: every export runs its body through here (directly, or through
/// [`status`]), and a panic becomes `on_panic`, the export's documented fallback. The panic
/// payload is dropped here.
fn guard<R>(on_panic: R, body: impl FnOnce() -> R) -> R {
    std::panic::catch_unwind(AssertUnwindSafe(body)).unwrap_or(on_panic)
}

/// [`guard`] for the exports that return a status: an error becomes its status, a panic
/// `ETA_STATUS_INTERNAL`.
fn status(body: impl FnOnce() -> Result<()>) -> EtaStatus {
    guard(EtaStatus::Internal, || match body() {
        Ok(()) => EtaStatus::Ok,
        Err(e) => e.status(),
    })
}

/// Turns a NUL-terminated static C string into a pointer for C.
const fn cstr(s: &'static CStr) -> *const c_char {
    s.as_ptr()
}

// ------------------------------------------------------------------------------------------------
// Version and statuses.

/// The library's version, e.g. "0.1.0" (static storage; never free it). It may differ from the
/// header's `ETA_HAMMING_VERSION_*` when a program runs against another build of the library:
/// see `eta_version_number()` and `eta_version_compatible()`.
#[no_mangle]
pub extern "C" fn eta_version() -> *const c_char {
    const V: &CStr =
        match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
            Ok(v) => v,
            Err(_) => c"unknown",
        };
    guard(cstr(c"unknown"), || cstr(V))
}

/// The library's version as one number, `MAJOR * 1000000 + MINOR * 1000 + PATCH` (compare it
/// with the header's `ETA_HAMMING_VERSION_NUMBER`).
#[no_mangle]
pub extern "C" fn eta_version_number() -> u32 {
    guard(ETA_HAMMING_VERSION_NUMBER, || ETA_HAMMING_VERSION_NUMBER)
}

/// Whether this library can serve a program compiled against the header of version
/// `major.minor` (pass `ETA_HAMMING_VERSION_MAJOR, ETA_HAMMING_VERSION_MINOR`): the same major
/// version and a minor version at least `minor`; while the major version is 0, the same minor
/// version. Check it once at start-up when the library is loaded at run time (a shared library).
#[no_mangle]
pub extern "C" fn eta_version_compatible(major: u32, minor: u32) -> bool {
    guard(false, || {
        version_compatible(
            (ETA_HAMMING_VERSION_MAJOR, ETA_HAMMING_VERSION_MINOR),
            (major, minor),
        )
    })
}

/// [`eta_version_compatible`] for a library of version `lib` and a header of version `header`.
fn version_compatible(lib: (u32, u32), header: (u32, u32)) -> bool {
    lib.0 == header.0
        && if lib.0 == 0 {
            lib.1 == header.1
        } else {
            lib.1 >= header.1
        }
}

/// A static description of a status code (never NULL; "unknown status" for a value that is no
/// `eta_status`).
#[no_mangle]
pub extern "C" fn eta_status_message(status: u32) -> *const c_char {
    guard(cstr(c"unknown status"), || {
        match EtaStatus::ALL.get(status as usize) {
            Some(s) => cstr(s.message_cstr()),
            None => cstr(c"unknown status"),
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_status_has_a_message_and_a_code_in_order() {
        for (i, s) in EtaStatus::ALL.iter().enumerate() {
            assert_eq!(*s as u32 as usize, i);
            // SAFETY: static NUL-terminated strings.
            let msg = unsafe { CStr::from_ptr(eta_status_message(i as u32)) };
            assert!(!msg.to_bytes().is_empty());
        }
        // SAFETY: static NUL-terminated string.
        let unknown = unsafe { CStr::from_ptr(eta_status_message(999)) };
        assert_eq!(unknown.to_str().unwrap(), "unknown status");
    }

    #[test]
    fn version_compatibility_follows_semver() {
        assert!(eta_version_compatible(
            ETA_HAMMING_VERSION_MAJOR,
            ETA_HAMMING_VERSION_MINOR
        ));
        assert!(version_compatible((0, 3), (0, 3)));
        assert!(!version_compatible((0, 3), (0, 2)));
        assert!(!version_compatible((0, 3), (0, 4)));
        assert!(version_compatible((2, 3), (2, 1)));
        assert!(!version_compatible((2, 3), (2, 4)));
        assert!(!version_compatible((2, 3), (1, 3)));
        // SAFETY: static NUL-terminated string.
        let v = unsafe { CStr::from_ptr(eta_version()) }.to_str().unwrap();
        let n: Vec<u32> = v.split('.').map(|x| x.parse().unwrap()).collect();
        assert_eq!(eta_version_number(), n[0] * 1_000_000 + n[1] * 1000 + n[2]);
    }

    #[test]
    fn a_panic_is_the_fallback_and_an_error_its_status() {
        assert_eq!(guard(7u32, || panic!("on purpose")), 7);
        assert_eq!(status(|| panic!("on purpose")), EtaStatus::Internal);
        assert_eq!(status(|| Err(crate::Error::InvalidK)), EtaStatus::InvalidK);
        assert_eq!(status(|| Ok(())), EtaStatus::Ok);
    }
}
