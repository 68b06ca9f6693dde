//! Exports the target and host triples as `ETA_HAMMING_TARGET` / `ETA_HAMMING_HOST` to the
//! crate's compilations (used by `tests/c_abi.rs` to find a C compiler for the target).
//!
//! It runs nothing else: the C header `include/eta_hamming.h` is checked in, and generated and
//! verified by `tests/header.rs` (cbindgen is a dev-dependency there), so a Rust dependent
//! compiles neither cbindgen nor its dependencies.

use std::env;

fn main() {
    println!("cargo:rerun-if-changed=build.rs");
    // cargo sets TARGET and HOST only for build scripts; the `cc` crate needs them in the tests.
    for (var, name) in [
        ("TARGET", "ETA_HAMMING_TARGET"),
        ("HOST", "ETA_HAMMING_HOST"),
    ] {
        let triple = env::var(var).expect("cargo sets TARGET and HOST for build scripts");
        println!("cargo:rustc-env={name}={triple}");
    }
}
