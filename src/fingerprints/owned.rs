//! Owned fingerprint buffers, 64-byte aligned, padding bits always zero: [`Fingerprints`]
//! (queries, one fingerprint after another), [`History`] (one history, structure of arrays) and
//! [`HistoryBatch`] (per-query histories at one stride).

use super::views::{FingerprintsRef, HistoryBatchRef, HistoryRef};
use super::{check_lane, history_from_fingerprints_into, history_gather_into, zeroed_words, Words};
use crate::error::{Error, Result};
use crate::layout::{mul, with_lane_type, Lane, Layout};
use crate::shape::{check_history_shape, check_ids, padded_stride};

/// `n` owned fingerprints, one after another (`n x lanes` lanes), in a 64-byte aligned buffer.
#[derive(Clone)]
pub struct Fingerprints {
    layout: Layout,
    n: usize,
    words: Words,
}

impl Fingerprints {
    /// `n` all-zero fingerprints of `m` bits.
    pub fn zeroed(m: usize, n: usize) -> Result<Fingerprints> {
        let layout = Layout::new(m)?;
        let bytes = mul(n, layout.fingerprint_bytes())?;
        Ok(Fingerprints {
            layout,
            n,
            words: zeroed_words(bytes)?,
        })
    }

    /// Copies `n` fingerprints from caller lanes (`n x lanes`). Padding bits above `m` are
    /// cleared, so the owned copy is always well-formed.
    pub fn from_lanes<T: Lane>(m: usize, n: usize, data: &[T]) -> Result<Fingerprints> {
        let src = FingerprintsRef::new(m, n, data)?;
        let mut out = Fingerprints::zeroed(m, n)?;
        let layout = out.layout;
        let lanes = layout.lanes();
        for (i, (o, s)) in out
            .lanes_mut::<T>()?
            .iter_mut()
            .zip(src.lanes::<T>())
            .enumerate()
        {
            *o = T::from_u64(s.to_u64() & layout.lane_mask(i % lanes));
        }
        Ok(out)
    }

    /// The storage layout (`m`, lane type, lanes per fingerprint).
    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// Number of fingerprints.
    pub fn len(&self) -> usize {
        self.n
    }

    /// Whether there are none.
    pub fn is_empty(&self) -> bool {
        self.n == 0
    }

    /// A borrowed view, the form the scan functions take.
    pub fn view(&self) -> FingerprintsRef<'_> {
        FingerprintsRef {
            layout: self.layout,
            n: self.n,
            bytes: self.as_bytes(),
        }
    }

    /// The fingerprints as bytes, `n * fingerprint_bytes` of them, in the contract's bit order.
    pub fn as_bytes(&self) -> &[u8] {
        &bytemuck::cast_slice::<u64, u8>(&self.words)[..self.n * self.layout.fingerprint_bytes()]
    }

    /// The fingerprints as lanes of type `T` (`n x lanes`); `Error::InvalidBits` if `T` is not
    /// the lane type for `m`.
    pub fn as_lanes<T: Lane>(&self) -> Result<&[T]> {
        check_lane::<T>(self.layout)?;
        Ok(bytemuck::cast_slice(self.as_bytes()))
    }

    /// Mutable lanes, for callers that fill fingerprints themselves: keep bits at and above `m`
    /// zero.
    pub fn lanes_mut<T: Lane>(&mut self) -> Result<&mut [T]> {
        check_lane::<T>(self.layout)?;
        let len = self.n * self.layout.lanes();
        Ok(&mut bytemuck::cast_slice_mut::<u64, T>(&mut self.words)[..len])
    }

    /// Lanes of fingerprint `i`, each widened to `u64` (lane 0 first). Panics if `i >= len()`.
    pub fn get(&self, i: usize) -> Vec<u64> {
        self.view().get(i)
    }
}

impl core::fmt::Debug for Fingerprints {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("Fingerprints")
            .field("m", &self.layout.bits())
            .field("n", &self.n)
            .finish()
    }
}

/// One owned history of `len` items, structure of arrays: lane `w` of item `i` at
/// `w * stride + i`, with `stride` rounded up to a multiple of [`STRIDE_MULTIPLE`](crate::STRIDE_MULTIPLE) and the
/// padding items zero.
#[derive(Clone)]
pub struct History {
    layout: Layout,
    len: usize,
    stride: usize,
    words: Words,
}

impl History {
    /// A history of `len` all-zero items.
    pub fn zeroed(m: usize, len: usize) -> Result<History> {
        let layout = Layout::new(m)?;
        check_history_shape(len, len)?;
        let stride = padded_stride(len)?;
        let bytes = mul(mul(layout.lanes(), stride)?, layout.lane_type().bytes())?;
        Ok(History {
            layout,
            len,
            stride,
            words: zeroed_words(bytes)?,
        })
    }

    /// The history of the fingerprints `fps`, in order (item `i` is `fps[i]`).
    pub fn from_fingerprints(fps: FingerprintsRef<'_>) -> Result<History> {
        let mut h = History::zeroed(fps.layout().bits(), fps.len())?;
        let stride = h.stride;
        with_lane_type!(h.layout, T => {
            history_from_fingerprints_into::<T>(fps, h.lanes_mut::<T>()?, stride)
        })?;
        Ok(h)
    }

    /// The history whose item `i` is row `ids[i]` of the fingerprint table `table`. An id that
    /// is not a row of the table is `Error::IdOutOfRange`, checked before anything is copied.
    pub fn gather(table: FingerprintsRef<'_>, ids: &[u64]) -> Result<History> {
        let mut h = History::zeroed(table.layout().bits(), ids.len())?;
        let stride = h.stride;
        with_lane_type!(h.layout, T => {
            history_gather_into::<T>(table, ids, h.lanes_mut::<T>()?, stride)
        })?;
        Ok(h)
    }

