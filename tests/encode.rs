//! SimHash on every available instruction set against the naive FMA chain: random data, every
//! edge width, special values (NaN, +-Inf, +-0, subnormals, huge and tiny magnitudes), sums that
//! land exactly on zero, and both output layouts.

mod common;

use common::*;
use eta_hamming::{Bf16, Engine, Lane, LaneType, SimHasher, F16, MAX_BITS};
use rand::RngExt;

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
    let hasher = SimHasher::from_seed(24, MAX_BITS, 3).unwrap();
    let emb: Vec<f32> = (0..5).flat_map(|s| embedding(&mut r, 24, s % 4)).collect();
    run(&hasher, &emb, &engines, &format!("m={MAX_BITS}"));
}

/// The tile shapes of the SIMD kernels: embedding blocks of 4 (AVX-512, NEON), 6 (AVX2), 8 and
/// 16 (AVX-512 when m <= 32 and m <= 16), column panels of 64 (AVX-512, with 16/32/48-column
/// tail panels), 32 and 16 (AVX-512 for narrow m, AVX2, NEON), vectors
/// of 4, 8 and 16 lanes, kernel calls of 256 embeddings. Every n around those blocks, every m
/// around every vector and panel width, and d = 1.
#[test]
fn tile_edges_match_the_fma_chain() {
    let engines = engines();
    let mut r = rng(13);
    let bits = [
        1usize, 3, 4, 5, 7, 8, 9, 12, 15, 16, 17, 23, 24, 25, 31, 32, 33, 47, 48, 49, 63, 64, 65,
        79, 80, 81, 111, 112, 113, 127, 128, 129, 191, 192, 193, 257,
    ];
    let mut seed = 100;
    for &d in &[1usize, 2, 5] {
        for &m in &bits {
            seed += 1;
            let hasher = SimHasher::from_seed(d, m, seed).unwrap();
            for n in 0..=18 {
                let style = (n + m) % 4;
                let emb: Vec<f32> = (0..n).flat_map(|_| embedding(&mut r, d, style)).collect();
                run(&hasher, &emb, &engines, &format!("d={d} m={m} n={n}"));
            }
        }
    }
    // Across kernel calls (256 embeddings each) and blocks of 4, 6, 8 and 16.
    for &(d, m) in &[
        (3usize, 16usize),
        (1, 64),
        (7, 48),
        (2, 129),
        (4, 32),
        (5, 9),
    ] {
        seed += 1;
        let hasher = SimHasher::from_seed(d, m, seed).unwrap();
        for n in [255usize, 256, 257, 262, 263, 515] {
            let emb: Vec<f32> = (0..n).flat_map(|i| embedding(&mut r, d, i % 4)).collect();
            run(&hasher, &emb, &engines, &format!("d={d} m={m} n={n}"));
        }
    }
}

/// The across-embeddings tile of small `m` (`m <= 8`; AVX2: groups of 2 x 8 embeddings
/// transposed in 8 x 8 blocks; AVX-512: 2 x 16 in 16 x 16 blocks; columns in chunks of 4):
/// every m around the chunk width and the threshold, n around one vector and one group of
/// embeddings of either width, d around either transposed block (tails of `d % 8`, `d % 16`),
/// f32 and both half formats (widened into the group's panel), and kernel calls of 256
/// embeddings and more (many groups and a partial one).
#[test]
fn across_embeddings_tile_edges_match_the_fma_chain() {
    let engines = engines();
    let mut r = rng(31);
    let mut seed = 700;
    for &m in &[1usize, 2, 3, 4, 5, 7, 8, 9, 12, 16] {
        for &d in &[1usize, 7, 8, 9, 15, 16, 17, 33, 64, 128, 131] {
            seed += 1;
            let hasher = SimHasher::from_seed(d, m, seed).unwrap();
            for &n in &[
                1usize, 7, 8, 9, 15, 16, 17, 23, 24, 25, 31, 32, 33, 47, 48, 49, 63, 64, 65, 73,
            ] {
                let style = (n + d + m) % 4;
                let emb: Vec<f32> = (0..n).flat_map(|_| embedding(&mut r, d, style)).collect();
                run(&hasher, &emb, &engines, &format!("d={d} m={m} n={n}"));
            }
        }
    }
    for &(d, m) in &[(128usize, 4usize), (9, 8), (17, 3), (33, 5)] {
        seed += 1;
        let hasher = SimHasher::from_seed(d, m, seed).unwrap();
        for n in [255usize, 256, 257, 280, 515] {
            let emb: Vec<f32> = (0..n).flat_map(|i| embedding(&mut r, d, i % 4)).collect();
            run(&hasher, &emb, &engines, &format!("d={d} m={m} n={n}"));
        }
        for n in [1usize, 8, 17, 25, 33, 49] {
            let emb: Vec<u16> = (0..n * d).map(|_| r.random::<u16>()).collect();
            check_half(
                &hasher,
                &emb,
                true,
                &engines,
                &format!("f16 d={d} m={m} n={n}"),
            );
            check_half(
                &hasher,
                &emb,
                false,
                &engines,
                &format!("bf16 d={d} m={m} n={n}"),
            );
        }
    }
}

