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
//!     [--bits 64] [--k 32] [--seed 42] [--isa scalar|avx2|avx512|neon] [--reps 20]
//! ```

use std::process::ExitCode;
use std::time::{Duration, Instant};

use eta_hamming::simhash::SplitMix64;
use eta_hamming::{Isa, SimHasher, TopK};

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

/// Median wall time of `reps` runs of `f`.
fn time<R>(reps: usize, mut f: impl FnMut() -> R) -> (Duration, R) {
    let mut times = Vec::with_capacity(reps);
    let mut last = None;
    for _ in 0..reps {
        let t = Instant::now();
        last = Some(std::hint::black_box(f()));
        times.push(t.elapsed());
    }
    times.sort();
    (times[reps / 2], last.expect("reps >= 1"))
}

/// Exact inner-product top-K of every candidate (the retrieval SimHash approximates).
fn exact_topk(history: &[f32], candidates: &[f32], d: usize, k: usize) -> Vec<Vec<u32>> {
    candidates
        .chunks_exact(d)
        .map(|c| {
            let mut scored: Vec<(f32, u32)> = history
                .chunks_exact(d)
                .enumerate()
                .map(|(i, h)| (c.iter().zip(h).map(|(x, y)| x * y).sum::<f32>(), i as u32))
                .collect();
            scored.sort_by(|a, b| b.0.total_cmp(&a.0).then(a.1.cmp(&b.1)));
            scored.iter().take(k).map(|s| s.1).collect()
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
                 [--isa scalar|avx2|avx512|neon] [--reps N]"
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
