//! The small-m path (one `u8` lane, `m <= 8`; one `u16` lane, `9 <= m <= 16`, where
//! [`U16_LANES`] enables it): every distance lies in `0..=maxd` (`maxd` the lane's bits, 8 or
//! 16), so the distance histogram decides the top-K, with no distance buffer, no key and no sort.
//!
//! The `K` nearest are every item below the `K`-th smallest distance `kth`, then the first
//! items at `kth` in index order; and the output order `(distance, index)` is distance value
//! by distance value, each in index order. One pass per query block ([`fill`]) keeps, per
//! query, threshold `t` and 64-item block, the mask of the items with distance `<= t` (one
//! vector compare per threshold and vector); then per query ([`select`]) the counts of those
//! masks give `kth`, and the items are extracted value by value from the masks
//! `le(v) & !le(v - 1)`: dense levels eight bits at a time without a branch per item, into a
//! staging row with 64 slots of slack, sparse ones bit by bit.
//!
//! Only thresholds `0..=g` are computed, `g` a guess from the `K`-th distances of the queries
//! already answered in the call ([`Guess`]: the smallest `g` that at most a quarter of them
//! exceeded; 0 before the first). A query whose `kth` exceeds `g` has only its missing
//! thresholds computed, alone (`g + 1 ..= 2g + 2`, then the rest): at small `m` the `K`-th
//! distance barely moves between queries (at `m = 4`, `K = 32`, `L = 1024` it is 0 for nearly
//! every query), so a miss is rare.
//!
//! Two shortcuts come first. A query whose `kth` is likely 0 (predicted by [`MatchRate`]) is
//! tried by exact matches ([`first_matches`]): lane compares, no popcount, stopping at the
//! block that completes `min(K, len)` of them. And over a shared history, repeated query
//! codes (a `u8` lane takes at most 256 values) are answered once and copied.
//!
//! Exactly the contract's order and fill: `min(K, len)` slots per query, sentinels left to the
//! caller; a length of 0 writes nothing. Measurements: `docs/design/scan.md`, "Small m".

use super::rows::HistRows;
use super::two_pass::prefetch;
use super::vector::Vector;
use super::{BatchScan, SharedScan};
use crate::arch::scratch::Pooled;
use crate::layout::{Lane, LaneType};

/// The longest history (items) the small-m path takes; longer ones take the general paths
/// (its mask buffer grows with the history: `QB * (maxd + 1)` masks per 64 items).
// Public only for the tests, through the hidden `eta_hamming::kernel_boundaries`.
pub const SMALL_M_MAX_ITEMS: usize = 32768;

/// Whether `u16` lanes (`9 <= m <= 16`) take the small-m path too. Off: measured 1.3-1.5x
/// slower than the general two-pass path at `m = 16`, `L = 1024`, `B = 256` on AVX2 (the
/// `K`-th distance is 4-5 there: 5-6 thresholds of two compares per 64 items; see
/// `docs/design/scan.md`, "Small m"). The code is generic over the lane type, but with this
/// off its `u16` instantiation is not exercised by the tests (run `tests/small_m.rs` with it
/// on before enabling it).
const U16_LANES: bool = false;

/// Whether the small-m path answers a history of `len` items with lanes of type `T`.
#[inline(always)]
pub(crate) fn applies<T: Lane>(len: usize) -> bool {
    let lanes = T::TYPE == LaneType::U8 || (U16_LANES && T::TYPE == LaneType::U16);
    lanes && len <= SMALL_M_MAX_ITEMS
}

/// The most thresholds of any lane type the path takes (`u16`: `0..=16`).
const MAX_T: usize = 17;

/// The largest distance of one lane of type `T`: all its bits.
#[inline(always)]
fn maxd<T: Lane>() -> usize {
    8 * core::mem::size_of::<T>()
}

/// Slack of the staging row: one whole block's items past `min(K, len)`.
const SLACK: usize = 64;

