//! Fingerprint containers: owned, 64-byte aligned buffers and borrowed views over caller memory,
//! for queries (one fingerprint after another) and histories (structure of arrays).
//!
//! Owned buffers always keep their padding bits (at and above `m`) zero. Views over caller memory
//! trust the caller to do the same: a stray padding bit counts in every distance (the contract
//! counts every stored bit) but never makes anything read or write out of bounds.

use aligned_vec::{AVec, ConstAlign};

use crate::error::{Error, Result};
use crate::layout::{mul, Lane, Layout, MAX_HISTORY_LEN};

/// Alignment of every owned buffer: one cache line, and the widest vector load.
pub const BUFFER_ALIGN: usize = 64;

/// Item count that owned histories round their stride up to, so that each lane row starts on a
/// 64-byte boundary whatever the lane type, and SIMD kernels see whole vectors.
pub const STRIDE_MULTIPLE: usize = 64;

pub(crate) type Words = AVec<u64, ConstAlign<BUFFER_ALIGN>>;

/// Zeroed aligned storage for at least `bytes` bytes; `Error::SizeOverflow` past what one
/// allocation may hold (`isize::MAX` bytes, less the alignment), rather than a panic.
fn zeroed_words(bytes: usize) -> Result<Words> {
    if bytes > isize::MAX as usize - BUFFER_ALIGN {
        return Err(Error::SizeOverflow);
    }
    Ok(AVec::from_iter(
        BUFFER_ALIGN,
        core::iter::repeat_n(0u64, bytes.div_ceil(8)),
    ))
}

/// Calls `$body` with the type alias `$t` bound to the lane type of `$layout`.
macro_rules! with_lane_type {
    ($layout:expr, $t:ident => $body:expr) => {
        match $layout.lane_type() {
            $crate::layout::LaneType::U8 => {
                type $t = u8;
                $body
            }
            $crate::layout::LaneType::U16 => {
                type $t = u16;
                $body
            }
            $crate::layout::LaneType::U32 => {
                type $t = u32;
                $body
            }
            $crate::layout::LaneType::U64 => {
                type $t = u64;
                $body
            }
        }
    };
}
pub(crate) use with_lane_type;

/// `Error::InvalidBits` unless `T` is the lane type of `layout`.
fn check_lane<T: Lane>(layout: Layout) -> Result<()> {
    if T::TYPE == layout.lane_type() {
        Ok(())
    } else {
        Err(Error::InvalidBits { m: layout.bits() })
    }
}

/// Casts caller bytes to lanes of `layout`, checking alignment.
fn bytes_as_lanes<'a, T: Lane>(what: &'static str, bytes: &'a [u8]) -> Result<&'a [T]> {
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
fn view_lanes<T: Lane>(layout: Layout, bytes: &[u8]) -> &[T] {
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

fn check_len(what: &'static str, needed: usize, got: usize) -> Result<()> {
    if got < needed {
        Err(Error::BufferTooShort { what, needed, got })
    } else {
        Ok(())
    }
}

/// Lanes a single history of `len` items at `stride` must span: the last lane row need only
/// reach item `len - 1`.
pub(crate) fn history_span(lanes: usize, len: usize, stride: usize) -> Result<usize> {
    if len == 0 {
        return Ok(0);
    }
    mul(lanes - 1, stride)?
        .checked_add(len)
        .ok_or(Error::SizeOverflow)
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

/// The stride owned histories use for `len` items.
pub fn padded_stride(len: usize) -> Result<usize> {
    len.checked_next_multiple_of(STRIDE_MULTIPLE)
        .ok_or(Error::SizeOverflow)
}

// ------------------------------------------------------------------------------------------------
// Queries: one fingerprint after another.

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

/// A borrowed view of `n` fingerprints laid one after another (`n x lanes` lanes).
#[derive(Clone, Copy, Debug)]
pub struct FingerprintsRef<'a> {
    layout: Layout,
    n: usize,
    bytes: &'a [u8],
}

impl<'a> FingerprintsRef<'a> {
    /// A view of the first `n * lanes` lanes of `data`. `T` must be the lane type for `m`
    /// (`u8`, `u16`, `u32`, or `u64`), else `Error::InvalidBits`; a short `data` is
    /// `Error::BufferTooShort`.
    pub fn new<T: Lane>(m: usize, n: usize, data: &'a [T]) -> Result<FingerprintsRef<'a>> {
        let layout = Layout::new(m)?;
        check_lane::<T>(layout)?;
        let needed = mul(n, layout.lanes())?;
        check_len("fingerprints", needed, data.len())?;
        Ok(FingerprintsRef {
            layout,
            n,
            bytes: bytemuck::cast_slice(&data[..needed]),
        })
    }

    /// A view over caller bytes in the contract's bit order (little-endian lanes). The bytes must
    /// be aligned to the lane type (`Error::Misaligned`) and hold `n` fingerprints.
    pub fn from_bytes(m: usize, n: usize, bytes: &'a [u8]) -> Result<FingerprintsRef<'a>> {
        let layout = Layout::new(m)?;
        with_lane_type!(layout, T => {
            let lanes = bytes_as_lanes::<T>("fingerprints", bytes)?;
            FingerprintsRef::new::<T>(m, n, lanes)
        })
    }

    /// The storage layout.
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

    /// The viewed bytes (`n * fingerprint_bytes`).
    pub fn as_bytes(&self) -> &'a [u8] {
        self.bytes
    }

    /// The fingerprints `start..start + len`. Panics if that range is not inside `0..len()`.
    pub fn slice(&self, start: usize, len: usize) -> FingerprintsRef<'a> {
        assert!(
            start.checked_add(len).is_some_and(|end| end <= self.n),
            "range {start}+{len} of {}",
            self.n
        );
        let fp = self.layout.fingerprint_bytes();
        FingerprintsRef {
            layout: self.layout,
            n: len,
            bytes: &self.bytes[start * fp..(start + len) * fp],
        }
    }

    /// Lanes of fingerprint `i`, widened to `u64`. Panics if `i >= len()`.
    pub fn get(&self, i: usize) -> Vec<u64> {
        assert!(i < self.n, "fingerprint {i} of {}", self.n);
        let lanes = self.layout.lanes();
        with_lane_type!(self.layout, T => {
            self.lanes::<T>()[i * lanes..][..lanes].iter().map(|l| l.to_u64()).collect()
        })
    }

    /// The lanes; `T` must be the layout's lane type (checked by the constructors).
    pub(crate) fn lanes<T: Lane>(&self) -> &'a [T] {
        view_lanes(self.layout, self.bytes)
    }
}

impl<'a> From<&'a Fingerprints> for FingerprintsRef<'a> {
    fn from(f: &'a Fingerprints) -> Self {
        f.view()
    }
}

