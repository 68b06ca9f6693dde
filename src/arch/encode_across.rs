//! SimHash for small `m`: the tile that vectorises across embeddings instead of across output
//! bits (docs/design/encode.md, "Small m").
//!
//! The column tile of [`crate::arch::encode`] holds `V` consecutive outputs of one embedding
//! per vector, so it pads `m` to a multiple of 16 floats: at `m = 4` three quarters of every FMA
//! is padding. Here each vector lane is another embedding:
//!
//! * a group of up to `G * LANES` embeddings is transposed into a scratch panel
//!   (`xt[g][k][l] = e[g * LANES + l][k]`, [`Simd::transpose`] per `LANES x LANES` block,
//!   embeddings past the last one read as `+0.0` and are never written out);
//! * output columns go in chunks of up to [`CHUNK`] (4); for each `k` in order the tile loads
//!   the `G` vectors of `xt[.][k]`, broadcasts each column's `P[k][j]` once and does `G * CHUNK`
//!   independent FMAs, each the next link of one embedding's chain of one output bit;
//! * after `k = d - 1` each accumulator's `> 0` lane mask holds one output bit of `LANES`
//!   embeddings, and is scattered into their fingerprints.
//!
//! Every lane runs the contract's chain `s = fma(e[k], P[k][j], s)` over `k = 0..d` in order,
//! from `+0.0`, unchanged: the bits are exactly those of the scalar reference and of the column
//! tile. No padded columns: the work is `d * m` FMAs per embedding (rounded up to whole
//! vectors of embeddings per call), against `d * 16` for the column tile when `m <= 16`; the
//! price is the transposition, `O(d)` per embedding, which pays when `m` is small (the
//! threshold per instruction set is measured, see the design note).

use core::marker::PhantomData;

use crate::arch::encode::{Projection, Rows, Simd};

/// Output columns per pass over the transposed panel.
pub(crate) const CHUNK: usize = 4;

/// The across-embeddings encoder: groups of `G` vectors of embeddings. See the module docs.
pub(crate) struct Across<S, const G: usize>(PhantomData<S>);

impl<S: Simd, const G: usize> Across<S, G> {
    /// The contract of [`crate::arch::EncodeFn`]. Written for any `m` (a chunk of columns never
    /// straddles a word), but chosen, and so tested, only for small `m` (AVX2 and AVX-512:
    /// `m <= 8`).
    ///
    /// # Safety
    /// The CPU has `S`'s instruction set, and the shapes satisfy `EncodeFn`'s invariants:
    /// `emb.len() >= n * d`, `out.len() >= n * ceil(m / 64)`, `proj` as documented.
    #[inline(always)]
    pub unsafe fn encode(proj: &Projection<'_>, emb: Rows<'_>, n: usize, out: &mut [u64]) {
        const { assert!(G >= 1 && G <= 4 && S::LANES <= 64) };
        let (d, words) = (proj.d, proj.m.div_ceil(64));
        debug_assert!(emb.len() >= n * d && out.len() >= n * words);
        debug_assert!(proj.rows.len() == d * proj.m);
        let out = &mut out[..n * words];
        out.fill(0);
        let group = G * S::LANES;
        // Two panels of `group x d` floats: the rows (widened or zero-padded) and their
        // transposition. From the per-thread pool: no allocation after the thread's first call.
        let mut buf = crate::arch::scratch::Pooled::<f32>::take(2 * group * d);
        let (rows_buf, xt) = buf.split_at_mut(group * d);
        let mut i0 = 0;
        while i0 < n {
            let rows = group.min(n - i0);
            let gg = rows.div_ceil(S::LANES);
            let x: &[f32] = match emb {
                Rows::F32(s) if rows == gg * S::LANES => &s[i0 * d..][..rows * d],
                _ => {
                    let dst = &mut rows_buf[..gg * S::LANES * d];
                    // SAFETY: the caller guarantees `S`'s instruction set; lengths are equal.
                    unsafe { S::widen(emb.slice(i0 * d, rows * d), &mut dst[..rows * d]) };
                    // Lanes past the last embedding: `+0.0`, their bits are never written.
                    dst[rows * d..].fill(0.0);
                    dst
                }
            };
            // SAFETY: `x` holds `gg * LANES` embeddings of `d`, `xt` has room for `group * d`.
            unsafe { transpose_panel::<S>(x, gg, d, xt) };
            let o = &mut out[i0 * words..][..rows * words];
            // SAFETY: `xt` holds `gg` transposed panels of `d x LANES`, `o` holds `rows`
            // fingerprints, `proj` satisfies its invariants, and the caller guarantees `S`.
            unsafe {
                match gg {
                    g if g == G => Self::columns::<G>(proj, xt, o, rows),
                    1 => Self::columns::<1>(proj, xt, o, rows),
                    2 => Self::columns::<2>(proj, xt, o, rows),
                    3 => Self::columns::<3>(proj, xt, o, rows),
                    _ => unreachable!("1 <= gg <= G <= 4"),
                }
            }
            i0 += rows;
        }
    }