/// Masks of thresholds `lo..=hi` for `QB` queries (`qv`, broadcast) over `rows`: bit `i` of
/// `masks[j * per_query + t * nblk + b]` set when item `64 b + i` is valid and its distance to
/// query `j` is `<= t` (`nblk = rows.len.div_ceil(64)`). `T > 0`: exactly the thresholds
/// `0..T` (`lo = 0`, `hi = T - 1`), kept in registers; `T = 0`: any range.
///
/// # Safety
/// Every row of `rows` readable at `0..rows.len`, which is `>= 1`; `masks` writable at every
/// such index for `j < QB`, `lo <= t <= hi <= maxd`; the instruction set of `V` is available.
#[inline(always)]
unsafe fn fill<V: Vector, const QB: usize, const T: usize>(
    qv: &[V; QB],
    rows: HistRows<V::Lane>,
    lo: usize,
    hi: usize,
    masks: *mut u64,
    per_query: usize,
) {
    let count = if T > 0 { T } else { hi + 1 - lo };
    debug_assert!(T == 0 || (lo == 0 && hi + 1 == T));
    debug_assert!(hi <= maxd::<V::Lane>() && hi < MAX_T && 64 % V::N == 0);
    let len = rows.len;
    let nblk = len.div_ceil(64);
    let full = len / 64;
    let steps = 64 / V::N;
    let all = u64::MAX >> (64 - V::N);
    // SAFETY: for the whole body, the caller guarantees the rows, the instruction set and
    // every mask written: `j < QB`, `lo <= lo + t <= hi`, `b < nblk`.
    unsafe {
        let mut tv = [V::splat_dist(0); MAX_T];
        for (t, v) in tv[..count].iter_mut().enumerate() {
            *v = V::splat_dist((lo + t + 1) as u32);
        }
        let out = masks.add(lo * nblk);
        let tv = &tv[..count];
        for b in 0..full {
            for s in 0..steps {
                let h = V::load(rows.hist.add(b * 64 + s * V::N));
                step(qv, h, all, s, tv, out.add(b), per_query, nblk);
            }
        }
        if full < nblk {
            for s in 0..steps {
                let start = full * 64 + s * V::N;
                if start >= len {
                    // Nothing of this step exists: its bits stay clear (step 0 always has
                    // items, so every mask was written).
                    break;
                }
                let n = (len - start).min(V::N);
                let p = rows.hist.add(start);
                let o = out.add(full);
                if n == V::N {
                    step(qv, V::load(p), all, s, tv, o, per_query, nblk);
                } else {
                    let h = V::load_partial(p, n);
                    step(qv, h, (1u64 << n) - 1, s, tv, o, per_query, nblk);
                }
            }
        }
    }
}

/// One vector `h` of items (step `s` of a 64-item block, `valid` its items) against the `QB`
/// queries and the thresholds `tv`: the masks at `out + j * per_query + t * nblk`. (A plain
/// function, not a closure: closures are not inlined into the `#[target_feature]` context.)
///
/// # Safety
/// As [`fill`], `out` the block's first mask.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn step<V: Vector, const QB: usize>(
    qv: &[V; QB],
    h: V,
    valid: u64,
    s: usize,
    tv: &[V],
    out: *mut u64,
    per_query: usize,
    nblk: usize,
) {
    let shift = s * V::N;
    // SAFETY: the caller guarantees the masks and the instruction set.
    unsafe {
        for (j, &qj) in qv.iter().enumerate() {
            let d = V::xor_popcnt(h, qj);
            let o = out.add(j * per_query);
            for (t, &tt) in tv.iter().enumerate() {
                let m = (V::lt_mask(d, tt) & valid) << shift;
                let p = o.add(t * nblk);
                p.write(if s == 0 { m } else { p.read() | m });
            }
        }
    }
}

