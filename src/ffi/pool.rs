//! The worker pool of the `_mt` calls: capping the threads one call runs on
//! (`eta_hamming::parallel::set_max_threads`; the initial cap comes from
//! `ETA_HAMMING_MAX_THREADS`).

use super::{guard, status};
use crate::error::EtaStatus;
use crate::parallel;

/// Caps the threads any one `_mt` call runs on, the calling thread included (`0`: no cap):
/// `threads = 0` then picks at most `max_threads`, a larger explicit count counts as
/// `max_threads`, and the pool starts at most `max_threads - 1` workers. Process-wide; calls
/// already running keep their split; workers already started are not stopped (they sleep).
/// `1` keeps every call on its caller's thread, which suits a server that already runs its
/// requests on its own threads (README, "Threads"). Always `ETA_STATUS_OK`.
#[no_mangle]
#[must_use = "a status other than ETA_STATUS_OK means nothing was done"]
pub extern "C" fn eta_set_max_threads(max_threads: usize) -> EtaStatus {
    status(|| {
        parallel::set_max_threads(max_threads);
        Ok(())
    })
}

/// The cap set by `eta_set_max_threads` or, before any, read from `ETA_HAMMING_MAX_THREADS`
/// (an unset or non-integer value: no cap); `0` for none.
#[no_mangle]
pub extern "C" fn eta_max_threads() -> usize {
    guard(0, parallel::max_threads)
}
