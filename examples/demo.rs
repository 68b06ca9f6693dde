//! The main job on built-in data: one ETA serving request, end to end.
//!
//! A user with a long behaviour history (L items) and B candidate items, all d-dimensional
//! embeddings. The demo hashes the history and the candidates to m-bit SimHash fingerprints,
//! retrieves for every candidate the K history items at the smallest Hamming distance, and
//! reports which kernel ran, how long each step took, a few retrieved items, and how well the
//! Hamming top-K overlaps the exact inner-product top-K (recall@K), the quality SimHash trades
//! for its speed.
//!
//! ```text
//! cargo run --release --example demo -- [--candidates 256] [--history 1024] [--dim 128]
//!     [--bits 64] [--k 32] [--seed 42] [--isa scalar|avx2|avx512bw|avx512|neon] [--reps 20]
//! ```

use std::process::ExitCode;
use std::time::Duration;

use eta_hamming::simhash::SplitMix64;
use eta_hamming::{Isa, SimHasher, TopK};

#[path = "common/ceiling.rs"]
mod ceiling;

struct Args {
    candidates: usize,
    history: usize,
    dim: usize,
    bits: usize,
    k: usize,
    seed: u64,
    isa: Option<Isa>,
    reps: usize,
}

fn parse() -> Result<Args, String> {
    let mut a = Args {
        candidates: 256,
        history: 1024,
        dim: 128,
        bits: 64,
        k: 32,
        seed: 42,
        isa: None,
        reps: 20,
    };
    let mut it = std::env::args().skip(1);
    while let Some(flag) = it.next() {
        if flag == "--help" || flag == "-h" {
            return Err(String::new());
        }
        let value = it.next().ok_or(format!("{flag} needs a value"))?;
        let num = || {
            value
                .parse::<usize>()
                .map_err(|e| format!("{flag} {value}: {e}"))
        };
        match flag.as_str() {
            "--candidates" => a.candidates = num()?,
            "--history" => a.history = num()?,
            "--dim" => a.dim = num()?,
            "--bits" => a.bits = num()?,
            "--k" => a.k = num()?,
            "--reps" => a.reps = num()?.max(1),
            "--seed" => a.seed = value.parse().map_err(|e| format!("--seed {value}: {e}"))?,
            "--isa" => a.isa = Some(Isa::from_name(&value).map_err(|e| e.to_string())?),
            _ => return Err(format!("unknown flag {flag}")),
        }
    }
    Ok(a)
}

/// Approximately standard normal values from the crate's exact generator (no `rand` needed).
fn normal(rng: &mut SplitMix64) -> f32 {
    rng.next_element()
}

/// A user's history: items drawn around a handful of interest centres; candidates: some near
/// those interests, some unrelated. Rows are L2-normalised, as embedding tables usually are.
fn request(a: &Args) -> (Vec<f32>, Vec<f32>) {
    let mut rng = SplitMix64::new(a.seed);
    let d = a.dim;
    let centres: Vec<Vec<f32>> = (0..12)
        .map(|_| (0..d).map(|_| normal(&mut rng)).collect())
        .collect();
    let mut item = |near: Option<usize>, spread: f32| -> Vec<f32> {
        let mut v: Vec<f32> = match near {
            Some(c) => centres[c]
                .iter()
                .map(|&x| x + spread * normal(&mut rng))
                .collect(),
            None => (0..d).map(|_| normal(&mut rng)).collect(),
        };
        let norm = v
            .iter()
            .map(|x| x * x)
            .sum::<f32>()
            .sqrt()
            .max(f32::MIN_POSITIVE);
        v.iter_mut().for_each(|x| *x /= norm);
        v
    };
    let history: Vec<f32> = (0..a.history)
        .flat_map(|i| item(Some(i % 12), 1.0))
        .collect();
    let candidates: Vec<f32> = (0..a.candidates)
        .flat_map(|j| item(if j % 4 == 3 { None } else { Some((j * 5) % 12) }, 1.0))
        .collect();
    (history, candidates)
}

/// Median time of `reps` runs of `f`: the thread's CPU time on Linux (every step runs on this
/// thread), wall time elsewhere.
fn time<R>(reps: usize, mut f: impl FnMut() -> R) -> (Duration, R) {
    let mut times = Vec::with_capacity(reps);
    let mut last = None;
    for _ in 0..reps {
        let t = ceiling::Clock::start();
        last = Some(std::hint::black_box(f()));
        times.push(t.elapsed());
    }
    times.sort();
    (times[reps / 2], last.expect("reps >= 1"))
}

