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
                .parallel(threads)
                .topk_shared(q.view(), h.view(), k, &mut it, &mut dt)
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
            .parallel(threads)
            .topk_batch(q.view(), hb.view(), k, &mut it, &mut dt, &mut ft)
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
        let (mut idx, mut dist, mut filled) = (vec![0u32; b * k], vec![0u16; b * k], 0u32);
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

/// The pool's size plus one (the caller): thread counts up to and past it.
fn cores() -> usize {
    std::thread::available_parallelism().map_or(1, |n| n.get())
}

/// Thread counts to try: auto, 1..=9, and more than the pool holds.
fn thread_counts() -> Vec<usize> {
    let mut v: Vec<usize> = (0..=9).collect();
    v.extend([cores() + 1, cores() + 3, 33]);
    v
}

/// Per-query histories gathered from `table`, history `j` of `lens[j]` items.
fn batch_of(table: &Fingerprints, lens: &[usize]) -> HistoryBatch {
    let n = table.len() as u64;
    let ids: Vec<Vec<u64>> = lens
        .iter()
        .enumerate()
        .map(|(j, &len)| {
            (0..len as u64)
                .map(|i| (i * 31 + j as u64 * 7) % n)
                .collect()
        })
        .collect();
    let refs: Vec<&[u64]> = ids.iter().map(|v| v.as_slice()).collect();
    HistoryBatch::gather(table.view(), &refs).unwrap()
}

/// `parallel(t).topk_shared` at every thread count against `topk_shared` (outputs pre-filled with
/// garbage, so an unwritten slot shows).
fn check_shared(engine: &Engine, q: &Fingerprints, h: &History, k: usize, what: &str) {
    let b = q.len();
    let (mut i1, mut d1) = (vec![7u32; b * k], vec![7u16; b * k]);
    let f1 = engine
        .topk_shared(q.view(), h.view(), k, &mut i1, &mut d1)
        .unwrap();
    for t in thread_counts() {
        let (mut it, mut dt) = (vec![1u32; b * k], vec![1u16; b * k]);
        let ft = engine
            .parallel(t)
            .topk_shared(q.view(), h.view(), k, &mut it, &mut dt)
            .unwrap();
        assert_eq!((ft, &it, &dt), (f1, &i1, &d1), "{what} threads={t}");
    }
}

/// `parallel(t).topk_batch` at every thread count against `topk_batch`.
fn check_batch(engine: &Engine, q: &Fingerprints, hb: &HistoryBatch, k: usize, what: &str) {
    let b = q.len();
    let (mut i1, mut d1, mut f1) = (vec![7u32; b * k], vec![7u16; b * k], vec![7u32; b]);
    engine
        .topk_batch(q.view(), hb.view(), k, &mut i1, &mut d1, &mut f1)
        .unwrap();
    for t in thread_counts() {
        let (mut it, mut dt, mut ft) = (vec![1u32; b * k], vec![1u16; b * k], vec![1u32; b]);
        engine
            .parallel(t)
            .topk_batch(q.view(), hb.view(), k, &mut it, &mut dt, &mut ft)
            .unwrap();
        assert_eq!((&it, &dt, &ft), (&i1, &d1, &f1), "{what} threads={t}");
    }
}

#[test]
fn every_thread_count_matches_one_thread() {
    let engine = Engine::new(Isa::detect()).unwrap();
    // (m, B, L, K, distinct history values): B = 1 always splits the history, B = 3 splits the
    // history past 3 threads and the queries up to 3, B = 40 always splits the queries.
    for &(m, b, l, k, distinct) in &[
        (64usize, 1usize, 50_000usize, 20usize, 300usize),
        (64, 3, 7_001, 10, 40),
        (128, 40, 3_000, 8, 2_000),
        (200, 2, 5_000, 50, 7),
        (256, 9, 2_345, 16, 100),
    ] {
        let q = fps(m, b, 11, 5);
        let h = History::from_fingerprints(fps(m, l, 12, distinct).view()).unwrap();
        check_shared(
            &engine,
            &q,
            &h,
            k,
            &format!("shared m={m} B={b} L={l} K={k}"),
        );
    }
    let table = fps(64, 4_000, 13, 500);
    let lens = [3000, 0, 17, 2999, 1, 64, 65, 1000, 0, 2048, 5];
    let q = fps(64, lens.len(), 14, 11);
    let hb = batch_of(&table, &lens);
    check_batch(&engine, &q, &hb, 24, "batch B=11");
}

