//! The C ABI, declared in `include/eta_hamming.h` (generated from this folder by cbindgen).
//! This file holds the conventions, the C constants (tied to the Rust ones at compile time), the
//! one panic boundary every export goes through, the version and the status messages. By domain:
//! `span` (C buffers: spans, the overlap check, views, and the steps every fingerprint entry
//! point runs), `isa` (instruction sets), `layout` (lane types of `m`), `hasher` (the hasher
//! and the encoders), `scan` (top-K and distances), `history` (history builders).
//!
//! Conventions, for every function:
//! - Functions that can fail return an `eta_status`; `ETA_STATUS_OK` is 0. On any other status
//!   nothing has been written to any output.
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
// Spans, the overlap check, views, and the steps of every fingerprint entry point.
mod span;

pub use hasher::*;
pub use history::*;
pub use isa::*;
pub use layout::*;
pub use pool::*;
pub use scan::*;

/// Bits a fingerprint may have at most.
pub const ETA_MAX_BITS: usize = 4096;
/// Index of an empty top-K slot (fewer than `K` valid items).
pub const ETA_EMPTY_INDEX: u32 = 0xFFFF_FFFF;
/// Distance of an empty top-K slot.
pub const ETA_EMPTY_DISTANCE: u16 = 0xFFFF;
/// The largest history length `L` (indices are `uint32_t`, `0xFFFFFFFF` is the sentinel).
pub const ETA_MAX_HISTORY_LEN: u64 = 0xFFFF_FFFE;

// The C constants are literals (cbindgen writes them into the header as they are written here);
// these tie them to the Rust constants, so that the two cannot drift apart.
const _: () = assert!(ETA_MAX_BITS == MAX_BITS);
const _: () = assert!(ETA_EMPTY_INDEX == EMPTY_INDEX);
const _: () = assert!(ETA_EMPTY_DISTANCE == EMPTY_DISTANCE);
const _: () = assert!(ETA_MAX_HISTORY_LEN == MAX_HISTORY_LEN as u64);

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

/// The library version, e.g. "0.1.0" (static storage; never free it).
#[no_mangle]
pub extern "C" fn eta_version() -> *const c_char {
    const V: &CStr =
        match CStr::from_bytes_with_nul(concat!(env!("CARGO_PKG_VERSION"), "\0").as_bytes()) {
            Ok(v) => v,
            Err(_) => c"unknown",
        };
    guard(cstr(c"unknown"), || cstr(V))
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
    fn a_panic_is_the_fallback_and_an_error_its_status() {
        assert_eq!(guard(7u32, || panic!("on purpose")), 7);
        assert_eq!(status(|| panic!("on purpose")), EtaStatus::Internal);
        assert_eq!(status(|| Err(crate::Error::InvalidK)), EtaStatus::InvalidK);
        assert_eq!(status(|| Ok(())), EtaStatus::Ok);
    }
}
