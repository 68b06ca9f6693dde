//! The Rust API with arbitrary arguments: views from typed slices and from bytes at any offset
//! and length, builders (`from_lanes`, `from_fingerprints`, `gather` with any ids, the `_into`
//! forms with any output length and stride), `SimHasher` from any projection (non-finite and
//! short ones included) and any `(d, m)`, every encoder (`f32`, bf16, f16; owned and `_into`)
//! with any lengths and lane type, `TopK`, and instruction-set names.
//!
//! Checks: nothing panics; every error is the typed error the contract names for that input (and
//! `status()` / `Display` agree); on error the caller's output is untouched; on success the
//! results agree with the naive reference where that is cheap.
#![no_main]
// Index loops spell out the contract's layout formulas (`w * stride + i`), as the reference should.
#![allow(clippy::needless_range_loop)]

mod common;

use common::*;
use eta_hamming::{
    history_from_fingerprints_into, history_gather_into, padded_stride, Bf16, Engine, Error,
    EtaStatus, Fingerprints, FingerprintsRef, History, HistoryBatch, HistoryBatchRef, HistoryRef,
    Isa, Lane, LaneType, Layout, SimHasher, TopK, F16,
};
use libfuzzer_sys::fuzz_target;

const CANARY: u64 = 0x5A5A_5A5A_5A5A_5A5A;
const CAP: usize = 1 << 16;

/// Every error is typed, has a status other than OK and a message.
fn typed(e: &Error) {
    assert_ne!(e.status(), EtaStatus::Ok);
    assert!(!e.to_string().is_empty());
}

/// The lane type of `m`, as the contract says (`None` for an invalid `m`).
fn lane_type(m: usize) -> Option<LaneType> {
    Some(match layout(m)?.0 {
        1 => LaneType::U8,
        2 => LaneType::U16,
        4 => LaneType::U32,
        _ => LaneType::U64,
    })
}

