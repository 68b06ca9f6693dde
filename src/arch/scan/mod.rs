//! The scan kernels (top-K and all distances, over a shared history or per-query histories),
//! written once over a small vector trait that each instruction set implements per lane type
//! (memchr's style), and the macro that stamps one instruction set's `#[target_feature]` entry
//! points and kernel table ([`scan_kernels!`]).
//!
//! Everything here is `#[inline(always)]`: it is compiled inside each instruction set's entry
//! points, so the traits' intrinsics inline into one loop. A "vector" is always 64 bytes of
//! lanes, `N = 64 / size_of::<lane>()` items per step on every instruction set, so one survivor
//! mask fits a `u64`. The strategy, the choices per instruction set and their measurements are
//! in `docs/design/scan.md`.
//!
//! - [`vector`]: the lane trait (lane primitives); [`ops`]: the per-instruction-set trait
//!   (operations that do not depend on the lane type).
//! - [`rows`]: history rows, distances, distance buffers.
//! - [`path`]: the path a history takes; [`stream`]: the streaming path for long histories
//!   (prefix pre-pass, then one pass against running thresholds); [`two_pass`]: the two-pass
//!   path for short ones (all distances, then exact selection and gathers).
//! - [`select`]: `K`-th distance and key sorting; [`state`]: the streaming path's top-K state.
//! - [`small`]: the small-m path (`u8` lanes), where the distance histogram decides the top-K.
//!
//! Tails: the last `len % N` items go through [`Vector::load_partial`], which never reads a lane
//! beyond item `len - 1`, and the survivor mask is cut to the valid items. Padding after `len`
//! is never read; a distance buffer's own padding (to 64) holds all-ones, which no count or mask
//! accepts.

pub(crate) mod ops;
pub(crate) mod path;
pub(crate) mod rows;
pub(crate) mod select;
pub(crate) mod small;
pub(crate) mod state;
pub(crate) mod stream;
pub(crate) mod two_pass;
pub(crate) mod vector;

pub(crate) use ops::ScanOps;
pub(crate) use vector::Vector;

use path::{HistoryScan, Path};
use rows::{dist_rows, max_distance, HistRows, U8_MAX_DISTANCE};
pub(crate) use state::prewarm_states;
use state::{Scratch, Topk};
use stream::{stream_prefix, tile_items, GROUP, PREFIX_ITEMS, TILE_BYTES};

use super::scratch::Pooled;
use super::{BatchScan, SharedScan};
use crate::layout::{Lane, LaneType};

/// Calls `f::<G.., W>(args)` with the const `W` equal to the lane count `lanes` for 1 to 4 lane
/// rows (fully unrolled distance loops), else `W = 0` (a loop over `lanes`). Several lane rows
/// only exist for `u64` lanes (the fingerprint layout), so other lane types never instantiate
/// `W` of 2 to 4: those lane counts do nothing for them.
macro_rules! by_lane_count {
    ($lane:ty, $lanes:expr, $f:ident::<$($g:tt),*>($($arg:expr),*)) => {{
        let several = <$lane as Lane>::TYPE == LaneType::U64;
        match $lanes {
            1 => $f::<$($g,)* 1>($($arg),*),
            2 if several => $f::<$($g,)* 2>($($arg),*),
            3 if several => $f::<$($g,)* 3>($($arg),*),
            4 if several => $f::<$($g,)* 4>($($arg),*),
            2..=4 => {}
            _ => $f::<$($g,)* 0>($($arg),*),
        }
    }};
}

/// Top-K over a shared history, `QB` queries per pass.
///
/// # Safety
/// The arguments satisfy [`SharedScan`]'s invariants; `idx`/`dist` hold `nq * k` slots; the
/// instruction set of `V` is available.
#[inline(always)]
pub(crate) unsafe fn topk_shared<V: Vector, const QB: usize>(
    a: &SharedScan<'_, V::Lane>,
    k: usize,
    idx: &mut [u32],
    dist: &mut [u16],
) {
    // SAFETY: forwarded.
    unsafe {
        by_lane_count!(
            V::Lane,
            a.lanes,
            topk_shared_chunks::<V, QB>(a, k, idx, dist)
        )
    }
}

