#!/usr/bin/env python3
"""Side-by-side comparison, in one process and on one thread, of eta-hamming (through its C ABI,
with ctypes) against FAISS and NumKong (Hamming scan + top-K) and against numpy and FAISS's
IndexLSH (SimHash encoding).

    cargo rustc --release --lib --crate-type cdylib   # the shared library
    target/bench-venv/bin/python benches/compare.py [--quick] [--json FILE] [--lib PATH]

For a fair BLAS figure (numpy's matmul, FAISS's IndexLSH) run it with OpenBLAS left to detect
the CPU: `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE target/bench-venv/bin/python ...`.

What is measured (each cell: best of several timed samples, see bench_util.measure):
- Scan + top-K over one shared history (B queries, L items, m bits, K nearest) and over per-query
  histories (B = 256, each query its own L items). Throughput is fingerprints compared per second,
  B * L / time. Ours runs each instruction set it has (forced with eta_isa_force_name);
  competitors:
  * FAISS IndexBinaryFlat.search, heap mode (use_heap = True) and counting mode (use_heap = False);
    per-query histories: one prebuilt IndexBinaryFlat per query, searched once per query.
  * NumKong hammings_packed (history packed once with hammings_pack, as an index would be) and a
    numpy top-K: argpartition, then a sort of the K by (distance, index); per-query histories:
    one call per query.
  * numpy, per-query histories only: batched XOR + np.bitwise_count + argpartition.
  Every competitor's result is checked before it is timed: its distances must equal ours
  exactly, and each returned index must really be at the distance reported. Indices may differ
  from ours only among items tied at the K-th distance (the contract breaks ties by smaller
  index; FAISS's heap and argpartition do not); the share of identical indices is reported.
- SimHash encoding of n embeddings (n x d float32) to m bits with one projection P (d x m):
  numpy (matmul, > 0, packbits(bitorder="little")) and FAISS IndexLSH with its rotation matrix
  set to P^T (so it computes the same projections), against ours. Their codes may differ from
  ours only where a projection is within float rounding of 0 (BLAS sums in another order than
  the contract's FMA chain; FAISS also maps exactly 0 to 1); the share of identical bits is
  reported. Throughput is embeddings per second.

Bit order: our fingerprints are little-endian lanes whose bit j is bit j % 8 of byte j / 8, so
`fps.view(np.uint8)` is exactly the byte code FAISS and NumKong take (and what
np.packbits(..., bitorder="little") writes).

Data are uniformly random fingerprints (scan) and Gaussian embeddings and projection (encode),
from fixed seeds. Output: Markdown on stdout, everything as JSON with --json.
"""

import argparse
import datetime
import json
import os
import platform
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_util import (cpu_model, env_warning, loaded_openblas, md_table, measure,  # noqa: E402
                        single_thread_env)

single_thread_env()

import numpy as np  # noqa: E402

from eta_ctypes import Eta, lane_dtype, lanes  # noqa: E402

faiss = nk = None  # imported in main(), after the command line is read


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="a small subset of the shapes")
    p.add_argument("--json", metavar="FILE", help="write every figure and check as JSON")
    p.add_argument("--lib", metavar="PATH", help="libeta_hamming.so (default: cargo's target)")
    p.add_argument("--reps", type=int, default=5, help="timed samples per cell (default 5)")
    p.add_argument("--min-sample-ms", type=float, default=20.0,
                   help="a sample repeats the call for at least this long (default 20)")
    p.add_argument("--encode-n", type=int, default=100_000, help="embeddings to hash")
    p.add_argument("--encode-scalar-n", type=int, default=10_000,
                   help="embeddings for our scalar encoder, hundreds of times slower (default 10000)")
    p.add_argument("--no-faiss-blas-fix", action="store_true",
                   help="leave FAISS's bundled OpenBLAS to its own CPU detection (see below)")
    p.add_argument("--shapes", action="append", default=[], metavar="m=64,L=131072,B=1,K=32",
                   help="scan rows only: keep the shapes matching every given field (repeatable; "
                        "a shape matching any one filter is kept)")
    p.add_argument("--skip", action="append", default=[], choices=["shared", "batch", "encode"],
                   help="skip a section (repeatable)")
    return p.parse_args()


