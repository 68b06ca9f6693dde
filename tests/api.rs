//! The Rust API: builders and views agree with the contract's layouts, and every bad input gets
//! its typed error with every output left untouched.

mod common;

use common::*;
use eta_hamming::{
    distances_batch, distances_shared, history_from_fingerprints_into, history_gather_into,
    topk_batch, topk_shared, Error, Fingerprints, FingerprintsRef, History, HistoryBatch,
    HistoryBatchRef, HistoryRef, SimHasher, TopK, EMPTY_DISTANCE, EMPTY_INDEX,
};

const CANARY32: u32 = 0xDEAD_BEEF;
const CANARY16: u16 = 0xBEEF;

fn fps64(m: usize, n: usize, seed: u64) -> Fingerprints {
    let mut r = rng(seed);
    let layout = eta_hamming::Layout::new(m).unwrap();
    let lanes: Vec<u64> = (0..n).flat_map(|_| random_fp(&mut r, layout)).collect();
    Fingerprints::from_lanes(m, n, &lanes).unwrap()
}

#[test]
fn history_builders_follow_the_soa_layout() {
    for m in [3usize, 13, 30, 64, 130] {
        let table = match eta_hamming::Layout::new(m).unwrap().lane_type() {
            eta_hamming::LaneType::U8 => {
                let v: Vec<u8> = (0..40u8)
                    .map(|i| i.wrapping_mul(37) & ((1 << m) - 1) as u8)
                    .collect();
                Fingerprints::from_lanes(m, 40, &v).unwrap()
            }
            eta_hamming::LaneType::U16 => {
                let v: Vec<u16> = (0..40u16)
                    .map(|i| i.wrapping_mul(997) & ((1 << m) - 1) as u16)
                    .collect();
                Fingerprints::from_lanes(m, 40, &v).unwrap()
            }
            eta_hamming::LaneType::U32 => {
                let v: Vec<u32> = (0..40u32)
                    .map(|i| i.wrapping_mul(99991) & ((1 << m) - 1))
                    .collect();
                Fingerprints::from_lanes(m, 40, &v).unwrap()
            }
            eta_hamming::LaneType::U64 => fps64(m, 40, m as u64),
        };
        let h = History::from_fingerprints(table.view()).unwrap();
        assert_eq!(h.len(), 40);
        assert!(h.stride() >= 40 && h.stride().is_multiple_of(eta_hamming::STRIDE_MULTIPLE));
        for i in 0..40 {
            assert_eq!(h.get(i), table.get(i));
        }
        let ids = [39u64, 0, 5, 5, 17];
        let g = History::gather(table.view(), &ids).unwrap();
        for (i, &id) in ids.iter().enumerate() {
            assert_eq!(g.get(i), table.get(id as usize));
        }
        let lists: [&[u64]; 3] = [&ids, &[], &[1, 2]];
        let batch = HistoryBatch::gather(table.view(), &lists).unwrap();
        assert_eq!(batch.lens(), &[5, 0, 2]);
        assert_eq!(batch.capacity(), 5);
    }
}

#[test]
fn padding_bits_are_cleared_by_from_lanes() {
    let f = Fingerprints::from_lanes(3, 2, &[0xFFu8, 0x0F]).unwrap();
    assert_eq!(f.as_bytes(), &[0x07, 0x07]);
    let g = Fingerprints::from_lanes(65, 1, &[u64::MAX, u64::MAX]).unwrap();
    assert_eq!(g.get(0), vec![u64::MAX, 1]);
}

#[test]
fn owned_api_matches_the_naive_reference() {
    let mut r = rng(3);
    for &(m, b, l, k) in &[
        (64usize, 7usize, 300usize, 10usize),
        (128, 3, 50, 60),
        (20, 4, 0, 3),
        (7, 5, 33, 33),
    ] {
        let layout = eta_hamming::Layout::new(m).unwrap();
        let q: Vec<Vec<u64>> = (0..b).map(|_| random_fp(&mut r, layout)).collect();
        let items: Vec<Vec<u64>> = (0..l).map(|_| random_fp(&mut r, layout)).collect();
        let qf = build(m, &q);
        let table = build(m, &items);
        let h = History::from_fingerprints(table.view()).unwrap();
        let top = TopK::shared(qf.view(), h.view(), k).unwrap();
        for (j, qq) in q.iter().enumerate() {
            let (idx, dist, filled) = naive_topk(qq, &items, k);
            assert_eq!(top.indices(j), &idx[..filled]);
            assert_eq!(top.distances(j), &dist[..filled]);
            assert_eq!(&top.all_indices()[j * k..][..k], &idx[..]);
        }
    }
}

fn build(m: usize, fps: &[Vec<u64>]) -> Fingerprints {
    let layout = eta_hamming::Layout::new(m).unwrap();
    let flat = flatten(fps);
    match layout.lane_type() {
        eta_hamming::LaneType::U8 => {
            Fingerprints::from_lanes(m, fps.len(), &narrow::<u8>(&flat)).unwrap()
        }
        eta_hamming::LaneType::U16 => {
            Fingerprints::from_lanes(m, fps.len(), &narrow::<u16>(&flat)).unwrap()
        }
        eta_hamming::LaneType::U32 => {
            Fingerprints::from_lanes(m, fps.len(), &narrow::<u32>(&flat)).unwrap()
        }
        eta_hamming::LaneType::U64 => Fingerprints::from_lanes(m, fps.len(), &flat).unwrap(),
    }
}

