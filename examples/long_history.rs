//! The cost per item of a shared-history top-K around the two-pass limit (`PREFIX_ITEMS`), on
//! one instruction set, measured interleaved in one process: every shape is timed once per
//! round, rounds repeated, medians reported, with each shape's per-item time as a ratio to the
//! one at `L = PREFIX_ITEMS` (the step past the two-pass limit: `docs/design/scan.md`).
//!
//! ```text
//! cargo run --release --example long_history -- [--isa avx2] [--m 64] [--rounds 9]
//!     [--min-ms 40] [--b 1,256] [--k 32,50] [--l 32768,32769,40000,65536,131072] [--threads T]
//! ```
//!
//! With `--threads T` the calls go through `Engine::parallel(T)` (wall time, `0` = auto);
//! otherwise one thread, timed by the thread's CPU time. `--ceiling` instead measures the
//! instruction set's popcount ceiling (`examples/common/ceiling.rs`) and, against it in the same
//! run, a shared scan (m = 64, L = 10,000, B = 500, K = 50) and per-query histories (m = 64,
//! L = 1,024 each, B = 1,024, K = 50).

#[path = "common/ceiling.rs"]
mod ceiling;

use std::time::{Duration, Instant};

use eta_hamming::simhash::SplitMix64;
use eta_hamming::{Engine, Fingerprints, History, HistoryBatch, Isa};

fn list(v: &str) -> Vec<usize> {
    v.split(',').filter_map(|x| x.trim().parse().ok()).collect()
}

fn random_fps(m: usize, n: usize, seed: u64) -> Fingerprints {
    let mut f = Fingerprints::zeroed(m, n).unwrap();
    let lanes = f.layout().lanes();
    let layout = f.layout();
    let mut rng = SplitMix64::new(seed);
    for (i, x) in f.lanes_mut::<u64>().unwrap().iter_mut().enumerate() {
        *x = rng.next() & layout.lane_mask(i % lanes);
    }
    f
}

fn main() {
    let (mut isa, mut m, mut rounds, mut min_ms) = (Isa::detect(), 64usize, 9usize, 40u64);
    let (mut bs, mut ks) = (vec![1usize, 256], vec![32usize, 50]);
    let mut ls = vec![32768usize, 32769, 40000, 65536, 131072];
    let mut threads: Option<usize> = None;
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        let v = it.next().unwrap_or_default();
        match a.as_str() {
            "--isa" => isa = Isa::from_name(&v).expect("an instruction set name"),
            "--m" => m = v.parse().expect("m"),
            "--rounds" => rounds = v.parse().expect("rounds"),
            "--min-ms" => min_ms = v.parse().expect("ms"),
            "--b" => bs = list(&v),
            "--k" => ks = list(&v),
            "--l" => ls = list(&v),
            "--threads" => threads = v.parse().ok(),
            "--ceiling" => {
                let isa = Isa::from_name(&v).expect("an instruction set name");
                return ceiling_rows(isa, rounds, Duration::from_millis(min_ms));
            }
            other => panic!("unknown argument {other}"),
        }
    }
    assert!(m > 32, "u64 lanes only (m > 32)");
    let engine = Engine::new(isa).expect("instruction set available");
    let min = Duration::from_millis(min_ms);
    let lmax = *ls.iter().max().unwrap();
    let table = random_fps(m, lmax, 2);
    let hists: Vec<History> = ls
        .iter()
        .map(|&l| History::from_fingerprints(table.view().slice(0, l)).unwrap())
        .collect();
    let bmax = *bs.iter().max().unwrap();
    let q = random_fps(m, bmax, 1);
    println!(
        "isa={} m={m} rounds={rounds} min={min_ms}ms threads={threads:?} (ns per query-item, median)",
        isa.name()
    );
    for &b in &bs {
        for &k in &ks {
            let (mut idx, mut dist) = (vec![0u32; b * k], vec![0u16; b * k]);
            let mut times: Vec<Vec<f64>> = vec![Vec::new(); ls.len()];
            for _ in 0..rounds {
                for (j, h) in hists.iter().enumerate() {
                    let mut call = || match threads {
                        None => engine
                            .topk_shared(q.view().slice(0, b), h.view(), k, &mut idx, &mut dist)
                            .map(|_| ()),
                        Some(t) => engine
                            .parallel(t)
                            .topk_shared(q.view().slice(0, b), h.view(), k, &mut idx, &mut dist)
                            .map(|_| ()),
                    };
                    call().unwrap();
                    let (c, w) = (ceiling::Clock::start(), Instant::now());
                    let el = || {
                        if threads.is_none() {
                            c.elapsed()
                        } else {
                            w.elapsed()
                        }
                    };
                    let mut n = 0u32;
                    while n == 0 || el() < min {
                        call().unwrap();
                        n += 1;
                    }
                    let per = el().as_secs_f64() / f64::from(n);
                    times[j].push(per * 1e9 / (b * ls[j]) as f64);
                }
            }
            let med: Vec<f64> = times
                .iter_mut()
                .map(|t| {
                    t.sort_by(f64::total_cmp);
                    t[t.len() / 2]
                })
                .collect();
            let base = ls
                .iter()
                .position(|&l| l == 32768)
                .map_or(med[0], |p| med[p]);
            for (j, &l) in ls.iter().enumerate() {
                println!(
                    "B={b:<4} K={k:<3} L={l:<7} {:8.4} ns/item  {:6.3} G fp/s  x{:.2} vs L=32768",
                    med[j],
                    1.0 / med[j],
                    med[j] / base
                );
            }
        }
    }
}

