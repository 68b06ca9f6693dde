//! SimHash: the sign of `m` random projections of an embedding, packed into a fingerprint.
//!
//! # Exact semantics
//! Bit `j` of embedding `e` (dimension `d`) is 1 exactly when `s_j > 0`, where
//! `s = +0.0; for k in 0..d { s = fma(e[k], P[k][j], s) }` in `f32`, every `fma` rounded once.
//! NaN, `-0.0` and `+0.0` give 0. Every instruction set computes exactly this chain, so the bits
//! are the same on every CPU.
//!
//! # The seeded projection (frozen)
//! [`SimHasher::from_seed`] makes `P` (`d x m`, row-major) from a `u64` seed as follows, and every
//! later version of this crate makes the same `P` (golden vectors in `tests/golden.rs`):
//!
//! 1. A SplitMix64 stream: `state = seed`; each draw is
//!    `state = state + 0x9E3779B97F4A7C15 (mod 2^64); z = state;`
//!    `z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9; z = (z ^ (z >> 27)) * 0x94D049BB133111EB;`
//!    `return z ^ (z >> 31)` (wrapping multiplications).
//! 2. Elements are drawn column by column: for `j` in `0..m`, for `k` in `0..d`, `P[k][j]` is the
//!    next element. So the first `m'` columns for a given `(d, seed)` do not depend on `m`: the
//!    `m'`-bit fingerprint is a prefix of the `m`-bit one.
//! 3. One element takes three draws `a, b, c`. `S` is the sum of the twelve 16-bit pieces of
//!    `a, b, c` (each `(x >> 16 * t) & 0xFFFF`, `t` in `0..4`), an integer in `[0, 786420]`, and
//!    the element is `(2 * S + 12 - 786432) / 131072` as an `f32`: the numerator is an integer
//!    below `2^20` in magnitude and the denominator `2^17`, so the value is exact, with no
//!    rounding anywhere.
//!
//! This is the Irwin-Hall approximation of a standard normal (a sum of twelve uniforms on
//! `(0, 1)`, centred: mean 0, variance 1 - 2^-32, range (-6, 6)), chosen because it needs no
//! transcendental function, so any language reproduces it bit for bit with integer arithmetic.
//! For SimHash only the direction of each projection column matters, and twelve-term sums are
//! close enough to Gaussian that the hyperplanes are as good as `torch.randn`'s; a caller that
//! wants its own `P` passes it to [`SimHasher::from_projection`].

use aligned_vec::{AVec, ConstAlign};

use crate::arch::encode::{Projection, Rows, PAD_COLS};
use crate::arch::EncodeFn;
use crate::dispatch::Engine;
use crate::error::{Error, Result};
use crate::fingerprints::{
    check_history_shape, history_span, with_lane_type, Fingerprints, History, BUFFER_ALIGN,
};
use crate::layout::{mul, Lane, Layout};

/// The SplitMix64 generator of the frozen projection (see the module docs).
#[derive(Clone, Debug)]
pub struct SplitMix64 {
    state: u64,
}

impl SplitMix64 {
    /// A stream starting from `seed`.
    pub const fn new(seed: u64) -> SplitMix64 {
        SplitMix64 { state: seed }
    }

    /// The next 64-bit draw.
    #[allow(clippy::should_implement_trait)]
    pub fn next(&mut self) -> u64 {
        self.state = self.state.wrapping_add(0x9E37_79B9_7F4A_7C15);
        let mut z = self.state;
        z = (z ^ (z >> 30)).wrapping_mul(0xBF58_476D_1CE4_E5B9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94D0_49BB_1331_11EB);
        z ^ (z >> 31)
    }

    /// The next projection element: the centred Irwin-Hall sum of twelve 16-bit uniforms from
    /// three draws, exact in `f32`, in `(-6, 6)`.
    pub fn next_element(&mut self) -> f32 {
        let mut s: i64 = 0;
        for _ in 0..3 {
            let x = self.next();
            for t in 0..4 {
                s += ((x >> (16 * t)) & 0xFFFF) as i64;
            }
        }
        (2 * s + 12 - 786_432) as f32 / 131_072.0
    }
}

