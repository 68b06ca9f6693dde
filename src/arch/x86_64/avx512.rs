//! AVX-512 vectors (one `zmm` = 64 bytes of lanes) for the generic scans.
//!
//! Popcount: `vpopcntq`/`vpopcntd` (VPOPCNTDQ) for `u64`/`u32` lanes; for `u16`/`u8` lanes
//! `vpopcntw`/`vpopcntb` where BITALG is present ([`V16Bitalg`], [`V8Bitalg`]), else a nibble
//! lookup with `vpshufb` (BW) and, for `u16`, `vpmaddubsw` to sum byte pairs. Compares go straight
//! to mask registers (`vpcmpu*`), so a survivor mask costs one instruction. Tails use zero-masked
//! loads (`vmovdqu*{z}`), which never touch (nor fault on) the lanes past the valid items.
//! Distances leave as `u16` through the down-converting moves (`vpmovqw`, `vpmovdw`) or, for
//! `u8`, `vpmovzxbw`.

use core::arch::x86_64::*;

use crate::arch::generic::{lane_kernels, Vector};

/// Byte popcount by nibble lookup (any AVX-512 BW CPU).
#[inline(always)]
unsafe fn popcnt_bytes_lut(v: __m512i) -> __m512i {
    // SAFETY: AVX-512 F/BW are available (the Vector contract).
    unsafe {
        let lut = _mm512_broadcast_i32x4(_mm_setr_epi8(
            0, 1, 1, 2, 1, 2, 2, 3, 1, 2, 2, 3, 2, 3, 3, 4,
        ));
        let low = _mm512_set1_epi8(0x0F);
        let lo = _mm512_and_si512(v, low);
        let hi = _mm512_and_si512(_mm512_srli_epi16::<4>(v), low);
        _mm512_add_epi8(_mm512_shuffle_epi8(lut, lo), _mm512_shuffle_epi8(lut, hi))
    }
}

/// Lane `i` takes the larger of itself and lane `i ^ J` where `takemax` has bit `i`, else
/// the smaller: one compare-exchange step of a sorting network on 16 `i32` lanes.
#[inline(always)]
unsafe fn exchange<const J: i32>(v: __m512i, takemax: u16) -> __m512i {
    // SAFETY: AVX-512 F available (the caller).
    unsafe {
        let iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
        let w = _mm512_permutexvar_epi32(_mm512_xor_si512(iota, _mm512_set1_epi32(J)), v);
        _mm512_mask_blend_epi32(takemax, _mm512_min_epi32(v, w), _mm512_max_epi32(v, w))
    }
}

/// The `takemax` mask of step `j` of stage `k` of a bitonic sort into ascending order: the
/// upper lane of a pair (`i & j != 0`) takes the maximum in ascending runs (`i & k == 0`), the
/// minimum in descending ones.
const fn bitonic_mask(k: usize, j: usize) -> u16 {
    let mut m = 0u16;
    let mut i = 0;
    while i < 16 {
        if ((i & j) != 0) != ((i & k) != 0) {
            m |= 1 << i;
        }
        i += 1;
    }
    m
}

/// Bitonic sort of 16 `i32` lanes into ascending order: 10 steps of [`exchange`].
#[inline(always)]
unsafe fn sort16(v: __m512i) -> __m512i {
    // SAFETY: AVX-512 F available (the caller).
    unsafe {
        let v = exchange::<1>(v, bitonic_mask(2, 1));
        let v = exchange::<2>(v, bitonic_mask(4, 2));
        let v = exchange::<1>(v, bitonic_mask(4, 1));
        let v = exchange::<4>(v, bitonic_mask(8, 4));
        let v = exchange::<2>(v, bitonic_mask(8, 2));
        let v = exchange::<1>(v, bitonic_mask(8, 1));
        merge16(v)
    }
}

/// The last 4 steps of a bitonic sort: a bitonic sequence of 16 lanes into ascending order.
#[inline(always)]
unsafe fn merge16(v: __m512i) -> __m512i {
    // SAFETY: AVX-512 F available (the caller).
    unsafe {
        let v = exchange::<8>(v, bitonic_mask(16, 8));
        let v = exchange::<4>(v, bitonic_mask(16, 4));
        let v = exchange::<2>(v, bitonic_mask(16, 2));
        exchange::<1>(v, bitonic_mask(16, 1))
    }
}

