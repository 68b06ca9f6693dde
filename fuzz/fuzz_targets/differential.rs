//! Every available kernel (`Engine::new(isa)` for each `Isa::available()`) against the scalar
//! engine, on arbitrary data: top-K and distances (shared and per-query histories, any `m` in
//! `1..=4096`, any stride, `lens`, `K`, stray padding bits, many ties) and SimHash (any finite
//! projection, embeddings of any `f32`, bf16 or f16 bit pattern: NaN, infinities, subnormals,
//! signed zeros). Outputs must be identical, bit for bit; the scalar engine is also checked
//! against the naive reference when that is cheap.
//!
//! Buffers are exactly as long as the shapes need, so a kernel that reads one lane too far
//! trips AddressSanitizer.
#![no_main]
// Index loops spell out the contract's layout formulas (`w * stride + i`), as the reference should.
#![allow(clippy::needless_range_loop)]

mod common;

use common::*;
use eta_hamming::{
    Bf16, Engine, FingerprintsRef, HistoryBatchRef, HistoryRef, Isa, Lane, Layout, SimHasher, F16,
};
use libfuzzer_sys::fuzz_target;

/// Pairs compared per input at most (`B * L * lanes`), and FMAs per encode (`n * d * m`).
const CAP_SCAN: usize = 1 << 17;
const CAP_ENCODE: usize = 1 << 17;

fn engines() -> Vec<Engine> {
    Isa::available()
        .into_iter()
        .map(|isa| Engine::new(isa).unwrap())
        .collect()
}

/// `n` lanes of `T`: well-formed fingerprints (padding zero) or raw bits.
fn lanes<T: Lane>(s: &mut Src, layout: Layout, n: usize, dirty: bool) -> Vec<T> {
    let lb = core::mem::size_of::<T>();
    let mut bytes = vec![0u8; n * lb];
    s.fill(&mut bytes);
    let w = layout.lanes();
    bytes
        .chunks_exact(lb)
        .enumerate()
        .map(|(i, c)| {
            let mut v = [0u8; 8];
            v[..lb].copy_from_slice(c);
            let x = u64::from_le_bytes(v);
            T::from_u64(if dirty {
                x
            } else {
                x & layout.lane_mask(i % w)
            })
        })
        .collect()
}

fn to_bytes<T: Lane>(v: &[T]) -> Vec<u8> {
    v.iter()
        .flat_map(|x| x.to_u64().to_le_bytes()[..core::mem::size_of::<T>()].to_vec())
        .collect()
}