/// Views over caller bytes at an arbitrary offset and length, and over typed lanes of the
/// wrong or right type.
fn views(s: &mut Src) {
    let m = s.bits();
    let n = s.size(20);
    let len = s.size(40);
    let stride = if s.one_in(3) {
        s.size(60)
    } else {
        len.saturating_add(s.range(0, 5))
    };
    let off = s.range(0, 15);
    let total = s.range(0, 2048);
    s.reseed();
    let mut store = vec![0u64; total.div_ceil(8) + 2];
    let raw: &mut [u8] = bytemuck_bytes(&mut store);
    s.fill(raw);
    let bytes = &raw[off.min(raw.len())..][..total.min(raw.len() - off.min(raw.len()))];
    let lt = lane_type(m);
    let (lb, lanes) = layout(m).unwrap_or((1, 1));
    let aligned = (bytes.as_ptr() as usize).is_multiple_of(lb);
    let have = bytes.len() / lb;

    // Fingerprints.
    let want_n = n.checked_mul(lanes);
    match FingerprintsRef::from_bytes(m, n, bytes) {
        Ok(v) => {
            assert!(lt.is_some() && aligned && want_n.is_some_and(|x| x <= have));
            assert_eq!(v.len(), n);
            assert_eq!(v.as_bytes(), &bytes[..n * lanes * lb]);
            if n > 0 {
                let i = s.range(0, n - 1);
                let got = v.get(i);
                for (w, &x) in got.iter().enumerate() {
                    let mut b = [0u8; 8];
                    b[..lb].copy_from_slice(&bytes[(i * lanes + w) * lb..][..lb]);
                    assert_eq!(x, u64::from_le_bytes(b));
                }
                // The owned copy clears padding bits, nothing else.
                let owned = Fingerprints::from_lanes_bytes_for(m, n, bytes);
                assert_eq!(owned.len(), n);
            }
        }
        Err(e) => {
            typed(&e);
            let ok_shape = lt.is_some() && want_n.is_some_and(|x| x <= have);
            match e {
                Error::InvalidBits { .. } => assert!(lt.is_none()),
                Error::Misaligned { .. } => assert!(!aligned),
                Error::BufferTooShort { .. } | Error::SizeOverflow => assert!(!ok_shape),
                other => panic!("FingerprintsRef::from_bytes: unexpected {other:?}"),
            }
        }
    }

    // One history.
    let span = history_span(lanes, len, stride);
    let shape_ok = lt.is_some() && len <= MAX_HISTORY_LEN && stride >= len;
    match HistoryRef::from_bytes(m, len, stride, bytes) {
        Ok(h) => {
            assert!(shape_ok && aligned && span.is_some_and(|x| x <= have));
            assert_eq!((h.len(), h.stride()), (len, stride));
            if len > 0 {
                let i = s.range(0, len - 1);
                let got = h.get(i);
                for (w, &x) in got.iter().enumerate() {
                    let mut b = [0u8; 8];
                    b[..lb].copy_from_slice(&bytes[(w * stride + i) * lb..][..lb]);
                    assert_eq!(x, u64::from_le_bytes(b));
                }
            }
        }
        Err(e) => {
            typed(&e);
            assert!(
                !(shape_ok && aligned && span.is_some_and(|x| x <= have)),
                "{e:?}"
            );
            match e {
                Error::InvalidBits { .. } => assert!(lt.is_none()),
                Error::StrideTooSmall { .. } => assert!(stride < len),
                Error::HistoryTooLong { .. } => assert!(len > MAX_HISTORY_LEN),
                Error::Misaligned { .. } => assert!(!aligned),
                Error::BufferTooShort { .. } | Error::SizeOverflow => {}
                other => panic!("HistoryRef::from_bytes: unexpected {other:?}"),
            }
        }
    }

    // Per-query histories.
    let b = s.range(0, 6);
    let lens: Vec<u32> = (0..b)
        .map(|_| {
            if s.one_in(6) {
                s.u32()
            } else {
                s.range(0, len.min(u32::MAX as usize)) as u32
            }
        })
        .collect();
    let lens_ok = lens.iter().all(|&x| x as usize <= len);
    let bspan = batch_span(lanes, b, len, stride);
    match HistoryBatchRef::from_bytes(m, len, stride, &lens, bytes) {
        Ok(h) => {
            assert!(shape_ok && lens_ok && aligned && bspan.is_some_and(|x| x <= have));
            assert_eq!((h.count(), h.capacity(), h.lens()), (b, len, &lens[..]));
        }
        Err(e) => {
            typed(&e);
            assert!(!(shape_ok && lens_ok && aligned && bspan.is_some_and(|x| x <= have)));
            if let Error::LenExceedsCapacity {
                index,
                len: l,
                capacity,
            } = e
            {
                assert_eq!((lens[index] as usize, capacity), (l, len));
            }
        }
    }

    // Typed lanes of the wrong type are InvalidBits, never a reinterpretation.
    let wrong = [0u16; 4];
    if lt != Some(LaneType::U16) {
        let e = FingerprintsRef::new::<u16>(m, 1, &wrong).unwrap_err();
        assert!(matches!(e, Error::InvalidBits { .. }), "{e:?}");
    }
}

/// A mutable byte view of `u64` storage (8-byte aligned base).
fn bytemuck_bytes(v: &mut [u64]) -> &mut [u8] {
    // SAFETY: u8 has no alignment or validity requirements; the length covers the same memory.
    unsafe { core::slice::from_raw_parts_mut(v.as_mut_ptr().cast::<u8>(), v.len() * 8) }
}

trait FromBytes {
    fn from_lanes_bytes_for(m: usize, n: usize, bytes: &[u8]) -> Fingerprints;
}

impl FromBytes for Fingerprints {
    /// `Fingerprints::from_lanes` over the bytes read as lanes of `m`'s type; checks that
    /// exactly the padding bits were cleared.
    fn from_lanes_bytes_for(m: usize, n: usize, bytes: &[u8]) -> Fingerprints {
        let lay = Layout::new(m).unwrap();
        let (lb, lanes) = layout(m).unwrap();
        let raw: Vec<u64> = bytes[..n * lanes * lb]
            .chunks_exact(lb)
            .map(|c| {
                let mut b = [0u8; 8];
                b[..lb].copy_from_slice(c);
                u64::from_le_bytes(b)
            })
            .collect();
        let f = match lay.lane_type() {
            LaneType::U8 => Fingerprints::from_lanes(m, n, &narrow::<u8>(&raw)),
            LaneType::U16 => Fingerprints::from_lanes(m, n, &narrow::<u16>(&raw)),
            LaneType::U32 => Fingerprints::from_lanes(m, n, &narrow::<u32>(&raw)),
            LaneType::U64 => Fingerprints::from_lanes(m, n, &raw),
        }
        .unwrap();
        for i in 0..n {
            let got = f.get(i);
            for w in 0..lanes {
                assert_eq!(got[w], raw[i * lanes + w] & lay.lane_mask(w));
            }
        }
        f
    }
}

