//! AVX-512 scan kernels: the vectors (one `zmm` = 64 bytes of lanes) of every lane type, generic
//! over the two primitives the two AVX-512 tables differ in, the lane popcount and the index
//! compress ([`ZmmPopcnt`]);
//! the [`ScanOps`] of the [`Avx512`] token (shared by both tables: it needs F and BW only); and
//! this table's four kernel tables per lane type.
//!
//! Popcount, this table ([`Native`]): `vpopcntq`/`vpopcntd` (VPOPCNTDQ) for `u64`/`u32` lanes,
//! `vpopcntw`/`vpopcntb` (BITALG) for `u16`/`u8` lanes; the `avx512bw` table plugs in a nibble
//! lookup instead (`super::super::avx512bw`). Compares go straight to mask registers
//! (`vpcmpu*`), so a survivor mask costs one instruction. Tails use zero-masked loads
//! (`vmovdqu*{z}`), which never touch (nor fault on) the lanes past the valid items. Distances
//! leave as `u16` through the down-converting moves (`vpmovqw`, `vpmovdw`) or, for `u8`,
//! `vpmovzxbw`; the two-pass path's `u8` distance blocks are packed from `u64` lanes by shifts
//! ([`Vector::pack_u8`]).

use core::arch::x86_64::*;
use core::marker::PhantomData;

use super::{sort_net, Avx512};
use crate::arch::scan::{scan_kernels, ScanOps, Vector};

