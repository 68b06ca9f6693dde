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
//! - Short histories (at most [`SEED_ITEMS`] items and 1 MiB; every per-query history of that
//!   size): two passes over a `u16` distance buffer instead of the history ([`short`]). Pass 1
//!   writes all distances of a query block (the buffer, `QB * L * 2` bytes, stays in L2);
//!   then per query the exact `K`-th distance `t` comes from vector counts `#{d <= t}`
//!   ([`kth_smallest`]; distances take only `m + 1` values, so this is a search over at most
//!   13 probes, usually 2 or 3 when started from the previous query's `t`). Then the kept
//!   items are found 64 at a time by vector compares (up to [`DENSE_GATHER_ITEMS`]: two
//!   compares give per block the masks of the items below `t` and at `t`; longer rows decide
//!   per item): the first `K - #{d < t}` ties at `t` go straight to the last output slots (in
//!   index order, their final order), and the items below `t` become keys
//!   `(distance << 16) | index`, sorted by a sorting network in registers where the
//!   instruction set has one (AVX-512, up to 128 keys), else by rank (all-pairs vector
//!   compares) or counting ([`sort_keys`]); no memory-carried dependency per key in the first
//!   two. No per-survivor branch in the scan. While a batch's query finishes its keys, the
//!   next history is prefetched ([`Next`]). When every distance is below 255 and the vector
//!   type can pack bytes ([`Vector::U8_BUF`]: AVX-512), the buffer holds `u8` ([`DistBuf`]):
//!   on AVX-512 the 8 `u64`-lane steps of a 64-item block are packed by shifts into one `zmm`
//!   and stored in item order after two byte shuffles and a dword permute, instead of 8
//!   down-converting moves, and every count and gather reads half the bytes.
//! - Long histories: the same pre-pass over the first [`SEED_ITEMS`] items gives each query an
//!   exact bound (`t*` of the prefix caps its filter: [`seed`]), then one streaming pass
//!   ([`scan`]) compares each vector of distances against the running threshold of the top-K
//!   ([`super::topk`]): one vector compare per query, one branch per query block; only set mask
//!   bits (survivors, about `K ln(L / prefix)` per query) reach the scalar top-K code.
//! - History tiling (long histories): the history is walked tile by tile ([`TILE_BYTES`]), each
//!   tile serving a group of [`GROUP`] queries before the next, so the tile stays in L2.
//! - Tails: the last `len % N` items go through [`Vector::load_partial`], which never reads a
//!   lane beyond item `len - 1` (masked loads on AVX-512, a zero-padded copy elsewhere), and the
//!   survivor mask is cut to the valid items. Padding after `len` is never read; the distance
//!   buffer's own padding (to 64) holds `u16::MAX`, which no count or mask accepts.

use super::topk::{counting_sort_keys, PoolItem, Pooled, Scratch, Topk, MAX_VECTOR_ITEMS};
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

    /// How many of the `n` distances at `d` are `<= t` (`n` a multiple of 64). Lives in this
    /// trait only to be compiled per instruction set; the lane type plays no part.
    ///
    /// # Safety
    /// `d..d + n` readable.
    #[inline(always)]
    unsafe fn count_le_u16(d: *const u16, n: usize, t: u16) -> usize {
        // SAFETY: the caller guarantees `n` readable distances.
        let d = unsafe { core::slice::from_raw_parts(d, n) };
        count_le(d, t)
    }

    /// Bit `j` set when `d[j] <= t`, for the 64 distances at `d`.
    ///
    /// # Safety
    /// `d..d + 64` readable.
    #[inline(always)]
    unsafe fn le_mask_u16(d: *const u16, t: u16) -> u64 {
        let mut m = 0u64;
        for j in 0..64 {
            // SAFETY: the caller guarantees 64 readable distances.
            m |= u64::from(unsafe { *d.add(j) } <= t) << j;
        }
        m
    }

    /// Whether the two-pass path may keep its distances as `u8` (see [`DistBuf`], when
    /// `maxd <= 254`): the instruction set implements the block methods below. Otherwise they
    /// are never called.
    const U8_BUF: bool = false;

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

    /// How many of the `n` bytes at `d` are `<= t` (`n` a multiple of 64).
    ///
    /// # Safety
    /// `d..d + n` readable.
    #[inline(always)]
    unsafe fn count_le_u8(d: *const u8, n: usize, t: u8) -> usize {
        // SAFETY: the caller guarantees `n` readable distances.
        let d = unsafe { core::slice::from_raw_parts(d, n) };
        d.iter().map(|&x| usize::from(x <= t)).sum()
    }

    /// Sorts the `n` keys at `keys` (distinct, non-negative) and writes them, split, to `idx`
    /// (`key & 0xFFFF`) and `dist` (`key >> 16`) in ascending order; returns `false`, doing
    /// nothing, where the instruction set has no sorting network for `n` keys ([`sort_keys`]
    /// then ranks or counts).
    ///
    /// # Safety
    /// `keys..keys + n` readable; `idx`/`dist` writable for `n`.
    #[inline(always)]
    unsafe fn sort_net(_keys: *const i32, _n: usize, _idx: *mut u32, _dist: *mut u16) -> bool {
        false
    }

    /// Bit `j` set when `d[j] <= t`, for the 64 bytes at `d` (byte order).
    ///
    /// # Safety
    /// `d..d + 64` readable.
    #[inline(always)]
    unsafe fn le_mask_u8(d: *const u8, t: u8) -> u64 {
        let mut m = 0u64;
        for j in 0..64 {
            // SAFETY: the caller guarantees 64 readable distances.
            m |= u64::from(unsafe { *d.add(j) } <= t) << j;
        }
        m
    }
}