fn narrow<T: Lane>(v: &[u64]) -> Vec<T> {
    v.iter().map(|&x| T::from_u64(x)).collect()
}

/// A table of `rows` well-formed fingerprints.
fn table(s: &mut Src, m: usize, rows: usize) -> Fingerprints {
    let layout = Layout::new(m).unwrap();
    let lanes = layout.lanes();
    let raw: Vec<u64> = (0..rows * lanes).map(|_| s.stream()).collect();
    let f = match layout.lane_type() {
        LaneType::U8 => Fingerprints::from_lanes(m, rows, &narrow::<u8>(&raw)),
        LaneType::U16 => Fingerprints::from_lanes(m, rows, &narrow::<u16>(&raw)),
        LaneType::U32 => Fingerprints::from_lanes(m, rows, &narrow::<u32>(&raw)),
        LaneType::U64 => Fingerprints::from_lanes(m, rows, &raw),
    };
    f.unwrap()
}

/// History builders with any ids, output lengths and strides.
fn builders(s: &mut Src) {
    let m = s.range(1, 300);
    let m = if s.one_in(8) { 4096 } else { m };
    let rows = s.range(0, 30);
    let n = s.range(0, 40);
    s.reseed();
    let t = table(s, m, rows);
    let lanes = t.layout().lanes();
    let ids: Vec<u64> = (0..n)
        .map(|_| match s.range(0, 9) {
            0 => s.u64(),
            1 => rows as u64,
            _ => s.range(0, rows.saturating_sub(1)) as u64,
        })
        .collect();
    let ids_ok = ids.iter().all(|&id| id < rows as u64);

    // Owned builders.
    let h = History::from_fingerprints(t.view()).unwrap();
    assert_eq!((h.len(), h.stride()), (rows, padded_stride(rows).unwrap()));
    for i in 0..rows {
        assert_eq!(h.get(i), t.get(i));
    }
    match History::gather(t.view(), &ids) {
        Ok(g) => {
            assert!(ids_ok);
            for (i, &id) in ids.iter().enumerate() {
                assert_eq!(g.get(i), t.get(id as usize));
            }
        }
        Err(e) => {
            typed(&e);
            let Error::IdOutOfRange {
                position,
                id,
                table_len,
            } = e
            else {
                panic!("History::gather: {e:?}");
            };
            assert_eq!(table_len, rows);
            assert_eq!(ids[position], id);
            assert!(ids[..position].iter().all(|&x| x < rows as u64) && id >= rows as u64);
        }
    }
    let split = s.range(0, n);
    let lists: Vec<&[u64]> = vec![&ids[..split], &ids[split..], &[]];
    match HistoryBatch::gather(t.view(), &lists) {
        Ok(batch) => {
            assert!(ids_ok);
            assert_eq!(batch.lens(), &[split as u32, (n - split) as u32, 0]);
            let k = s.range(1, 50);
            if rows >= 3 {
                let fpb = t.layout().fingerprint_bytes();
                let qs = FingerprintsRef::from_bytes(m, 3, &t.as_bytes()[..3 * fpb]).unwrap();
                let top = TopK::batch(qs, batch.view(), k).unwrap();
                for (b, list) in lists.iter().enumerate() {
                    let d: Vec<u32> = list
                        .iter()
                        .map(|&id| hamming64(&t.get(b), &t.get(id as usize)))
                        .collect();
                    let (idx, dist, filled) = naive_topk(&d, k);
                    assert_eq!(top.indices(b), &idx[..filled]);
                    assert_eq!(top.distances(b), &dist[..filled]);
                    assert_eq!(top.filled()[b] as usize, filled);
                }
            }
        }
        Err(e) => {
            typed(&e);
            assert!(!ids_ok && matches!(e, Error::IdOutOfRange { .. }));
        }
    }

    // `_into` forms: any output length and stride; on error nothing is written.
    let stride = match s.range(0, 3) {
        0 => n,
        1 => n.saturating_sub(1),
        _ => n + s.range(0, 9),
    };
    let out_len = match s.range(0, 2) {
        0 => history_span(lanes, n, stride).unwrap_or(0),
        _ => s.range(0, 400),
    };
    let needed = history_span(lanes, n, stride);
    match t.layout().lane_type() {
        LaneType::U8 => into::<u8>(&t, &ids, out_len, stride, needed, ids_ok),
        LaneType::U16 => into::<u16>(&t, &ids, out_len, stride, needed, ids_ok),
        LaneType::U32 => into::<u32>(&t, &ids, out_len, stride, needed, ids_ok),
        LaneType::U64 => into::<u64>(&t, &ids, out_len, stride, needed, ids_ok),
    }
}