/// [`fill`] of thresholds `0..=g`, with the common small `g` kept in registers.
///
/// # Safety
/// As [`fill`] with `lo = 0`, `hi = g`.
#[inline(always)]
unsafe fn fill_to<V: Vector, const QB: usize>(
    qv: &[V; QB],
    rows: HistRows<V::Lane>,
    g: usize,
    masks: *mut u64,
    per_query: usize,
) {
    // SAFETY: forwarded.
    unsafe {
        match g {
            0 => fill::<V, QB, 1>(qv, rows, 0, 0, masks, per_query),
            1 => fill::<V, QB, 2>(qv, rows, 0, 1, masks, per_query),
            2 => fill::<V, QB, 3>(qv, rows, 0, 2, masks, per_query),
            _ => fill::<V, QB, 0>(qv, rows, 0, g, masks, per_query),
        }
    }
}

/// The threshold guess: the `K`-th distances of the queries answered so far in the call.
struct Guess {
    seen: [u32; MAX_T],
    total: u32,
}

impl Guess {
    fn new() -> Guess {
        Guess {
            seen: [0; MAX_T],
            total: 0,
        }
    }

    /// The smallest `g` that at most a quarter of the answered queries' `kth` exceeded (0
    /// before the first): a threshold more for every query costs about a third of what a
    /// miss costs its query (the distances again, and two thresholds).
    #[inline(always)]
    fn get(&self) -> usize {
        let mut above = self.total;
        for (t, &s) in self.seen.iter().enumerate() {
            above -= s;
            if above * 4 <= self.total {
                return t;
            }
        }
        MAX_T - 1
    }

    #[inline(always)]
    fn record(&mut self, kth: usize) {
        self.seen[kth] += 1;
        self.total += 1;
    }
}

/// Writes one query's `kept = min(K, len)` nearest to `idx`/`dist` (through `stage`, at least
/// `kept + SLACK` slots) from its masks (thresholds `0..=hi` of `nblk` blocks at `masks`);
/// returns its `K`-th distance, or `None`, writing nothing, when that lies above `hi`.
///
/// # Safety
/// `masks..masks + (hi + 1) * nblk` readable, as [`fill`] wrote them for `1 <= kept <= len`
/// items (so the count of threshold `maxd` is `len`); `hi < MAX_T`.
#[inline(always)]
unsafe fn select<V: Vector>(
    masks: *const u64,
    nblk: usize,
    hi: usize,
    kept: usize,
    stage: &mut [u32],
    idx: &mut [u32],
    dist: &mut [u16],
) -> Option<usize> {
    // SAFETY: the caller guarantees `(hi + 1) * nblk` readable masks; `t <= hi` below.
    let le = |t: usize| unsafe { core::slice::from_raw_parts(masks.add(t * nblk), nblk) };
    // `at_most[t]`: items at distance `<= t`.
    let mut at_most = [0usize; MAX_T];
    let mut kth = None;
    for (t, c) in at_most[..=hi].iter_mut().enumerate() {
        *c = le(t).iter().map(|m| m.count_ones() as usize).sum();
        if *c >= kept {
            kth = Some(t);
            break;
        }
    }
    let kth = kth?;
    assert!(stage.len() >= kept + SLACK && idx.len() >= kept && dist.len() >= kept);
    let sp = stage.as_mut_ptr();
    let mut o = 0;
    // Value by value (the output's order), each in index order: every item below `kth`, then
    // the first at `kth` until `kept` are written.
    for v in 0..=kth {
        let below = if v == 0 { 0 } else { at_most[v - 1] };
        let end = at_most[v].min(kept);
        if end == below {
            continue;
        }
        let (cur, prev) = (le(v), le(v.saturating_sub(1)));
        let level = |b: usize| if v == 0 { cur[b] } else { cur[b] & !prev[b] };
        // Invariant: before a block, `o < end`, so its writes, at most 64 from
        // `o`, stay below `kept + SLACK <= stage.len()`; a level stops once `o >= end`, the
        // block that crosses `end` (only at `kth`) leaving spare items in the slack.
        if 2 * (end - below) < nblk {
            // Sparse: bit by bit, skipping empty blocks.
            for b in 0..nblk {
                let mut m = level(b);
                while m != 0 {
                    // SAFETY: the invariant above.
                    unsafe { sp.add(o).write((b * 64) as u32 + m.trailing_zeros()) };
                    o += 1;
                    m &= m - 1;
                }
                if o >= end {
                    break;
                }
            }
        } else {
            // Dense: the vector type's compress, whatever the block holds (it may write up to
            // 64 slots: overwritten or past `kept`).
            for b in 0..nblk {
                // SAFETY: the invariant above (64 slots from `o` writable).
                let n = unsafe { V::compress_indices(level(b), (b * 64) as u32, sp.add(o)) };
                o += n;
                if o >= end {
                    break;
                }
            }
        }
        debug_assert!(
            o >= end,
            "small-m selection: the counts and the masks disagree"
        );
        o = end;
        fill_short(&mut dist[below..end], v as u16);
    }
    copy_short(&mut idx[..kept], &stage[..kept]);
    Some(kth)
}