/// Independent reference: the value of a binary floating-point bit pattern with `e` exponent
/// bits and `f` fraction bits, in `f64` (exact for both 16-bit formats), or `None` for NaN.
fn decode(bits: u16, e: u32, f: u32) -> Option<f64> {
    let sign = if bits >> 15 == 1 { -1.0 } else { 1.0 };
    let exp = (u32::from(bits) >> f) & ((1 << e) - 1);
    let frac = f64::from(u32::from(bits) & ((1 << f) - 1));
    let bias = (1i32 << (e - 1)) - 1;
    let max = (1 << e) - 1;
    if exp == max {
        return if frac == 0.0 {
            Some(sign * f64::INFINITY)
        } else {
            None
        };
    }
    let (mant, e2) = if exp == 0 {
        (frac, 1 - bias - f as i32)
    } else {
        (frac + f64::from(1u32 << f), exp as i32 - bias - f as i32)
    };
    Some(sign * mant * 2f64.powi(e2))
}

/// The f32 every conversion must give: the exact value (zeros keep their sign); a NaN is the
/// quiet NaN with the same sign and the payload in the top fraction bits.
fn reference_widen(bits: u16, f16: bool) -> u32 {
    let (e, f) = if f16 { (5, 10) } else { (8, 7) };
    match decode(bits, e, f) {
        Some(v) => {
            let x = v as f32;
            assert_eq!(f64::from(x), v, "not exact in f32");
            let sign = u32::from(bits >> 15) << 31;
            (x.to_bits() & 0x7FFF_FFFF) | sign
        }
        None => {
            let sign = u32::from(bits >> 15) << 31;
            let payload = u32::from(bits) & ((1 << f) - 1);
            if f16 {
                sign | 0x7FC0_0000 | payload << 13
            } else {
                // bf16 is the top half of an f32: the NaN is kept as it is (signalling too).
                u32::from(bits) << 16
            }
        }
    }
}

#[test]
fn half_conversions_are_exact_for_all_patterns() {
    for bits in 0..=u16::MAX {
        assert_eq!(
            eta_hamming::simhash::f16_to_f32(bits).to_bits(),
            reference_widen(bits, true),
            "f16 {bits:#06x}"
        );
        assert_eq!(
            eta_hamming::simhash::bf16_to_f32(bits).to_bits(),
            reference_widen(bits, false),
            "bf16 {bits:#06x}"
        );
    }
}

/// Encodes 16-bit embeddings with every engine, in both layouts, and checks the bits against
/// the same engine's (and the naive chain's) `f32` bits on the reference-widened values.
fn check_half(hasher: &SimHasher, emb: &[u16], f16: bool, engines: &[Engine], what: &str) {
    let (d, m) = (hasher.dim(), hasher.bits());
    let n = emb.len() / d;
    let wide: Vec<f32> = emb
        .iter()
        .map(|&h| f32::from_bits(reference_widen(h, f16)))
        .collect();
    let lanes = hasher.layout().lanes();
    let lane_bits = hasher.layout().lane_type().bytes() * 8;
    for e in engines {
        let want = e.encode(hasher, &wide).unwrap();
        let want_h = e.encode_history(hasher, &wide).unwrap();
        let (got, got_h) = if f16 {
            (
                e.encode(hasher, F16::from_bits_slice(emb)).unwrap(),
                e.encode_history(hasher, F16::from_bits_slice(emb)).unwrap(),
            )
        } else {
            (
                e.encode(hasher, Bf16::from_bits_slice(emb)).unwrap(),
                e.encode_history(hasher, Bf16::from_bits_slice(emb))
                    .unwrap(),
            )
        };
        assert_eq!(
            got.as_bytes(),
            want.as_bytes(),
            "query layout: {what} {e:?}"
        );
        assert_eq!(
            got_h.as_bytes(),
            want_h.as_bytes(),
            "history layout: {what} {e:?}"
        );
        for i in 0..n {
            let fp = got.get(i);
            assert_eq!(fp.len(), lanes);
            assert_eq!(
                bits_of(&fp, lane_bits, m),
                naive_simhash(hasher.projection(), d, m, &wide[i * d..][..d]),
                "naive chain, item {i}: {what} {e:?}"
            );
        }
    }
}

