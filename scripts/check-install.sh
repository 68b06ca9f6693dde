#!/usr/bin/env bash
# The install check of .ci/run (README, "C and C++"): installs eta-hamming into a fresh prefix
# with scripts/install.sh (cargo-c), then checks
#   - the layout: headers (equal to include/eta_hamming.h and .hpp), static and shared library, the
#     version links, pkg-config file, CMake package;
#   - the shared library: a SONAME (readelf -d) whose link exists, and only eta_ symbols exported
#     (nm -D --defined-only); the static library: only eta_ symbols defined globally;
#   - c_tests/consumer built with CMake (find_package) and with pkg-config (Makefile), shared and
#     static, and run (from another directory), each checking its results against a brute force;
#     the shared builds' NEEDED entry is the SONAME, the static builds need no libeta_hamming;
#   - the static library linked with a second Rust static library (c_tests/consumer/
#     other_rust_lib.rs), plainly and under --whole-archive, and, as a control, the same
#     --whole-archive link with cargo-c's unprocessed archive failing.
# Needs cargo-c (cargo cinstall), cmake, pkg-config, a C++ compiler, GNU binutils.
#
#   scripts/check-install.sh [WORK_DIR]     (default: a fresh temporary directory, removed after)
set -euo pipefail
cd "$(dirname "$0")/.."

