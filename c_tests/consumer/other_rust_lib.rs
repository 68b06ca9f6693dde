//! A second Rust static library, for the "two Rust static libraries in one binary" check of
//! scripts/check-install.sh: like any Rust staticlib it carries its own copy of the standard
//! library (about 2,400 global symbols, rust_eh_personality among them).

/// The sum 0 + 1 + ... + (n - 1), through a Vec and a caught panic path, so that the standard
/// library's allocator, unwinding and formatting machinery are linked in.
#[no_mangle]
pub extern "C" fn other_rust_sum(n: usize) -> usize {
    std::panic::catch_unwind(|| (0..n).collect::<Vec<_>>().iter().sum::<usize>()).unwrap_or(0)
}