/// Whether byte distances fit (the vector type packs them and every distance is below
/// `0xFF`), and the two-pass limit of a shared history: with several queries and byte
/// distances, the vector type's own (`Vector::TWO_PASS_U8_ITEMS`, at most 2^16), else
/// `PREFIX_ITEMS`.
#[inline(always)]
fn two_pass_limit<V: Vector>(nq: usize, lanes: usize) -> (bool, usize) {
    let bytes_fit = V::U8_BUF && max_distance::<V::Lane>(lanes) <= U8_MAX_DISTANCE;
    let limit = if bytes_fit && nq > 1 {
        V::TWO_PASS_U8_ITEMS.clamp(PREFIX_ITEMS, 1 << 16)
    } else {
        PREFIX_ITEMS
    };
    (bytes_fit, limit)
}

/// The chunk length (items) in which a shared history longer than the two-pass limit is
/// answered, chunk by chunk on the two-pass path, merged: where the vector type's byte-distance
/// limit lies above `PREFIX_ITEMS` (the AVX-512 tables) and the call has several queries, whose
/// two-pass path costs less per item than the streaming path past that limit (on a Zen 5, 1 MiB
/// L2: 1.3-1.4x at `L = 65,537`, `B = 256`; `docs/design/scan.md`, "Long histories"). `None`:
/// the whole history in one piece (two-pass or streaming).
#[inline(always)]
fn two_pass_chunk<V: Vector>(nq: usize, lanes: usize, k: usize, len: usize) -> Option<usize> {
    let (_, limit) = two_pass_limit::<V>(nq, lanes);
    if limit <= PREFIX_ITEMS || len <= limit {
        return None;
    }
    // Each chunk within the limit and within the two-pass path's 4 tiles of bytes, the chunks
    // of near-equal length.
    let cap = limit.min(4 * TILE_BYTES / (lanes * core::mem::size_of::<V::Lane>()));
    if cap <= PREFIX_ITEMS {
        return None;
    }
    let chunk = len
        .div_ceil(len.div_ceil(cap))
        .next_multiple_of(64)
        .min(cap);
    (chunk >= k).then_some(chunk)
}

/// [`topk_shared_w`], over [`two_pass_chunk`]'s chunks where it gives some: the first chunk's
/// results go straight to `idx`/`dist`, every later chunk's to a scratch row per query, merged
/// in ([`merge_rows`]).
///
/// # Safety
/// As [`topk_shared`], with `W` the lane count or 0.
#[inline(always)]
unsafe fn topk_shared_chunks<V: Vector, const QB: usize, const W: usize>(
    a: &SharedScan<'_, V::Lane>,
    k: usize,
    idx: &mut [u32],
    dist: &mut [u16],
) {
    let Some(chunk) = two_pass_chunk::<V>(a.nq, a.lanes, k, a.len) else {
        // SAFETY: forwarded.
        return unsafe { topk_shared_w::<V, QB, W>(a, k, idx, dist) };
    };
    let mut more_idx = Pooled::<u32>::take(a.nq * k);
    let mut more_dist = Pooled::<u16>::take(a.nq * k);
    for start in (0..a.len).step_by(chunk) {
        let n = chunk.min(a.len - start);
        // The chunk as a history of its own: its rows start `start` items in, same stride
        // (`hist.len() - start >= (lanes - 1) * stride + n`, `stride >= n`).
        let part = SharedScan {
            q: a.q,
            nq: a.nq,
            lanes: a.lanes,
            hist: &a.hist[start..],
            len: n,
            stride: a.stride,
        };
        if start == 0 {
            // SAFETY: the invariants above; `idx`/`dist` hold `nq * k` slots.
            unsafe { topk_shared_w::<V, QB, W>(&part, k, idx, dist) };
            continue;
        }
        // SAFETY: as above, into the scratch rows.
        unsafe { topk_shared_w::<V, QB, W>(&part, k, &mut more_idx, &mut more_dist) };
        let (have, got) = (k.min(start), k.min(n));
        for b in 0..a.nq {
            let ni = &mut more_idx[b * k..][..got];
            ni.iter_mut().for_each(|i| *i += start as u32);
            let (ri, rd) = (&mut idx[b * k..][..k], &mut dist[b * k..][..k]);
            merge_rows(ri, rd, have, ni, &more_dist[b * k..][..got]);
        }
    }
}

