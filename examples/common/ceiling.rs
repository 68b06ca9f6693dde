//! Per-instruction-set yardsticks, measured in the process that reports against them (shared by
//! `examples/report.rs` and `examples/demo.rs` through `#[path]`):
//!
//! - the **popcount ceiling**: the fastest distances-only loop this file knows for each
//!   instruction set: `CEIL_QUERIES` queries against an L1-resident history of `CEIL_ITEMS`
//!   64-bit fingerprints (8 KiB), XOR + popcount, every distance written as `u16` (16 KiB, in an
//!   order of the loop's choosing: four popcount vectors are merged by shifts into one store of
//!   `u16`s, which is cheaper than down-converting each). No top-K, no tails, no bounds: what a
//!   scan could reach if selection were free. Measured at m = 64 (`u64` lanes); a report scales
//!   it by `64 / m` for other widths (the same bits per second), which it says.
//!   A scan that keeps a top-K need not write its distances: the streaming path compares each
//!   vector of distances against the running threshold and keeps a mask. So the ceiling is the
//!   faster of two loops, each measured: the **distance** loop above, and the **filter** loop
//!   (the same XOR + popcount, each distance compared against a threshold, one mask bit per item
//!   written: `CEIL_QUERIES * CEIL_ITEMS / 8` bytes). [`popcount_ceilings`] gives both.
//! - the **FMA peak**: independent `f32` FMA chains in the widest registers of the instruction
//!   set (12 x 256-bit on AVX2, 16 x 512-bit on AVX-512), in `f32` FMAs per second: the
//!   encoder's yardstick (`benches/encode.rs`'s `peak/*` measures the same loops).
//!
//! Timing: [`Clock`], the thread's CPU time on Linux (so that a shared, loaded machine gives
//! figures close to a quiet one's), wall time elsewhere.
//!
//! `scalar` gets a popcount ceiling (portable `count_ones`, as the scalar table is compiled) and
//! no FMA peak; `neon` gets neither yet (reported as not measured).

#![allow(dead_code)]

use std::time::Duration;

use eta_hamming::Isa;

/// Queries per call of the ceiling loop.
pub const CEIL_QUERIES: usize = 8;
/// History items (64-bit fingerprints) per call of the ceiling loop.
pub const CEIL_ITEMS: usize = 1024;

/// Calls `f` until `elapsed()` reaches `min`, reading the clock only after batches of calls
/// that double in size (from 1, at most 64 calls): the thread CPU clock is a system call of about a microsecond,
/// as long as one call of a ceiling loop, so reading it after every call would halve the rate
/// measured. Returns the number of calls (at least 1).
pub fn repeat_for(min: Duration, elapsed: impl Fn() -> Duration, mut f: impl FnMut()) -> u64 {
    let (mut calls, mut batch) = (0u64, 1u64);
    loop {
        for _ in 0..batch {
            f();
        }
        calls += batch;
        if elapsed() >= min {
            return calls;
        }
        batch = (batch * 2).min(64);
    }
}

/// Median over `reps` runs of `work / seconds`, each run repeating `f` for at least `min`.
fn rate(reps: usize, min: Duration, work: f64, mut f: impl FnMut()) -> f64 {
    f();
    let mut r: Vec<f64> = (0..reps.max(1))
        .map(|_| {
            let t = Clock::start();
            let calls = repeat_for(min, || t.elapsed(), &mut f);
            work * calls as f64 / t.elapsed().as_secs_f64()
        })
        .collect();
    r.sort_by(f64::total_cmp);
    r[r.len() / 2]
}

/// Fingerprints compared per second at m = 64 by the faster of the two ceiling loops of `isa`
/// (`None` where this file has no loop for it, or the CPU lacks it).
pub fn popcount_ceiling(isa: Isa, reps: usize, min: Duration) -> Option<f64> {
    popcount_ceilings(isa, reps, min).map(|(d, f)| d.max(f))
}