    /// The storage layout.
    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// Number of items `L`.
    pub fn len(&self) -> usize {
        self.len
    }

    /// Whether the history is empty.
    pub fn is_empty(&self) -> bool {
        self.len == 0
    }

    /// Lanes between consecutive lane rows.
    pub fn stride(&self) -> usize {
        self.stride
    }

    /// A borrowed view, the form the scan functions take.
    pub fn view(&self) -> HistoryRef<'_> {
        HistoryRef {
            layout: self.layout,
            len: self.len,
            stride: self.stride,
            bytes: self.as_bytes(),
        }
    }

    /// The whole buffer as bytes (`lanes * stride` lanes).
    pub fn as_bytes(&self) -> &[u8] {
        let n = self.layout.lanes() * self.stride * self.layout.lane_type().bytes();
        &bytemuck::cast_slice::<u64, u8>(&self.words)[..n]
    }

    /// The whole buffer as lanes of type `T` (`lanes * stride`).
    pub fn as_lanes<T: Lane>(&self) -> Result<&[T]> {
        check_lane::<T>(self.layout)?;
        Ok(bytemuck::cast_slice(self.as_bytes()))
    }

    /// Mutable lanes (`lanes * stride`); keep padding bits zero.
    pub fn lanes_mut<T: Lane>(&mut self) -> Result<&mut [T]> {
        check_lane::<T>(self.layout)?;
        let n = self.layout.lanes() * self.stride;
        Ok(&mut bytemuck::cast_slice_mut::<u64, T>(&mut self.words)[..n])
    }

    /// Lanes of item `i`, widened to `u64`. Panics if `i >= len()`.
    pub fn get(&self, i: usize) -> Vec<u64> {
        self.view().get(i)
    }
}

impl core::fmt::Debug for History {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("History")
            .field("m", &self.layout.bits())
            .field("len", &self.len)
            .field("stride", &self.stride)
            .finish()
    }
}

/// `B` owned histories of capacity `L` at one stride, history `b` holding `lens[b]` valid items:
/// lane `w` of item `i` of history `b` at `(b * lanes + w) * stride + i`.
#[derive(Clone)]
pub struct HistoryBatch {
    layout: Layout,
    cap: usize,
    stride: usize,
    lens: Vec<u32>,
    words: Words,
}

impl HistoryBatch {
    /// `b` empty histories (all `lens` zero) of capacity `cap`.
    pub fn zeroed(m: usize, b: usize, cap: usize) -> Result<HistoryBatch> {
        let layout = Layout::new(m)?;
        check_history_shape(cap, cap)?;
        let stride = padded_stride(cap)?;
        let lanes = mul(mul(b, layout.lanes())?, stride)?;
        let bytes = mul(lanes, layout.lane_type().bytes())?;
        // `lens` holds `b` values even when the capacity (so the history storage) is zero.
        if b > isize::MAX as usize / core::mem::size_of::<u32>() {
            return Err(Error::SizeOverflow);
        }
        Ok(HistoryBatch {
            layout,
            cap,
            stride,
            lens: vec![0; b],
            words: zeroed_words(bytes)?,
        })
    }

    /// History `b` holds the table rows `ids[b]`, in order; the capacity is the longest list.
    /// Every id is checked against the table before anything is copied.
    pub fn gather(table: FingerprintsRef<'_>, ids: &[&[u64]]) -> Result<HistoryBatch> {
        let cap = ids.iter().map(|l| l.len()).max().unwrap_or(0);
        let mut batch = HistoryBatch::zeroed(table.layout().bits(), ids.len(), cap)?;
        let mut offset = 0;
        for list in ids {
            check_ids(list, table.len(), offset)?;
            offset += list.len();
        }
        let (lanes, stride) = (batch.layout.lanes(), batch.stride);
        with_lane_type!(batch.layout, T => {
            let out = bytemuck::cast_slice_mut::<u64, T>(&mut batch.words);
            for (b, list) in ids.iter().enumerate() {
                let dst = &mut out[b * lanes * stride..][..lanes * stride];
                history_gather_into::<T>(table, list, dst, stride)?;
            }
        });
        for (len, list) in batch.lens.iter_mut().zip(ids) {
            *len = list.len() as u32; // <= cap <= MAX_HISTORY_LEN
        }
        Ok(batch)
    }

    /// The storage layout.
    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// Number of histories `B`.
    pub fn count(&self) -> usize {
        self.lens.len()
    }

    /// The capacity `L` of every history.
    pub fn capacity(&self) -> usize {
        self.cap
    }

    /// Lanes between consecutive lane rows.
    pub fn stride(&self) -> usize {
        self.stride
    }

    /// Valid items per history.
    pub fn lens(&self) -> &[u32] {
        &self.lens
    }

    /// A borrowed view, the form the scan functions take.
    pub fn view(&self) -> HistoryBatchRef<'_> {
        let n =
            self.lens.len() * self.layout.lanes() * self.stride * self.layout.lane_type().bytes();
        HistoryBatchRef {
            layout: self.layout,
            cap: self.cap,
            stride: self.stride,
            lens: &self.lens,
            bytes: &bytemuck::cast_slice::<u64, u8>(&self.words)[..n],
        }
    }
}

impl core::fmt::Debug for HistoryBatch {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("HistoryBatch")
            .field("m", &self.layout.bits())
            .field("count", &self.lens.len())
            .field("capacity", &self.cap)
            .field("stride", &self.stride)
            .finish()
    }
}