if [[ $# -gt 0 ]]; then
    work=$1
    rm -rf "$work"
    mkdir -p "$work"
else
    work=$(mktemp -d)
    trap 'rm -rf "$work"' EXIT
fi
work=$(cd "$work" && pwd)
prefix=$work/prefix
lib=$prefix/lib
fail() { echo "check-install: FAIL: $*" >&2; exit 1; }
say() { echo "check-install: $*"; }

bash scripts/install.sh --prefix "$prefix"

# -- layout ---------------------------------------------------------------------------------------
for f in include/eta_hamming.h include/eta_hamming.hpp lib/libeta_hamming.a lib/libeta_hamming.so \
    lib/pkgconfig/eta_hamming.pc share/cmake/eta_hamming/eta_hamming-config.cmake \
    share/cmake/eta_hamming/eta_hamming-config-version.cmake; do
    [[ -e $prefix/$f ]] || fail "the install made no $f"
done
cmp -s include/eta_hamming.h "$prefix/include/eta_hamming.h" ||
    fail "the installed header differs from include/eta_hamming.h"
cmp -s include/eta_hamming.hpp "$prefix/include/eta_hamming.hpp" ||
    fail "the installed C++ header differs from include/eta_hamming.hpp"
version=$(PKG_CONFIG_PATH=$lib/pkgconfig pkg-config --modversion eta_hamming)
crate_version=$(sed -n 's/^version = "\(.*\)"$/\1/p' Cargo.toml | head -1)
[[ $version == "$crate_version" ]] || fail "eta_hamming.pc says $version, Cargo.toml $crate_version"
say "installed $(cd "$prefix" && find . -type f -o -type l | sort | tr '\n' ' ')"

# -- the shared library: SONAME and exported symbols ------------------------------------------------
so=$(readlink -f "$lib/libeta_hamming.so")
soname=$(readelf -d "$so" | sed -n 's/.*(SONAME).*\[\(.*\)\]$/\1/p')
[[ -n $soname ]] || fail "$so has no SONAME"
[[ -e $lib/$soname ]] || fail "no $lib/$soname for the SONAME"
say "$(basename "$so"): SONAME $soname"
exported=$(nm -D --defined-only "$so" | awk '{ print $NF }')
others=$(grep -v '^eta_' <<<"$exported" || true)
[[ -z $others ]] || fail "the shared library exports non-eta_ symbols: $(head -5 <<<"$others" | tr '\n' ' ')"
n_eta=$(grep -c '^eta_' <<<"$exported")
((n_eta >= 30)) || fail "the shared library exports only $n_eta eta_ symbols"
say "the shared library exports $n_eta symbols, all eta_"

# -- the static library: only eta_ global definitions -----------------------------------------------
static_others=$(readelf -Ws "$lib/libeta_hamming.a" 2>/dev/null |
    awk '$7 != "UND" && ($5 == "GLOBAL" || $5 == "WEAK") && $8 !~ /^eta_/ { print $8 }')
[[ -z $static_others ]] || fail "the static library defines non-eta_ globals: $(head -5 <<<"$static_others" | tr '\n' ' ')"

# -- the consumer: CMake, shared and static --------------------------------------------------------
for mode in shared static; do
    b=$work/cmake-$mode
    static=OFF
    [[ $mode == static ]] && static=ON
    cmake -S c_tests/consumer -B "$b" -DCMAKE_PREFIX_PATH="$prefix" -DCMAKE_BUILD_TYPE=Release \
        -DETA_HAMMING_STATIC=$static >"$work/cmake-$mode.log" 2>&1 ||
        { cat "$work/cmake-$mode.log"; fail "cmake configure ($mode)"; }
    cmake --build "$b" >>"$work/cmake-$mode.log" 2>&1 ||
        { cat "$work/cmake-$mode.log"; fail "cmake build ($mode)"; }
done
needed() { readelf -d "$1" | sed -n 's/.*(NEEDED).*\[\(.*\)\]$/\1/p'; }
needed "$work/cmake-shared/consumer" | grep -qxF "$soname" ||
    fail "the CMake shared consumer's NEEDED is not $soname: $(needed "$work/cmake-shared/consumer" | tr '\n' ' ')"
! needed "$work/cmake-static/consumer" | grep -q eta_hamming ||
    fail "the CMake static consumer needs a shared libeta_hamming"

# -- the consumer: pkg-config, shared and static ---------------------------------------------------
mkdir -p "$work/pc"
make -s -C c_tests/consumer PREFIX="$prefix" OUT="$work/pc" all >"$work/pc.log" 2>&1 ||
    { cat "$work/pc.log"; fail "the pkg-config build"; }
needed "$work/pc/consumer-shared" | grep -qxF "$soname" || fail "the pkg-config shared consumer's NEEDED is not $soname"
! needed "$work/pc/consumer-static" | grep -q eta_hamming || fail "the pkg-config static consumer needs a shared libeta_hamming"

# Run each from another directory: the shared ones find the library through the SONAME + rpath.
for exe in cmake-shared/consumer cmake-static/consumer pc/consumer-shared pc/consumer-static; do
    (cd / && "$work/$exe") || fail "$exe failed"
done

# -- the C++ layer (eta_hamming.hpp) from the prefix: its test, with the pkg-config flags --------
# shellcheck disable=SC2046
c++ -std=c++17 -Wall -Wextra -Wpedantic -Werror $(PKG_CONFIG_PATH=$lib/pkgconfig pkg-config --cflags eta_hamming) \
    c_tests/test_hpp.cpp -o "$work/test_hpp" \
    $(PKG_CONFIG_PATH=$lib/pkgconfig pkg-config --libs eta_hamming) -Wl,-rpath,"$lib" >"$work/hpp.log" 2>&1 ||
    { cat "$work/hpp.log"; fail "c_tests/test_hpp.cpp against the installed eta_hamming.hpp"; }
(cd / && "$work/test_hpp") >"$work/hpp-run.log" 2>&1 || { cat "$work/hpp-run.log"; fail "test_hpp against the prefix"; }
say "the installed C++ layer: $(tail -1 "$work/hpp-run.log")"

# -- two Rust static libraries in one binary ----------------------------------------------------
rustc --edition 2021 -O --crate-type staticlib c_tests/consumer/other_rust_lib.rs \
    -o "$work/libother_rust.a"
native=$(PKG_CONFIG_PATH=$lib/pkgconfig pkg-config --static --libs-only-l eta_hamming | sed 's/-leta_hamming//')
two() { # ARCHIVE OUT [--whole-archive]
    local whole=() nowhole=()
    if [[ ${3:-} == --whole-archive ]]; then whole=(-Wl,--whole-archive); nowhole=(-Wl,--no-whole-archive); fi
    # shellcheck disable=SC2086
    c++ -std=c++17 -I"$prefix/include" c_tests/consumer/two_rust_libs.cpp "${whole[@]}" "$1" \
        "$work/libother_rust.a" "${nowhole[@]}" $native -pthread -o "$2"
}
two "$lib/libeta_hamming.a" "$work/two-plain" || fail "linking beside another Rust static library"
two "$lib/libeta_hamming.a" "$work/two-whole" --whole-archive >"$work/two-whole.log" 2>&1 ||
    { head -20 "$work/two-whole.log"; fail "linking beside another Rust static library under --whole-archive"; }
"$work/two-plain" && "$work/two-whole" || fail "a two-library binary failed"
# The control: cargo-c's archive as rustc made it must clash under --whole-archive.
raw=$(ls -t target/*/release/libeta_hamming.a 2>/dev/null | head -1)
[[ -n $raw ]] || fail "no unprocessed target/<triple>/release/libeta_hamming.a from cargo cinstall"
if two "$raw" "$work/two-raw" --whole-archive >"$work/two-raw.log" 2>&1; then
    fail "the control link with the unprocessed archive under --whole-archive did not fail"
fi
clashes=$(grep -c 'multiple definition' "$work/two-raw.log" || true)
((clashes > 0)) || { head -20 "$work/two-raw.log"; fail "the control link failed, but not with multiple definitions"; }
say "beside another Rust static library: the installed archive links (plain and --whole-archive); the unprocessed one gives $clashes multiple definitions under --whole-archive"
say "OK"