#[test]
fn empty_and_short_shapes_match_one_thread() {
    let engine = Engine::new(Isa::detect()).unwrap();
    let m = 64;
    let none = fps(m, 0, 21, 1);
    let h = History::from_fingerprints(fps(m, 1000, 22, 50).view()).unwrap();
    let empty_h = History::from_fingerprints(none.view()).unwrap();
    // B = 0.
    check_shared(&engine, &none, &h, 5, "B=0");
    // L = 0, one query and several.
    check_shared(&engine, &fps(m, 1, 23, 1), &empty_h, 5, "L=0 B=1");
    check_shared(&engine, &fps(m, 17, 24, 3), &empty_h, 5, "L=0 B=17");
    // K > L: each history part holds fewer items than K, the merge fills the rest.
    for l in [1usize, 2, 5, 11] {
        let short = History::from_fingerprints(fps(m, l, 25, 3).view()).unwrap();
        check_shared(
            &engine,
            &fps(m, 1, 26, 1),
            &short,
            40,
            &format!("K>L L={l} B=1"),
        );
        check_shared(
            &engine,
            &fps(m, 4, 27, 2),
            &short,
            13,
            &format!("K>L L={l} B=4"),
        );
    }
    // Per-query: B = 0, capacity 0, every history shorter than K.
    let table = fps(m, 100, 28, 20);
    check_batch(&engine, &none, &batch_of(&table, &[]), 5, "batch B=0");
    check_batch(
        &engine,
        &fps(m, 6, 29, 2),
        &batch_of(&table, &[0; 6]),
        5,
        "batch L=0",
    );
    check_batch(
        &engine,
        &fps(m, 7, 30, 3),
        &batch_of(&table, &[3, 0, 1, 9, 2, 8, 4]),
        10,
        "batch K>L",
    );
}

#[test]
fn many_callers_share_the_pool() {
    // A server calling from many threads at once, each call split on the shared pool: every
    // result must equal the single-threaded one.
    let engine = Engine::new(Isa::detect()).unwrap();
    let m = 64;
    let h = History::from_fingerprints(fps(m, 30_000, 31, 400).view()).unwrap();
    let shapes: Vec<(Fingerprints, usize)> = vec![
        (fps(m, 1, 32, 1), 16),
        (fps(m, 2, 33, 2), 40),
        (fps(m, 64, 34, 9), 8),
    ];
    let want: Vec<(Vec<u32>, Vec<u16>)> = shapes
        .iter()
        .map(|(q, k)| {
            let (mut i, mut d) = (vec![0u32; q.len() * k], vec![0u16; q.len() * k]);
            engine
                .topk_shared(q.view(), h.view(), *k, &mut i, &mut d)
                .unwrap();
            (i, d)
        })
        .collect();
    let table = fps(m, 5_000, 35, 700);
    let lens: Vec<usize> = (0..23).map(|j| (j * 397) % 3_000).collect();
    let qb = fps(m, lens.len(), 36, 23);
    let hb = batch_of(&table, &lens);
    let kb = 12;
    let mut want_b = (
        vec![0u32; qb.len() * kb],
        vec![0u16; qb.len() * kb],
        vec![0u32; qb.len()],
    );
    engine
        .topk_batch(
            qb.view(),
            hb.view(),
            kb,
            &mut want_b.0,
            &mut want_b.1,
            &mut want_b.2,
        )
        .unwrap();
    std::thread::scope(|s| {
        for caller in 0..8usize {
            let (engine, h, shapes, want, qb, hb, want_b) =
                (&engine, &h, &shapes, &want, &qb, &hb, &want_b);
            s.spawn(move || {
                for round in 0..30usize {
                    let t = [0, 2, 3, 5, 9, 1][(caller + round) % 6];
                    let (q, k) = &shapes[(caller + round) % shapes.len()];
                    let (mut i, mut d) = (vec![1u32; q.len() * k], vec![1u16; q.len() * k]);
                    engine
                        .parallel(t)
                        .topk_shared(q.view(), h.view(), *k, &mut i, &mut d)
                        .unwrap();
                    let w = &want[(caller + round) % shapes.len()];
                    assert_eq!(
                        (&i, &d),
                        (&w.0, &w.1),
                        "caller {caller} round {round} t={t}"
                    );
                    let b = qb.len();
                    let mut got = (vec![1u32; b * kb], vec![1u16; b * kb], vec![1u32; b]);
                    engine
                        .parallel(t)
                        .topk_batch(qb.view(), hb.view(), kb, &mut got.0, &mut got.1, &mut got.2)
                        .unwrap();
                    assert_eq!(&got, want_b, "batch caller {caller} round {round} t={t}");
                }
            });
        }
    });
}