fn scans<T: Lane>(s: &mut Src, m: usize) {
    let layout = Layout::new(m).unwrap();
    let (w, lb) = (layout.lanes(), core::mem::size_of::<T>());
    let b = s.range(0, 20);
    let l = match s.range(0, 3) {
        0 => s.range(0, 8),
        1 => s.range(60, 70),
        _ => s.range(0, 700),
    };
    let stride = match s.range(0, 3) {
        0 => l,
        1 => l.next_multiple_of(64),
        _ => l + s.range(0, 70),
    };
    let k = match s.range(0, 4) {
        0 => s.range(1, 4),
        1 => l.max(1),
        2 => s.range(1, 1000),
        _ => s.range(1, 70),
    };
    if b.max(1) * l.max(1) * w > CAP_SCAN {
        return;
    }
    s.reseed();
    let dirty = s.one_in(4);
    let q: Vec<T> = lanes(s, layout, b * w, dirty);
    // Exactly the lanes the shape needs: reading past them is an ASan report.
    let hist: Vec<T> = lanes(s, layout, history_span(w, l, stride).unwrap(), dirty);
    let lens: Vec<u32> = (0..b)
        .map(|_| match s.range(0, 3) {
            0 => l as u32,
            1 => 0,
            _ => s.range(0, l) as u32,
        })
        .collect();
    let hists: Vec<T> = lanes(s, layout, batch_span(w, b, l, stride).unwrap(), dirty);

    let qv = FingerprintsRef::new::<T>(m, b, &q).unwrap();
    let hv = HistoryRef::new::<T>(m, l, stride, &hist).unwrap();
    let bv = HistoryBatchRef::new::<T>(m, l, stride, &lens, &hists).unwrap();
    let scalar = Engine::new(Isa::Scalar).unwrap();

    let run = |e: &Engine| {
        let (mut si, mut sd) = (vec![0xA5A5_A5A5u32; b * k], vec![0xA5A5u16; b * k]);
        let sf = e.topk_shared(qv, hv, k, &mut si, &mut sd).unwrap();
        let (mut bi, mut bd, mut bf) = (
            vec![0xA5A5_A5A5u32; b * k],
            vec![0xA5A5u16; b * k],
            vec![0xA5A5_A5A5u32; b],
        );
        e.topk_batch(qv, bv, k, &mut bi, &mut bd, &mut bf).unwrap();
        let mut ds = vec![0xA5A5u16; b * l];
        e.distances_shared(qv, hv, &mut ds).unwrap();
        let mut db = vec![0xA5A5u16; b * l];
        e.distances_batch(qv, bv, &mut db).unwrap();
        (sf, si, sd, bi, bd, bf, ds, db)
    };
    let want = run(&scalar);
    for e in engines() {
        let got = run(&e);
        if got != want {
            let names = [
                "filled",
                "shared idx",
                "shared dist",
                "batch idx",
                "batch dist",
            ];
            let which = [
                got.0 != want.0,
                got.1 != want.1,
                got.2 != want.2,
                got.3 != want.3,
                got.4 != want.4,
            ]
            .iter()
            .position(|&x| x)
            .map_or("filled/distances", |i| names[i]);
            panic!(
                "{:?} differs from scalar ({which}): m={m} b={b} l={l} stride={stride} k={k} lens={lens:?}",
                e.isa()
            );
        }
    }

    // The scalar engine against the naive reference, when cheap.
    if b * l * w <= 1 << 13 {
        let (qb, hb, bb) = (to_bytes(&q), to_bytes(&hist), to_bytes(&hists));
        let fpb = w * lb;
        for qi in 0..b {
            let qf = &qb[qi * fpb..][..fpb];
            let d: Vec<u32> = (0..l)
                .map(|i| hamming(qf, &soa_item(&hb, w, lb, stride, i)))
                .collect();
            let (idx, dist, filled) = naive_topk(&d, k);
            assert_eq!(want.0, k.min(l));
            assert_eq!(&want.1[qi * k..][..k], &idx[..], "shared idx q{qi}");
            assert_eq!(&want.2[qi * k..][..k], &dist[..], "shared dist q{qi}");
            assert_eq!(filled, k.min(l));
            let ds: Vec<u16> = d.iter().map(|&x| x as u16).collect();
            assert_eq!(&want.6[qi * l..][..l], &ds[..]);

            let n = lens[qi] as usize;
            let mine = bb.get(qi * w * stride * lb..).unwrap_or(&[]);
            let d: Vec<u32> = (0..n)
                .map(|i| hamming(qf, &soa_item(mine, w, lb, stride, i)))
                .collect();
            let (idx, dist, filled) = naive_topk(&d, k);
            assert_eq!(&want.3[qi * k..][..k], &idx[..], "batch idx q{qi}");
            assert_eq!(&want.4[qi * k..][..k], &dist[..], "batch dist q{qi}");
            assert_eq!(want.5[qi] as usize, filled);
            let mut row: Vec<u16> = d.iter().map(|&x| x as u16).collect();
            row.resize(l, EMPTY_DISTANCE);
            assert_eq!(&want.7[qi * l..][..l], &row[..]);
        }
    }
}