/// The frozen seeded projection: `d x m`, row-major (`P[k][j]` at `k * m + j`).
pub fn projection_from_seed(d: usize, m: usize, seed: u64) -> Result<Vec<f32>> {
    Layout::new(m)?;
    if d == 0 {
        return Err(Error::InvalidDim);
    }
    let n = mul(d, m)?;
    let mut p = Vec::new();
    p.try_reserve_exact(n).map_err(|_| Error::OutOfMemory)?;
    p.resize(n, 0.0f32);
    let mut rng = SplitMix64::new(seed);
    for j in 0..m {
        for k in 0..d {
            p[k * m + j] = rng.next_element();
        }
    }
    Ok(p)
}

/// `n` zeroed, aligned floats, or `Error::OutOfMemory` (a hasher's size is the caller's choice,
/// so its allocation failing is an error, not an abort).
fn floats(n: usize) -> Result<AVec<f32, ConstAlign<BUFFER_ALIGN>>> {
    let mut v = AVec::new(BUFFER_ALIGN);
    v.try_reserve_exact(n).map_err(|_| Error::OutOfMemory)?;
    v.resize(n, 0.0);
    Ok(v)
}

/// Embeddings hashed per kernel call; bounds the scratch buffer to `CHUNK * 64` words.
const CHUNK: usize = 256;

/// A SimHash encoder for embeddings of dimension `d` into `m`-bit fingerprints.
///
/// Immutable once built, `Send + Sync`: one hasher may serve every thread at once.
///
/// Memory: the projection as given (`d * m` floats) and, when `m` is not a multiple of 16, a
/// second copy whose rows are zero-padded to a multiple of 16 floats, which the SIMD kernels read
/// so that they never need a partial vector load.
///
/// Inputs: `f32` embeddings ([`SimHasher::encode`] and friends), or bfloat16 and IEEE binary16
/// embeddings as `u16` bit patterns (`encode_bf16*`, `encode_f16*`), widened exactly to `f32`
/// ([`bf16_to_f32`], [`f16_to_f32`]) so that their fingerprints are those of the widened values.
#[derive(Clone)]
pub struct SimHasher {
    d: usize,
    layout: Layout,
    /// `d x m`, row-major, as given.
    proj: AVec<f32, ConstAlign<BUFFER_ALIGN>>,
    /// `d x stride` with zero columns `m..stride`, for the SIMD kernels; `None` when `m` is
    /// already a multiple of [`PAD_COLS`] (then `proj` is that layout).
    padded: Option<AVec<f32, ConstAlign<BUFFER_ALIGN>>>,
}

impl core::fmt::Debug for SimHasher {
    fn fmt(&self, f: &mut core::fmt::Formatter<'_>) -> core::fmt::Result {
        f.debug_struct("SimHasher")
            .field("d", &self.d)
            .field("m", &self.layout.bits())
            .finish()
    }
}

impl SimHasher {
    /// The hasher with the frozen projection of `seed` (see the module docs). Errors: `d = 0`,
    /// `m` outside `1..=4096`, `d * m` overflowing.
    pub fn from_seed(d: usize, m: usize, seed: u64) -> Result<SimHasher> {
        let p = projection_from_seed(d, m, seed)?;
        SimHasher::from_projection(d, m, &p)
    }

    /// The hasher with the caller's projection `proj` (`d x m`, row-major: the layout of
    /// `torch.randn(d, m)`). Every element must be finite (`Error::NonFiniteProjection`); only
    /// the first `d * m` elements are read.
    pub fn from_projection(d: usize, m: usize, proj: &[f32]) -> Result<SimHasher> {
        let layout = Layout::new(m)?;
        if d == 0 {
            return Err(Error::InvalidDim);
        }
        let needed = mul(d, m)?;
        if proj.len() < needed {
            return Err(Error::BufferTooShort {
                what: "projection",
                needed,
                got: proj.len(),
            });
        }
        let proj = &proj[..needed];
        if let Some(position) = proj.iter().position(|v| !v.is_finite()) {
            return Err(Error::NonFiniteProjection { position });
        }
        let stride = m.next_multiple_of(PAD_COLS);
        let padded = if stride != m {
            let mut p = floats(mul(d, stride)?)?;
            for (dst, src) in p.chunks_exact_mut(stride).zip(proj.chunks_exact(m)) {
                dst[..m].copy_from_slice(src);
            }
            Some(p)
        } else {
            None
        };
        let mut copy = floats(needed)?;
        copy.copy_from_slice(proj);
        Ok(SimHasher {
            d,
            layout,
            proj: copy,
            padded,
        })
    }