// ------------------------------------------------------------------------------------------------
// One history, structure of arrays.

/// One owned history of `len` items, structure of arrays: lane `w` of item `i` at
/// `w * stride + i`, with `stride` rounded up to a multiple of [`STRIDE_MULTIPLE`] and the
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

/// A borrowed view of one history: lane `w` of item `i` at `data[w * stride + i]`.
#[derive(Clone, Copy, Debug)]
pub struct HistoryRef<'a> {
    layout: Layout,
    len: usize,
    stride: usize,
    bytes: &'a [u8],
}

impl<'a> HistoryRef<'a> {
    /// A view of `len` items at `stride` (`stride >= len`) over `data`, which must hold
    /// `(lanes - 1) * stride + len` lanes (a full `lanes * stride` buffer always does).
    /// `len` must be below `2^32 - 1`.
    pub fn new<T: Lane>(
        m: usize,
        len: usize,
        stride: usize,
        data: &'a [T],
    ) -> Result<HistoryRef<'a>> {
        let layout = Layout::new(m)?;
        check_lane::<T>(layout)?;
        check_history_shape(len, stride)?;
        let needed = history_span(layout.lanes(), len, stride)?;
        check_len("history", needed, data.len())?;
        Ok(HistoryRef {
            layout,
            len,
            stride,
            bytes: bytemuck::cast_slice(&data[..needed]),
        })
    }

    /// A view over caller bytes (little-endian lanes, aligned to the lane type).
    pub fn from_bytes(
        m: usize,
        len: usize,
        stride: usize,
        bytes: &'a [u8],
    ) -> Result<HistoryRef<'a>> {
        let layout = Layout::new(m)?;
        with_lane_type!(layout, T => {
            HistoryRef::new::<T>(m, len, stride, bytes_as_lanes::<T>("history", bytes)?)
        })
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

    /// The items `start..start + len` as a history of `len` items (same stride; item `i` of the
    /// slice is item `start + i`). Panics if that range is not inside `0..len()`.
    pub fn slice(&self, start: usize, len: usize) -> HistoryRef<'a> {
        assert!(
            start.checked_add(len).is_some_and(|end| end <= self.len),
            "range {start}+{len} of {}",
            self.len
        );
        let lane = self.layout.lane_type().bytes();
        // In range: the view holds `(lanes - 1) * stride + self.len` lanes.
        let span = history_span(self.layout.lanes(), len, self.stride).unwrap_or(0);
        let bytes = if len == 0 {
            &self.bytes[..0]
        } else {
            &self.bytes[start * lane..(start + span) * lane]
        };
        HistoryRef {
            layout: self.layout,
            len,
            stride: self.stride,
            bytes,
        }
    }

    /// Lanes of item `i`, widened to `u64`. Panics if `i >= len()`.
    pub fn get(&self, i: usize) -> Vec<u64> {
        assert!(i < self.len, "item {i} of {}", self.len);
        with_lane_type!(self.layout, T => {
            let lanes = self.lanes::<T>();
            (0..self.layout.lanes()).map(|w| lanes[w * self.stride + i].to_u64()).collect()
        })
    }

    pub(crate) fn lanes<T: Lane>(&self) -> &'a [T] {
        view_lanes(self.layout, self.bytes)
    }
}

