//! One call spread over several threads, with the same results as one thread: [`Parallel`]
//! (made by [`Engine::parallel`]), and how it cuts a call into parts for the pool
//! (`workers::pool`).
//!
//! Strategy:
//! - **Many queries** (`B >= threads`): the queries are cut into `threads` contiguous ranges and
//!   each part runs the single-threaded scan on its range, writing its own rows of the output.
//!   Nothing is shared but the read-only history.
//! - **Few queries, long history** (one user, one candidate, a very long history): the history is
//!   cut into `threads` contiguous item ranges, each part keeps the top-K of its range for every
//!   query, and the partial lists are merged by `(distance, index)` (indices offset by the range
//!   start). Every item of the global top-K is in the top-K of its own range, so the merge is
//!   exact.
//! - Per-query histories always split by queries (each query owns its history), into ranges of
//!   near-equal total length (plus a per-query cost), so that unequal histories still balance.
//!
//! The parts run on a process-wide pool of worker threads, started on the first call that
//! splits, with one worker per core but one (`std::thread::available_parallelism() - 1`): the
//! calling thread always runs parts too. Workers live for the rest of the process and keep their
//! per-thread kernel scratch warm. Parts are claimed one at a time by whichever thread is free,
//! the caller included, so a call never waits for a worker to start: when all workers are busy
//! (other callers) or asleep and slow to wake, the caller runs the remaining parts itself. A
//! call returns only when all of its parts have finished, so parts borrow the caller's buffers.
//! Any number of threads may call at once (their parts queue, oldest first); a call made from
//! inside another call's part (on a worker) works the same way. A panic in a part is caught and
//! returned as [`Error::Internal`], and the pool goes on working.
//!
//! `threads = 0` means every core but at most one thread per [`MIN_WORK_PER_THREAD`]
//! comparisons (more while the pool sleeps), so small calls stay on the caller's thread; an
//! explicit count is honoured up to 1024 parts (more parts than the pool has threads simply wait
//! their turn). What a split costs, as measured, and why these thresholds:
//! `docs/design/workers.md`.

use super::pool;
use crate::dispatch::Engine;
use crate::error::{Error, Result};
use crate::fingerprints::{FingerprintsRef, HistoryBatchRef, HistoryRef};
use crate::layout::{EMPTY_DISTANCE, EMPTY_INDEX};
use crate::search::{check_topk_batch, check_topk_shared};

/// With `threads = 0`, each thread gets at least this many fingerprint comparisons while a pool
/// worker is awake (it finished a part within the last 100 µs), and 64 times as many (2^21,
/// about 200 µs of scan) while every worker is asleep. A call's work counts `B * (L + 1024)`
/// comparisons for a shared history and the sum of `lens[q] + 1024` for per-query histories (the
/// 1024: each query's top-K set-up and sort). The measurements behind both figures are in
/// `docs/design/workers.md`; `cargo run --release --example split_cost -- [GAP_US]` measures
/// them on the machine at hand.
pub const MIN_WORK_PER_THREAD: usize = 1 << 15;

/// `threads = 0` while every pool worker is asleep asks this many times
/// [`MIN_WORK_PER_THREAD`] per thread (see there).
const COLD_FACTOR: usize = 64;

/// Threads for a call of `work` comparisons (see [`MIN_WORK_PER_THREAD`]): an explicit request is
/// honoured up to [`MAX_PARTS`]; `0` picks every core, but no more than one per
/// [`MIN_WORK_PER_THREAD`] (or [`COLD_FACTOR`] times that while the pool sleeps).
fn thread_count(requested: usize, work: usize) -> usize {
    if requested == 0 {
        let per = if pool::awake() {
            MIN_WORK_PER_THREAD
        } else {
            MIN_WORK_PER_THREAD * COLD_FACTOR
        };
        pool::cores().min(work / per).max(1)
    } else {
        requested.min(MAX_PARTS)
    }
}

/// The most parts one call is cut into: an explicit thread count above it counts as this many.
/// Parts beyond the pool's size only queue; this bounds the per-part buffers of a history
/// split (`threads * B * K` entries) against an absurd request.
const MAX_PARTS: usize = 1024;

