//! The scan algorithms, written once over a small vector trait ([`Vector`]) that each
//! instruction set implements per lane type (memchr's style). Everything here is
//! `#[inline(always)]`: it is compiled inside each instruction set's `#[target_feature]` entry
//! points (see [`lane_kernels!`]), so the trait's intrinsics inline into one loop.
//!
//! A "vector" is always 64 bytes of lanes: one `zmm` (AVX-512), two `ymm` (AVX2) or four `q`
//! registers (NEON), so `N = 64 / size_of::<lane>()` items (8 `u64`, 16 `u32`, 32 `u16`, 64 `u8`)
//! per step on every instruction set, and one survivor mask fits a `u64`.
//!
//! Strategy:
//! - Distance of `N` items to one query: for each lane row `w`, load `N` lanes of the history
//!   (structure of arrays: contiguous), XOR with the query's lane `w` broadcast, popcount per
//!   lane, sum over rows. `W = lanes` is a constant for 1..=4 rows (fully unrolled), else a loop.
//! - Query blocking: `QB` queries share every history load (the loaded vector is XORed with
//!   each query in registers), so the history is read once per `QB` queries.
//! - History tiling: when the history exceeds [`TILE_BYTES`], it is walked tile by tile, each
//!   tile serving a group of [`GROUP`] queries before the next, so the tile stays in L2.
//! - Top-K: one vector compare of the distances against the query's threshold
//!   ([`super::topk`]); only set mask bits (survivors) reach the scalar top-K code.
//! - Tails: the last `len % N` items go through [`Vector::load_partial`], which never reads a
//!   lane beyond item `len - 1` (masked loads on AVX-512, a zero-padded copy elsewhere), and the
//!   survivor mask is cut to the valid items. Padding after `len` is never read.

use super::topk::{Scratch, Topk, MAX_VECTOR_ITEMS};
use super::{Batch, Shared};
use crate::layout::Lane;

/// 64 bytes of lanes and the operations the scans need. All methods are `unsafe`: they use
/// intrinsics of the implementing instruction set, so they may only run inside a function
/// compiled for it (and on a CPU that has it).
pub(crate) trait Vector: Copy {
    /// The lane type.
    type Lane: Lane;
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

    /// Every lane set to the distance `t` (`t <= maxd + 1`, which fits the lane).
    ///
    /// # Safety
    /// The instruction set is available.
    unsafe fn splat_dist(t: u32) -> Self;

    /// Bit `j` set when distance lane `j` of `d` is below lane `j` of `t`.
    ///
    /// # Safety
    /// The instruction set is available.
    unsafe fn lt_mask(d: Self, t: Self) -> u64;

    /// Writes the `N` distances of `d` as `u16` to `out..out + N`.
    ///
    /// # Safety
    /// `out..out + N` writable.
    unsafe fn store_u16(d: Self, out: *mut u16);
}

/// Bytes of history (all rows of a tile) scanned by a group of queries before the next tile.
pub(crate) const TILE_BYTES: usize = 256 * 1024;
/// Queries sharing the tiles of a long history (a multiple of every `QB`).
pub(crate) const GROUP: usize = 64;

/// The largest distance of this lane type and lane count: every stored bit counts.
#[inline(always)]
fn max_distance<T: Lane>(lanes: usize) -> usize {
    lanes * core::mem::size_of::<T>() * 8
}

/// Items per tile for `lanes` rows (a multiple of 64, at least 64).
#[inline(always)]
fn tile_items<T: Lane>(lanes: usize) -> usize {
    (TILE_BYTES / (lanes * core::mem::size_of::<T>()) / 64 * 64).max(64)
}

/// Distances of items `i..i + N` (or the `n` first of them, partial) to `QB` queries.
///
/// # Safety
/// `q` holds `QB * lanes` lanes; each row `w < lanes` of `hist` (at `w * stride`) is readable
/// at `i..i + N` (or `i..i + n` when `partial`).
#[inline(always)]
unsafe fn distances<V: Vector, const QB: usize, const W: usize>(
    q: *const V::Lane,
    lanes: usize,
    hist: *const V::Lane,
    stride: usize,
    i: usize,
    partial: Option<usize>,
) -> [V; QB] {
    let lanes = if W > 0 { W } else { lanes };
    // SAFETY: for the whole body, the caller guarantees the rows and the queries are readable.
    unsafe {
        let row = |w: usize| {
            let p = hist.add(w * stride + i);
            match partial {
                None => V::load(p),
                Some(n) => V::load_partial(p, n),
            }
        };
        let h = row(0);
        let mut d: [V; QB] =
            core::array::from_fn(|j| V::xor_popcnt(h, V::splat(*q.add(j * lanes))));
        for w in 1..lanes {
            let h = row(w);
            for (j, dj) in d.iter_mut().enumerate() {
                *dj = V::add(*dj, V::xor_popcnt(h, V::splat(*q.add(j * lanes + w))));
            }
        }
        d
    }
}