impl<'a> From<&'a History> for HistoryRef<'a> {
    fn from(h: &'a History) -> Self {
        h.view()
    }
}

// ------------------------------------------------------------------------------------------------
// Per-query histories.

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

/// A borrowed view of `B = lens.len()` histories of capacity `L` at one stride.
#[derive(Clone, Copy, Debug)]
pub struct HistoryBatchRef<'a> {
    layout: Layout,
    cap: usize,
    stride: usize,
    lens: &'a [u32],
    bytes: &'a [u8],
}

impl<'a> HistoryBatchRef<'a> {
    /// A view of `lens.len()` histories of capacity `cap` at `stride` over `data`, which must hold
    /// `(B * lanes - 1) * stride + cap` lanes (a full `B * lanes * stride` buffer always does).
    /// Errors: `lens[b] > cap` (`LenExceedsCapacity`), `stride < cap`, `cap >= 2^32 - 1`,
    /// overflow, short `data`.
    pub fn new<T: Lane>(
        m: usize,
        cap: usize,
        stride: usize,
        lens: &'a [u32],
        data: &'a [T],
    ) -> Result<HistoryBatchRef<'a>> {
        let layout = Layout::new(m)?;
        check_lane::<T>(layout)?;
        check_history_shape(cap, stride)?;
        if let Some((index, &len)) = lens.iter().enumerate().find(|(_, &l)| l as usize > cap) {
            return Err(Error::LenExceedsCapacity {
                index,
                len: len as usize,
                capacity: cap,
            });
        }
        let needed = batch_span(layout.lanes(), lens.len(), cap, stride)?;
        check_len("histories", needed, data.len())?;
        Ok(HistoryBatchRef {
            layout,
            cap,
            stride,
            lens,
            bytes: bytemuck::cast_slice(&data[..needed]),
        })
    }

    /// A view over caller bytes (little-endian lanes, aligned to the lane type).
    pub fn from_bytes(
        m: usize,
        cap: usize,
        stride: usize,
        lens: &'a [u32],
        bytes: &'a [u8],
    ) -> Result<HistoryBatchRef<'a>> {
        let layout = Layout::new(m)?;
        with_lane_type!(layout, T => {
            HistoryBatchRef::new::<T>(m, cap, stride, lens, bytes_as_lanes::<T>("histories", bytes)?)
        })
    }

    /// The storage layout.
    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// Number of histories `B`.
    pub fn count(&self) -> usize {
        self.lens.len()
    }

    /// The capacity `L`.
    pub fn capacity(&self) -> usize {
        self.cap
    }

    /// Lanes between consecutive lane rows.
    pub fn stride(&self) -> usize {
        self.stride
    }

    /// Valid items per history.
    pub fn lens(&self) -> &'a [u32] {
        self.lens
    }

    /// The histories `start..start + count` (and their `lens`). Panics if that range is not
    /// inside `0..count()`.
    pub fn slice(&self, start: usize, count: usize) -> HistoryBatchRef<'a> {
        let b = self.lens.len();
        assert!(
            start.checked_add(count).is_some_and(|end| end <= b),
            "range {start}+{count} of {b}"
        );
        let (lanes, lane) = (self.layout.lanes(), self.layout.lane_type().bytes());
        // In range: the view holds `(b * lanes - 1) * stride + cap` lanes.
        let span = batch_span(lanes, count, self.cap, self.stride).unwrap_or(0);
        let off = start * lanes * self.stride;
        let bytes = if span == 0 {
            &self.bytes[..0]
        } else {
            &self.bytes[off * lane..(off + span) * lane]
        };
        HistoryBatchRef {
            layout: self.layout,
            cap: self.cap,
            stride: self.stride,
            lens: &self.lens[start..start + count],
            bytes,
        }
    }

    pub(crate) fn lanes<T: Lane>(&self) -> &'a [T] {
        view_lanes(self.layout, self.bytes)
    }
}

impl<'a> From<&'a HistoryBatch> for HistoryBatchRef<'a> {
    fn from(h: &'a HistoryBatch) -> Self {
        h.view()
    }
}

/// Lanes `b` histories of capacity `cap` at `stride` must span.
pub(crate) fn batch_span(lanes: usize, b: usize, cap: usize, stride: usize) -> Result<usize> {
    if b == 0 || cap == 0 {
        return Ok(0);
    }
    mul(mul(b, lanes)? - 1, stride)?
        .checked_add(cap)
        .ok_or(Error::SizeOverflow)
}

