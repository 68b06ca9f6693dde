//! Borrowed views over caller memory, the form every scan takes: [`FingerprintsRef`],
//! [`HistoryRef`] and [`HistoryBatchRef`]. Their constructors check the whole shape (lane type,
//! length, stride, `lens`), so a view is always safe for the kernels to read in full.

use super::owned::{Fingerprints, History, HistoryBatch};
use super::{bytes_as_lanes, check_lane, view_lanes};
use crate::error::Result;
use crate::layout::{with_lane_type, Lane, Layout};
use crate::shape::{
    batch_span, check_history_shape, check_len, check_lens, fingerprint_lanes, history_lanes,
    history_span,
};

/// A borrowed view of `n` fingerprints laid one after another (`n x lanes` lanes).
#[derive(Clone, Copy, Debug)]
pub struct FingerprintsRef<'a> {
    pub(super) layout: Layout,
    pub(super) n: usize,
    pub(super) bytes: &'a [u8],
}

impl<'a> FingerprintsRef<'a> {
    /// A view of the first `n * lanes` lanes of `data`. `T` must be the lane type for `m`
    /// (`u8`, `u16`, `u32`, or `u64`), else `Error::InvalidBits`; a short `data` is
    /// `Error::BufferTooShort`.
    pub fn new<T: Lane>(m: usize, n: usize, data: &'a [T]) -> Result<FingerprintsRef<'a>> {
        let layout = Layout::new(m)?;
        check_lane::<T>(layout)?;
        let needed = fingerprint_lanes(layout, n)?;
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

/// A borrowed view of one history: lane `w` of item `i` at `data[w * stride + i]`.
#[derive(Clone, Copy, Debug)]
pub struct HistoryRef<'a> {
    pub(super) layout: Layout,
    pub(super) len: usize,
    pub(super) stride: usize,
    pub(super) bytes: &'a [u8],
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
        let needed = history_lanes(layout.lanes(), len, stride)?;
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

/// A borrowed view of `B = lens.len()` histories of capacity `L` at one stride.
#[derive(Clone, Copy, Debug)]
pub struct HistoryBatchRef<'a> {
    pub(super) layout: Layout,
    pub(super) cap: usize,
    pub(super) stride: usize,
    pub(super) lens: &'a [u32],
    pub(super) bytes: &'a [u8],
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
        check_lens(lens, cap)?;
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

#[cfg(test)]
mod tests {
    use super::*;
    use crate::error::Error;

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
