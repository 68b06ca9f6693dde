//! The two-pass path for short histories (`k <= len <= PREFIX_ITEMS`, or up to
//! `Vector::TWO_PASS_U8_ITEMS <= 2^16` for a shared history with several queries and byte
//! distances; at most four tiles of bytes; every per-query history of that size): all distances of a query block into a buffer
//! ([`fill_rows`]), then per query the exact `K`-th distance ([`kth_smallest`], started from the
//! previous query's) and exactly `K` items straight from the buffer into the output
//! ([`select_block`]), found 64 at a time by vector compares ([`gather_dense`] up to
//! [`DENSE_GATHER_ITEMS`], else [`gather_sparse`]). No second pass over the history, no survivor
//! branch per vector, no overflow. While a batch's query finishes its keys, the next history is
//! prefetched ([`prefetch`]).

use super::ops::ScanOps;
use super::rows::{DistBuf, HistRows};
use super::select::{kth_smallest, sort_keys, Kth, RANK_SORT_MAX};
use super::state::Topk;
use super::vector::Vector;

/// The longest row (items) whose keys [`select_block`] gathers by masks per block
/// ([`gather_dense`]); longer rows decide per item ([`gather_sparse`]).
// Public only for the tests, through the hidden `eta_hamming::kernel_boundaries`; the links
// serve the crate's private docs.
#[allow(rustdoc::private_intra_doc_links)]
pub const DENSE_GATHER_ITEMS: usize = 4096;

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

/// The largest history (bytes, all rows) [`prefetch`] asks for: a third of a 48 KiB L1.
const PREFETCH_BYTES: usize = 16 * 1024;

/// Asks for the cache line holding `p` to be brought into L1: a hint, which never faults,
/// whatever the address. `prefetcht0` on x86-64 (SSE, part of the base instruction set); a
/// no-op on aarch64, which has no stable prefetch intrinsic.
#[inline(always)]
fn prefetch_line(p: *const u8) {
    #[cfg(target_arch = "x86_64")]
    // SAFETY: SSE is part of x86-64; a prefetch reads nothing and never faults.
    unsafe {
        core::arch::x86_64::_mm_prefetch::<{ core::arch::x86_64::_MM_HINT_T0 }>(p.cast())
    };
    #[cfg(not(target_arch = "x86_64"))]
    let _ = p;
}

/// Asks for the lines of the next history of a batch (nothing when it is larger than
/// [`PREFETCH_BYTES`]), once the current one's distance pass is done: the rest of the call
/// (counts, gather, sort) reads only L1, so the memory system would idle, and the next distance
/// pass starts on cached lines. `next` is only a hint: its rows are never dereferenced.
#[inline(always)]
pub(crate) fn prefetch<T>(next: Option<HistRows<T>>) {
    let Some(n) = next else { return };
    let row_bytes = n.len * core::mem::size_of::<T>();
    if row_bytes * n.lanes > PREFETCH_BYTES {
        return;
    }
    for w in 0..n.lanes {
        let row = n.hist.wrapping_add(w * n.stride).cast::<u8>();
        for off in (0..row_bytes).step_by(64) {
            // The address is only computed (wrapping) and hinted, never dereferenced.
            prefetch_line(row.wrapping_add(off));
        }
    }
}

/// Pass 1: the distances of every item of `rows` to the `QB` queries at `q` into `buf`, rows of
/// `rows.len` rounded up to 64, padded with all-ones (the padding is written too: the buffer is
/// reused across histories of other lengths).
///
/// # Safety
/// As [`super::stream::stream_items`] for every item of `rows`; `buf` holds `QB` padded rows.
#[inline(always)]
pub(crate) unsafe fn fill_rows<V: Vector, const QB: usize, const W: usize, D: DistBuf>(
    q: *const V::Lane,
    rows: HistRows<V::Lane>,
    buf: &mut [D],
) {
    let row_len = rows.len.next_multiple_of(64);
    let buf = &mut buf[..QB * row_len];
    // SAFETY: guaranteed by the caller; `buf` holds `QB` rows of `row_len >= len`.
    unsafe { D::rows::<V, QB, W>(q, rows, buf.as_mut_ptr(), row_len) };
}

