//! Multi-threaded calls give exactly the single-threaded result, for every thread count and both
//! splitting strategies (queries, and history ranges merged).

mod common;

use common::*;
use eta_hamming::{ffi, Engine, EtaStatus, Fingerprints, History, HistoryBatch, Isa, Layout};

fn fps(m: usize, n: usize, seed: u64, distinct: usize) -> Fingerprints {
    let layout = Layout::new(m).unwrap();
    let mut r = rng(seed);
    // Few distinct values make many ties, the hard case for a merge.
    let pool: Vec<Vec<u64>> = (0..distinct).map(|_| random_fp(&mut r, layout)).collect();
    let lanes: Vec<u64> = (0..n)
        .flat_map(|i| pool[(i * 7919 + i / 3) % distinct].clone())
        .collect();
    Fingerprints::from_lanes(m, n, &lanes).unwrap()
}

#[test]
fn shared_splits_match_one_thread() {
    let engine = Engine::new(Isa::detect()).unwrap();
    // (m, B, L, K): B >= threads splits queries; B < threads splits the history.
    for &(m, b, l, k, distinct) in &[
        (64usize, 1usize, 300_000usize, 32usize, 1000usize),
        (64, 2, 200_001, 100, 50),
        (128, 48, 9000, 16, 4000),
        (64, 1, 150_000, 5, 3),
    ] {
        let q = fps(m, b, 1, 5);
        let h = History::from_fingerprints(fps(m, l, 2, distinct).view()).unwrap();
        let (mut i1, mut d1) = (vec![0u32; b * k], vec![0u16; b * k]);
        let f1 = engine
            .topk_shared(q.view(), h.view(), k, &mut i1, &mut d1)
            .unwrap();
        for threads in [0usize, 2, 3, 4, 7] {
            let (mut it, mut dt) = (vec![1u32; b * k], vec![1u16; b * k]);
            let ft = engine
                .topk_shared_par(threads, q.view(), h.view(), k, &mut it, &mut dt)
                .unwrap();
            assert_eq!(
                (ft, &it, &dt),
                (f1, &i1, &d1),
                "m={m} B={b} L={l} K={k} threads={threads}"
            );
        }
    }
}

#[test]
fn batch_splits_match_one_thread() {
    let engine = Engine::new(Isa::detect()).unwrap();
    let (m, b, l, k) = (64usize, 37usize, 20_000usize, 24usize);
    let q = fps(m, b, 3, 37);
    let table = fps(m, 50_000, 4, 20_000);
    let ids: Vec<Vec<u64>> = (0..b)
        .map(|j| {
            (0..(l - j * 500) as u64)
                .map(|i| (i * 31 + j as u64 * 7) % 50_000)
                .collect()
        })
        .collect();
    let refs: Vec<&[u64]> = ids.iter().map(|v| v.as_slice()).collect();
    let hb = HistoryBatch::gather(table.view(), &refs).unwrap();
    let (mut i1, mut d1, mut f1) = (vec![0u32; b * k], vec![0u16; b * k], vec![0u32; b]);
    engine
        .topk_batch(q.view(), hb.view(), k, &mut i1, &mut d1, &mut f1)
        .unwrap();
    for threads in [0usize, 2, 3, 5, 64] {
        let (mut it, mut dt, mut ft) = (vec![1u32; b * k], vec![1u16; b * k], vec![1u32; b]);
        engine
            .topk_batch_par(threads, q.view(), hb.view(), k, &mut it, &mut dt, &mut ft)
            .unwrap();
        assert_eq!((&it, &dt, &ft), (&i1, &d1, &f1), "threads={threads}");
    }
}

#[test]
fn c_entry_points_match_one_thread() {
    let (m, b, l, k) = (64usize, 1usize, 400_000usize, 40usize);
    let q = fps(m, b, 5, 1);
    let h = History::from_fingerprints(fps(m, l, 6, 100_000).view()).unwrap();
    let run = |threads: Option<usize>| {
        let (mut idx, mut dist, mut filled) = (vec![0u32; b * k], vec![0u16; b * k], 0usize);
        let (qp, hp) = (q.as_bytes().as_ptr().cast(), h.as_bytes().as_ptr().cast());
        let (ip, dp) = (idx.as_mut_ptr(), dist.as_mut_ptr());
        // SAFETY: every buffer holds what its shape names.
        let s = unsafe {
            match threads {
                None => ffi::eta_topk_shared(qp, b, hp, l, h.stride(), m, k, ip, dp, &mut filled),
                Some(t) => {
                    ffi::eta_topk_shared_mt(qp, b, hp, l, h.stride(), m, k, ip, dp, &mut filled, t)
                }
            }
        };
        assert_eq!(s, EtaStatus::Ok);
        (idx, dist, filled)
    };
    let one = run(None);
    for t in [0, 2, 4] {
        assert_eq!(run(Some(t)), one, "threads={t}");
    }
    // Errors are the same as one thread's, and nothing is written.
    let (mut idx, mut dist) = (vec![9u32; k], vec![9u16; k]);
    // SAFETY: as above; K = 0 is rejected before anything is read.
    let s = unsafe {
        ffi::eta_topk_shared_mt(
            q.as_bytes().as_ptr().cast(),
            b,
            h.as_bytes().as_ptr().cast(),
            l,
            h.stride(),
            m,
            0,
            idx.as_mut_ptr(),
            dist.as_mut_ptr(),
            std::ptr::null_mut(),
            4,
        )
    };
    assert_eq!(s, EtaStatus::InvalidK);
    assert!(idx.iter().all(|&x| x == 9) && dist.iter().all(|&x| x == 9));
}
