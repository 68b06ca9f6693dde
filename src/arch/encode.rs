//! SimHash encoding shared by every instruction set: the kernel's inputs ([`Projection`],
//! [`Rows`]), the exact half-precision widenings, and the generic outer-product micro-kernel
//! that each SIMD module instantiates with its own vector type ([`Simd`]). The tile shapes per
//! instruction set: `docs/design/encode.md`.
//!
//! # Strategy
//! The contract fixes, for every output bit `j`, one chain `s = fma(e[k], P[k][j], s)` over
//! `k = 0..d` in order, from `+0.0`. The chains of different `j` (and of different embeddings)
//! are independent, so the kernel vectorises across `j` and never across `k`:
//!
//! * a tile is `R` embeddings x `C` vectors of `V` consecutive outputs, held in `R * C`
//!   accumulator registers that all start at `+0.0`;
//! * for each `k` in order, the `C` vectors of projection row `k` are loaded once and each
//!   embedding's `e[k]` is broadcast once; the tile then does `R * C` independent FMAs, each one
//!   the next link of its own chain. So the projection row is reused `R` times from registers,
//!   and `R * C` independent chains hide the FMA latency;
//! * after `k = d - 1` each accumulator is compared `> 0` (ordered: NaN gives 0, and so do
//!   `+0.0` and `-0.0`), the lane mask is shifted to its column and OR-ed into the output word.
//!
//! Nothing is reassociated and no chain is split, so every vector lane computes exactly the
//! scalar reference's value, whatever `R`, `C` and `V` are.
//!
//! # Tails
//! * Columns: the kernels read a copy of `P` whose rows are padded with zero columns to a multiple
//!   of [`PAD_COLS`] (16) floats ([`Projection::padded`]), so every vector load is whole. A
//!   zero column's chain is `fma(e, 0, s)` from `+0.0`, which stays `+-0.0` or becomes NaN, never
//!   positive: its bit is 0 anyway, and the last word is masked to `m` bits as well. The last
//!   panel, when fewer than `C` vectors remain, runs a narrower tile (`C = 1..C-1`).
//! * Rows: when fewer than `R` embeddings remain, a tile with exactly that many rows runs (no
//!   padded rows, no wasted FMAs).
//! * `d`: any value; the `k` loop has no unrolling requirement.
//!
//! # Half precision
//! `bf16` and IEEE `f16` inputs are widened exactly to `f32`, `R` rows at a time into a small
//! scratch buffer, and then hashed by the same tile code, so their bits are those of the `f32`
//! path on the widened values. The widening costs `O(d)` per embedding against `O(d * m)` FMAs.

use core::marker::PhantomData;

/// Rows of the padded projection are a multiple of this many floats (one 64-byte line).
pub(crate) const PAD_COLS: usize = 16;

/// The projection as the kernels see it. Invariants: `rows.len() == d * m`,
/// `padded.len() == d * stride`, `stride` is `m` rounded up to a multiple of [`PAD_COLS`],
/// `padded[k * stride + j] == rows[k * m + j]` for `j < m` and `0.0` for `m <= j < stride`.
#[derive(Clone, Copy)]
pub(crate) struct Projection<'a> {
    /// `d x m`, row-major: what the scalar reference reads.
    pub rows: &'a [f32],
    /// `d x stride`, row-major, zero columns `m..stride`: what the SIMD kernels read.
    pub padded: &'a [f32],
    /// Embedding dimension.
    pub d: usize,
    /// Bits per fingerprint.
    pub m: usize,
    /// Row stride of `padded`.
    pub stride: usize,
}