/// Element of the two-pass path's distance buffer: `u16` always works; `u8` when every
/// distance is below `0xFF` and the vector type packs bytes ([`Vector::U8_BUF`]), which halves
/// the bytes written and counted.
pub(crate) trait DistBuf: PoolItem {
    /// The distance.
    fn get(self) -> usize;
    /// `#{d <= t}` over the `n` (a multiple of 64) elements at `d`.
    ///
    /// # Safety
    /// `d..d + n` readable; the instruction set of `V` is available.
    unsafe fn count_le<V: Vector>(d: *const Self, n: usize, t: usize) -> usize;
    /// Bit `i` set when item `i` of the 64-item block at `d` has a distance `<= t`.
    ///
    /// # Safety
    /// `d..d + 64` readable; the instruction set of `V` is available.
    unsafe fn le_mask<V: Vector>(d: *const Self, t: usize) -> u64;
    /// Distances of items `0..len` to `QB` queries into rows `out_stride` apart, padded with
    /// all-ones (above every distance: never counted, never gathered) up to `len` rounded up
    /// to 64.
    ///
    /// # Safety
    /// As [`dist_rows`], with `out_stride >= len.next_multiple_of(64)` writable per row.
    unsafe fn rows<V: Vector, const QB: usize, const W: usize>(
        q: *const V::Lane,
        lanes: usize,
        hist: *const V::Lane,
        stride: usize,
        len: usize,
        out: *mut Self,
        out_stride: usize,
    );
}

impl DistBuf for u16 {
    #[inline(always)]
    fn get(self) -> usize {
        self as usize
    }
    #[inline(always)]
    unsafe fn count_le<V: Vector>(d: *const u16, n: usize, t: usize) -> usize {
        // SAFETY: forwarded.
        unsafe { V::count_le_u16(d, n, t as u16) }
    }
    #[inline(always)]
    unsafe fn le_mask<V: Vector>(d: *const u16, t: usize) -> u64 {
        // SAFETY: forwarded.
        unsafe { V::le_mask_u16(d, t as u16) }
    }
    #[inline(always)]
    unsafe fn rows<V: Vector, const QB: usize, const W: usize>(
        q: *const V::Lane,
        lanes: usize,
        hist: *const V::Lane,
        stride: usize,
        len: usize,
        out: *mut u16,
        out_stride: usize,
    ) {
        // SAFETY: forwarded; the padding of each row is writable.
        unsafe {
            dist_rows::<V, QB, W>(q, lanes, hist, stride, len, out, out_stride);
            let pad = len.next_multiple_of(64) - len;
            for j in 0..QB {
                core::ptr::write_bytes(out.add(j * out_stride + len), 0xFF, pad);
            }
        }
    }
}

impl DistBuf for u8 {
    #[inline(always)]
    fn get(self) -> usize {
        self as usize
    }
    #[inline(always)]
    unsafe fn count_le<V: Vector>(d: *const u8, n: usize, t: usize) -> usize {
        // SAFETY: forwarded (`t <= maxd <= 254`).
        unsafe { V::count_le_u8(d, n, t as u8) }
    }
    #[inline(always)]
    unsafe fn le_mask<V: Vector>(d: *const u8, t: usize) -> u64 {
        // SAFETY: forwarded.
        unsafe { V::le_mask_u8(d, t as u8) }
    }
    #[inline(always)]
    unsafe fn rows<V: Vector, const QB: usize, const W: usize>(
        q: *const V::Lane,
        lanes: usize,
        hist: *const V::Lane,
        stride: usize,
        len: usize,
        out: *mut u8,
        out_stride: usize,
    ) {
        let steps = 64 / V::N;
        // SAFETY: for the whole body, guaranteed by the caller; no row is read at or past
        // `len` (an empty step is not loaded at all).
        unsafe {
            let mut i = 0;
            while i + 64 <= len {
                let mut acc = [V::splat_dist(0); QB];
                for s in 0..steps {
                    let d = distances::<V, QB, W>(q, lanes, hist, stride, i + s * V::N, None);
                    for j in 0..QB {
                        acc[j] = V::pack_u8(acc[j], d[j], s);
                    }
                }
                for (j, a) in acc.into_iter().enumerate() {
                    V::store_block_u8(a, u64::MAX, out.add(j * out_stride + i));
                }
                i += 64;
            }
            if i < len {
                let mut acc = [V::splat_dist(0); QB];
                for s in 0..steps {
                    let start = i + s * V::N;
                    if start >= len {
                        break;
                    }
                    let n = (len - start).min(V::N);
                    let partial = if n == V::N { None } else { Some(n) };
                    let d = distances::<V, QB, W>(q, lanes, hist, stride, start, partial);
                    for j in 0..QB {
                        acc[j] = V::pack_u8(acc[j], d[j], s);
                    }
                }
                let valid = (1u64 << (len - i)) - 1;
                for (j, a) in acc.into_iter().enumerate() {
                    V::store_block_u8(a, valid, out.add(j * out_stride + i));
                }
            }
        }
    }
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
    // (Plain loops, no closures: closures and `array::from_fn` are not inlined into the
    // `#[target_feature]` context, which would turn every intrinsic into a call.)
    unsafe {
        let h = load_row::<V>(hist, i, partial);
        let mut d = [h; QB];
        for (j, dj) in d.iter_mut().enumerate() {
            *dj = V::xor_popcnt(h, V::splat(*q.add(j * lanes)));
        }
        for w in 1..lanes {
            let h = load_row::<V>(hist.add(w * stride), i, partial);
            for (j, dj) in d.iter_mut().enumerate() {
                *dj = V::add(*dj, V::xor_popcnt(h, V::splat(*q.add(j * lanes + w))));
            }
        }
        d
    }
}

