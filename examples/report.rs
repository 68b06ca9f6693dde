//! The cross-CPU report: on the CPU it runs on, prints the CPU model and detected features, then
//! throughput for every available instruction set on the main shapes, and multi-core scaling
//! (1, 2, 4, ... threads up to every core, and `threads = 0`, shown as `auto`),
//! as Markdown (stdout) and JSON (`--json FILE`). About two minutes on a modern core.
//!
//! ```text
//! cargo run --release --example report -- [--json report.json] [--quick] [--threads N]
//! ```
//!
//! Each cell is the median of repeated timed runs, timed by the measuring thread's CPU time on
//! Linux (wall time elsewhere; the header says which), so that a machine shared with other work
//! still gives usable figures (the multi-thread rows are timed by wall time) (a run repeats the call until it takes at least
//! `--min-ms` milliseconds). Scan throughput is fingerprints compared per second (`B * L` per
//! call), encode throughput embeddings hashed per second. Instruction sets are measured side by
//! side in one process, on the same data, so their ratios are meaningful even on a noisy machine.
//!
//! Ceilings: before the rows, the report measures per instruction set the popcount ceiling (the
//! faster of two XOR + popcount loops over an L1-resident history, one writing every distance,
//! one writing a mask bit per distance compared against a threshold: `examples/common/
//! ceiling.rs`) and the FMA peak, and prints every single-thread scan cell as a percentage of
//! its instruction set's popcount ceiling (scaled by `64 / m`: the ceiling is measured at
//! m = 64) and every encode cell as a percentage of its FMA peak (`d * m` FMAs per embedding).

use std::fmt::Write as _;
use std::time::{Duration, Instant};

use eta_hamming::simhash::SplitMix64;
use eta_hamming::{Engine, Fingerprints, History, HistoryBatch, Isa, LaneType, SimHasher};

#[path = "common/ceiling.rs"]
mod ceiling;

/// One instruction set's yardsticks, measured in this run.
struct Ceiling {
    isa: Isa,
    /// Fingerprints compared per second at m = 64 by the faster of the two ceiling loops.
    popcount: Option<f64>,
    /// The distance loop's and the filter loop's figures, from which `popcount` is taken.
    loops: Option<(f64, f64)>,
    /// `f32` FMAs per second at the FMA peak.
    fma: Option<f64>,
}

/// `per_second` as a percentage of `isa`'s popcount ceiling scaled to `m` bits.
fn scan_pct(ceilings: &[Ceiling], isa: Isa, m: usize, per_second: f64) -> Option<f64> {
    let c = ceilings.iter().find(|c| c.isa == isa)?.popcount?;
    Some(100.0 * per_second / (c * 64.0 / m as f64))
}

/// Embeddings per second as a percentage of `isa`'s FMA peak (`d * m` FMAs per embedding).
fn encode_pct(ceilings: &[Ceiling], isa: Isa, d: usize, m: usize, per_second: f64) -> Option<f64> {
    let c = ceilings.iter().find(|c| c.isa == isa)?.fma?;
    Some(100.0 * per_second * (d * m) as f64 / c)
}

struct Opts {
    json: Option<String>,
    quick: bool,
    min_ms: u64,
    reps: usize,
    threads: usize,
}

fn opts() -> Opts {
    let mut o = Opts {
        json: None,
        quick: false,
        min_ms: 100,
        reps: 7,
        threads: 0,
    };
    let mut it = std::env::args().skip(1);
    while let Some(a) = it.next() {
        match a.as_str() {
            "--json" => o.json = it.next(),
            "--quick" => o.quick = true,
            "--min-ms" => o.min_ms = it.next().and_then(|v| v.parse().ok()).unwrap_or(o.min_ms),
            "--reps" => o.reps = it.next().and_then(|v| v.parse().ok()).unwrap_or(o.reps),
            "--threads" => o.threads = it.next().and_then(|v| v.parse().ok()).unwrap_or(0),
            "--bench" => {} // passed by `cargo bench`-style runners; ignored
            other => {
                eprintln!("unknown argument {other}; usage: report [--json FILE] [--quick] [--min-ms N] [--reps N] [--threads N]");
                std::process::exit(2);
            }
        }
    }
    if o.quick {
        o.min_ms = 15;
        o.reps = 3;
    }
    o
}