/// `dst.copy_from_slice(src)` for the few dozen slots of one query's output, without a call:
/// whole 8-slot chunks and one overlapping last chunk. (At `K = 32..50` the `memcpy` call of
/// `copy_from_slice` cost about 7% of a per-query `m = 4` call.)
#[inline(always)]
fn copy_short(dst: &mut [u32], src: &[u32]) {
    const C: usize = 8;
    let n = dst.len();
    if !(C..=8 * C).contains(&n) {
        dst.copy_from_slice(src);
        return;
    }
    // A fixed trip count, unrolled, so that no loop turns back into a `memcpy` call.
    for c in 0..8 {
        if (c + 1) * C <= n {
            dst[c * C..][..C].copy_from_slice(&src[c * C..][..C]);
        }
    }
    dst[n - C..].copy_from_slice(&src[n - C..]);
}

/// `dst.fill(v)` for one query's distances, as [`copy_short`] (16-slot chunks).
#[inline(always)]
fn fill_short(dst: &mut [u16], v: u16) {
    const C: usize = 16;
    let n = dst.len();
    if !(C..=8 * C).contains(&n) {
        dst.fill(v);
        return;
    }
    for c in 0..8 {
        if (c + 1) * C <= n {
            dst[c * C..][..C].copy_from_slice(&[v; C]);
        }
    }
    dst[n - C..].copy_from_slice(&[v; C]);
}

/// The exact-match path, for a query whose `K`-th distance is likely 0: walks the history's
/// 64-item blocks comparing lanes for equality ([`Vector::eq_mask`]: no popcount, no
/// threshold), extracts each block's matches into `stage` ([`Vector::compress_indices`]), and
/// stops at the block where `kept` items have matched: then `kth = 0`, and the output is those
/// first `kept` matches in index order, all at distance 0. At `m = 4`, `K = 32`, `L = 1024`
/// that is about half the history. Returns how many items matched of how many were compared,
/// and whether they were enough: when not, nothing was written to `idx`/`dist` (the caller
/// then answers by thresholds).
///
/// # Safety
/// As [`fill`] for one query (`qv`); `stage` holds at least `kept + SLACK` slots, `idx`/`dist`
/// at least `kept`, `kept >= 1`.
#[inline(always)]
unsafe fn first_matches<V: Vector>(
    qv: V,
    rows: HistRows<V::Lane>,
    kept: usize,
    stage: &mut [u32],
    idx: &mut [u32],
    dist: &mut [u16],
) -> Matches {
    assert!(stage.len() >= kept + SLACK && idx.len() >= kept && dist.len() >= kept);
    let len = rows.len;
    let steps = 64 / V::N;
    let sp = stage.as_mut_ptr();
    let mut o = 0;
    let mut b = 0;
    // Invariant: before a block, `o < kept`, so the block's writes, at most 64 slots from
    // `o`, stay below `kept + SLACK <= stage.len()`.
    while b * 64 < len {
        let start = b * 64;
        let mut m = 0u64;
        for s in 0..steps {
            let i = start + s * V::N;
            if i >= len {
                break;
            }
            let n = (len - i).min(V::N);
            // SAFETY: the row is readable at `i..i + n` (the caller); the partial load reads
            // nothing past `len`, and its zero lanes are cut by `valid`.
            let (h, valid) = unsafe {
                if n == V::N {
                    (V::load(rows.hist.add(i)), u64::MAX >> (64 - V::N))
                } else {
                    (V::load_partial(rows.hist.add(i), n), (1u64 << n) - 1)
                }
            };
            // SAFETY: the instruction set is available (the caller).
            m |= (unsafe { V::eq_mask(h, qv) } & valid) << (s * V::N);
        }
        // SAFETY: the invariant above (64 slots from `o` writable).
        o += unsafe { V::compress_indices(m, start as u32, sp.add(o)) };
        b += 1;
        if o >= kept {
            copy_short(&mut idx[..kept], &stage[..kept]);
            fill_short(&mut dist[..kept], 0);
            return Matches {
                found: true,
                hits: o,
                hits_of: (b * 64).min(len),
            };
        }
    }
    Matches {
        found: false,
        hits: o,
        hits_of: len,
    }
}

