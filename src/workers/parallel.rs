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
//! calling thread always runs parts too ([`set_max_threads`] caps the threads of a call).
//! Workers live for the rest of the process and keep their per-thread kernel scratch warm. Parts are claimed one at a time by whichever thread is free,
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

use std::sync::{Mutex, PoisonError};

use super::pool;
use crate::arch::scratch::Pooled;
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
        pool::thread_limit().min(work / per).max(1)
    } else {
        match pool::max_threads() {
            0 => requested.min(MAX_PARTS),
            cap => requested.min(MAX_PARTS).min(cap),
        }
    }
}

pub use pool::MAX_THREADS_ENV_VAR;

/// Caps the threads any one call runs on, the calling thread included: `threads = 0` then
/// picks at most `n`, an explicit count above `n` counts as `n`, and the pool starts at most
/// `n - 1` workers. `0` removes the cap. Process-wide; calls already running keep their split.
/// The initial cap comes from [`MAX_THREADS_ENV_VAR`] (`ETA_HAMMING_MAX_THREADS`, read at the
/// first call that splits or asks; no integer: no cap). Lowering the cap after the pool has
/// started stops no worker: the extra ones only sleep. `1` keeps every call on its caller's
/// thread (a server that already runs one request per core: README, "Threads").
pub fn set_max_threads(n: usize) {
    pool::set_max_threads(n);
}

/// The cap set by [`set_max_threads`] or `ETA_HAMMING_MAX_THREADS`; 0 for none.
pub fn max_threads() -> usize {
    pool::max_threads()
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
#[cfg(test)]
fn balanced(
    n: usize,
    parts: usize,
    total: usize,
    cost: impl Fn(usize) -> usize,
) -> Vec<(usize, usize)> {
    let mut ranges = vec![(0, 0); parts];
    balanced_into(n, total, cost, &mut ranges);
    ranges
}

/// [`balanced`] into `ranges` (one per part; `1 <= ranges.len() <= n`).
fn balanced_into(
    n: usize,
    total: usize,
    cost: impl Fn(usize) -> usize,
    ranges: &mut [(usize, usize)],
) {
    let parts = ranges.len();
    let (mut start, mut acc) = (0usize, 0usize);
    for (i, range) in ranges.iter_mut().enumerate() {
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
        *range = (start, end - start);
        start = end;
    }
}

/// Parts whose ranges [`Parallel::topk_batch`] keeps on the stack; more take a vector.
const STACK_PARTS: usize = 64;

/// A caller's output buffer shared by the parts of one call, each writing its own range.
struct Shared<'a, T> {
    ptr: *mut T,
    len: usize,
    _borrow: std::marker::PhantomData<&'a mut [T]>,
}

// SAFETY: the parts only reach the buffer through `range`, whose contract keeps the ranges of
// live slices disjoint, so sharing a `Shared` is handing disjoint `&mut [T]` to threads, which
// `T: Send` allows.
unsafe impl<T: Send> Sync for Shared<'_, T> {}