    /// The embedding dimension `d`.
    pub fn dim(&self) -> usize {
        self.d
    }

    /// Bits per fingerprint `m`.
    pub fn bits(&self) -> usize {
        self.layout.bits()
    }

    /// The fingerprint layout.
    pub fn layout(&self) -> Layout {
        self.layout
    }

    /// The projection, `d x m` row-major.
    pub fn projection(&self) -> &[f32] {
        &self.proj
    }

    /// The kernels' view of the projection.
    fn projection_view(&self) -> Projection<'_> {
        let m = self.bits();
        let padded = self.padded.as_deref().unwrap_or(&self.proj);
        Projection {
            rows: &self.proj,
            padded,
            d: self.d,
            m,
            stride: padded.len() / self.d,
        }
    }

    /// Number of embeddings in `len` elements, which must be a whole number of rows of `d`.
    fn rows(&self, len: usize) -> Result<usize> {
        if !len.is_multiple_of(self.d) {
            let needed = len.next_multiple_of(self.d);
            return Err(Error::BufferTooShort {
                what: "embeddings (a multiple of d)",
                needed,
                got: len,
            });
        }
        Ok(len / self.d)
    }

    /// Checks that `len` elements hold `n` embeddings.
    fn check_emb(&self, len: usize, n: usize) -> Result<()> {
        let needed = mul(n, self.d)?;
        if len < needed {
            return Err(Error::BufferTooShort {
                what: "embeddings",
                needed,
                got: len,
            });
        }
        Ok(())
    }

    /// Fingerprints of the embeddings `emb` (`n x d`, row-major; its length must be a multiple
    /// of `d`), in query layout. Uses [`Engine::current`]; see [`Engine::encode`].
    pub fn encode(&self, emb: &[f32]) -> Result<Fingerprints> {
        Engine::current().encode(self, emb)
    }

    /// Writes the fingerprints of the first `n` embeddings of `emb` into `out` (`n x lanes`
    /// lanes of the layout's lane type `T`). See [`Engine::encode_into`].
    pub fn encode_into<T: Lane>(&self, emb: &[f32], n: usize, out: &mut [T]) -> Result<()> {
        Engine::current().encode_into(self, emb, n, out)
    }

    /// A history of the embeddings `emb` (item `i` is row `i`), structure of arrays with a
    /// padded stride. See [`Engine::encode_history`].
    pub fn encode_history(&self, emb: &[f32]) -> Result<History> {
        Engine::current().encode_history(self, emb)
    }

    /// Writes the first `n` embeddings of `emb` as a history into `out` (lane `w` of item `i` at
    /// `out[w * stride + i]`). See [`Engine::encode_history_into`].
    pub fn encode_history_into<T: Lane>(
        &self,
        emb: &[f32],
        n: usize,
        out: &mut [T],
        stride: usize,
    ) -> Result<()> {
        Engine::current().encode_history_into(self, emb, n, out, stride)
    }

    /// Fingerprints of bfloat16 embeddings (`u16` bit patterns, `n x d`), in query layout.
    /// Each value is widened exactly to `f32` (its bits become the high half), so the bits are
    /// those of [`SimHasher::encode`] on the widened values. See [`Engine::encode_bf16`].
    pub fn encode_bf16(&self, emb: &[u16]) -> Result<Fingerprints> {
        Engine::current().encode_bf16(self, emb)
    }

    /// [`SimHasher::encode_into`] for bfloat16 bit patterns.
    pub fn encode_bf16_into<T: Lane>(&self, emb: &[u16], n: usize, out: &mut [T]) -> Result<()> {
        Engine::current().encode_bf16_into(self, emb, n, out)
    }

    /// [`SimHasher::encode_history`] for bfloat16 bit patterns.
    pub fn encode_history_bf16(&self, emb: &[u16]) -> Result<History> {
        Engine::current().encode_history_bf16(self, emb)
    }

    /// [`SimHasher::encode_history_into`] for bfloat16 bit patterns.
    pub fn encode_history_bf16_into<T: Lane>(
        &self,
        emb: &[u16],
        n: usize,
        out: &mut [T],
        stride: usize,
    ) -> Result<()> {
        Engine::current().encode_history_bf16_into(self, emb, n, out, stride)
    }

    /// Fingerprints of IEEE binary16 embeddings (`u16` bit patterns, `n x d`), in query layout.
    /// Each value is widened exactly to `f32` ([`f16_to_f32`]), so the bits are those of
    /// [`SimHasher::encode`] on the widened values. See [`Engine::encode_f16`].
    pub fn encode_f16(&self, emb: &[u16]) -> Result<Fingerprints> {
        Engine::current().encode_f16(self, emb)
    }

    /// [`SimHasher::encode_into`] for binary16 bit patterns.
    pub fn encode_f16_into<T: Lane>(&self, emb: &[u16], n: usize, out: &mut [T]) -> Result<()> {
        Engine::current().encode_f16_into(self, emb, n, out)
    }

    /// [`SimHasher::encode_history`] for binary16 bit patterns.
    pub fn encode_history_f16(&self, emb: &[u16]) -> Result<History> {
        Engine::current().encode_history_f16(self, emb)
    }

    /// [`SimHasher::encode_history_into`] for binary16 bit patterns.
    pub fn encode_history_f16_into<T: Lane>(
        &self,
        emb: &[u16],
        n: usize,
        out: &mut [T],
        stride: usize,
    ) -> Result<()> {
        Engine::current().encode_history_f16_into(self, emb, n, out, stride)
    }

    fn check_lane<T: Lane>(&self) -> Result<()> {
        if T::TYPE == self.layout.lane_type() {
            Ok(())
        } else {
            Err(Error::InvalidBits { m: self.bits() })
        }
    }

    /// Hashes `n` embeddings chunk by chunk and writes lane `w` of embedding `i` at
    /// `out[i * item_step + w * lane_step]`. Arguments are validated.
    fn run<T: Lane>(
        &self,
        engine: Engine,
        emb: Rows<'_>,
        n: usize,
        out: &mut [T],
        item_step: usize,
        lane_step: usize,
    ) {
        let encode: EncodeFn = engine.kernels().encode;
        let proj = self.projection_view();
        let (d, m, lanes) = (self.d, self.bits(), self.layout.lanes());
        let words = m.div_ceil(64);
        let mut scratch = vec![0u64; CHUNK.min(n) * words];
        // The contract's bits need round-to-nearest and subnormals, whatever the host set.
        let _fp = crate::fpenv::StrictFp::enter();
        for start in (0..n).step_by(CHUNK) {
            let count = CHUNK.min(n - start);
            let chunk = emb.slice(start * d, count * d);
            // SAFETY: the table only holds kernels this CPU can run (dispatch checks features),
            // and the shapes are validated: `proj` keeps its invariants by construction,
            // `chunk` is `count x d`, and `scratch` holds `count * words` words.
            unsafe { encode(&proj, chunk, count, &mut scratch[..count * words]) };
            for (i, fp) in scratch[..count * words].chunks_exact(words).enumerate() {
                let item = start + i;
                for w in 0..lanes {
                    // Narrow lanes (m <= 32) hold all bits in word 0; the kernel zeroes bits >= m.
                    out[item * item_step + w * lane_step] = T::from_u64(fp[w]);
                }
            }
        }
    }
}

