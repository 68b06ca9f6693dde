//! # eta-hamming
//!
//! SimHash fingerprints and Hamming-distance top-K retrieval for ETA-style click-through-rate
//! models, on CPUs, with a C ABI.
//!
//! ETA (End-to-end Target Attention) hashes every embedding to an `m`-bit SimHash fingerprint and,
//! for each candidate item, attends only over the `K` history items at the smallest Hamming
//! distance. This crate does the hashing ([`SimHasher`]) and the scan ([`topk_shared`],
//! [`topk_batch`]) with kernels chosen at run time ([`Isa`]), and exposes the same through
//! `include/eta_hamming.h`.
//!
//! The behaviour every kernel keeps is the contract (`docs/CONTRACT.md`): fingerprint layout
//! ([`Layout`]), bit-exact SimHash, the top-K order and its sentinels, and validation of every
//! argument before anything is written.
//!
//! Where to look:
//! - [`simhash`]: the hasher and its encoders, generic over the embedding [`Element`] type
//!   (`f32`, [`Bf16`], [`F16`]); the frozen seeded projection and its exact specification
//!   ([`simhash::seed`]).
//! - [`topk_shared`], [`topk_batch`], [`distances_shared`], [`distances_batch`], [`TopK`]: scans;
//!   [`parallel`]: the same spread over threads, with identical results.
//! - [`Fingerprints`], [`History`], [`HistoryBatch`] and their `*Ref` views: storage.
//! - [`dispatch`]: instruction sets ([`Isa`]), `ETA_HAMMING_ISA`, per-call [`Engine`]s.
//! - [`ffi`]: the C ABI (`include/eta_hamming.h`), one file per domain.
//!
//! Source layout: `shape.rs` (shape arithmetic and checks shared by the Rust API and the C ABI),
//! `layout.rs` (lane types), `fingerprints/` (owned buffers, views, history builders),
//! `search.rs` (the scan API and its validation), `simhash/` (hasher, encoders, seed, element
//! types), `workers/` (thread pool and parallel splitting), `arch/` and `dispatch.rs` (kernels
//! and their selection), `ffi/` (the C ABI).
//!
//! Thread safety: everything is `Send + Sync` and re-entrant; forcing an instruction set is
//! process-wide. Kernels keep a small per-thread scratch pool between calls (a few vectors of
//! each element type, each kept up to 1 MiB). So after warm-up (a thread's first calls of a
//! shape), these allocate nothing: the `_into` encoders ([`SimHasher::encode_into`],
//! [`SimHasher::encode_history_into`] and their [`Engine`] forms), and the scans into caller
//! buffers ([`topk_shared`], [`topk_batch`], [`distances_shared`], [`distances_batch`], the
//! [`Engine`] methods, and [`parallel`]'s split calls, per-query histories up to 64 parts). What
//! still allocates per call: scratch past 1 MiB per buffer (a history of over 128 Ki items for
//! the reference kernels' keys, a split history's `threads * B * K` partial results), the
//! owned-result forms ([`SimHasher::encode`], [`TopK`], ...), and a call nested inside another on
//! the same thread beyond the pool's depth. `tests/alloc.rs` counts every allocation to show it.
//! The first call
//! that [`parallel`] splits starts a process-wide pool of worker threads (one per core but one),
//! which lives until the process exits.
//!
//! ```
//! use eta_hamming::{SimHasher, TopK};
//! let (d, m, k) = (16, 64, 3);
//! let hasher = SimHasher::from_seed(d, m, 42)?;
//! let history: Vec<f32> = (0..100 * d).map(|i| ((i * 7919) % 113) as f32 - 56.0).collect();
//! let candidates = &history[5 * d..7 * d]; // two candidates equal to history items 5 and 6
//! let h = hasher.encode_history(&history)?;
//! let q = hasher.encode(candidates)?;
//! let top = TopK::shared(q.view(), h.view(), k)?;
//! assert_eq!(top.indices(0)[0], 5);
//! assert_eq!(top.distances(1)[0], 0);
//! # Ok::<(), eta_hamming::Error>(())
//! ```
#![deny(missing_docs)]
#![deny(unsafe_op_in_unsafe_fn)]
#![warn(clippy::undocumented_unsafe_blocks)]

mod arch;
pub mod dispatch;
mod error;
pub mod ffi;
mod fingerprints;
#[doc(hidden)]
pub mod fpenv;
mod isa;
mod layout;
mod search;
mod shape;
pub mod simhash;
mod workers;

pub use workers::parallel;

/// The kernels' internal size boundaries, where a scan changes strategy. Not part of the API:
/// public, and hidden from the docs, only so that tests aim their shapes at each boundary (and
/// one item on either side) by name, and follow it when the tuning changes.
#[doc(hidden)]
pub mod kernel_boundaries {
    pub use crate::arch::scan::rows::U8_MAX_DISTANCE;
    pub use crate::arch::scan::select::RANK_SORT_MAX;
    pub use crate::arch::scan::small::SMALL_M_MAX_ITEMS;
    pub use crate::arch::scan::stream::{GROUP, PREFIX_ITEMS, TILE_BYTES};
    pub use crate::arch::scan::two_pass::DENSE_GATHER_ITEMS;
}

pub use dispatch::{Engine, Isa, ISA_ENV_VAR};
pub use error::{Error, EtaStatus, Result};
pub use fingerprints::{
    history_from_fingerprints_into, history_gather_into, padded_stride, Fingerprints,
    FingerprintsRef, History, HistoryBatch, HistoryBatchRef, HistoryRef, BUFFER_ALIGN,
    STRIDE_MULTIPLE,
};
pub use layout::{Lane, LaneType, Layout, EMPTY_DISTANCE, EMPTY_INDEX, MAX_BITS, MAX_HISTORY_LEN};
pub use search::{distances_batch, distances_shared, topk_batch, topk_shared, TopK};
pub use simhash::{projection_from_seed, Bf16, Element, SimHasher, F16};

/// The crate version, as in `Cargo.toml`.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// The README's Rust code blocks, compiled and run as doctests (`cargo test --doc`), so that
/// the user manual's examples compile as shown.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
