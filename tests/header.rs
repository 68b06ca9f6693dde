//! The checked-in C header `include/eta_hamming.h` must equal a fresh cbindgen run over
//! `src/ffi/` with `cbindgen.toml` (cbindgen is a pinned dev-dependency, so a Rust dependent
//! never compiles it). When this fails, regenerate and commit the header:
//!
//! ```sh
//! ETA_HAMMING_WRITE_HEADER=1 cargo test --test header
//! ```
//!
//! Also checked: every symbol and macro is prefixed, and the CMake package config's version
//! (`cmake/eta_hamming-config-version.cmake`) is the crate's.

use std::path::{Path, PathBuf};

fn manifest_dir() -> &'static Path {
    Path::new(env!("CARGO_MANIFEST_DIR"))
}

fn header_path() -> PathBuf {
    manifest_dir().join("include/eta_hamming.h")
}

/// The header cbindgen makes from the sources now.
fn fresh_header() -> String {
    let config = cbindgen::Config::from_file(manifest_dir().join("cbindgen.toml"))
        .expect("cbindgen.toml is valid");
    let bindings = cbindgen::Builder::new()
        .with_crate(manifest_dir())
        .with_config(config)
        .generate()
        .expect("cbindgen parses src/ffi/");
    let mut out = Vec::new();
    bindings.write(&mut out);
    String::from_utf8(out).expect("cbindgen writes UTF-8")
}

#[test]
fn checked_in_header_matches_a_fresh_cbindgen_run() {
    let fresh = fresh_header();
    if std::env::var_os("ETA_HAMMING_WRITE_HEADER").is_some_and(|v| v != "0") {
        let checked_in = std::fs::read_to_string(header_path()).unwrap_or_default();
        if checked_in != fresh {
            std::fs::write(header_path(), &fresh).expect("write include/eta_hamming.h");
            eprintln!("wrote {}", header_path().display());
        }
        return;
    }
    let checked_in = std::fs::read_to_string(header_path()).expect("include/eta_hamming.h exists");
    assert!(
        checked_in == fresh,
        "include/eta_hamming.h is stale: run `ETA_HAMMING_WRITE_HEADER=1 cargo test --test header` and commit it"
    );
}

#[test]
fn every_c_symbol_and_macro_is_prefixed() {
    let fresh = fresh_header();
    for line in fresh.lines() {
        let t = line.trim_start();
        // Preprocessor lines (`#define`, `#  define`, `#if defined(__cplusplus)`): every macro
        // defined is ETA_-prefixed; conditions name the compiler's macros.
        if let Some(directive) = t.strip_prefix('#') {
            if let Some(rest) = directive.trim_start().strip_prefix("define ") {
                assert!(
                    rest.starts_with("ETA_"),
                    "macro without ETA_ prefix: {line}"
                );
            }
            continue;
        }
        if t.starts_with("ETA_")
            || t.starts_with("eta_")
            || !t.contains('(')
            || t.starts_with('*')
            || t.starts_with("/*")
        {
            continue;
        }
        // A declaration line `type name(args...`: the name must start with eta_.
        let before_paren = &t[..t.find('(').unwrap()];
        let name = before_paren.rsplit([' ', '*']).next().unwrap_or("");
        assert!(
            name.starts_with("eta_") || name.is_empty(),
            "symbol without eta_ prefix: {line}"
        );
    }
}

#[test]
fn cmake_package_version_is_the_crate_version() {
    let path = manifest_dir().join("cmake/eta_hamming-config-version.cmake");
    let text = std::fs::read_to_string(&path).expect("cmake/eta_hamming-config-version.cmake");
    let want = format!("set(PACKAGE_VERSION \"{}\")", env!("CARGO_PKG_VERSION"));
    assert!(
        text.contains(&want),
        "{} must contain `{want}` (the version in Cargo.toml)",
        path.display()
    );
}
