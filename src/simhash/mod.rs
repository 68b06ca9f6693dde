//! SimHash: the sign of `m` random projections of an embedding, packed into a fingerprint.
//! This file holds the hasher ([`SimHasher`]) and the encoders, generic over the embedding's
//! [`Element`] type (on [`SimHasher`] and on [`Engine`]); [`seed`] holds the frozen seeded
//! projection, [`element`] the element types.
//!
//! # Exact semantics
//! Bit `j` of embedding `e` (dimension `d`) is 1 exactly when `s_j > 0`, where
//! `s = +0.0; for k in 0..d { s = fma(e[k], P[k][j], s) }` in `f32`, every `fma` rounded once.
//! NaN, `-0.0` and `+0.0` give 0. Every instruction set computes exactly this chain, so the bits
//! are the same on every CPU.
//!
//! # The seeded projection
//! [`SimHasher::from_seed`] makes `P` (`d x m`, row-major) from a `u64` seed with a generator
//! that is frozen: every later version of this crate makes the same `P` (golden vectors in
//! `tests/golden.rs`). Its exact specification is in [`seed`]; a caller that wants its own `P`
//! passes it to [`SimHasher::from_projection`].

use aligned_vec::{AVec, ConstAlign};

use crate::arch::encode::{Projection, Rows, PAD_COLS};
use crate::arch::EncodeFn;
use crate::dispatch::Engine;
use crate::error::{Error, Result};
use crate::fingerprints::{Fingerprints, History, BUFFER_ALIGN};
use crate::layout::{mul, with_lane_type, Lane, Layout};
use crate::shape::{
    check_embeddings, check_hasher_shape, check_len, embedding_rows, fingerprint_lanes,
    history_lanes,
};

pub mod element;
pub mod seed;

pub use element::{bf16_to_f32, f16_to_f32, Bf16, Element, F16};
pub use seed::{projection_from_seed, SplitMix64};

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

/// Where an encoder writes: lane `w` of embedding `i` at `out[i * item + w * lane]` (query
/// layout: `item = lanes, lane = 1`; history layout: `item = 1, lane = stride`).
struct Steps<'a, T> {
    out: &'a mut [T],
    item: usize,
    lane: usize,
}