/// Inner products of 4 candidates with 4 history items, `d` floats each: 16 independent
/// accumulators of 16 lanes (`mul_add`, so the compiler emits FMAs where the caller enables
/// them), each history and candidate chunk loaded once per block.
#[inline(always)]
fn dot4x4(c: [&[f32]; 4], h: [&[f32]; 4], out: &mut [[f32; 4]; 4]) {
    const W: usize = 16;
    let d = c[0].len();
    let body = d / W * W;
    let mut acc = [[[0.0f32; W]; 4]; 4];
    let mut k = 0;
    while k < body {
        let cv: [&[f32; W]; 4] = core::array::from_fn(|t| c[t][k..k + W].try_into().unwrap());
        let hv: [&[f32; W]; 4] = core::array::from_fn(|t| h[t][k..k + W].try_into().unwrap());
        for ci in 0..4 {
            for hi in 0..4 {
                for t in 0..W {
                    acc[ci][hi][t] = cv[ci][t].mul_add(hv[hi][t], acc[ci][hi][t]);
                }
            }
        }
        k += W;
    }
    for ci in 0..4 {
        for hi in 0..4 {
            let mut s: f32 = acc[ci][hi].iter().sum();
            for k in body..d {
                s = c[ci][k].mul_add(h[hi][k], s);
            }
            out[ci][hi] = s;
        }
    }
}

/// Inner products of every candidate with every history item (`scores[j * L + i]`), blocked 4 x 4
/// (the tails one by one); the body of [`exact_scores`] compiled per instruction set.
#[inline(always)]
fn scores_body(history: &[f32], candidates: &[f32], d: usize, scores: &mut [f32]) {
    let l = history.len() / d;
    let b = candidates.len() / d;
    let (b4, l4) = (b / 4 * 4, l / 4 * 4);
    let mut block = [[0.0f32; 4]; 4];
    for j in (0..b4).step_by(4) {
        let c = [0, 1, 2, 3].map(|t| &candidates[(j + t) * d..(j + t + 1) * d]);
        for i in (0..l4).step_by(4) {
            let h = [0, 1, 2, 3].map(|t| &history[(i + t) * d..(i + t + 1) * d]);
            dot4x4(c, h, &mut block);
            for (t, r) in block.iter().enumerate() {
                scores[(j + t) * l + i..(j + t) * l + i + 4].copy_from_slice(r);
            }
        }
    }
    for j in 0..b {
        let c = &candidates[j * d..(j + 1) * d];
        let from = if j < b4 { l4 } else { 0 };
        for i in from..l {
            let h = &history[i * d..(i + 1) * d];
            scores[j * l + i] = c.iter().zip(h).fold(0.0f32, |s, (x, y)| x.mul_add(*y, s));
        }
    }
}

/// Inner products of every candidate with every history item with explicit 512-bit FMAs: 4
/// candidates x 4 history items per block, 16 `zmm` accumulators, 8 loads per 16 FMAs; `d` a
/// multiple of 16 (the caller checks).
///
/// # Safety
/// AVX-512 F available; `scores` holds `B * L` floats.
#[cfg(target_arch = "x86_64")]
#[target_feature(enable = "avx512f")]
unsafe fn scores_avx512(history: &[f32], candidates: &[f32], d: usize, scores: &mut [f32]) {
    use core::arch::x86_64::*;
    let (l, b) = (history.len() / d, candidates.len() / d);
    let (b4, l4) = (b / 4 * 4, l / 4 * 4);
    let (hp, cp) = (history.as_ptr(), candidates.as_ptr());
    for j in (0..b4).step_by(4) {
        for i in (0..l4).step_by(4) {
            // SAFETY: rows `j..j + 4` of the candidates and `i..i + 4` of the history exist
            // (`j < b4`, `i < l4`), each `d` floats, read 16 at a time up to `d`.
            unsafe {
                let mut acc = [_mm512_setzero_ps(); 16];
                for k in (0..d).step_by(16) {
                    let c = [0, 1, 2, 3].map(|t| _mm512_loadu_ps(cp.add((j + t) * d + k)));
                    let h = [0, 1, 2, 3].map(|t| _mm512_loadu_ps(hp.add((i + t) * d + k)));
                    for ci in 0..4 {
                        for hi in 0..4 {
                            acc[ci * 4 + hi] = _mm512_fmadd_ps(c[ci], h[hi], acc[ci * 4 + hi]);
                        }
                    }
                }
                for ci in 0..4 {
                    for hi in 0..4 {
                        scores[(j + ci) * l + i + hi] = _mm512_reduce_add_ps(acc[ci * 4 + hi]);
                    }
                }
            }
        }
    }
    for j in 0..b {
        let c = &candidates[j * d..(j + 1) * d];
        let from = if j < b4 { l4 } else { 0 };
        for i in from..l {
            let h = &history[i * d..(i + 1) * d];
            scores[j * l + i] = c.iter().zip(h).fold(0.0f32, |s, (x, y)| x.mul_add(*y, s));
        }
    }
}