/// An embedding element format: how a slice of it reaches the kernels.
trait Input {
    type Elem: Copy;
    fn rows(emb: &[Self::Elem]) -> Rows<'_>;
}

/// `f32` embeddings.
struct F32In;
/// bfloat16 bit patterns.
struct Bf16In;
/// IEEE binary16 bit patterns.
struct F16In;

impl Input for F32In {
    type Elem = f32;
    fn rows(emb: &[f32]) -> Rows<'_> {
        Rows::F32(emb)
    }
}
impl Input for Bf16In {
    type Elem = u16;
    fn rows(emb: &[u16]) -> Rows<'_> {
        Rows::Bf16(emb)
    }
}
impl Input for F16In {
    type Elem = u16;
    fn rows(emb: &[u16]) -> Rows<'_> {
        Rows::F16(emb)
    }
}

/// Exact widening of an IEEE binary16 bit pattern to `f32`, as the `f16` encoders do it: every
/// binary16 value is an `f32` value, so zeros (with their sign), subnormals, normals and
/// infinities convert exactly; a NaN becomes the quiet NaN with the same sign and the payload
/// shifted up by 13 bits (what x86 `VCVTPH2PS` and aarch64 `FCVT` produce).
pub fn f16_to_f32(bits: u16) -> f32 {
    crate::arch::encode::f16_to_f32(bits)
}