/// Fingerprints compared per second at m = 64 by the distance loop and by the filter loop of
/// `isa`, measured one after the other (`None` as [`popcount_ceiling`]).
pub fn popcount_ceilings(isa: Isa, reps: usize, min: Duration) -> Option<(f64, f64)> {
    if !isa.is_available() {
        return None;
    }
    let mut s = 0x9E37_79B9_7F4A_7C15u64;
    let mut next = || {
        s = s
            .wrapping_mul(6_364_136_223_846_793_005)
            .wrapping_add(1_442_695_040_888_963_407);
        s ^ (s >> 29)
    };
    let q: Vec<u64> = (0..CEIL_QUERIES).map(|_| next()).collect();
    let h: Vec<u64> = (0..CEIL_ITEMS).map(|_| next()).collect();
    let mut out = vec![0u16; CEIL_QUERIES * CEIL_ITEMS];
    let mut bits = vec![0u8; CEIL_QUERIES * CEIL_ITEMS / 8];
    let work = (CEIL_QUERIES * CEIL_ITEMS) as f64;
    // The filter loops' threshold: about half of the distances of random words pass it.
    let thr = std::hint::black_box(32u64);
    type Dist = fn(&[u64], &[u64], &mut [u16]);
    type Filter = fn(&[u64], &[u64], u64, &mut [u8]);
    let (dist, filter): (Dist, Filter) = match isa {
        Isa::Scalar => (x::scalar, x::scalar_filter),
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => (x::avx2, x::avx2_filter),
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 => (x::avx512, x::avx512_filter),
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512Bw => (x::avx512bw, x::avx512bw_filter),
        _ => return None,
    };
    let d = rate(reps, min, work, || {
        dist(std::hint::black_box(&q), std::hint::black_box(&h), &mut out);
        std::hint::black_box(&mut out);
    });
    let f = rate(reps, min, work, || {
        filter(
            std::hint::black_box(&q),
            std::hint::black_box(&h),
            thr,
            &mut bits,
        );
        std::hint::black_box(&mut bits);
    });
    Some((d, f))
}

/// `f32` FMAs per second at the FMA peak of `isa` (`None` for `scalar`, `neon`, or a CPU
/// lacking it).
pub fn fma_peak(isa: Isa, reps: usize, min: Duration) -> Option<f64> {
    if !isa.is_available() {
        return None;
    }
    const ITERS: u64 = 1 << 16;
    match isa {
        #[cfg(target_arch = "x86_64")]
        Isa::Avx2 => Some(rate(reps, min, (ITERS * 12 * 8) as f64, || {
            // SAFETY: the Avx2 table requires AVX2 and FMA, and it is available.
            std::hint::black_box(unsafe { x::fma_avx2(std::hint::black_box(ITERS)) });
        })),
        #[cfg(target_arch = "x86_64")]
        Isa::Avx512 | Isa::Avx512Bw => Some(rate(reps, min, (ITERS * 16 * 16) as f64, || {
            // SAFETY: both AVX-512 tables require AVX-512 F, and this one is available.
            std::hint::black_box(unsafe { x::fma_avx512(std::hint::black_box(ITERS)) });
        })),
        _ => None,
    }
}

/// The measured loops (`benches/encode.rs` times the FMA ones too, through `#[path]`).
pub(crate) mod x {
    use super::{CEIL_ITEMS as H, CEIL_QUERIES as Q};

    /// Portable loop (the scalar table's `count_ones`).
    pub fn scalar(q: &[u64], h: &[u64], out: &mut [u16]) {
        let (q, h) = (&q[..Q], &h[..H]);
        for (j, &qj) in q.iter().enumerate() {
            let o = &mut out[j * H..(j + 1) * H];
            for (d, &x) in o.iter_mut().zip(h) {
                *d = (qj ^ x).count_ones() as u16;
            }
        }
    }

    /// Portable filter loop: one bit per item, set where the distance is below `thr`.
    pub fn scalar_filter(q: &[u64], h: &[u64], thr: u64, out: &mut [u8]) {
        let (q, h) = (&q[..Q], &h[..H]);
        for (j, &qj) in q.iter().enumerate() {
            let o = &mut out[j * H / 8..(j + 1) * H / 8];
            for (b, c) in o.iter_mut().zip(h.chunks_exact(8)) {
                let mut m = 0u8;
                for (i, &x) in c.iter().enumerate() {
                    m |= u8::from(u64::from((qj ^ x).count_ones()) < thr) << i;
                }
                *b = m;
            }
        }
    }

    #[cfg(target_arch = "x86_64")]
    pub use self::simd::*;

    #[cfg(target_arch = "x86_64")]
    mod simd {
        use super::{H, Q};
        use core::arch::x86_64::*;

