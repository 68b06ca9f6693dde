//! The top-K state of the streaming path ([`Topk`], one per query, and the [`Scratch`] its
//! buffers come from): the bounded top-K every SIMD kernel feeds: an exact running threshold, a
//! candidate buffer in index order, and a counting sort at the end. No comparison sort anywhere.
//!
//! Distances take only `maxd + 1` values (`maxd = lanes * lane_bits <= 4096`), and a history is
//! scanned in increasing index order, so the contract's key order `(distance, index)` needs no
//! index comparison at all: among equal distances the earlier item always wins.
//!
//! Per query the state keeps:
//! - `thr`: a new item is a candidate exactly when its distance is `< thr`. While fewer than `K`
//!   items have been seen, `thr = maxd + 1` (everything qualifies); afterwards `thr` is the
//!   distance of the current `K`-th best, which an item seen later can only beat with a smaller
//!   distance (it loses every tie by index). The SIMD scan compares a whole vector of distances
//!   against `thr` at once and calls [`Topk::take`] only with the mask of survivors.
//! - `cnt[d]`: for every `d < thr`, how many items of distance `d` were seen (exact: every such
//!   item was a survivor, since `thr` only decreases). `c_lt = sum(cnt[d], d < thr)`. When a
//!   survivor makes `c_lt` reach `K`, those `K` items are the best `K`, their largest distance is
//!   the new `thr`, found by walking `cnt` down (amortised `O(maxd)` per query in total).
//! - `keys`: every survivor as `(distance << 32) | index`, appended in index order. When the
//!   buffer passes its limit (at least `2K`), a stable filter keeps the best `K` (all keys below
//!   `thr`, then the first `K - c_lt` keys at `thr`): `O(buffer)` per compaction, amortised
//!   `O(1)` per survivor.
//!
//! At the end, a counting sort over `cnt` (prefix sums) places the kept keys by distance; being
//! stable over a buffer in index order, it yields exactly the `(distance, index)` order.

use crate::arch::scratch::Pooled;

/// Scratch storage for the top-K of `groups` queries at once (one pooled vector of each kind).
pub(crate) struct Scratch {
    keys: Pooled<u64>,
    cnt: Pooled<u32>,
    /// Keys per query slot (the compaction limit plus one vector of slack).
    key_cap: usize,
    /// Compact when a query holds more than this many keys.
    limit: usize,
    /// `maxd + 1`: the number of distinct distances.
    bins: usize,
    k: usize,
}

/// The most items (and so survivors) one vector holds.
pub(crate) const MAX_VECTOR_ITEMS: usize = 64;

/// Slack after a key buffer's compaction limit: one vector of survivors.
pub(crate) const KEY_SLACK: usize = MAX_VECTOR_ITEMS;

impl Scratch {
    /// Storage for `groups` queries, top-`k` over at most `len` items of distance `<= maxd`.
    pub(crate) fn new(groups: usize, k: usize, len: usize, maxd: usize) -> Scratch {
        let limit = k.saturating_mul(2).max(k.saturating_add(MAX_VECTOR_ITEMS));
        // A buffer never holds more keys than items seen, so `len` bounds it too.
        let key_cap = limit.min(len) + KEY_SLACK;
        let bins = maxd + 1;
        Scratch {
            keys: Pooled::take(groups * key_cap),
            cnt: Pooled::take(groups * bins),
            key_cap,
            limit,
            bins,
            k,
        }
    }

    /// Top-K states for all `groups` query slots (each fresh; [`Topk::reset`] reuses one), in a
    /// vector kept per thread (no allocation after the thread's first call).
    pub(crate) fn states(&mut self) -> States<'_> {
        let (k, limit, bins) = (self.k, self.limit, self.bins);
        let keys = self.keys.chunks_exact_mut(self.key_cap);
        let cnt = self.cnt.chunks_exact_mut(bins);
        let mut v = States::spare();
        v.extend(keys.zip(cnt).map(|(keys, cnt)| {
            cnt.fill(0);
            Topk {
                keys,
                cnt,
                n: 0,
                thr: bins as u32,
                cap: bins as u32,
                c_lt: 0,
                k,
                limit,
            }
        }));
        States(v)
    }
}

thread_local! {
    /// The empty vector [`States`] reuses: its capacity only (the type's lifetime is a
    /// placeholder, no element is ever stored here).
    static SPARE_STATES: core::cell::Cell<Vec<Topk<'static>>> = const { core::cell::Cell::new(Vec::new()) };
}

/// The per-query states of one call ([`Scratch::states`]); gives its (emptied) vector back to
/// the thread when dropped.
pub(crate) struct States<'a>(Vec<Topk<'a>>);