/// Items `i..i + N` of one lane row, or the first `n` of them.
///
/// # Safety
/// `row + i .. + N` (or `+ n`) readable.
#[inline(always)]
unsafe fn load_row<V: Vector>(row: *const V::Lane, i: usize, partial: Option<usize>) -> V {
    // SAFETY: guaranteed by the caller.
    unsafe {
        match partial {
            None => V::load(row.add(i)),
            Some(n) => V::load_partial(row.add(i), n),
        }
    }
}

/// Feeds the survivors (`mask`) of distances `d` for items `base..` to `top`, and refreshes the
/// filter vector. Kept out of line: survivors are rare once the threshold has settled, and the
/// scan loop stays small.
#[inline(never)]
#[cold]
fn offer(top: &mut Topk<'_>, d: &[u16; MAX_VECTOR_ITEMS], base: usize, mask: u64) -> u32 {
    top.take(d, base, mask);
    top.filter()
}

/// Handles the survivors of one step for `QB` queries (`masks[j]` of `d[j]`).
#[inline(always)]
unsafe fn offer_all<V: Vector, const QB: usize>(
    tops: &mut [Topk<'_>; QB],
    thr: &mut [V; QB],
    d: &[V; QB],
    masks: &[u64; QB],
    base: usize,
) {
    let mut buf = [0u16; MAX_VECTOR_ITEMS];
    for j in 0..QB {
        if masks[j] != 0 {
            // SAFETY: `buf` holds 64 >= N distances; the instruction set is available (we run
            // inside its entry point).
            unsafe {
                V::store_u16(d[j], buf.as_mut_ptr());
                thr[j] = V::splat_dist(offer(&mut tops[j], &buf, base, masks[j]));
            }
        }
    }
}

/// Scans items `t0..t1` of one history for `QB` queries, feeding their top-K states: per step,
/// `QB` vector compares against the filters, OR-ed into one branch.
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
    // SAFETY: for the whole body, the caller guarantees the items `t0..t1` of every row are
    // readable; we run inside the instruction set's entry point.
    unsafe {
        let mut thr = [V::splat_dist(0); QB];
        for (t, top) in thr.iter_mut().zip(tops.iter()) {
            *t = V::splat_dist(top.filter());
        }
        let mut i = t0;
        while i + V::N <= t1 {
            let d = distances::<V, QB, W>(q, lanes, hist, stride, i, None);
            let mut masks = [0u64; QB];
            let mut any = 0;
            for j in 0..QB {
                masks[j] = V::lt_mask(d[j], thr[j]);
                any |= masks[j];
            }
            if any != 0 {
                offer_all(tops, &mut thr, &d, &masks, i);
            }
            i += V::N;
        }
        if i < t1 {
            let n = t1 - i;
            let d = distances::<V, QB, W>(q, lanes, hist, stride, i, Some(n));
            let valid = (1u64 << n) - 1;
            let mut masks = [0u64; QB];
            for j in 0..QB {
                masks[j] = V::lt_mask(d[j], thr[j]) & valid;
            }
            offer_all(tops, &mut thr, &d, &masks, i);
        }
    }
}

/// The longest row (items) whose keys [`short`] gathers by masks per block.
const DENSE_GATHER_ITEMS: usize = 4096;

/// Blocks of the longest row [`gather_dense`] takes.
const DENSE_BLOCKS: usize = DENSE_GATHER_ITEMS / 64;

/// [`gather_dense`]'s lists of non-empty blocks (mask, first item), two spare entries each:
/// the walk reads one entry past the last it uses. Made once per call (zeroed) and reused
/// stale by every query: each reads only entries it wrote, or the zeroed spares.
pub(crate) struct BlockLists {
    lt_mask: [u64; DENSE_BLOCKS + 2],
    lt_base: [u32; DENSE_BLOCKS + 2],
    eq_mask: [u64; DENSE_BLOCKS + 2],
    eq_base: [u32; DENSE_BLOCKS + 2],
}

impl BlockLists {
    /// Zeroed lists.
    fn new() -> BlockLists {
        BlockLists {
            lt_mask: [0; DENSE_BLOCKS + 2],
            lt_base: [0; DENSE_BLOCKS + 2],
            eq_mask: [0; DENSE_BLOCKS + 2],
            eq_base: [0; DENSE_BLOCKS + 2],
        }
    }
}