fn hamming64(a: &[u64], b: &[u64]) -> u32 {
    a.iter().zip(b).map(|(x, y)| (x ^ y).count_ones()).sum()
}

fn into<T: Lane>(
    t: &Fingerprints,
    ids: &[u64],
    out_len: usize,
    stride: usize,
    needed: Option<usize>,
    ids_ok: bool,
) {
    let lanes = t.layout().lanes();
    let n = ids.len();
    let canary = T::from_u64(CANARY);
    let shape_ok = stride >= n && needed.is_some_and(|x| x <= out_len);
    let mut out = vec![canary; out_len];
    match history_gather_into::<T>(t.view(), ids, &mut out, stride) {
        Ok(()) => {
            assert!(shape_ok && ids_ok);
            for (i, &id) in ids.iter().enumerate() {
                let fp = t.get(id as usize);
                for w in 0..lanes {
                    assert_eq!(out[w * stride + i].to_u64(), fp[w]);
                }
            }
            for w in 0..lanes {
                let end = ((w + 1) * stride).min(out_len);
                assert!(out[(w * stride + n).min(end)..end]
                    .iter()
                    .all(|&x| x == canary));
            }
        }
        Err(e) => {
            typed(&e);
            assert!(!(shape_ok && ids_ok), "{e:?}");
            assert!(out.iter().all(|&x| x == canary), "written on error");
        }
    }
    // From the table's own rows, in order.
    let rows = t.len();
    let needed = history_span(lanes, rows, stride);
    let ok = stride >= rows && needed.is_some_and(|x| x <= out_len);
    let mut out = vec![canary; out_len];
    match history_from_fingerprints_into::<T>(t.view(), &mut out, stride) {
        Ok(()) => {
            assert!(ok);
            for i in 0..rows {
                let fp = t.get(i);
                for w in 0..lanes {
                    assert_eq!(out[w * stride + i].to_u64(), fp[w]);
                }
            }
        }
        Err(e) => {
            typed(&e);
            assert!(!ok);
            assert!(out.iter().all(|&x| x == canary));
        }
    }
}

