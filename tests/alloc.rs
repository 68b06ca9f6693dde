//! The hot paths allocate nothing after warm-up: encoding into caller buffers, the top-K scans
//! and the distance scans into caller outputs, on every instruction set this CPU has and on
//! several shapes, single-threaded and split over the worker pool (by queries, by history, and
//! per-query histories). A counting global allocator counts every allocation of the process;
//! this binary holds a single test function, so no other test's thread adds to the count.
//!
//! `ETA_ALLOC_TRACE=1 cargo test --test alloc` prints a backtrace of the first unexpected
//! allocation (to find it).

use std::alloc::{GlobalAlloc, Layout as AllocLayout, System};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};

use eta_hamming::{
    Bf16, Engine, FingerprintsRef, HistoryBatchRef, HistoryRef, Isa, Lane, SimHasher, F16,
};
use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};

struct Counting;

static ALLOCS: AtomicUsize = AtomicUsize::new(0);
static TRACE: AtomicBool = AtomicBool::new(false);

thread_local! {
    static IN_TRACE: Cell<bool> = const { Cell::new(false) };
}

impl Counting {
    fn note(&self) {
        ALLOCS.fetch_add(1, Ordering::Relaxed);
        if TRACE.load(Ordering::Relaxed) && !IN_TRACE.with(Cell::get) {
            IN_TRACE.with(|t| t.set(true));
            TRACE.store(false, Ordering::Relaxed);
            eprintln!(
                "allocation on {:?}:\n{}",
                std::thread::current().name(),
                std::backtrace::Backtrace::force_capture()
            );
            IN_TRACE.with(|t| t.set(false));
        }
    }
}

