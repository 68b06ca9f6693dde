//! The process-wide worker pool behind [`crate::parallel`]: one queue of [`Job`]s, the
//! workers that claim their parts, and [`run`], which every split call goes through.
//! Measurements behind the spin times: `docs/design/workers.md`.
//!
//! - Started lazily, on the first call that splits work, with
//!   `std::thread::available_parallelism() - 1` workers, or the cap minus one (the calling thread
//!   always does a share itself). Workers live for the rest of the process, so their thread-local scratch pools (see
//!   `arch::scratch::Pooled`) stay warm between calls.
//! - A call submits one [`Job`] of `parts` numbered parts to a FIFO queue and wakes at most
//!   `parts - 1` sleeping workers. Parts are claimed one at a time with an atomic counter, by the
//!   workers and by the caller alike, so the caller never depends on a worker to start a part: if
//!   every worker is busy (other callers, or fewer workers than parts) the caller runs all the
//!   parts itself. It then waits for the parts that others claimed and are running.
//! - A job lives on its caller's stack and borrows the caller's data (no `'static` bound, no
//!   allocation): [`run`] does not return, nor unwind, before every part has finished, its job
//!   is off the queue, and no worker holds it any more. The argument is at the `unsafe` in
//!   [`run`] and in `docs/design/workers.md` ("Soundness"), with what would break it.
//! - The number of threads is capped by [`set_max_threads`] or `ETA_HAMMING_MAX_THREADS`.
//! - A panicking part is caught where it runs and reported to its caller as
//!   [`Error::Internal`]; the worker goes on serving, so the pool stays usable.
//! - No deadlock, whatever calls what: a thread only ever waits for parts that another thread has
//!   already claimed and is running, and it claims nothing while it waits. A part can itself split
//!   work (a nested call, even on a worker): it becomes the caller of a newer job. Following
//!   "waits for" from thread to thread always leads to strictly newer jobs, so it cannot loop.
//! - Idle workers spin for [`WORKER_SPIN`] looking for work, then block on a condition variable;
//!   a caller waiting for its last parts spins for [`CALLER_SPIN`], then blocks. Both spins yield
//!   the CPU every few checks: the scheduler often runs a woken thread on its waker's CPU, and a
//!   pure spin there would hold up the very thread it waits for.
//! - [`awake`] tells `threads = 0` whether a worker could start at once (see
//!   `parallel::MIN_WORK_PER_THREAD`).
//!
//! `fork()` while a worker holds the queue lock (microseconds, while taking a job) would leave
//! the child's queue locked; a library whose code is unmapped (`dlclose`) under live workers
//! would crash them. Neither is supported, as for any library with threads.

use std::collections::VecDeque;
use std::num::NonZeroUsize;
use std::panic::{catch_unwind, AssertUnwindSafe};
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Condvar, Mutex, MutexGuard, PoisonError};
use std::thread;
use std::time::{Duration, Instant};

use crate::error::{Error, Result};

/// How long an idle worker looks for new work before it blocks (why this long:
/// `docs/design/workers.md`).
pub(crate) const WORKER_SPIN: Duration = Duration::from_micros(100);

/// How long a caller that has run out of parts to claim spins for the last ones before it
/// blocks: those usually end within microseconds of its own (see `docs/design/workers.md`).
pub(crate) const CALLER_SPIN: Duration = Duration::from_micros(50);

/// One call's work: `parts` calls of the caller's closure, `call(data, 0..parts)`. Lives on the
/// stack of [`run`]; the queue and the workers hold [`JobPtr`]s to it.
struct Job {
    /// The caller's closure (`*const F`), its type and lifetime erased; see [`run`].
    data: *const (),
    /// `call_erased::<F>`.
    call: unsafe fn(*const (), usize),
    parts: usize,
    /// The next part to claim; values `>= parts` mean every part is claimed.
    next: AtomicUsize,
    /// Parts finished (returned or panicked).
    done: AtomicUsize,
    /// Whether a part panicked.
    panicked: AtomicBool,
    /// With `finished`: the caller blocks here when its spin for the last parts runs out, and
    /// the worker that finishes the last part wakes it. Guards no data (the counters are
    /// atomic); taking it on both sides only makes the check-then-block atomic.
    lock: Mutex<()>,
    finished: Condvar,
    /// Workers holding a pointer to this job ([`Held`]): counted up under the queue lock while
    /// the job is queued, counted down (release) as each one's very last access. [`run`] returns
    /// only after its job is off the queue and an acquire load reads 0 here.
    holders: AtomicUsize,
}

