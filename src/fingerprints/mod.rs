//! Fingerprint containers: owned, 64-byte aligned buffers ([`owned`]), borrowed views over
//! caller memory ([`views`]), for queries (one fingerprint after another) and histories
//! (structure of arrays), and the history builders into caller memory ([`build`]). This file
//! holds what they share: the alignment, the aligned storage and the lane casts.
//!
//! Owned buffers always keep their padding bits (at and above `m`) zero. Views over caller memory
//! trust the caller to do the same: a stray padding bit counts in every distance (the contract
//! counts every stored bit) but never makes anything read or write out of bounds.

use aligned_vec::{AVec, ConstAlign};

use crate::error::{Error, Result};
use crate::layout::{Lane, Layout};

pub(crate) mod build;
pub(crate) mod owned;
pub(crate) mod views;

pub use crate::shape::{padded_stride, STRIDE_MULTIPLE};
pub use build::{history_from_fingerprints_into, history_gather_into};
pub use owned::{Fingerprints, History, HistoryBatch};
pub use views::{FingerprintsRef, HistoryBatchRef, HistoryRef};

/// Alignment of every owned buffer: one cache line, and the widest vector load.
pub const BUFFER_ALIGN: usize = 64;

pub(crate) type Words = AVec<u64, ConstAlign<BUFFER_ALIGN>>;

/// Zeroed aligned storage for at least `bytes` bytes; `Error::SizeOverflow` past what one
/// allocation may hold (`isize::MAX` bytes, less the alignment), rather than a panic.
pub(crate) fn zeroed_words(bytes: usize) -> Result<Words> {
    if bytes > isize::MAX as usize - BUFFER_ALIGN {
        return Err(Error::SizeOverflow);
    }
    Ok(AVec::from_iter(
        BUFFER_ALIGN,
        core::iter::repeat_n(0u64, bytes.div_ceil(8)),
    ))
}

/// `Error::InvalidBits` unless `T` is the lane type of `layout`.
pub(crate) fn check_lane<T: Lane>(layout: Layout) -> Result<()> {
    if T::TYPE == layout.lane_type() {
        Ok(())
    } else {
        Err(Error::InvalidBits { m: layout.bits() })
    }
}

/// Casts caller bytes to lanes of `layout`, checking alignment.
pub(crate) fn bytes_as_lanes<'a, T: Lane>(what: &'static str, bytes: &'a [u8]) -> Result<&'a [T]> {
    let usable = bytes.len() - bytes.len() % core::mem::size_of::<T>();
    bytemuck::try_cast_slice(&bytes[..usable]).map_err(|_| Error::Misaligned {
        what,
        align: core::mem::align_of::<T>(),
    })
}

/// The lanes behind a view's bytes, for the kernels (which read them through raw pointers, so
/// what the view promises matters beyond bounds checks). The constructors made `bytes` from a
/// `&[T]` of the layout's lane type (or checked the alignment in `from_bytes`), so the cast
/// cannot fail; the debug assertions say why: the lane type is the layout's, the bytes are
/// aligned to it and hold whole lanes. `bytemuck` checks the same at run time (a panic, never
/// undefined behaviour) and keeps the borrow's provenance.
#[inline(always)]
pub(crate) fn view_lanes<T: Lane>(layout: Layout, bytes: &[u8]) -> &[T] {
    debug_assert_eq!(T::TYPE, layout.lane_type(), "lanes of another type");
    debug_assert!(
        (bytes.as_ptr() as usize).is_multiple_of(core::mem::align_of::<T>()),
        "view bytes misaligned for their lane type"
    );
    debug_assert!(
        bytes.len().is_multiple_of(core::mem::size_of::<T>()),
        "view bytes are not whole lanes"
    );
    bytemuck::cast_slice(bytes)
}
