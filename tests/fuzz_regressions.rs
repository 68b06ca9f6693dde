//! Regression tests for what the fuzz targets (`fuzz/`) found. Each test names its finding.
//!
//! This binary counts allocations (a wrapping global allocator), so a test can bound the
//! scratch memory of a call: a valid call must never allocate more than its shapes warrant.

use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Mutex;

use eta_hamming::ffi;
use eta_hamming::{
    Engine, EtaStatus, FingerprintsRef, HistoryBatchRef, HistoryRef, Isa, EMPTY_DISTANCE,
    EMPTY_INDEX, MAX_HISTORY_LEN,
};

/// The largest single allocation since the last [`largest_since`] reset.
static LARGEST: AtomicUsize = AtomicUsize::new(0);

struct Counting;

// SAFETY: forwards to the system allocator unchanged; only records sizes.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        // SAFETY: forwarded contract.
        unsafe { System.alloc(layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        LARGEST.fetch_max(layout.size(), Ordering::Relaxed);
        // SAFETY: forwarded contract.
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded contract.
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LARGEST.fetch_max(new_size, Ordering::Relaxed);
        // SAFETY: forwarded contract.
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

/// Tests here measure allocations, so they run one at a time.
static SERIAL: Mutex<()> = Mutex::new(());

/// Runs `f` and returns the largest single allocation it made.
fn largest_allocation(f: impl FnOnce()) -> usize {
    LARGEST.store(0, Ordering::Relaxed);
    f();
    LARGEST.load(Ordering::Relaxed)
}

/// Found by `c_api` (its first minute): `eta_topk_batch` with `B = 0`, `L = 2^32 - 2` and a huge
/// `K` (all buffers empty, so every pointer may be NULL: a valid call) aborted the process: the
/// kernels sized their scratch by the capacity `L` (and `K`), not by the queries they had, and
/// tried to allocate 32 GiB. Same for the scalar shared top-K with no queries.
#[test]
fn topk_with_no_queries_allocates_nothing_large() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let k = 1usize << 40;
    for isa in Isa::available() {
        let e = Engine::new(isa).unwrap();
        let q = FingerprintsRef::new::<u8>(8, 0, &[]).unwrap();
        let h = HistoryBatchRef::new::<u8>(8, MAX_HISTORY_LEN, MAX_HISTORY_LEN, &[], &[]).unwrap();
        let big = largest_allocation(|| {
            assert_eq!(e.topk_batch(q, h, k, &mut [], &mut [], &mut []), Ok(()));
        });
        assert!(
            big < 1 << 20,
            "{isa}: topk_batch with B = 0 allocated {big} bytes"
        );

        // A shared history of 2^20 items and no queries.
        let hist = vec![0u8; 1 << 20];
        let h = HistoryRef::new::<u8>(8, 1 << 20, 1 << 20, &hist).unwrap();
        let big = largest_allocation(|| {
            assert_eq!(e.topk_shared(q, h, k, &mut [], &mut []), Ok(1 << 20));
        });
        assert!(
            big < 1 << 20,
            "{isa}: topk_shared with B = 0 allocated {big} bytes"
        );
    }

    // The same through the C ABI: every pointer NULL, every size that matters zero.
    let big = largest_allocation(|| {
        // SAFETY: B = 0: every buffer is empty, NULL is allowed.
        let s = unsafe {
            ffi::eta_topk_batch(
                std::ptr::null(),
                0,
                std::ptr::null(),
                MAX_HISTORY_LEN,
                MAX_HISTORY_LEN,
                std::ptr::null(),
                64,
                usize::MAX,
                std::ptr::null_mut(),
                std::ptr::null_mut(),
                std::ptr::null_mut(),
            )
        };
        assert_eq!(s, EtaStatus::Ok);
    });
    assert!(
        big < 1 << 20,
        "eta_topk_batch with B = 0 allocated {big} bytes"
    );
}

/// The same finding, with queries: short valid histories in a long capacity must not size the
/// scratch by the capacity (the result is what the short histories give).
#[test]
fn topk_batch_scratch_follows_the_longest_valid_history() {
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let cap = 1usize << 20;
    let hist: Vec<u8> = (0..cap).map(|i| (i * 37 % 251) as u8).collect();
    let q = [0b1010_1010u8];
    for isa in Isa::available() {
        let e = Engine::new(isa).unwrap();
        let lens = [3u32];
        let h = HistoryBatchRef::new::<u8>(8, cap, cap, &lens, &hist).unwrap();
        let qv = FingerprintsRef::new::<u8>(8, 1, &q).unwrap();
        let (mut idx, mut dist, mut filled) = ([0u32; 4], [0u16; 4], [0u32; 1]);
        let big = largest_allocation(|| {
            e.topk_batch(qv, h, 4, &mut idx, &mut dist, &mut filled)
                .unwrap();
        });
        assert!(
            big < 1 << 16,
            "{isa}: {big} bytes of scratch for 3 valid items"
        );
        let want: Vec<(u16, u32)> = {
            let mut v: Vec<(u16, u32)> = (0..3)
                .map(|i| ((hist[i] ^ q[0]).count_ones() as u16, i as u32))
                .collect();
            v.sort();
            v
        };
        let got: Vec<(u16, u32)> = dist[..3]
            .iter()
            .copied()
            .zip(idx[..3].iter().copied())
            .collect();
        assert_eq!(got, want, "{isa}");
        assert_eq!(
            (idx[3], dist[3], filled[0]),
            (EMPTY_INDEX, EMPTY_DISTANCE, 3)
        );
    }
}

/// Found by `rust_api`: `TopK::shared` with one query and `K = usize::MAX / 2` panicked
/// ("capacity overflow") while allocating its `B * K` slots, whose product fits `usize` but
/// whose bytes do not fit one allocation. Owned constructors had the same edge
/// (`Fingerprints::zeroed`, `History::zeroed`, `HistoryBatch::zeroed` with sizes whose bytes
/// pass `isize::MAX`). Now each is `Error::SizeOverflow`, as the C ABI's `PTRDIFF_MAX` check.
#[test]
fn owned_results_too_large_for_one_allocation_are_size_overflow() {
    use eta_hamming::{Error, Fingerprints, History, HistoryBatch, TopK};
    let _serial = SERIAL.lock().unwrap_or_else(|e| e.into_inner());
    let q = Fingerprints::zeroed(64, 1).unwrap();
    let h = History::from_fingerprints(q.view()).unwrap();
    let batch = HistoryBatch::gather(q.view(), &[&[0]]).unwrap();
    for k in [usize::MAX / 2, isize::MAX as usize / 4 + 1, usize::MAX / 4] {
        assert_eq!(
            TopK::shared(q.view(), h.view(), k),
            Err(Error::SizeOverflow),
            "k = {k}"
        );
        assert_eq!(
            TopK::batch(q.view(), batch.view(), k),
            Err(Error::SizeOverflow),
            "k = {k}"
        );
    }
    assert_eq!(
        Fingerprints::zeroed(8, isize::MAX as usize).unwrap_err(),
        Error::SizeOverflow
    );
    assert_eq!(
        HistoryBatch::zeroed(8, usize::MAX, 0).unwrap_err(),
        Error::SizeOverflow
    );
}
