//! The checked-in C header must equal a fresh cbindgen run (made by build.rs into OUT_DIR).
//! When this fails, run `ETA_HAMMING_WRITE_HEADER=1 cargo build` and commit include/eta_hamming.h.

#[test]
fn checked_in_header_matches_a_fresh_cbindgen_run() {
    let fresh = include_str!(concat!(env!("OUT_DIR"), "/eta_hamming.h"));
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/include/eta_hamming.h");
    let checked_in = std::fs::read_to_string(path).expect("include/eta_hamming.h exists");
    assert!(
        checked_in == fresh,
        "include/eta_hamming.h is stale: run `ETA_HAMMING_WRITE_HEADER=1 cargo build` and commit it"
    );
}

#[test]
fn every_c_symbol_and_macro_is_prefixed() {
    let fresh = include_str!(concat!(env!("OUT_DIR"), "/eta_hamming.h"));
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
