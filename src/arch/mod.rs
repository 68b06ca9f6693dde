//! Kernels, one directory per instruction set, all behind one table of function pointers.
//!
//! Every kernel receives arguments the public API has already validated (shapes, lengths,
//! overflow, alignment), so kernels check nothing and never fail. A kernel table is a
//! `static` per instruction set; [`crate::dispatch`] picks one once and caches a pointer to it.
//!
//! What every kernel must do, whatever its strategy, is what [`scalar`] does: the scalar module
//! is the oracle every other kernel is tested against (`tests/kernels.rs` forces each one).
//!
//! Layout: [`scan`] holds the scan algorithms, written once over a vector trait; [`encode`] the
//! SimHash tile, written once over an `f32` vector trait; [`scratch`] the per-thread scratch
//! pool; `x86_64/{avx2,avx512}/` and `aarch64/neon/` each hold one instruction set's token,
//! feature list (the one place its `#[target_feature]` set and its runtime detection come from,
//! see `feature_set!` below), vectors, scan and encode kernels, and kernel table.

use crate::isa::Isa;
use crate::layout::Lane;

/// Declares an instruction set's features, once: `feature_set!($ name = detector [features])`,
/// inside the instruction set's module, generates
/// - `pub(crate) fn detect() -> bool`: whether the CPU reports every feature (through
///   `std::arch::detector!`), which is what [`crate::dispatch`] checks before handing out the
///   table, and
/// - a macro `name! { items }` that puts `#[target_feature(enable = f)]` for every feature `f`
///   on each function it wraps, for the module and its children (textual scope).
///
/// So a kernel can only be compiled for exactly what its table's detection checks. The leading
/// `$` is passed in so that the generated macro can declare its own metavariables.
macro_rules! feature_set {
    ($d:tt $stamp:ident = $detector:ident [$($feature:tt),+ $(,)?]) => {
        /// Whether this CPU has every feature of this instruction set's table.
        pub(crate) fn detect() -> bool {
            $(std::arch::$detector!($feature))&&+
        }

        /// Compiles the wrapped functions for every feature of this instruction set's table.
        #[allow(unused_macros)]
        macro_rules! $stamp {
            ($d($d item:item)*) => {
                $d( $( #[target_feature(enable = $feature)] )+ $d item )*
            };
        }
    };
}

#[cfg(target_arch = "aarch64")]
pub(crate) mod aarch64;
pub(crate) mod encode;
pub(crate) mod encode_across;
pub(crate) mod scalar;
pub(crate) mod scan;
pub(crate) mod scratch;
#[cfg(target_arch = "x86_64")]
pub(crate) mod x86_64;

/// One shared history searched by `nq` queries. Invariants (checked by the caller):
/// `q.len() >= nq * lanes`, `hist.len() >= (lanes - 1) * stride + len` when `len > 0`,
/// `stride >= len`, `len <= MAX_HISTORY_LEN`.
pub(crate) struct SharedScan<'a, T> {
    pub q: &'a [T],
    pub nq: usize,
    pub lanes: usize,
    pub hist: &'a [T],
    pub len: usize,
    pub stride: usize,
}

/// `nq` queries, query `b` searching the first `lens[b]` items of its own history `b`.
/// Invariants: `lens.len() == nq`, every `lens[b] <= cap <= stride`, `q.len() >= nq * lanes`,
/// `hists.len() >= (nq * lanes - 1) * stride + cap` (or 0 when `cap == 0`): the last lane row
/// of the last history may end right after its capacity, so a kernel must never slice a history
/// whose `lens[b]` is 0, nor read past item `lens[b] - 1` of a lane row.
pub(crate) struct BatchScan<'a, T> {
    pub q: &'a [T],
    pub nq: usize,
    pub lanes: usize,
    pub hists: &'a [T],
    pub lens: &'a [u32],
    pub cap: usize,
    pub stride: usize,
}

impl<T> SharedScan<'_, T> {
    /// Whether the invariants above hold (the public API validates them; the kernels read through
    /// raw pointers on their strength). For debug assertions at every kernel call.
    pub(crate) fn invariants_hold(&self) -> bool {
        self.lanes >= 1
            && self.q.len() >= self.nq.saturating_mul(self.lanes)
            && self.stride >= self.len
            && self.len <= crate::layout::MAX_HISTORY_LEN
            && (self.len == 0
                || self.hist.len()
                    >= (self.lanes - 1)
                        .saturating_mul(self.stride)
                        .saturating_add(self.len))
    }
}

impl<T> BatchScan<'_, T> {
    /// Whether the invariants above hold; for debug assertions at every kernel call.
    pub(crate) fn invariants_hold(&self) -> bool {
        self.lanes >= 1
            && self.lens.len() == self.nq
            && self.lens.iter().all(|&l| l as usize <= self.cap)
            && self.cap <= self.stride
            && self.cap <= crate::layout::MAX_HISTORY_LEN
            && self.q.len() >= self.nq.saturating_mul(self.lanes)
            && (self.nq == 0
                || self.cap == 0
                || self.hists.len()
                    >= (self.nq.saturating_mul(self.lanes) - 1)
                        .saturating_mul(self.stride)
                        .saturating_add(self.cap))
    }
}

