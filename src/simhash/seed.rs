//! The frozen seeded projection: the SplitMix64 generator and [`projection_from_seed`], whose
//! output never changes from one version of this crate to the next.
//!
//! [`SimHasher::from_seed`](super::SimHasher::from_seed) makes `P` (`d x m`, row-major) from a `u64` seed as follows, and every
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
//! wants its own `P` passes it to [`SimHasher::from_projection`](super::SimHasher::from_projection).

use crate::error::{Error, Result};
use crate::layout::mul;
use crate::shape::check_hasher_shape;

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
    check_hasher_shape(d, m)?;
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