/// What one query costs beyond its history's items, in comparisons (see
/// [`MIN_WORK_PER_THREAD`]); also used to balance per-query histories of unequal lengths.
const QUERY_COST: usize = 1024;

/// `n` queries cut into `parts` contiguous ranges of near-equal total `cost` (`total` in all),
/// none empty.
fn balanced(
    n: usize,
    parts: usize,
    total: usize,
    cost: impl Fn(usize) -> usize,
) -> Vec<(usize, usize)> {
    let mut ranges = Vec::with_capacity(parts);
    let (mut start, mut acc) = (0usize, 0usize);
    for i in 0..parts {
        // Close part `i` once its cumulative cost reaches its share, leaving one query for each
        // later part.
        let goal = (total as u128 * (i as u128 + 1) / parts as u128) as usize;
        let mut end = start + 1;
        acc = acc.saturating_add(cost(start));
        while end < n - (parts - 1 - i) && acc < goal {
            acc = acc.saturating_add(cost(end));
            end += 1;
        }
        if i == parts - 1 {
            end = n;
        }
        ranges.push((start, end - start));
        start = end;
    }
    ranges
}

/// Start and length of part `i` of `n` items cut into `parts` near-equal contiguous ranges.
fn part(n: usize, parts: usize, i: usize) -> (usize, usize) {
    let start = n * i / parts;
    (start, n * (i + 1) / parts - start)
}

/// An [`Engine`] whose scans are spread over up to `threads` threads (0: all available), made
/// by [`Engine::parallel`]. Same results, same errors, whatever the thread count.
#[derive(Clone, Copy, Debug)]
pub struct Parallel {
    engine: Engine,
    threads: usize,
}

impl Engine {
    /// This engine's scans on up to `threads` threads (0: all available; see the module docs):
    /// `engine.parallel(threads).topk_shared(...)`.
    pub fn parallel(self, threads: usize) -> Parallel {
        Parallel {
            engine: self,
            threads,
        }
    }
}

impl Parallel {
    /// [`Engine::topk_shared`] on up to `threads` threads. Same result, same errors, whatever
    /// the thread count.
    pub fn topk_shared(
        &self,
        queries: FingerprintsRef<'_>,
        history: HistoryRef<'_>,
        k: usize,
        idx: &mut [u32],
        dist: &mut [u16],
    ) -> Result<usize> {
        let (b, l) = (queries.len(), history.len());
        let t = thread_count(self.threads, b.saturating_mul(l.saturating_add(QUERY_COST)));
        // Few queries and more items than queries: cut the history; else cut the queries.
        // A part gets at least one query or one item.
        let by_history = b < t && l > b;
        let parts = if by_history { t.min(l) } else { t.min(b) };
        if parts <= 1 {
            return self.engine.topk_shared(queries, history, k, idx, dist);
        }
        // Validate everything once, up front, so that no part can fail after another wrote.
        let needed = check_topk_shared(queries, history, k, idx, dist)?;
        let (idx, dist) = (&mut idx[..needed], &mut dist[..needed]);
        if by_history {
            self.split_history(parts, queries, history, k, idx, dist)?;
        } else {
            let ranges: Vec<(usize, usize)> = (0..parts).map(|i| part(b, parts, i)).collect();
            split_queries(&ranges, k, idx, dist, None, |range, ri, rd, _| {
                (self.engine)
                    .topk_shared(queries.slice(range.0, range.1), history, k, ri, rd)
                    .map(|_| ())
            })?;
        }
        Ok(k.min(l))
    }

