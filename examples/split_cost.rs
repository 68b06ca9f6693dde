//! What splitting one call over two threads costs and gains, per shape: the measurements behind
//! `parallel::MIN_WORK_PER_THREAD` (README, "Multi-core"). For each shape, the median per-call
//! time on one thread, on two, and with `threads = 0` (auto).
//!
//! ```text
//! cargo run --release --example split_cost -- [GAP_US]
//! ```
//!
//! Without `GAP_US`, calls run back to back (the pool's worker stays awake between them). With
//! it, the caller sleeps `GAP_US` microseconds before each timed call, so a worker that blocks
//! after `100 µs` without work is asleep when the call comes (try 1000).

use std::time::{Duration, Instant};

use eta_hamming::simhash::SplitMix64;
use eta_hamming::{Engine, Fingerprints, History, HistoryBatch};

fn fps(n: usize, seed: u64) -> Fingerprints {
    let mut f = Fingerprints::zeroed(64, n).unwrap();
    let mut r = SplitMix64::new(seed);
    for x in f.lanes_mut::<u64>().unwrap() {
        *x = r.next();
    }
    f
}

/// Median per-call time over 5 runs: back to back (each run repeats `f` for 30 ms), or with a
/// sleep of `gap` before each of 20 timed calls per run.
fn median(gap: Duration, mut f: impl FnMut()) -> f64 {
    f();
    let mut runs: Vec<f64> = (0..5)
        .map(|_| {
            if gap.is_zero() {
                let t = Instant::now();
                let mut n = 0u32;
                while n == 0 || t.elapsed() < Duration::from_millis(30) {
                    f();
                    n += 1;
                }
                t.elapsed().as_secs_f64() / f64::from(n)
            } else {
                let mut calls: Vec<f64> = (0..20)
                    .map(|_| {
                        std::thread::sleep(gap);
                        let t = Instant::now();
                        f();
                        t.elapsed().as_secs_f64()
                    })
                    .collect();
                calls.sort_by(f64::total_cmp);
                calls[calls.len() / 2]
            }
        })
        .collect();
    runs.sort_by(f64::total_cmp);
    runs[runs.len() / 2]
}

fn row(what: &str, mut call: impl FnMut(usize), gap: Duration) {
    let (t1, t2, t0) = (
        median(gap, || call(1)),
        median(gap, || call(2)),
        median(gap, || call(0)),
    );
    println!(
        "| {what} | {:.2} | {:.2} | {:.2}x | {:.2} |",
        t1 * 1e6,
        t2 * 1e6,
        t1 / t2,
        t0 * 1e6
    );
}

fn main() {
    let gap = Duration::from_micros(
        std::env::args()
            .nth(1)
            .and_then(|s| s.parse().ok())
            .unwrap_or(0),
    );
    let e = Engine::current();
    let k = 32;
    let table = fps(1 << 19, 2);
    let q = fps(256, 1);
    println!(
        "m = 64, K = 32, {}, isa {}\n",
        if gap.is_zero() {
            "back to back".to_string()
        } else {
            format!("{gap:?} before each call")
        },
        e.isa()
    );
    println!("| shape | 1 thread (µs) | 2 threads (µs) | speed-up | auto (µs) |");
    println!("| --- | ---: | ---: | ---: | ---: |");
    {
        let h = History::from_fingerprints(table.view().slice(0, 2)).unwrap();
        let qv = q.view().slice(0, 2);
        let (mut i, mut d) = (vec![0u32; 2], vec![0u16; 2]);
        row(
            "shared B=2 L=2 K=1 (the fixed cost)",
            |t| {
                e.parallel(t)
                    .topk_shared(qv, h.view(), 1, &mut i, &mut d)
                    .unwrap();
            },
            gap,
        );
    }
    for &(b, l) in &[
        (1usize, 16384usize),
        (1, 32768),
        (1, 65536),
        (1, 131072),
        (1, 524288),
        (8, 16384),
        (256, 64),
        (256, 1024),
        (256, 16384),
    ] {
        let h = History::from_fingerprints(table.view().slice(0, l)).unwrap();
        let qv = q.view().slice(0, b);
        let (mut i, mut d) = (vec![0u32; b * k], vec![0u16; b * k]);
        row(
            &format!("shared B={b} L={l}"),
            |t| {
                e.parallel(t)
                    .topk_shared(qv, h.view(), k, &mut i, &mut d)
                    .unwrap();
            },
            gap,
        );
    }
    for &l in &[64usize, 1024] {
        let b = 256;
        let ids: Vec<Vec<u64>> = (0..b)
            .map(|j| {
                (0..l as u64)
                    .map(|i| (i * 7 + j as u64 * 13) % (1 << 19))
                    .collect()
            })
            .collect();
        let refs: Vec<&[u64]> = ids.iter().map(|v| v.as_slice()).collect();
        let hb = HistoryBatch::gather(table.view(), &refs).unwrap();
        let (mut i, mut d, mut f) = (vec![0u32; b * k], vec![0u16; b * k], vec![0u32; b]);
        row(
            &format!("per-query B={b} L={l}"),
            |t| {
                e.parallel(t)
                    .topk_batch(q.view(), hb.view(), k, &mut i, &mut d, &mut f)
                    .unwrap();
            },
            gap,
        );
    }
}