#[test]
fn byte_views_use_the_contract_bit_order() {
    // Bit j lives in byte j / 8 at bit j % 8, whatever the lane type.
    let f = Fingerprints::from_lanes(16, 1, &[0x0102u16]).unwrap();
    assert_eq!(f.as_bytes(), &[0x02, 0x01]);
    let bytes = f.as_bytes().to_vec();
    let v = FingerprintsRef::from_bytes(16, 1, &bytes).unwrap();
    assert_eq!(v.get(0), vec![0x0102]);
    // Misaligned bytes for u64 lanes are refused, not read.
    let buf = [0u64; 3];
    let b: &[u8] = bytemuck::cast_slice(&buf);
    assert!(matches!(
        FingerprintsRef::from_bytes(64, 1, &b[1..9]),
        Err(Error::Misaligned { align: 8, .. })
    ));
}

// ---------------------------------------------------------------------------------------------
// The catalogue of bad inputs (README "Errors"), each with untouched outputs.

fn canaries(n: usize) -> (Vec<u32>, Vec<u16>) {
    (vec![CANARY32; n], vec![CANARY16; n])
}

fn untouched(idx: &[u32], dist: &[u16]) {
    assert!(
        idx.iter().all(|&x| x == CANARY32) && dist.iter().all(|&x| x == CANARY16),
        "output written on error"
    );
}

#[test]
fn bad_inputs_get_their_error_and_write_nothing() {
    let q = fps64(64, 2, 1);
    let h = History::from_fingerprints(fps64(64, 10, 2).view()).unwrap();
    let q128 = fps64(128, 2, 3);
    let (mut idx, mut dist) = canaries(2 * 4);

    // K = 0.
    assert_eq!(
        topk_shared(q.view(), h.view(), 0, &mut idx, &mut dist),
        Err(Error::InvalidK)
    );
    untouched(&idx, &dist);
    // m mismatch between queries and history.
    assert!(matches!(
        topk_shared(q128.view(), h.view(), 4, &mut idx, &mut dist),
        Err(Error::InvalidBits { .. })
    ));
    untouched(&idx, &dist);
    // Output too short.
    let (mut si, mut sd) = canaries(7);
    assert!(matches!(
        topk_shared(q.view(), h.view(), 4, &mut si, &mut sd),
        Err(Error::BufferTooShort { .. })
    ));
    untouched(&si, &sd);
    // B * K overflowing usize.
    assert_eq!(
        topk_shared(q.view(), h.view(), usize::MAX, &mut idx, &mut dist),
        Err(Error::SizeOverflow)
    );
    untouched(&idx, &dist);
    // Distance matrix too short.
    let mut dm = vec![CANARY16; 19];
    assert!(matches!(
        distances_shared(q.view(), h.view(), &mut dm),
        Err(Error::BufferTooShort { .. })
    ));
    assert!(dm.iter().all(|&x| x == CANARY16));

    // View constructors.
    let lanes = vec![0u64; 100];
    assert_eq!(
        FingerprintsRef::new(0, 1, &lanes).unwrap_err(),
        Error::InvalidBits { m: 0 }
    );
    assert_eq!(
        FingerprintsRef::new(4097, 1, &lanes).unwrap_err(),
        Error::InvalidBits { m: 4097 }
    );
    assert!(
        matches!(
            FingerprintsRef::new(16, 1, &lanes),
            Err(Error::InvalidBits { .. })
        ),
        "lane type mismatch"
    );
    assert!(matches!(
        FingerprintsRef::new(64, 101, &lanes),
        Err(Error::BufferTooShort { .. })
    ));
    assert_eq!(
        HistoryRef::new(64, 10, 9, &lanes).unwrap_err(),
        Error::StrideTooSmall { stride: 9, len: 10 }
    );
    assert!(matches!(
        HistoryRef::new(64, 1 << 32, 1 << 32, &lanes),
        Err(Error::HistoryTooLong { .. })
    ));
    assert!(matches!(
        HistoryRef::new(128, 60, 60, &lanes),
        Err(Error::BufferTooShort { .. })
    ));
    assert!(matches!(
        HistoryRef::new(4096, 2, usize::MAX / 2, &lanes),
        Err(Error::SizeOverflow)
    ));
    let lens = [3u32, 11];
    assert_eq!(
        HistoryBatchRef::new(64, 10, 10, &lens, &lanes).unwrap_err(),
        Error::LenExceedsCapacity {
            index: 1,
            len: 11,
            capacity: 10
        }
    );

    // Per-query: one history per query, and outputs checked before anything is written.
    let ok_lens = [3u32, 10];
    let hb = HistoryBatchRef::new(64, 10, 10, &ok_lens, &lanes[..20]).unwrap();
    let (mut bi, mut bd) = canaries(8);
    let mut filled = vec![CANARY32; 2];
    let q3 = fps64(64, 3, 4);
    assert!(matches!(
        topk_batch(q3.view(), hb, 4, &mut bi, &mut bd, &mut filled),
        Err(Error::BufferTooShort {
            what: "histories (one per query)",
            ..
        })
    ));
    let mut short_filled = vec![CANARY32; 1];
    assert!(matches!(
        topk_batch(q.view(), hb, 4, &mut bi, &mut bd, &mut short_filled),
        Err(Error::BufferTooShort { .. })
    ));
    assert_eq!(
        topk_batch(q.view(), hb, 0, &mut bi, &mut bd, &mut filled),
        Err(Error::InvalidK)
    );
    untouched(&bi, &bd);
    assert!(filled.iter().chain(&short_filled).all(|&x| x == CANARY32));
    let mut dmb = vec![CANARY16; 19];
    assert!(matches!(
        distances_batch(q.view(), hb, &mut dmb),
        Err(Error::BufferTooShort { .. })
    ));
    assert!(dmb.iter().all(|&x| x == CANARY16));

    // Builders: an id out of range writes nothing.
    let table = fps64(64, 5, 5);
    let mut out = vec![CANARY32 as u64; 8];
    assert_eq!(
        history_gather_into(table.view(), &[0, 4, 5], &mut out, 8),
        Err(Error::IdOutOfRange {
            position: 2,
            id: 5,
            table_len: 5
        })
    );
    assert!(out.iter().all(|&x| x == CANARY32 as u64));
    assert!(matches!(
        History::gather(table.view(), &[u64::MAX]),
        Err(Error::IdOutOfRange { .. })
    ));
    assert!(matches!(
        HistoryBatch::gather(table.view(), &[&[1], &[9]]),
        Err(Error::IdOutOfRange { position: 1, .. })
    ));
    assert!(matches!(
        history_from_fingerprints_into(table.view(), &mut out, 4),
        Err(Error::StrideTooSmall { .. })
    ));
    assert!(out.iter().all(|&x| x == CANARY32 as u64));
}