/// `n x d` embeddings in one of the accepted element formats.
#[derive(Clone, Copy)]
pub(crate) enum Rows<'a> {
    /// `f32` values.
    F32(&'a [f32]),
    /// bfloat16 bit patterns.
    Bf16(&'a [u16]),
    /// IEEE 754 binary16 bit patterns.
    F16(&'a [u16]),
}

impl<'a> Rows<'a> {
    /// Elements `start .. start + len` (in elements, not rows).
    #[inline]
    pub fn slice(self, start: usize, len: usize) -> Rows<'a> {
        match self {
            Rows::F32(s) => Rows::F32(&s[start..][..len]),
            Rows::Bf16(s) => Rows::Bf16(&s[start..][..len]),
            Rows::F16(s) => Rows::F16(&s[start..][..len]),
        }
    }

    /// Number of elements.
    #[inline]
    pub fn len(self) -> usize {
        match self {
            Rows::F32(s) => s.len(),
            Rows::Bf16(s) | Rows::F16(s) => s.len(),
        }
    }
}

/// Exact widening of a bfloat16 bit pattern: the 16 bits become the high half of the `f32`.
#[inline]
pub(crate) fn bf16_to_f32(bits: u16) -> f32 {
    f32::from_bits(u32::from(bits) << 16)
}

/// Exact widening of an IEEE binary16 bit pattern (every value of binary16 is exactly
/// representable in `f32`): zeros keep their sign, subnormals become normal `f32`s, infinities
/// stay infinite, and a NaN becomes the quiet NaN with the same sign and payload (the payload
/// shifted up by 13 bits, the quiet bit set), which is what x86 `VCVTPH2PS` and aarch64 `FCVTL`
/// produce.
#[inline]
pub(crate) fn f16_to_f32(bits: u16) -> f32 {
    let sign = u32::from(bits & 0x8000) << 16;
    let exp = u32::from(bits >> 10) & 0x1F;
    let man = u32::from(bits & 0x3FF);
    let out = match exp {
        0 if man == 0 => sign,
        0 => {
            // man * 2^-24 with the leading one at bit p (0..=9): 1.f * 2^(p - 24).
            let p = 31 - man.leading_zeros();
            sign | ((p + 103) << 23) | ((man << (23 - p)) & 0x7F_FFFF)
        }
        0x1F if man == 0 => sign | 0x7F80_0000,
        0x1F => sign | 0x7FC0_0000 | (man << 13),
        _ => sign | ((exp + 112) << 23) | (man << 13),
    };
    f32::from_bits(out)
}

/// Portable widening of `src` into `dst` (same length).
pub(crate) fn widen_scalar(src: Rows<'_>, dst: &mut [f32]) {
    match src {
        Rows::F32(s) => dst.copy_from_slice(s),
        Rows::Bf16(s) => dst
            .iter_mut()
            .zip(s)
            .for_each(|(o, &h)| *o = bf16_to_f32(h)),
        Rows::F16(s) => dst.iter_mut().zip(s).for_each(|(o, &h)| *o = f16_to_f32(h)),
    }
}

/// One instruction set's `f32` vector, as the generic tile code needs it. Every method is
/// `#[inline(always)]` so that it melts into the `#[target_feature]` entry point that
/// instantiates the generic code.
///
/// # Safety
/// Implementors promise that each method does exactly what its documentation says, lane by
/// lane, with IEEE single-precision semantics (in particular [`Simd::fma`] rounds once). Callers
/// may only call the methods on a CPU that has the implementor's instruction set.
pub(crate) unsafe trait Simd {
    /// `f32` lanes per vector; divides [`PAD_COLS`].
    const LANES: usize;
    /// The vector.
    type V: Copy;
    /// All lanes `+0.0`.
    ///
    /// # Safety
    /// The CPU has the implementor's instruction set.
    unsafe fn zero() -> Self::V;
    /// `LANES` floats from `p` (any alignment).
    ///
    /// # Safety
    /// The CPU has the implementor's instruction set. `LANES` floats readable at `p`.
    unsafe fn load(p: *const f32) -> Self::V;
    /// `*p` in every lane.
    ///
    /// # Safety
    /// The CPU has the implementor's instruction set. `p` readable.
    unsafe fn splat(p: *const f32) -> Self::V;
    /// `a * b + c`, rounded once, in every lane.
    ///
    /// # Safety
    /// The CPU has the implementor's instruction set.
    unsafe fn fma(a: Self::V, b: Self::V, c: Self::V) -> Self::V;
    /// Bit `l` set exactly when lane `l` is `> 0.0` (false for NaN); bits `>= LANES` zero.
    ///
    /// # Safety
    /// The CPU has the implementor's instruction set.
    unsafe fn positive_bits(v: Self::V) -> u64;
    /// Exact widening of `src` into `dst` (same length), as [`widen_scalar`].
    ///
    /// # Safety
    /// The CPU has the implementor's instruction set. `src.len() == dst.len()`.
    unsafe fn widen(src: Rows<'_>, dst: &mut [f32]);
    /// Transposes the `LANES x LANES` block at `src` (row `r` at `src + r * src_stride`) into
    /// `dst` (row `k` at `dst + k * dst_stride`): `dst[k][r] = src[r][k]`. For the
    /// across-embeddings tile ([`crate::arch::encode_across`]); the default is the portable
    /// loop, which an instruction set replaces before it chooses that tile.
    ///
    /// # Safety
    /// The CPU has the implementor's instruction set; `LANES` floats readable at each
    /// `src + r * src_stride` and writable at each `dst + k * dst_stride`, the blocks disjoint.
    #[inline(always)]
    unsafe fn transpose(src: *const f32, src_stride: usize, dst: *mut f32, dst_stride: usize) {
        for r in 0..Self::LANES {
            for k in 0..Self::LANES {
                // SAFETY: both within the blocks the caller guarantees.
                unsafe {
                    dst.add(k * dst_stride + r)
                        .write(src.add(r * src_stride + k).read())
                };
            }
        }
    }
}

/// The generic encoder: `R` rows x `C` vectors per tile. See the module docs.
pub(crate) struct Encoder<S, const R: usize, const C: usize>(PhantomData<S>);

impl<S: Simd, const R: usize, const C: usize> Encoder<S, R, C> {
    /// The contract of [`crate::arch::EncodeFn`].
    ///
    /// # Safety
    /// The CPU has `S`'s instruction set, and the shapes satisfy `EncodeFn`'s invariants:
    /// `emb.len() >= n * d`, `out.len() >= n * ceil(m / 64)`, `proj` as documented.
    #[inline(always)]
    pub unsafe fn encode(proj: &Projection<'_>, emb: Rows<'_>, n: usize, out: &mut [u64]) {
        // Panels start at multiples of 16 columns, so a tile never straddles a word and its
        // word index is below `ceil(m / 64)` (a start column below the padded stride is below m).
        const {
            assert!(R >= 1 && R <= 16 && C >= 1 && C <= 4);
            assert!(PAD_COLS.is_multiple_of(S::LANES) && (C * S::LANES).is_multiple_of(16));
            assert!(64_usize.is_multiple_of(C * S::LANES));
        };
        let (d, m, words) = (proj.d, proj.m, proj.m.div_ceil(64));
        debug_assert!(emb.len() >= n * d && out.len() >= n * words);
        debug_assert!(proj.padded.len() == d * proj.stride && proj.stride.is_multiple_of(PAD_COLS));
        let out = &mut out[..n * words];
        out.fill(0);
        // From the per-thread pool: no allocation after the thread's first call.
        let mut buf = crate::arch::scratch::Pooled::<f32>::take(match emb {
            Rows::F32(_) => 0,
            _ => R * d,
        });
        let mut i0 = 0;
        while i0 < n {
            let rows = R.min(n - i0);
            let x: &[f32] = match emb {
                Rows::F32(s) => &s[i0 * d..][..rows * d],
                _ => {
                    let dst = &mut buf[..rows * d];
                    // SAFETY: the caller guarantees `S`'s instruction set; lengths are equal.
                    unsafe { S::widen(emb.slice(i0 * d, rows * d), dst) };
                    dst
                }
            };
            let o = &mut out[i0 * words..][..rows * words];
            // SAFETY: `x` holds `rows` embeddings of `d`, `o` holds `rows` fingerprints of
            // `words` words, `proj` satisfies its invariants, and the caller guarantees `S`.
            unsafe {
                macro_rules! by_rows {
                    ($($r:literal)*) => {
                        match rows {
                            r if r == R => Self::panels::<R>(proj, x, o),
                            $($r if R > $r => Self::panels::<$r>(proj, x, o),)*
                            _ => unreachable!("1 <= rows <= R"),
                        }
                    };
                }
                by_rows!(1 2 3 4 5 6 7 8 9 10 11 12 13 14 15)
            }
            i0 += rows;
        }
        if m % 64 != 0 {
            // Padded columns give 0 already (see the module docs); this keeps it true by
            // construction.
            let mask = (1u64 << (m % 64)) - 1;
            for fp in out.chunks_exact_mut(words) {
                fp[words - 1] &= mask;
            }
        }
    }

    /// All column panels of `RR` rows: full panels of `C` vectors, then one narrower tile for
    /// the vectors left (the padded stride is a multiple of the vector width).
    ///
    /// # Safety
    /// `x.len() == RR * d`, `o.len() == RR * words`, `proj` as documented, CPU has `S`.
    #[inline(always)]
    unsafe fn panels<const RR: usize>(proj: &Projection<'_>, x: &[f32], o: &mut [u64]) {
        debug_assert!(x.len() == RR * proj.d && o.len() == RR * proj.m.div_ceil(64));
        let stride = proj.stride;
        let pw = C * S::LANES;
        let mut c0 = 0;
        while c0 + pw <= stride {
            // SAFETY: columns `c0 .. c0 + pw` lie within the padded stride (loop condition), so
            // every projection load of a row `k < d` is inside `padded`; `x` and `o` have the
            // tile's shape (caller), and the CPU has `S` (caller).
            unsafe { Self::tile::<RR, C>(proj, x, o, c0) };
            c0 += pw;
        }
        // Fewer than `C` vectors are left (`stride` is a multiple of the vector width).
        let left = (stride - c0) / S::LANES;
        // SAFETY: as above, for the `left` vectors from `c0` to the end of the padded stride.
        // `left < C <= 4` because the loop above stopped.
        unsafe {
            match left {
                0 => {}
                1 => Self::tile::<RR, 1>(proj, x, o, c0),
                2 => Self::tile::<RR, 2>(proj, x, o, c0),
                3 => Self::tile::<RR, 3>(proj, x, o, c0),
                _ => unreachable!("C <= 4"),
            }
        }
    }

    /// One tile: rows `0..RR` of `x` x columns `c0 .. c0 + CC * LANES`; ORs the bits into `o`.
    ///
    /// # Safety
    /// As [`Self::panels`], and `c0 + CC * LANES <= stride`, `c0 % 64 + CC * LANES <= 64`.
    #[inline(always)]
    #[allow(clippy::needless_range_loop)] // index loops over const bounds unroll cleanly
    unsafe fn tile<const RR: usize, const CC: usize>(
        proj: &Projection<'_>,
        x: &[f32],
        o: &mut [u64],
        c0: usize,
    ) {
        let (d, stride, words) = (proj.d, proj.stride, proj.m.div_ceil(64));
        debug_assert!(c0 + CC * S::LANES <= stride && c0 % 64 + CC * S::LANES <= 64);
        let xp = x.as_ptr();
        // SAFETY: the caller guarantees `S` and the bounds: for `k < d`, `p + k * stride + c *
        // LANES + LANES <= padded.len()` and `xp + r * d + k < xp + x.len()`. `p` itself only
        // advances by `wrapping_add`: after the last row (and from an empty `padded` when
        // `d == 0`) it lies past the projection, which `add` may not even compute; it is
        // dereferenced only for `k < d`, where it is the in-bounds row `k`.
        unsafe {
            let mut p = proj.padded.as_ptr().wrapping_add(c0);
            let mut acc = [[S::zero(); CC]; RR];
            for k in 0..d {
                let mut row = [S::zero(); CC];
                for c in 0..CC {
                    row[c] = S::load(p.add(c * S::LANES));
                }
                for r in 0..RR {
                    let e = S::splat(xp.add(r * d + k));
                    for c in 0..CC {
                        acc[r][c] = S::fma(e, row[c], acc[r][c]);
                    }
                }
                p = p.wrapping_add(stride);
            }
            let (word, shift) = (c0 / 64, c0 % 64);
            for r in 0..RR {
                let mut bits = 0u64;
                for c in 0..CC {
                    bits |= S::positive_bits(acc[r][c]) << (c * S::LANES);
                }
                o[r * words + word] |= bits << shift;
            }
        }
    }
}

/// Checks `S::widen` against the portable widening on every 16-bit pattern and on short
/// lengths (tails); callers check the CPU features first.
#[cfg(test)]
pub(crate) fn check_widen<S: Simd>() {
    let all: Vec<u16> = (0..=u16::MAX).collect();
    for len in [all.len(), 1, 3, 4, 5, 7, 8, 9, 15, 16, 17, 33] {
        let src = &all[all.len() - len..];
        for (rows, conv) in [
            (Rows::F16(src), f16_to_f32 as fn(u16) -> f32),
            (Rows::Bf16(src), bf16_to_f32),
        ] {
            let mut dst = vec![0.0f32; len];
            // SAFETY: the callers check the CPU features first.
            unsafe { S::widen(rows, &mut dst) };
            for (h, o) in src.iter().zip(&dst) {
                assert_eq!(o.to_bits(), conv(*h).to_bits(), "{h:#06x}");
            }
        }
    }
}
