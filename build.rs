//! Generates the C header from `src/ffi/` (the C ABI) with cbindgen, into `$OUT_DIR/eta_hamming.h`.
//!
//! The checked-in `include/eta_hamming.h` must equal it: `tests/header.rs` fails when it is
//! stale. `ETA_HAMMING_WRITE_HEADER=1 cargo build` refreshes the checked-in copy.
//!
//! It also exports the target and host triples as `ETA_HAMMING_TARGET` / `ETA_HAMMING_HOST` to
//! the crate's compilations (used by `tests/c_abi.rs`).

use std::env;
use std::path::PathBuf;

fn main() {
    let crate_dir =
        PathBuf::from(env::var("CARGO_MANIFEST_DIR").expect("cargo sets CARGO_MANIFEST_DIR"));
    let out = PathBuf::from(env::var("OUT_DIR").expect("cargo sets OUT_DIR")).join("eta_hamming.h");
    println!("cargo:rerun-if-changed=src");
    println!("cargo:rerun-if-changed=cbindgen.toml");
    println!("cargo:rerun-if-env-changed=ETA_HAMMING_WRITE_HEADER");
    // The target and host triples, for tests/c_abi.rs to find a C compiler for (the `cc` crate
    // needs them, and cargo sets TARGET and HOST only for build scripts).
    for (var, name) in [
        ("TARGET", "ETA_HAMMING_TARGET"),
        ("HOST", "ETA_HAMMING_HOST"),
    ] {
        let triple = env::var(var).expect("cargo sets TARGET and HOST for build scripts");
        println!("cargo:rustc-env={name}={triple}");
    }

    let config = cbindgen::Config::from_file(crate_dir.join("cbindgen.toml"))
        .expect("cbindgen.toml is valid");
    let bindings = cbindgen::Builder::new()
        .with_crate(&crate_dir)
        .with_config(config)
        .generate()
        .expect("cbindgen parses src/ffi/");
    bindings.write_to_file(&out);
    if env::var_os("ETA_HAMMING_WRITE_HEADER").is_some_and(|v| v != "0") {
        bindings.write_to_file(crate_dir.join("include/eta_hamming.h"));
    }
}
