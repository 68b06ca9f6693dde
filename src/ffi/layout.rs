//! The fingerprint layout of `m` bits: lanes per fingerprint and bytes per lane.

use super::guard;
use crate::layout::Layout;

/// Lanes per fingerprint of `m` bits (1 for `m <= 32`, else `ceil(m / 64)`); 0 for an invalid `m`.
#[no_mangle]
pub extern "C" fn eta_fingerprint_lanes(m: usize) -> usize {
    guard(0, || Layout::new(m).map_or(0, Layout::lanes))
}

/// Bytes per lane (1, 2, 4 or 8; also the buffers' required alignment) for `m` bits; 0 for an
/// invalid `m`.
#[no_mangle]
pub extern "C" fn eta_fingerprint_lane_bytes(m: usize) -> usize {
    guard(0, || Layout::new(m).map_or(0, |l| l.lane_type().bytes()))
}