/// What [`first_matches`] saw.
struct Matches {
    /// Whether `kept` items matched (and were written).
    found: bool,
    /// Items that matched (distance 0), of the first `hits_of` compared.
    hits: usize,
    /// Items compared.
    hits_of: usize,
}

/// When to try [`first_matches`]: the share of distance-0 items among those it compared so far
/// in the call predicts whether a history of `len` items holds `kept` of them. It is tried on
/// the first query, whenever the prediction says so, and on every 16th query anyway (so that
/// a call whose queries change keeps its estimate current). A failed try costs one pass of
/// lane compares, without popcounts; a success saves the popcounts and the thresholds.
struct MatchRate {
    hits: usize,
    items: usize,
}

impl MatchRate {
    fn new() -> MatchRate {
        MatchRate { hits: 0, items: 0 }
    }

    #[inline(always)]
    fn worth(&self, len: usize, kept: usize, nth: usize) -> bool {
        self.items == 0 || nth.is_multiple_of(16) || self.hits * len >= kept * self.items
    }

    #[inline(always)]
    fn record(&mut self, m: &Matches) {
        self.hits += m.hits;
        self.items += m.hits_of;
    }
}

/// Answers one query whose masks (thresholds `0..=g` at `masks`) are filled: selects, and on
/// a miss fills the missing thresholds of this query alone and selects again. Returns `kth`.
///
/// # Safety
/// As [`fill`] for one query (`qv`) with `masks` its `(maxd + 1) * nblk` masks; `kept >= 1`.
#[inline(always)]
#[allow(clippy::too_many_arguments)]
unsafe fn answer<V: Vector>(
    qv: V,
    rows: HistRows<V::Lane>,
    g: usize,
    kept: usize,
    masks: *mut u64,
    stage: &mut [u32],
    idx: &mut [u32],
    dist: &mut [u16],
) -> usize {
    let maxd = maxd::<V::Lane>();
    let nblk = rows.len.div_ceil(64);
    let mut hi = g;
    loop {
        // SAFETY: thresholds `0..=hi` filled; the count of `maxd` is `len >= kept`, so the
        // loop ends by `hi = maxd` at the latest.
        if let Some(kth) = unsafe { select::<V>(masks, nblk, hi, kept, stage, idx, dist) } {
            return kth;
        }
        debug_assert!(hi < maxd, "small-m: no K-th distance up to maxd");
        let next = (2 * hi + 2).min(maxd);
        // SAFETY: forwarded; thresholds `hi + 1..=next <= maxd` of this query's masks.
        unsafe { fill::<V, 1, 0>(&[qv], rows, hi + 1, next, masks, 0) };
        hi = next;
    }
}