/// The two-pass path's gather, for a row of `row_len <= DENSE_GATHER_ITEMS` distances (a
/// multiple of 64, padding above every distance) whose `k`-th smallest is `t`, with exactly
/// `below` items under `t`: writes the key `(d << 16) | index` of each of those to `keys`, in
/// index order, and the indices of the first `ties` items at `t` to `ties_out`, in index order.
///
/// Strategy: first the masks of every 64-item block (two vector compares each), kept in two
/// compact lists of the non-empty blocks, without a branch; then exactly `below` (and `ties`)
/// steps, each taking the lowest set bit of the current mask and moving to the next listed
/// mask when it empties. Measured against the alternatives at per-query L = 1024, m = 64,
/// K = 32 (about one kept item per block), whole calls: a loop per block with its own exit
/// was 3% slower; conditional moves instead of the branch (a dependency chain through the
/// list), 10% slower; writing a fixed number of keys per block unconditionally, 15%; AVX-512
/// `vpcompressd` of 16 keys at a time, 40%.
///
/// # Safety
/// `row..row + row_len` readable; `keys` writable for `below` keys, `ties_out` for `ties`;
/// `row_len <= 2^15`, distances below `2^15`; the counts are exact (`below` items under `t`,
/// at least `ties` at `t`).
#[inline(always)]
unsafe fn gather_dense<V: Vector, D: DistBuf>(
    lists: &mut BlockLists,
    row: *const D,
    row_len: usize,
    t: usize,
    below: usize,
    ties: usize,
    keys: *mut i32,
    ties_out: *mut u32,
) {
    let (mut nl, mut ne) = (0, 0);
    for c in (0..row_len).step_by(64) {
        // SAFETY: `c + 64 <= row_len`, readable.
        let le = unsafe { D::le_mask::<V>(row.add(c), t) };
        let lt = if t == 0 {
            0
        } else {
            // SAFETY: as above.
            unsafe { D::le_mask::<V>(row.add(c), t - 1) }
        };
        let eq = le & !lt;
        lists.lt_mask[nl] = lt;
        lists.lt_base[nl] = c as u32;
        nl += usize::from(lt != 0);
        lists.eq_mask[ne] = eq;
        lists.eq_base[ne] = c as u32;
        ne += usize::from(eq != 0);
    }
    let (mut p, mut m, mut next) = (0, lists.lt_mask[0], lists.lt_mask[1]);
    for n in 0..below {
        let i = lists.lt_base[p] as usize + m.trailing_zeros() as usize;
        // SAFETY: `i` is a real item of the row (a set mask bit); `n < below` keys are
        // writable. The key is positive: `i < 2^15`, distances below `2^15`.
        unsafe {
            let x = (*row.add(i)).get() as i32;
            keys.add(n).write((x << 16) | i as i32);
        }
        m &= m - 1;
        let empty = m == 0;
        // After the last key, `p` may reach `nl <= DENSE_BLOCKS`: `p + 1` is still inside.
        p += usize::from(empty);
        if empty {
            (m, next) = (next, lists.lt_mask[p + 1]);
        }
    }
    let (mut p, mut m, mut next) = (0, lists.eq_mask[0], lists.eq_mask[1]);
    for e in 0..ties {
        let i = lists.eq_base[p] + m.trailing_zeros();
        // SAFETY: `e < ties` slots are writable.
        unsafe { ties_out.add(e).write(i) };
        m &= m - 1;
        let empty = m == 0;
        p += usize::from(empty);
        if empty {
            (m, next) = (next, lists.eq_mask[p + 1]);
        }
    }
}

/// The most keys [`sort_keys`] sorts by ranking (all-pairs vector compares, `O(n^2 / 16)`
/// operations and no memory-carried dependency); more take a counting sort
/// ([`counting_sort_keys`]), whose increments chain through memory. At `K = 32` (per-query
/// histories, `L = 1024`, `m = 64`, where a query keeps about 20 keys below its `K`-th
/// distance) the ranks and their scatter take a fifth of the call, where the counting sort of
/// all `K` keys took 30%.
pub(crate) const RANK_SORT_MAX: usize = 64;

/// Writes the `n` keys `(distance << 16) | index` at `keys` (distinct, non-negative, in index
/// order, every distance `<= t`) to `idx`/`dist` sorted by `(distance, index)`, which is the
/// keys' own order. Where the instruction set has one ([`Vector::sort_net`]: AVX-512, up to
/// 128 keys), a sorting network in registers (per-query L = 1024, m = 64, K = 32: -16% of the
/// whole call against ranking). Else, up to [`RANK_SORT_MAX`] keys, each key's slot is its rank:
/// the keys, padded with `i32::MAX` to `M`, a multiple of 16 (`keys` must hold that many), stay
/// in registers as `M` rank counters do, and every real key adds one to the rank of each key
/// above it (a broadcast, a subtract and a shift per 16 keys, no horizontal sum, no memory
/// dependency). Beyond, a counting sort over `cnt[..=t]`.
#[inline(always)]
fn sort_keys<V: Vector>(
    keys: &mut [i32],
    n: usize,
    t: usize,
    cnt: &mut [u32],
    idx: &mut [u32],
    dist: &mut [u16],
) {
    if keys.len() >= n && idx.len() >= n && dist.len() >= n {
        // SAFETY: `keys` holds `n`, `idx`/`dist` `n` slots; we run inside `V`'s entry point.
        if unsafe { V::sort_net(keys.as_ptr(), n, idx.as_mut_ptr(), dist.as_mut_ptr()) } {
            return;
        }
    }
    #[inline(always)]
    fn rank<const M: usize>(keys: &mut [i32], n: usize, idx: &mut [u32], dist: &mut [u16]) {
        let keys: &mut [i32; M] = (&mut keys[..M]).try_into().expect("M keys");
        keys[n..].fill(i32::MAX);
        let mut rank = [0u32; M];
        for &y in &keys[..n] {
            for (r, &x) in rank.iter_mut().zip(keys.iter()) {
                // `y < x` as the sign of `y - x` (no overflow: keys are non-negative).
                *r += (y.wrapping_sub(x) as u32) >> 31;
            }
        }
        for (&x, &r) in keys[..n].iter().zip(&rank) {
            // Keys are distinct, so the ranks of the `n` real keys are exactly `0..n`.
            idx[r as usize] = (x & 0xFFFF) as u32;
            dist[r as usize] = (x >> 16) as u16;
        }
    }
    match n.next_multiple_of(16) {
        0 => {}
        16 => rank::<16>(keys, n, idx, dist),
        32 => rank::<32>(keys, n, idx, dist),
        48 => rank::<48>(keys, n, idx, dist),
        64 => rank::<64>(keys, n, idx, dist),
        _ => counting_sort_keys(&keys[..n], t, cnt, idx, dist),
    }
}