/// A pointer to a queued [`Job`] (on its caller's stack).
#[derive(Clone, Copy, PartialEq, Eq)]
struct JobPtr(*const Job);

// SAFETY: a `JobPtr` is only dereferenced while the job is queued (under the queue lock) or held
// (`Held`), during which `run` keeps the job alive; `Job` itself is `Sync`.
unsafe impl Send for JobPtr {}

/// A worker's hold on a job, taken in [`Locked::oldest_open`]: the job stays alive until this is
/// dropped, which counts [`Job::holders`] down as the worker's last access to it.
struct Held(JobPtr);

impl Held {
    fn job(&self) -> &Job {
        // SAFETY: counted in `holders` while queued, so `run` keeps the job alive until `drop`.
        unsafe { &*self.0 .0 }
    }
}

impl Drop for Held {
    fn drop(&mut self) {
        // SAFETY: still counted in `holders` until this decrement, which is the last access
        // (through a raw pointer: no reference to the job outlives it). Release: every access
        // of this worker to the job happens before `run` reads 0 (acquire) and frees it.
        unsafe { (*self.0 .0).holders.fetch_sub(1, Ordering::Release) };
    }
}

// SAFETY: every field but `data` is `Send + Sync`. `data` is only dereferenced through `call`,
// as a shared `&F` where `F: Sync` (checked in `run`, the only place a `Job` is made), so using
// it from any thread, and from several at once, is what `F: Sync` allows; `run` keeps the
// pointee alive for as long as anyone may dereference it.
unsafe impl Send for Job {}
// SAFETY: as for `Send`.
unsafe impl Sync for Job {}

/// # Safety
/// `data` is a valid `*const F`, for the whole call.
unsafe fn call_erased<F: Fn(usize) + Sync>(data: *const (), part: usize) {
    // SAFETY: by this function's contract.
    let f = unsafe { &*data.cast::<F>() };
    f(part);
}

/// The queue of jobs with parts left to claim, shared by all workers and callers.
struct PoolState {
    queue: Mutex<Queue>,
    /// Signalled when a job is queued.
    wake: Condvar,
    /// `queue.jobs.len()`, readable without the lock by spinning workers.
    queued: AtomicUsize,
    /// Workers blocked on `wake`. Changed only under the `queue` lock (so a caller holding it
    /// reads the exact count), read without it as a hint by [`awake`].
    asleep: AtomicUsize,
    /// Touched at the start and end of every critical section (see [`Locked`]).
    sync: AtomicUsize,
}

struct Queue {
    /// FIFO; a job whose parts are all claimed is removed by the next worker that meets it.
    /// Pointers into callers' stacks: a job is on the queue only while its [`run`] is running.
    jobs: VecDeque<JobPtr>,
}

static POOL: PoolState = PoolState {
    queue: Mutex::new(Queue {
        jobs: VecDeque::new(),
    }),
    wake: Condvar::new(),
    queued: AtomicUsize::new(0),
    asleep: AtomicUsize::new(0),
    sync: AtomicUsize::new(0),
};

/// The number of workers once started ([`NOT_STARTED`] before). An atomic rather than a
/// `OnceLock`, whose synchronisation lives in uninstrumented std code that ThreadSanitizer
/// cannot see (`.ci/tsan.supp`).
static WORKERS: AtomicUsize = AtomicUsize::new(NOT_STARTED);

/// [`WORKERS`] before the pool is started.
const NOT_STARTED: usize = usize::MAX;

/// Held while the pool is started, so that it is started once.
static START: Mutex<()> = Mutex::new(());

