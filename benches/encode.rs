//! Criterion benchmarks of SimHash encoding, per instruction set and shape. Throughput is in
//! embeddings hashed per second.
//!
//! `cargo bench --bench encode`, or one group: `cargo bench --bench encode -- 'd128/m64'`.
//!
//! Groups:
//! * `encode/d{d}/m{m}/{isa}`: `f32` embeddings, `n = 4096` per iteration, into a preallocated
//!   query-layout buffer, `d` in {64, 128, 256} x `m` in {4, 8, 16, 32, 64, 128, 256}.
//! * `encode_bf16/...`, `encode_f16/...`: the same for 16-bit inputs (a subset of the shapes).
//! * `peak/*` (x86-64 only): the yardsticks for "fraction of FMA peak". `peak/clock` runs a
//!   chain of dependent 1-cycle integer adds, so its "elements per second" is the core's clock
//!   in Hz; `peak/fma_avx2` and `peak/fma_avx512` run 12 (16) independent chains of 256-bit
//!   (512-bit) FMAs, so their "elements per second" is the `f32` FMAs per second the core
//!   sustains. A SimHash of shape (d, m) needs `d * m` FMAs, so the fraction of peak is
//!   `embeddings/s * d * m / peak FMAs/s`.
//!
//! Timing: on Linux every benchmark measures the CPU time of the benchmarking thread
//! (`CLOCK_THREAD_CPUTIME_ID`), not wall time, so figures stay meaningful on a machine shared
//! with other work (time the thread spends descheduled is not counted; cache and frequency
//! effects of neighbours still are). Elsewhere it falls back to wall time.

use criterion::{criterion_group, criterion_main, BenchmarkId, Criterion, Throughput};
use eta_hamming::{Bf16, Engine, Isa, Lane, LaneType, SimHasher, F16};
use std::hint::black_box;
use std::time::Duration;

fn embeddings(n: usize, d: usize) -> Vec<f32> {
    let mut rng = eta_hamming::simhash::SplitMix64::new(5);
    (0..n * d).map(|_| rng.next_element()).collect()
}

const N: usize = 4096;

/// The calling thread's CPU time (Linux), or wall time since a fixed instant elsewhere.
fn now() -> Duration {
    #[cfg(target_os = "linux")]
    {
        #[repr(C)]
        struct Timespec {
            sec: i64,
            nsec: i64,
        }
        extern "C" {
            fn clock_gettime(clock: i32, tp: *mut Timespec) -> i32;
        }
        const CLOCK_THREAD_CPUTIME_ID: i32 = 3;
        let mut t = Timespec { sec: 0, nsec: 0 };
        // SAFETY: `t` is a valid, writable `struct timespec` (two 64-bit fields on the 64-bit
        // Linux targets this crate builds for), and the clock id exists on every Linux.
        let rc = unsafe { clock_gettime(CLOCK_THREAD_CPUTIME_ID, &mut t) };
        assert_eq!(rc, 0);
        Duration::new(t.sec as u64, t.nsec as u32)
    }
    #[cfg(not(target_os = "linux"))]
    {
        static START: std::sync::OnceLock<std::time::Instant> = std::sync::OnceLock::new();
        START.get_or_init(std::time::Instant::now).elapsed()
    }
}

/// Runs `f` `iters` times and returns the CPU time it took (see [`now`]).
fn timed<R>(iters: u64, mut f: impl FnMut() -> R) -> Duration {
    let t0 = now();
    for _ in 0..iters {
        black_box(f());
    }
    now() - t0
}

/// Times `encode_into` into a query-layout buffer of the layout's own lane type `T`.
fn bench_into<T: Lane + Default + Clone>(
    bench: &mut criterion::Bencher<'_>,
    e: &Engine,
    hasher: &SimHasher,
    emb: &[f32],
) {
    let mut out = vec![T::default(); N * hasher.layout().lanes()];
    bench.iter_custom(|it| timed(it, || e.encode_into(hasher, black_box(emb), N, &mut out)))
}

fn encode(c: &mut Criterion) {
    for &d in &[64usize, 128, 256] {
        for &m in &[4usize, 8, 16, 32, 64, 128, 256] {
            let hasher = SimHasher::from_seed(d, m, 1).unwrap();
            let emb = embeddings(N, d);
            let mut group = c.benchmark_group(format!("encode/d{d}/m{m}"));
            group.throughput(Throughput::Elements(N as u64));
            group.sample_size(10);
            for isa in Isa::available() {
                let e = Engine::new(isa).unwrap();
                // Narrow layouts have narrow lanes: a buffer of the layout's lane type.
                group.bench_function(BenchmarkId::from_parameter(isa), |bench| {
                    match hasher.layout().lane_type() {
                        LaneType::U8 => bench_into::<u8>(bench, &e, &hasher, &emb),
                        LaneType::U16 => bench_into::<u16>(bench, &e, &hasher, &emb),
                        LaneType::U32 => bench_into::<u32>(bench, &e, &hasher, &emb),
                        LaneType::U64 => bench_into::<u64>(bench, &e, &hasher, &emb),
                    }
                });
            }
            group.finish();
        }
    }
}

