//! Shared test helpers: random fingerprints of every shape, and the naive reference of the
//! contract (all pairs, sorted, truncated), written independently of the crate's kernels.
#![allow(dead_code)]

use eta_hamming::{Engine, Isa, Layout, EMPTY_DISTANCE, EMPTY_INDEX};
use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};

pub fn rng(seed: u64) -> SmallRng {
    SmallRng::seed_from_u64(seed)
}

/// A random well-formed fingerprint as `u64` lanes (one lane per contract lane).
pub fn random_fp(rng: &mut SmallRng, layout: Layout) -> Vec<u64> {
    (0..layout.lanes())
        .map(|w| rng.random::<u64>() & layout.lane_mask(w))
        .collect()
}

/// `fp` with `flips` distinct random bits (below m) flipped.
pub fn flip_bits(rng: &mut SmallRng, layout: Layout, fp: &[u64], flips: usize) -> Vec<u64> {
    let m = layout.bits();
    let lane_bits = layout.lane_type().bytes() * 8;
    let mut out = fp.to_vec();
    let mut bits: Vec<usize> = (0..m).collect();
    for i in 0..flips.min(m) {
        let j = rng.random_range(i..m);
        bits.swap(i, j);
        let b = bits[i];
        out[b / lane_bits] ^= 1u64 << (b % lane_bits);
    }
    out
}

/// How the history items relate to the queries.
#[derive(Clone, Copy, Debug)]
pub enum Pattern {
    /// Independent random fingerprints.
    Random,
    /// Few distinct values: many ties.
    FewValues,
    /// Every item identical: all distances equal.
    AllEqual,
    /// Item i is at distance ~ i (capped at m) from query 0: ascending.
    Ascending,
    /// Descending distances from query 0.
    Descending,
}

pub const PATTERNS: [Pattern; 5] = [
    Pattern::Random,
    Pattern::FewValues,
    Pattern::AllEqual,
    Pattern::Ascending,
    Pattern::Descending,
];

/// `n` history fingerprints following `pattern` relative to `anchor`.
pub fn history_fps(
    rng: &mut SmallRng,
    layout: Layout,
    anchor: &[u64],
    n: usize,
    pattern: Pattern,
) -> Vec<Vec<u64>> {
    let m = layout.bits();
    let pool: Vec<Vec<u64>> = (0..3).map(|_| random_fp(rng, layout)).collect();
    (0..n)
        .map(|i| match pattern {
            Pattern::Random => random_fp(rng, layout),
            Pattern::FewValues => pool[rng.random_range(0..pool.len())].clone(),
            Pattern::AllEqual => pool[0].clone(),
            Pattern::Ascending => flip_bits(rng, layout, anchor, i * m / n.max(1)),
            Pattern::Descending => flip_bits(rng, layout, anchor, (n - i) * m / n.max(1)),
        })
        .collect()
}

pub fn hamming(a: &[u64], b: &[u64]) -> u32 {
    a.iter().zip(b).map(|(x, y)| (x ^ y).count_ones()).sum()
}

/// The contract, naively: all (distance, index) pairs, sorted, truncated to k, sentinel-padded.
pub fn naive_topk(q: &[u64], items: &[Vec<u64>], k: usize) -> (Vec<u32>, Vec<u16>, usize) {
    let mut pairs: Vec<(u32, u32)> = items
        .iter()
        .enumerate()
        .map(|(i, h)| (hamming(q, h), i as u32))
        .collect();
    pairs.sort();
    pairs.truncate(k);
    let filled = pairs.len();
    let mut idx: Vec<u32> = pairs.iter().map(|p| p.1).collect();
    let mut dist: Vec<u16> = pairs.iter().map(|p| p.0 as u16).collect();
    idx.resize(k, EMPTY_INDEX);
    dist.resize(k, EMPTY_DISTANCE);
    (idx, dist, filled)
}

/// Queries laid out one after another, as `u64` lanes.
pub fn flatten(fps: &[Vec<u64>]) -> Vec<u64> {
    fps.iter().flatten().copied().collect()
}

/// A history in SoA layout at `stride`, as `u64` lanes; padding items hold `pad` in every lane
/// (a non-zero value there catches a kernel that reads beyond `L`).
pub fn soa(items: &[Vec<u64>], lanes: usize, stride: usize, pad: u64) -> Vec<u64> {
    let mut out = vec![pad; lanes * stride];
    for (i, fp) in items.iter().enumerate() {
        for (w, &l) in fp.iter().enumerate() {
            out[w * stride + i] = l;
        }
    }
    out
}

/// Narrows `u64` lanes to the lane type `T`.
pub fn narrow<T: eta_hamming::Lane>(v: &[u64]) -> Vec<T> {
    v.iter().map(|&x| T::from_u64(x)).collect()
}

/// The naive SimHash of the contract: the FMA chain per bit, written out again.
pub fn naive_simhash(proj: &[f32], d: usize, m: usize, e: &[f32]) -> Vec<bool> {
    (0..m)
        .map(|j| {
            let mut s = 0.0f32;
            for k in 0..d {
                s = e[k].mul_add(proj[k * m + j], s);
            }
            s > 0.0
        })
        .collect()
}

/// A command that runs this test binary again, through cargo's target runner when one is set
/// (under qemu-user emulation the binary cannot be exec'd directly).
pub fn this_binary() -> std::process::Command {
    let exe = std::env::current_exe().unwrap();
    let runner =
        std::env::vars().find(|(k, _)| k.starts_with("CARGO_TARGET_") && k.ends_with("_RUNNER"));
    match runner {
        Some((_, r)) if !r.trim().is_empty() => {
            let mut parts = r.split_whitespace();
            let mut c = std::process::Command::new(parts.next().unwrap());
            c.args(parts).arg(exe);
            c
        }
        _ => std::process::Command::new(exe),
    }
}

/// One engine per instruction set this CPU has (the scalar table always among them), each
/// forced: the kernel suites run every table through its own engine.
pub fn engines() -> Vec<Engine> {
    let isas = Isa::available();
    assert!(isas.contains(&Isa::Scalar));
    isas.into_iter()
        .map(|isa| Engine::new(isa).unwrap())
        .collect()
}
