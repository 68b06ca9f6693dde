//! The small serving call of `bench.py` (B = 1 query, a shared history of L = 1,024, K = 50)
//! made from Rust, for the Python call overhead: `cargo run --release --example small_call` in
//! `python/`. Prints one line per m: the median nanoseconds per call over 15 rounds.

use std::hint::black_box;
use std::time::Instant;

use eta_hamming::{topk_shared, FingerprintsRef, History, HistoryRef};

fn lcg(state: &mut u64) -> u64 {
    *state = state
        .wrapping_mul(6364136223846793005)
        .wrapping_add(1442695040888963407);
    *state
}

fn run<T: eta_hamming::Lane>(m: usize, cast: fn(u64) -> T) -> f64 {
    let (l, k) = (1024usize, 50usize);
    let mut s = 42u64;
    let items: Vec<T> = (0..l).map(|_| cast(lcg(&mut s))).collect();
    let table = FingerprintsRef::new::<T>(m, l, &items).expect("table");
    let hist = History::from_fingerprints(table).expect("history");
    let q: Vec<T> = vec![cast(lcg(&mut s))];
    let qv = FingerprintsRef::new::<T>(m, 1, &q).expect("queries");
    let hv: HistoryRef<'_> = hist.view();
    let (mut idx, mut dist) = (vec![0u32; k], vec![0u16; k]);
    let iters = 20_000;
    let mut rounds = Vec::new();
    for _ in 0..15 {
        let t = Instant::now();
        for _ in 0..iters {
            topk_shared(black_box(qv), black_box(hv), k, &mut idx, &mut dist).expect("scan");
        }
        rounds.push(t.elapsed().as_nanos() as f64 / iters as f64);
    }
    rounds.sort_by(|a, b| a.total_cmp(b));
    rounds[rounds.len() / 2]
}

fn main() {
    println!(
        "rust m=32 B=1 L=1024 K=50 ns_per_call={:.0}",
        run::<u32>(32, |v| v as u32)
    );
    println!(
        "rust m=64 B=1 L=1024 K=50 ns_per_call={:.0}",
        run::<u64>(64, |v| v)
    );
}