/// Median per-call time of `f` over `rounds` runs of at least `min` each (thread CPU time).
fn median(rounds: usize, min: Duration, mut f: impl FnMut()) -> f64 {
    f();
    let mut t: Vec<f64> = (0..rounds.max(1))
        .map(|_| {
            let c = ceiling::Clock::start();
            let mut n = 0u32;
            while n == 0 || c.elapsed() < min {
                f();
                n += 1;
            }
            c.elapsed().as_secs_f64() / f64::from(n)
        })
        .collect();
    t.sort_by(f64::total_cmp);
    t[t.len() / 2]
}

/// The ceiling and two scans against it, interleaved: ceiling, shared, per-query, per round.
fn ceiling_rows(isa: Isa, rounds: usize, min: Duration) {
    let e = Engine::new(isa).expect("instruction set available");
    let (m, k) = (64usize, 50usize);
    let (ls, bs) = (10_000usize, 500usize);
    let qs = random_fps(m, bs, 11);
    let hs = History::from_fingerprints(random_fps(m, ls, 12).view()).unwrap();
    let (lb, bb) = (1024usize, 1024usize);
    let qb = random_fps(m, bb, 13);
    let table = random_fps(m, lb * bb, 14);
    let ids: Vec<Vec<u64>> = (0..bb as u64)
        .map(|j| (j * lb as u64..(j + 1) * lb as u64).collect())
        .collect();
    let refs: Vec<&[u64]> = ids.iter().map(|v| v.as_slice()).collect();
    let hb = HistoryBatch::gather(table.view(), &refs).unwrap();
    let (mut i1, mut d1) = (vec![0u32; bs * k], vec![0u16; bs * k]);
    let (mut i2, mut d2, mut f2) = (vec![0u32; bb * k], vec![0u16; bb * k], vec![0u32; bb]);
    let (mut c, mut s, mut p) = (Vec::new(), Vec::new(), Vec::new());
    for _ in 0..rounds {
        c.push(ceiling::popcount_ceiling(isa, 1, min).expect("a ceiling loop"));
        let t = median(1, min, || {
            e.topk_shared(qs.view(), hs.view(), k, &mut i1, &mut d1)
                .unwrap();
        });
        s.push((bs * ls) as f64 / t);
        let t = median(1, min, || {
            e.topk_batch(qb.view(), hb.view(), k, &mut i2, &mut d2, &mut f2)
                .unwrap();
        });
        p.push((bb * lb) as f64 / t);
    }
    let med = |v: &mut Vec<f64>| {
        v.sort_by(f64::total_cmp);
        v[v.len() / 2]
    };
    let (c, s, p) = (med(&mut c), med(&mut s), med(&mut p));
    println!("isa={} rounds={rounds} (medians, G fp/s)", isa.name());
    println!("popcount ceiling m=64: {:.3}", c / 1e9);
    println!(
        "shared m=64 L={ls} B={bs} K={k}: {:.3} ({:.1}% of the ceiling)",
        s / 1e9,
        100.0 * s / c
    );
    println!(
        "per-query m=64 L={lb} B={bb} K={k}: {:.3} ({:.1}% of the ceiling)",
        p / 1e9,
        100.0 * p / c
    );
}