/// Inner products of every candidate with every history item: [`scores_avx512`] where the CPU
/// has AVX-512 F and `d` is a multiple of 16, else [`scores_body`] compiled for AVX2 + FMA where
/// the CPU has them (runtime detection, as the library does), else for the build's baseline.
fn exact_scores(history: &[f32], candidates: &[f32], d: usize, scores: &mut [f32]) {
    #[cfg(target_arch = "x86_64")]
    {
        #[target_feature(enable = "avx2,fma")]
        fn avx2(h: &[f32], c: &[f32], d: usize, s: &mut [f32]) {
            scores_body(h, c, d, s)
        }
        if std::arch::is_x86_feature_detected!("avx512f") && d.is_multiple_of(16) {
            // SAFETY: the CPU has AVX-512 F; `scores` holds `B * L` floats (the caller).
            return unsafe { scores_avx512(history, candidates, d, scores) };
        }
        if std::arch::is_x86_feature_detected!("avx2") && std::arch::is_x86_feature_detected!("fma")
        {
            // SAFETY: the CPU has AVX2 and FMA.
            return unsafe { avx2(history, candidates, d, scores) };
        }
    }
    scores_body(history, candidates, d, scores)
}

/// Exact inner-product top-K of every candidate (the retrieval SimHash approximates), as a fair
/// baseline: blocked SIMD dot products ([`exact_scores`]) and a partial selection
/// (`select_nth_unstable_by`, then a sort of the K selected), ties by index.
fn exact_topk(history: &[f32], candidates: &[f32], d: usize, k: usize) -> Vec<Vec<u32>> {
    let l = history.len() / d;
    let mut scores = vec![0.0f32; candidates.len() / d * l];
    exact_scores(history, candidates, d, &mut scores);
    let better = |a: &(f32, u32), b: &(f32, u32)| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1));
    let mut scored: Vec<(f32, u32)> = Vec::with_capacity(l);
    scores
        .chunks_exact(l.max(1))
        .take(candidates.len() / d)
        .map(|row| {
            scored.clear();
            scored.extend(row.iter().enumerate().map(|(i, &s)| (s, i as u32)));
            let kk = k.min(l);
            if kk == 0 {
                return Vec::new();
            }
            if kk < l {
                scored.select_nth_unstable_by(kk - 1, better);
            }
            scored[..kk].sort_unstable_by(better);
            scored[..kk].iter().map(|s| s.1).collect()
        })
        .collect()
}