        /// Byte popcounts by the nibble lookup (256-bit).
        #[inline(always)]
        unsafe fn pop8_256(v: __m256i) -> __m256i {
            // SAFETY: AVX2 available (the callers' target features).
            unsafe {
                let lut = _mm256_setr_epi8(
                    0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4, 0, 1, 1, 2, 1, 2, 2, 3, 1, 2,
                    2, 3, 2, 3, 3, 4,
                );
                let low = _mm256_set1_epi8(0x0F);
                let lo = _mm256_and_si256(v, low);
                let hi = _mm256_and_si256(_mm256_srli_epi16::<4>(v), low);
                _mm256_add_epi8(_mm256_shuffle_epi8(lut, lo), _mm256_shuffle_epi8(lut, hi))
            }
        }

        /// AVX2: nibble lookup + `vpsadbw`, 4 items per register, 16 distances per store.
        pub fn avx2(q: &[u64], h: &[u64], out: &mut [u16]) {
            assert!(q.len() >= Q && h.len() >= H && out.len() >= Q * H);
            // SAFETY: the Avx2 table (AVX2) is available wherever this runs (the caller);
            // the lengths are checked above.
            unsafe { avx2_in(q.as_ptr(), h.as_ptr(), out.as_mut_ptr()) }
        }
        #[target_feature(enable = "avx2")]
        unsafe fn avx2_in(q: *const u64, h: *const u64, out: *mut u16) {
            // SAFETY: reads `Q` queries, `H` items, writes `Q * H` distances (the caller).
            unsafe {
                let z = _mm256_setzero_si256();
                let mut qs = [z; Q];
                for (j, v) in qs.iter_mut().enumerate() {
                    *v = _mm256_set1_epi64x(*q.add(j) as i64);
                }
                for i in (0..H).step_by(16) {
                    let v = [
                        _mm256_loadu_si256(h.add(i).cast()),
                        _mm256_loadu_si256(h.add(i + 4).cast()),
                        _mm256_loadu_si256(h.add(i + 8).cast()),
                        _mm256_loadu_si256(h.add(i + 12).cast()),
                    ];
                    for (j, &qj) in qs.iter().enumerate() {
                        let d0 = _mm256_sad_epu8(pop8_256(_mm256_xor_si256(v[0], qj)), z);
                        let d1 = _mm256_sad_epu8(pop8_256(_mm256_xor_si256(v[1], qj)), z);
                        let d2 = _mm256_sad_epu8(pop8_256(_mm256_xor_si256(v[2], qj)), z);
                        let d3 = _mm256_sad_epu8(pop8_256(_mm256_xor_si256(v[3], qj)), z);
                        let a = _mm256_or_si256(d0, _mm256_slli_epi64::<16>(d1));
                        let b = _mm256_or_si256(d2, _mm256_slli_epi64::<16>(d3));
                        let w = _mm256_or_si256(a, _mm256_slli_epi64::<32>(b));
                        _mm256_storeu_si256(out.add(j * H + i).cast(), w);
                    }
                }
            }
        }

        /// AVX-512 VPOPCNTDQ: `vpopcntq`, 8 items per register, 32 distances per store.
        pub fn avx512(q: &[u64], h: &[u64], out: &mut [u16]) {
            assert!(q.len() >= Q && h.len() >= H && out.len() >= Q * H);
            // SAFETY: the Avx512 table (AVX-512 F + VPOPCNTDQ) is available wherever this runs
            // (the caller); the lengths are checked above.
            unsafe { avx512_in(q.as_ptr(), h.as_ptr(), out.as_mut_ptr()) }
        }
        #[target_feature(enable = "avx512f,avx512vpopcntdq")]
        unsafe fn avx512_in(q: *const u64, h: *const u64, out: *mut u16) {
            // SAFETY: as `avx2_in`.
            unsafe {
                let mut qs = [_mm512_setzero_si512(); Q];
                for (j, v) in qs.iter_mut().enumerate() {
                    *v = _mm512_set1_epi64(*q.add(j) as i64);
                }
                for i in (0..H).step_by(32) {
                    let v = [
                        _mm512_loadu_si512(h.add(i).cast()),
                        _mm512_loadu_si512(h.add(i + 8).cast()),
                        _mm512_loadu_si512(h.add(i + 16).cast()),
                        _mm512_loadu_si512(h.add(i + 24).cast()),
                    ];
                    for (j, &qj) in qs.iter().enumerate() {
                        let d0 = _mm512_popcnt_epi64(_mm512_xor_si512(v[0], qj));
                        let d1 = _mm512_popcnt_epi64(_mm512_xor_si512(v[1], qj));
                        let d2 = _mm512_popcnt_epi64(_mm512_xor_si512(v[2], qj));
                        let d3 = _mm512_popcnt_epi64(_mm512_xor_si512(v[3], qj));
                        let a = _mm512_or_si512(d0, _mm512_slli_epi64::<16>(d1));
                        let b = _mm512_or_si512(d2, _mm512_slli_epi64::<16>(d3));
                        let w = _mm512_or_si512(a, _mm512_slli_epi64::<32>(b));
                        _mm512_storeu_si512(out.add(j * H + i).cast(), w);
                    }
                }
            }
        }

