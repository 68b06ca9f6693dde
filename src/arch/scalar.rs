//! The portable reference kernels: the executable form of the contract, and the oracle every
//! SIMD kernel is tested against.
//!
//! Strategy, deliberately plain: a distance is the sum over lanes of `popcount(q ^ h)`; the top-K
//! packs each candidate into one `u64` key `(distance << 32) | index`, whose integer order is
//! exactly the contract's lexicographic (distance, index) order, then selects the `k` smallest
//! keys with `select_nth_unstable` and sorts them. That costs `O(L + k log k)` per query and
//! one scratch vector of `L` keys per call; it is not tuned, only obviously right.
//!
//! SimHash runs the contract's FMA chain literally, one accumulator per output bit, `k` outer so
//! the projection is read row by row. `f32::mul_add` is a correctly rounded fused multiply-add on
//! every target (a library call where the CPU has no FMA unit), so these bits are the contract's.

use super::encode::{widen_scalar, Projection, Rows};
use super::scratch::Pooled;
use super::{BatchScan, Kernels, LaneKernels, SharedScan};
use crate::isa::Isa;
use crate::layout::Lane;

/// The scalar kernel table.
pub(crate) static KERNELS: Kernels = Kernels {
    isa: Isa::Scalar,
    u8: lane_kernels::<u8>(),
    u16: lane_kernels::<u16>(),
    u32: lane_kernels::<u32>(),
    u64: lane_kernels::<u64>(),
    encode,
};

const fn lane_kernels<T: Lane>() -> LaneKernels<T> {
    LaneKernels {
        topk_shared: topk_shared::<T>,
        topk_batch: topk_batch::<T>,
        dist_shared: dist_shared::<T>,
        dist_batch: dist_batch::<T>,
    }
}

/// Hamming distance between query `q` (`lanes` lanes) and item `i` of the SoA history `hist`.
#[inline(always)]
fn distance<T: Lane>(q: &[T], hist: &[T], stride: usize, i: usize) -> u32 {
    q.iter()
        .enumerate()
        .map(|(w, &qw)| qw.hamming(hist[w * stride + i]))
        .sum()
}

/// Keeps the `min(k, keys.len())` smallest keys, sorted, in `idx`/`dist` (unpacked).
pub(crate) fn select_sorted(keys: &mut [u64], k: usize, idx: &mut [u32], dist: &mut [u16]) {
    let kept = k.min(keys.len());
    if kept == 0 {
        return;
    }
    if kept < keys.len() {
        keys.select_nth_unstable(kept - 1);
    }
    let best = &mut keys[..kept];
    best.sort_unstable();
    for (j, &key) in best.iter().enumerate() {
        idx[j] = key as u32;
        dist[j] = (key >> 32) as u16;
    }
}

/// Writes the key `(distance << 32) | index` of each item `0..len` of `hist` into `keys[..len]`
/// and returns that part.
fn distance_keys<'k, T: Lane>(
    q: &[T],
    hist: &[T],
    len: usize,
    stride: usize,
    keys: &'k mut [u64],
) -> &'k mut [u64] {
    let keys = &mut keys[..len];
    for (i, key) in keys.iter_mut().enumerate() {
        *key = (u64::from(distance(q, hist, stride, i)) << 32) | i as u64;
    }
    keys
}

pub(crate) fn topk_shared<T: Lane>(
    a: &SharedScan<'_, T>,
    k: usize,
    idx: &mut [u32],
    dist: &mut [u16],
) {
    // No scratch at all without queries (`L` may be huge with `B = 0`).
    // (Pooled: no allocation after the thread's first call, for histories up to 1 MiB of keys.)
    let mut keys = Pooled::<u64>::take(if a.nq == 0 { 0 } else { a.len });
    for b in 0..a.nq {
        let q = &a.q[b * a.lanes..][..a.lanes];
        let (ri, rd) = (&mut idx[b * k..][..k], &mut dist[b * k..][..k]);
        let keys = distance_keys(q, a.hist, a.len, a.stride, &mut keys);
        select_sorted(keys, k, ri, rd);
    }
}

pub(crate) fn topk_batch<T: Lane>(
    a: &BatchScan<'_, T>,
    k: usize,
    idx: &mut [u32],
    dist: &mut [u16],
) {
    // Scratch for the longest valid history, not the capacity (`L` may be huge, or `B = 0`).
    let longest = a.lens.iter().max().map_or(0, |&l| l as usize);
    let mut keys = Pooled::<u64>::take(longest);
    for b in 0..a.nq {
        let len = a.lens[b] as usize;
        if len == 0 {
            continue; // its history may lie beyond the end of `hists`
        }
        let q = &a.q[b * a.lanes..][..a.lanes];
        let hist = &a.hists[b * a.lanes * a.stride..];
        let (ri, rd) = (&mut idx[b * k..][..k], &mut dist[b * k..][..k]);
        let keys = distance_keys(q, hist, len, a.stride, &mut keys);
        select_sorted(keys, k, ri, rd);
    }
}

pub(crate) fn dist_shared<T: Lane>(a: &SharedScan<'_, T>, out: &mut [u16]) {
    for b in 0..a.nq {
        let q = &a.q[b * a.lanes..][..a.lanes];
        for (i, o) in out[b * a.len..][..a.len].iter_mut().enumerate() {
            *o = distance(q, a.hist, a.stride, i) as u16;
        }
    }
}

pub(crate) fn dist_batch<T: Lane>(a: &BatchScan<'_, T>, out: &mut [u16]) {
    for b in 0..a.nq {
        let len = a.lens[b] as usize;
        if len == 0 {
            continue;
        }
        let q = &a.q[b * a.lanes..][..a.lanes];
        let hist = &a.hists[b * a.lanes * a.stride..];
        for (i, o) in out[b * a.cap..][..len].iter_mut().enumerate() {
            *o = distance(q, hist, a.stride, i) as u16;
        }
    }
}

/// The SimHash reference: widens 16-bit inputs with the portable exact conversion, then runs the
/// contract's chain on the plain `d x m` projection.
pub(crate) fn encode(proj: &Projection<'_>, emb: Rows<'_>, n: usize, out: &mut [u64]) {
    let (d, m) = (proj.d, proj.m);
    let proj = proj.rows;
    let words = m.div_ceil(64);
    // One pooled buffer for both (no allocation after the thread's first call).
    let mut buf = Pooled::<f32>::take(m + d);
    let (acc, x) = buf.split_at_mut(m);
    for e in 0..n {
        widen_scalar(emb.slice(e * d, d), x);
        acc.fill(0.0); // +0.0, the contract's starting value
        for (k, &xk) in x.iter().enumerate() {
            let row = &proj[k * m..][..m];
            for (s, &p) in acc.iter_mut().zip(row) {
                *s = xk.mul_add(p, *s);
            }
        }
        let o = &mut out[e * words..][..words];
        o.fill(0);
        for (j, &s) in acc.iter().enumerate() {
            // NaN, -0.0 and +0.0 all compare false: bit 0.
            o[j / 64] |= u64::from(s > 0.0) << (j % 64);
        }
    }
}
