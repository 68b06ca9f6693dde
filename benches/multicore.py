#!/usr/bin/env python3
"""Multi-core comparison, in one process: eta-hamming's eta_topk_shared_mt against FAISS
IndexBinaryFlat.search (heap and counting mode) with the same number of OpenMP threads, on one
shared history, at 1 thread and at N threads (default: every core).

    cargo rustc --release --lib --crate-type cdylib   # the shared library
    target/bench-venv/bin/python benches/multicore.py [--threads N] [--json FILE] [--quick]

The shapes are the multi-core targets: m = 64, K = 32, B = 256 queries over L = 131072 items
(FAISS with 16 OpenMP threads reaches about 5.4 G fingerprints/s there on an Emerald Rapids
Xeon), B = 256 over L = 16384, and one query over L = 131072 (our history split). Throughput is
fingerprints compared per second (B * L / time); each cell is the best of several samples
(bench_util.measure). Every FAISS result is checked against ours as in compare.py (distances
equal, indices at the distance reported).
"""

import argparse
import json
import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import compare  # noqa: E402  (pins BLAS/OpenMP to one thread at import; FAISS is set per call)
from bench_util import cpu_model, md_table, measure  # noqa: E402

import numpy as np  # noqa: E402

from eta_ctypes import Eta  # noqa: E402


def shapes(quick):
    full = [(64, 131072, 256, 32), (64, 16384, 256, 32), (64, 131072, 1, 32)]
    return full[1:] if quick else full


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--threads", type=int, default=os.cpu_count() or 1,
                   help="threads of the multi-threaded runs (default: every core)")
    p.add_argument("--quick", action="store_true", help="the two smaller shapes only")
    p.add_argument("--json", metavar="FILE", help="write every figure as JSON")
    p.add_argument("--lib", metavar="PATH", help="libeta_hamming.so (default: cargo's target)")
    p.add_argument("--reps", type=int, default=5, help="timed samples per cell (default 5)")
    opts = p.parse_args()

    compare.import_competitors(False)
    faiss = compare.faiss
    eta = Eta(opts.lib)
    threads = sorted({1, max(1, opts.threads)})
    cpu = cpu_model()
    print("# eta-hamming vs FAISS on several cores (one shared history)\n")
    print(f"- CPU: {cpu}, {os.cpu_count()} logical CPUs; "
          f"eta-hamming {eta.version()} ({eta.isa_detected()}); faiss-cpu {faiss.__version__}")
    print(f"- threads: {', '.join(map(str, threads))} (ours: eta_topk_shared_mt; FAISS: "
          "faiss.omp_set_num_threads); each cell: best of the timed samples\n")

    rows, out = [], []
    for (m, l, b, k) in shapes(opts.quick):
        rng = np.random.default_rng([m, l, b, k, 7])
        h = compare.random_fingerprints(rng, (l,), m)
        q = compare.random_fingerprints(rng, (b,), m)
        hist = eta.history_from_fingerprints(h, m)
        ref = eta.topk_shared(q, hist, l, m, k)
        hb, qb = compare.as_bytes(h), compare.as_bytes(q)
        index = faiss.IndexBinaryFlat(hb.shape[1] * 8)
        index.add(hb)
        for t in threads:
            call, idx, dist = eta.topk_shared_mt_call(q, hist, l, m, k, t)
            call()
            if not (np.array_equal(idx, ref[0]) and np.array_equal(dist, ref[1])):
                raise SystemExit(f"BUG: {t} threads gave another result than one")
            ours, _ = measure(call, opts.reps)
            faiss.omp_set_num_threads(t)
            comp = {}
            for name, heap in (("faiss_heap", True), ("faiss_count", False)):
                index.use_heap = heap
                d_, i_ = index.search(qb, k)
                check = compare.verify(i_, d_, ref[0], ref[1], q, lambda _b: h)
                if not check["ok"]:
                    raise SystemExit(f"{name} disagrees with ours: {check}")
                comp[name], _ = measure(lambda: index.search(qb, k), opts.reps)
            faiss.omp_set_num_threads(1)
            g = lambda s: b * l / s / 1e9  # noqa: E731
            best = min(comp, key=comp.get)
            rows.append([f"m={m} L={l} B={b} K={k}", t, f"{g(ours):.2f}",
                         f"{g(comp['faiss_heap']):.2f}", f"{g(comp['faiss_count']):.2f}",
                         f"{comp[best] / ours:.2f}x"])
            out.append({"m": m, "l": l, "b": b, "k": k, "threads": t, "ours_s": ours,
                        **{f"{n}_s": s for n, s in comp.items()}})
            print(f"  {rows[-1][0]} threads={t}: ours {rows[-1][2]} G/s, faiss best "
                  f"{g(comp[best]):.2f} G/s", file=sys.stderr)
        del index
    print(md_table(["shape", "threads", "ours (G fp/s)", "faiss_heap", "faiss_count",
                    "ours / best"], rows, "lrrrrr"))
    if opts.json:
        with open(opts.json, "w") as f:
            json.dump({"cpu": cpu, "threads": threads, "rows": out}, f, indent=1)


if __name__ == "__main__":
    main()