        /// `u64` popcounts by the 512-bit nibble lookup and `vpsadbw`.
        #[inline(always)]
        unsafe fn pop64_512bw(x: __m512i, lut: __m512i, low: __m512i) -> __m512i {
            // SAFETY: AVX-512 F/BW available (the caller's target features).
            unsafe {
                let lo = _mm512_and_si512(x, low);
                let hi = _mm512_and_si512(_mm512_srli_epi16::<4>(x), low);
                let c = _mm512_add_epi8(_mm512_shuffle_epi8(lut, lo), _mm512_shuffle_epi8(lut, hi));
                _mm512_sad_epu8(c, _mm512_setzero_si512())
            }
        }

        /// AVX-512 BW: 512-bit nibble lookup + `vpsadbw`, otherwise as [`avx512`].
        pub fn avx512bw(q: &[u64], h: &[u64], out: &mut [u16]) {
            assert!(q.len() >= Q && h.len() >= H && out.len() >= Q * H);
            // SAFETY: the Avx512Bw table (AVX-512 F/BW) is available wherever this runs (the
            // caller); the lengths are checked above.
            unsafe { avx512bw_in(q.as_ptr(), h.as_ptr(), out.as_mut_ptr()) }
        }
        #[target_feature(enable = "avx512f,avx512bw")]
        unsafe fn avx512bw_in(q: *const u64, h: *const u64, out: *mut u16) {
            // SAFETY: as `avx2_in`.
            unsafe {
                let z = _mm512_setzero_si512();
                let lut = _mm512_broadcast_i32x4(_mm_setr_epi8(
                    0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,
                ));
                let low = _mm512_set1_epi8(0x0F);
                let mut qs = [z; Q];
                for (j, v) in qs.iter_mut().enumerate() {
                    *v = _mm512_set1_epi64(*q.add(j) as i64);
                }
                for i in (0..H).step_by(32) {
                    let v = [
                        _mm512_loadu_si512(h.add(i).cast()),
                        _mm512_loadu_si512(h.add(i + 8).cast()),
                        _mm512_loadu_si512(h.add(i + 16).cast()),
                        _mm512_loadu_si512(h.add(i + 24).cast()),
                    ];
                    for (j, &qj) in qs.iter().enumerate() {
                        let d0 = pop64_512bw(_mm512_xor_si512(v[0], qj), lut, low);
                        let d1 = pop64_512bw(_mm512_xor_si512(v[1], qj), lut, low);
                        let d2 = pop64_512bw(_mm512_xor_si512(v[2], qj), lut, low);
                        let d3 = pop64_512bw(_mm512_xor_si512(v[3], qj), lut, low);
                        let a = _mm512_or_si512(d0, _mm512_slli_epi64::<16>(d1));
                        let b = _mm512_or_si512(d2, _mm512_slli_epi64::<16>(d3));
                        let w = _mm512_or_si512(a, _mm512_slli_epi64::<32>(b));
                        _mm512_storeu_si512(out.add(j * H + i).cast(), w);
                    }
                }
            }
        }