/// Hashers from any `(d, m)` and projection; every encoder with any lengths.
fn hashers(s: &mut Src) {
    let d = if s.one_in(16) {
        s.size(8)
    } else {
        s.range(0, 24)
    };
    let m = s.bits();
    let plen = if s.one_in(4) {
        s.range(0, 512)
    } else {
        d.saturating_mul(m).min(CAP)
    };
    let dm = d.checked_mul(m);
    let valid = d > 0 && layout(m).is_some() && dm.is_some();
    if valid && dm.unwrap() > CAP {
        // Valid but too large to build here; the overflow and invalid cases are cheap.
        return;
    }
    s.reseed();
    let proj = if s.one_in(2) {
        s.finite_f32s(plen)
    } else {
        s.f32s(plen)
    };
    let hasher = if s.one_in(3) {
        let r = SimHasher::from_seed(d, m, s.u64());
        match &r {
            Ok(h) => assert!(valid && h.dim() == d && h.bits() == m),
            Err(e) => {
                typed(e);
                assert!(!valid);
                match e {
                    Error::InvalidBits { .. } => assert!(layout(m).is_none()),
                    Error::InvalidDim => assert_eq!(d, 0),
                    Error::SizeOverflow => assert!(dm.is_none()),
                    other => panic!("from_seed: {other:?}"),
                }
            }
        }
        r
    } else {
        let r = SimHasher::from_projection(d, m, &proj);
        match &r {
            Ok(h) => {
                let need = dm.unwrap();
                assert!(valid && proj.len() >= need);
                assert!(proj[..need].iter().all(|v| v.is_finite()));
                assert_eq!(
                    h.projection()
                        .iter()
                        .map(|v| v.to_bits())
                        .collect::<Vec<_>>(),
                    proj[..need].iter().map(|v| v.to_bits()).collect::<Vec<_>>()
                );
            }
            Err(e) => {
                typed(e);
                match *e {
                    Error::InvalidBits { .. } => assert!(layout(m).is_none()),
                    Error::InvalidDim => assert_eq!(d, 0),
                    Error::SizeOverflow => assert!(dm.is_none()),
                    Error::BufferTooShort { .. } => assert!(valid && proj.len() < dm.unwrap()),
                    Error::NonFiniteProjection { position } => {
                        assert!(valid && !proj[position].is_finite());
                        assert!(proj[..position].iter().all(|v| v.is_finite()));
                    }
                    ref other => panic!("from_projection: {other:?}"),
                }
            }
        }
        r
    };
    let Ok(hasher) = hasher else { return };
    let (lb, lanes) = layout(m).unwrap();
    let len = match s.range(0, 3) {
        0 => d * s.range(0, 6),
        1 => s.range(0, 100),
        _ => d * s.range(0, 6) + s.range(0, d),
    };
    if len.max(1) * m > CAP * 2 {
        return;
    }
    let emb = s.f32s(len);
    let half = s.u16s(len);
    let whole = len.is_multiple_of(d);
    let rows = len / d;

    // Owned encoders: the length must be a whole number of rows.
    let check = |name: &str, r: eta_hamming::Result<Fingerprints>, vals: &[f32]| match r {
        Ok(f) => {
            assert!(whole, "{name}");
            assert_eq!(f.len(), rows);
            if rows * d * m <= 1 << 14 {
                for i in 0..rows {
                    let words = naive_simhash(hasher.projection(), d, m, &vals[i * d..][..d]);
                    let fp = words_to_lane_bytes(&words, lb, lanes);
                    assert_eq!(
                        &f.as_bytes()[i * lb * lanes..][..lb * lanes],
                        &fp[..],
                        "{name} row {i}"
                    );
                }
            }
        }
        Err(e) => {
            typed(&e);
            assert!(
                !whole && matches!(e, Error::BufferTooShort { .. }),
                "{name}: {e:?}"
            );
        }
    };
    check("encode", hasher.encode(&emb), &emb);
    let wb: Vec<f32> = half.iter().map(|&h| bf16_to_f32(h)).collect();
    let wf: Vec<f32> = half.iter().map(|&h| f16_to_f32(h)).collect();
    check(
        "encode_bf16",
        hasher.encode(Bf16::from_bits_slice(&half)),
        &wb,
    );
    check(
        "encode_f16",
        hasher.encode(F16::from_bits_slice(&half)),
        &wf,
    );
    match hasher.encode_history(&emb) {
        Ok(h) => {
            assert!(whole);
            let q = hasher.encode(&emb).unwrap();
            for i in 0..rows {
                assert_eq!(h.get(i), q.get(i));
            }
        }
        Err(e) => assert!(!whole && matches!(e, Error::BufferTooShort { .. })),
    }
    for r in [
        hasher.encode_history(Bf16::from_bits_slice(&half)),
        hasher.encode_history(F16::from_bits_slice(&half)),
    ] {
        assert_eq!(r.is_ok(), whole);
    }

    // `_into` forms with any n, output length, stride and lane type.
    let n = if s.one_in(8) {
        s.size(8)
    } else {
        s.range(0, rows + 2)
    };
    let out_len = if s.one_in(2) {
        n.saturating_mul(lanes).min(4096)
    } else {
        s.range(0, 300)
    };
    let stride = match s.range(0, 2) {
        0 => n,
        1 => n.saturating_sub(1),
        _ => n.saturating_add(s.range(0, 9)),
    };
    match s.range(0, 3) {
        0 => encode_into::<u8>(s, &hasher, &emb, &half, n, out_len, stride),
        1 => encode_into::<u16>(s, &hasher, &emb, &half, n, out_len, stride),
        2 => encode_into::<u32>(s, &hasher, &emb, &half, n, out_len, stride),
        _ => encode_into::<u64>(s, &hasher, &emb, &half, n, out_len, stride),
    }
}