/// Gives this thread's spare states vector room for `GROUP` queries (the most one call's
/// [`Scratch`] holds), so that a pool worker that meets a larger query block for the first time
/// late does not allocate then (the pool workers call it when they start, beside
/// `scratch::prewarm`).
pub(crate) fn prewarm_states() {
    let _ = SPARE_STATES.try_with(|c| {
        let mut v = c.take();
        v.reserve(super::stream::GROUP);
        c.set(v);
    });
}

impl<'a> States<'a> {
    /// The thread's spare vector (empty), or a new one (the first call, or a nested one).
    fn spare() -> Vec<Topk<'a>> {
        let v = SPARE_STATES.try_with(|c| c.take()).unwrap_or_default();
        debug_assert!(v.is_empty());
        let mut v = core::mem::ManuallyDrop::new(v);
        // SAFETY: `v` is empty, so only its allocation changes type: `Topk<'static>` and
        // `Topk<'a>` differ in a lifetime only, hence have the same size and alignment.
        unsafe { Vec::from_raw_parts(v.as_mut_ptr().cast::<Topk<'a>>(), 0, v.capacity()) }
    }
}

impl Drop for States<'_> {
    fn drop(&mut self) {
        self.0.clear();
        let mut v = core::mem::ManuallyDrop::new(core::mem::take(&mut self.0));
        // SAFETY: as in `States::spare`: an empty vector whose element type changes lifetime.
        let v =
            unsafe { Vec::from_raw_parts(v.as_mut_ptr().cast::<Topk<'static>>(), 0, v.capacity()) };
        // A thread being torn down has no spare any more: the vector is simply freed.
        let _ = SPARE_STATES.try_with(|c| c.set(v));
    }
}

impl<'a> core::ops::Deref for States<'a> {
    type Target = [Topk<'a>];
    fn deref(&self) -> &[Topk<'a>] {
        &self.0
    }
}

impl<'a> core::ops::DerefMut for States<'a> {
    fn deref_mut(&mut self) -> &mut [Topk<'a>] {
        &mut self.0
    }
}

/// The top-K state of one query (see the module docs).
pub(crate) struct Topk<'a> {
    keys: &'a mut [u64],
    cnt: &'a mut [u32],
    n: usize,
    /// Candidates need a distance `< thr`.
    thr: u32,
    /// An upper bound on the final threshold plus one, from a pre-pass ([`Topk::set_cap`]).
    cap: u32,
    c_lt: usize,
    k: usize,
    limit: usize,
}

impl Topk<'_> {
    /// Back to the fresh state (no item seen).
    #[inline]
    pub(crate) fn reset(&mut self) {
        self.cnt.fill(0);
        self.n = 0;
        self.thr = self.cnt.len() as u32;
        self.cap = self.thr;
        self.c_lt = 0;
    }

    /// `K`.
    #[inline(always)]
    pub(crate) fn k(&self) -> usize {
        self.k
    }

    /// The key and count buffers, lent to the two-pass path ([`super::two_pass`]); the state
    /// must be [`Topk::reset`] before it serves a scan again. The key buffer holds
    /// `min(len, limit) + KEY_SLACK` keys (more than `K` when `K <= len`); the counts `maxd + 1`.
    #[inline(always)]
    pub(crate) fn buffers(&mut self) -> (&mut [u64], &mut [u32]) {
        (self.keys, self.cnt)
    }

    /// The vector filter: an item can only enter the top-K with a distance `< filter()`.
    #[inline(always)]
    pub(crate) fn filter(&self) -> u32 {
        self.thr.min(self.cap)
    }

    /// Declares (before any item is offered) that at least `K` items of this history have a
    /// distance `<= t`, so no item of distance `> t` can be among the best `K`: the filter drops
    /// them from the start. Items below the cap still all reach [`Topk::take`], in index order,
    /// so `cnt` stays exact below the threshold and the result is unchanged.
    #[inline]
    pub(crate) fn set_cap(&mut self, t: u32) {
        self.cap = self.cap.min(t + 1);
    }

    /// Offers the items `base + j` for every set bit `j` of `mask` (ascending), whose distances
    /// are `d[j]` (each `< filter()` when the mask was made). `mask` holds at most
    /// [`MAX_VECTOR_ITEMS`] bits, all below `d.len()`; indices fit `u32`.
    #[inline]
    pub(crate) fn take(&mut self, d: &[u16], base: usize, mut mask: u64) {
        while mask != 0 {
            let j = mask.trailing_zeros() as usize;
            mask &= mask - 1;
            let dj = u32::from(d[j]);
            if dj < self.thr {
                self.keys[self.n] = (u64::from(dj) << 32) | (base + j) as u64;
                self.n += 1;
                self.cnt[dj as usize] += 1;
                self.c_lt += 1;
                if self.c_lt == self.k {
                    self.lower();
                }
            }
        }
        if self.n > self.limit {
            self.compact();
        }
    }

    /// `c_lt` reached `K`: the best `K` are exactly the items below `thr`; the largest of their
    /// distances becomes the threshold.
    #[cold]
    fn lower(&mut self) {
        let mut t = self.thr as usize - 1;
        while self.cnt[t] == 0 {
            t -= 1;
        }
        self.thr = t as u32;
        self.c_lt = self.k - self.cnt[t] as usize;
    }

    /// Keeps the best `K` keys, in index order (only called once `K` items have been seen,
    /// since before that the buffer holds fewer than `K <= limit` keys).
    #[cold]
    fn compact(&mut self) {
        let thr = u64::from(self.thr);
        let mut eq_left = self.k - self.c_lt;
        let mut w = 0;
        for r in 0..self.n {
            let key = self.keys[r];
            let d = key >> 32;
            let eq = d == thr && eq_left > 0;
            eq_left -= usize::from(eq);
            self.keys[w] = key;
            w += usize::from(d < thr || eq);
        }
        self.n = w;
    }

    /// Writes the `min(k, items seen)` best, sorted by `(distance, index)`, to `idx`/`dist`.
    pub(crate) fn finish(&mut self, idx: &mut [u32], dist: &mut [u16]) {
        let thr = self.thr as usize;
        let bins = thr.min(self.cnt.len());
        // Prefix sums: `cnt[d]` becomes the first output slot of distance `d`.
        let mut s = 0u32;
        for c in &mut self.cnt[..bins] {
            let here = *c;
            *c = s;
            s += here;
        }
        // Slots `s..k` go to the first keys at distance `thr` (none exist before `K` items).
        let mut eq = s as usize;
        for &key in &self.keys[..self.n] {
            let d = (key >> 32) as usize;
            let slot = if d < thr {
                let p = self.cnt[d] as usize;
                self.cnt[d] += 1;
                p
            } else if d == thr && eq < self.k {
                eq += 1;
                eq - 1
            } else {
                continue;
            };
            idx[slot] = key as u32;
            dist[slot] = d as u16;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn reference(ds: &[u16], k: usize) -> Vec<(u16, u32)> {
        let mut v: Vec<(u16, u32)> = ds.iter().enumerate().map(|(i, &d)| (d, i as u32)).collect();
        v.sort();
        v.truncate(k);
        v
    }

    fn run(ds: &[u16], k: usize, maxd: usize, chunk: usize) -> Vec<(u16, u32)> {
        let mut s = Scratch::new(1, k, ds.len(), maxd);
        let mut tops = s.states();
        let t = &mut tops[0];
        for (c, part) in ds.chunks(chunk).enumerate() {
            let mut d = [0u16; MAX_VECTOR_ITEMS];
            d[..part.len()].copy_from_slice(part);
            let mut mask = 0u64;
            for (j, &x) in part.iter().enumerate() {
                mask |= u64::from(u32::from(x) < t.filter()) << j;
            }
            t.take(&d, c * chunk, mask);
        }
        let n = k.min(ds.len());
        let (mut idx, mut dist) = (vec![0u32; n], vec![0u16; n]);
        t.finish(&mut idx, &mut dist);
        dist.into_iter().zip(idx).collect()
    }

    #[test]
    fn matches_a_sort_on_every_small_shape() {
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for len in [0usize, 1, 2, 5, 63, 64, 65, 300, 1000] {
            for maxd in [0usize, 1, 8, 64, 4096] {
                for k in [1usize, 2, 7, 64, 65, 200, 1000, 2000] {
                    for chunk in [1usize, 8, 64] {
                        let ds: Vec<u16> = (0..len)
                            .map(|_| {
                                x ^= x << 13;
                                x ^= x >> 7;
                                x ^= x << 17;
                                (x % (maxd as u64 + 1)) as u16
                            })
                            .collect();
                        assert_eq!(
                            run(&ds, k, maxd, chunk),
                            reference(&ds, k),
                            "len={len} maxd={maxd} k={k} chunk={chunk}"
                        );
                        let desc: Vec<u16> = (0..len)
                            .map(|i| (maxd - i * maxd / len.max(1)) as u16)
                            .collect();
                        assert_eq!(run(&desc, k, maxd, chunk), reference(&desc, k));
                    }
                }
            }
        }
    }
}