#[test]
fn hasher_rejects_bad_shapes_and_projections() {
    assert_eq!(
        SimHasher::from_seed(0, 64, 1).unwrap_err(),
        Error::InvalidDim
    );
    assert_eq!(
        SimHasher::from_seed(8, 0, 1).unwrap_err(),
        Error::InvalidBits { m: 0 }
    );
    assert_eq!(
        SimHasher::from_seed(8, 4097, 1).unwrap_err(),
        Error::InvalidBits { m: 4097 }
    );
    assert_eq!(
        SimHasher::from_seed(usize::MAX, 64, 1).unwrap_err(),
        Error::SizeOverflow
    );
    let mut p = vec![0.5f32; 4 * 8];
    assert!(matches!(
        SimHasher::from_projection(4, 8, &p[..31]),
        Err(Error::BufferTooShort { .. })
    ));
    for bad in [f32::NAN, f32::INFINITY, f32::NEG_INFINITY] {
        p[13] = bad;
        assert_eq!(
            SimHasher::from_projection(4, 8, &p).unwrap_err(),
            Error::NonFiniteProjection { position: 13 }
        );
    }
    let h = SimHasher::from_seed(4, 64, 1).unwrap();
    assert!(matches!(
        h.encode(&[1.0; 7]),
        Err(Error::BufferTooShort { .. })
    ));
    let mut out = vec![7u64; 2];
    assert!(matches!(
        h.encode_into(&[1.0; 12], 3, &mut out),
        Err(Error::BufferTooShort { .. })
    ));
    assert!(matches!(
        h.encode_into(&[1.0; 4], 2, &mut out),
        Err(Error::BufferTooShort { .. })
    ));
    let mut wrong = vec![7u32; 2];
    assert!(matches!(
        h.encode_into(&[1.0; 4], 1, &mut wrong),
        Err(Error::InvalidBits { .. })
    ));
    assert!(matches!(
        h.encode_history_into(&[1.0; 8], 2, &mut out, 1),
        Err(Error::StrideTooSmall { .. })
    ));
    assert_eq!(out, vec![7, 7]);
    assert_eq!(wrong, vec![7, 7]);
}

#[test]
fn empty_shapes_are_valid() {
    let q = fps64(64, 0, 1);
    let h = History::from_fingerprints(fps64(64, 0, 2).view()).unwrap();
    assert_eq!(topk_shared(q.view(), h.view(), 5, &mut [], &mut []), Ok(0));
    let q1 = fps64(64, 1, 1);
    let (mut idx, mut dist) = canaries(3);
    assert_eq!(
        topk_shared(q1.view(), h.view(), 3, &mut idx, &mut dist),
        Ok(0)
    );
    assert_eq!(idx, vec![EMPTY_INDEX; 3]);
    assert_eq!(dist, vec![EMPTY_DISTANCE; 3]);
    let hasher = SimHasher::from_seed(3, 9, 1).unwrap();
    assert!(hasher.encode::<f32>(&[]).unwrap().is_empty());
    assert!(hasher.encode_history::<f32>(&[]).unwrap().is_empty());
}