#[test]
fn half_precision_matches_the_f32_path_on_every_pattern() {
    let engines = engines();
    let mut r = rng(17);
    let mut all: Vec<u16> = (0..=u16::MAX).collect();
    // A fixed shuffle, so specials mix with ordinary values inside rows.
    for i in (1..all.len()).rev() {
        all.swap(i, r.random_range(0..=i));
    }
    // Finite values only (no NaN or infinity poisoning whole rows), for more informative bits.
    let finite_f16: Vec<u16> = all
        .iter()
        .copied()
        .filter(|h| h & 0x7C00 != 0x7C00)
        .collect();
    let finite_bf16: Vec<u16> = all
        .iter()
        .copied()
        .filter(|h| h & 0x7F80 != 0x7F80)
        .collect();
    for &(d, m) in &[(16usize, 64usize), (3, 33), (1, 17), (7, 129)] {
        let hasher = SimHasher::from_seed(d, m, 23).unwrap();
        let cut = |v: &[u16]| v[..v.len() / d * d].to_vec();
        check_half(
            &hasher,
            &cut(&all),
            true,
            &engines,
            &format!("f16 all d={d} m={m}"),
        );
        check_half(
            &hasher,
            &cut(&all),
            false,
            &engines,
            &format!("bf16 all d={d} m={m}"),
        );
        check_half(
            &hasher,
            &cut(&finite_f16),
            true,
            &engines,
            &format!("f16 finite d={d} m={m}"),
        );
        check_half(
            &hasher,
            &cut(&finite_bf16),
            false,
            &engines,
            &format!("bf16 finite d={d} m={m}"),
        );
    }
}

#[test]
fn half_precision_into_variants_match() {
    let engines = engines();
    let (d, m, n) = (5usize, 40usize, 11usize);
    let hasher = SimHasher::from_seed(d, m, 29).unwrap();
    let emb: Vec<u16> = (0..n * d).map(|i| (i as u16).wrapping_mul(40503)).collect();
    for e in &engines {
        for f16 in [false, true] {
            let (q, h) = if f16 {
                (
                    e.encode(&hasher, F16::from_bits_slice(&emb)),
                    e.encode_history(&hasher, F16::from_bits_slice(&emb)),
                )
            } else {
                (
                    e.encode(&hasher, Bf16::from_bits_slice(&emb)),
                    e.encode_history(&hasher, Bf16::from_bits_slice(&emb)),
                )
            };
            let (q, h) = (q.unwrap(), h.unwrap());
            let mut qi = vec![0u64; n];
            let stride = n + 5;
            let mut hi = vec![0u64; stride];
            if f16 {
                e.encode_into(&hasher, F16::from_bits_slice(&emb), n, &mut qi)
                    .unwrap();
                e.encode_history_into(&hasher, F16::from_bits_slice(&emb), n, &mut hi, stride)
                    .unwrap();
            } else {
                e.encode_into(&hasher, Bf16::from_bits_slice(&emb), n, &mut qi)
                    .unwrap();
                e.encode_history_into(&hasher, Bf16::from_bits_slice(&emb), n, &mut hi, stride)
                    .unwrap();
            }
            for i in 0..n {
                assert_eq!(qi[i], q.get(i)[0], "{e:?} f16={f16}");
                assert_eq!(hi[i], h.get(i)[0], "{e:?} f16={f16}");
                assert_eq!(hi[i], qi[i], "{e:?} f16={f16}");
            }
            // Too short, or not a whole number of rows: an error, nothing written.
            let mut short = vec![7u64; n - 1];
            assert!(e
                .encode_into(&hasher, F16::from_bits_slice(&emb), n, &mut short)
                .is_err());
            assert!(short.iter().all(|&x| x == 7));
            assert!(e.encode(&hasher, Bf16::from_bits_slice(&emb[1..])).is_err());
        }
    }
}

/// A host that set flush-to-zero, denormals-are-zero and round-toward-zero (as ML runtimes do
/// for speed) still gets the contract's bits: the encoder runs in the default environment.
#[test]
fn hostile_floating_point_environment_does_not_change_the_bits() {
    let engines = engines();
    let (d, m) = (16, 64);
    let hasher = SimHasher::from_seed(d, m, 17).unwrap();
    // Subnormal partial sums: flushed to zero they would flip `s > 0`.
    let emb: Vec<f32> = (0..64 * d)
        .map(|i| {
            if i % 3 == 0 {
                1.0e-40
            } else {
                -1.0e-39 * ((i % 7) as f32)
            }
        })
        .collect();
    let mut rest = Vec::new();
    for e in &engines {
        rest.push(e.encode(&hasher, &emb).unwrap().as_bytes().to_vec());
    }
    let hostile: Vec<Vec<u8>> = eta_hamming::fpenv::with_hostile_fp_env(|| {
        // Check the environment really is hostile: a subnormal product is flushed.
        let tiny = std::hint::black_box(1.0e-30f32) * std::hint::black_box(1.0e-15f32);
        assert_eq!(tiny, 0.0, "the hostile environment did not take effect");
        engines
            .iter()
            .map(|e| e.encode(&hasher, &emb).unwrap().as_bytes().to_vec())
            .collect()
    });
    assert_eq!(hostile, rest);
    let want: Vec<Vec<bool>> = (0..64)
        .map(|i| naive_simhash(hasher.projection(), d, m, &emb[i * d..][..d]))
        .collect();
    let fps = engines[0].encode(&hasher, &emb).unwrap();
    for (i, w) in want.iter().enumerate() {
        assert_eq!(bits_of(&fps.get(i), 64, m), *w);
    }
}