fn encodes(s: &mut Src) {
    let m = s.range(1, 4096);
    let m = if s.one_in(2) { m % 200 + 1 } else { m };
    let d = match s.range(0, 3) {
        0 => s.range(1, 4),
        1 => s.range(1, 40),
        2 => s.range(1, 300),
        _ => s.range(1, 2000),
    };
    let n = s.range(0, 20);
    if n.max(1) * d * m > CAP_ENCODE {
        return;
    }
    s.reseed();
    let hasher = if s.one_in(4) {
        SimHasher::from_seed(d, m, s.u64()).unwrap()
    } else {
        let p = s.finite_f32s(d * m);
        SimHasher::from_projection(d, m, &p).unwrap()
    };
    let emb = s.f32s(n * d);
    let half = s.u16s(n * d);
    let stride = n + s.range(0, 70);
    let layout = hasher.layout();
    let scalar = Engine::new(Isa::Scalar).unwrap();

    let run = |e: &Engine| {
        let q = e.encode(&hasher, &emb).unwrap();
        let h = e.encode_history(&hasher, &emb).unwrap();
        let qb = e.encode(&hasher, Bf16::from_bits_slice(&half)).unwrap();
        let qf = e.encode(&hasher, F16::from_bits_slice(&half)).unwrap();
        let hb = e
            .encode_history(&hasher, Bf16::from_bits_slice(&half))
            .unwrap();
        let hf = e
            .encode_history(&hasher, F16::from_bits_slice(&half))
            .unwrap();
        // Caller buffers of exactly the needed length, with a caller stride.
        let into = match layout.lane_type() {
            eta_hamming::LaneType::U8 => into::<u8>(e, &hasher, &emb, n, stride),
            eta_hamming::LaneType::U16 => into::<u16>(e, &hasher, &emb, n, stride),
            eta_hamming::LaneType::U32 => into::<u32>(e, &hasher, &emb, n, stride),
            eta_hamming::LaneType::U64 => into::<u64>(e, &hasher, &emb, n, stride),
        };
        // The `_into` forms agree with the owned ones.
        assert_eq!(into.0, q.as_bytes(), "encode_into");
        let lb = layout.lane_type().bytes();
        for w in 0..if n == 0 { 0 } else { layout.lanes() } {
            let (mine, owned) = (
                &into.1[w * stride * lb..],
                &h.as_bytes()[w * h.stride() * lb..],
            );
            assert_eq!(
                &mine[..n * lb],
                &owned[..n * lb],
                "encode_history_into lane row {w}"
            );
        }
        (
            q.as_bytes().to_vec(),
            h.as_bytes().to_vec(),
            qb.as_bytes().to_vec(),
            qf.as_bytes().to_vec(),
            hb.as_bytes().to_vec(),
            hf.as_bytes().to_vec(),
        )
    };
    let want = run(&scalar);
    for e in engines() {
        let got = run(&e);
        for (i, name) in [
            "encode",
            "history",
            "bf16",
            "f16",
            "history bf16",
            "history f16",
        ]
        .iter()
        .enumerate()
        {
            let (g, w) = match i {
                0 => (&got.0, &want.0),
                1 => (&got.1, &want.1),
                2 => (&got.2, &want.2),
                3 => (&got.3, &want.3),
                4 => (&got.4, &want.4),
                _ => (&got.5, &want.5),
            };
            assert!(
                g == w,
                "{:?} {name} differs from scalar: d={d} m={m} n={n}",
                e.isa()
            );
        }
    }
    // 16-bit inputs are the f32 encoder on the exactly widened values.
    let wb: Vec<f32> = half.iter().map(|&h| bf16_to_f32(h)).collect();
    let wf: Vec<f32> = half.iter().map(|&h| f16_to_f32(h)).collect();
    assert_eq!(scalar.encode(&hasher, &wb).unwrap().as_bytes(), &want.2[..]);
    assert_eq!(scalar.encode(&hasher, &wf).unwrap().as_bytes(), &want.3[..]);
    // The scalar engine against the naive FMA chain, when cheap.
    if n * d * m <= 1 << 14 {
        let (lb, lanes) = layout_of(m);
        let proj = hasher.projection();
        for i in 0..n {
            let words = naive_simhash(proj, d, m, &emb[i * d..][..d]);
            let fp = words_to_lane_bytes(&words, lb, lanes);
            assert_eq!(
                &want.0[i * lb * lanes..][..lb * lanes],
                &fp[..],
                "naive simhash row {i}"
            );
        }
    }
}

/// `encode_into` and `encode_history_into` into buffers of exactly the needed length.
fn into<T: Lane>(
    e: &Engine,
    hasher: &SimHasher,
    emb: &[f32],
    n: usize,
    stride: usize,
) -> (Vec<u8>, Vec<u8>) {
    let lanes = hasher.layout().lanes();
    let mut q = vec![T::from_u64(0x5A); n * lanes];
    e.encode_into::<_, T>(hasher, emb, n, &mut q).unwrap();
    let mut h = vec![T::from_u64(0x5A); history_span(lanes, n, stride).unwrap()];
    e.encode_history_into::<_, T>(hasher, emb, n, &mut h, stride)
        .unwrap();
    // Padding items between n and the stride are not written (an empty history has none).
    for w in 0..if n == 0 { 0 } else { lanes - 1 } {
        assert!(h[w * stride + n..(w + 1) * stride]
            .iter()
            .all(|&x| x == T::from_u64(0x5A)));
    }
    (to_bytes(&q), to_bytes(&h))
}

fn layout_of(m: usize) -> (usize, usize) {
    layout(m).unwrap()
}

fuzz_target!(|data: &[u8]| {
    let mut s = Src::new(data);
    if s.range(0, 2) == 0 {
        encodes(&mut s);
        return;
    }
    let m = s.bits();
    let m = if (1..=4096).contains(&m) { m } else { 64 };
    match Layout::new(m).unwrap().lane_type() {
        eta_hamming::LaneType::U8 => scans::<u8>(&mut s, m),
        eta_hamming::LaneType::U16 => scans::<u16>(&mut s, m),
        eta_hamming::LaneType::U32 => scans::<u32>(&mut s, m),
        eta_hamming::LaneType::U64 => scans::<u64>(&mut s, m),
    }
});