def import_competitors(no_fix):
    """Imports FAISS and NumKong. FAISS's wheel bundles an older OpenBLAS (0.3.15) that may not
    know a new CPU and fall back to an old kernel set (on Zen 5 it picks 'Barcelona', SSE only).
    Unless --no-faiss-blas-fix, and unless the user set OPENBLAS_CORETYPE, it is told the core
    numpy's newer OpenBLAS detected, so both BLAS run comparable kernels. Both are reported."""
    global faiss, nk
    numpy_core = next((b["core"] for b in loaded_openblas() if "scipy" in b["library"]), None)
    fixed = None
    if not no_fix and numpy_core and not os.environ.get("OPENBLAS_CORETYPE"):
        os.environ["OPENBLAS_CORETYPE"] = fixed = numpy_core
    import faiss as _faiss
    if fixed:
        del os.environ["OPENBLAS_CORETYPE"]
    import numkong as _nk
    faiss, nk = _faiss, _nk
    faiss.omp_set_num_threads(1)
    return fixed


# ---------------------------------------------------------------------------------------------
# data


def random_fingerprints(rng, shape, m):
    """Uniform fingerprints of m bits in the contract's storage: shape + (lanes,)."""
    dt, w = lane_dtype(m), lanes(m)
    bits = dt.itemsize * 8
    x = rng.integers(0, np.iinfo(dt).max, size=shape + (w,), dtype=dt, endpoint=True)
    if m < w * bits:  # zero the padding bits of the last lane
        x[..., -1] &= dt.type((1 << (m - (w - 1) * bits)) - 1)
    return x


def as_bytes(fps):
    """The byte codes FAISS and NumKong take: (..., lanes) lanes -> (..., bytes) uint8."""
    return np.ascontiguousarray(fps).view(np.uint8)


# ---------------------------------------------------------------------------------------------
# competitors' top-K


def topk_rows(d, k):
    """Top-k of each row of a distance matrix, sorted by (distance, index): argpartition, then a
    lexicographic sort of the k kept. Ties at the k-th distance are resolved by argpartition,
    which need not pick the smallest indices."""
    part = np.argpartition(d, k - 1, axis=1)[:, :k]
    dist = np.take_along_axis(d, part, axis=1)
    order = np.lexsort((part, dist), axis=-1)
    return np.take_along_axis(part, order, axis=1), np.take_along_axis(dist, order, axis=1)