/// Top-K over a shared history of one `u8` or `u16` lane by histogram, `QB` queries per pass.
///
/// Repeated query codes are answered once: with `u8` lanes a query takes at most 256 values
/// (16 at `m = 4`), so a call of many queries repeats them, and equal queries over one history
/// have equal answers. The distinct codes are answered in order of first appearance; every
/// repeat copies its first occurrence's output.
///
/// # Safety
/// As [`super::topk_shared`], with [`applies`] true and one lane (`W` is 1 or 0).
#[inline(always)]
pub(crate) unsafe fn topk_shared<V: Vector, const QB: usize, const W: usize>(
    a: &SharedScan<'_, V::Lane>,
    k: usize,
    idx: &mut [u32],
    dist: &mut [u16],
) {
    let len = a.len;
    if len == 0 || a.nq == 0 {
        return;
    }
    debug_assert!(a.lanes == 1 && W <= 1);
    let rows = HistRows {
        hist: a.hist.as_ptr(),
        lanes: 1,
        stride: a.stride,
        len,
    };
    let kept = k.min(len);
    // The queries to answer: `pick[..count]` (the first occurrence of each `u8` code), else
    // every query in order.
    let dedup = V::Lane::TYPE == LaneType::U8;
    let mut first = [u32::MAX; 256];
    let mut pick = [0u32; 256];
    let mut count = a.nq;
    if dedup {
        count = 0;
        for (b, q) in a.q[..a.nq].iter().enumerate() {
            let c = q.to_u64() as usize & 0xFF;
            if first[c] == u32::MAX {
                first[c] = b as u32;
                pick[count] = b as u32;
                count += 1;
            }
        }
    }
    // Query `i` of the ones answered. (A plain fn, not a closure: closures are not inlined
    // into the instruction set.)
    #[inline(always)]
    fn query(dedup: bool, pick: &[u32; 256], i: usize) -> usize {
        if dedup {
            pick[i] as usize
        } else {
            i
        }
    }
    let per_query = (maxd::<V::Lane>() + 1) * len.div_ceil(64);
    let mut masks = Pooled::<u64>::take(QB.min(count) * per_query);
    let mut stage = Pooled::<u32>::take(kept + SLACK);
    let mp = masks.as_mut_ptr();
    let mut guess = Guess::new();
    let mut rate = MatchRate::new();
    let mut i0 = 0;
    while i0 < count {
        let g = guess.get();
        if rate.worth(len, kept, i0) {
            // `kth = 0` likely: this query alone by exact matches, which stop early, else by
            // its thresholds `0..=g`.
            let b = query(dedup, &pick, i0);
            let (idx, dist) = (&mut idx[b * k..][..kept], &mut dist[b * k..][..kept]);
            // SAFETY: SharedScan's invariants: query `b` of one lane, the rows readable at
            // `0..len`; `masks` holds at least one query's masks.
            let kth = unsafe {
                let qv = V::splat(a.q[b]);
                let m = first_matches::<V>(qv, rows, kept, &mut stage, idx, dist);
                rate.record(&m);
                if m.found {
                    0
                } else {
                    fill_to::<V, 1>(&[qv], rows, g, mp, per_query);
                    answer::<V>(qv, rows, g, kept, mp, &mut stage, idx, dist)
                }
            };
            guess.record(kth);
            i0 += 1;
            continue;
        }
        if i0 + QB <= count {
            // SAFETY: SharedScan's invariants: `QB` queries of one lane. (A loop, not
            // `array::from_fn`: its closure would not inline into the instruction set.)
            let mut qv = [unsafe { V::splat(a.q[query(dedup, &pick, i0)]) }; QB];
            for (j, v) in qv.iter_mut().enumerate().skip(1) {
                // SAFETY: as above.
                *v = unsafe { V::splat(a.q[query(dedup, &pick, i0 + j)]) };
            }
            // SAFETY: the rows readable at `0..len`; `masks` holds `QB` queries' masks.
            unsafe { fill_to::<V, QB>(&qv, rows, g, mp, per_query) };
            for (j, &qj) in qv.iter().enumerate() {
                let b = query(dedup, &pick, i0 + j);
                let (idx, dist) = (&mut idx[b * k..][..kept], &mut dist[b * k..][..kept]);
                // SAFETY: query `j`'s own masks, thresholds `0..=g` filled.
                let kth = unsafe {
                    let m = mp.add(j * per_query);
                    answer::<V>(qj, rows, g, kept, m, &mut stage, idx, dist)
                };
                guess.record(kth);
            }
            i0 += QB;
        } else {
            let b = query(dedup, &pick, i0);
            // SAFETY: as above, one query.
            let qv = [unsafe { V::splat(a.q[b]) }];
            let (idx, dist) = (&mut idx[b * k..][..kept], &mut dist[b * k..][..kept]);
            // SAFETY: as above.
            let kth = unsafe {
                fill_to::<V, 1>(&qv, rows, g, mp, per_query);
                answer::<V>(qv[0], rows, g, kept, mp, &mut stage, idx, dist)
            };
            guess.record(kth);
            i0 += 1;
        }
    }
    if dedup && count < a.nq {
        for (b, q) in a.q[..a.nq].iter().enumerate() {
            let f = first[q.to_u64() as usize & 0xFF] as usize;
            if f != b {
                idx.copy_within(f * k..f * k + kept, b * k);
                dist.copy_within(f * k..f * k + kept, b * k);
            }
        }
    }
}