/// The lane-type-independent scan operations: counts and masks by `vpcmpu{b,w}` into mask
/// registers, and the bitonic sorting network ([`sort_net`]). They use AVX-512 F and BW (and
/// scalar POPCNT) only, so both AVX-512 tables (`avx512`, `avx512bw`) run them.
impl ScanOps for Avx512 {
    #[inline(always)]
    unsafe fn count_le_u16(d: *const u16, n: usize, bound: u16) -> usize {
        // SAFETY: the caller guarantees `n` (a multiple of 64) readable distances;
        // AVX-512 BW available.
        unsafe {
            let tv = _mm512_set1_epi16(bound as i16);
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
    unsafe fn le_mask_u16(d: *const u16, bound: u16) -> u64 {
        // SAFETY: the caller guarantees 64 readable distances; AVX-512 BW available.
        unsafe {
            let tv = _mm512_set1_epi16(bound as i16);
            let a = _mm512_cmple_epu16_mask(_mm512_loadu_si512(d.cast()), tv);
            let b = _mm512_cmple_epu16_mask(_mm512_loadu_si512(d.add(32).cast()), tv);
            u64::from(a) | (u64::from(b) << 32)
        }
    }

    #[inline(always)]
    unsafe fn count_le_u8(d: *const u8, n: usize, bound: u8) -> usize {
        // SAFETY: the caller guarantees `n` (a multiple of 64) readable distances;
        // AVX-512 BW available.
        unsafe {
            let tv = _mm512_set1_epi8(bound as i8);
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
    unsafe fn le_mask_u8(d: *const u8, bound: u8) -> u64 {
        // SAFETY: the caller guarantees 64 readable distances; AVX-512 BW available.
        unsafe {
            _mm512_cmple_epu8_mask(_mm512_loadu_si512(d.cast()), _mm512_set1_epi8(bound as i8))
        }
    }

    #[inline(always)]
    unsafe fn sort_net(keys: *const i32, n: usize, idx: *mut u32, dist: *mut u16) -> bool {
        if n > sort_net::SORT_NET_MAX {
            return false;
        }
        // SAFETY: forwarded; AVX-512 F/BW available.
        unsafe { sort_net::sort_net(keys, n, idx, dist) };
        true
    }
}

/// The primitives in which the `avx512` and `avx512bw` tables' scan vectors differ: the lane
/// popcount, and the index compress (`vpcompressb` needs VBMI2, which the CPUs of `avx512bw`
/// lack). Zero-sized; every method `#[inline(always)]` and only
/// called inside that table's `#[target_feature]` entry points.
pub(crate) trait ZmmPopcnt: Copy + 'static {
    /// Popcount of each `u64` lane.
    ///
    /// # Safety
    /// The implementing table's features are available.
    unsafe fn pop64(v: __m512i) -> __m512i;
    /// Popcount of each `u32` lane.
    ///
    /// # Safety
    /// As [`ZmmPopcnt::pop64`].
    unsafe fn pop32(v: __m512i) -> __m512i;
    /// Popcount of each `u16` lane.
    ///
    /// # Safety
    /// As [`ZmmPopcnt::pop64`].
    unsafe fn pop16(v: __m512i) -> __m512i;
    /// Popcount of each byte.
    ///
    /// # Safety
    /// As [`ZmmPopcnt::pop64`].
    unsafe fn pop8(v: __m512i) -> __m512i;

    /// [`Vector::compress_indices`] of this table: by default four `vpcompressd` of 16
    /// indices (AVX-512 F), each stored whole and advanced by its quarter's popcount.
    ///
    /// # Safety
    /// `out..out + 64` writable; the implementing table's features are available.
    #[inline(always)]
    unsafe fn compress_indices(mask: u64, base: u32, out: *mut u32) -> usize {
        // SAFETY: `out..out + 64` writable (the caller): the store of quarter `q` starts at
        // most `16 q` slots in; AVX-512 F available.
        unsafe {
            let iota = _mm512_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15);
            let mut idx = _mm512_add_epi32(iota, _mm512_set1_epi32(base as i32));
            let sixteen = _mm512_set1_epi32(16);
            let mut o = 0;
            for q in 0..4 {
                let m = (mask >> (16 * q)) as u16;
                let v = _mm512_maskz_compress_epi32(m, idx);
                _mm512_storeu_si512(out.add(o).cast(), v);
                o += m.count_ones() as usize;
                idx = _mm512_add_epi32(idx, sixteen);
            }
            o
        }
    }
}

/// The `avx512` table's popcount: VPOPCNTDQ and BITALG, one instruction per lane width.
#[derive(Clone, Copy)]
pub(crate) struct Native;

impl ZmmPopcnt for Native {
    #[inline(always)]
    unsafe fn pop64(v: __m512i) -> __m512i {
        // SAFETY: AVX-512 VPOPCNTDQ available (the `avx512` table).
        unsafe { _mm512_popcnt_epi64(v) }
    }
    #[inline(always)]
    unsafe fn pop32(v: __m512i) -> __m512i {
        // SAFETY: as above.
        unsafe { _mm512_popcnt_epi32(v) }
    }
    #[inline(always)]
    unsafe fn pop16(v: __m512i) -> __m512i {
        // SAFETY: AVX-512 BITALG available (the `avx512` table).
        unsafe { _mm512_popcnt_epi16(v) }
    }
    #[inline(always)]
    unsafe fn pop8(v: __m512i) -> __m512i {
        // SAFETY: as above.
        unsafe { _mm512_popcnt_epi8(v) }
    }
    #[inline(always)]
    unsafe fn compress_indices(mask: u64, base: u32, out: *mut u32) -> usize {
        // One `vpcompressb` (VBMI2) packs the positions of the set bits as bytes; each 16 of
        // them are widened (`vpmovzxbd`), offset by `base` and stored. At the sparse levels
        // of the small-m path (a few bits per 64) that is one compress and one store per
        // block, against four of each.
        let n = mask.count_ones() as usize;
        // SAFETY: `out..out + 64` writable (the caller): the store of quarter `q` is made only
        // when `n > 16 q`, and writes slots `16 q..16 q + 16`; AVX-512 F/VBMI2 available (the
        // `avx512` table).
        unsafe {
            let iota = _mm512_set_epi8(
                63, 62, 61, 60, 59, 58, 57, 56, 55, 54, 53, 52, 51, 50, 49, 48, 47, 46, 45, 44, 43,
                42, 41, 40, 39, 38, 37, 36, 35, 34, 33, 32, 31, 30, 29, 28, 27, 26, 25, 24, 23, 22,
                21, 20, 19, 18, 17, 16, 15, 14, 13, 12, 11, 10, 9, 8, 7, 6, 5, 4, 3, 2, 1, 0,
            );
            let packed = _mm512_maskz_compress_epi8(mask, iota);
            let basev = _mm512_set1_epi32(base as i32);
            // (A macro, not a closure: closures are not inlined into the instruction set.)
            macro_rules! put {
                ($q:literal, $b:expr) => {
                    let v = _mm512_add_epi32(_mm512_cvtepu8_epi32($b), basev);
                    _mm512_storeu_si512(out.add(16 * $q).cast(), v);
                };
            }
            put!(0, _mm512_castsi512_si128(packed));
            if n > 16 {
                put!(1, _mm512_extracti32x4_epi32::<1>(packed));
                if n > 32 {
                    put!(2, _mm512_extracti32x4_epi32::<2>(packed));
                    if n > 48 {
                        put!(3, _mm512_extracti32x4_epi32::<3>(packed));
                    }
                }
            }
        }
        n
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
        pub(crate) struct $name<P>(__m512i, PhantomData<P>);

        impl<P> Clone for $name<P> {
            #[inline(always)]
            fn clone(&self) -> Self {
                *self
            }
        }
        impl<P> Copy for $name<P> {}

        impl<P> $name<P> {
            #[inline(always)]
            fn w(v: __m512i) -> Self {
                Self(v, PhantomData)
            }
        }

        impl<P: ZmmPopcnt> Vector for $name<P> {
            type Lane = $lane;
            type Ops = Avx512;
            const N: usize = $n;

            #[inline(always)]
            unsafe fn load(p: *const $lane) -> Self {
                // SAFETY: the caller guarantees 64 readable bytes at `p`; AVX-512 F available.
                Self::w(unsafe { _mm512_loadu_si512(p.cast()) })
            }

            #[inline(always)]
            unsafe fn compress_indices(mask: u64, base: u32, out: *mut u32) -> usize {
                // SAFETY: forwarded (the same contract).
                unsafe { P::compress_indices(mask, base, out) }
            }

            $($body)*
        }
    };
}

zmm_vector!(
    /// 8 `u64` lanes.
    V64, u64, 8, {
    #[inline(always)]
    unsafe fn load_partial(p: *const u64, n: usize) -> Self {
        // SAFETY: the masked load reads only the first `n` lanes, which the caller guarantees.
        Self::w(unsafe { _mm512_maskz_loadu_epi64(((1u32 << n) - 1) as __mmask8, p.cast()) })
    }
    #[inline(always)]
    unsafe fn splat(x: u64) -> Self {
        // SAFETY: AVX-512 F available (the Vector contract).
        Self::w(unsafe { _mm512_set1_epi64(x as i64) })
    }
    #[inline(always)]
    unsafe fn xor_popcnt(a: Self, b: Self) -> Self {
        // SAFETY: the table's features are available (the Vector contract).
        Self::w(unsafe { P::pop64(_mm512_xor_si512(a.0, b.0)) })
    }
    #[inline(always)]
    unsafe fn add(a: Self, b: Self) -> Self {
        // SAFETY: AVX-512 F available.
        Self::w(unsafe { _mm512_add_epi64(a.0, b.0) })
    }
    #[inline(always)]
    unsafe fn splat_dist(t: u32) -> Self {
        // SAFETY: AVX-512 F available.
        Self::w(unsafe { _mm512_set1_epi64(i64::from(t)) })
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
    // A query block's byte rows over 65,536 items (8 x 64 KiB) and an m = 64 history (512 KiB)
    // fit a 2 MiB L2 together, and the two-pass path stays ahead of the stream up to there for
    // several queries: measured on an Intel Xeon only; Zen 4/5 (1 MiB L2) still to be measured
    // (docs/design/scan.md, "Long histories").
    const TWO_PASS_U8_ITEMS: usize = 65536;
    #[inline(always)]
    unsafe fn pack_u8(acc: Self, d: Self, s: usize) -> Self {
        // SAFETY: AVX-512 F available.
        Self::w(unsafe {
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
            // (volatile) from memory, one L1 load per block, so that LLVM's shuffle combiner
            // cannot merge the three steps into its own, slower, expansion of the whole byte
            // permutation (docs/design/scan.md).
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
    /// 16 `u32` lanes.
    V32, u32, 16, {
    #[inline(always)]
    unsafe fn load_partial(p: *const u32, n: usize) -> Self {
        // SAFETY: the masked load reads only the first `n` lanes, which the caller guarantees.
        Self::w(unsafe { _mm512_maskz_loadu_epi32(((1u32 << n) - 1) as __mmask16, p.cast()) })
    }
    #[inline(always)]
    unsafe fn splat(x: u32) -> Self {
        // SAFETY: AVX-512 F available.
        Self::w(unsafe { _mm512_set1_epi32(x as i32) })
    }
    #[inline(always)]
    unsafe fn xor_popcnt(a: Self, b: Self) -> Self {
        // SAFETY: the table's features are available (the Vector contract).
        Self::w(unsafe { P::pop32(_mm512_xor_si512(a.0, b.0)) })
    }
    #[inline(always)]
    unsafe fn add(a: Self, b: Self) -> Self {
        // SAFETY: AVX-512 F available.
        Self::w(unsafe { _mm512_add_epi32(a.0, b.0) })
    }
    #[inline(always)]
    unsafe fn splat_dist(t: u32) -> Self {
        // SAFETY: AVX-512 F available.
        Self::w(unsafe { _mm512_set1_epi32(t as i32) })
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

/// The `u16` methods, given the popcount.
macro_rules! u16_methods {
    ($pop:path) => {
        #[inline(always)]
        unsafe fn load_partial(p: *const u16, n: usize) -> Self {
            // SAFETY: the masked load reads only the first `n` lanes, which the caller guarantees.
            Self::w(unsafe { _mm512_maskz_loadu_epi16(((1u64 << n) - 1) as __mmask32, p.cast()) })
        }
        #[inline(always)]
        unsafe fn splat(x: u16) -> Self {
            // SAFETY: AVX-512 F/BW available.
            Self::w(unsafe { _mm512_set1_epi16(x as i16) })
        }
        #[inline(always)]
        unsafe fn xor_popcnt(a: Self, b: Self) -> Self {
            // SAFETY: the features of this vector type are available (the Vector contract).
            Self::w(unsafe { $pop(_mm512_xor_si512(a.0, b.0)) })
        }
        #[inline(always)]
        unsafe fn add(a: Self, b: Self) -> Self {
            // SAFETY: AVX-512 BW available.
            Self::w(unsafe { _mm512_add_epi16(a.0, b.0) })
        }
        #[inline(always)]
        unsafe fn splat_dist(t: u32) -> Self {
            // SAFETY: AVX-512 BW available.
            Self::w(unsafe { _mm512_set1_epi16(t as i16) })
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

/// The `u8` methods, given the popcount.
macro_rules! u8_methods {
    ($pop:path) => {
        #[inline(always)]
        unsafe fn load_partial(p: *const u8, n: usize) -> Self {
            // SAFETY: the masked load reads only the first `n` lanes, which the caller guarantees.
            Self::w(unsafe { _mm512_maskz_loadu_epi8((1u64 << n) - 1, p.cast()) })
        }
        #[inline(always)]
        unsafe fn splat(x: u8) -> Self {
            // SAFETY: AVX-512 F/BW available.
            Self::w(unsafe { _mm512_set1_epi8(x as i8) })
        }
        #[inline(always)]
        unsafe fn xor_popcnt(a: Self, b: Self) -> Self {
            // SAFETY: the features of this vector type are available (the Vector contract).
            Self::w(unsafe { $pop(_mm512_xor_si512(a.0, b.0)) })
        }
        #[inline(always)]
        unsafe fn add(a: Self, b: Self) -> Self {
            // SAFETY: AVX-512 BW available.
            Self::w(unsafe { _mm512_add_epi8(a.0, b.0) })
        }
        #[inline(always)]
        unsafe fn splat_dist(t: u32) -> Self {
            // SAFETY: AVX-512 BW available.
            Self::w(unsafe { _mm512_set1_epi8(t as i8) })
        }
        #[inline(always)]
        unsafe fn lt_mask(d: Self, t: Self) -> u64 {
            // SAFETY: AVX-512 BW available.
            unsafe { _mm512_cmplt_epu8_mask(d.0, t.0) }
        }
        #[inline(always)]
        unsafe fn eq_mask(a: Self, b: Self) -> u64 {
            // SAFETY: AVX-512 BW available.
            unsafe { _mm512_cmpeq_epi8_mask(a.0, b.0) }
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
    /// 32 `u16` lanes.
    V16, u16, 32, {
    u16_methods!(P::pop16);
});

zmm_vector!(
    /// 64 `u8` lanes.
    V8, u8, 64, {
    u8_methods!(P::pop8);
});

// Query blocks: 8 queries per history vector (8 distance + 8 threshold registers, of 32).
scan_kernels!(target_features, u64s, V64<Native>, 8);
scan_kernels!(target_features, u32s, V32<Native>, 8);
scan_kernels!(target_features, u16s, V16<Native>, 8);
scan_kernels!(target_features, u8s, V8<Native>, 8);