def numkong_topk(qb, packed, k, l):
    """NumKong distances of the queries to a packed history, in row blocks of about 1 MiB of
    uint32 distances (stays in cache), each block's top-K by topk_rows."""
    rows = max(1, (1 << 18) // l)
    idx, dist = [], []
    for r0 in range(0, qb.shape[0], rows):
        d = np.asarray(nk.hammings_packed(qb[r0:r0 + rows], packed))
        i, dd = topk_rows(d, k)
        idx.append(i)
        dist.append(dd)
    return np.concatenate(idx), np.concatenate(dist)


def numpy_batch_topk(q, h3, k):
    """Per-query histories in numpy: XOR + np.bitwise_count over (B, L, lanes), summed over the
    lanes, then topk_rows; in blocks of queries of about 4 MiB of fingerprints."""
    b, l, w = h3.shape
    rows = max(1, (1 << 22) // (l * w * h3.itemsize))
    idx, dist = [], []
    for r0 in range(0, b, rows):
        c = np.bitwise_count(np.bitwise_xor(h3[r0:r0 + rows], q[r0:r0 + rows, None, :]))
        d = c.sum(axis=2, dtype=np.uint16) if w > 1 else c[..., 0]
        i, dd = topk_rows(d, k)
        idx.append(i)
        dist.append(dd)
    return np.concatenate(idx), np.concatenate(dist)


# ---------------------------------------------------------------------------------------------
# verification


def verify(idx, dist, ref_idx, ref_dist, q, hist_items):
    """Checks a competitor's top-K against ours. `hist_items(b)` gives query b's history as
    (L, lanes) fingerprints. Returns a dict: `dist_equal` (every distance equals ours), `idx_valid`
    (every returned index is at the distance reported), `idx_same` (share of slots with our
    index; below 1 only through ties at the K-th distance)."""
    idx = np.asarray(idx, dtype=np.int64)
    dist = np.asarray(dist, dtype=np.int64)
    dist_equal = bool(np.array_equal(dist, ref_dist.astype(np.int64)))
    valid = True
    for b in range(q.shape[0]):
        h = hist_items(b)
        if idx[b].min() < 0 or idx[b].max() >= h.shape[0]:
            valid = False
            break
        true = np.bitwise_count(np.bitwise_xor(h[idx[b]], q[b])).sum(axis=-1, dtype=np.int64)
        if not np.array_equal(true, dist[b]):
            valid = False
            break
    same = float(np.mean(idx == ref_idx.astype(np.int64)))
    return {"dist_equal": dist_equal, "idx_valid": valid, "idx_same": same,
            "ok": dist_equal and valid}


# ---------------------------------------------------------------------------------------------
# scans


def scan_shapes(quick):
    if quick:
        return [(m, l, b, k) for m in (64, 256) for l in (1024, 16384) for b in (1, 256)
                for k in (32,)]
    return [(m, l, b, k) for m in (32, 64, 128, 256, 512) for l in (1024, 16384, 131072)
            for b in (1, 256) for k in (32, 128)]


def shape_filter(filters):
    """The --shapes filters as a predicate over (m, L, B, K); no filter keeps every shape."""
    parsed = [dict((kv.split("=")[0].strip(), int(kv.split("=")[1])) for kv in f.split(","))
              for f in filters]
    return lambda m, l, b, k: not parsed or any(
        all({"m": m, "L": l, "B": b, "K": k}[n] == v for n, v in f.items()) for f in parsed)


def batch_shapes(quick):
    if quick:
        return [(m, 1024, 256, 32) for m in (64, 256)]
    return [(m, l, 256, k) for m in (32, 64, 128, 256, 512) for l in (1024, 16384)
            for k in (32, 128)]


def time_ours(eta, isas, make_call, ref, opts):
    """Times our call under every instruction set; checks each gives the reference result."""
    out = {}
    for isa in isas:
        eta.force_isa(isa)
        call, idx, dist = make_call()
        call()
        if not (np.array_equal(idx, ref[0]) and np.array_equal(dist, ref[1])):
            raise SystemExit(f"BUG: {isa} result differs from the detected ISA's")
        best, med = measure(call, opts.reps, opts.min_sample_ms / 1e3)
        out[isa] = {"s": best, "median_s": med}
    eta.reset_isa()
    return out


def run_shared(eta, isas, opts, failures):
    rows = []
    keep = shape_filter(opts.shapes)
    for (m, l, b, k) in filter(lambda s: keep(*s), scan_shapes(opts.quick)):
        rng = np.random.default_rng([m, l, b, k])
        h = random_fingerprints(rng, (l,), m)
        q = random_fingerprints(rng, (b,), m)
        hist = eta.history_from_fingerprints(h, m)
        eta.reset_isa()
        ref = eta.topk_shared(q, hist, l, m, k)
        ours = time_ours(eta, isas, lambda: eta.topk_shared_call(q, hist, l, m, k), ref, opts)

        hb, qb = as_bytes(h), as_bytes(q)
        comp, checks = {}, {}
        index = faiss.IndexBinaryFlat(hb.shape[1] * 8)
        index.add(hb)
        for name, heap in (("faiss_heap", True), ("faiss_count", False)):
            index.use_heap = heap
            d_, i_ = index.search(qb, k)
            checks[name] = verify(i_, d_, ref[0], ref[1], q, lambda _b: h)
            best, med = measure(lambda: index.search(qb, k), opts.reps, opts.min_sample_ms / 1e3)
            comp[name] = {"s": best, "median_s": med}
        packed = nk.hammings_pack(hb, dtype="uint1")
        i_, d_ = numkong_topk(qb, packed, k, l)
        checks["numkong"] = verify(i_, d_, ref[0], ref[1], q, lambda _b: h)
        best, med = measure(lambda: numkong_topk(qb, packed, k, l), opts.reps,
                            opts.min_sample_ms / 1e3)
        comp["numkong"] = {"s": best, "median_s": med}
        del index, packed
        rows.append(record("shared", m, l, b, k, ours, comp, checks, failures))
        print_progress(rows[-1])
    return rows


def run_batch(eta, isas, opts, failures):
    rows = []
    keep = shape_filter(opts.shapes)
    for (m, l, b, k) in filter(lambda s: keep(*s), batch_shapes(opts.quick)):
        rng = np.random.default_rng([m, l, b, k, 1])
        h3 = random_fingerprints(rng, (b, l), m)        # (B, L, lanes): history b's items
        q = random_fingerprints(rng, (b,), m)
        hists = np.ascontiguousarray(h3.transpose(0, 2, 1))  # (B, lanes, L): our layout
        lens = np.full(b, l, dtype=np.uint32)
        eta.reset_isa()
        ref = eta.topk_batch(q, hists, lens, l, m, k)
        ours = time_ours(eta, isas, lambda: eta.topk_batch_call(q, hists, lens, l, m, k), ref,
                         opts)

        hb3, qb = as_bytes(h3), as_bytes(q)
        comp, checks = {}, {}
        indexes = []
        for j in range(b):
            ix = faiss.IndexBinaryFlat(hb3.shape[2] * 8)
            ix.add(hb3[j])
            indexes.append(ix)

        def faiss_per_query():
            res = [ix.search(qb[j:j + 1], k) for j, ix in enumerate(indexes)]
            return (np.concatenate([r[0] for r in res]), np.concatenate([r[1] for r in res]))

        for name, heap in (("faiss_heap", True), ("faiss_count", False)):
            for ix in indexes:
                ix.use_heap = heap
            d_, i_ = faiss_per_query()
            checks[name] = verify(i_, d_, ref[0], ref[1], q, lambda j: h3[j])
            best, med = measure(faiss_per_query, opts.reps, opts.min_sample_ms / 1e3)
            comp[name] = {"s": best, "median_s": med}
        del indexes

        packs = [nk.hammings_pack(hb3[j], dtype="uint1") for j in range(b)]

        def numkong_per_query():
            res = [numkong_topk(qb[j:j + 1], p, k, l) for j, p in enumerate(packs)]
            return (np.concatenate([r[0] for r in res]), np.concatenate([r[1] for r in res]))

        i_, d_ = numkong_per_query()
        checks["numkong"] = verify(i_, d_, ref[0], ref[1], q, lambda j: h3[j])
        best, med = measure(numkong_per_query, opts.reps, opts.min_sample_ms / 1e3)
        comp["numkong"] = {"s": best, "median_s": med}
        del packs

        i_, d_ = numpy_batch_topk(q, h3, k)
        checks["numpy"] = verify(i_, d_, ref[0], ref[1], q, lambda j: h3[j])
        best, med = measure(lambda: numpy_batch_topk(q, h3, k), opts.reps,
                            opts.min_sample_ms / 1e3)
        comp["numpy"] = {"s": best, "median_s": med}
        rows.append(record("batch", m, l, b, k, ours, comp, checks, failures))
        print_progress(rows[-1])
    return rows


def record(kind, m, l, b, k, ours, comp, checks, failures):
    n = b * l
    for v in list(ours.values()) + list(comp.values()):
        v["gfps"] = n / v["s"] / 1e9
    for name, c in checks.items():
        if not c["ok"]:
            failures.append(f"{kind} m={m} L={l} B={b} K={k}: {name} disagrees with ours: {c}")
    return {"kind": kind, "m": m, "L": l, "B": b, "K": k, "ours": ours, "competitors": comp,
            "checks": checks}


def print_progress(r):
    best = max(r["competitors"].items(), key=lambda kv: kv[1]["gfps"])
    ours = max(v["gfps"] for v in r["ours"].values())
    print(f"  {r['kind']} m={r['m']} L={r['L']} B={r['B']} K={r['K']}: ours {ours:.2f} G/s, "
          f"best competitor {best[0]} {best[1]['gfps']:.2f} G/s", file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------
# encode


def encode_shapes(quick):
    if quick:
        return [(128, m) for m in (64, 128)]
    return [(d, m) for d in (64, 128, 256) for m in (4, 8, 16, 32, 64, 128, 256)]


def differing_bits(ours, codes):
    """(bits that differ, bits in all) between our fingerprints and byte codes of the same
    width."""
    a = as_bytes(ours).reshape(ours.shape[0], -1)
    return int(np.bitwise_count(np.bitwise_xor(a, codes)).sum()), a.size * 8


def run_encode(eta, isas, opts):
    rows = []
    n = opts.encode_n if not opts.quick else min(opts.encode_n, 20_000)
    for (d, m) in encode_shapes(opts.quick):
        rng = np.random.default_rng([d, m, 2])
        x = rng.standard_normal((n, d), dtype=np.float32)
        p = rng.standard_normal((d, m), dtype=np.float32)
        hasher = eta.hasher(proj=p)
        eta.reset_isa()
        ref = hasher.encode(x)
        ours = {}
        for isa in isas:
            eta.force_isa(isa)
            rows_isa = min(n, opts.encode_scalar_n) if isa == "scalar" else n
            call, out = hasher.encode_call(x[:rows_isa])
            call()
            if not np.array_equal(out, ref[:rows_isa]):
                raise SystemExit(f"BUG: {isa} encode differs from the detected ISA's")
            best, med = measure(call, opts.reps, opts.min_sample_ms / 1e3, max_total_s=10)
            ours[isa] = {"s": best, "median_s": med, "n": rows_isa, "memb_s": rows_isa / best / 1e6}
        eta.reset_isa()

        def numpy_encode():
            return np.packbits(np.matmul(x, p) > 0, axis=1, bitorder="little")

        lsh = faiss.IndexLSH(d, m, True, False)  # rotate_data, no trained thresholds
        faiss.copy_array_to_vector(np.ascontiguousarray(p.T).ravel(), lsh.rrot.A)
        lsh.rrot.is_trained = True
        lsh.is_trained = True

        comp = {}
        for name, fn in (("numpy", numpy_encode), ("faiss_lsh", lambda: lsh.sa_encode(x))):
            codes = fn()
            best, med = measure(fn, opts.reps, opts.min_sample_ms / 1e3, max_total_s=10)
            diff, total = differing_bits(ref, codes)
            comp[name] = {"s": best, "median_s": med, "n": n, "memb_s": n / best / 1e6,
                          "differing_bits": diff, "bits": total, "same_bits": 1 - diff / total}
        rows.append({"kind": "encode", "n": n, "d": d, "m": m, "ours": ours, "competitors": comp})
        print(f"  encode d={d} m={m}: ours {max(v['memb_s'] for v in ours.values()):.2f} M/s, "
              f"numpy {comp['numpy']['memb_s']:.2f}, faiss {comp['faiss_lsh']['memb_s']:.2f}",
              file=sys.stderr, flush=True)
    return rows


# ---------------------------------------------------------------------------------------------
# report


def scan_table(rows, isas, comp_names, detected):
    header = ["m", "L", "B", "K"] + [f"ours {i}" for i in isas] + comp_names + \
        ["best competitor", f"ours ({detected}) / best"]
    out = []
    for r in rows:
        c = r["competitors"]
        best = max(comp_names, key=lambda nme: c[nme]["gfps"])
        cells = [r["m"], r["L"], r["B"], r["K"]]
        cells += [f"{r['ours'][i]['gfps']:.2f}" for i in isas]
        cells += [f"{c[nme]['gfps']:.2f}" + ("" if r["checks"][nme]["ok"] else " ✗")
                  for nme in comp_names]
        cells += [best, f"{r['ours'][detected]['gfps'] / c[best]['gfps']:.2f}x"]
        out.append(cells)
    return md_table(header, out)


def encode_table(rows, isas, detected):
    header = ["d", "m"] + [f"ours {i}" for i in isas] + \
        ["numpy", "FAISS IndexLSH", f"ours ({detected}) / best",
         "bits differing: numpy", "FAISS"]
    out = []
    for r in rows:
        c = r["competitors"]
        best = max(c.values(), key=lambda v: v["memb_s"])
        out.append([r["d"], r["m"]] + [f"{r['ours'][i]['memb_s']:.2f}" for i in isas]
                   + [f"{c['numpy']['memb_s']:.2f}", f"{c['faiss_lsh']['memb_s']:.2f}",
                      f"{r['ours'][detected]['memb_s'] / best['memb_s']:.2f}x",
                      f"{c['numpy']['differing_bits']} of {c['numpy']['bits']:,}",
                      f"{c['faiss_lsh']['differing_bits']} of {c['faiss_lsh']['bits']:,}"])
    return md_table(header, out)


def describe(eta, fixed_core):
    return {
        "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu_model(),
        "logical_cpus": os.cpu_count(),
        "load_average": os.getloadavg(),
        "python": platform.python_version(),
        "eta_hamming": eta.version(),
        "eta_library": str(eta.path),
        "eta_isa_detected": eta.isa_detected(),
        "eta_isas": eta.available_isas(),
        "numpy": np.__version__,
        "faiss": faiss.__version__,
        "numkong": getattr(nk, "__version__", "?"),
        "numkong_capabilities": [c for c, on in nk.get_capabilities().items() if on],
        "openblas": loaded_openblas(),
        "faiss_openblas_core_set_to": fixed_core,
        "env_OPENBLAS_CORETYPE": os.environ.get("OPENBLAS_CORETYPE"),
        "env_OPENBLAS_L2_SIZE": os.environ.get("OPENBLAS_L2_SIZE"),
        "threads": 1,
    }


def main():
    opts = parse_args()
    fixed = import_competitors(opts.no_faiss_blas_fix)
    eta = Eta(opts.lib)
    isas = [i for i in eta.available_isas() if i != "neon" or platform.machine() == "aarch64"]
    detected = eta.isa_detected()
    meta = describe(eta, fixed)

    print("# eta-hamming vs FAISS, NumKong and numpy (one thread)\n")
    print(f"- date: {meta['date_utc']}; CPU: {meta['cpu']}, {meta['logical_cpus']} logical CPUs; "
          f"load average at start: {', '.join(f'{x:.2f}' for x in meta['load_average'])}")
    print(f"- eta-hamming {meta['eta_hamming']} ({meta['eta_library']}); detected ISA: "
          f"{detected}; measured: {', '.join(isas)}")
    print(f"- Python {meta['python']}, numpy {meta['numpy']}, faiss-cpu {meta['faiss']}, "
          f"numkong {meta['numkong']} (capabilities: {', '.join(meta['numkong_capabilities'])})")
    for b in meta["openblas"]:
        print(f"- OpenBLAS `{b['library']}`: core {b['core']}, {b['threads']} thread(s); "
              f"`{b['config']}`")
    if fixed:
        print(f"- FAISS's OpenBLAS was given OPENBLAS_CORETYPE={fixed} (numpy's detected core); "
              "--no-faiss-blas-fix leaves it to its own detection")
    warn = env_warning()
    if warn:
        print(f"- {warn}")
    print("- each cell: best of the timed samples; one thread everywhere "
          "(OMP/OPENBLAS/MKL_NUM_THREADS=1, faiss.omp_set_num_threads(1))")

    failures = []
    results = {"meta": meta, "shared": [], "batch": [], "encode": []}
    if "shared" not in opts.skip:
        results["shared"] = run_shared(eta, isas, opts, failures)
        print("\n## Scan + top-K, one shared history (G fingerprints compared / s)\n")
        print("FAISS IndexBinaryFlat.search in heap and counting mode; NumKong hammings_packed + "
              "numpy argpartition top-K. ✗: result disagrees with ours.\n")
        print(scan_table(results["shared"], isas, ["faiss_heap", "faiss_count", "numkong"],
                         detected))
    if "batch" not in opts.skip:
        results["batch"] = run_batch(eta, isas, opts, failures)
        print("\n## Scan + top-K, per-query histories, B = 256 (G fingerprints compared / s)\n")
        print("FAISS: one IndexBinaryFlat per query, searched once per query; NumKong: one "
              "hammings_packed call per query; numpy: batched XOR + bitwise_count + "
              "argpartition.\n")
        print(scan_table(results["batch"], isas,
                         ["faiss_heap", "faiss_count", "numkong", "numpy"], detected))
    if "encode" not in opts.skip:
        results["encode"] = run_encode(eta, isas, opts)
        n = results["encode"][0]["n"] if results["encode"] else 0
        print(f"\n## SimHash encode, n = {n:,} embeddings (M embeddings / s)\n")
        print(f"Same projection everywhere; our scalar column hashes the first "
              f"{min(n, opts.encode_scalar_n):,} only. 'bits differing': code bits that differ "
              "from ours (projections within rounding of 0).\n")
        print(encode_table(results["encode"], isas, detected))

    all_checks = [c for sec in ("shared", "batch") for r in results[sec]
                  for c in r["checks"].values()]
    if all_checks:
        same = min(c["idx_same"] for c in all_checks)
        print(f"\nChecks: {len(all_checks) - len(failures)}/{len(all_checks)} competitor results "
              f"equal ours in every distance with valid indices; the lowest share of identical "
              f"indices was {100 * same:.2f}% (ties at the K-th distance).")
    results["failures"] = failures
    if opts.json:
        with open(opts.json, "w") as f:
            json.dump(results, f, indent=1)
    if failures:
        print("\nFAILURES:\n" + "\n".join(failures))
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
