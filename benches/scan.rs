//! Criterion benchmarks of the scans, per instruction set and shape. Throughput is in
//! fingerprints compared (`B * L` per call), so `elements/s` reads as comparisons per second.
//!
//! `cargo bench --bench scan` runs everything; a filter such as
//! `cargo bench --bench scan -- 'shared/m64/L16384'` runs one group (every instruction set side
//! by side). Groups: `shared/...` (top-K over one history), `batch/...` (top-K over per-query
//! histories), `dist_shared/...` and `dist_batch/...` (full distance matrices).
//!
//! The shapes include the targets of the scan work on one core: shared B=256, K=32,
//! L=16384 at m=64/128/256; shared L=131072, m=64; per-query B=256, L=1024, m=64; and one query
//! over L=1024 (`shared/m64/L1024/B1`, `batch/m64/L1024/B1`), where the time per call matters;
//! small m (`m = 4, 8, 16`, `L = 1024`, `B = 256`, `K = 32` and 50, shared and per-query).

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use eta_hamming::{Engine, Fingerprints, HistoryBatch, Isa};
use std::hint::black_box;

/// Deterministic pseudo-random fingerprints (SplitMix64), no dependence on `rand`'s stability.
fn fingerprints(m: usize, n: usize, seed: u64) -> Fingerprints {
    let mut f = Fingerprints::zeroed(m, n).unwrap();
    let mut rng = eta_hamming::simhash::SplitMix64::new(seed);
    let layout = f.layout();
    let lanes = layout.lanes();
    match layout.lane_type() {
        eta_hamming::LaneType::U8 => fill(f.lanes_mut::<u8>().unwrap(), lanes, layout, &mut rng),
        eta_hamming::LaneType::U16 => fill(f.lanes_mut::<u16>().unwrap(), lanes, layout, &mut rng),
        eta_hamming::LaneType::U32 => fill(f.lanes_mut::<u32>().unwrap(), lanes, layout, &mut rng),
        eta_hamming::LaneType::U64 => fill(f.lanes_mut::<u64>().unwrap(), lanes, layout, &mut rng),
    }
    f
}

fn fill<T: eta_hamming::Lane>(
    out: &mut [T],
    lanes: usize,
    layout: eta_hamming::Layout,
    rng: &mut eta_hamming::simhash::SplitMix64,
) {
    for (i, o) in out.iter_mut().enumerate() {
        *o = T::from_u64(rng.next() & layout.lane_mask(i % lanes));
    }
}

/// `b` full per-query histories of `l` items, history `j` holding rows `(i * step + j) % 4l` of a
/// table of `4l` random fingerprints.
fn gathered_batch(m: usize, l: usize, b: usize, seed: u64, step: u64) -> HistoryBatch {
    let table = fingerprints(m, l * 4, seed);
    let ids: Vec<Vec<u64>> = (0..b)
        .map(|j| {
            (0..l as u64)
                .map(|i| (i * step + j as u64) % (l as u64 * 4))
                .collect()
        })
        .collect();
    let refs: Vec<&[u64]> = ids.iter().map(|v| v.as_slice()).collect();
    HistoryBatch::gather(table.view(), &refs).unwrap()
}

fn engines() -> Vec<Engine> {
    Isa::available()
        .into_iter()
        .map(|i| Engine::new(i).unwrap())
        .collect()
}

fn shared(c: &mut Criterion) {
    let k = 32;
    for &(m, l, b) in &[
        (64usize, 1024usize, 1usize),
        (64, 16384, 256),
        (128, 16384, 256),
        (256, 16384, 256),
        (32, 16384, 256),
        (16, 16384, 256),
        (8, 16384, 256),
        (64, 131072, 256),
        (1024, 4096, 64),
    ] {
        let q = fingerprints(m, b, 1);
        let h = eta_hamming::History::from_fingerprints(fingerprints(m, l, 2).view()).unwrap();
        let mut group = c.benchmark_group(format!("shared/m{m}/L{l}/B{b}/K{k}"));
        group.throughput(Throughput::Elements((b * l) as u64));
        if b * l > 1 << 22 {
            group.sample_size(10);
        }
        let (mut idx, mut dist) = (vec![0u32; b * k], vec![0u16; b * k]);
        for e in engines() {
            group.bench_function(BenchmarkId::from_parameter(e.isa()), |bench| {
                bench.iter(|| {
                    e.topk_shared(black_box(q.view()), h.view(), k, &mut idx, &mut dist)
                        .unwrap()
                })
            });
        }
        group.finish();
    }
}

