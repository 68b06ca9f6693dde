#!/usr/bin/env bash
# Installs eta-hamming as a C library (README, "C and C++"): `cargo cinstall` (cargo-c) puts the
# header, the shared library (with its SONAME and version links), the static library, the
# pkg-config file and the CMake package config under the prefix; then the installed static
# archive is rewritten by scripts/localize-static.sh so that it exports only the eta_ symbols
# (skip that with ETA_HAMMING_LOCALIZE=0).
#
#   scripts/install.sh --prefix /opt/eta [--destdir DIR] [--libdir lib] [other cargo cinstall options]
#
# --libdir defaults to `lib` (cargo-c's own default on Debian is lib/<multiarch triple>).
# Needs cargo-c: cargo install cargo-c --locked --version 0.10.24
set -euo pipefail
cd "$(dirname "$0")/.."

prefix=/usr/local destdir="" libdir=lib pass=()
while (($#)); do
    case $1 in
    --prefix) prefix=$2; shift 2 ;;
    --prefix=*) prefix=${1#*=}; shift ;;
    --destdir) destdir=$2; shift 2 ;;
    --destdir=*) destdir=${1#*=}; shift ;;
    --libdir) libdir=$2; shift 2 ;;
    --libdir=*) libdir=${1#*=}; shift ;;
    *) pass+=("$1"); shift ;;
    esac
done
args=(--release --prefix "$prefix" --libdir "$libdir")
[[ -n $destdir ]] && args+=(--destdir "$destdir")

cargo cinstall "${args[@]}" "${pass[@]}"

[[ $libdir == /* ]] || libdir=$prefix/$libdir
archive=$destdir$libdir/libeta_hamming.a
if [[ ${ETA_HAMMING_LOCALIZE:-1} != 0 && -f $archive ]]; then
    bash scripts/localize-static.sh "$archive"
fi