/// Exact widening of a bfloat16 bit pattern to `f32`, as the `bf16` encoders do it: the 16 bits
/// become the high half of the `f32` (`bits << 16`), NaN payloads included.
pub fn bf16_to_f32(bits: u16) -> f32 {
    crate::arch::encode::bf16_to_f32(bits)
}

/// The Engine's encoders for one element format, generic over [`Input`]; the public methods
/// below are thin wrappers.
impl Engine {
    fn encode_as<I: Input>(&self, hasher: &SimHasher, emb: &[I::Elem]) -> Result<Fingerprints> {
        let n = hasher.rows(emb.len())?;
        let mut out = Fingerprints::zeroed(hasher.bits(), n)?;
        with_lane_type!(hasher.layout, T => {
            self.encode_into_as::<I, T>(hasher, emb, n, out.lanes_mut::<T>()?)
        })?;
        Ok(out)
    }

    fn encode_into_as<I: Input, T: Lane>(
        &self,
        hasher: &SimHasher,
        emb: &[I::Elem],
        n: usize,
        out: &mut [T],
    ) -> Result<()> {
        hasher.check_lane::<T>()?;
        hasher.check_emb(emb.len(), n)?;
        let needed = mul(n, hasher.layout.lanes())?;
        if out.len() < needed {
            return Err(Error::BufferTooShort {
                what: "fingerprints",
                needed,
                got: out.len(),
            });
        }
        hasher.run(*self, I::rows(emb), n, out, hasher.layout.lanes(), 1);
        Ok(())
    }

    fn encode_history_as<I: Input>(&self, hasher: &SimHasher, emb: &[I::Elem]) -> Result<History> {
        let n = hasher.rows(emb.len())?;
        let mut h = History::zeroed(hasher.bits(), n)?;
        let stride = h.stride();
        with_lane_type!(hasher.layout, T => {
            self.encode_history_into_as::<I, T>(hasher, emb, n, h.lanes_mut::<T>()?, stride)
        })?;
        Ok(h)
    }

    fn encode_history_into_as<I: Input, T: Lane>(
        &self,
        hasher: &SimHasher,
        emb: &[I::Elem],
        n: usize,
        out: &mut [T],
        stride: usize,
    ) -> Result<()> {
        hasher.check_lane::<T>()?;
        hasher.check_emb(emb.len(), n)?;
        check_history_shape(n, stride)?;
        let needed = history_span(hasher.layout.lanes(), n, stride)?;
        if out.len() < needed {
            return Err(Error::BufferTooShort {
                what: "history",
                needed,
                got: out.len(),
            });
        }
        hasher.run(*self, I::rows(emb), n, out, 1, stride);
        Ok(())
    }
}

/// SimHash encoders. `f32` inputs are hashed as they are; 16-bit inputs (`bf16`, IEEE `f16`,
/// given as `u16` bit patterns) are widened exactly to `f32` ([`bf16_to_f32`], [`f16_to_f32`])
/// and hashed by the same kernel, so their bits equal those of the `f32` encoders on the widened
/// values.
///
/// Kernel strategy (every instruction set): an outer-product tile of several embeddings by
/// several vectors of outputs, each output's FMA chain run over `k = 0..d` in order; see
/// `src/arch/encode.rs`. The hasher keeps a zero-padded copy of `P` (rows a multiple of 16
/// floats) when `m` is not a multiple of 16, so the kernels never need masked loads.
impl Engine {
    /// Fingerprints of the embeddings `emb` (`n x d`, row-major; its length must be a multiple
    /// of `d`), in query layout.
    pub fn encode(&self, hasher: &SimHasher, emb: &[f32]) -> Result<Fingerprints> {
        self.encode_as::<F32In>(hasher, emb)
    }

    /// Writes the fingerprints of the first `n` embeddings of `emb` into `out` (`n x lanes`
    /// lanes of the layout's lane type `T`).
    pub fn encode_into<T: Lane>(
        &self,
        hasher: &SimHasher,
        emb: &[f32],
        n: usize,
        out: &mut [T],
    ) -> Result<()> {
        self.encode_into_as::<F32In, T>(hasher, emb, n, out)
    }

    /// A history of the embeddings `emb` (item `i` is row `i`), structure of arrays with a
    /// padded stride.
    pub fn encode_history(&self, hasher: &SimHasher, emb: &[f32]) -> Result<History> {
        self.encode_history_as::<F32In>(hasher, emb)
    }