/// The locked queue.
///
/// std's `Mutex` and `Condvar` synchronise inside std's own code, which ThreadSanitizer cannot
/// see unless std itself is rebuilt instrumented (`.ci/tsan.supp`). So each critical section
/// also starts with an acquire and ends with a release read-modify-write of [`PoolState::sync`]:
/// critical sections being serialised by the mutex, each start reads the previous end, which
/// repeats the mutex's happens-before edges where the sanitizer sees them, and everything handed
/// over through the queue (the jobs, and the caller data they point to) stays checked. Two
/// uncontended atomic operations per lock.
struct Locked(Option<MutexGuard<'static, Queue>>);

impl PoolState {
    /// The queue. No code panics while holding the lock, so poisoning cannot happen; it is
    /// ignored all the same rather than turned into a panic.
    fn lock(&'static self) -> Locked {
        let g = self.queue.lock().unwrap_or_else(PoisonError::into_inner);
        self.sync.fetch_add(1, Ordering::Acquire);
        Locked(Some(g))
    }

    /// Blocks on [`PoolState::wake`], releasing the lock meanwhile.
    fn wait(&'static self, mut q: Locked) -> Locked {
        match q.0.take() {
            Some(g) => {
                self.sync.fetch_add(1, Ordering::Release);
                let g = self.wake.wait(g).unwrap_or_else(PoisonError::into_inner);
                self.sync.fetch_add(1, Ordering::Acquire);
                Locked(Some(g))
            }
            // Never: `q` holds its guard until dropped. The caller loops as on a wake-up.
            None => q,
        }
    }
}

impl Drop for Locked {
    fn drop(&mut self) {
        if self.0.is_some() {
            // Before the guard (a field) unlocks.
            POOL.sync.fetch_add(1, Ordering::Release);
        }
    }
}

impl Locked {
    /// The oldest job with parts left to claim, held; jobs found with none left are removed.
    fn oldest_open(&mut self) -> Option<Held> {
        let q = self.0.as_mut()?;
        while let Some(&p) = q.jobs.front() {
            // SAFETY: a queued job is alive: its `run` removes it (under this lock) before it
            // returns.
            let b = unsafe { &*p.0 };
            if b.next.load(Ordering::Relaxed) < b.parts {
                // Under the lock: `run` cannot have taken it off the queue yet.
                b.holders.fetch_add(1, Ordering::Relaxed);
                return Some(Held(p));
            }
            q.jobs.pop_front();
            POOL.queued.store(q.jobs.len(), Ordering::Relaxed);
        }
        None
    }

    /// Queues `b` (behind the others).
    fn push(&mut self, b: JobPtr) {
        // Always `Some`; were it not, the caller would simply run every part itself.
        if let Some(q) = self.0.as_mut() {
            q.jobs.push_back(b);
            POOL.queued.store(q.jobs.len(), Ordering::Relaxed);
        }
    }

    /// Takes `b` off the queue if it is still there (its parts were all claimed before a worker
    /// met it).
    fn remove(&mut self, b: JobPtr) {
        if let Some(q) = self.0.as_mut() {
            if let Some(i) = q.jobs.iter().position(|&p| p == b) {
                q.jobs.remove(i);
                POOL.queued.store(q.jobs.len(), Ordering::Relaxed);
            }
        }
    }
}

/// `std::thread::available_parallelism()`, read once: the call reads the affinity mask and
/// cgroup files, tens of microseconds each time. (Two threads may both read it the first time;
/// they store the same value.)
pub(crate) fn cores() -> usize {
    static CORES: AtomicUsize = AtomicUsize::new(0);
    match CORES.load(Ordering::Relaxed) {
        0 => {
            let n = thread::available_parallelism().map_or(1, NonZeroUsize::get);
            CORES.store(n, Ordering::Relaxed);
            n
        }
        n => n,
    }
}

/// [`MAX_THREADS`] before `ETA_HAMMING_MAX_THREADS` is read.
const UNREAD: usize = usize::MAX;

/// The cap on threads per call (0: none), see [`set_max_threads`]; [`UNREAD`] until the
/// environment variable is read.
static MAX_THREADS: AtomicUsize = AtomicUsize::new(UNREAD);

/// The environment variable read (once, at the first call that asks) for the initial cap.
pub const MAX_THREADS_ENV_VAR: &str = "ETA_HAMMING_MAX_THREADS";

/// The cap on threads per call: 0 for none. Read from [`MAX_THREADS_ENV_VAR`] the first time
/// (a value that is no integer counts as unset), unless [`set_max_threads`] came first.
pub(crate) fn max_threads() -> usize {
    match MAX_THREADS.load(Ordering::Relaxed) {
        UNREAD => {
            let env = std::env::var(MAX_THREADS_ENV_VAR)
                .ok()
                .and_then(|v| v.trim().parse::<usize>().ok())
                .unwrap_or(0)
                .min(UNREAD - 1);
            // A concurrent `set_max_threads` wins.
            let _ = MAX_THREADS.compare_exchange(UNREAD, env, Ordering::Relaxed, Ordering::Relaxed);
            MAX_THREADS.load(Ordering::Relaxed)
        }
        n => n,
    }
}

/// Caps the threads one call runs on, the caller's included (0: no cap); see
/// `parallel::set_max_threads`.
pub(crate) fn set_max_threads(n: usize) {
    MAX_THREADS.store(n.min(UNREAD - 1), Ordering::Relaxed);
}

/// The threads a call may use: every core, or the cap when it is lower. At least 1.
pub(crate) fn thread_limit() -> usize {
    match max_threads() {
        0 => cores(),
        cap => cores().min(cap),
    }
}

/// The most workers ever asked for (under [`START`]), so a call that wants no more spawns none.
static ASKED: AtomicUsize = AtomicUsize::new(0);

/// The number of pool workers a call may use: `thread_limit() - 1` (the caller is the other),
/// or fewer when the system refuses threads. Starts workers up to that number on first use, and
/// again when a raised cap asks for more; a lowered cap stops none (the extra ones sleep).
pub(crate) fn workers() -> usize {
    let want = thread_limit() - 1;
    if want > ASKED.load(Ordering::Acquire) {
        let _start = START.lock().unwrap_or_else(PoisonError::into_inner);
        if want > ASKED.load(Ordering::Relaxed) {
            let have = match WORKERS.load(Ordering::Relaxed) {
                NOT_STARTED => 0,
                n => n,
            };
            let n = have
                + (have..want)
                    .take_while(|i| {
                        thread::Builder::new()
                            .name(format!("eta-hamming-{i}"))
                            .spawn(worker)
                            .is_ok()
                    })
                    .count();
            // Started threads run soon; a thread the system has not scheduled yet is waited
            // for here, once, rather than doing its start-up in the middle of a later call.
            while READY.load(Ordering::Acquire) < n {
                thread::sleep(Duration::from_micros(50));
            }
            WORKERS.store(n, Ordering::Release);
            ASKED.store(want, Ordering::Release);
        }
    }
    match WORKERS.load(Ordering::Acquire) {
        NOT_STARTED => 0,
        n => n.min(want),
    }
}

/// Whether a pool worker is awake (running a part, or spinning for the next one): a split call
/// then starts at once on another core, instead of paying to wake a sleeping worker. A hint,
/// read without synchronisation; `false` before the pool has started.
pub(crate) fn awake() -> bool {
    let n = WORKERS.load(Ordering::Relaxed);
    n != NOT_STARTED && n > POOL.asleep.load(Ordering::Relaxed)
}

/// Pool workers that have started running (their scratch pools filled); [`workers`] waits for
/// the ones it spawned, so that no thread's start-up work (std's own allocations for the thread,
/// the scratch pools) lands in a later call.
static READY: AtomicUsize = AtomicUsize::new(0);

/// A worker: takes jobs from the queue and runs their parts, forever.
fn worker() {
    crate::arch::scratch::prewarm();
    crate::arch::scan::prewarm_states();
    READY.fetch_add(1, Ordering::Release);
    loop {
        let held = next_job();
        work(held.job(), false);
        // `held` is dropped here: the worker's last access to the job.
    }
}

/// The oldest job with parts left to claim: looks for one for [`WORKER_SPIN`] (from the call,
/// or from the last wake-up), then blocks until woken.
fn next_job() -> Held {
    let mut start = Instant::now();
    let mut q = POOL.lock();
    loop {
        if let Some(b) = q.oldest_open() {
            return b;
        }
        let left = WORKER_SPIN.saturating_sub(start.elapsed());
        if left.is_zero() {
            POOL.asleep.fetch_add(1, Ordering::Relaxed);
            q = POOL.wait(q);
            POOL.asleep.fetch_sub(1, Ordering::Relaxed);
            start = Instant::now();
        } else {
            // A job whose parts were all claimed by others before this worker saw it is only
            // removed above: the spin goes on until its time is up.
            drop(q);
            spin_until(left, || POOL.queued.load(Ordering::Relaxed) != 0);
            q = POOL.lock();
        }
    }
}

/// Claims and runs parts of `b` until none is left. Never panics: a part's panic is caught
/// and recorded.
fn work(b: &Job, is_caller: bool) {
    loop {
        let part = b.next.fetch_add(1, Ordering::Relaxed);
        if part >= b.parts {
            return;
        }
        // SAFETY: `part < parts` was claimed by this thread alone, and the caller of `run` is
        // still inside `run` until `done` counts this part (see there), so `data` is alive.
        let r = catch_unwind(AssertUnwindSafe(|| unsafe { (b.call)(b.data, part) }));
        if let Err(payload) = r {
            b.panicked.store(true, Ordering::Relaxed);
            // Dropping the payload runs arbitrary code that may panic again: leak that one.
            if let Err(again) = catch_unwind(AssertUnwindSafe(move || drop(payload))) {
                std::mem::forget(again);
            }
        }
        // Release: the part's writes happen before the caller's acquire load of `done`.
        if b.done.fetch_add(1, Ordering::Release) + 1 == b.parts && !is_caller {
            let _held = b.lock.lock().unwrap_or_else(PoisonError::into_inner);
            b.finished.notify_one();
        }
        // `data` may be dangling from here on; only the counters are touched again.
    }
}

/// Calls `cond` until it holds or `limit` has passed; returns its last value. Yields the CPU
/// every few checks: the thread it waits for may be queued on this very CPU (the scheduler
/// often wakes a worker on its waker's CPU), and must not wait for the spin to end.
fn spin_until(limit: Duration, mut cond: impl FnMut() -> bool) -> bool {
    let start = Instant::now();
    loop {
        for _ in 0..64 {
            if cond() {
                return true;
            }
            std::hint::spin_loop();
        }
        if start.elapsed() >= limit {
            return cond();
        }
        thread::yield_now();
    }
}

/// Makes the calling thread finish `job` (claim what is left, wait for the parts others run,
/// take the job off the queue if `queued`, wait until no worker holds it) when it is dropped,
/// so that [`run`] cannot be left early, not even by unwinding.
struct Finish<'a> {
    job: &'a Job,
    queued: bool,
}