/// Feeds the survivors (`mask`) of distances `d` for items `base..` to `top`, and refreshes the
/// threshold vector.
#[inline(always)]
unsafe fn offer<V: Vector>(top: &mut Topk<'_>, thr: &mut V, d: V, base: usize, mask: u64) {
    let mut buf = [0u16; MAX_VECTOR_ITEMS];
    // SAFETY: `buf` holds 64 >= N distances.
    unsafe { V::store_u16(d, buf.as_mut_ptr()) };
    top.take(&buf, base, mask);
    // SAFETY: the instruction set is available (we run inside its entry point).
    *thr = unsafe { V::splat_dist(top.thr) };
}

/// Scans items `t0..t1` of one history for `QB` queries, feeding their top-K states.
///
/// # Safety
/// As [`distances`], for every item in `t0..t1`; `t1 < 2^32`.
#[inline(always)]
unsafe fn scan<V: Vector, const QB: usize, const W: usize>(
    q: *const V::Lane,
    lanes: usize,
    hist: *const V::Lane,
    stride: usize,
    t0: usize,
    t1: usize,
    tops: &mut [Topk<'_>; QB],
) {
    // SAFETY: for the whole body, the caller guarantees the items `t0..t1` of every row are readable;
    // we run inside the instruction set's entry point.
    unsafe {
        let mut thr: [V; QB] = core::array::from_fn(|j| V::splat_dist(tops[j].thr));
        let mut i = t0;
        while i + V::N <= t1 {
            let d = distances::<V, QB, W>(q, lanes, hist, stride, i, None);
            for j in 0..QB {
                let mask = V::lt_mask(d[j], thr[j]);
                if mask != 0 {
                    offer(&mut tops[j], &mut thr[j], d[j], i, mask);
                }
            }
            i += V::N;
        }
        if i < t1 {
            let n = t1 - i;
            let d = distances::<V, QB, W>(q, lanes, hist, stride, i, Some(n));
            let valid = (1u64 << n) - 1;
            for j in 0..QB {
                let mask = V::lt_mask(d[j], thr[j]) & valid;
                if mask != 0 {
                    offer(&mut tops[j], &mut thr[j], d[j], i, mask);
                }
            }
        }
    }
}

/// Top-K over a shared history, `QB` queries per pass.
///
/// # Safety
/// The arguments satisfy [`Shared`]'s invariants; `idx`/`dist` hold `nq * k` slots; the
/// instruction set of `V` is available.
#[inline(always)]
pub(crate) unsafe fn topk_shared<V: Vector, const QB: usize>(
    a: &Shared<'_, V::Lane>,
    k: usize,
    idx: &mut [u32],
    dist: &mut [u16],
) {
    // SAFETY: forwarded.
    unsafe {
        match a.lanes {
            1 => topk_shared_w::<V, QB, 1>(a, k, idx, dist),
            2 => topk_shared_w::<V, QB, 2>(a, k, idx, dist),
            3 => topk_shared_w::<V, QB, 3>(a, k, idx, dist),
            4 => topk_shared_w::<V, QB, 4>(a, k, idx, dist),
            _ => topk_shared_w::<V, QB, 0>(a, k, idx, dist),
        }
    }
}

#[inline(always)]
unsafe fn topk_shared_w<V: Vector, const QB: usize, const W: usize>(
    a: &Shared<'_, V::Lane>,
    k: usize,
    idx: &mut [u32],
    dist: &mut [u16],
) {
    let (len, lanes) = (a.len, a.lanes);
    if len == 0 || a.nq == 0 || (W > 1 && V::Lane::TYPE != crate::layout::LaneType::U64) {
        return;
    }
    let tile = tile_items::<V::Lane>(lanes);
    let group = if len <= tile { QB } else { GROUP };
    let mut scratch = Scratch::new(group.min(a.nq), k, len, max_distance::<V::Lane>(lanes));
    let mut tops = scratch.states();
    let kept = k.min(len);
    let hist = a.hist.as_ptr();
    for g0 in (0..a.nq).step_by(group) {
        let gq = group.min(a.nq - g0);
        let full = gq / QB * QB;
        let tops = &mut tops[..gq];
        tops.iter_mut().for_each(Topk::reset);
        for t0 in (0..len).step_by(tile) {
            let t1 = (t0 + tile).min(len);
            let (blocks, singles) = tops.split_at_mut(full);
            for (bi, block) in blocks.chunks_exact_mut(QB).enumerate() {
                let block: &mut [Topk<'_>; QB] = block.try_into().expect("QB states");
                let q = a.q[(g0 + bi * QB) * lanes..].as_ptr();
                // SAFETY: Shared's invariants: every row readable at `0..len`, `QB` queries.
                unsafe { scan::<V, QB, W>(q, lanes, hist, a.stride, t0, t1, block) };
            }
            for (si, top) in singles.iter_mut().enumerate() {
                let q = a.q[(g0 + full + si) * lanes..].as_ptr();
                // SAFETY: as above, one query.
                unsafe {
                    scan::<V, 1, W>(q, lanes, hist, a.stride, t0, t1, core::array::from_mut(top))
                };
            }
        }
        for (j, top) in tops.iter_mut().enumerate() {
            let b = g0 + j;
            top.finish(&mut idx[b * k..][..kept], &mut dist[b * k..][..kept]);
        }
    }
}

/// Top-K over per-query histories, one query at a time (each history is read once anyway).
///
/// # Safety
/// As [`topk_shared`], for [`Batch`].
#[inline(always)]
pub(crate) unsafe fn topk_batch<V: Vector>(
    a: &Batch<'_, V::Lane>,
    k: usize,
    idx: &mut [u32],
    dist: &mut [u16],
) {
    // SAFETY: forwarded.
    unsafe {
        match a.lanes {
            1 => topk_batch_w::<V, 1>(a, k, idx, dist),
            2 => topk_batch_w::<V, 2>(a, k, idx, dist),
            3 => topk_batch_w::<V, 3>(a, k, idx, dist),
            4 => topk_batch_w::<V, 4>(a, k, idx, dist),
            _ => topk_batch_w::<V, 0>(a, k, idx, dist),
        }
    }
}

#[inline(always)]
unsafe fn topk_batch_w<V: Vector, const W: usize>(
    a: &Batch<'_, V::Lane>,
    k: usize,
    idx: &mut [u32],
    dist: &mut [u16],
) {
    let lanes = a.lanes;
    // Scratch for the longest valid history, not the capacity: with no queries, or short ones
    // in a long capacity, a huge `K` or `L` must not allocate anything large.
    let longest = a.lens.iter().max().map_or(0, |&l| l as usize);
    if longest == 0 || (W > 1 && V::Lane::TYPE != crate::layout::LaneType::U64) {
        return;
    }
    let mut scratch = Scratch::new(1, k, longest, max_distance::<V::Lane>(lanes));
    let mut tops = scratch.states();
    let top: &mut [Topk<'_>; 1] = (&mut tops[..1]).try_into().expect("one state");
    for b in 0..a.nq {
        let len = a.lens[b] as usize;
        if len == 0 {
            continue; // its history may lie beyond the end of `hists`
        }
        top[0].reset();
        let q = a.q[b * lanes..].as_ptr();
        let hist = a.hists[b * lanes * a.stride..].as_ptr();
        // SAFETY: Batch's invariants: rows of history `b` readable at `0..lens[b]`.
        unsafe { scan::<V, 1, W>(q, lanes, hist, a.stride, 0, len, top) };
        let kept = k.min(len);
        top[0].finish(&mut idx[b * k..][..kept], &mut dist[b * k..][..kept]);
    }
}

/// Writes the distances of items `0..len` of one history to `QB` output rows (`out_stride`
/// apart).
///
/// # Safety
/// As [`scan`] for `0..len`; `out + j * out_stride .. + len` writable for `j < QB`.
#[inline(always)]
unsafe fn dist_rows<V: Vector, const QB: usize, const W: usize>(
    q: *const V::Lane,
    lanes: usize,
    hist: *const V::Lane,
    stride: usize,
    len: usize,
    out: *mut u16,
    out_stride: usize,
) {
    // SAFETY: for the whole body, guaranteed by the caller.
    unsafe {
        let mut i = 0;
        while i + V::N <= len {
            let d = distances::<V, QB, W>(q, lanes, hist, stride, i, None);
            for (j, dj) in d.into_iter().enumerate() {
                V::store_u16(dj, out.add(j * out_stride + i));
            }
            i += V::N;
        }
        if i < len {
            let n = len - i;
            let d = distances::<V, QB, W>(q, lanes, hist, stride, i, Some(n));
            for (j, dj) in d.into_iter().enumerate() {
                let mut buf = [0u16; MAX_VECTOR_ITEMS];
                V::store_u16(dj, buf.as_mut_ptr());
                core::ptr::copy_nonoverlapping(buf.as_ptr(), out.add(j * out_stride + i), n);
            }
        }
    }
}

/// All distances over a shared history, `QB` queries per pass.
///
/// # Safety
/// As [`topk_shared`]; `out` holds `nq * len` distances.
#[inline(always)]
pub(crate) unsafe fn dist_shared<V: Vector, const QB: usize>(
    a: &Shared<'_, V::Lane>,
    out: &mut [u16],
) {
    // SAFETY: forwarded.
    unsafe {
        match a.lanes {
            1 => dist_shared_w::<V, QB, 1>(a, out),
            2 => dist_shared_w::<V, QB, 2>(a, out),
            3 => dist_shared_w::<V, QB, 3>(a, out),
            4 => dist_shared_w::<V, QB, 4>(a, out),
            _ => dist_shared_w::<V, QB, 0>(a, out),
        }
    }
}

#[inline(always)]
unsafe fn dist_shared_w<V: Vector, const QB: usize, const W: usize>(
    a: &Shared<'_, V::Lane>,
    out: &mut [u16],
) {
    let (len, lanes) = (a.len, a.lanes);
    if len == 0 || (W > 1 && V::Lane::TYPE != crate::layout::LaneType::U64) {
        return;
    }
    let out = &mut out[..a.nq * len];
    let (hist, o) = (a.hist.as_ptr(), out.as_mut_ptr());
    let full = a.nq / QB * QB;
    for b in (0..full).step_by(QB) {
        let q = a.q[b * lanes..].as_ptr();
        // SAFETY: Shared's invariants; `out` holds rows `b..b + QB` of `len`.
        unsafe { dist_rows::<V, QB, W>(q, lanes, hist, a.stride, len, o.add(b * len), len) };
    }
    for b in full..a.nq {
        let q = a.q[b * lanes..].as_ptr();
        // SAFETY: as above, one row.
        unsafe { dist_rows::<V, 1, W>(q, lanes, hist, a.stride, len, o.add(b * len), len) };
    }
}

/// All distances over per-query histories.
///
/// # Safety
/// As [`topk_batch`]; `out` holds `nq * cap` distances.
#[inline(always)]
pub(crate) unsafe fn dist_batch<V: Vector>(a: &Batch<'_, V::Lane>, out: &mut [u16]) {
    // SAFETY: forwarded.
    unsafe {
        match a.lanes {
            1 => dist_batch_w::<V, 1>(a, out),
            2 => dist_batch_w::<V, 2>(a, out),
            3 => dist_batch_w::<V, 3>(a, out),
            4 => dist_batch_w::<V, 4>(a, out),
            _ => dist_batch_w::<V, 0>(a, out),
        }
    }
}

#[inline(always)]
unsafe fn dist_batch_w<V: Vector, const W: usize>(a: &Batch<'_, V::Lane>, out: &mut [u16]) {
    let lanes = a.lanes;
    if a.cap == 0 || (W > 1 && V::Lane::TYPE != crate::layout::LaneType::U64) {
        return;
    }
    for b in 0..a.nq {
        let len = a.lens[b] as usize;
        if len == 0 {
            continue;
        }
        let q = a.q[b * lanes..].as_ptr();
        let hist = a.hists[b * lanes * a.stride..].as_ptr();
        let row = &mut out[b * a.cap..][..len];
        // SAFETY: Batch's invariants; `row` holds `len` distances.
        unsafe { dist_rows::<V, 1, W>(q, lanes, hist, a.stride, len, row.as_mut_ptr(), 0) };
    }
}

/// Defines a module `$name` of `#[target_feature]` entry points running the generic scans on
/// vector type `$v`, and its kernel table `$name::KERNELS`.
macro_rules! lane_kernels {
    ($name:ident, $feat:literal, $v:ty, $qb:literal) => {
        pub(crate) mod $name {
            use super::*;
            use $crate::arch::generic::{self, Vector};
            use $crate::arch::{Batch, LaneKernels, Shared};
            type L = <$v as Vector>::Lane;

            #[target_feature(enable = $feat)]
            unsafe fn topk_shared(a: &Shared<'_, L>, k: usize, idx: &mut [u32], dist: &mut [u16]) {
                // SAFETY: the kernel contract (validated arguments) and the table's feature check.
                unsafe { generic::topk_shared::<$v, $qb>(a, k, idx, dist) }
            }
            #[target_feature(enable = $feat)]
            unsafe fn topk_batch(a: &Batch<'_, L>, k: usize, idx: &mut [u32], dist: &mut [u16]) {
                // SAFETY: as above.
                unsafe { generic::topk_batch::<$v>(a, k, idx, dist) }
            }
            #[target_feature(enable = $feat)]
            unsafe fn dist_shared(a: &Shared<'_, L>, out: &mut [u16]) {
                // SAFETY: as above.
                unsafe { generic::dist_shared::<$v, $qb>(a, out) }
            }
            #[target_feature(enable = $feat)]
            unsafe fn dist_batch(a: &Batch<'_, L>, out: &mut [u16]) {
                // SAFETY: as above.
                unsafe { generic::dist_batch::<$v>(a, out) }
            }

            /// The four scan kernels of this vector type.
            pub(crate) const KERNELS: LaneKernels<L> = LaneKernels {
                topk_shared,
                topk_batch,
                dist_shared,
                dist_batch,
            };
        }
    };
}
pub(crate) use lane_kernels;