#[test]
fn capped_calls_match_one_thread() {
    use eta_hamming::parallel::{max_threads, set_max_threads};
    let engine = Engine::new(Isa::detect()).unwrap();
    // More queries than `STACK_PARTS` (64): 80 parts keep their ranges in a vector.
    let (m, b, k) = (64usize, 80usize, 7usize);
    let q = fps(m, b, 5, 80);
    let table = fps(m, 5000, 6, 700);
    let ids: Vec<Vec<u64>> = (0..b)
        .map(|j| {
            (0..(j * 37 % 900) as u64)
                .map(|i| (i * 13 + j as u64) % 5000)
                .collect()
        })
        .collect();
    let refs: Vec<&[u64]> = ids.iter().map(|v| v.as_slice()).collect();
    let hb = HistoryBatch::gather(table.view(), &refs).unwrap();
    let h = History::from_fingerprints(table.view()).unwrap();
    let (mut i1, mut d1, mut f1) = (vec![0u32; b * k], vec![0u16; b * k], vec![0u32; b]);
    engine
        .topk_batch(q.view(), hb.view(), k, &mut i1, &mut d1, &mut f1)
        .unwrap();
    let (mut s1, mut e1) = (vec![0u32; b * k], vec![0u16; b * k]);
    engine
        .topk_shared(q.view(), h.view(), k, &mut s1, &mut e1)
        .unwrap();
    let before = max_threads();
    for cap in [0usize, 1, 2, 3] {
        set_max_threads(cap);
        assert_eq!(max_threads(), cap);
        for threads in [0usize, 2, 80, 500] {
            let (mut it, mut dt, mut ft) = (vec![1u32; b * k], vec![1u16; b * k], vec![9u32; b]);
            (engine.parallel(threads))
                .topk_batch(q.view(), hb.view(), k, &mut it, &mut dt, &mut ft)
                .unwrap();
            assert_eq!(
                (&it, &dt, &ft),
                (&i1, &d1, &f1),
                "cap={cap} threads={threads}"
            );
            (engine.parallel(threads))
                .topk_shared(q.view(), h.view(), k, &mut it, &mut dt)
                .unwrap();
            assert_eq!((&it, &dt), (&s1, &e1), "cap={cap} threads={threads}");
        }
    }
    set_max_threads(before);
    // The C export sets the same cap.
    assert_eq!(ffi::eta_set_max_threads(4), EtaStatus::Ok);
    assert_eq!((ffi::eta_max_threads(), max_threads()), (4, 4));
    set_max_threads(before);
}

/// `ETA_HAMMING_MAX_THREADS` sets the initial cap: checked in a child process (this binary,
/// running only this test), whose first read sees the variable.
#[test]
fn max_threads_env_var_sets_the_initial_cap() {
    use eta_hamming::parallel::{max_threads, MAX_THREADS_ENV_VAR};
    const CHILD: &str = "ETA_HAMMING_TEST_CAP_CHILD";
    if let Some(want) = std::env::var_os(CHILD) {
        assert_eq!(max_threads().to_string(), want.to_string_lossy());
        return;
    }
    for (value, want) in [("3", "3"), (" 1 ", "1"), ("lots", "0"), ("", "0")] {
        let out = this_binary()
            .args(["--exact", "max_threads_env_var_sets_the_initial_cap"])
            .env(MAX_THREADS_ENV_VAR, value)
            .env(CHILD, want)
            .output()
            .unwrap();
        let stdout = String::from_utf8_lossy(&out.stdout);
        assert!(
            out.status.success() && stdout.contains("1 passed"),
            "{value:?}: {stdout}"
        );
    }
}
