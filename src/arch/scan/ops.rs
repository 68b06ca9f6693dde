//! The per-instruction-set trait [`ScanOps`]: the scan operations that do not depend on the lane
//! type (counting and masking `u8`/`u16` distances, the sorting-network hook). One zero-sized
//! token per instruction set implements it (the same token implements the encode side's
//! [`Simd`](crate::arch::encode::Simd)); the defaults are portable loops the compiler
//! vectorises, which an instruction set overrides where it has better.

/// Lane-type-independent scan operations of one instruction set. Every method is
/// `#[inline(always)]` in its implementations and only called inside that instruction set's
/// `#[target_feature]` entry points.
pub(crate) trait ScanOps {
    /// How many of the `n` distances at `d` are `<= bound` (`n` a multiple of 64).
    ///
    /// # Safety
    /// `d..d + n` readable; the instruction set is available.
    #[inline(always)]
    unsafe fn count_le_u16(d: *const u16, n: usize, bound: u16) -> usize {
        // SAFETY: the caller guarantees `n` readable distances.
        let d = unsafe { core::slice::from_raw_parts(d, n) };
        count_le(d, bound)
    }

    /// Bit `j` set when `d[j] <= bound`, for the 64 distances at `d`.
    ///
    /// # Safety
    /// `d..d + 64` readable; the instruction set is available.
    #[inline(always)]
    unsafe fn le_mask_u16(d: *const u16, bound: u16) -> u64 {
        let mut m = 0u64;
        for j in 0..64 {
            // SAFETY: the caller guarantees 64 readable distances.
            m |= u64::from(unsafe { *d.add(j) } <= bound) << j;
        }
        m
    }

    /// How many of the `n` bytes at `d` are `<= bound` (`n` a multiple of 64).
    ///
    /// # Safety
    /// `d..d + n` readable; the instruction set is available.
    #[inline(always)]
    unsafe fn count_le_u8(d: *const u8, n: usize, bound: u8) -> usize {
        // SAFETY: the caller guarantees `n` readable distances.
        let d = unsafe { core::slice::from_raw_parts(d, n) };
        d.iter().map(|&x| usize::from(x <= bound)).sum()
    }

    /// Bit `j` set when `d[j] <= bound`, for the 64 bytes at `d` (byte order).
    ///
    /// # Safety
    /// `d..d + 64` readable; the instruction set is available.
    #[inline(always)]
    unsafe fn le_mask_u8(d: *const u8, bound: u8) -> u64 {
        let mut m = 0u64;
        for j in 0..64 {
            // SAFETY: the caller guarantees 64 readable distances.
            m |= u64::from(unsafe { *d.add(j) } <= bound) << j;
        }
        m
    }

    /// Sorts the `n` keys at `keys` (distinct, non-negative) and writes them, split, to `idx`
    /// (`key & 0xFFFF`) and `dist` (`key >> 16`) in ascending order; returns `false`, doing
    /// nothing, where the instruction set has no sorting network for `n` keys
    /// ([`sort_keys`](super::select::sort_keys) then ranks or counts).
    ///
    /// # Safety
    /// `keys..keys + n` readable; `idx`/`dist` writable for `n`; the instruction set is
    /// available.
    #[inline(always)]
    unsafe fn sort_net(_keys: *const i32, _n: usize, _idx: *mut u32, _dist: *mut u16) -> bool {
        false
    }
}

/// `#{x in d : x <= bound}` (a loop the compiler vectorises).
#[inline(always)]
fn count_le(d: &[u16], bound: u16) -> usize {
    let mut c = 0u32;
    for &x in d {
        c += u32::from(x <= bound);
    }
    c as usize
}