/// Median over `reps` runs of the per-call time, each run repeating `f` for at least `min`;
/// timed by the thread's CPU time (single-thread calls).
fn measure(reps: usize, min: Duration, f: impl FnMut()) -> Duration {
    measure_by(reps, min, true, f)
}

/// [`measure`] by wall time: for calls that run on several threads.
fn measure_wall(reps: usize, min: Duration, f: impl FnMut()) -> Duration {
    measure_by(reps, min, false, f)
}

fn measure_by(reps: usize, min: Duration, cpu: bool, mut f: impl FnMut()) -> Duration {
    f(); // warm-up: caches, page faults, first-use dispatch
    let mut per_call = Vec::with_capacity(reps);
    for _ in 0..reps {
        let (t, w) = (ceiling::Clock::start(), Instant::now());
        let elapsed = || if cpu { t.elapsed() } else { w.elapsed() };
        let calls = ceiling::repeat_for(min, elapsed, &mut f);
        per_call.push(elapsed().div_f64(calls as f64));
    }
    per_call.sort();
    per_call[reps / 2]
}

/// `b` per-query histories of `l / 2` to `l` items each, gathered from a table of `2 l` random
/// fingerprints of `m` bits (the same data for every instruction set and thread count).
fn per_query_histories(m: usize, l: usize, b: usize) -> HistoryBatch {
    let table = random_fps(m, l * 2, 4);
    let ids: Vec<Vec<u64>> = (0..b)
        .map(|j| {
            let len = l / 2 + (j * 131) % (l / 2 + 1);
            (0..len as u64)
                .map(|i| (i * 7 + j as u64 * 13) % (l as u64 * 2))
                .collect()
        })
        .collect();
    let refs: Vec<&[u64]> = ids.iter().map(|v| v.as_slice()).collect();
    HistoryBatch::gather(table.view(), &refs).unwrap()
}

fn random_fps(m: usize, n: usize, seed: u64) -> Fingerprints {
    let mut f = Fingerprints::zeroed(m, n).unwrap();
    let layout = f.layout();
    let lanes = layout.lanes();
    let mut rng = SplitMix64::new(seed);
    macro_rules! fill {
        ($t:ty) => {
            for (i, x) in f.lanes_mut::<$t>().unwrap().iter_mut().enumerate() {
                *x = (rng.next() & layout.lane_mask(i % lanes)) as $t;
            }
        };
    }
    match layout.lane_type() {
        LaneType::U8 => fill!(u8),
        LaneType::U16 => fill!(u16),
        LaneType::U32 => fill!(u32),
        LaneType::U64 => fill!(u64),
    }
    f
}

fn cpu_model() -> String {
    std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| {
                    l.starts_with("model name")
                        || l.starts_with("Model")
                        || l.starts_with("CPU part")
                })
                .and_then(|l| l.split(':').nth(1))
                .map(|v| v.trim().to_string())
        })
        .unwrap_or_else(|| "unknown".into())
}

fn features() -> Vec<&'static str> {
    #[allow(unused_mut)]
    let mut f = Vec::new();
    #[cfg(target_arch = "x86_64")]
    {
        macro_rules! probe {
            ($($name:tt),*) => {$( if std::arch::is_x86_feature_detected!($name) { f.push($name); } )*};
        }
        probe!(
            "popcnt",
            "avx2",
            "fma",
            "f16c",
            "avx512f",
            "avx512bw",
            "avx512vl",
            "avx512vpopcntdq",
            "avx512bitalg",
            "avx512vbmi2",
            "bmi1",
            "bmi2"
        );
    }
    #[cfg(target_arch = "aarch64")]
    {
        macro_rules! probe {
            ($($name:tt),*) => {$( if std::arch::is_aarch64_feature_detected!($name) { f.push($name); } )*};
        }
        probe!("neon", "fp16", "sve", "sve2");
    }
    f
}