/// Top-K over a shared history. Writes, for each query `b`, the first `min(k, len)` slots of
/// row `b` (`idx[b * k ..]`, `dist[b * k ..]`); the caller fills the rest with sentinels.
pub(crate) type TopkSharedFn<T> = unsafe fn(&SharedScan<'_, T>, usize, &mut [u32], &mut [u16]);
/// Top-K over per-query histories: the first `min(k, lens[b])` slots of each row.
pub(crate) type TopkBatchFn<T> = unsafe fn(&BatchScan<'_, T>, usize, &mut [u32], &mut [u16]);
/// All distances over a shared history: `out[b * len + i]`.
pub(crate) type DistSharedFn<T> = unsafe fn(&SharedScan<'_, T>, &mut [u16]);
/// All distances over per-query histories: `out[b * cap + i]` for `i < lens[b]` only.
pub(crate) type DistBatchFn<T> = unsafe fn(&BatchScan<'_, T>, &mut [u16]);
/// SimHash of `n` embeddings (`emb`, `n x d`, `f32` or 16-bit floats widened exactly) by the
/// projection `proj` (`d x m`; the kernels choose between its plain and zero-padded copies):
/// writes `W = ceil(m / 64)` words per embedding to `out` (`n x W`), bit `j` of embedding `e`
/// at word `j / 64`, bit `j % 64`, bits at and above `m` zero. Bit `j` is `s_j > 0` where
/// `s_j = fma(e[d-1], P[d-1][j], ... fma(e[0], P[0][j], +0.0))`, exactly.
/// Invariants (checked by the caller): `emb.len() >= n * d`, `out.len() >= n * W`, `proj` as
/// documented on [`encode::Projection`].
pub(crate) type EncodeFn =
    unsafe fn(proj: &encode::Projection<'_>, emb: encode::Rows<'_>, n: usize, out: &mut [u64]);

/// The four scan kernels of one lane type.
pub(crate) struct LaneKernels<T> {
    pub topk_shared: TopkSharedFn<T>,
    pub topk_batch: TopkBatchFn<T>,
    pub dist_shared: DistSharedFn<T>,
    pub dist_batch: DistBatchFn<T>,
}

/// Everything one instruction set provides (its scan kernels per lane type, its encoder).
pub(crate) struct Kernels {
    pub isa: Isa,
    pub u8: LaneKernels<u8>,
    pub u16: LaneKernels<u16>,
    pub u32: LaneKernels<u32>,
    pub u64: LaneKernels<u64>,
    pub encode: EncodeFn,
}

/// Picks the kernels of lane type `Self` out of a table.
pub(crate) trait SelectKernels: Lane {
    fn select(k: &Kernels) -> &LaneKernels<Self>;
}
macro_rules! select {
    ($t:ty, $f:ident) => {
        impl SelectKernels for $t {
            #[inline(always)]
            fn select(k: &Kernels) -> &LaneKernels<$t> {
                &k.$f
            }
        }
    };
}
select!(u8, u8);
select!(u16, u16);
select!(u32, u32);
select!(u64, u64);

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kernel_invariants_accept_valid_shapes_and_catch_broken_ones() {
        let (q, h) = ([0u64; 6], [0u64; 2 * 10 + 7]);
        let ok = SharedScan {
            q: &q,
            nq: 2,
            lanes: 3,
            hist: &h,
            len: 7,
            stride: 10,
        };
        assert!(ok.invariants_hold());
        assert!(!SharedScan { len: 8, ..ok }.invariants_hold()); // history too short
        assert!(!SharedScan { stride: 6, ..ok }.invariants_hold()); // stride < len
        assert!(!SharedScan { nq: 3, ..ok }.invariants_hold()); // queries too short
        assert!(SharedScan {
            len: 0,
            stride: 0,
            hist: &[],
            ..ok
        }
        .invariants_hold());

        let lens = [7u32, 0];
        let hs = [0u64; (2 * 3 - 1) * 10 + 7];
        let ok = BatchScan {
            q: &q,
            nq: 2,
            lanes: 3,
            hists: &hs,
            lens: &lens,
            cap: 7,
            stride: 10,
        };
        assert!(ok.invariants_hold());
        assert!(!BatchScan { cap: 6, ..ok }.invariants_hold()); // lens[0] > cap
        assert!(!BatchScan {
            lens: &lens[..1],
            ..ok
        }
        .invariants_hold()); // one len per query
        assert!(!BatchScan {
            hists: &hs[..hs.len() - 1],
            ..ok
        }
        .invariants_hold());
        assert!(BatchScan {
            nq: 0,
            lens: &[],
            hists: &[],
            ..ok
        }
        .invariants_hold());
    }
}
