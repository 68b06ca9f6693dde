//! Shape arithmetic and the checks that involve no pointer, shared by the Rust API
//! (`fingerprints`, `search`, `simhash`, `workers::parallel`) and the C ABI (`ffi`): how many
//! lanes a shape spans, whether a history shape, a `K`, a list of lengths or of ids is valid.
//! Every product is checked (`Error::SizeOverflow`, never a wrap).

use crate::error::{Error, Result};
use crate::layout::{mul, Layout, MAX_HISTORY_LEN};

/// Item count that owned histories round their stride up to, so that each lane row starts on a
/// 64-byte boundary whatever the lane type, and SIMD kernels see whole vectors.
pub const STRIDE_MULTIPLE: usize = 64;

/// The stride owned histories use for `len` items.
pub fn padded_stride(len: usize) -> Result<usize> {
    len.checked_next_multiple_of(STRIDE_MULTIPLE)
        .ok_or(Error::SizeOverflow)
}

/// `Error::BufferTooShort` when a buffer of `got` elements is shorter than the `needed` its
/// shape names.
pub(crate) fn check_len(what: &'static str, needed: usize, got: usize) -> Result<()> {
    if got < needed {
        Err(Error::BufferTooShort { what, needed, got })
    } else {
        Ok(())
    }
}

/// `Error::InvalidK` for `k = 0`.
pub(crate) fn check_k(k: usize) -> Result<()> {
    if k == 0 {
        Err(Error::InvalidK)
    } else {
        Ok(())
    }
}

/// The embedding dimension and fingerprint width of a hasher: `m` in `1..=4096`
/// (`Error::InvalidBits`), then `d >= 1` (`Error::InvalidDim`).
pub(crate) fn check_hasher_shape(d: usize, m: usize) -> Result<Layout> {
    let layout = Layout::new(m)?;
    if d == 0 {
        return Err(Error::InvalidDim);
    }
    Ok(layout)
}

/// Lanes of `n` fingerprints laid one after another.
pub(crate) fn fingerprint_lanes(layout: Layout, n: usize) -> Result<usize> {
    mul(n, layout.lanes())
}

/// `Error::HistoryTooLong` / `Error::StrideTooSmall` checks shared by every history shape.
pub(crate) fn check_history_shape(len: usize, stride: usize) -> Result<()> {
    if len > MAX_HISTORY_LEN {
        return Err(Error::HistoryTooLong { len });
    }
    if stride < len {
        return Err(Error::StrideTooSmall { stride, len });
    }
    Ok(())
}

/// Lanes a single history of `len` items at `stride` must span: the last lane row need only
/// reach item `len - 1`. No shape check (see [`history_lanes`]).
pub(crate) fn history_span(lanes: usize, len: usize, stride: usize) -> Result<usize> {
    if len == 0 {
        return Ok(0);
    }
    mul(lanes - 1, stride)?
        .checked_add(len)
        .ok_or(Error::SizeOverflow)
}

/// Lanes `b` histories of capacity `cap` at `stride` must span. No shape check (see
/// [`batch_lanes`]).
pub(crate) fn batch_span(lanes: usize, b: usize, cap: usize, stride: usize) -> Result<usize> {
    if b == 0 || cap == 0 {
        return Ok(0);
    }
    mul(mul(b, lanes)? - 1, stride)?
        .checked_add(cap)
        .ok_or(Error::SizeOverflow)
}

/// Lanes a history of `len` items at `stride` spans, after its shape checks.
pub(crate) fn history_lanes(lanes: usize, len: usize, stride: usize) -> Result<usize> {
    check_history_shape(len, stride)?;
    history_span(lanes, len, stride)
}

/// Lanes `b` histories of capacity `cap` at `stride` span, after their shape checks.
pub(crate) fn batch_lanes(lanes: usize, b: usize, cap: usize, stride: usize) -> Result<usize> {
    check_history_shape(cap, stride)?;
    batch_span(lanes, b, cap, stride)
}

/// `Error::LenExceedsCapacity` for the first of `lens` above `cap`.
pub(crate) fn check_lens(lens: &[u32], cap: usize) -> Result<()> {
    match lens.iter().enumerate().find(|(_, &l)| l as usize > cap) {
        Some((index, &len)) => Err(Error::LenExceedsCapacity {
            index,
            len: len as usize,
            capacity: cap,
        }),
        None => Ok(()),
    }
}

/// `Error::IdOutOfRange` for the first of `ids` that is no row of a table of `table_len`
/// fingerprints; `offset` is added to the reported position (ids checked list by list).
pub(crate) fn check_ids(ids: &[u64], table_len: usize, offset: usize) -> Result<()> {
    match ids.iter().position(|&id| id >= table_len as u64) {
        Some(p) => Err(Error::IdOutOfRange {
            position: offset + p,
            id: ids[p],
            table_len,
        }),
        None => Ok(()),
    }
}

/// Number of embeddings of dimension `d` in `len` elements, which must be a whole number of
/// rows.
pub(crate) fn embedding_rows(len: usize, d: usize) -> Result<usize> {
    if !len.is_multiple_of(d) {
        let needed = len.next_multiple_of(d);
        return Err(Error::BufferTooShort {
            what: "embeddings (a multiple of d)",
            needed,
            got: len,
        });
    }
    Ok(len / d)
}

/// Checks that `len` elements hold `n` embeddings of dimension `d`.
pub(crate) fn check_embeddings(len: usize, n: usize, d: usize) -> Result<()> {
    check_len("embeddings", mul(n, d)?, len)
}

/// `B * k` output slots, as many as one allocation of `u32` may hold, else
/// `Error::SizeOverflow` (not a panic).
pub(crate) fn owned_slots(b: usize, k: usize) -> Result<usize> {
    let n = mul(b, k)?;
    if n > isize::MAX as usize / core::mem::size_of::<u32>() {
        return Err(Error::SizeOverflow);
    }
    Ok(n)
}