fn batch(c: &mut Criterion) {
    let k = 32;
    for &(m, l, b) in &[
        (64usize, 1024usize, 256usize),
        (64, 1024, 1),
        (64, 16384, 256),
        (128, 1024, 256),
    ] {
        let q = fingerprints(m, b, 3);
        let h = gathered_batch(m, l, b, 4, 7);
        let mut group = c.benchmark_group(format!("batch/m{m}/L{l}/B{b}/K{k}"));
        group.throughput(Throughput::Elements((b * l) as u64));
        group.sample_size(10);
        let (mut idx, mut dist, mut filled) = (vec![0u32; b * k], vec![0u16; b * k], vec![0u32; b]);
        for e in engines() {
            group.bench_function(BenchmarkId::from_parameter(e.isa()), |bench| {
                bench.iter(|| {
                    e.topk_batch(
                        black_box(q.view()),
                        h.view(),
                        k,
                        &mut idx,
                        &mut dist,
                        &mut filled,
                    )
                    .unwrap()
                })
            });
        }
        group.finish();
    }
}

fn distances(c: &mut Criterion) {
    for &(m, l, b) in &[(64usize, 16384usize, 256usize), (256, 4096, 64)] {
        let q = fingerprints(m, b, 5);
        let h = eta_hamming::History::from_fingerprints(fingerprints(m, l, 6).view()).unwrap();
        let mut group = c.benchmark_group(format!("dist_shared/m{m}/L{l}/B{b}"));
        group.throughput(Throughput::Elements((b * l) as u64));
        group.sample_size(10);
        let mut out = vec![0u16; b * l];
        for e in engines() {
            group.bench_function(BenchmarkId::from_parameter(e.isa()), |bench| {
                bench.iter(|| {
                    e.distances_shared(black_box(q.view()), h.view(), &mut out)
                        .unwrap()
                })
            });
        }
        group.finish();
    }
    let (m, l, b) = (64usize, 1024usize, 256usize);
    let q = fingerprints(m, b, 7);
    let h = gathered_batch(m, l, b, 8, 5);
    let mut group = c.benchmark_group(format!("dist_batch/m{m}/L{l}/B{b}"));
    group.throughput(Throughput::Elements((b * l) as u64));
    group.sample_size(10);
    let mut out = vec![0u16; b * l];
    for e in engines() {
        group.bench_function(BenchmarkId::from_parameter(e.isa()), |bench| {
            bench.iter(|| {
                e.distances_batch(black_box(q.view()), h.view(), &mut out)
                    .unwrap()
            })
        });
    }
    group.finish();
}

/// Small m (the ETA paper's production model has m = 4; SDIM uses 4-bit groups), where the
/// distances take `m + 1` values and the top-K is decided by their histogram: shared and
/// per-query, `K` of 32 and 50, and `m = 16` beside (the `u16`-lane boundary).
fn small_m(c: &mut Criterion) {
    for &(m, l, b) in &[
        (4usize, 1024usize, 256usize),
        (8, 1024, 256),
        (16, 1024, 256),
    ] {
        for k in [32usize, 50] {
            let q = fingerprints(m, b, 9);
            let h = eta_hamming::History::from_fingerprints(fingerprints(m, l, 10).view()).unwrap();
            let mut group = c.benchmark_group(format!("shared/m{m}/L{l}/B{b}/K{k}"));
            group.throughput(Throughput::Elements((b * l) as u64));
            let (mut idx, mut dist) = (vec![0u32; b * k], vec![0u16; b * k]);
            for e in engines() {
                group.bench_function(BenchmarkId::from_parameter(e.isa()), |bench| {
                    bench.iter(|| {
                        e.topk_shared(black_box(q.view()), h.view(), k, &mut idx, &mut dist)
                            .unwrap()
                    })
                });
            }
            group.finish();
            let h = gathered_batch(m, l, b, 11, 7);
            let mut group = c.benchmark_group(format!("batch/m{m}/L{l}/B{b}/K{k}"));
            group.throughput(Throughput::Elements((b * l) as u64));
            let mut filled = vec![0u32; b];
            for e in engines() {
                group.bench_function(BenchmarkId::from_parameter(e.isa()), |bench| {
                    bench.iter(|| {
                        e.topk_batch(
                            black_box(q.view()),
                            h.view(),
                            k,
                            &mut idx,
                            &mut dist,
                            &mut filled,
                        )
                        .unwrap()
                    })
                });
            }
            group.finish();
        }
    }
}

criterion_group!(benches, shared, batch, distances, small_m);
criterion_main!(benches);