/// Top-K over per-query histories of one `u8` or `u16` lane by histogram, one query at a time.
///
/// # Safety
/// As [`super::topk_batch`], with [`applies`] true for the longest history and one lane (`W`
/// is 1 or 0).
#[inline(always)]
pub(crate) unsafe fn topk_batch<V: Vector, const W: usize>(
    a: &BatchScan<'_, V::Lane>,
    k: usize,
    idx: &mut [u32],
    dist: &mut [u16],
) {
    let longest = a.lens.iter().max().map_or(0, |&l| l as usize);
    if longest == 0 {
        return;
    }
    debug_assert!(a.lanes == 1 && W <= 1);
    let per_query = (maxd::<V::Lane>() + 1) * longest.div_ceil(64);
    let mut masks = Pooled::<u64>::take(per_query);
    let mut stage = Pooled::<u32>::take(k.min(longest) + SLACK);
    let mp = masks.as_mut_ptr();
    let history = |b: usize| HistRows {
        hist: a.hists[b * a.stride..].as_ptr(),
        lanes: 1,
        stride: a.stride,
        len: a.lens[b] as usize,
    };
    let mut guess = Guess::new();
    let mut rate = MatchRate::new();
    for b in 0..a.nq {
        let len = a.lens[b] as usize;
        if len == 0 {
            continue; // its history may lie beyond the end of `hists`
        }
        let kept = k.min(len);
        let (idx, dist) = (&mut idx[b * k..][..kept], &mut dist[b * k..][..kept]);
        let rows = history(b);
        let g = guess.get();
        // SAFETY: BatchScan's invariants: query `b` of one lane, history `b` readable at
        // `0..lens[b]`; `masks` holds one query's masks of the longest history.
        let kth = unsafe {
            let qv = [V::splat(a.q[b])];
            let found = rate.worth(len, kept, b) && {
                let m = first_matches::<V>(qv[0], rows, kept, &mut stage, idx, dist);
                rate.record(&m);
                m.found
            };
            if found {
                0
            } else {
                fill_to::<V, 1>(&qv, rows, g, mp, per_query);
                prefetch((b + 1 < a.nq && a.lens[b + 1] > 0).then(|| history(b + 1)));
                answer::<V>(qv[0], rows, g, kept, mp, &mut stage, idx, dist)
            }
        };
        guess.record(kth);
    }
}