struct Row {
    kind: &'static str,
    shape: String,
    isa: Isa,
    threads: usize,
    seconds: f64,
    per_second: f64,
    unit: &'static str,
    /// Percentage of the instruction set's ceiling (single-thread rows).
    pct: Option<f64>,
}

fn main() {
    let o = opts();
    let min = Duration::from_millis(o.min_ms);
    let isas = Isa::available();
    let k = 32;
    let mut rows: Vec<Row> = Vec::new();
    let t0 = Instant::now();
    let ceilings: Vec<Ceiling> = isas
        .iter()
        .map(|&isa| {
            let loops = ceiling::popcount_ceilings(isa, o.reps, min);
            Ceiling {
                isa,
                popcount: loops.map(|(d, f)| d.max(f)),
                loops,
                fma: ceiling::fma_peak(isa, o.reps, min),
            }
        })
        .collect();

    let scan_bits: &[usize] = if o.quick {
        &[64, 128]
    } else {
        &[32, 64, 128, 256]
    };
    let scan_lens: &[usize] = if o.quick {
        &[1024, 16384]
    } else {
        &[1024, 16384, 131072]
    };
    let b = 256;

    // Shared history: B = 256 queries, K = 32.
    for &m in scan_bits {
        let q = random_fps(m, b, 1);
        let table = random_fps(m, *scan_lens.iter().max().unwrap(), 2);
        for &l in scan_lens {
            let h = History::from_fingerprints(table.view().slice(0, l)).unwrap();
            let (mut idx, mut dist) = (vec![0u32; b * k], vec![0u16; b * k]);
            for &isa in &isas {
                let e = Engine::new(isa).unwrap();
                let t = measure(o.reps, min, || {
                    e.topk_shared(q.view(), h.view(), k, &mut idx, &mut dist)
                        .unwrap();
                });
                rows.push(Row {
                    kind: "scan shared",
                    shape: format!("m={m} L={l} B={b} K={k}"),
                    isa,
                    threads: 1,
                    seconds: t.as_secs_f64(),
                    per_second: (b * l) as f64 / t.as_secs_f64(),
                    unit: "G fp/s",
                    pct: scan_pct(&ceilings, isa, m, (b * l) as f64 / t.as_secs_f64()),
                });
            }
        }
    }

    // Per-query histories: B = 256, each its own history of L items (lengths L/2..L).
    for &m in scan_bits {
        let q = random_fps(m, b, 3);
        for &l in scan_lens.iter().filter(|&&l| l <= 16384) {
            let hb = per_query_histories(m, l, b);
            let compared: usize = hb.lens().iter().map(|&x| x as usize).sum();
            let (mut idx, mut dist, mut filled) =
                (vec![0u32; b * k], vec![0u16; b * k], vec![0u32; b]);
            for &isa in &isas {
                let e = Engine::new(isa).unwrap();
                let t = measure(o.reps, min, || {
                    e.topk_batch(q.view(), hb.view(), k, &mut idx, &mut dist, &mut filled)
                        .unwrap();
                });
                rows.push(Row {
                    kind: "scan per-query",
                    shape: format!("m={m} L={l} B={b} K={k}"),
                    isa,
                    threads: 1,
                    seconds: t.as_secs_f64(),
                    per_second: compared as f64 / t.as_secs_f64(),
                    unit: "G fp/s",
                    pct: scan_pct(&ceilings, isa, m, compared as f64 / t.as_secs_f64()),
                });
            }
        }
    }

    // SimHash encode.
    let n = if o.quick { 2048 } else { 8192 };
    for &d in &[64usize, 128, 256] {
        let mut rng = SplitMix64::new(9);
        let emb: Vec<f32> = (0..n * d).map(|_| rng.next_element()).collect();
        // Every m of issue 14's targets: the small ones run the across-embeddings tile where
        // an instruction set has it (docs/design/encode.md).
        let ms: &[usize] = if o.quick {
            &[4, 64]
        } else {
            &[4, 8, 16, 32, 64, 128]
        };
        for &m in ms {
            let hasher = SimHasher::from_seed(d, m, 5).unwrap();
            let lanes = hasher.layout().lanes();
            // Output buffers of the layout's own lane type (one is used).
            let (mut o8, mut o16) = (vec![0u8; n * lanes], vec![0u16; n * lanes]);
            let (mut o32, mut o64) = (vec![0u32; n * lanes], vec![0u64; n * lanes]);
            for &isa in &isas {
                let e = Engine::new(isa).unwrap();
                // Scalar encode is slow; give it fewer embeddings.
                let nn = if isa == Isa::Scalar { n / 8 } else { n };
                let t = measure(o.reps, min, || {
                    match hasher.layout().lane_type() {
                        LaneType::U8 => e.encode_into(&hasher, &emb, nn, &mut o8),
                        LaneType::U16 => e.encode_into(&hasher, &emb, nn, &mut o16),
                        LaneType::U32 => e.encode_into(&hasher, &emb, nn, &mut o32),
                        LaneType::U64 => e.encode_into(&hasher, &emb, nn, &mut o64),
                    }
                    .unwrap()
                });
                rows.push(Row {
                    kind: "encode",
                    shape: format!("d={d} m={m}"),
                    isa,
                    threads: 1,
                    seconds: t.as_secs_f64(),
                    per_second: nn as f64 / t.as_secs_f64(),
                    unit: "M emb/s",
                    pct: encode_pct(&ceilings, isa, d, m, nn as f64 / t.as_secs_f64()),
                });
            }
        }
    }

    // Multi-core scaling on the best instruction set (m = 64, the same shapes with --quick):
    // shared history with many queries (long and shorter history), one query over a long
    // history (split by history ranges), per-query histories; `auto` is `threads = 0`.
    let best = Engine::current();
    let max_threads = if o.threads > 0 {
        o.threads
    } else {
        std::thread::available_parallelism().map_or(1, |n| n.get())
    };
    let mut threads_list: Vec<usize> = (0..)
        .map(|i| 1usize << i)
        .take_while(|&t| t < max_threads)
        .collect();
    threads_list.push(max_threads);
    threads_list.push(0);
    let long = 131072;
    let q = random_fps(64, b, 7);
    let h = History::from_fingerprints(random_fps(64, long, 8).view()).unwrap();
    for &(bq, l, kind, label) in &[
        (b, long, "threads, many queries", "many queries"),
        (b, 16384, "threads, many queries", "many queries"),
        (1, long, "threads, one query", "one query"),
    ] {
        let qv = q.view().slice(0, bq);
        let hv = h.view().slice(0, l);
        let (mut idx, mut dist) = (vec![0u32; bq * k], vec![0u16; bq * k]);
        for &t in &threads_list {
            let dur = measure_wall(o.reps, min, || {
                best.parallel(t)
                    .topk_shared(qv, hv, k, &mut idx, &mut dist)
                    .unwrap();
            });
            rows.push(Row {
                kind,
                shape: format!("m=64 L={l} B={bq} K={k} ({label})"),
                isa: best.isa(),
                threads: t,
                seconds: dur.as_secs_f64(),
                per_second: (bq * l) as f64 / dur.as_secs_f64(),
                unit: "G fp/s",
                pct: None,
            });
        }
    }
    {
        let l = 1024;
        let hb = per_query_histories(64, l, b);
        let compared: usize = hb.lens().iter().map(|&x| x as usize).sum();
        let (mut idx, mut dist, mut filled) = (vec![0u32; b * k], vec![0u16; b * k], vec![0u32; b]);
        for &t in &threads_list {
            let dur = measure_wall(o.reps, min, || {
                best.parallel(t)
                    .topk_batch(q.view(), hb.view(), k, &mut idx, &mut dist, &mut filled)
                    .unwrap();
            });
            rows.push(Row {
                kind: "threads, per-query",
                shape: format!("m=64 L={l} B={b} K={k} (per-query histories)"),
                isa: best.isa(),
                threads: t,
                seconds: dur.as_secs_f64(),
                per_second: compared as f64 / dur.as_secs_f64(),
                unit: "G fp/s",
                pct: None,
            });
        }
    }

    let elapsed = t0.elapsed();
    let model = cpu_model();
    let feats = features();
    print_markdown(&model, &feats, &isas, &ceilings, &rows, elapsed);
    if let Some(path) = o.json {
        let json = to_json(&model, &feats, &ceilings, &rows, elapsed);
        if let Err(e) = std::fs::write(&path, json) {
            eprintln!("cannot write {path}: {e}");
            std::process::exit(1);
        }
        eprintln!("wrote {path}");
    }
}