fn encode_half(c: &mut Criterion) {
    for &(d, m) in &[(128usize, 64usize), (256, 256)] {
        let hasher = SimHasher::from_seed(d, m, 1).unwrap();
        let emb = embeddings(N, d);
        // Round to the nearest bf16 / f16 (ties away: fine for a benchmark input).
        let bf16: Vec<u16> = emb
            .iter()
            .map(|v| ((v.to_bits() + 0x8000) >> 16) as u16)
            .collect();
        let f16: Vec<u16> = emb.iter().map(|&v| to_f16(v)).collect();
        let lanes = hasher.layout().lanes();
        for (name, input) in [("bf16", &bf16), ("f16", &f16)] {
            let mut group = c.benchmark_group(format!("encode_{name}/d{d}/m{m}"));
            group.throughput(Throughput::Elements(N as u64));
            group.sample_size(10);
            for isa in Isa::available() {
                let e = Engine::new(isa).unwrap();
                let mut out = vec![0u64; N * lanes];
                group.bench_function(BenchmarkId::from_parameter(isa), |bench| {
                    bench.iter_custom(|it| {
                        timed(it, || match name {
                            "bf16" => e.encode_into(
                                &hasher,
                                Bf16::from_bits_slice(black_box(input)),
                                N,
                                &mut out,
                            ),
                            _ => e.encode_into(
                                &hasher,
                                F16::from_bits_slice(black_box(input)),
                                N,
                                &mut out,
                            ),
                        })
                    })
                });
            }
            group.finish();
        }
    }
}

/// A binary16 near `v` (|v| < 6 here: normal range, truncated mantissa).
fn to_f16(v: f32) -> u16 {
    let b = v.to_bits();
    let sign = ((b >> 16) & 0x8000) as u16;
    let exp = ((b >> 23) & 0xFF) as i32 - 127 + 15;
    if exp <= 0 {
        return sign;
    }
    sign | ((exp as u16) << 10) | ((b >> 13) & 0x3FF) as u16
}

/// The FMA-peak loops, shared with the report and the demo.
#[path = "../examples/common/ceiling.rs"]
mod ceiling;

#[cfg(target_arch = "x86_64")]
mod peak {
    use core::arch::asm;

    /// `iters` x 8 dependent 1-cycle adds.
    pub fn clock(iters: u64) -> u64 {
        let mut x = 0u64;
        // SAFETY: register-only arithmetic and a counted loop; no memory, no stack.
        unsafe {
            asm!(
                "2:",
                "add {x}, 1", "add {x}, 1", "add {x}, 1", "add {x}, 1",
                "add {x}, 1", "add {x}, 1", "add {x}, 1", "add {x}, 1",
                "dec {n}",
                "jnz 2b",
                x = inout(reg) x,
                n = inout(reg) iters => _,
                options(nomem, nostack),
            );
        }
        x
    }
}

#[cfg(target_arch = "x86_64")]
fn peak(c: &mut Criterion) {
    const ITERS: u64 = 1 << 20;
    let mut group = c.benchmark_group("peak");
    group.sample_size(10);
    group.throughput(Throughput::Elements(ITERS * 8));
    group.bench_function("clock", |b| {
        b.iter_custom(|it| timed(it, || peak::clock(black_box(ITERS))))
    });
    if Isa::Avx2.is_available() {
        group.throughput(Throughput::Elements(ITERS * 12 * 8));
        // SAFETY: AVX2 and FMA are available (the Avx2 ISA requires both).
        group.bench_function("fma_avx2", |b| {
            b.iter_custom(|it| timed(it, || unsafe { ceiling::x::fma_avx2(black_box(ITERS)) }))
        });
    }
    if Isa::Avx512.is_available() {
        group.throughput(Throughput::Elements(ITERS * 16 * 16));
        // SAFETY: AVX-512 F is available (the Avx512 ISA requires it).
        group.bench_function("fma_avx512", |b| {
            b.iter_custom(|it| timed(it, || unsafe { ceiling::x::fma_avx512(black_box(ITERS)) }))
        });
    }
    group.finish();
}

#[cfg(not(target_arch = "x86_64"))]
fn peak(_: &mut Criterion) {}

criterion_group!(benches, peak, encode, encode_half);
criterion_main!(benches);