/// A SimHash encoder for embeddings of dimension `d` into `m`-bit fingerprints.
///
/// Immutable once built, `Send + Sync`: one hasher may serve every thread at once.
///
/// Memory: the projection as given (`d * m` floats) and, when `m` is not a multiple of 16, a
/// second copy whose rows are zero-padded to a multiple of 16 floats, which the SIMD kernels read
/// so that they never need a partial vector load.
///
/// Inputs: embeddings of any [`Element`] type: `f32`, or bfloat16 and IEEE binary16 bit patterns
/// as [`Bf16`] and [`F16`] (cast a `&[u16]` with [`Bf16::from_bits_slice`] /
/// [`F16::from_bits_slice`], for free), widened exactly to `f32` ([`bf16_to_f32`],
/// [`f16_to_f32`]) so that their fingerprints are those of the widened values.
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
        let layout = check_hasher_shape(d, m)?;
        let needed = mul(d, m)?;
        check_len("projection", needed, proj.len())?;
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

    /// The buffers this hasher owns besides itself: the projection as given and its padded
    /// copy (empty when there is none). The C ABI keeps callers' outputs off them.
    pub(crate) fn buffers(&self) -> [&[f32]; 2] {
        [&self.proj, self.padded.as_deref().unwrap_or(&[])]
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

    /// Fingerprints of the embeddings `emb` (`n x d`, row-major; its length must be a multiple
    /// of `d`), in query layout. Uses [`Engine::current`]; see [`Engine::encode`].
    pub fn encode<E: Element>(&self, emb: &[E]) -> Result<Fingerprints> {
        Engine::current().encode(self, emb)
    }

    /// Writes the fingerprints of the first `n` embeddings of `emb` into `out` (`n x lanes`
    /// lanes of the layout's lane type `T`). See [`Engine::encode_into`].
    pub fn encode_into<E: Element, T: Lane>(
        &self,
        emb: &[E],
        n: usize,
        out: &mut [T],
    ) -> Result<()> {
        Engine::current().encode_into(self, emb, n, out)
    }

    /// A history of the embeddings `emb` (item `i` is row `i`), structure of arrays with a
    /// padded stride. See [`Engine::encode_history`].
    pub fn encode_history<E: Element>(&self, emb: &[E]) -> Result<History> {
        Engine::current().encode_history(self, emb)
    }

    /// Writes the first `n` embeddings of `emb` as a history into `out` (lane `w` of item `i` at
    /// `out[w * stride + i]`). See [`Engine::encode_history_into`].
    pub fn encode_history_into<E: Element, T: Lane>(
        &self,
        emb: &[E],
        n: usize,
        out: &mut [T],
        stride: usize,
    ) -> Result<()> {
        Engine::current().encode_history_into(self, emb, n, out, stride)
    }

    fn check_lane<T: Lane>(&self) -> Result<()> {
        if T::TYPE == self.layout.lane_type() {
            Ok(())
        } else {
            Err(Error::InvalidBits { m: self.bits() })
        }
    }

    /// Hashes `n` embeddings chunk by chunk and writes lane `w` of embedding `i` at
    /// `out.out[i * out.item + w * out.lane]`. Arguments are validated.
    fn run<T: Lane>(&self, engine: Engine, emb: Rows<'_>, n: usize, out: Steps<'_, T>) {
        let Steps {
            out,
            item: item_step,
            lane: lane_step,
        } = out;
        let encode: EncodeFn = engine.kernels().encode;
        let proj = self.projection_view();
        let (d, m, lanes) = (self.d, self.bits(), self.layout.lanes());
        let words = m.div_ceil(64);
        // From the per-thread pool: no allocation after the thread's first call.
        let mut scratch = crate::arch::scratch::Pooled::<u64>::take(CHUNK.min(n) * words);
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

/// The encoders. Every [`Element`] type is hashed by the same kernel: `f32` as it is, [`Bf16`]
/// and [`F16`] widened exactly to `f32` ([`bf16_to_f32`], [`f16_to_f32`]), so their bits equal
/// those of `f32` embeddings holding the widened values. The kernels (an outer-product tile of
/// embeddings by vectors of outputs, each output's FMA chain run over `k = 0..d` in order) are
/// in `src/arch/encode.rs`.
impl Engine {
    /// Fingerprints of the embeddings `emb` (`n x d`, row-major; its length must be a multiple
    /// of `d`), in query layout.
    pub fn encode<E: Element>(&self, hasher: &SimHasher, emb: &[E]) -> Result<Fingerprints> {
        let n = embedding_rows(emb.len(), hasher.d)?;
        let mut out = Fingerprints::zeroed(hasher.bits(), n)?;
        with_lane_type!(hasher.layout, T => {
            self.encode_into::<E, T>(hasher, emb, n, out.lanes_mut::<T>()?)
        })?;
        Ok(out)
    }

    /// Writes the fingerprints of the first `n` embeddings of `emb` into `out` (`n x lanes`
    /// lanes of the layout's lane type `T`).
    pub fn encode_into<E: Element, T: Lane>(
        &self,
        hasher: &SimHasher,
        emb: &[E],
        n: usize,
        out: &mut [T],
    ) -> Result<()> {
        hasher.check_lane::<T>()?;
        check_embeddings(emb.len(), n, hasher.d)?;
        check_len(
            "fingerprints",
            fingerprint_lanes(hasher.layout, n)?,
            out.len(),
        )?;
        hasher.run(
            *self,
            element::rows(emb),
            n,
            Steps {
                out,
                item: hasher.layout.lanes(),
                lane: 1,
            },
        );
        Ok(())
    }

    /// A history of the embeddings `emb` (item `i` is row `i`), structure of arrays with a
    /// padded stride.
    pub fn encode_history<E: Element>(&self, hasher: &SimHasher, emb: &[E]) -> Result<History> {
        let n = embedding_rows(emb.len(), hasher.d)?;
        let mut h = History::zeroed(hasher.bits(), n)?;
        let stride = h.stride();
        with_lane_type!(hasher.layout, T => {
            self.encode_history_into::<E, T>(hasher, emb, n, h.lanes_mut::<T>()?, stride)
        })?;
        Ok(h)
    }

    /// Writes the fingerprints of the first `n` embeddings of `emb` as a history into `out`:
    /// lane `w` of item `i` at `out[w * stride + i]` (`stride >= n`). Padding items are left as
    /// they are.
    pub fn encode_history_into<E: Element, T: Lane>(
        &self,
        hasher: &SimHasher,
        emb: &[E],
        n: usize,
        out: &mut [T],
        stride: usize,
    ) -> Result<()> {
        hasher.check_lane::<T>()?;
        check_embeddings(emb.len(), n, hasher.d)?;
        check_len(
            "history",
            history_lanes(hasher.layout.lanes(), n, stride)?,
            out.len(),
        )?;
        hasher.run(
            *self,
            element::rows(emb),
            n,
            Steps {
                out,
                item: 1,
                lane: stride,
            },
        );
        Ok(())
    }
}