fn scale(r: &Row) -> f64 {
    if r.unit.starts_with('G') {
        r.per_second / 1e9
    } else {
        r.per_second / 1e6
    }
}

fn print_markdown(
    model: &str,
    feats: &[&str],
    isas: &[Isa],
    ceilings: &[Ceiling],
    rows: &[Row],
    elapsed: Duration,
) {
    println!("### {model}\n");
    println!(
        "eta-hamming {}, features: {}; best: {}; {} logical CPUs; timed by {}; report took {:.0} s.\n",
        eta_hamming::VERSION,
        feats.join(" "),
        Isa::detect(),
        std::thread::available_parallelism().map_or(1, |n| n.get()),
        if ceiling::Clock::is_cpu_time() {
            "thread CPU time"
        } else {
            "wall time"
        },
        elapsed.as_secs_f64()
    );
    println!(
        "| ceilings (this run) | popcount ceiling, m=64 (G fp/s; {}q x {} items, L1) | distance loop | filter loop | FMA peak (G f32 FMA/s) |",
        ceiling::CEIL_QUERIES,
        ceiling::CEIL_ITEMS
    );
    println!("| --- | ---: | ---: | ---: | ---: |");
    let g = |x: Option<f64>| x.map_or("not measured".to_string(), |v| format!("{:.2}", v / 1e9));
    for c in ceilings {
        println!(
            "| {} | {} | {} | {} | {} |",
            c.isa,
            g(c.popcount),
            g(c.loops.map(|l| l.0)),
            g(c.loops.map(|l| l.1)),
            g(c.fma)
        );
    }
    println!(
        "\nCells: throughput (percentage of the instruction set's ceiling from this run: scans of \
         the popcount ceiling scaled by 64/m, encode of the FMA peak at d*m FMAs per embedding). \
         The popcount ceiling is the faster of the distance loop (every distance written as u16) \
         and the filter loop (every distance compared against a threshold, one mask bit per item \
         written).\n"
    );
    for kind in ["scan shared", "scan per-query", "encode"] {
        let unit = rows.iter().find(|r| r.kind == kind).map_or("", |r| r.unit);
        let mut head = format!("| {kind} ({unit}) |");
        let mut sep = "| --- |".to_string();
        for isa in isas {
            let _ = write!(head, " {isa} |");
            sep.push_str(" ---: |");
        }
        if isas.len() > 1 {
            let _ = write!(head, " best / scalar |");
            sep.push_str(" ---: |");
        }
        println!("{head}\n{sep}");
        let mut shapes: Vec<&str> = Vec::new();
        for r in rows.iter().filter(|r| r.kind == kind) {
            if !shapes.contains(&r.shape.as_str()) {
                shapes.push(&r.shape);
            }
        }
        for s in shapes {
            let cells: Vec<&Row> = rows
                .iter()
                .filter(|r| r.kind == kind && r.shape == s)
                .collect();
            let mut line = format!("| {s} |");
            for isa in isas {
                match cells.iter().find(|r| r.isa == *isa) {
                    Some(r) => match r.pct {
                        Some(p) => {
                            let _ = write!(line, " {:.2} ({:.0}%) |", scale(r), p);
                        }
                        None => {
                            let _ = write!(line, " {:.2} |", scale(r));
                        }
                    },
                    None => line.push_str(" |"),
                }
            }
            if isas.len() > 1 {
                let sc = cells
                    .iter()
                    .find(|r| r.isa == Isa::Scalar)
                    .map(|r| r.per_second);
                let best = cells.iter().map(|r| r.per_second).fold(0.0, f64::max);
                if let Some(sc) = sc {
                    let _ = write!(line, " {:.1}x |", best / sc);
                }
            }
            println!("{line}");
        }
        println!();
    }
    let threaded: Vec<&Row> = rows
        .iter()
        .filter(|r| r.kind.starts_with("threads"))
        .collect();
    println!(
        "| threads ({}) | shape | G fp/s | speed-up |",
        threaded
            .first()
            .map_or("".to_string(), |r| r.isa.to_string())
    );
    println!("| ---: | --- | ---: | ---: |");
    for r in &threaded {
        // Speed-up over one thread on the same shape.
        let base = threaded
            .iter()
            .find(|o| o.shape == r.shape && o.threads == 1)
            .map_or(0.0, |o| o.per_second);
        let up = if base > 0.0 { r.per_second / base } else { 0.0 };
        let t = if r.threads == 0 {
            "auto".to_string()
        } else {
            r.threads.to_string()
        };
        println!("| {t} | {} | {:.2} | {:.2}x |", r.shape, scale(r), up);
    }
}