        /// AVX2 filter loop: nibble lookup + `vpsadbw`, a 64-bit compare against `thr` and
        /// `vmovmskpd` per 4 items, 16 mask bits per store.
        pub fn avx2_filter(q: &[u64], h: &[u64], thr: u64, out: &mut [u8]) {
            assert!(q.len() >= Q && h.len() >= H && out.len() >= Q * H / 8);
            // SAFETY: as `avx2`; writes `Q * H / 8` bytes, checked above.
            unsafe { avx2_filter_in(q.as_ptr(), h.as_ptr(), thr, out.as_mut_ptr()) }
        }
        #[target_feature(enable = "avx2")]
        unsafe fn avx2_filter_in(q: *const u64, h: *const u64, thr: u64, out: *mut u8) {
            // SAFETY: reads `Q` queries, `H` items, writes `Q * H / 8` bytes (the caller).
            unsafe {
                let z = _mm256_setzero_si256();
                let t = _mm256_set1_epi64x(thr as i64);
                let mut qs = [z; Q];
                for (j, v) in qs.iter_mut().enumerate() {
                    *v = _mm256_set1_epi64x(*q.add(j) as i64);
                }
                for i in (0..H).step_by(16) {
                    let v = [
                        _mm256_loadu_si256(h.add(i).cast()),
                        _mm256_loadu_si256(h.add(i + 4).cast()),
                        _mm256_loadu_si256(h.add(i + 8).cast()),
                        _mm256_loadu_si256(h.add(i + 12).cast()),
                    ];
                    for (j, &qj) in qs.iter().enumerate() {
                        let mut m = 0u32;
                        for (n, &vn) in v.iter().enumerate() {
                            let d = _mm256_sad_epu8(pop8_256(_mm256_xor_si256(vn, qj)), z);
                            let lt = _mm256_castsi256_pd(_mm256_cmpgt_epi64(t, d));
                            m |= (_mm256_movemask_pd(lt) as u32) << (4 * n);
                        }
                        out.add((j * H + i) / 8)
                            .cast::<u16>()
                            .write_unaligned(m as u16);
                    }
                }
            }
        }

        /// AVX-512 VPOPCNTDQ filter loop: `vpopcntq`, `vpcmpuq` into a mask register per 8
        /// items, 32 mask bits per store.
        pub fn avx512_filter(q: &[u64], h: &[u64], thr: u64, out: &mut [u8]) {
            assert!(q.len() >= Q && h.len() >= H && out.len() >= Q * H / 8);
            // SAFETY: as `avx512`; writes `Q * H / 8` bytes, checked above.
            unsafe { avx512_filter_in(q.as_ptr(), h.as_ptr(), thr, out.as_mut_ptr()) }
        }

        /// AVX-512 BW filter loop: as [`avx512_filter`] with the nibble-lookup popcount.
        pub fn avx512bw_filter(q: &[u64], h: &[u64], thr: u64, out: &mut [u8]) {
            assert!(q.len() >= Q && h.len() >= H && out.len() >= Q * H / 8);
            // SAFETY: as `avx512bw`; writes `Q * H / 8` bytes, checked above.
            unsafe { avx512bw_filter_in(q.as_ptr(), h.as_ptr(), thr, out.as_mut_ptr()) }
        }
        #[target_feature(enable = "avx512f,avx512vpopcntdq")]
        unsafe fn avx512_filter_in(q: *const u64, h: *const u64, thr: u64, out: *mut u8) {
            // SAFETY: as `filter512` (VPOPCNTDQ available: this function's features).
            unsafe { filter512(q, h, thr, out, |x| _mm512_popcnt_epi64(x)) }
        }
        #[target_feature(enable = "avx512f,avx512bw")]
        unsafe fn avx512bw_filter_in(q: *const u64, h: *const u64, thr: u64, out: *mut u8) {
            // SAFETY: as `filter512` (AVX-512 BW available: this function's features).
            unsafe {
                let lut = _mm512_broadcast_i32x4(_mm_setr_epi8(
                    0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,
                ));
                let low = _mm512_set1_epi8(0x0F);
                filter512(q, h, thr, out, |x| pop64_512bw(x, lut, low))
            }
        }
        /// The 512-bit filter loop over the `u64` popcount `pop`: `vpcmpuq` into a mask
        /// register per 8 items, 32 mask bits per store.
        ///
        /// # Safety
        /// Reads `Q` queries, `H` items, writes `Q * H / 8` bytes; AVX-512 F and what `pop`
        /// uses are available (inlined into the callers' target features).
        #[inline(always)]
        unsafe fn filter512(
            q: *const u64,
            h: *const u64,
            thr: u64,
            out: *mut u8,
            pop: impl Fn(__m512i) -> __m512i,
        ) {
            // SAFETY: as the caller guarantees (above).
            unsafe {
                let t = _mm512_set1_epi64(thr as i64);
                let mut qs = [_mm512_setzero_si512(); Q];
                for (j, v) in qs.iter_mut().enumerate() {
                    *v = _mm512_set1_epi64(*q.add(j) as i64);
                }
                for i in (0..H).step_by(32) {
                    let v = [
                        _mm512_loadu_si512(h.add(i).cast()),
                        _mm512_loadu_si512(h.add(i + 8).cast()),
                        _mm512_loadu_si512(h.add(i + 16).cast()),
                        _mm512_loadu_si512(h.add(i + 24).cast()),
                    ];
                    for (j, &qj) in qs.iter().enumerate() {
                        let mut m = 0u32;
                        for (n, &vn) in v.iter().enumerate() {
                            let d = pop(_mm512_xor_si512(vn, qj));
                            m |= u32::from(_mm512_cmplt_epu64_mask(d, t)) << (8 * n);
                        }
                        out.add((j * H + i) / 8).cast::<u32>().write_unaligned(m);
                    }
                }
            }
        }

