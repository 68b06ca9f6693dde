//! Many threads calling every entry point at once, racing the first-call dispatch initialisation,
//! process-wide ISA forcing and the start of the worker pool (multi-threaded calls): every result
//! must equal the single-threaded scalar one.
//!
//! Nothing in this binary touches the process-wide dispatch before the threads start, so the
//! first-use initialisation really is raced. Also run under ThreadSanitizer (README, "Safety").

use std::sync::{Arc, Barrier};
use std::thread;

use eta_hamming::ffi;
use eta_hamming::simhash::SplitMix64;
use eta_hamming::{
    distances_batch, distances_shared, topk_batch, topk_shared, Engine, EtaStatus, Fingerprints,
    History, HistoryBatch, Isa, SimHasher,
};

const THREADS: usize = 6;
const ROUNDS: usize = 10;

/// Inputs and their single-threaded scalar results.
struct Fixture {
    m: usize,
    hasher: SimHasher,
    emb_q: Vec<f32>,
    emb_h: Vec<f32>,
    h: History,
    batch: HistoryBatch,
    k: usize,
    want_q: Fingerprints,
    want_h: History,
    want_shared: (Vec<u32>, Vec<u16>),
    want_batch: (Vec<u32>, Vec<u16>, Vec<u32>),
    want_dist_shared: Vec<u16>,
    want_dist_batch: Vec<u16>,
}

fn fixture(m: usize, seed: u64) -> Fixture {
    let (d, b, l, k) = (24, 9, 333, 17);
    let mut rng = SplitMix64::new(seed);
    let emb_q: Vec<f32> = (0..b * d).map(|_| rng.next_element()).collect();
    let emb_h: Vec<f32> = (0..l * d).map(|_| rng.next_element()).collect();
    let hasher = SimHasher::from_seed(d, m, seed).unwrap();
    // An explicit scalar engine: it does not initialise the process-wide choice.
    let e = Engine::new(Isa::Scalar).unwrap();
    let q = e.encode(&hasher, &emb_q).unwrap();
    let table = e.encode(&hasher, &emb_h).unwrap();
    let h = e.encode_history(&hasher, &emb_h).unwrap();
    let ids: Vec<Vec<u64>> = (0..b)
        .map(|j| {
            (0..(l - j * 30) as u64)
                .map(|i| (i * 13 + j as u64) % l as u64)
                .collect()
        })
        .collect();
    let refs: Vec<&[u64]> = ids.iter().map(|v| v.as_slice()).collect();
    let batch = HistoryBatch::gather(table.view(), &refs).unwrap();
    let mut ws = (vec![0u32; b * k], vec![0u16; b * k]);
    e.topk_shared(q.view(), h.view(), k, &mut ws.0, &mut ws.1)
        .unwrap();
    let mut wb = (vec![0u32; b * k], vec![0u16; b * k], vec![0u32; b]);
    e.topk_batch(q.view(), batch.view(), k, &mut wb.0, &mut wb.1, &mut wb.2)
        .unwrap();
    let mut wds = vec![0u16; b * l];
    e.distances_shared(q.view(), h.view(), &mut wds).unwrap();
    let mut wdb = vec![0u16; b * batch.capacity()];
    e.distances_batch(q.view(), batch.view(), &mut wdb).unwrap();
    Fixture {
        m,
        want_h: h.clone(),
        hasher,
        emb_q,
        emb_h,
        h,
        batch,
        k,
        want_q: q,
        want_shared: ws,
        want_batch: wb,
        want_dist_shared: wds,
        want_dist_batch: wdb,
    }
}