/// Merges, in place, the `have` nearest of earlier items (`idx[..have]`/`dist[..have]`, in the
/// contract's `(distance, index)` order) with `ni`/`nd` (the nearest of later items, in that
/// order, every index above those in `idx`), keeping the first `min(idx.len(), have +
/// ni.len())` of the merged order in `idx`/`dist`.
#[inline(always)]
fn merge_rows(idx: &mut [u32], dist: &mut [u16], have: usize, ni: &[u32], nd: &[u16]) {
    let got = ni.len();
    let keep = idx.len().min(have + got);
    // How many of each the first `keep` take; at equal distances the earlier item comes first.
    let (mut i, mut j) = (0, 0);
    while i + j < keep {
        if j < got && (i == have || nd[j] < dist[i]) {
            j += 1;
        } else {
            i += 1;
        }
    }
    // Backwards into place: slot `i + j - 1` is never below an earlier item still to be read.
    while j > 0 {
        let w = i + j - 1;
        if i > 0 && dist[i - 1] > nd[j - 1] {
            idx[w] = idx[i - 1];
            dist[w] = dist[i - 1];
            i -= 1;
        } else {
            idx[w] = ni[j - 1];
            dist[w] = nd[j - 1];
            j -= 1;
        }
    }
}

/// # Safety
/// As [`topk_shared`], with `W` the lane count or 0.
#[inline(always)]
unsafe fn topk_shared_w<V: Vector, const QB: usize, const W: usize>(
    a: &SharedScan<'_, V::Lane>,
    k: usize,
    idx: &mut [u32],
    dist: &mut [u16],
) {
    let (len, lanes) = (a.len, a.lanes);
    if len == 0 || a.nq == 0 {
        return;
    }
    if small::applies::<V::Lane>(len) {
        // SAFETY: forwarded; the small-m path applies.
        return unsafe { small::topk_shared::<V, QB, W>(a, k, idx, dist) };
    }
    let maxd = max_distance::<V::Lane>(lanes);
    let (bytes_fit, limit) = two_pass_limit::<V>(a.nq, lanes);
    let p = len.min(limit);
    // A short history (within the limit, at most 4 tiles of bytes): the two-pass path decides
    // it, in one pass over the history per query block.
    let bytes = len * lanes * core::mem::size_of::<V::Lane>();
    let is_short = p == len && p >= k && bytes <= 4 * TILE_BYTES;
    let tile = if is_short {
        len
    } else {
        tile_items::<V::Lane>(lanes)
    };
    let group = if len <= tile { QB } else { GROUP };
    let mut scratch = Scratch::new(group.min(a.nq), k, len, maxd);
    let mut tops = scratch.states();
    let kept = k.min(len);
    // The items of the distance buffer: the whole history (two-pass) or the streaming path's
    // pre-pass prefix, which pays off when it holds at least `k` items.
    let pre = if is_short { p } else { stream_prefix(len, k) };
    let rows = if pre >= k { QB.min(a.nq) } else { 0 };
    // A short history with distances below `0xFF` keeps them as bytes where the vector type
    // can (AVX-512 `u64` lanes; AVX2 `u64` and `u32` lanes): half the bytes to store, count
    // and gather.
    let use8 = is_short && bytes_fit;
    let buf_len = rows * pre.next_multiple_of(64);
    let mut buf16 = Pooled::<u16>::take(if use8 { 0 } else { buf_len });
    let mut buf8 = Pooled::<u8>::take(if use8 { buf_len } else { 0 });
    let path = match (is_short, use8) {
        (false, _) => Path::Stream {
            prefix: pre,
            buf: &mut buf16,
        },
        (true, false) => Path::TwoPass16(&mut buf16),
        (true, true) => Path::TwoPass8(&mut buf8),
    };
    let mut scan = HistoryScan {
        rows: HistRows {
            hist: a.hist.as_ptr(),
            lanes,
            stride: a.stride,
            len,
        },
        path,
        next: None,
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
        for start in (0..len).step_by(tile) {
            let items = start..(start + tile).min(len);
            let (blocks, singles) = tops.split_at_mut(full);
            for (bi, block) in blocks.chunks_exact_mut(QB).enumerate() {
                let block: &mut [Topk<'_>; QB] = block.try_into().expect("QB states");
                let b0 = g0 + bi * QB;
                let q = a.q[b0 * lanes..].as_ptr();
                let (o, n) = rows_of(b0, QB);
                let (idx, dist) = (&mut idx[o..][..n], &mut dist[o..][..n]);
                // SAFETY: SharedScan's invariants: every row readable at `0..len`, `QB`
                // queries; the buffers hold `QB` rows of `p`.
                hint = unsafe { scan.run::<V, QB, W>(q, block, items.clone(), hint, idx, dist) };
            }
            for (si, top) in singles.iter_mut().enumerate() {
                let b0 = g0 + full + si;
                let q = a.q[b0 * lanes..].as_ptr();
                let (o, n) = rows_of(b0, 1);
                let (idx, dist) = (&mut idx[o..][..n], &mut dist[o..][..n]);
                let top = core::array::from_mut(top);
                // SAFETY: as above, one query.
                hint = unsafe { scan.run::<V, 1, W>(q, top, items.clone(), hint, idx, dist) };
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
/// As [`topk_shared`], for [`BatchScan`].
#[inline(always)]
pub(crate) unsafe fn topk_batch<V: Vector>(
    a: &BatchScan<'_, V::Lane>,
    k: usize,
    idx: &mut [u32],
    dist: &mut [u16],
) {
    // SAFETY: forwarded.
    unsafe { by_lane_count!(V::Lane, a.lanes, topk_batch_w::<V>(a, k, idx, dist)) }
}

/// # Safety
/// As [`topk_batch`], with `W` the lane count or 0.
#[inline(always)]
unsafe fn topk_batch_w<V: Vector, const W: usize>(
    a: &BatchScan<'_, V::Lane>,
    k: usize,
    idx: &mut [u32],
    dist: &mut [u16],
) {
    let lanes = a.lanes;
    // Scratch for the longest valid history, not the capacity: with no queries, or short ones
    // in a long capacity, a huge `K` or `L` must not allocate anything large.
    let longest = a.lens.iter().max().map_or(0, |&l| l as usize);
    if longest == 0 {
        return;
    }
    if small::applies::<V::Lane>(longest) {
        // SAFETY: forwarded; the small-m path applies to every history.
        return unsafe { small::topk_batch::<V, W>(a, k, idx, dist) };
    }
    let maxd = max_distance::<V::Lane>(lanes);
    let mut scratch = Scratch::new(1, k, longest, maxd);
    let mut tops = scratch.states();
    let rows = usize::from(longest >= k);
    let buf_len = rows * longest.min(PREFIX_ITEMS).next_multiple_of(64);
    // Short histories keep their distances as bytes when they fit (see `topk_shared_w`); the
    // `u16` buffer then only serves the pre-pass of long ones.
    let use8 = V::U8_BUF && maxd <= U8_MAX_DISTANCE;
    let mut buf8 = Pooled::<u8>::take(if use8 { buf_len } else { 0 });
    let mut buf16 = Pooled::<u16>::take(if use8 && longest <= PREFIX_ITEMS {
        0
    } else {
        buf_len
    });
    let top: &mut [Topk<'_>; 1] = (&mut tops[..1]).try_into().expect("one state");
    let history = |b: usize| HistRows {
        hist: a.hists[b * lanes * a.stride..].as_ptr(),
        lanes,
        stride: a.stride,
        len: a.lens[b] as usize,
    };
    let mut hint: Option<u32> = None;
    for b in 0..a.nq {
        let len = a.lens[b] as usize;
        if len == 0 {
            continue; // its history may lie beyond the end of `hists`
        }
        let q = a.q[b * lanes..].as_ptr();
        let p = len.min(PREFIX_ITEMS);
        let two_pass = p == len && p >= k;
        let kept = k.min(len);
        let (idx, dist) = (&mut idx[b * k..][..kept], &mut dist[b * k..][..kept]);
        let path = match (two_pass, use8) {
            (false, _) => Path::Stream {
                prefix: stream_prefix(len, k),
                buf: &mut buf16,
            },
            (true, false) => Path::TwoPass16(&mut buf16),
            (true, true) => Path::TwoPass8(&mut buf8),
        };
        let mut scan = HistoryScan {
            rows: history(b),
            path,
            next: (b + 1 < a.nq && a.lens[b + 1] > 0).then(|| history(b + 1)),
        };
        if !two_pass {
            top[0].reset();
        }
        // SAFETY: BatchScan's invariants: rows of history `b` readable at `0..lens[b]`; the
        // buffers hold one row of `longest.min(PREFIX_ITEMS) >= p >= stream_prefix(len, k)`.
        hint = unsafe { scan.run::<V, 1, W>(q, top, 0..len, hint, idx, dist) };
        if !two_pass {
            top[0].finish(idx, dist);
        }
    }
}

/// All distances over a shared history, `QB` queries per pass.
///
/// # Safety
/// As [`topk_shared`]; `out` holds `nq * len` distances.
#[inline(always)]
pub(crate) unsafe fn dist_shared<V: Vector, const QB: usize>(
    a: &SharedScan<'_, V::Lane>,
    out: &mut [u16],
) {
    // SAFETY: forwarded.
    unsafe { by_lane_count!(V::Lane, a.lanes, dist_shared_w::<V, QB>(a, out)) }
}

/// # Safety
/// As [`dist_shared`], with `W` the lane count or 0.
#[inline(always)]
unsafe fn dist_shared_w<V: Vector, const QB: usize, const W: usize>(
    a: &SharedScan<'_, V::Lane>,
    out: &mut [u16],
) {
    let (len, lanes) = (a.len, a.lanes);
    if len == 0 {
        return;
    }
    let out = &mut out[..a.nq * len];
    let o = out.as_mut_ptr();
    let rows = HistRows {
        hist: a.hist.as_ptr(),
        lanes,
        stride: a.stride,
        len,
    };
    let full = a.nq / QB * QB;
    for b in (0..full).step_by(QB) {
        let q = a.q[b * lanes..].as_ptr();
        // SAFETY: SharedScan's invariants; `out` holds rows `b..b + QB` of `len`.
        unsafe { dist_rows::<V, QB, W>(q, rows, o.add(b * len), len) };
    }
    for b in full..a.nq {
        let q = a.q[b * lanes..].as_ptr();
        // SAFETY: as above, one row.
        unsafe { dist_rows::<V, 1, W>(q, rows, o.add(b * len), len) };
    }
}

/// All distances over per-query histories.
///
/// # Safety
/// As [`topk_batch`]; `out` holds `nq * cap` distances.
#[inline(always)]
pub(crate) unsafe fn dist_batch<V: Vector>(a: &BatchScan<'_, V::Lane>, out: &mut [u16]) {
    // SAFETY: forwarded.
    unsafe { by_lane_count!(V::Lane, a.lanes, dist_batch_w::<V>(a, out)) }
}

/// # Safety
/// As [`dist_batch`], with `W` the lane count or 0.
#[inline(always)]
unsafe fn dist_batch_w<V: Vector, const W: usize>(a: &BatchScan<'_, V::Lane>, out: &mut [u16]) {
    let lanes = a.lanes;
    if a.cap == 0 {
        return;
    }
    for b in 0..a.nq {
        let len = a.lens[b] as usize;
        if len == 0 {
            continue;
        }
        let q = a.q[b * lanes..].as_ptr();
        let rows = HistRows {
            hist: a.hists[b * lanes * a.stride..].as_ptr(),
            lanes,
            stride: a.stride,
            len,
        };
        let row = &mut out[b * a.cap..][..len];
        // SAFETY: BatchScan's invariants; `row` holds `len` distances.
        unsafe { dist_rows::<V, 1, W>(q, rows, row.as_mut_ptr(), 0) };
    }
}

/// Defines a module `$name` of entry points running the generic scans on vector type `$v`
/// with `$qb` queries per block, compiled for the features of the instruction set's
/// `$features` macro (made by [`feature_set!`](crate::arch)), and its kernel table
/// `$name::KERNELS`.
macro_rules! scan_kernels {
    ($features:ident, $name:ident, $v:ty, $qb:literal) => {
        pub(crate) mod $name {
            use super::*;
            use $crate::arch::scan::{self, Vector};
            use $crate::arch::{BatchScan, LaneKernels, SharedScan};
            type L = <$v as Vector>::Lane;

            $features! {
                /// # Safety
                /// The kernel contract, and a CPU with the table's features.
                unsafe fn topk_shared(
                    a: &SharedScan<'_, L>,
                    k: usize,
                    idx: &mut [u32],
                    dist: &mut [u16],
                ) {
                    // SAFETY: the kernel contract (validated arguments) and the table's
                    // feature check.
                    unsafe { scan::topk_shared::<$v, $qb>(a, k, idx, dist) }
                }
                /// # Safety
                /// As above.
                unsafe fn topk_batch(
                    a: &BatchScan<'_, L>,
                    k: usize,
                    idx: &mut [u32],
                    dist: &mut [u16],
                ) {
                    // SAFETY: as above.
                    unsafe { scan::topk_batch::<$v>(a, k, idx, dist) }
                }
                /// # Safety
                /// As above.
                unsafe fn dist_shared(a: &SharedScan<'_, L>, out: &mut [u16]) {
                    // SAFETY: as above.
                    unsafe { scan::dist_shared::<$v, $qb>(a, out) }
                }
                /// # Safety
                /// As above.
                unsafe fn dist_batch(a: &BatchScan<'_, L>, out: &mut [u16]) {
                    // SAFETY: as above.
                    unsafe { scan::dist_batch::<$v>(a, out) }
                }
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
pub(crate) use scan_kernels;