    /// [`Engine::topk_batch`] on up to `threads` threads, split by queries.
    pub fn topk_batch(
        &self,
        queries: FingerprintsRef<'_>,
        histories: HistoryBatchRef<'_>,
        k: usize,
        idx: &mut [u32],
        dist: &mut [u16],
        filled: &mut [u32],
    ) -> Result<()> {
        let b = queries.len();
        // The work is what the histories hold, plus a per-query cost.
        let lens = histories.lens();
        let cost = |q: usize| lens.get(q).map_or(0, |&n| n as usize) + QUERY_COST;
        let work = (0..b).map(cost).fold(0usize, usize::saturating_add);
        let t = thread_count(self.threads, work).min(b);
        if t <= 1 {
            return self
                .engine
                .topk_batch(queries, histories, k, idx, dist, filled);
        }
        let needed = check_topk_batch(queries, histories, k, idx, dist, filled)?;
        let (idx, dist) = (&mut idx[..needed], &mut dist[..needed]);
        let ranges = balanced(b, t, work, cost);
        split_queries(
            &ranges,
            k,
            idx,
            dist,
            Some(&mut filled[..b]),
            |range, ri, rd, f| {
                let f = f.ok_or(Error::Internal)?;
                self.engine.topk_batch(
                    queries.slice(range.0, range.1),
                    histories.slice(range.0, range.1),
                    k,
                    ri,
                    rd,
                    f,
                )
            },
        )
    }

    /// Few queries, long history: per-range top-K in each part, then an exact merge.
    fn split_history(
        &self,
        t: usize,
        queries: FingerprintsRef<'_>,
        history: HistoryRef<'_>,
        k: usize,
        idx: &mut [u32],
        dist: &mut [u16],
    ) -> Result<()> {
        let (b, l) = (queries.len(), history.len());
        let ranges: Vec<(usize, usize)> = (0..t).map(|i| part(l, t, i)).collect();
        let partials = pool::map(ranges, |(start, len)| {
            let (mut pi, mut pd) = (vec![0u32; b * k], vec![0u16; b * k]);
            (self.engine).topk_shared(queries, history.slice(start, len), k, &mut pi, &mut pd)?;
            Ok((start, pi, pd))
        })?
        .into_iter()
        .collect::<Result<Vec<(usize, Vec<u32>, Vec<u16>)>>>()?;
        let mut keys: Vec<u64> = Vec::with_capacity(t * k);
        for q in 0..b {
            keys.clear();
            for (start, pi, pd) in &partials {
                let row = q * k..(q + 1) * k;
                for (&i, &d) in pi[row.clone()].iter().zip(&pd[row]) {
                    if i != EMPTY_INDEX {
                        keys.push((u64::from(d) << 32) | (i as u64 + *start as u64));
                    }
                }
            }
            keys.sort_unstable();
            let (ri, rd) = (&mut idx[q * k..(q + 1) * k], &mut dist[q * k..(q + 1) * k]);
            for j in 0..k {
                match keys.get(j) {
                    Some(&key) => {
                        ri[j] = key as u32;
                        rd[j] = (key >> 32) as u16;
                    }
                    None => {
                        ri[j] = EMPTY_INDEX;
                        rd[j] = EMPTY_DISTANCE;
                    }
                }
            }
        }
        Ok(())
    }
}

