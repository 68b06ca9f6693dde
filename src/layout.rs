//! How an `m`-bit fingerprint is stored: lane type, lanes per fingerprint, bit order.

use crate::error::{Error, Result};

/// The largest fingerprint width, in bits. Distances then fit `u16` with room for the `0xFFFF`
/// sentinel (the largest distance is 4096).
pub const MAX_BITS: usize = 4096;

/// The largest history length: indices are `u32` and `0xFFFFFFFF` marks an empty slot, so
/// `L <= 0xFFFF_FFFE`.
pub const MAX_HISTORY_LEN: usize = 0xFFFF_FFFE;

/// Index written to an output slot that holds no result (fewer than `K` valid items).
pub const EMPTY_INDEX: u32 = u32::MAX;

/// Distance written to an output slot that holds no result.
pub const EMPTY_DISTANCE: u16 = u16::MAX;

/// The integer type one lane of a fingerprint is stored in.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum LaneType {
    /// `m <= 8`: one `u8` per fingerprint.
    U8,
    /// `9 <= m <= 16`: one `u16` per fingerprint.
    U16,
    /// `17 <= m <= 32`: one `u32` per fingerprint.
    U32,
    /// `m >= 33`: `W = ceil(m / 64)` `u64` words per fingerprint.
    U64,
}

impl LaneType {
    /// Bytes of one lane (also its required alignment).
    pub const fn bytes(self) -> usize {
        match self {
            LaneType::U8 => 1,
            LaneType::U16 => 2,
            LaneType::U32 => 4,
            LaneType::U64 => 8,
        }
    }
}

/// The storage layout of `m`-bit fingerprints, validated (`1 <= m <= 4096`).
///
/// Bit `j` of a fingerprint lives in lane `j / lane_bits` at bit `j % lane_bits`, counted from the
/// least significant bit; bits at and above `m` are zero. On the little-endian targets this crate
/// supports, that makes the byte view of a fingerprint "bit `j` in byte `j / 8`, at bit `j % 8`",
/// whatever the lane type (the same order as `numpy.packbits(..., bitorder="little")`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Layout {
    m: u16,
}

impl Layout {
    /// The layout for `m` bits; `Error::InvalidBits` unless `1 <= m <= 4096`.
    pub const fn new(m: usize) -> Result<Layout> {
        if m == 0 || m > MAX_BITS {
            return Err(Error::InvalidBits { m });
        }
        Ok(Layout { m: m as u16 })
    }

    /// Bits per fingerprint.
    pub const fn bits(self) -> usize {
        self.m as usize
    }

    /// The lane type for this `m`.
    pub const fn lane_type(self) -> LaneType {
        match self.m {
            0..=8 => LaneType::U8,
            9..=16 => LaneType::U16,
            17..=32 => LaneType::U32,
            _ => LaneType::U64,
        }
    }

    /// Lanes per fingerprint: 1 for `m <= 32`, else `ceil(m / 64)`.
    pub const fn lanes(self) -> usize {
        match self.lane_type() {
            LaneType::U64 => (self.m as usize).div_ceil(64),
            _ => 1,
        }
    }

    /// Bytes per fingerprint.
    pub const fn fingerprint_bytes(self) -> usize {
        self.lanes() * self.lane_type().bytes()
    }

    /// The padding mask of lane `w`: the bits of lane `w` that are below `m`. A fingerprint is
    /// well-formed when every lane `w` equals itself ANDed with this mask.
    pub const fn lane_mask(self, w: usize) -> u64 {
        let lane_bits = self.lane_type().bytes() * 8;
        let lo = w * lane_bits;
        let m = self.m as usize;
        if lo >= m {
            0
        } else if m - lo >= 64 {
            u64::MAX
        } else {
            (1u64 << (m - lo)) - 1
        }
    }
}

mod sealed {
    pub trait Sealed {}
    impl Sealed for u8 {}
    impl Sealed for u16 {}
    impl Sealed for u32 {}
    impl Sealed for u64 {}
}

/// An unsigned lane type of the contract: `u8`, `u16`, `u32` or `u64`. Sealed.
pub trait Lane:
    sealed::Sealed + bytemuck::Pod + Copy + Default + Eq + core::fmt::Debug + Send + Sync + 'static
{
    /// The [`LaneType`] this Rust type stands for.
    const TYPE: LaneType;
    /// `popcount(self ^ other)`.
    fn hamming(self, other: Self) -> u32;
    /// Widening conversion, for tests and the scalar paths.
    fn to_u64(self) -> u64;
    /// Truncating conversion (the caller masks to the lane's bits first).
    fn from_u64(v: u64) -> Self;
}

macro_rules! impl_lane {
    ($t:ty, $lt:expr) => {
        impl Lane for $t {
            const TYPE: LaneType = $lt;
            #[inline(always)]
            fn hamming(self, other: Self) -> u32 {
                (self ^ other).count_ones()
            }
            #[inline(always)]
            fn to_u64(self) -> u64 {
                self as u64
            }
            #[inline(always)]
            fn from_u64(v: u64) -> Self {
                v as $t
            }
        }
    };
}
impl_lane!(u8, LaneType::U8);
impl_lane!(u16, LaneType::U16);
impl_lane!(u32, LaneType::U32);
impl_lane!(u64, LaneType::U64);

/// Calls `$body` with the type alias `$t` bound to the lane type of `$layout`: the one place
/// where a run-time [`LaneType`] becomes a Rust type.
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

/// `a * b`, or `Error::SizeOverflow`.
#[inline]
pub(crate) fn mul(a: usize, b: usize) -> Result<usize> {
    a.checked_mul(b).ok_or(Error::SizeOverflow)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn lane_types_and_counts_follow_the_contract() {
        let cases = [
            (1, LaneType::U8, 1),
            (8, LaneType::U8, 1),
            (9, LaneType::U16, 1),
            (16, LaneType::U16, 1),
            (17, LaneType::U32, 1),
            (32, LaneType::U32, 1),
            (33, LaneType::U64, 1),
            (63, LaneType::U64, 1),
            (64, LaneType::U64, 1),
            (65, LaneType::U64, 2),
            (128, LaneType::U64, 2),
            (4095, LaneType::U64, 64),
            (4096, LaneType::U64, 64),
        ];
        for (m, lt, lanes) in cases {
            let l = Layout::new(m).unwrap();
            assert_eq!((l.lane_type(), l.lanes()), (lt, lanes), "m = {m}");
        }
        assert_eq!(Layout::new(0), Err(Error::InvalidBits { m: 0 }));
        assert_eq!(Layout::new(4097), Err(Error::InvalidBits { m: 4097 }));
    }

    #[test]
    fn lane_masks_cover_exactly_m_bits() {
        for m in [
            1usize, 7, 8, 9, 16, 31, 32, 33, 63, 64, 65, 127, 128, 200, 4096,
        ] {
            let l = Layout::new(m).unwrap();
            let lane_bits = l.lane_type().bytes() * 8;
            let total: u32 = (0..l.lanes()).map(|w| l.lane_mask(w).count_ones()).sum();
            assert_eq!(total as usize, m);
            for w in 0..l.lanes() {
                assert!(lane_bits == 64 || l.lane_mask(w) >> lane_bits == 0);
            }
        }
    }
}