fn main() -> ExitCode {
    let a = match parse() {
        Ok(a) => a,
        Err(msg) => {
            if !msg.is_empty() {
                eprintln!("error: {msg}");
            }
            eprintln!(
                "usage: demo [--candidates B] [--history L] [--dim d] [--bits m] [--k K] [--seed S] \
                 [--isa scalar|avx2|avx512bw|avx512|neon] [--reps N]"
            );
            return ExitCode::from(2);
        }
    };
    match run(&a) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(a: &Args) -> Result<(), eta_hamming::Error> {
    if let Some(isa) = a.isa {
        isa.force()?;
    }
    let (b, l, d, m, k) = (a.candidates, a.history, a.dim, a.bits, a.k);
    println!(
        "eta-hamming {} demo: one ETA request on built-in data",
        eta_hamming::VERSION
    );
    println!("  B = {b} candidates, L = {l} history items, d = {d}, m = {m} bits, K = {k}");
    let available: Vec<&str> = Isa::available().iter().map(|i| i.name()).collect();
    let env = match Isa::env_override() {
        None => "unset".to_string(),
        Some(Ok(i)) => format!("{i}"),
        Some(Err(e)) => format!("ignored: {e}"),
    };
    println!(
        "  kernel: {} (detected best: {}, available: {}, {}: {env})",
        Isa::current(),
        Isa::detect(),
        available.join(", "),
        eta_hamming::ISA_ENV_VAR
    );

    let (history, candidates) = request(a);
    let hasher = SimHasher::from_seed(d, m, a.seed)?;

    let (t_hist, h) = time(a.reps, || hasher.encode_history(&history));
    let h = h?;
    let (t_cand, q) = time(a.reps, || hasher.encode(&candidates));
    let q = q?;
    let (t_scan, top) = time(a.reps, || TopK::shared(q.view(), h.view(), k));
    let top = top?;
    let (t_exact, exact) = time(1.max(a.reps / 10), || {
        exact_topk(&history, &candidates, d, k)
    });

    let per_s = |n: usize, t: Duration| n as f64 / t.as_secs_f64().max(1e-12);
    println!();
    println!("step                         median time      throughput");
    println!(
        "hash history (L x d -> m)    {:>10.1} us    {:>8.2} M embeddings/s",
        t_hist.as_secs_f64() * 1e6,
        per_s(l, t_hist) / 1e6
    );
    println!(
        "hash candidates (B x d -> m) {:>10.1} us    {:>8.2} M embeddings/s",
        t_cand.as_secs_f64() * 1e6,
        per_s(b, t_cand) / 1e6
    );
    println!(
        "Hamming scan + top-K         {:>10.1} us    {:>8.2} G fingerprints compared/s",
        t_scan.as_secs_f64() * 1e6,
        per_s(b * l, t_scan) / 1e9
    );
    let total = t_cand + t_scan;
    println!(
        "exact inner-product top-K    {:>10.1} us    ({:.1}x the SimHash path: hash candidates + scan)",
        t_exact.as_secs_f64() * 1e6,
        t_exact.as_secs_f64() / total.as_secs_f64().max(1e-12)
    );
    println!(
        "  (exact baseline: blocked 4 x 4 dot products, explicit AVX-512 FMAs where the CPU has\n   \
         them, else compiler-vectorised with FMA where available, and a partial\n   \
         selection of the K best per candidate; the SimHash path includes hashing the\n   \
         candidates, not the history, which is hashed once when it changes)"
    );
    // This CPU's yardsticks for the kernel that ran, measured now.
    let isa = Isa::current();
    let min = Duration::from_millis(20);
    let ceil = ceiling::popcount_ceiling(isa, 5, min);
    let peak = ceiling::fma_peak(isa, 5, min);
    println!();
    match ceil {
        Some(c) => {
            let c_m = c * 64.0 / m as f64;
            let scaled = if m == 64 {
                String::new()
            } else {
                format!(", {:.2} scaled to m = {m}", c_m / 1e9)
            };
            println!(
                "{isa} popcount ceiling (XOR + popcount only, L1-resident, measured now): {:.2} G fp/s \
                 at m = 64{scaled}; the scan + top-K ran at {:.0}% of it",
                c / 1e9,
                100.0 * per_s(b * l, t_scan) / c_m
            );
        }
        None => println!("{isa}: no popcount ceiling loop for this instruction set yet"),
    }
    if let Some(p) = peak {
        println!(
            "{isa} FMA peak (measured now): {:.1} G f32 FMA/s; hashing ran at {:.0}% (history) \
             and {:.0}% (candidates) of it ({d} x {m} FMAs per embedding)",
            p / 1e9,
            100.0 * per_s(l, t_hist) * (d * m) as f64 / p,
            100.0 * per_s(b, t_cand) * (d * m) as f64 / p
        );
    }

    println!();
    for j in 0..b.min(3) {
        let items: Vec<String> = top
            .indices(j)
            .iter()
            .zip(top.distances(j))
            .take(6)
            .map(|(i, dd)| format!("#{i} (d={dd})"))
            .collect();
        println!(
            "candidate {j}: nearest {}{}",
            items.join(", "),
            if top.indices(j).len() > 6 {
                ", ..."
            } else {
                ""
            }
        );
    }

    let mut hits = 0usize;
    let mut total_k = 0usize;
    for (j, want) in exact.iter().enumerate() {
        let got: std::collections::HashSet<u32> = top.indices(j).iter().copied().collect();
        hits += want.iter().filter(|i| got.contains(i)).count();
        total_k += want.len();
    }
    let recall = hits as f64 / total_k.max(1) as f64;
    let random = (k.min(l) as f64) / (l.max(1) as f64);
    println!();
    println!(
        "recall@{k} of the Hamming top-K against the exact inner-product top-K: {:.1}% (random retrieval: {:.1}%)",
        100.0 * recall,
        100.0 * random
    );
    Ok(())
}