/// Items of the dense pre-pass ([`seed`]), and the longest history the two-pass path
/// ([`short`]) takes: its `u16` distance buffer, `QB` rows of this, stays within L2 (512 KiB).
pub(crate) const SEED_ITEMS: usize = 32768;

/// `#{x in d : x <= t}` (a loop the compiler vectorises).
#[inline(always)]
fn count_le(d: &[u16], t: u16) -> usize {
    let mut c = 0u32;
    for &x in d {
        c += u32::from(x <= t);
    }
    c as usize
}

/// The dense pre-pass: distances of the first `p` items (`k <= p <= SEED_ITEMS`) for `QB`
/// queries into `buf` (rows of `p` rounded up to 64, padded with `u16::MAX`), then per query the
/// exact `k`-th smallest of them, `t*` ([`kth_smallest`], seeded by the previous query's), which
/// caps the query's filter ([`Topk::set_cap`]). Without it, the running threshold starts at
/// "everything" and falls slowly, and the first few hundred items each cost a survivor; with it,
/// only the items that end in the prefix's top-K (and later improvements) survive. Returns the
/// last query's `t*` (the next hint).
///
/// # Safety
/// As [`scan`] for items `0..p`; `buf` holds `QB` padded rows.
#[inline(always)]
unsafe fn seed<V: Vector, const QB: usize, const W: usize>(
    q: *const V::Lane,
    lanes: usize,
    hist: *const V::Lane,
    stride: usize,
    p: usize,
    maxd: usize,
    tops: &mut [Topk<'_>; QB],
    buf: &mut [u16],
    mut hint: Option<u32>,
) -> Option<u32> {
    let k = tops[0].k();
    let row_len = p.next_multiple_of(64);
    let buf = &mut buf[..QB * row_len];
    // SAFETY: guaranteed by the caller; `buf` holds `QB` rows of `row_len >= p`.
    unsafe { dist_rows::<V, QB, W>(q, lanes, hist, stride, p, buf.as_mut_ptr(), row_len) };
    for (j, top) in tops.iter_mut().enumerate() {
        buf[j * row_len + p..(j + 1) * row_len].fill(u16::MAX);
        // SAFETY: the row holds `row_len` distances, `p >= k` of them real.
        let (t, _) =
            unsafe { kth_smallest::<V, u16>(buf[j * row_len..].as_ptr(), row_len, k, maxd, hint) };
        top.set_cap(t as u32);
        hint = Some(t as u32);
    }
    hint
}

/// The smallest `t` with at least `k` of the distances `d` (`n` of them, a multiple of 64,
/// `k <= n` counting only real items: padding is `u16::MAX`) `<= t`: from `hint` (the answer of
/// a similar query) by unit steps, which usually takes two or three counts, else by binary
/// search over `0..=maxd`.
///
/// # Safety
/// `d..d + n` readable; at least `k` of them `<= maxd`.
#[inline(always)]
unsafe fn kth_smallest<V: Vector, D: DistBuf>(
    d: *const D,
    n: usize,
    k: usize,
    maxd: usize,
    hint: Option<u32>,
) -> (usize, usize) {
    let count = |t: usize| {
        // SAFETY: `d..d + n` readable, as the caller guarantees.
        unsafe { D::count_le::<V>(d, n, t) }
    };
    // Returns `t` and `#{d < t}`. Invariant of the bisection: `count(lo) < k <= count(hi)`
    // (`lo = None` standing for "below 0", count 0).
    let (mut lo, mut lo_count, mut hi): (Option<usize>, usize, usize);
    match hint {
        Some(h) => {
            // Gallop from the hint (steps 1, 2, 4, ...) to a bracket, so a good hint costs two
            // or three counts and a bad one O(log |t - hint|).
            let t = (h as usize).min(maxd);
            let c = count(t);
            let mut step = 1;
            if c >= k {
                hi = t;
                loop {
                    if hi == 0 {
                        return (0, 0);
                    }
                    let probe = hi.saturating_sub(step);
                    let pc = count(probe);
                    if pc < k {
                        (lo, lo_count) = (Some(probe), pc);
                        break;
                    }
                    hi = probe;
                    step *= 2;
                }
            } else {
                (lo, lo_count) = (Some(t), c);
                loop {
                    // `count(maxd)` counts every real item, at least `k`: this ends.
                    let probe = (lo.unwrap_or(0) + step).min(maxd);
                    let pc = count(probe);
                    if pc >= k {
                        hi = probe;
                        break;
                    }
                    (lo, lo_count) = (Some(probe), pc);
                    step *= 2;
                }
            }
        }
        None => (lo, lo_count, hi) = (None, 0, maxd),
    }
    loop {
        let low = lo.map_or(0, |l| l + 1);
        if low >= hi {
            return (hi, lo_count);
        }
        let mid = (low + hi - 1) / 2;
        let c = count(mid);
        if c >= k {
            hi = mid;
        } else {
            (lo, lo_count) = (Some(mid), c);
        }
    }
}

/// The next history of a batch, whose lines [`short`] asks for once its own distance pass is
/// done: the rest of the call (counts, gather, sort) reads only L1, so the memory system would
/// idle; the prefetches let the next distance pass start on cached lines (per-query
/// `L = 1024`, `m = 64`, `B = 256`, whose 2 MiB of histories live in L3: -5%).
#[derive(Clone, Copy)]
pub(crate) struct Next<T> {
    /// Row 0 of the history.
    hist: *const T,
    /// Lane rows, `stride` lanes apart.
    lanes: usize,
    stride: usize,
    /// Items per row to fetch.
    len: usize,
}

/// Largest history (bytes, all rows) [`Next`] prefetches: a third of a 48 KiB L1.
const PREFETCH_BYTES: usize = 16 * 1024;

/// Asks for the cache line holding `p` to be brought into L1: a hint, which never faults,
/// whatever the address. `prefetcht0` on x86-64 (SSE, part of the base instruction set); a
/// no-op on aarch64, which has no stable prefetch intrinsic.
#[inline(always)]
fn prefetch(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: SSE is part of x86-64; a prefetch reads nothing and never faults.
    unsafe {
        core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(p.cast())
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// Issues the prefetches of `next` (nothing when it is larger than [`PREFETCH_BYTES`]).
#[inline(always)]
fn prefetch_next<T>(next: Option<Next<T>>) {
    let Some(n) = next else { return };
    let row_bytes = n.len * core::mem::size_of::<T>();
    if row_bytes * n.lanes > PREFETCH_BYTES {
        return;
    }
    for w in 0..n.lanes {
        let row = n.hist.wrapping_add(w * n.stride).cast::<u8>();
        for off in (0..row_bytes).step_by(64) {
            // The address is only computed (wrapping) and hinted, never dereferenced.
            prefetch(row.wrapping_add(off));
        }
    }
}

/// The two-pass path for a short history (`k <= len <= SEED_ITEMS`), `QB` queries: all
/// distances into `buf` (rows of `len` rounded up to 64, padded with all-ones), per query the
/// exact `K`-th distance `t` ([`kth_smallest`], seeded by the previous query's), then exactly `K`
/// items straight from the buffer into query `j`'s output `idx/dist[j * k..][..k]`: the first
/// `K - #{d < t}` at `t` into the last slots in index order, every item below `t` as a key
/// `(distance << 16) | index` sorted into the first ([`sort_keys`]); [`Vector::le_mask_u16`]
/// finds them 64 at a time. No second pass over the history, no survivor branch per vector, no
/// overflow. The states only lend their buffers (left stale). Prefetches `next` after its
/// distance pass. Returns the last query's `t`.
///
/// # Safety
/// As [`scan`] for items `0..len`; `buf` holds `QB` padded rows; `idx`/`dist` hold `QB * k`.
#[inline(always)]
unsafe fn short<V: Vector, const QB: usize, const W: usize, D: DistBuf>(
    q: *const V::Lane,
    lanes: usize,
    hist: *const V::Lane,
    stride: usize,
    len: usize,
    maxd: usize,
    tops: &mut [Topk<'_>; QB],
    buf: &mut [D],
    mut hint: Option<u32>,
    idx: &mut [u32],
    dist: &mut [u16],
    next: Option<Next<V::Lane>>,
) -> Option<u32> {
    let k = tops[0].k();
    let row_len = len.next_multiple_of(64);
    let buf = &mut buf[..QB * row_len];
    // SAFETY: guaranteed by the caller; `buf` holds `QB` rows of `row_len >= len`. The
    // padding is written too (the buffer is reused across histories of other lengths).
    unsafe { D::rows::<V, QB, W>(q, lanes, hist, stride, len, buf.as_mut_ptr(), row_len) };
    prefetch_next(next);
    let mut small = [0i32; RANK_SORT_MAX];
    let mut lists = BlockLists::new();
    for (j, top) in tops.iter_mut().enumerate() {
        let row = &buf[j * row_len..][..row_len];
        // SAFETY: `row` holds `row_len` distances, `len >= k` of them real.
        let (t, below) = unsafe { kth_smallest::<V, D>(row.as_ptr(), row_len, k, maxd, hint) };
        let (big, cnt) = top.buffers();
        // At least `max(k + 2, RANK_SORT_MAX)` slots (the sparse gather below parks ties
        // after the keys): the stack's when that fits, else the state's `u64` buffer, whose
        // `min(len, limit) + KEY_SLACK >= k + 64` keys of 8 bytes are `2k + 128` of 4.
        let keys: &mut [i32] = if k + 2 <= RANK_SORT_MAX {
            &mut small
        } else {
            bytemuck::cast_slice_mut(big)
        };
        let out = keys.as_mut_ptr();
        let (idx, dist) = (&mut idx[j * k..][..k], &mut dist[j * k..][..k]);
        // The `k - below` ties at `t` take the output's last slots, in index order, which is
        // their final order: they are written there directly. Only the `below` items under
        // `t` become keys to sort.
        let tie_idx = &mut idx[below..];
        let ties = k - below;
        let (mut n, mut e) = (0, 0);
        // Indices are below `len <= SEED_ITEMS = 2^15` and distances at most 4096, so a key
        // `(x << 16) | i` is a positive `i32`.
        if row_len <= DENSE_GATHER_ITEMS {
            // Dense survivors: measured faster than deciding per item where survivors are
            // dense (L = 1024), slower where most blocks hold none (L = 16384, B = 256: +35%).
            // SAFETY: `row` holds `row_len <= 2^15` distances, at most 4096 each; `keys` holds
            // more than `below`, `tie_idx` exactly `ties`; `kth_smallest` counted exactly.
            unsafe {
                gather_dense::<V, D>(
                    &mut lists,
                    row.as_ptr(),
                    row_len,
                    t,
                    below,
                    ties,
                    out,
                    tie_idx.as_mut_ptr(),
                )
            };
            (n, e) = (below, ties);
        } else {
            // Every item `<= t` (sparse survivors: few items, few blocks), without a branch
            // per item (whether an item lies below `t` is a coin toss near the threshold: a
            // branch there cost a third of the call at L = 16384, B = 256). Each item is
            // written both as a key at `n` and as a tie at `e`, and only the right count
            // advances: keys occupy `keys[..below]` (slot `below` takes the junk of the ties),
            // ties `keys[below + 1..][..ties]` (slot `k + 1` the junk past the last tie).
            let tie_buf = below + 1;
            for c in (0..row_len).step_by(64) {
                // SAFETY: `c + 64 <= row_len`.
                let mut m = unsafe { D::le_mask::<V>(row.as_ptr().add(c), t) };
                while m != 0 {
                    let i = c + m.trailing_zeros() as usize;
                    m &= m - 1;
                    let x = row[i].get();
                    let lt = x < t;
                    // SAFETY: `n <= below` and `tie_buf + e <= k + 1`, inside `keys` (at least
                    // `k + 2` slots, see above).
                    unsafe {
                        out.add(n).write(((x as i32) << 16) | i as i32);
                        out.add(tie_buf + e).write(i as i32);
                    }
                    n += usize::from(lt);
                    e += usize::from(!lt & (e < ties));
                }
            }
            for (o, &i) in tie_idx.iter_mut().zip(&keys[tie_buf..][..ties]) {
                *o = i as u32;
            }
        }
        debug_assert!(n == below && e == ties);
        dist[below..].fill(t as u16);
        sort_keys::<V>(keys, below, t, cnt, &mut idx[..below], &mut dist[..below]);
        hint = Some(t as u32);
    }
    hint
}

/// What the query blocks of one history's scan share: the history and its shape, the path it
/// takes, and the distance buffers. [`topk_shared_w`] makes one per call, [`topk_batch_w`] one
/// per history.
struct Pass<'b, T> {
    hist: *const T,
    lanes: usize,
    stride: usize,
    len: usize,
    maxd: usize,
    /// `len.min(SEED_ITEMS)`: the pre-pass prefix.
    p: usize,
    /// Whether every query takes the two-pass path ([`short`]) ...
    two_pass: bool,
    /// ... with its distances as bytes ([`DistBuf`]).
    use8: bool,
    /// The pre-pass's rows, and the two-pass path's when not `use8`.
    buf16: &'b mut [u16],
    /// The two-pass path's rows when `use8`.
    buf8: &'b mut [u8],
}

impl<T: Lane> Pass<'_, T> {
    /// Runs the `Q` queries at `q` over items `t0..t1`. On the two-pass path (the whole
    /// history, one call per query block) their results go to `idx`/`dist` (`Q * k` slots);
    /// otherwise the pre-pass seeds the states at `t0 == 0` and the states collect the items
    /// for [`Topk::finish`]. Returns the next `kth_smallest` hint.
    ///
    /// # Safety
    /// As [`scan`] for items `t0..t1` (`0..len` on the two-pass path) of `self.hist`; the
    /// states fresh at `t0 == 0`; the instruction set of `V` is available.
    #[inline(always)]
    unsafe fn run<V: Vector<Lane = T>, const Q: usize, const W: usize>(
        &mut self,
        q: *const T,
        tops: &mut [Topk<'_>; Q],
        t0: usize,
        t1: usize,
        mut hint: Option<u32>,
        idx: &mut [u32],
        dist: &mut [u16],
        next: Option<Next<T>>,
    ) -> Option<u32> {
        let (hist, lanes, stride, len, maxd) =
            (self.hist, self.lanes, self.stride, self.len, self.maxd);
        // SAFETY: for the whole body, guaranteed by the caller; the buffers hold `Q` padded
        // rows (sized by the caller for its largest block and history).
        unsafe {
            if self.two_pass {
                return if self.use8 {
                    short::<V, Q, W, u8>(
                        q, lanes, hist, stride, len, maxd, tops, self.buf8, hint, idx, dist, next,
                    )
                } else {
                    short::<V, Q, W, u16>(
                        q, lanes, hist, stride, len, maxd, tops, self.buf16, hint, idx, dist, next,
                    )
                };
            }
            if t0 == 0 && self.p >= tops[0].k() {
                hint =
                    seed::<V, Q, W>(q, lanes, hist, stride, self.p, maxd, tops, self.buf16, hint);
            }
            scan::<V, Q, W>(q, lanes, hist, stride, t0, t1, tops);
        }
        hint
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
    let p = len.min(SEED_ITEMS);
    // A short history (all of it in the pre-pass, at most 4 tiles of bytes): the two-pass path
    // decides it, in one pass over the history per query block.
    let bytes = len * lanes * core::mem::size_of::<V::Lane>();
    let is_short = p == len && p >= k && bytes <= 4 * TILE_BYTES;
    let tile = if is_short {
        len
    } else {
        tile_items::<V::Lane>(lanes)
    };
    let group = if len <= tile { QB } else { GROUP };
    let maxd = max_distance::<V::Lane>(lanes);
    let mut scratch = Scratch::new(group.min(a.nq), k, len, maxd);
    let mut tops = scratch.states();
    let kept = k.min(len);
    // The dense pre-pass pays off when its prefix holds at least `k` items.
    let rows = if p >= k { QB.min(a.nq) } else { 0 };
    // A short history with distances below `0xFF` keeps them as bytes where the vector type
    // can (AVX-512): half the bytes to store, count and gather (shared m64 L16384 B256: -16%
    // against `u16`, once the byte blocks' reorder was three instructions).
    let use8 = is_short && V::U8_BUF && maxd <= 254;
    let mut seed_buf = Pooled::<u16>::take(if use8 {
        0
    } else {
        rows * p.next_multiple_of(64)
    });
    let mut buf8 = Pooled::<u8>::take(if use8 {
        rows * p.next_multiple_of(64)
    } else {
        0
    });
    let mut pass = Pass {
        hist: a.hist.as_ptr(),
        lanes,
        stride: a.stride,
        len,
        maxd,
        p,
        two_pass: is_short,
        use8,
        buf16: &mut seed_buf,
        buf8: &mut buf8,
    };
    let mut hint = None;
    for g0 in (0..a.nq).step_by(group) {
        let gq = group.min(a.nq - g0);
        let full = gq / QB * QB;
        let tops = &mut tops[..gq];
        if !is_short {
            tops.iter_mut().for_each(Topk::reset);
        }
        // On the two-pass path (one tile), each block's results go straight to its rows.
        let rows_of = |b0: usize, n: usize| if is_short { (b0 * k, n * k) } else { (0, 0) };
        for t0 in (0..len).step_by(tile) {
            let t1 = (t0 + tile).min(len);
            let (blocks, singles) = tops.split_at_mut(full);
            for (bi, block) in blocks.chunks_exact_mut(QB).enumerate() {
                let block: &mut [Topk<'_>; QB] = block.try_into().expect("QB states");
                let b0 = g0 + bi * QB;
                let q = a.q[b0 * lanes..].as_ptr();
                let (o, n) = rows_of(b0, QB);
                let (idx, dist) = (&mut idx[o..][..n], &mut dist[o..][..n]);
                // SAFETY: Shared's invariants: every row readable at `0..len`, `QB` queries;
                // the buffers hold `QB` rows of `p`.
                hint = unsafe { pass.run::<V, QB, W>(q, block, t0, t1, hint, idx, dist, None) };
            }
            for (si, top) in singles.iter_mut().enumerate() {
                let b0 = g0 + full + si;
                let q = a.q[b0 * lanes..].as_ptr();
                let (o, n) = rows_of(b0, 1);
                let (idx, dist) = (&mut idx[o..][..n], &mut dist[o..][..n]);
                let top = core::array::from_mut(top);
                // SAFETY: as above, one query.
                hint = unsafe { pass.run::<V, 1, W>(q, top, t0, t1, hint, idx, dist, None) };
            }
        }
        if !is_short {
            for (j, top) in tops.iter_mut().enumerate() {
                let b = g0 + j;
                top.finish(&mut idx[b * k..][..kept], &mut dist[b * k..][..kept]);
            }
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
    let maxd = max_distance::<V::Lane>(lanes);
    let mut scratch = Scratch::new(1, k, longest, maxd);
    let mut tops = scratch.states();
    let rows = usize::from(longest >= k);
    let buf_len = rows * longest.min(SEED_ITEMS).next_multiple_of(64);
    // Short histories keep their distances as bytes when they fit (see `topk_shared_w`); the
    // `u16` buffer then only serves the pre-pass of long ones.
    let use8 = V::U8_BUF && maxd <= 254;
    let mut buf8 = Pooled::<u8>::take(if use8 { buf_len } else { 0 });
    let mut seed_buf = Pooled::<u16>::take(if use8 && longest <= SEED_ITEMS {
        0
    } else {
        buf_len
    });
    let top: &mut [Topk<'_>; 1] = (&mut tops[..1]).try_into().expect("one state");
    let mut hint: Option<u32> = None;
    for b in 0..a.nq {
        let len = a.lens[b] as usize;
        if len == 0 {
            continue; // its history may lie beyond the end of `hists`
        }
        let q = a.q[b * lanes..].as_ptr();
        let p = len.min(SEED_ITEMS);
        let two_pass = p == len && p >= k;
        let kept = k.min(len);
        let (idx, dist) = (&mut idx[b * k..][..kept], &mut dist[b * k..][..kept]);
        let next = (b + 1 < a.nq && a.lens[b + 1] > 0).then(|| Next {
            hist: a.hists[(b + 1) * lanes * a.stride..].as_ptr(),
            lanes,
            stride: a.stride,
            len: a.lens[b + 1] as usize,
        });
        let mut pass = Pass {
            hist: a.hists[b * lanes * a.stride..].as_ptr(),
            lanes,
            stride: a.stride,
            len,
            maxd,
            p,
            two_pass,
            use8,
            buf16: &mut seed_buf,
            buf8: &mut buf8,
        };
        if !two_pass {
            top[0].reset();
        }
        // SAFETY: Batch's invariants: rows of history `b` readable at `0..lens[b]`; the
        // buffers hold one row of `longest.min(SEED_ITEMS) >= p`.
        hint = unsafe { pass.run::<V, 1, W>(q, top, 0, len, hint, idx, dist, next) };
        if !two_pass {
            top[0].finish(idx, dist);
        }
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