fn encode_into<T: Lane>(
    s: &mut Src,
    hasher: &SimHasher,
    emb: &[f32],
    half: &[u16],
    n: usize,
    out_len: usize,
    stride: usize,
) {
    let layout = hasher.layout();
    let lanes = layout.lanes();
    let right_type = T::TYPE == layout.lane_type();
    let emb_ok = n.checked_mul(hasher.dim()).is_some_and(|x| x <= emb.len());
    let canary = T::from_u64(CANARY);
    let mut out = vec![canary; out_len];
    let q_ok = right_type && emb_ok && n.checked_mul(lanes).is_some_and(|x| x <= out_len);
    let r = match s.range(0, 2) {
        0 => hasher.encode_into::<_, T>(emb, n, &mut out),
        1 => hasher.encode_into::<_, T>(Bf16::from_bits_slice(half), n, &mut out),
        _ => hasher.encode_into::<_, T>(F16::from_bits_slice(half), n, &mut out),
    };
    match r {
        Ok(()) => {
            assert!(q_ok);
            assert!(out[n * lanes..].iter().all(|&x| x == canary));
        }
        Err(e) => {
            typed(&e);
            assert!(!q_ok, "{e:?}");
            assert!(out.iter().all(|&x| x == canary));
        }
    }
    let mut out = vec![canary; out_len];
    let h_ok = right_type
        && emb_ok
        && n <= MAX_HISTORY_LEN
        && stride >= n
        && history_span(lanes, n, stride).is_some_and(|x| x <= out_len);
    let r = match s.range(0, 2) {
        0 => hasher.encode_history_into::<_, T>(emb, n, &mut out, stride),
        1 => hasher.encode_history_into::<_, T>(Bf16::from_bits_slice(half), n, &mut out, stride),
        _ => hasher.encode_history_into::<_, T>(F16::from_bits_slice(half), n, &mut out, stride),
    };
    match r {
        Ok(()) => {
            assert!(h_ok);
            for w in 0..lanes {
                let end = ((w + 1) * stride).min(out_len);
                assert!(out[(w * stride + n).min(end)..end]
                    .iter()
                    .all(|&x| x == canary));
            }
        }
        Err(e) => {
            typed(&e);
            assert!(!h_ok, "{e:?}");
            assert!(out.iter().all(|&x| x == canary));
        }
    }
}