/// Bitonic sort of the `16 R` lanes of `v` (register 0 lowest) into ascending order, `R` a
/// power of two: each register by [`sort16`], then runs of registers merged pairwise (the
/// second run reversed, compare-exchanges between registers `h, h / 2, ..., 1` apart, then
/// [`merge16`] within each register). All loops have constant bounds and unroll.
#[inline(always)]
unsafe fn sort_regs<const R: usize>(v: &mut [__m512i; R]) {
    // SAFETY: AVX-512 F available (the caller).
    unsafe {
        let rev = _mm512_setr_epi32(15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0);
        for r in v.iter_mut() {
            *r = sort16(*r);
        }
        let mut s = 2;
        while s <= R {
            let h = s / 2;
            for base in (0..R).step_by(s) {
                // Ascending first run, descending second: a bitonic sequence.
                v[base + h..base + s].reverse();
                for r in &mut v[base + h..base + s] {
                    *r = _mm512_permutexvar_epi32(rev, *r);
                }
                let mut d = h;
                while d >= 1 {
                    for i in base..base + s {
                        if (i - base) & d == 0 {
                            let (a, b) = (v[i], v[i + d]);
                            v[i] = _mm512_min_epi32(a, b);
                            v[i + d] = _mm512_max_epi32(a, b);
                        }
                    }
                    d /= 2;
                }
                for r in &mut v[base..base + s] {
                    *r = merge16(*r);
                }
            }
            s *= 2;
        }
    }
}

/// The most keys [`sort_net`] sorts.
pub(crate) const SORT_NET_MAX: usize = 128;

/// Sorts `n <= SORT_NET_MAX` keys `(distance << 16) | index` (distinct, non-negative) with a
/// bitonic network in 1, 2, 4 or 8 registers (padding `i32::MAX` sorts last) and stores them
/// split into `idx` and `dist` by masked stores of the `n` first lanes. Replaces, in the
/// two-pass top-K, ranking (all-pairs compares, then a scalar store per key) and the counting
/// sort (a read-modify-write chain through memory per key): about `4 log2(n)^2 / 2` dependent
/// instructions, no store per key.
///
/// # Safety
/// `keys..keys + n` readable; `idx`/`dist` writable for `n`; AVX-512 F/BW available.
#[inline(always)]
unsafe fn sort_net(keys: *const i32, n: usize, idx: *mut u32, dist: *mut u16) {
    /// Out of line for 4 and 8 registers (those unrolled networks inlined into the query loop
    /// of the two-pass path cost its common `K <= 32` case 10%).
    #[inline(never)]
    #[target_feature(enable = "avx512f,avx512bw,avx512vl")]
    unsafe fn run_big<const R: usize>(keys: *const i32, n: usize, idx: *mut u32, dist: *mut u16) {
        // SAFETY: forwarded.
        unsafe { run::<R>(keys, n, idx, dist) }
    }
    #[inline(always)]
    unsafe fn run<const R: usize>(keys: *const i32, n: usize, idx: *mut u32, dist: *mut u16) {
        // SAFETY: for the whole body, guaranteed by the caller (`n <= 16 R`); the masked
        // loads and stores touch only the lanes of the `n` real keys.
        unsafe {
            let pad = _mm512_set1_epi32(i32::MAX);
            let mask = |r: usize| ((1u32 << n.saturating_sub(16 * r).min(16)) - 1) as u16;
            let mut v = [pad; R];
            for (r, x) in v.iter_mut().enumerate() {
                *x = _mm512_mask_loadu_epi32(pad, mask(r), keys.add(16 * r).cast());
            }
            sort_regs::<R>(&mut v);
            let low16 = _mm512_set1_epi32(0xFFFF);
            for (r, x) in v.into_iter().enumerate() {
                let m = mask(r);
                _mm512_mask_storeu_epi32(idx.add(16 * r).cast(), m, _mm512_and_si512(x, low16));
                let d = _mm512_cvtepi32_epi16(_mm512_srli_epi32::<16>(x));
                _mm256_mask_storeu_epi16(dist.add(16 * r).cast(), m, d);
            }
        }
    }
    // SAFETY: forwarded.
    unsafe {
        match n {
            0..=16 => run::<1>(keys, n, idx, dist),
            17..=32 => run::<2>(keys, n, idx, dist),
            33..=64 => run_big::<4>(keys, n, idx, dist),
            _ => run_big::<8>(keys, n, idx, dist),
        }
    }
}

