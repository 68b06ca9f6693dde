//! One call spread over several threads, with the same results as one thread.
//!
//! Strategy:
//! - **Many queries** (`B >= threads`): the queries are cut into `threads` contiguous ranges and
//!   each thread runs the single-threaded scan on its range, writing its own rows of the output.
//!   Nothing is shared but the read-only history.
//! - **Few queries, long history** (one user, one candidate, a very long history): the history is
//!   cut into `threads` contiguous item ranges, each thread keeps the top-K of its range for every
//!   query, and the partial lists are merged by `(distance, index)` (indices offset by the range
//!   start). Every item of the global top-K is in the top-K of its own range, so the merge is
//!   exact.
//! - Per-query histories always split by queries (each query owns its history).
//!
//! Threads are scoped (`std::thread::scope`) and started per call, which costs tens of
//! microseconds: worth it from several million comparisons on. `threads = 0` means every core
//! (`std::thread::available_parallelism()`) but at most one thread per [`MIN_WORK_PER_THREAD`]
//! comparisons, so small calls stay on the caller's thread; an explicit count is honoured.

use std::num::NonZeroUsize;
use std::thread;

use crate::dispatch::Engine;
use crate::error::{Error, Result};
use crate::fingerprints::{FingerprintsRef, HistoryBatchRef, HistoryRef};
use crate::layout::{EMPTY_DISTANCE, EMPTY_INDEX};
use crate::topk::{check_topk_batch, check_topk_shared};

/// A history range's start and its top-K rows (indices relative to the range).
type Partial = (usize, Vec<u32>, Vec<u16>);

/// With `threads = 0`, each thread gets at least this many fingerprint comparisons (about half
/// a millisecond of kernel time): each call starts its threads afresh (about 33 µs per scoped
/// thread measured on a 2-vCPU Zen 5 VM) and each new thread allocates its own scratch, so
/// smaller shares lose more than they gain.
pub const MIN_WORK_PER_THREAD: usize = 1 << 23;

/// Threads for a call of `work` comparisons: an explicit request is honoured (at most one thread
/// per comparison); `0` picks every core, but no more than one per [`MIN_WORK_PER_THREAD`].
fn thread_count(requested: usize, work: usize) -> usize {
    if requested == 0 {
        let cores = thread::available_parallelism().map_or(1, NonZeroUsize::get);
        cores.min(work / MIN_WORK_PER_THREAD).max(1)
    } else {
        requested.min(work).max(1)
    }
}

/// Start and length of part `i` of `n` items cut into `parts` near-equal contiguous ranges.
fn part(n: usize, parts: usize, i: usize) -> (usize, usize) {
    let start = n * i / parts;
    (start, n * (i + 1) / parts - start)
}

impl Engine {
    /// [`Engine::topk_shared`] on up to `threads` threads (0: all available). Same result, same
    /// errors, whatever the thread count.
    pub fn topk_shared_par(
        &self,
        threads: usize,
        queries: FingerprintsRef<'_>,
        history: HistoryRef<'_>,
        k: usize,
        idx: &mut [u32],
        dist: &mut [u16],
    ) -> Result<usize> {
        let (b, l) = (queries.len(), history.len());
        let t = thread_count(threads, b.saturating_mul(l));
        if t == 1 {
            return self.topk_shared(queries, history, k, idx, dist);
        }
        // Validate everything once, up front, so that no thread can fail after another wrote.
        let needed = check_topk_shared(queries, history, k, idx, dist)?;
        let (idx, dist) = (&mut idx[..needed], &mut dist[..needed]);
        if b >= t {
            split_queries(t, b, k, idx, dist, None, |range, ri, rd, _| {
                self.topk_shared(queries.slice(range.0, range.1), history, k, ri, rd)
                    .map(|_| ())
            })?;
        } else {
            self.split_history(t, queries, history, k, idx, dist)?;
        }
        Ok(k.min(l))
    }

    /// [`Engine::topk_batch`] on up to `threads` threads (0: all available), split by queries.
    pub fn topk_batch_par(
        &self,
        threads: usize,
        queries: FingerprintsRef<'_>,
        histories: HistoryBatchRef<'_>,
        k: usize,
        idx: &mut [u32],
        dist: &mut [u16],
        filled: &mut [u32],
    ) -> Result<()> {
        let b = queries.len();
        let t = thread_count(threads, b.saturating_mul(histories.capacity())).min(b.max(1));
        if t == 1 {
            return self.topk_batch(queries, histories, k, idx, dist, filled);
        }
        let needed = check_topk_batch(queries, histories, k, idx, dist, filled)?;
        let (idx, dist) = (&mut idx[..needed], &mut dist[..needed]);
        split_queries(
            t,
            b,
            k,
            idx,
            dist,
            Some(&mut filled[..b]),
            |range, ri, rd, f| {
                let f = f.ok_or(Error::Internal)?;
                self.topk_batch(
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

    /// Few queries, long history: per-range top-K on each thread, then an exact merge.
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
        let partials: Vec<Result<Partial>> = thread::scope(|s| {
            let handles: Vec<_> = (0..t)
                .map(|i| {
                    let (start, len) = part(l, t, i);
                    s.spawn(move || {
                        let (mut pi, mut pd) = (vec![0u32; b * k], vec![0u16; b * k]);
                        self.topk_shared(queries, history.slice(start, len), k, &mut pi, &mut pd)?;
                        Ok((start, pi, pd))
                    })
                })
                .collect();
            handles
                .into_iter()
                .map(|h| h.join().unwrap_or(Err(Error::Internal)))
                .collect()
        });
        let partials: Vec<(usize, Vec<u32>, Vec<u16>)> =
            partials.into_iter().collect::<Result<_>>()?;
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

/// Runs `f` on `t` scoped threads, thread `i` on query range `part(b, t, i)` (start, length)
/// with its own rows of `idx`/`dist` and, when given, its own part of `filled`. Returns the first
/// error (all threads validate the same shapes, so in practice either all fail or none).
fn split_queries<F>(
    t: usize,
    b: usize,
    k: usize,
    idx: &mut [u32],
    dist: &mut [u16],
    mut filled: Option<&mut [u32]>,
    f: F,
) -> Result<()>
where
    F: Fn((usize, usize), &mut [u32], &mut [u16], Option<&mut [u32]>) -> Result<()> + Sync,
{
    let mut jobs = Vec::with_capacity(t);
    let (mut ri, mut rd) = (idx, dist);
    for i in 0..t {
        let (start, len) = part(b, t, i);
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
    let f = &f;
    thread::scope(|s| {
        let handles: Vec<_> = jobs
            .into_iter()
            .map(|(r, i, d, fl)| s.spawn(move || f(r, i, d, fl)))
            .collect();
        handles
            .into_iter()
            .map(|h| h.join().unwrap_or(Err(Error::Internal)))
            .collect::<Result<Vec<()>>>()
    })?;
    Ok(())
}