    /// Every column chunk of `GG` panels: full chunks of [`CHUNK`] columns, then the rest.
    ///
    /// # Safety
    /// `xt` holds `GG` panels of `d x LANES` floats, `o` holds `rows <= GG * LANES`
    /// fingerprints, `proj` as documented, the CPU has `S`.
    #[inline(always)]
    unsafe fn columns<const GG: usize>(
        proj: &Projection<'_>,
        xt: &[f32],
        o: &mut [u64],
        rows: usize,
    ) {
        let m = proj.m;
        let mut j0 = 0;
        // SAFETY: columns `j0 .. j0 + CC <= m` (loop conditions); the rest from the caller.
        unsafe {
            while j0 + CHUNK <= m {
                Self::tile::<GG, CHUNK>(proj, xt, o, rows, j0);
                j0 += CHUNK;
            }
            match m - j0 {
                0 => {}
                1 => Self::tile::<GG, 1>(proj, xt, o, rows, j0),
                2 => Self::tile::<GG, 2>(proj, xt, o, rows, j0),
                3 => Self::tile::<GG, 3>(proj, xt, o, rows, j0),
                _ => unreachable!("fewer than CHUNK columns left"),
            }
        }
    }

    /// One tile: `GG` panels x columns `j0 .. j0 + CC`; ORs the bits of the first `rows`
    /// embeddings into `o`.
    ///
    /// # Safety
    /// As [`Self::columns`], and `j0 + CC <= m`.
    #[inline(always)]
    #[allow(clippy::needless_range_loop)] // index loops over const bounds unroll cleanly
    unsafe fn tile<const GG: usize, const CC: usize>(
        proj: &Projection<'_>,
        xt: &[f32],
        o: &mut [u64],
        rows: usize,
        j0: usize,
    ) {
        let (d, m, words, lanes) = (proj.d, proj.m, proj.m.div_ceil(64), S::LANES);
        debug_assert!(j0 + CC <= m && xt.len() >= GG * d * lanes && rows <= GG * lanes);
        let xp = xt.as_ptr();
        // SAFETY: the caller guarantees `S` and the bounds: for `k < d`, panel `g < GG` reads
        // `xp + (g * d + k) * LANES .. + LANES <= xt.len()`, and `p + j < rows.len()` for
        // `j < CC` because `k * m + j0 + CC <= d * m`. `p` only advances by `wrapping_add`
        // (after the last row it lies past the projection) and is read only for `k < d`.
        unsafe {
            let mut p = proj.rows.as_ptr().wrapping_add(j0);
            let mut acc = [[S::zero(); CC]; GG];
            for k in 0..d {
                let mut x = [S::zero(); GG];
                for g in 0..GG {
                    x[g] = S::load(xp.add((g * d + k) * lanes));
                }
                for c in 0..CC {
                    let w = S::splat(p.add(c));
                    for g in 0..GG {
                        acc[g][c] = S::fma(x[g], w, acc[g][c]);
                    }
                }
                p = p.wrapping_add(m);
            }
            // A chunk never straddles a word: `CHUNK` divides 64 and `j0` is a multiple of it.
            let (word, shift) = (j0 / 64, j0 % 64);
            for g in 0..GG {
                let mut masks = [0u64; CC];
                for c in 0..CC {
                    masks[c] = S::positive_bits(acc[g][c]);
                }
                let n_here = rows.saturating_sub(g * lanes).min(lanes);
                for l in 0..n_here {
                    let mut bits = 0u64;
                    for c in 0..CC {
                        bits |= (masks[c] >> l & 1) << c;
                    }
                    o[(g * lanes + l) * words + word] |= bits << shift;
                }
            }
        }
    }
}

/// Transposes `gg` groups of `LANES` rows of `x` (`gg * LANES` rows of `d`) into `xt`:
/// `xt[(g * d + k) * LANES + l] = x[(g * LANES + l) * d + k]`.
///
/// # Safety
/// `x.len() >= gg * LANES * d`, `xt.len() >= gg * d * LANES`, the CPU has `S`.
#[inline(always)]
unsafe fn transpose_panel<S: Simd>(x: &[f32], gg: usize, d: usize, xt: &mut [f32]) {
    let lanes = S::LANES;
    debug_assert!(x.len() >= gg * lanes * d && xt.len() >= gg * d * lanes);
    let body = d / lanes * lanes;
    for g in 0..gg {
        let src = &x[g * lanes * d..][..lanes * d];
        let dst = &mut xt[g * d * lanes..][..d * lanes];
        let mut k = 0;
        while k < body {
            // SAFETY: rows `0..LANES` of `src` are readable at columns `k .. k + LANES <= d`,
            // and rows `k .. k + LANES <= d` of `dst` (stride `LANES`) writable; CPU has `S`.
            unsafe {
                S::transpose(
                    src.as_ptr().add(k),
                    d,
                    dst.as_mut_ptr().add(k * lanes),
                    lanes,
                )
            };
            k += lanes;
        }
        for k in body..d {
            for l in 0..lanes {
                dst[k * lanes + l] = src[l * d + k];
            }
        }
    }
}