/// Dword indices of a 4x4 transpose of the 128-bit lanes' dwords: dword `4 l + s` to `4 s + l`.
#[repr(C, align(64))]
struct Indices([u32; 16]);
static DWORD_TRANSPOSE: Indices = Indices([0, 4, 8, 12, 1, 5, 9, 13, 2, 6, 10, 14, 3, 7, 11, 15]);

/// Defines a `zmm` vector type; `$body` supplies the lane-specific methods.
macro_rules! zmm_vector {
    ($(#[$doc:meta])* $name:ident, $lane:ty, $n:literal, { $($body:tt)* }) => {
        $(#[$doc])*
        #[derive(Clone, Copy)]
        pub(crate) struct $name(__m512i);

        impl Vector for $name {
            type Lane = $lane;
            const N: usize = $n;

            #[inline(always)]
            unsafe fn load(p: *const $lane) -> Self {
                // SAFETY: the caller guarantees 64 readable bytes at `p`; AVX-512 F available.
                Self(unsafe { _mm512_loadu_si512(p.cast()) })
            }

            #[inline(always)]
            unsafe fn count_le_u16(d: *const u16, n: usize, t: u16) -> usize {
                // SAFETY: the caller guarantees `n` (a multiple of 64) readable distances;
                // AVX-512 BW available.
                unsafe {
                    let tv = _mm512_set1_epi16(t as i16);
                    let (mut c0, mut c1) = (0u32, 0u32);
                    let mut i = 0;
                    while i < n {
                        let a = _mm512_loadu_si512(d.add(i).cast());
                        let b = _mm512_loadu_si512(d.add(i + 32).cast());
                        c0 += _mm512_cmple_epu16_mask(a, tv).count_ones();
                        c1 += _mm512_cmple_epu16_mask(b, tv).count_ones();
                        i += 64;
                    }
                    (c0 + c1) as usize
                }
            }

            #[inline(always)]
            unsafe fn le_mask_u16(d: *const u16, t: u16) -> u64 {
                // SAFETY: the caller guarantees 64 readable distances; AVX-512 BW available.
                unsafe {
                    let tv = _mm512_set1_epi16(t as i16);
                    let a = _mm512_cmple_epu16_mask(_mm512_loadu_si512(d.cast()), tv);
                    let b = _mm512_cmple_epu16_mask(_mm512_loadu_si512(d.add(32).cast()), tv);
                    u64::from(a) | (u64::from(b) << 32)
                }
            }

            #[inline(always)]
            unsafe fn count_le_u8(d: *const u8, n: usize, t: u8) -> usize {
                // SAFETY: the caller guarantees `n` (a multiple of 64) readable distances;
                // AVX-512 BW available.
                unsafe {
                    let tv = _mm512_set1_epi8(t as i8);
                    let (mut c0, mut c1) = (0u32, 0u32);
                    let mut i = 0;
                    while i + 128 <= n {
                        let a = _mm512_loadu_si512(d.add(i).cast());
                        let b = _mm512_loadu_si512(d.add(i + 64).cast());
                        c0 += _mm512_cmple_epu8_mask(a, tv).count_ones();
                        c1 += _mm512_cmple_epu8_mask(b, tv).count_ones();
                        i += 128;
                    }
                    if i < n {
                        let a = _mm512_loadu_si512(d.add(i).cast());
                        c0 += _mm512_cmple_epu8_mask(a, tv).count_ones();
                    }
                    (c0 + c1) as usize
                }
            }

            #[inline(always)]
            unsafe fn le_mask_u8(d: *const u8, t: u8) -> u64 {
                // SAFETY: the caller guarantees 64 readable distances; AVX-512 BW available.
                unsafe { _mm512_cmple_epu8_mask(_mm512_loadu_si512(d.cast()), _mm512_set1_epi8(t as i8)) }
            }

            #[inline(always)]
            unsafe fn sort_net(keys: *const i32, n: usize, idx: *mut u32, dist: *mut u16) -> bool {
                if n > SORT_NET_MAX {
                    return false;
                }
                // SAFETY: forwarded; AVX-512 F/BW available.
                unsafe { sort_net(keys, n, idx, dist) };
                true
            }

            $($body)*
        }
    };
}

zmm_vector!(
    /// 8 `u64` lanes: `vpopcntq`.
    V64, u64, 8, {
    #[inline(always)]
    unsafe fn load_partial(p: *const u64, n: usize) -> Self {
        // SAFETY: the masked load reads only the first `n` lanes, which the caller guarantees.
        Self(unsafe { _mm512_maskz_loadu_epi64(((1u32 << n) - 1) as __mmask8, p.cast()) })
    }
    #[inline(always)]
    unsafe fn splat(x: u64) -> Self {
        // SAFETY: AVX-512 F available (the Vector contract).
        Self(unsafe { _mm512_set1_epi64(x as i64) })
    }
    #[inline(always)]
    unsafe fn xor_popcnt(a: Self, b: Self) -> Self {
        // SAFETY: AVX-512 F + VPOPCNTDQ available.
        Self(unsafe { _mm512_popcnt_epi64(_mm512_xor_si512(a.0, b.0)) })
    }
    #[inline(always)]
    unsafe fn add(a: Self, b: Self) -> Self {
        // SAFETY: AVX-512 F available.
        Self(unsafe { _mm512_add_epi64(a.0, b.0) })
    }
    #[inline(always)]
    unsafe fn splat_dist(t: u32) -> Self {
        // SAFETY: AVX-512 F available.
        Self(unsafe { _mm512_set1_epi64(i64::from(t)) })
    }
    #[inline(always)]
    unsafe fn lt_mask(d: Self, t: Self) -> u64 {
        // SAFETY: AVX-512 F available.
        u64::from(unsafe { _mm512_cmplt_epu64_mask(d.0, t.0) })
    }
    #[inline(always)]
    unsafe fn store_u16(d: Self, out: *mut u16) {
        // SAFETY: 16 writable bytes at `out` (the caller); AVX-512 F available.
        unsafe { _mm_storeu_si128(out.cast(), _mm512_cvtepi64_epi16(d.0)) }
    }

    // Byte blocks: the 8 steps of a 64-item block are packed by shifts into the bytes of the
    // `u64` lanes (step `s` into byte `s` of every lane: byte `8 j + s` holds item `8 s + j`),
    // then brought to item order by one in-lane byte shuffle (pairs of lanes `j`, per step) and
    // one word permute: about 2 instructions per 8 items fewer than 8 down-converting moves.
    const U8_BUF: bool = true;
    #[inline(always)]
    unsafe fn pack_u8(acc: Self, d: Self, s: usize) -> Self {
        // SAFETY: AVX-512 F available.
        Self(unsafe {
            _mm512_or_si512(acc.0, _mm512_sll_epi64(d.0, _mm_cvtsi64_si128(8 * s as i64)))
        })
    }
    #[inline(always)]
    unsafe fn store_block_u8(acc: Self, valid: u64, out: *mut u8) {
        // SAFETY: 64 writable bytes at `out` (the caller); AVX-512 F/BW available;
        // `DWORD_TRANSPOSE` is a static of 64 bytes aligned to 64.
        unsafe {
            // In each 128-bit lane `l` (lanes `j = 2l, 2l + 1`): byte `2 s + jj` <- `8 jj + s`,
            // so word `s` of lane `l` holds step `s`, items `2l, 2l + 1`.
            let pairs = _mm512_shuffle_epi8(
                acc.0,
                _mm512_broadcast_i32x4(_mm_setr_epi8(
                    0, 8, 1, 9, 2, 10, 3, 11, 4, 12, 5, 13, 6, 14, 7, 15,
                )),
            );
            // Word `8 l + s` goes to word `4 s + l` (bytes `8 s + 2 l ..`: items in order), in
            // two single-instruction steps: a dword transpose, dword `4 l + s'` (steps `2 s'`,
            // `2 s' + 1`) to dword `4 s' + l`, then one in-lane byte shuffle puts step `2 s'`
            // at word `l`, step `2 s' + 1` at word `4 + l`. The permute's indices are read
            // (volatile) from memory, one L1 load per block: as constants, LLVM's shuffle
            // combiner merged the three steps into its own expansion of the whole byte
            // permutation (four byte shuffles, four lane moves, three ORs), and this block
            // store cost 16% more of a shared m = 64, L = 16384, B = 256 call.
            let idx = core::ptr::read_volatile(DWORD_TRANSPOSE.0.as_ptr().cast::<__m512i>());
            let t = _mm512_permutexvar_epi32(idx, pairs);
            let v = _mm512_shuffle_epi8(
                t,
                _mm512_broadcast_i32x4(_mm_setr_epi8(
                    0, 1, 4, 5, 8, 9, 12, 13, 2, 3, 6, 7, 10, 11, 14, 15,
                )),
            );
            let v = _mm512_mask_mov_epi8(_mm512_set1_epi8(-1), valid, v);
            _mm512_storeu_si512(out.cast(), v)
        }
    }
});

zmm_vector!(
    /// 16 `u32` lanes: `vpopcntd`.
    V32, u32, 16, {
    #[inline(always)]
    unsafe fn load_partial(p: *const u32, n: usize) -> Self {
        // SAFETY: the masked load reads only the first `n` lanes, which the caller guarantees.
        Self(unsafe { _mm512_maskz_loadu_epi32(((1u32 << n) - 1) as __mmask16, p.cast()) })
    }
    #[inline(always)]
    unsafe fn splat(x: u32) -> Self {
        // SAFETY: AVX-512 F available.
        Self(unsafe { _mm512_set1_epi32(x as i32) })
    }
    #[inline(always)]
    unsafe fn xor_popcnt(a: Self, b: Self) -> Self {
        // SAFETY: AVX-512 F + VPOPCNTDQ available.
        Self(unsafe { _mm512_popcnt_epi32(_mm512_xor_si512(a.0, b.0)) })
    }
    #[inline(always)]
    unsafe fn add(a: Self, b: Self) -> Self {
        // SAFETY: AVX-512 F available.
        Self(unsafe { _mm512_add_epi32(a.0, b.0) })
    }
    #[inline(always)]
    unsafe fn splat_dist(t: u32) -> Self {
        // SAFETY: AVX-512 F available.
        Self(unsafe { _mm512_set1_epi32(t as i32) })
    }
    #[inline(always)]
    unsafe fn lt_mask(d: Self, t: Self) -> u64 {
        // SAFETY: AVX-512 F available.
        u64::from(unsafe { _mm512_cmplt_epu32_mask(d.0, t.0) })
    }
    #[inline(always)]
    unsafe fn store_u16(d: Self, out: *mut u16) {
        // SAFETY: 32 writable bytes at `out` (the caller); AVX-512 F available.
        unsafe { _mm256_storeu_si256(out.cast(), _mm512_cvtepi32_epi16(d.0)) }
    }
});

/// The `u16` methods shared by the BITALG and lookup variants, given a popcount expression.
macro_rules! u16_methods {
    ($a:ident, $b:ident => $pop:expr) => {
        #[inline(always)]
        unsafe fn load_partial(p: *const u16, n: usize) -> Self {
            // SAFETY: the masked load reads only the first `n` lanes, which the caller guarantees.
            Self(unsafe { _mm512_maskz_loadu_epi16(((1u64 << n) - 1) as __mmask32, p.cast()) })
        }
        #[inline(always)]
        unsafe fn splat(x: u16) -> Self {
            // SAFETY: AVX-512 F/BW available.
            Self(unsafe { _mm512_set1_epi16(x as i16) })
        }
        #[inline(always)]
        unsafe fn xor_popcnt($a: Self, $b: Self) -> Self {
            // SAFETY: the features of this vector type are available (the Vector contract).
            Self(unsafe { $pop })
        }
        #[inline(always)]
        unsafe fn add(a: Self, b: Self) -> Self {
            // SAFETY: AVX-512 BW available.
            Self(unsafe { _mm512_add_epi16(a.0, b.0) })
        }
        #[inline(always)]
        unsafe fn splat_dist(t: u32) -> Self {
            // SAFETY: AVX-512 BW available.
            Self(unsafe { _mm512_set1_epi16(t as i16) })
        }
        #[inline(always)]
        unsafe fn lt_mask(d: Self, t: Self) -> u64 {
            // SAFETY: AVX-512 BW available.
            u64::from(unsafe { _mm512_cmplt_epu16_mask(d.0, t.0) })
        }
        #[inline(always)]
        unsafe fn store_u16(d: Self, out: *mut u16) {
            // SAFETY: 64 writable bytes at `out` (the caller); AVX-512 F available.
            unsafe { _mm512_storeu_si512(out.cast(), d.0) }
        }
    };
}

/// The `u8` methods shared by the BITALG and lookup variants, given a popcount expression.
macro_rules! u8_methods {
    ($a:ident, $b:ident => $pop:expr) => {
        #[inline(always)]
        unsafe fn load_partial(p: *const u8, n: usize) -> Self {
            // SAFETY: the masked load reads only the first `n` lanes, which the caller guarantees.
            Self(unsafe { _mm512_maskz_loadu_epi8((1u64 << n) - 1, p.cast()) })
        }
        #[inline(always)]
        unsafe fn splat(x: u8) -> Self {
            // SAFETY: AVX-512 F/BW available.
            Self(unsafe { _mm512_set1_epi8(x as i8) })
        }
        #[inline(always)]
        unsafe fn xor_popcnt($a: Self, $b: Self) -> Self {
            // SAFETY: the features of this vector type are available (the Vector contract).
            Self(unsafe { $pop })
        }
        #[inline(always)]
        unsafe fn add(a: Self, b: Self) -> Self {
            // SAFETY: AVX-512 BW available.
            Self(unsafe { _mm512_add_epi8(a.0, b.0) })
        }
        #[inline(always)]
        unsafe fn splat_dist(t: u32) -> Self {
            // SAFETY: AVX-512 BW available.
            Self(unsafe { _mm512_set1_epi8(t as i8) })
        }
        #[inline(always)]
        unsafe fn lt_mask(d: Self, t: Self) -> u64 {
            // SAFETY: AVX-512 BW available.
            unsafe { _mm512_cmplt_epu8_mask(d.0, t.0) }
        }
        #[inline(always)]
        unsafe fn store_u16(d: Self, out: *mut u16) {
            // SAFETY: 128 writable bytes at `out` (the caller); AVX-512 F/BW available.
            unsafe {
                let lo = _mm512_cvtepu8_epi16(_mm512_castsi512_si256(d.0));
                let hi = _mm512_cvtepu8_epi16(_mm512_extracti64x4_epi64::<1>(d.0));
                _mm512_storeu_si512(out.cast(), lo);
                _mm512_storeu_si512(out.add(32).cast(), hi);
            }
        }
    };
}

zmm_vector!(
    /// 32 `u16` lanes: `vpopcntw` (BITALG).
    V16Bitalg, u16, 32, {
    u16_methods!(a, b => _mm512_popcnt_epi16(_mm512_xor_si512(a.0, b.0)));
});

zmm_vector!(
    /// 32 `u16` lanes without BITALG: nibble lookup, then `vpmaddubsw` adds byte pairs.
    V16Lut, u16, 32, {
    u16_methods!(a, b => _mm512_maddubs_epi16(
        popcnt_bytes_lut(_mm512_xor_si512(a.0, b.0)),
        _mm512_set1_epi8(1)
    ));
});

zmm_vector!(
    /// 64 `u8` lanes: `vpopcntb` (BITALG).
    V8Bitalg, u8, 64, {
    u8_methods!(a, b => _mm512_popcnt_epi8(_mm512_xor_si512(a.0, b.0)));
});

zmm_vector!(
    /// 64 `u8` lanes without BITALG: nibble lookup.
    V8Lut, u8, 64, {
    u8_methods!(a, b => popcnt_bytes_lut(_mm512_xor_si512(a.0, b.0)));
});

// Query blocks: 8 queries per history vector (8 distance + 8 threshold registers, of 32).
// Entry points are compiled for what the AVX-512 table checks (`has_avx512`), plus BITALG for
// the `_bitalg` ones (`has_bitalg`).
lane_kernels!(
    u64s,
    "avx512f,avx512bw,avx512vl,avx512vpopcntdq,avx2,fma,popcnt",
    V64,
    8
);
lane_kernels!(
    u32s,
    "avx512f,avx512bw,avx512vl,avx512vpopcntdq,avx2,fma,popcnt",
    V32,
    8
);
lane_kernels!(
    u16s_lut,
    "avx512f,avx512bw,avx512vl,avx512vpopcntdq,avx2,fma,popcnt",
    V16Lut,
    8
);
lane_kernels!(
    u8s_lut,
    "avx512f,avx512bw,avx512vl,avx512vpopcntdq,avx2,fma,popcnt",
    V8Lut,
    8
);
lane_kernels!(
    u16s_bitalg,
    "avx512f,avx512bw,avx512vl,avx512vpopcntdq,avx512bitalg,avx2,fma,popcnt",
    V16Bitalg,
    8
);
lane_kernels!(
    u8s_bitalg,
    "avx512f,avx512bw,avx512vl,avx512vpopcntdq,avx512bitalg,avx2,fma,popcnt",
    V8Bitalg,
    8
);

#[cfg(test)]
mod tests {
    use super::*;

    #[target_feature(enable = "avx512f,avx512bw,avx512vl")]
    unsafe fn sort_checked(keys: &[i32], n: usize) -> (Vec<u32>, Vec<u16>) {
        // Canaries after the `n` slots: the masked stores must leave them alone.
        let (mut idx, mut dist) = (vec![0xDEAD_BEEFu32; n + 16], vec![0xBEEFu16; n + 16]);
        // SAFETY: `n` readable keys, `n + 16` writable slots; the features are enabled here.
        unsafe { sort_net(keys.as_ptr(), n, idx.as_mut_ptr(), dist.as_mut_ptr()) };
        assert!(idx[n..].iter().all(|&x| x == 0xDEAD_BEEF), "n={n}");
        assert!(dist[n..].iter().all(|&x| x == 0xBEEF), "n={n}");
        idx.truncate(n);
        dist.truncate(n);
        (idx, dist)
    }

    #[test]
    fn sorting_network_matches_a_sort() {
        if !(is_x86_feature_detected!("avx512f") && is_x86_feature_detected!("avx512bw")) {
            eprintln!("no AVX-512 here: sort_net not tested");
            return;
        }
        let mut x = 0x9E37_79B9_7F4A_7C15u64;
        for n in 0..=SORT_NET_MAX {
            for round in 0..20 {
                // Distinct keys: index `j` (a shuffled 0..n) under a random distance, some
                // rounds with every distance equal.
                let mut keys = vec![-1i32; n + 16]; // junk past `n`: must be ignored
                for (j, k) in keys[..n].iter_mut().enumerate() {
                    x ^= x << 13;
                    x ^= x >> 7;
                    x ^= x << 17;
                    let d = if round % 5 == 0 { 7 } else { (x % 4097) as i32 };
                    *k = (d << 16) | ((j * 7919 + round) % 32768) as i32;
                }
                let mut want: Vec<i32> = keys[..n].to_vec();
                want.sort_unstable();
                want.dedup();
                if want.len() != n {
                    continue; // an index repeated: keys must be distinct
                }
                // SAFETY: AVX-512 F/BW detected above.
                let (idx, dist) = unsafe { sort_checked(&keys, n) };
                let got: Vec<i32> = idx
                    .iter()
                    .zip(&dist)
                    .map(|(&i, &d)| (i32::from(d) << 16) | i as i32)
                    .collect();
                assert_eq!(got, want, "n={n} round={round}");
            }
        }
    }
}