/// Runs `f` on the pool, one part per query range `(start, length)` of `ranges` (contiguous,
/// in order, from 0), each with its own rows of `idx`/`dist` and, when given, its own part of
/// `filled`. Returns the first error (all parts validate the same shapes, so in practice either
/// all fail or none).
fn split_queries<F>(
    ranges: &[(usize, usize)],
    k: usize,
    idx: &mut [u32],
    dist: &mut [u16],
    mut filled: Option<&mut [u32]>,
    f: F,
) -> Result<()>
where
    F: Fn((usize, usize), &mut [u32], &mut [u16], Option<&mut [u32]>) -> Result<()> + Sync,
{
    let mut jobs = Vec::with_capacity(ranges.len());
    let (mut ri, mut rd) = (idx, dist);
    for &(start, len) in ranges {
        let (hi, ti) = ri.split_at_mut(len * k);
        let (hd, td) = rd.split_at_mut(len * k);
        let hf = match filled.take() {
            Some(fl) => {
                let (h, rest) = fl.split_at_mut(len);
                filled = Some(rest);
                Some(h)
            }
            None => None,
        };
        jobs.push(((start, len), hi, hd, hf));
        ri = ti;
        rd = td;
    }
    pool::map(jobs, |(r, i, d, fl)| f(r, i, d, fl))?
        .into_iter()
        .collect::<Result<()>>()
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::dispatch::Isa;
    use crate::fingerprints::{Fingerprints, History, HistoryBatch};
    use crate::simhash::SplitMix64;

    fn fps(n: usize, seed: u64, distinct: u64) -> Fingerprints {
        let mut f = Fingerprints::zeroed(64, n).unwrap();
        let mut r = SplitMix64::new(seed);
        let pool: Vec<u64> = (0..distinct).map(|_| r.next()).collect();
        for (i, x) in f.lanes_mut::<u64>().unwrap().iter_mut().enumerate() {
            *x = pool[(i * 7919) % pool.len()];
        }
        f
    }

    #[test]
    fn balanced_ranges_cover_every_query_once() {
        for n in 1..40usize {
            for parts in 1..=n.min(9) {
                for skew in 0..3usize {
                    let cost = |q: usize| match skew {
                        0 => 1,
                        1 => q * q,
                        _ => usize::from(q == n / 2) * 1000 + 1,
                    };
                    let total = (0..n).map(cost).sum();
                    let r = balanced(n, parts, total, cost);
                    assert_eq!(r.len(), parts, "n={n} parts={parts} skew={skew}");
                    let mut next = 0;
                    for &(start, len) in &r {
                        assert!(start == next && len > 0, "n={n} parts={parts} {r:?}");
                        next += len;
                    }
                    assert_eq!(next, n, "n={n} parts={parts} {r:?}");
                }
            }
        }
        // Unequal histories: the cut falls right after the long one.
        let lens = [10usize, 10, 10, 1000, 10, 10];
        let r = balanced(6, 2, 1050, |q| lens[q]);
        assert_eq!(r, vec![(0, 4), (4, 2)]);
    }

    /// Parallel calls made from inside pool parts, most of them running on pool workers while
    /// their callers wait: the nested calls split again and must finish with one thread's
    /// results.
    #[test]
    fn nested_par_calls_match_one_thread() {
        let engine = Engine::new(Isa::detect()).unwrap();
        let (k, kb) = (16, 8);
        let h = History::from_fingerprints(fps(20_000, 1, 300).view()).unwrap();
        let qs = [fps(1, 2, 1), fps(2, 3, 2), fps(30, 4, 30)];
        let want: Vec<(Vec<u32>, Vec<u16>)> = qs
            .iter()
            .map(|q| {
                let (mut i, mut d) = (vec![0u32; q.len() * k], vec![0u16; q.len() * k]);
                engine
                    .topk_shared(q.view(), h.view(), k, &mut i, &mut d)
                    .unwrap();
                (i, d)
            })
            .collect();
        let table = fps(3_000, 5, 900);
        let ids: Vec<Vec<u64>> = (0..12u64)
            .map(|j| (0..j * 211).map(|i| (i * 13 + j) % 3_000).collect())
            .collect();
        let refs: Vec<&[u64]> = ids.iter().map(|v| v.as_slice()).collect();
        let hb = HistoryBatch::gather(table.view(), &refs).unwrap();
        let qb = fps(12, 6, 12);
        let mut want_b = (vec![0u32; 12 * kb], vec![0u16; 12 * kb], vec![0u32; 12]);
        let (wi, wd, wf) = (&mut want_b.0, &mut want_b.1, &mut want_b.2);
        engine
            .topk_batch(qb.view(), hb.view(), kb, wi, wd, wf)
            .unwrap();
        pool::run(7, &|part| {
            for t in [2, 3, 9] {
                let q = &qs[(part + t) % qs.len()];
                let (mut i, mut d) = (vec![1u32; q.len() * k], vec![1u16; q.len() * k]);
                engine
                    .parallel(t)
                    .topk_shared(q.view(), h.view(), k, &mut i, &mut d)
                    .unwrap();
                assert_eq!(
                    (&i, &d),
                    (
                        &want[(part + t) % qs.len()].0,
                        &want[(part + t) % qs.len()].1
                    )
                );
                let mut got = (vec![1u32; 12 * kb], vec![1u16; 12 * kb], vec![1u32; 12]);
                engine
                    .parallel(t)
                    .topk_batch(qb.view(), hb.view(), kb, &mut got.0, &mut got.1, &mut got.2)
                    .unwrap();
                assert_eq!(got, want_b);
            }
        })
        .unwrap();
    }
}