/// Scans with any K, mismatched `m`, mismatched counts, short outputs; `TopK` accessors.
fn scans(s: &mut Src) {
    let m = s.range(1, 200);
    let m2 = if s.one_in(8) { s.range(1, 200) } else { m };
    let (b, l) = (s.range(0, 8), s.range(0, 100));
    let k = if s.one_in(8) {
        s.size(8)
    } else {
        s.range(0, 120)
    };
    s.reseed();
    let q = table(s, m, b);
    let items = table(s, m2, l);
    let h = History::from_fingerprints(items.view()).unwrap();
    let same = m == m2;
    // `TopK` allocates its `B * K` slots: a product past one allocation is `SizeOverflow`; one
    // that fits but is larger than this machine is the caller's request, so it is skipped.
    let slots = b.checked_mul(k).filter(|&n| n <= isize::MAX as usize / 4);
    let owned = slots.is_none_or(|n| n <= 1 << 20);
    let topk = owned.then(|| TopK::shared(q.view(), h.view(), k));
    match topk {
        None => {}
        Some(Ok(top)) => {
            assert!(same && k > 0);
            assert_eq!((top.k(), top.len(), top.is_empty()), (k, b, b == 0));
            for qi in 0..b {
                let d: Vec<u32> = (0..l)
                    .map(|i| hamming64(&q.get(qi), &items.get(i)))
                    .collect();
                let (idx, dist, filled) = naive_topk(&d, k);
                assert_eq!(top.indices(qi), &idx[..filled]);
                assert_eq!(top.distances(qi), &dist[..filled]);
                assert_eq!(&top.all_indices()[qi * k..][..k], &idx[..]);
                assert_eq!(&top.all_distances()[qi * k..][..k], &dist[..]);
            }
        }
        Some(Err(e)) => {
            typed(&e);
            match e {
                Error::InvalidK => assert_eq!(k, 0),
                Error::InvalidBits { .. } => assert!(!same),
                Error::SizeOverflow => assert!(slots.is_none()),
                other => panic!("TopK::shared: {other:?}"),
            }
        }
    }
    // Caller outputs of any length: error means untouched.
    let (oi, od) = (s.range(0, 300), s.range(0, 300));
    let (mut idx, mut dist) = (vec![0xA5A5_A5A5u32; oi], vec![0xA5A5u16; od]);
    let e = Engine::current();
    let need = b.checked_mul(k);
    match e.topk_shared(q.view(), h.view(), k, &mut idx, &mut dist) {
        Ok(f) => {
            assert!(same && k > 0 && need.is_some_and(|x| x <= oi && x <= od));
            assert_eq!(f, k.min(l));
        }
        Err(err) => {
            typed(&err);
            assert!(idx.iter().all(|&x| x == 0xA5A5_A5A5) && dist.iter().all(|&x| x == 0xA5A5));
        }
    }
    // Per-query histories whose count differs from the queries'.
    let nb = if s.one_in(4) { s.range(0, 8) } else { b };
    let lists: Vec<Vec<u64>> = (0..nb)
        .map(|_| {
            (0..s.range(0, l))
                .map(|_| s.range(0, l.saturating_sub(1)) as u64)
                .collect()
        })
        .collect();
    let refs: Vec<&[u64]> = lists.iter().map(|v| v.as_slice()).collect();
    if l > 0 || lists.iter().all(|v| v.is_empty()) {
        let batch = HistoryBatch::gather(items.view(), &refs).unwrap();
        match owned.then(|| TopK::batch(q.view(), batch.view(), k)) {
            None => {}
            Some(Ok(top)) => assert!(same && k > 0 && nb == b && top.len() == b),
            Some(Err(e)) => {
                typed(&e);
                assert!(!same || k == 0 || nb != b || slots.is_none(), "{e:?}");
            }
        }
        let mut out = vec![0xA5A5u16; s.range(0, 900)];
        if eta_hamming::distances_batch(q.view(), batch.view(), &mut out).is_err() {
            assert!(out.iter().all(|&x| x == 0xA5A5));
        }
    }
    let mut out = vec![0xA5A5u16; s.range(0, 900)];
    match eta_hamming::distances_shared(q.view(), h.view(), &mut out) {
        Ok(()) => {
            assert!(same && b * l <= out.len());
            for qi in 0..b {
                for i in 0..l {
                    assert_eq!(
                        u32::from(out[qi * l + i]),
                        hamming64(&q.get(qi), &items.get(i))
                    );
                }
            }
        }
        Err(e) => {
            typed(&e);
            assert!(out.iter().all(|&x| x == 0xA5A5));
        }
    }
}

/// Instruction-set names and engines.
fn isas(s: &mut Src) {
    let name: Vec<u8> = (0..s.range(0, 12)).map(|_| s.u8()).collect();
    let name = String::from_utf8_lossy(&name);
    match Isa::from_name(&name) {
        Ok(isa) => {
            assert!(isa.name().eq_ignore_ascii_case(name.trim()));
            assert_eq!(Engine::new(isa).is_ok(), isa.is_available());
        }
        Err(e) => assert_eq!(e, Error::UnknownIsa),
    }
    assert!(Isa::available().contains(&Isa::detect()));
    let _ = padded_stride(s.usize());
}

fuzz_target!(|data: &[u8]| {
    let mut s = Src::new(data);
    match s.range(0, 4) {
        0 => views(&mut s),
        1 => builders(&mut s),
        2 => hashers(&mut s),
        3 => scans(&mut s),
        _ => isas(&mut s),
    }
});
