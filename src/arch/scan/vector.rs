//! The lane trait [`Vector`]: 64 bytes of lanes of one type and the lane primitives the scans
//! need (load, broadcast, XOR-popcount, add, compare to a mask, store as `u16`, and the byte
//! packing of `u64`-lane distances). Everything that does not depend on the lane type lives in
//! the instruction set's [`ScanOps`] token, reached through [`Vector::Ops`].

use super::ops::ScanOps;
use super::state::MAX_VECTOR_ITEMS;
use super::stream::PREFIX_ITEMS;
use crate::layout::Lane;

/// 64 bytes of lanes and the lane primitives the scans need. All methods are `unsafe`: they use
/// intrinsics of the implementing instruction set, so they may only run inside a function
/// compiled for it (and on a CPU that has it).
pub(crate) trait Vector: Copy {
    /// The lane type.
    type Lane: Lane;
    /// The instruction set's token: the operations that do not depend on the lane type.
    type Ops: ScanOps;
    /// Items per vector: `64 / size_of::<Lane>()`.
    const N: usize;

    /// Loads `N` lanes from `p`.
    ///
    /// # Safety
    /// `p..p + N` readable.
    unsafe fn load(p: *const Self::Lane) -> Self;

    /// Loads `n < N` lanes from `p`, the others zero, reading nothing at or after `p + n`.
    ///
    /// # Safety
    /// `p..p + n` readable, `n < N`.
    #[inline(always)]
    unsafe fn load_partial(p: *const Self::Lane, n: usize) -> Self {
        let mut buf = [Self::Lane::default(); MAX_VECTOR_ITEMS];
        // SAFETY: the caller guarantees `n` readable lanes at `p`; `n < N <= 64`.
        unsafe { core::ptr::copy_nonoverlapping(p, buf.as_mut_ptr(), n) };
        // SAFETY: `buf` holds 64 >= N lanes.
        unsafe { Self::load(buf.as_ptr()) }
    }

    /// Every lane set to `x`.
    ///
    /// # Safety
    /// The instruction set is available.
    unsafe fn splat(x: Self::Lane) -> Self;

    /// `popcount(a ^ b)` per lane, in the lane's width.
    ///
    /// # Safety
    /// The instruction set is available.
    unsafe fn xor_popcnt(a: Self, b: Self) -> Self;

    /// Lane-wise sum (distances of several `u64` rows; never overflows: at most 4096).
    ///
    /// # Safety
    /// The instruction set is available.
    unsafe fn add(a: Self, b: Self) -> Self;

    /// Every lane set to the distance `dist` (`dist <= maxd + 1`, which fits the lane).
    ///
    /// # Safety
    /// The instruction set is available.
    unsafe fn splat_dist(dist: u32) -> Self;

    /// Bit `j` set when distance lane `j` of `d` is below lane `j` of `bound`.
    ///
    /// # Safety
    /// The instruction set is available.
    unsafe fn lt_mask(d: Self, bound: Self) -> u64;

    /// Bit `j` set when lane `j` of `a` equals lane `j` of `b` (distance 0). The default goes
    /// through the distance; an instruction set with a lane compare overrides it.
    ///
    /// # Safety
    /// The instruction set is available.
    #[inline(always)]
    unsafe fn eq_mask(a: Self, b: Self) -> u64 {
        // SAFETY: the caller guarantees the instruction set.
        unsafe { Self::lt_mask(Self::xor_popcnt(a, b), Self::splat_dist(1)) }
    }

    /// Writes the `N` distances of `d` as `u16` to `out..out + N`.
    ///
    /// # Safety
    /// `out..out + N` writable.
    unsafe fn store_u16(d: Self, out: *mut u16);

    /// Whether the two-pass path may keep its distances as `u8` (see
    /// [`DistBuf`](super::rows::DistBuf), when `maxd <= U8_MAX_DISTANCE`): the vector type implements the
    /// two block methods below. Otherwise they are never called. Byte packing stays in this
    /// trait because it depends on how the lanes lay out the distances.
    const U8_BUF: bool = false;

    /// The longest shared history that a call with several queries decides on the two-pass path
    /// when its distances fit bytes ([`Vector::U8_BUF`], `maxd <= U8_MAX_DISTANCE`): at most
    /// `2^16` (the keys `(distance << 16) | index`). [`PREFIX_ITEMS`] unless an instruction
    /// set measured better (docs/design/scan.md, "Long histories").
    const TWO_PASS_U8_ITEMS: usize = PREFIX_ITEMS;

    /// Packs the distances `d` of items `s * N .. (s + 1) * N` of a 64-item block into the
    /// block accumulator `acc` (`s < 64 / N`; `acc` starts as zero; every distance `< 256`),
    /// in an order of the instruction set's choosing that [`Vector::store_block_u8`] undoes.
    ///
    /// # Safety
    /// The instruction set is available.
    #[inline(always)]
    unsafe fn pack_u8(_acc: Self, _d: Self, _s: usize) -> Self {
        unreachable!("U8_BUF is false")
    }

    /// Writes a packed block to `out` as 64 bytes in item order, `0xFF` at the items whose
    /// bit in `valid` is clear.
    ///
    /// # Safety
    /// `out..out + 64` writable; the instruction set is available.
    #[inline(always)]
    unsafe fn store_block_u8(_acc: Self, _valid: u64, _out: *mut u8) {
        unreachable!("U8_BUF is false")
    }

    /// Writes `base + j` for every set bit `j` of `mask`, in increasing `j`, to `out..`, and
    /// returns how many (`mask.count_ones()`). May write anything to the slots after those,
    /// up to `out + 64`. The small-m selection extracts a dense distance level with it.
    ///
    /// The default writes 8 slots per step (branch-free `tzcnt` and clear-lowest-bit) until
    /// the mask is spent; an instruction set with a compress instruction overrides it.
    ///
    /// # Safety
    /// `out..out + 64` writable; the instruction set is available.
    #[inline(always)]
    unsafe fn compress_indices(mask: u64, base: u32, out: *mut u32) -> usize {
        const CHUNK: usize = 8;
        let n = mask.count_ones() as usize;
        let mut m = mask;
        let mut s = 0;
        loop {
            for c in 0..CHUNK {
                // SAFETY: `s + c < max(CHUNK, n) <= 64` slots, writable (the caller); a spent
                // mask writes `base + 64`.
                unsafe { out.add(s + c).write(base + m.trailing_zeros()) };
                m &= m.wrapping_sub(1);
            }
            s += CHUNK;
            if s >= n {
                return n;
            }
        }
    }
}