/// Every entry point once, through the process-wide dispatch, checked against the fixture.
fn exercise(f: &Fixture) {
    let q = f.hasher.encode(&f.emb_q).unwrap();
    assert_eq!(q.as_bytes(), f.want_q.as_bytes());
    let h = f.hasher.encode_history(&f.emb_h).unwrap();
    assert_eq!(h.as_bytes(), f.want_h.as_bytes());
    let (b, k) = (q.len(), f.k);
    let (mut idx, mut dist) = (vec![0u32; b * k], vec![0u16; b * k]);
    topk_shared(q.view(), f.h.view(), k, &mut idx, &mut dist).unwrap();
    assert_eq!((&idx, &dist), (&f.want_shared.0, &f.want_shared.1));
    let mut filled = vec![0u32; b];
    topk_batch(
        q.view(),
        f.batch.view(),
        k,
        &mut idx,
        &mut dist,
        &mut filled,
    )
    .unwrap();
    assert_eq!(
        (&idx, &dist, &filled),
        (&f.want_batch.0, &f.want_batch.1, &f.want_batch.2)
    );
    let mut all = vec![0u16; f.want_dist_shared.len()];
    distances_shared(q.view(), f.h.view(), &mut all).unwrap();
    assert_eq!(all, f.want_dist_shared);
    let mut allb = vec![0u16; f.want_dist_batch.len()];
    distances_batch(q.view(), f.batch.view(), &mut allb).unwrap();
    assert_eq!(allb, f.want_dist_batch);

    // The same scans split over the shared worker pool (explicit counts: split whatever the
    // pool's size), every caller thread at once.
    let e = Engine::current();
    for t in [2, 3] {
        let (mut pi, mut pd) = (vec![1u32; b * k], vec![1u16; b * k]);
        e.parallel(t)
            .topk_shared(q.view(), f.h.view(), k, &mut pi, &mut pd)
            .unwrap();
        assert_eq!((&pi, &pd), (&f.want_shared.0, &f.want_shared.1), "t={t}");
        let mut pf = vec![1u32; b];
        e.parallel(t)
            .topk_batch(q.view(), f.batch.view(), k, &mut pi, &mut pd, &mut pf)
            .unwrap();
        assert_eq!(
            (&pi, &pd, &pf),
            (&f.want_batch.0, &f.want_batch.1, &f.want_batch.2),
            "t={t}"
        );
    }

    // The C ABI, on the same data.
    let mut hp: *mut ffi::EtaHasher = std::ptr::null_mut();
    let (d, m) = (f.hasher.dim(), f.m);
    // SAFETY: valid out-pointer.
    assert_eq!(
        unsafe { ffi::eta_hasher_new_seeded(d, m, 7, &mut hp) },
        EtaStatus::Ok
    );
    let mut cidx = vec![0u32; b * k];
    let mut cdist = vec![0u16; b * k];
    let mut cfilled = 0u32;
    let stride = f.h.stride();
    // SAFETY: every buffer holds what its shape names; lanes are u64 (m > 32) in these fixtures.
    let s = unsafe {
        ffi::eta_topk_shared(
            q.as_bytes().as_ptr().cast(),
            b,
            f.h.as_bytes().as_ptr().cast(),
            f.h.len(),
            stride,
            m,
            k,
            cidx.as_mut_ptr(),
            cdist.as_mut_ptr(),
            &mut cfilled,
        )
    };
    assert_eq!(s, EtaStatus::Ok);
    assert_eq!((&cidx, &cdist), (&f.want_shared.0, &f.want_shared.1));
    let (mut midx, mut mdist) = (vec![1u32; b * k], vec![1u16; b * k]);
    // SAFETY: as above.
    let s = unsafe {
        ffi::eta_topk_shared_mt(
            q.as_bytes().as_ptr().cast(),
            b,
            f.h.as_bytes().as_ptr().cast(),
            f.h.len(),
            stride,
            m,
            k,
            midx.as_mut_ptr(),
            mdist.as_mut_ptr(),
            std::ptr::null_mut(),
            4,
        )
    };
    assert_eq!(s, EtaStatus::Ok);
    assert_eq!((&midx, &mdist), (&f.want_shared.0, &f.want_shared.1));
    // SAFETY: made above, freed once.
    unsafe { ffi::eta_hasher_free(hp) };
}

#[test]
fn threads_race_first_use_and_forcing_with_identical_results() {
    let fixtures = Arc::new(vec![fixture(64, 1), fixture(130, 2), fixture(200, 3)]);
    let start = Arc::new(Barrier::new(THREADS + 1));
    let mut handles = Vec::new();
    for t in 0..THREADS {
        let (fx, start) = (fixtures.clone(), start.clone());
        handles.push(thread::spawn(move || {
            start.wait(); // all threads make their first kernel call together
            for r in 0..ROUNDS {
                exercise(&fx[(t + r) % fx.len()]);
            }
        }));
    }
    // The forcing thread: flips the process-wide choice while the others scan.
    let isas = Isa::available();
    start.wait();
    for r in 0..ROUNDS * 20 {
        if r % 7 == 6 {
            Isa::reset();
        } else {
            isas[r % isas.len()].force().unwrap();
        }
        assert!(!ffi::eta_isa_name().is_null());
        thread::yield_now();
    }
    for h in handles {
        h.join().unwrap();
    }
    Isa::reset();
}