impl Drop for Finish<'_> {
    fn drop(&mut self) {
        let b = self.job;
        work(b, true);
        let all = || b.done.load(Ordering::Acquire) == b.parts;
        if !spin_until(CALLER_SPIN, all) {
            let mut held = b.lock.lock().unwrap_or_else(PoisonError::into_inner);
            while !all() {
                // Woken by the thread that finishes the last part (which takes the lock to
                // notify, so it cannot slip between this check and the wait).
                held = b
                    .finished
                    .wait(held)
                    .unwrap_or_else(PoisonError::into_inner);
            }
        }
        if self.queued {
            // After this no worker can take a new hold: holds are taken under this lock while
            // the job is queued.
            POOL.lock().remove(JobPtr(b));
            // The holders left are past their last part (every part is done) and about to let
            // go: a few instructions, unless one was preempted there.
            while !spin_until(CALLER_SPIN, || b.holders.load(Ordering::Acquire) == 0) {}
        }
    }
}

/// Calls `f(0), f(1), ..., f(parts - 1)`, spread over the pool and the calling thread, each
/// exactly once, and returns once every call has returned. A call that panics is caught:
/// the others still run, and the result is [`Error::Internal`].
pub(crate) fn run<F: Fn(usize) + Sync>(parts: usize, f: &F) -> Result<()> {
    let helpers = if parts > 1 {
        workers().min(parts - 1)
    } else {
        0
    };
    let job = Job {
        // SAFETY (of the lifetime erasure, and of the job on this stack frame; the full argument
        // and what would break it: `docs/design/workers.md`, "Soundness"): `data` borrows `*f`,
        // and workers reach `job` through raw pointers, for no lifetime the compiler knows. It is
        // sound because:
        // 1. each index below `parts` is claimed once (`fetch_add`), `*f` is only dereferenced
        //    by `work` for an index it claimed below `parts`, and `done` counts a part only
        //    after its call returned or its panic was caught;
        // 2. a worker reaches the job only through a `Held`, taken under the queue lock while
        //    the job is queued and counted in `holders`; its last access is the release
        //    decrement of `holders` (`Held::drop`);
        // 3. this function does not return before `Finish` (also dropped if anything here
        //    unwinds, which nothing should) has seen `done == parts`, taken the job off the
        //    queue under the lock (no new hold after that), and read `holders == 0` (acquire).
        // `F: Sync` lets workers call `&F` concurrently with this thread (see `impl Sync`).
        data: std::ptr::from_ref(f).cast(),
        call: call_erased::<F>,
        parts,
        next: AtomicUsize::new(0),
        done: AtomicUsize::new(0),
        panicked: AtomicBool::new(false),
        lock: Mutex::new(()),
        finished: Condvar::new(),
        holders: AtomicUsize::new(0),
    };
    let finish = Finish {
        job: &job,
        queued: helpers > 0,
    };
    if helpers > 0 {
        let sleeping = {
            let mut q = POOL.lock();
            q.push(JobPtr(&job));
            POOL.asleep.load(Ordering::Relaxed)
        };
        // Spinning workers find the job themselves; wake sleeping ones for the rest.
        for _ in 0..helpers.min(sleeping) {
            POOL.wake.notify_one();
        }
    }
    drop(finish);
    if job.panicked.load(Ordering::Relaxed) {
        Err(Error::Internal)
    } else {
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::sync::atomic::AtomicU64;

    #[test]
    fn every_part_runs_once_for_any_count() {
        for parts in 0..40 {
            let hits: Vec<AtomicU64> = (0..parts).map(|_| AtomicU64::new(0)).collect();
            run(parts, &|i| {
                hits[i].fetch_add(1, Ordering::Relaxed);
            })
            .unwrap();
            assert!(
                hits.iter().all(|h| h.load(Ordering::Relaxed) == 1),
                "{parts}"
            );
        }
    }

    #[test]
    fn a_panicking_part_is_an_error_and_the_pool_survives() {
        let ran = AtomicU64::new(0);
        for round in 0..20 {
            let r = run(5, &|i| {
                ran.fetch_add(1, Ordering::Relaxed);
                if i == round % 5 {
                    panic!("part {i} fails on purpose");
                }
            });
            assert_eq!(r, Err(Error::Internal));
        }
        // Every part ran, the panicking ones included, and the pool still works.
        assert_eq!(ran.load(Ordering::Relaxed), 100);
        let total = AtomicU64::new(0);
        run(8, &|i| {
            total.fetch_add(i as u64, Ordering::Relaxed);
        })
        .unwrap();
        assert_eq!(total.load(Ordering::Relaxed), 28);
    }

    #[test]
    fn nested_runs_on_workers_finish() {
        // Every part of every level splits again: most of the nested callers are pool workers.
        let leaves = AtomicU64::new(0);
        run(6, &|_| {
            run(5, &|_| {
                run(4, &|_| {
                    leaves.fetch_add(1, Ordering::Relaxed);
                })
                .unwrap();
            })
            .unwrap();
        })
        .unwrap();
        assert_eq!(leaves.load(Ordering::Relaxed), 120);
    }

    #[test]
    fn many_callers_at_once() {
        let total = AtomicU64::new(0);
        std::thread::scope(|s| {
            for t in 0..8u64 {
                let total = &total;
                s.spawn(move || {
                    for r in 0..200u64 {
                        let parts = 1 + ((t + r) % 9) as usize;
                        run(parts, &|i| {
                            total.fetch_add(i as u64 + 1, Ordering::Relaxed);
                        })
                        .unwrap();
                    }
                });
            }
        });
        let want: u64 = (0..8u64)
            .flat_map(|t| (0..200u64).map(move |r| 1 + (t + r) % 9))
            .map(|p| p * (p + 1) / 2)
            .sum();
        assert_eq!(total.load(Ordering::Relaxed), want);
    }
}
