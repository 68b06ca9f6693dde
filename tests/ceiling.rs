//! The ceiling loops of the report (`examples/common/ceiling.rs`: the distance loop and the
//! filter loop of every instruction set this CPU has) compute what they claim, against the
//! portable loops: a yardstick that computed less would flatter every percentage measured
//! against it.

#[path = "../examples/common/ceiling.rs"]
mod ceiling;

use ceiling::{x, CEIL_ITEMS as H, CEIL_QUERIES as Q};
use eta_hamming::Isa;
use rand::rngs::SmallRng;
use rand::{RngExt, SeedableRng};

type Dist = fn(&[u64], &[u64], &mut [u16]);
type Filter = fn(&[u64], &[u64], u64, &mut [u8]);

fn loops() -> Vec<(Isa, Dist, Filter)> {
    #[allow(unused_mut)]
    let mut v: Vec<(Isa, Dist, Filter)> = vec![(Isa::Scalar, x::scalar, x::scalar_filter)];
    #[cfg(target_arch = "x86_64")]
    v.extend([
        (Isa::Avx2, x::avx2 as Dist, x::avx2_filter as Filter),
        (Isa::Avx512Bw, x::avx512bw, x::avx512bw_filter),
        (Isa::Avx512, x::avx512, x::avx512_filter),
    ]);
    v.retain(|(isa, ..)| isa.is_available());
    v
}

#[test]
fn ceiling_loops_match_the_portable_ones() {
    let mut r = SmallRng::seed_from_u64(7);
    // Random words, and words near each query (small distances, so thresholds split them).
    let q: Vec<u64> = (0..Q).map(|_| r.random()).collect();
    let h: Vec<u64> = (0..H)
        .map(|i| {
            let w = if i % 2 == 0 { q[i % Q] } else { r.random() };
            w ^ (r.random::<u64>() & r.random::<u64>() & r.random::<u64>())
        })
        .collect();
    let mut want = vec![0u16; Q * H];
    x::scalar(&q, &h, &mut want);
    // The distance loops may write in an order of their choosing: compare per query, sorted
    // within each group of 32 items (the widest loop's block).
    let sorted = |d: &[u16]| {
        let mut d = d.to_vec();
        d.chunks_mut(32).for_each(<[u16]>::sort_unstable);
        d
    };
    for (isa, dist, filter) in loops() {
        let mut got = vec![0xFFFFu16; Q * H];
        dist(&q, &h, &mut got);
        assert_eq!(sorted(&got), sorted(&want), "{isa:?} distance loop");
        for thr in [0u64, 1, 17, 32, 64, 65] {
            let mut bits = vec![0xA5u8; Q * H / 8];
            filter(&q, &h, thr, &mut bits);
            for (n, &d) in want.iter().enumerate() {
                let bit = bits[n / 8] >> (n % 8) & 1 == 1;
                assert_eq!(
                    bit,
                    u64::from(d) < thr,
                    "{isa:?} filter loop, thr {thr}, item {n}"
                );
            }
        }
    }
}