/// Pass 2, for the `QB` rows of `len` real distances that [`fill_rows`] wrote to `buf`: per
/// query `j`, the exact `K`-th distance `kth` ([`kth_smallest`], started from the previous
/// query's), then exactly `K` items into query `j`'s output `idx/dist[j * k..][..k]`: the first
/// `K - #{d < kth}` at `kth` into the last slots in index order, every item below `kth` as a
/// key `(distance << 16) | index` sorted into the first ([`sort_keys`]). The states only lend
/// their buffers (left stale). Returns the last query's `K`-th distance (the next hint).
///
/// # Safety
/// `k <= len <= 2^16`, every distance `<= maxd <= 4096`; `buf` holds `QB` rows as
/// written by [`fill_rows`]; `idx`/`dist` hold `QB * k`; the instruction set of `O` is
/// available.
#[inline(always)]
pub(crate) unsafe fn select_block<O: ScanOps, const QB: usize, D: DistBuf>(
    tops: &mut [Topk<'_>; QB],
    buf: &[D],
    len: usize,
    maxd: usize,
    mut hint: Option<u32>,
    idx: &mut [u32],
    dist: &mut [u16],
) -> Option<u32> {
    let k = tops[0].k();
    let row_len = len.next_multiple_of(64);
    let mut small = [0i32; RANK_SORT_MAX];
    let mut lists = BlockLists::new();
    for (j, top) in tops.iter_mut().enumerate() {
        let row = &buf[j * row_len..][..row_len];
        // SAFETY: `row` holds `row_len` distances, `len >= k` of them real.
        let kth = unsafe { kth_smallest::<O, D>(row.as_ptr(), row_len, k, maxd, hint) };
        let below = kth.below;
        let (big, cnt) = top.buffers();
        // At least `max(k + 2, RANK_SORT_MAX)` slots (the sparse gather parks ties after the
        // keys): the stack's when that fits, else the state's `u64` buffer, whose
        // `min(len, limit) + KEY_SLACK >= k + 64` keys of 8 bytes are `2k + 128` of 4.
        let keys: &mut [i32] = if k + 2 <= RANK_SORT_MAX {
            &mut small
        } else {
            bytemuck::cast_slice_mut(big)
        };
        let (idx, dist) = (&mut idx[j * k..][..k], &mut dist[j * k..][..k]);
        // The `k - below` ties at `kth` take the output's last slots, in index order, which is
        // their final order: they are written there directly. Only the `below` items under
        // `kth` become keys to sort.
        let tie_idx = &mut idx[below..];
        let ties = k - below;
        // Indices are below `len <= 2^16` and distances at most 4096, so a key `(x << 16) | i`
        // is a positive `i32` whose low half is the index.
        if row_len <= DENSE_GATHER_ITEMS {
            // SAFETY: `row` holds `row_len <= 4096` distances, at most 4096 each; the writes
            // are bounded by the slices' lengths whatever the counts.
            unsafe {
                gather_dense::<O, D>(&mut lists, row.as_ptr(), row_len, kth, ties, keys, tie_idx)
            };
        } else {
            // SAFETY: as above; the writes are bounded by the slices' lengths whatever the
            // counts (`keys` holds at least `k + 2` slots, so exact counts are never clamped).
            unsafe { gather_sparse::<O, D>(row, kth, ties, keys, tie_idx) };
        }
        dist[below..].fill(kth.dist as u16);
        sort_keys::<O>(
            keys,
            below,
            kth.dist,
            cnt,
            &mut idx[..below],
            &mut dist[..below],
        );
        hint = Some(kth.dist as u32);
    }
    hint
}

/// The gather for a row of `row_len <= DENSE_GATHER_ITEMS` distances (a multiple of 64, padding
/// above every distance) whose `k`-th smallest is `kth.dist`, with exactly `kth.below` items
/// under it: writes the key `(d << 16) | index` of each of those to `keys`, in index order, and
/// the indices of the first `ties` items at `kth.dist` to `ties_out`, in index order.
///
/// Strategy: first the masks of every 64-item block (two vector compares each), kept in two
/// compact lists of the non-empty blocks, without a branch; then exactly `below` (and `ties`)
/// steps, each taking the lowest set bit of the current mask and moving to the next listed
/// mask when it empties (the alternatives measured: `docs/design/scan.md`).
///
/// Bounded by construction: at most `keys.len()` keys and `ties_out.len()` ties are written
/// (the counts are clamped to the slices), and every distance read is inside the row (the
/// item index is clamped to `row_len - 1`), so counts that disagree with the masks (a kernel
/// off by one) cannot write or read out of bounds: debug builds panic, release builds write
/// wrong (in-bounds) keys.
///
/// # Safety
/// `row..row + row_len` readable; `row_len <= 2^15`, distances below `2^15`; the instruction
/// set of `O` is available. For a correct result the counts are exact (`kth.below` items under
/// `kth.dist`, at least `ties` at it) and fit the slices.
#[inline(always)]
unsafe fn gather_dense<O: ScanOps, D: DistBuf>(
    lists: &mut BlockLists,
    row: *const D,
    row_len: usize,
    kth: Kth,
    ties: usize,
    keys: &mut [i32],
    ties_out: &mut [u32],
) {
    debug_assert!(
        kth.below <= keys.len() && ties <= ties_out.len(),
        "gather_dense: counts exceed the buffers"
    );
    let bound = kth.dist;
    // The bounds of every write below: clamped counts (no-ops when the counts are exact).
    let below = kth.below.min(keys.len()).min(row_len);
    let ties = ties.min(ties_out.len());
    let last = row_len.saturating_sub(1);
    let (keys, ties_out) = (keys.as_mut_ptr(), ties_out.as_mut_ptr());
    let (mut nl, mut ne) = (0, 0);
    for c in (0..row_len).step_by(64) {
        // SAFETY: `c + 64 <= row_len`, readable.
        let le = unsafe { D::le_mask::<O>(row.add(c), bound) };
        let lt = if bound == 0 {
            0
        } else {
            // SAFETY: as above.
            unsafe { D::le_mask::<O>(row.add(c), bound - 1) }
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
        debug_assert!(m != 0, "gather_dense: fewer items under kth than kth.below");
        // A set mask bit, a real item of the row, when the counts are exact; clamped to the
        // row's last distance whatever they are.
        let i = (lists.lt_base[p] as usize + m.trailing_zeros() as usize).min(last);
        // SAFETY: `i <= row_len - 1` (clamped; `below <= row_len` so `row_len > 0` here) is
        // readable; `n < below <= keys.len()`, writable. The key is positive: `i < 2^15`,
        // distances below `2^15` (its index fits the low 16 bits).
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
        debug_assert!(m != 0, "gather_dense: fewer items at kth than ties");
        let i = lists.eq_base[p] + m.trailing_zeros();
        // SAFETY: `e < ties <= ties_out.len()`, writable.
        unsafe { ties_out.add(e).write(i) };
        m &= m - 1;
        let empty = m == 0;
        p += usize::from(empty);
        if empty {
            (m, next) = (next, lists.eq_mask[p + 1]);
        }
    }
}

/// The gather for longer rows (sparse survivors: few items, few blocks): every item
/// `<= kth.dist`, without a branch per item (whether an item lies below `kth.dist` is a coin
/// toss near the threshold). Each item is written both as a key at `n` and as a tie at `e`, and
/// only the right count advances: keys occupy `keys[..below]` (slot `below` takes the junk of
/// the ties), ties `keys[below + 1..][..ties]` (slot `k + 1` the junk past the last tie), then
/// copied to `tie_idx`. Same outputs as [`gather_dense`].
///
/// Bounded by construction: the counts are clamped to what `keys` holds (`below + ties + 2`
/// slots) and the key slot to `below`, so a kernel whose masks find more items under
/// `kth.dist` than `kth.below` cannot write past `keys`: debug builds panic (the final counts
/// disagree), release builds write wrong (in-bounds) keys.
///
/// # Safety
/// `row.len()` a multiple of 64, at most `2^16`, distances below `2^15`; the instruction set
/// of `O` is available. For a correct result `keys` holds at least `kth.below + ties + 2`
/// slots, `tie_idx` at least `ties`, and the counts are exact.
#[inline(always)]
unsafe fn gather_sparse<O: ScanOps, D: DistBuf>(
    row: &[D],
    kth: Kth,
    ties: usize,
    keys: &mut [i32],
    tie_idx: &mut [u32],
) {
    debug_assert!(
        kth.below + ties + 2 <= keys.len(),
        "gather_sparse: counts exceed the buffer"
    );
    let bound = kth.dist;
    // The bounds of every write below: clamped counts (no-ops when the counts fit `keys`).
    let cap = keys.len().saturating_sub(2);
    let below = kth.below.min(cap);
    let ties = ties.min(cap - below).min(tie_idx.len());
    let out = keys.as_mut_ptr();
    let tie_buf = below + 1;
    let (mut n, mut e) = (0, 0);
    for c in (0..row.len()).step_by(64) {
        // SAFETY: `c + 64 <= row.len()`.
        let mut m = unsafe { D::le_mask::<O>(row.as_ptr().add(c), bound) };
        while m != 0 {
            let i = c + m.trailing_zeros() as usize;
            m &= m - 1;
            let x = row[i].get();
            let lt = x < bound;
            // SAFETY: the key slot `min(n, below) <= below` and the tie slot `tie_buf + e <=
            // below + ties + 1 <= keys.len() - 1` (the clamps above) are inside `keys`; `n`
            // itself is left unclamped so that a miscount shows in the final assertion.
            unsafe {
                out.add(n.min(below)).write(((x as i32) << 16) | i as i32);
                out.add(tie_buf + e).write(i as i32);
            }
            n += usize::from(lt);
            e += usize::from(!lt & (e < ties));
        }
    }
    for (o, &i) in tie_idx.iter_mut().zip(&keys[tie_buf..][..ties]) {
        *o = i as u32;
    }
    debug_assert!(
        n == below && e == ties,
        "gather_sparse: the masks disagree with the counts"
    );
}

#[cfg(test)]
mod tests {
    //! The gathers' guards: counts that disagree with the masks (or with the buffers) never
    //! write outside the slices given; debug builds panic.
    use super::*;
    use std::panic::{catch_unwind, AssertUnwindSafe};

    /// The portable `ScanOps` (every default), so the guards are tested on any machine.
    struct Portable;
    impl ScanOps for Portable {}

    const CANARY: i32 = -7;
    const CANARIES: usize = 16;

    /// 64 distances: 10 items at 1 (under `kth.dist = 3`), 2 at 3, the rest at 9.
    fn row() -> Vec<u16> {
        let mut r = vec![9u16; 64];
        for i in 0..10 {
            r[i * 6] = 1;
        }
        (r[1], r[2]) = (3, 3);
        r
    }

    /// Runs `f` over the first `len` slots of a key buffer followed by canaries; whether it
    /// panicked must be whether debug assertions are on, and the canaries must be intact.
    fn guarded(len: usize, f: impl FnOnce(&mut [i32])) {
        let mut buf = vec![CANARY; len + CANARIES];
        let r = catch_unwind(AssertUnwindSafe(|| f(&mut buf[..len])));
        assert_eq!(
            r.is_err(),
            cfg!(debug_assertions),
            "a miscount must panic in debug"
        );
        assert!(buf[len..].iter().all(|&c| c == CANARY), "{:?}", &buf[len..]);
    }

    #[test]
    fn sparse_gather_with_too_few_counted_writes_nothing_out_of_bounds() {
        let row = row();
        // The masks find 10 items under 3 but the count says 7: before the guard, keys went
        // to slots 0..=9 of a buffer of `7 + 0 + 2 = 9`.
        let kth = Kth { dist: 3, below: 7 };
        guarded(9, |keys| {
            keys.fill(0);
            // SAFETY: portable ops; the row holds 64 distances.
            unsafe { gather_sparse::<Portable, u16>(&row, kth, 0, keys, &mut []) }
        });
    }

    #[test]
    fn dense_gather_with_a_count_past_the_buffer_writes_nothing_out_of_bounds() {
        let row = row();
        // Exact counts (10 under 3, 2 ties) but a key buffer one short: before the guard the
        // tenth key went one past it.
        let kth = Kth { dist: 3, below: 10 };
        let mut ties = [0u32; 2];
        guarded(9, |keys| {
            let mut lists = BlockLists::new();
            // SAFETY: portable ops; the row holds 64 distances.
            unsafe {
                gather_dense::<Portable, u16>(&mut lists, row.as_ptr(), 64, kth, 2, keys, &mut ties)
            }
        });
    }

    #[test]
    fn dense_gather_with_one_too_many_counted_stays_in_bounds() {
        let row = row();
        // 11 counted under 3 where the masks find 10 (a kernel off by one): before the guard
        // the eleventh key read the distance one past the row.
        let kth = Kth { dist: 3, below: 11 };
        let mut ties = [0u32; 2];
        guarded(11, |keys| {
            let mut lists = BlockLists::new();
            // SAFETY: portable ops; the row holds 64 distances.
            unsafe {
                gather_dense::<Portable, u16>(&mut lists, row.as_ptr(), 64, kth, 2, keys, &mut ties)
            }
        });
    }

    #[test]
    fn gathers_agree_with_exact_counts() {
        let row = row();
        let kth = Kth { dist: 3, below: 10 };
        let want: Vec<i32> = (0..10).map(|i| (1 << 16) | (i * 6)).collect();
        let (mut dense, mut sparse) = (vec![0i32; 14], vec![0i32; 14]);
        let (mut td, mut ts) = ([0u32; 2], [0u32; 2]);
        let mut lists = BlockLists::new();
        // SAFETY: portable ops; the row holds 64 distances; the counts are exact.
        unsafe {
            gather_dense::<Portable, u16>(
                &mut lists,
                row.as_ptr(),
                64,
                kth,
                2,
                &mut dense,
                &mut td,
            );
            gather_sparse::<Portable, u16>(&row, kth, 2, &mut sparse, &mut ts);
        }
        assert_eq!(&dense[..10], &want[..]);
        assert_eq!(&sparse[..10], &want[..]);
        assert_eq!((td, ts), ([1, 2], [1, 2]));
    }
}