// SAFETY: every call is forwarded unchanged to the system allocator; only a counter is added.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: AllocLayout) -> *mut u8 {
        self.note();
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: AllocLayout) -> *mut u8 {
        self.note();
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: AllocLayout, new: usize) -> *mut u8 {
        self.note();
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.realloc(ptr, layout, new) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: AllocLayout) {
        // SAFETY: forwarded with the caller's guarantees.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

/// Runs `f` a few times to warm up (per-thread scratch, the pool's queue, lazily started
/// workers), then counts the allocations of further calls: there must be none.
///
/// Which thread runs which part of a split call is up to the scheduler, so on a loaded machine
/// a pool worker may meet a kind of part (and fill its thread-local scratch) for the first time
/// arbitrarily late: the warm-up goes on until [`STABLE`] calls in a row allocate nothing (a
/// call that allocates every time never gets there, and fails), then [`MEASURED`] calls must
/// allocate nothing. A measurement that sees fewer allocations than calls (a late first part)
/// is repeated, warm-up included, up to [`ATTEMPTS`] times: a first part happens once per
/// thread, so only an allocation that recurs fails every attempt. With `ETA_ALLOC_TRACE` set
/// the first measurement must be clean (its backtrace is the point).
fn assert_no_alloc(what: &str, mut f: impl FnMut()) {
    for _ in 0..WARM_UP {
        f();
    }
    for attempt in 1..=ATTEMPTS {
        let mut clean = 0;
        for _ in 0..MAX_WARM_UP {
            if clean == STABLE {
                break;
            }
            let before = ALLOCS.load(Ordering::SeqCst);
            f();
            clean = if ALLOCS.load(Ordering::SeqCst) == before {
                clean + 1
            } else {
                0
            };
        }
        assert_eq!(
            clean, STABLE,
            "{what}: still allocating after {MAX_WARM_UP} warm-up calls"
        );
        let trace = std::env::var_os("ETA_ALLOC_TRACE").is_some();
        let before = ALLOCS.load(Ordering::SeqCst);
        TRACE.store(trace, Ordering::SeqCst);
        for _ in 0..MEASURED {
            f();
        }
        TRACE.store(false, Ordering::SeqCst);
        let n = ALLOCS.load(Ordering::SeqCst) - before;
        if n == 0 {
            return;
        }
        // Fewer allocations than calls: a thread's first part of this kind (its scratch),
        // which does not recur; anything that allocates per call, or keeps allocating, fails.
        assert!(
            n < MEASURED && attempt < ATTEMPTS && !trace,
            "{what}: {n} allocations in {MEASURED} calls after warm-up (attempt {attempt})"
        );
        eprintln!(
            "{what}: {n} allocation(s) in {MEASURED} calls, a late first part; measuring again"
        );
    }
}

/// Measurements of `MEASURED` calls; every one but the last may see a late first part.
const ATTEMPTS: usize = 4;
/// Enough for every pool worker to have run every kind of part of a call at least once.
const WARM_UP: usize = 40;
/// Calls in a row without an allocation that end the warm-up.
const STABLE: usize = 10;
/// The most warm-up calls after [`WARM_UP`] before a call that keeps allocating fails.
const MAX_WARM_UP: usize = 2000;
const MEASURED: usize = 20;

fn lanes<T: Lane>(r: &mut SmallRng, n: usize, mask: u64) -> Vec<T> {
    (0..n)
        .map(|_| T::from_u64(r.random::<u64>() & mask))
        .collect()
}

/// Scans of every kind on `engine`, for `m` bits with lane type `T`.
fn scans<T: Lane>(engine: Engine, r: &mut SmallRng, m: usize) {
    let layout = eta_hamming::Layout::new(m).unwrap();
    let (lanes_n, mask) = (layout.lanes(), layout.lane_mask(layout.lanes() - 1));
    let isa = engine.isa();
    for &(b, l, k) in &[
        (1, 0, 4),
        (1, 1, 1),
        (3, 100, 10),
        (17, 1000, 32),
        (2, 5000, 100),
        (64, 300, 8),
    ] {
        let stride = l + 3;
        let q: Vec<T> = lanes(r, b * lanes_n, mask);
        let h: Vec<T> = lanes(r, lanes_n * stride, mask);
        let qv = FingerprintsRef::new(m, b, &q).unwrap();
        let hv = HistoryRef::new(m, l, stride, &h).unwrap();
        let (mut idx, mut dist) = (vec![0u32; b * k], vec![0u16; b * k]);
        let mut all = vec![0u16; b * l];
        let what = format!("{isa:?} m={m} B={b} L={l} K={k}");
        assert_no_alloc(&format!("topk_shared {what}"), || {
            engine.topk_shared(qv, hv, k, &mut idx, &mut dist).unwrap();
        });
        assert_no_alloc(&format!("distances_shared {what}"), || {
            engine.distances_shared(qv, hv, &mut all).unwrap();
        });
        for threads in [1, 2, 3] {
            assert_no_alloc(&format!("parallel({threads}).topk_shared {what}"), || {
                (engine.parallel(threads))
                    .topk_shared(qv, hv, k, &mut idx, &mut dist)
                    .unwrap();
            });
        }

        // Per-query histories of unequal lengths (some empty).
        let lens: Vec<u32> = (0..b).map(|i| ((i * 7919) % (l + 1)) as u32).collect();
        let hs: Vec<T> = lanes(r, b * lanes_n * stride, mask);
        let hb = HistoryBatchRef::new(m, l, stride, &lens, &hs).unwrap();
        let mut filled = vec![0u32; b];
        let mut all = vec![0u16; b * l];
        assert_no_alloc(&format!("topk_batch {what}"), || {
            (engine.topk_batch(qv, hb, k, &mut idx, &mut dist, &mut filled)).unwrap();
        });
        assert_no_alloc(&format!("distances_batch {what}"), || {
            engine.distances_batch(qv, hb, &mut all).unwrap();
        });
        for threads in [1, 2, 3] {
            assert_no_alloc(&format!("parallel({threads}).topk_batch {what}"), || {
                (engine.parallel(threads))
                    .topk_batch(qv, hb, k, &mut idx, &mut dist, &mut filled)
                    .unwrap();
            });
        }
    }
}

/// Encoding of each element type into caller buffers (query and history layouts).
fn encodes<T: Lane>(engine: Engine, r: &mut SmallRng, d: usize, m: usize) {
    let hasher = SimHasher::from_seed(d, m, 7).unwrap();
    let lanes_n = hasher.layout().lanes();
    for n in [1, 7, 300] {
        let f: Vec<f32> = (0..n * d).map(|_| r.random_range(-2.0f32..2.0)).collect();
        let bf: Vec<u16> = f.iter().map(|x| (x.to_bits() >> 16) as u16).collect();
        let hf: Vec<u16> = (0..n * d).map(|_| r.random_range(0..0x7C00u16)).collect();
        let (bf, hf) = (Bf16::from_bits_slice(&bf), F16::from_bits_slice(&hf));
        let mut out = vec![T::default(); n * lanes_n];
        let stride = n + 5;
        let mut hist = vec![T::default(); lanes_n * stride];
        let what = format!("{:?} d={d} m={m} n={n}", engine.isa());
        assert_no_alloc(&format!("encode_into f32 {what}"), || {
            engine.encode_into(&hasher, &f, n, &mut out).unwrap();
        });
        assert_no_alloc(&format!("encode_into bf16 {what}"), || {
            engine.encode_into(&hasher, bf, n, &mut out).unwrap();
        });
        assert_no_alloc(&format!("encode_into f16 {what}"), || {
            engine.encode_into(&hasher, hf, n, &mut out).unwrap();
        });
        assert_no_alloc(&format!("encode_history_into f32 {what}"), || {
            (engine.encode_history_into(&hasher, &f, n, &mut hist, stride)).unwrap();
        });
        assert_no_alloc(&format!("encode_history_into bf16 {what}"), || {
            (engine.encode_history_into(&hasher, bf, n, &mut hist, stride)).unwrap();
        });
        assert_no_alloc(
            &format!("SimHasher::encode_history_into f16 {what}"),
            || {
                (hasher.encode_history_into(hf, n, &mut hist, stride)).unwrap();
            },
        );
    }
}

#[test]
fn hot_paths_allocate_nothing_after_warm_up() {
    let mut r = SmallRng::seed_from_u64(11);
    let isas = Isa::available();
    assert!(isas.contains(&Isa::Scalar));
    for isa in isas {
        let engine = Engine::new(isa).unwrap();
        scans::<u8>(engine, &mut r, 5);
        scans::<u16>(engine, &mut r, 16);
        scans::<u32>(engine, &mut r, 32);
        scans::<u64>(engine, &mut r, 64);
        scans::<u64>(engine, &mut r, 200);
        encodes::<u8>(engine, &mut r, 3, 8);
        encodes::<u64>(engine, &mut r, 33, 64);
        encodes::<u64>(engine, &mut r, 100, 257);
        // The free functions and `SimHasher` methods go through the process-wide engine.
        isa.force().unwrap();
        encodes::<u32>(Engine::current(), &mut r, 17, 31);
        Isa::reset();
    }
    // The test can fail: an allocation inside the measured calls is counted.
    let before = ALLOCS.load(Ordering::SeqCst);
    drop(std::hint::black_box(vec![1u8; 3]));
    assert!(ALLOCS.load(Ordering::SeqCst) > before);
}