impl<'a, T> Shared<'a, T> {
    fn new(s: &'a mut [T]) -> Shared<'a, T> {
        Shared {
            ptr: s.as_mut_ptr(),
            len: s.len(),
            _borrow: std::marker::PhantomData,
        }
    }

    /// `buf[start..start + len]` (panics when out of bounds).
    ///
    /// # Safety
    /// No other slice from `range` that overlaps this one is alive at the same time.
    #[allow(clippy::mut_from_ref)]
    unsafe fn range(&self, start: usize, len: usize) -> &mut [T] {
        assert!(
            start <= self.len && len <= self.len - start,
            "part out of bounds"
        );
        // SAFETY: in bounds of the buffer borrowed for `'a` (checked above), and not aliased
        // by the caller's contract.
        unsafe { std::slice::from_raw_parts_mut(self.ptr.add(start), len) }
    }
}

/// Keeps the first error of a split call's parts.
fn keep_first(first: &Mutex<Option<Error>>, r: Result<()>) {
    if let Err(e) = r {
        let mut g = first.lock().unwrap_or_else(PoisonError::into_inner);
        if g.is_none() {
            *g = Some(e);
        }
    }
}

/// The error [`keep_first`] kept, if any.
fn first_error(first: Mutex<Option<Error>>) -> Result<()> {
    match first.into_inner().unwrap_or_else(PoisonError::into_inner) {
        Some(e) => Err(e),
        None => Ok(()),
    }
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
            let range = |i| part(b, parts, i);
            split_queries(parts, range, k, idx, dist, None, |range, ri, rd, _| {
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
        let mut on_stack = [(0, 0); STACK_PARTS];
        let mut on_heap = Vec::new();
        let ranges: &mut [(usize, usize)] = if t <= STACK_PARTS {
            &mut on_stack[..t]
        } else {
            on_heap.resize(t, (0, 0));
            &mut on_heap
        };
        balanced_into(b, work, cost, ranges);
        let ranges: &[(usize, usize)] = ranges;
        split_queries(
            t,
            |i| ranges[i],
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
        // Part `p`'s top-K rows at `p * n..`, in buffers from the caller's per-thread pool.
        let n = b * k; // fits: `idx` holds it
        let total = n.checked_mul(t).ok_or(Error::Internal)?;
        let (mut pi, mut pd) = (Pooled::<u32>::take(total), Pooled::<u16>::take(total));
        {
            let (si, sd) = (Shared::new(&mut pi), Shared::new(&mut pd));
            let first = Mutex::new(None);
            pool::run(t, &|p| {
                let (start, len) = part(l, t, p);
                // SAFETY: part `p` alone takes `p * n..(p + 1) * n`.
                let (ri, rd) = unsafe { (si.range(p * n, n), sd.range(p * n, n)) };
                let r = (self.engine).topk_shared(queries, history.slice(start, len), k, ri, rd);
                keep_first(&first, r.map(|_| ()));
            })?;
            first_error(first)?;
        }
        let mut keys = Pooled::<u64>::take(t * k);
        for q in 0..b {
            let mut kept = 0;
            for p in 0..t {
                let start = part(l, t, p).0 as u64;
                let row = p * n + q * k..p * n + (q + 1) * k;
                for (&i, &d) in pi[row.clone()].iter().zip(&pd[row]) {
                    if i != EMPTY_INDEX {
                        keys[kept] = (u64::from(d) << 32) | (u64::from(i) + start);
                        kept += 1;
                    }
                }
            }
            let keys = &mut keys[..kept];
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

/// Runs `f` on the pool, one part per query range: part `i` gets `range(i)` (`(start,
/// length)`; the ranges are contiguous, in order, from 0), with its own rows of `idx`/`dist`
/// and, when given, its own part of `filled`. Returns the first error (all parts validate the
/// same shapes, so in practice either all fail or none). Allocates nothing.
fn split_queries<R, F>(
    parts: usize,
    range: R,
    k: usize,
    idx: &mut [u32],
    dist: &mut [u16],
    filled: Option<&mut [u32]>,
    f: F,
) -> Result<()>
where
    R: Fn(usize) -> (usize, usize) + Sync,
    F: Fn((usize, usize), &mut [u32], &mut [u16], Option<&mut [u32]>) -> Result<()> + Sync,
{
    let (si, sd) = (Shared::new(idx), Shared::new(dist));
    let sf = filled.map(Shared::new);
    let first = Mutex::new(None);
    pool::run(parts, &|i| {
        let (start, len) = range(i);
        // SAFETY: the ranges of distinct parts are disjoint (`range`'s contract), so are their
        // rows of `k` and their parts of `filled`; each part takes its own once.
        let (ri, rd) = unsafe { (si.range(start * k, len * k), sd.range(start * k, len * k)) };
        // SAFETY: as above.
        let rf = sf.as_ref().map(|s| unsafe { s.range(start, len) });
        keep_first(&first, f((start, len), ri, rd, rf));
    })?;
    first_error(first)
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
