//! SimHash on every available instruction set against the naive FMA chain: random data, every
//! edge width, special values (NaN, +-Inf, +-0, subnormals, huge and tiny magnitudes), sums that
//! land exactly on zero, and both output layouts.

mod common;

use common::*;
use eta_hamming::{Engine, Isa, Lane, LaneType, SimHasher};
use rand::RngExt;

fn engines() -> Vec<Engine> {
    Isa::available()
        .into_iter()
        .map(|isa| Engine::new(isa).unwrap())
        .collect()
}

/// Bits of fingerprint lanes (`u64`-widened), bit j in lane j / lane_bits.
fn bits_of(lanes: &[u64], lane_bits: usize, m: usize) -> Vec<bool> {
    (0..m)
        .map(|j| lanes[j / lane_bits] >> (j % lane_bits) & 1 == 1)
        .collect()
}

const SPECIALS: [f32; 14] = [
    f32::NAN,
    f32::INFINITY,
    f32::NEG_INFINITY,
    0.0,
    -0.0,
    f32::MIN_POSITIVE,
    -f32::MIN_POSITIVE,
    1.0e-45, // smallest subnormal
    -3.0e-42,
    f32::MAX,
    f32::MIN,
    1.0e30,
    -1.0e-30,
    1.0,
];

fn embedding(r: &mut rand::rngs::SmallRng, d: usize, style: usize) -> Vec<f32> {
    (0..d)
        .map(|_| match style {
            0 => r.random_range(-1.0f32..1.0),
            1 => SPECIALS[r.random_range(0..SPECIALS.len())],
            2 => {
                if r.random_range(0..4) == 0 {
                    SPECIALS[r.random_range(0..SPECIALS.len())]
                } else {
                    r.random_range(-1.0f32..1.0)
                }
            }
            // Small integers: many sums land exactly on 0.
            _ => r.random_range(-2i32..=2) as f32,
        })
        .collect()
}

fn check<T: Lane>(hasher: &SimHasher, emb: &[f32], engines: &[Engine], what: &str) {
    let (d, m) = (hasher.dim(), hasher.bits());
    let layout = hasher.layout();
    let lanes = layout.lanes();
    let lane_bits = layout.lane_type().bytes() * 8;
    let n = emb.len() / d;
    let want: Vec<Vec<bool>> = (0..n)
        .map(|i| naive_simhash(hasher.projection(), d, m, &emb[i * d..][..d]))
        .collect();
    for e in engines {
        let mut q = vec![T::from_u64(0); n * lanes];
        e.encode_into(hasher, emb, n, &mut q).unwrap();
        let stride = n + 3;
        let mut h = vec![T::from_u64(0); lanes * stride];
        e.encode_history_into(hasher, emb, n, &mut h, stride)
            .unwrap();
        for i in 0..n {
            let ql: Vec<u64> = q[i * lanes..][..lanes].iter().map(|x| x.to_u64()).collect();
            assert_eq!(
                bits_of(&ql, lane_bits, m),
                want[i],
                "query layout, item {i}: {what} {e:?}"
            );
            for (w, &l) in ql.iter().enumerate() {
                assert_eq!(
                    l & !layout.lane_mask(w),
                    0,
                    "padding bits set: {what} {e:?}"
                );
            }
            let hl: Vec<u64> = (0..lanes).map(|w| h[w * stride + i].to_u64()).collect();
            assert_eq!(hl, ql, "history layout, item {i}: {what} {e:?}");
        }
        for i in n..stride {
            for w in 0..lanes {
                assert_eq!(
                    h[w * stride + i].to_u64(),
                    0,
                    "padding item written: {what} {e:?}"
                );
            }
        }
    }
}

fn run(hasher: &SimHasher, emb: &[f32], engines: &[Engine], what: &str) {
    match hasher.layout().lane_type() {
        LaneType::U8 => check::<u8>(hasher, emb, engines, what),
        LaneType::U16 => check::<u16>(hasher, emb, engines, what),
        LaneType::U32 => check::<u32>(hasher, emb, engines, what),
        LaneType::U64 => check::<u64>(hasher, emb, engines, what),
    }
}

#[test]
fn every_engine_matches_the_fma_chain() {
    let engines = engines();
    let mut r = rng(5);
    let dims = [
        1usize, 2, 3, 7, 8, 15, 16, 17, 31, 32, 33, 64, 100, 128, 129, 256,
    ];
    let bits = [
        1usize, 7, 8, 9, 16, 17, 31, 32, 33, 63, 64, 65, 96, 127, 128, 129, 200, 256, 300,
    ];
    let mut seed = 0;
    for &d in &dims {
        for &m in &bits {
            seed += 1;
            let hasher = SimHasher::from_seed(d, m, seed).unwrap();
            for style in 0..4 {
                let n = [0usize, 1, 5, 17, 40][(seed as usize + style) % 5];
                let emb: Vec<f32> = (0..n).flat_map(|_| embedding(&mut r, d, style)).collect();
                run(
                    &hasher,
                    &emb,
                    &engines,
                    &format!("d={d} m={m} n={n} style={style}"),
                );
            }
        }
    }
}

#[test]
fn special_projections_and_exact_zero_sums() {
    let engines = engines();
    let mut r = rng(9);
    for &(d, m) in &[(4usize, 64usize), (9, 33), (16, 128), (3, 17), (33, 65)] {
        // Projections of small integers and huge or tiny finite values.
        let proj: Vec<f32> = (0..d * m)
            .map(|i| match i % 5 {
                0 => r.random_range(-2i32..=2) as f32,
                1 => f32::MAX * if i % 2 == 0 { 1.0 } else { -1.0 },
                2 => 1.0e-40,
                3 => -0.0,
                _ => r.random_range(-1.0f32..1.0),
            })
            .collect();
        let hasher = SimHasher::from_projection(d, m, &proj).unwrap();
        for style in 0..4 {
            let emb: Vec<f32> = (0..33).flat_map(|_| embedding(&mut r, d, style)).collect();
            run(
                &hasher,
                &emb,
                &engines,
                &format!("special projection d={d} m={m} style={style}"),
            );
        }
    }
}

#[test]
fn widest_fingerprints_match_the_fma_chain() {
    let engines = engines();
    let mut r = rng(11);
    let hasher = SimHasher::from_seed(24, 4096, 3).unwrap();
    let emb: Vec<f32> = (0..5).flat_map(|s| embedding(&mut r, 24, s % 4)).collect();
    run(&hasher, &emb, &engines, "m=4096");
}