        /// `iters` x 12 independent 256-bit FMAs.
        #[target_feature(enable = "avx2,fma")]
        pub fn fma_avx2(iters: u64) -> f32 {
            let mut acc = [_mm256_setzero_ps(); 12];
            let a = _mm256_set1_ps(0.999_999);
            let b = _mm256_set1_ps(1.0e-7);
            for _ in 0..iters {
                for v in acc.iter_mut() {
                    *v = _mm256_fmadd_ps(*v, a, b);
                }
            }
            let t = acc
                .iter()
                .fold(_mm256_setzero_ps(), |t, &v| _mm256_add_ps(t, v));
            let mut s = [0.0f32; 8];
            // SAFETY: `s` holds 8 floats.
            unsafe { _mm256_storeu_ps(s.as_mut_ptr(), t) };
            s.iter().sum()
        }

        /// `iters` x 16 independent 512-bit FMAs.
        #[target_feature(enable = "avx512f")]
        pub fn fma_avx512(iters: u64) -> f32 {
            let mut acc = [_mm512_setzero_ps(); 16];
            let a = _mm512_set1_ps(0.999_999);
            let b = _mm512_set1_ps(1.0e-7);
            for _ in 0..iters {
                for v in acc.iter_mut() {
                    *v = _mm512_fmadd_ps(*v, a, b);
                }
            }
            let t = acc
                .iter()
                .fold(_mm512_setzero_ps(), |t, &v| _mm512_add_ps(t, v));
            _mm512_reduce_add_ps(t)
        }
    }
}

/// A clock of the calling thread's CPU time on Linux (`CLOCK_THREAD_CPUTIME_ID`), wall time
/// elsewhere: on a machine shared with other processes, time spent descheduled is not counted
/// (time lost to a busy SMT sibling or to shared caches still is).
#[derive(Clone, Copy)]
pub struct Clock(Option<f64>, std::time::Instant);

#[cfg(target_os = "linux")]
fn thread_cpu_seconds() -> Option<f64> {
    #[repr(C)]
    struct Timespec {
        sec: i64,
        nsec: i64,
    }
    extern "C" {
        fn clock_gettime(clock: i32, ts: *mut Timespec) -> i32;
    }
    const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
    let mut ts = Timespec { sec: 0, nsec: 0 };
    // SAFETY: `clock_gettime` (libc, linked by std on Linux) writes one `struct timespec`
    // (two 64-bit fields on 64-bit Linux) to the valid, writable `ts`.
    let rc = unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut ts) };
    (rc == 0 && cfg!(target_pointer_width = "64")).then_some(ts.sec as f64 + ts.nsec as f64 * 1e-9)
}

#[cfg(not(target_os = "linux"))]
fn thread_cpu_seconds() -> Option<f64> {
    None
}

impl Clock {
    /// Starts the clock.
    pub fn start() -> Clock {
        Clock(thread_cpu_seconds(), std::time::Instant::now())
    }
    /// Seconds since [`Clock::start`]: thread CPU time where available.
    pub fn elapsed(&self) -> Duration {
        match (self.0, thread_cpu_seconds()) {
            (Some(a), Some(b)) => Duration::from_secs_f64((b - a).max(0.0)),
            _ => self.1.elapsed(),
        }
    }
    /// Whether this clock counts CPU time.
    pub fn is_cpu_time() -> bool {
        thread_cpu_seconds().is_some()
    }
}