fn json_str(s: &str) -> String {
    let mut o = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => o.push_str("\\\""),
            '\\' => o.push_str("\\\\"),
            c if (c as u32) < 0x20 => {
                let _ = write!(o, "\\u{:04x}", c as u32);
            }
            c => o.push(c),
        }
    }
    o.push('"');
    o
}

fn to_json(
    model: &str,
    feats: &[&str],
    ceilings: &[Ceiling],
    rows: &[Row],
    elapsed: Duration,
) -> String {
    let mut s = String::new();
    let _ = writeln!(s, "{{");
    let _ = writeln!(
        s,
        "  \"crate_version\": {},",
        json_str(eta_hamming::VERSION)
    );
    let _ = writeln!(s, "  \"cpu\": {},", json_str(model));
    let _ = writeln!(s, "  \"arch\": {},", json_str(std::env::consts::ARCH));
    let f: Vec<String> = feats.iter().map(|x| json_str(x)).collect();
    let _ = writeln!(s, "  \"features\": [{}],", f.join(", "));
    let _ = writeln!(s, "  \"best_isa\": {},", json_str(Isa::detect().name()));
    let _ = writeln!(
        s,
        "  \"logical_cpus\": {},",
        std::thread::available_parallelism().map_or(1, |n| n.get())
    );
    let _ = writeln!(s, "  \"seconds\": {:.1},", elapsed.as_secs_f64());
    let num = |x: Option<f64>| x.map_or("null".to_string(), |v| format!("{v:.1}"));
    let c: Vec<String> = ceilings
        .iter()
        .map(|c| {
            format!(
                "{{\"isa\": {}, \"popcount_fp_per_second_m64\": {}, \"distance_loop_fp_per_second_m64\": {}, \"filter_loop_fp_per_second_m64\": {}, \"fma_per_second\": {}}}",
                json_str(c.isa.name()),
                num(c.popcount),
                num(c.loops.map(|l| l.0)),
                num(c.loops.map(|l| l.1)),
                num(c.fma)
            )
        })
        .collect();
    let _ = writeln!(s, "  \"ceilings\": [{}],", c.join(", "));
    let _ = writeln!(s, "  \"rows\": [");
    for (i, r) in rows.iter().enumerate() {
        let _ = writeln!(
            s,
            "    {{\"kind\": {}, \"shape\": {}, \"isa\": {}, \"threads\": {}, \"seconds_per_call\": {:.9}, \"per_second\": {:.1}, \"percent_of_ceiling\": {}}}{}",
            json_str(r.kind),
            json_str(&r.shape),
            json_str(r.isa.name()),
            r.threads,
            r.seconds,
            r.per_second,
            r.pct.map_or("null".to_string(), |p| format!("{p:.1}")),
            if i + 1 < rows.len() { "," } else { "" }
        );
    }
    let _ = writeln!(s, "  ]");
    let _ = writeln!(s, "}}");
    s
}
