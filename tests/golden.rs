//! Golden vectors: the seeded projection and the fingerprints it gives are frozen forever
//! (fingerprints live in embedding tables for months; an upgrade must not invalidate them).
//!
//! These values were computed by `tests/golden/reference.py`, an independent implementation of
//! the documented generator and of the FMA chain in exact rational arithmetic. Never regenerate
//! them: if this test fails, the change broke every stored fingerprint.

use eta_hamming::{projection_from_seed, Engine, Isa, SimHasher};

const PROJECTION: [(u64, [u32; 8]); 4] = [
    (
        0x0,
        [
            0x3D877000, 0x3E670800, 0xBDD2A000, 0xBE374400, 0x3D484000, 0xBF68A900, 0x3CDCC000,
            0x3D0EF000,
        ],
    ),
    (
        0x1,
        [
            0x3F97A880, 0xBEE2D200, 0xBF482C00, 0xBDDF6000, 0xBF94E880, 0x3EC61400, 0x3ECE2800,
            0x3EE8EA00,
        ],
    ),
    (
        0x5EED,
        [
            0xBF5F4500, 0xBF60D600, 0xBF914480, 0xC00E3640, 0x3E5C0400, 0xBE418800, 0x3FE02F80,
            0x3D837000,
        ],
    ),
    (
        0xFFFFFFFFFFFFFFFF,
        [
            0x3FA1BB00, 0xBEC98400, 0x3EDC7800, 0xBF98AF80, 0x3E648000, 0xBFA0B280, 0xBDBEE800,
            0x3D81C000,
        ],
    ),
];

type Golden = ((usize, usize, u64), [&'static [u64]; 4]);
const FINGERPRINTS: [Golden; 4] = [
    (
        (16, 64, 0x5EED),
        [
            &[0x57815627DD071616],
            &[0x2E8699F4A7C9E87C],
            &[0xB959E2EE3BBAC742],
            &[0x57A11623C4560692],
        ],
    ),
    ((8, 13, 0x1), [&[0x129E], &[0x1DB2], &[0x1D60], &[0x0EAF]]),
    (
        (32, 130, 0x2),
        [
            &[0xFDD7D359B435AE8F, 0x623C06213F3B9CF2, 0x2],
            &[0xD32A9955476BE1FD, 0x998AE6C468DE624C, 0x3],
            &[0x08DF61ACE8921862, 0x356D59BBCE6858A2, 0x1],
            &[0xF445C691F407868B, 0x6A680DABB731B5F4, 0x2],
        ],
    ),
    ((5, 3, 0x3), [&[0x2], &[0x5], &[0x2], &[0x4]]),
];

/// The fixed golden embeddings: `((i * 31 + k * 17) % 23 - 11) / 8`.
fn embedding(i: usize, d: usize) -> Vec<f32> {
    (0..d)
        .map(|k| (((i * 31 + k * 17) % 23) as f32 - 11.0) / 8.0)
        .collect()
}

#[test]
fn seeded_projection_is_frozen() {
    for (seed, want) in PROJECTION {
        let p = projection_from_seed(4, 8, seed).unwrap();
        let got: Vec<u32> = p[..8].iter().map(|v| v.to_bits()).collect();
        assert_eq!(got, want, "seed {seed:#x}");
    }
}

#[test]
fn fingerprints_of_fixed_embeddings_are_frozen_on_every_isa() {
    for ((d, m, seed), want) in FINGERPRINTS {
        let hasher = SimHasher::from_seed(d, m, seed).unwrap();
        let emb: Vec<f32> = (0..4).flat_map(|i| embedding(i, d)).collect();
        for isa in Isa::available() {
            let fps = Engine::new(isa).unwrap().encode(&hasher, &emb).unwrap();
            for (i, w) in want.iter().enumerate() {
                assert_eq!(
                    fps.get(i),
                    *w,
                    "d={d} m={m} seed={seed:#x} item {i} on {isa}"
                );
            }
        }
    }
}