// ------------------------------------------------------------------------------------------------
// Builders into caller memory.

fn check_ids(ids: &[u64], table_len: usize, offset: usize) -> Result<()> {
    match ids.iter().position(|&id| id >= table_len as u64) {
        Some(p) => Err(Error::IdOutOfRange {
            position: offset + p,
            id: ids[p],
            table_len,
        }),
        None => Ok(()),
    }
}

fn check_history_out<T: Lane>(layout: Layout, len: usize, out: &[T], stride: usize) -> Result<()> {
    check_lane::<T>(layout)?;
    check_history_shape(len, stride)?;
    check_len(
        "history",
        history_span(layout.lanes(), len, stride)?,
        out.len(),
    )
}

/// Writes the fingerprints `fps` as a history into `out` (lane `w` of item `i` at
/// `out[w * stride + i]`). Only those positions are written; padding items are left as they are.
pub fn history_from_fingerprints_into<T: Lane>(
    fps: FingerprintsRef<'_>,
    out: &mut [T],
    stride: usize,
) -> Result<()> {
    let (layout, len) = (fps.layout(), fps.len());
    check_history_out(layout, len, out, stride)?;
    let lanes = layout.lanes();
    for (i, fp) in fps.lanes::<T>().chunks_exact(lanes).enumerate() {
        for (w, &lane) in fp.iter().enumerate() {
            out[w * stride + i] = lane;
        }
    }
    Ok(())
}

/// Writes the history whose item `i` is row `ids[i]` of `table` into `out` (lane `w` of item `i`
/// at `out[w * stride + i]`). Every id is checked first: an id `>= table.len()` is
/// `Error::IdOutOfRange` and nothing is written.
pub fn history_gather_into<T: Lane>(
    table: FingerprintsRef<'_>,
    ids: &[u64],
    out: &mut [T],
    stride: usize,
) -> Result<()> {
    let layout = table.layout();
    check_history_out(layout, ids.len(), out, stride)?;
    check_ids(ids, table.len(), 0)?;
    let lanes = layout.lanes();
    let src = table.lanes::<T>();
    for (i, &id) in ids.iter().enumerate() {
        let fp = &src[id as usize * lanes..][..lanes];
        for (w, &lane) in fp.iter().enumerate() {
            out[w * stride + i] = lane;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Byte views at every offset: misaligned ones are refused, aligned ones hand the kernels
    /// exactly the caller's lanes (through `view_lanes`, whose debug assertions run here).
    #[test]
    fn byte_views_at_every_offset_are_refused_or_exact() {
        let store: Vec<u64> = (0..32u64)
            .map(|i| i.wrapping_mul(0x9E37_79B9_7F4A_7C15))
            .collect();
        let bytes: &[u8] = bytemuck::cast_slice(&store);
        for m in [8usize, 16, 32, 64, 200] {
            let lb = Layout::new(m).unwrap().lane_type().bytes();
            for off in 0..8 {
                let b = &bytes[off..off + 200];
                let aligned = (b.as_ptr() as usize).is_multiple_of(lb);
                match FingerprintsRef::from_bytes(m, 1, b) {
                    Ok(v) => {
                        assert!(aligned);
                        with_lane_type!(v.layout(), T => {
                            let lanes = v.lanes::<T>();
                            assert_eq!(bytemuck::cast_slice::<T, u8>(lanes), &b[..v.as_bytes().len()]);
                        });
                    }
                    Err(e) => assert!(!aligned && matches!(e, Error::Misaligned { .. })),
                }
                match HistoryRef::from_bytes(m, 2, 3, b) {
                    Ok(h) => {
                        assert!(aligned);
                        with_lane_type!(h.layout(), T => {
                            assert_eq!(h.lanes::<T>().len() * lb, h.bytes.len());
                        });
                    }
                    Err(e) => assert!(!aligned && matches!(e, Error::Misaligned { .. })),
                }
                let lens = [1u32, 2];
                match HistoryBatchRef::from_bytes(m, 2, 2, &lens, b) {
                    Ok(h) => {
                        assert!(aligned);
                        with_lane_type!(h.layout(), T => {
                            assert_eq!(h.lanes::<T>().len() * lb, h.bytes.len());
                        });
                    }
                    Err(e) => assert!(!aligned && matches!(e, Error::Misaligned { .. }), "{e:?}"),
                }
            }
        }
    }

    #[test]
    #[cfg(debug_assertions)]
    #[should_panic(expected = "lanes of another type")]
    fn lanes_of_another_type_are_caught_in_debug_builds() {
        let data = [0u64; 2];
        let v = FingerprintsRef::new::<u64>(64, 2, &data).unwrap();
        let _ = v.lanes::<u32>();
    }
}