    /// Writes the fingerprints of the first `n` embeddings of `emb` as a history into `out`:
    /// lane `w` of item `i` at `out[w * stride + i]` (`stride >= n`). Padding items are left as
    /// they are.
    pub fn encode_history_into<T: Lane>(
        &self,
        hasher: &SimHasher,
        emb: &[f32],
        n: usize,
        out: &mut [T],
        stride: usize,
    ) -> Result<()> {
        self.encode_history_into_as::<F32In, T>(hasher, emb, n, out, stride)
    }

    /// [`Engine::encode`] for bfloat16 embeddings (`u16` bit patterns, widened exactly).
    pub fn encode_bf16(&self, hasher: &SimHasher, emb: &[u16]) -> Result<Fingerprints> {
        self.encode_as::<Bf16In>(hasher, emb)
    }

    /// [`Engine::encode_into`] for bfloat16 embeddings (`u16` bit patterns, widened exactly).
    pub fn encode_bf16_into<T: Lane>(
        &self,
        hasher: &SimHasher,
        emb: &[u16],
        n: usize,
        out: &mut [T],
    ) -> Result<()> {
        self.encode_into_as::<Bf16In, T>(hasher, emb, n, out)
    }

    /// [`Engine::encode_history`] for bfloat16 embeddings (`u16` bit patterns, widened exactly).
    pub fn encode_history_bf16(&self, hasher: &SimHasher, emb: &[u16]) -> Result<History> {
        self.encode_history_as::<Bf16In>(hasher, emb)
    }

    /// [`Engine::encode_history_into`] for bfloat16 embeddings (`u16` bit patterns, widened
    /// exactly).
    pub fn encode_history_bf16_into<T: Lane>(
        &self,
        hasher: &SimHasher,
        emb: &[u16],
        n: usize,
        out: &mut [T],
        stride: usize,
    ) -> Result<()> {
        self.encode_history_into_as::<Bf16In, T>(hasher, emb, n, out, stride)
    }

    /// [`Engine::encode`] for IEEE binary16 embeddings (`u16` bit patterns, widened exactly).
    pub fn encode_f16(&self, hasher: &SimHasher, emb: &[u16]) -> Result<Fingerprints> {
        self.encode_as::<F16In>(hasher, emb)
    }

    /// [`Engine::encode_into`] for IEEE binary16 embeddings (`u16` bit patterns, widened
    /// exactly).
    pub fn encode_f16_into<T: Lane>(
        &self,
        hasher: &SimHasher,
        emb: &[u16],
        n: usize,
        out: &mut [T],
    ) -> Result<()> {
        self.encode_into_as::<F16In, T>(hasher, emb, n, out)
    }

    /// [`Engine::encode_history`] for IEEE binary16 embeddings (`u16` bit patterns, widened
    /// exactly).
    pub fn encode_history_f16(&self, hasher: &SimHasher, emb: &[u16]) -> Result<History> {
        self.encode_history_as::<F16In>(hasher, emb)
    }

    /// [`Engine::encode_history_into`] for IEEE binary16 embeddings (`u16` bit patterns,
    /// widened exactly).
    pub fn encode_history_f16_into<T: Lane>(
        &self,
        hasher: &SimHasher,
        emb: &[u16],
        n: usize,
        out: &mut [T],
        stride: usize,
    ) -> Result<()> {
        self.encode_history_into_as::<F16In, T>(hasher, emb, n, out, stride)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn elements_are_centred_and_bounded() {
        let p = projection_from_seed(64, 64, 7).unwrap();
        let mean = p.iter().map(|&v| f64::from(v)).sum::<f64>() / p.len() as f64;
        let var = p.iter().map(|&v| f64::from(v) * f64::from(v)).sum::<f64>() / p.len() as f64;
        assert!(mean.abs() < 0.05, "mean {mean}");
        assert!((var - 1.0).abs() < 0.1, "variance {var}");
        assert!(p.iter().all(|v| v.abs() < 6.0));
    }

    #[test]
    fn narrower_projection_is_a_column_prefix() {
        let wide = projection_from_seed(5, 70, 99).unwrap();
        let narrow = projection_from_seed(5, 33, 99).unwrap();
        for k in 0..5 {
            assert_eq!(&wide[k * 70..][..33], &narrow[k * 33..][..33]);
        }
    }
}
