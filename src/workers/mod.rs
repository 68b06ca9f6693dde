//! Work spread over threads: the process-wide worker pool ([`pool`]) and the splitting of a
//! scan into parts for it ([`parallel`], public as `eta_hamming::parallel`).

pub mod parallel;
pub(crate) mod pool;
