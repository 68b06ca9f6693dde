#!/usr/bin/env bash
# Makes a Rust static library safe to link beside other Rust static libraries (README, "Two Rust
# static libraries in one binary"): one partial link of the whole archive into one object, keeping
# only what the eta_ entry points reach (--gc-sections), with section groups resolved
# (--force-group-allocation), then every global symbol but the eta_ ones made local. The Rust
# standard library, compiler-rt helpers, weak libm symbols and rust_eh_personality inside stop
# being visible to the final link, so they cannot clash with another Rust library's copies, even
# under --whole-archive. Linux/ELF with GNU binutils (ld, objcopy, ar, readelf).
#
#   scripts/localize-static.sh libeta_hamming.a [out.a]    (default: rewrite in place)
set -euo pipefail

in=${1:?usage: localize-static.sh IN.a [OUT.a]}
out=${2:-$in}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

# The entry points: the eta_ functions and data the archive defines.
readelf -Ws "$in" 2>/dev/null |
    awk '$7 != "UND" && $5 == "GLOBAL" && $8 ~ /^eta_/ { print $8 }' | sort -u >"$work/keep"
n=$(wc -l <"$work/keep")
((n > 0)) || { echo "localize-static: no eta_ symbols in $in" >&2; exit 1; }
roots=()
while read -r s; do roots+=(-u "$s"); done <"$work/keep"

ld -r --force-group-allocation --gc-sections "${roots[@]}" --whole-archive "$in" -o "$work/all.o"

# Symbols the partial link left as local undefined ones (weak references of std, e.g.
# pidfd_spawnp, whose users were collected): objcopy would make them global strong references.
readelf -Ws "$work/all.o" | awk '$5 == "LOCAL" && $7 == "UND" && $8 != "" { print $8 }' \
    | sort -u >"$work/weak"

# .llvmbc/.llvmcmd: the embedded bitcode of each input, concatenated by the partial link into
# something no LTO plugin can read (binutils' nm/ar load any plugin in bfd-plugins/).
# (objcopy fails, silently, on an empty --weaken-symbols file: pass it only when non-empty.)
weaken=()
[[ -s $work/weak ]] && weaken=(--weaken-symbols="$work/weak")
objcopy --remove-section=.llvmbc --remove-section=.llvmcmd \
    --keep-global-symbols="$work/keep" "${weaken[@]}" \
    "$work/all.o" "$work/eta_hamming.o"

# The result must define exactly the eta_ symbols, all of them.
readelf -Ws "$work/eta_hamming.o" |
    awk '$7 != "UND" && ($5 == "GLOBAL" || $5 == "WEAK") { print $8 }' | sort -u >"$work/defined"
if ! cmp -s "$work/keep" "$work/defined"; then
    echo "localize-static: the object defines other globals than the eta_ entry points:" >&2
    diff "$work/keep" "$work/defined" >&2 || true
    exit 1
fi

before=$(stat -c %s "$in")
rm -f "$work/out.a"
ar rcsD "$work/out.a" "$work/eta_hamming.o"
mv -f "$work/out.a" "$out"
echo "localize-static: $out defines only its $n eta_ symbols ($(stat -c %s "$out") bytes, was $(stat -c %s "$in"))" >&2
