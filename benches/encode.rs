//! Criterion benchmarks of SimHash encoding, per instruction set and shape. Throughput is in
//! embeddings hashed per second.
//!
//! `cargo bench --bench encode`, or one group: `cargo bench --bench encode -- 'd128/m64'`.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use eta_hamming::{Engine, Isa, SimHasher};
use std::hint::black_box;

fn embeddings(n: usize, d: usize) -> Vec<f32> {
    let mut rng = eta_hamming::simhash::SplitMix64::new(5);
    (0..n * d).map(|_| rng.next_element()).collect()
}

fn encode(c: &mut Criterion) {
    let n = 4096;
    for &(d, m) in &[
        (64usize, 64usize),
        (128, 64),
        (128, 128),
        (256, 64),
        (256, 256),
        (128, 32),
    ] {
        let hasher = SimHasher::from_seed(d, m, 1).unwrap();
        let emb = embeddings(n, d);
        let mut group = c.benchmark_group(format!("encode/d{d}/m{m}"));
        group.throughput(Throughput::Elements(n as u64));
        group.sample_size(10);
        for isa in Isa::available() {
            let e = Engine::new(isa).unwrap();
            group.bench_function(BenchmarkId::from_parameter(isa), |bench| {
                bench.iter(|| e.encode(&hasher, black_box(&emb)).unwrap())
            });
        }
        group.finish();
    }
}

criterion_group!(benches, encode);
criterion_main!(benches);
