"""Benchmarks of the Python package (README "Python", measured figures).

1. Call overhead: the small serving call (B = 1 query, a shared history of L = 1,024, K = 50)
   through eta_hamming with preallocated outputs, against the same call made from Rust
   (``examples/small_call.rs``, run with ``cargo run --release --example small_call`` when cargo
   is available; ``--rust-ns M32,M64`` passes figures measured elsewhere).
2. The training-batch scan (B = 1,024 per-query histories of L = 1,024, K = 50, m = 32 and 64)
   against the float-bit implementation ETA code uses today (fingerprints as float 0/1 tensors,
   ``abs(a - b).sum(-1)``, padding masked, ``topk``), in torch when installed, else numpy. Both run
   on the same bits; the distances are checked equal. A and B are interleaved round by round and
   the medians reported, because the machine may be shared.

Usage: ``python bench.py [--rounds 7] [--skip-rust]``.
"""

from __future__ import annotations

import argparse
import os
import platform
import re
import statistics
import subprocess
import time
import timeit

import numpy as np

import eta_hamming as eh

try:
    import torch
except ImportError:
    torch = None


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def rust_figures(skip):
    if skip:
        return {}
    here = os.path.dirname(os.path.abspath(__file__))
    built = os.path.join(here, "target", "release", "examples", "small_call")
    cmd = [built] if os.path.exists(built) else ["cargo", "run", "--quiet", "--release", "--example", "small_call"]
    try:
        out = subprocess.run(
            cmd,
            cwd=here, capture_output=True, text=True, timeout=1800, check=True,
        ).stdout
    except (OSError, subprocess.SubprocessError) as e:
        print(f"(Rust figures unavailable: {e})")
        return {}
    return {int(m): float(ns) for m, ns in re.findall(r"m=(\d+) .*ns_per_call=([\d.]+)", out)}


def overhead(rounds, rust):
    rng = np.random.default_rng(0)
    print("\n## Call overhead: B = 1, shared history L = 1,024, K = 50, preallocated outputs")
    print(f"{'m':>4} {'rust ns':>9} {'python ns':>10} {'native ns':>10} {'overhead ns':>12}")
    for m in (32, 64):
        dt, lanes = eh.layout(m)
        items = rng.integers(0, np.iinfo(dt).max, size=(1024, lanes), dtype=dt)
        h = eh.history_from_fingerprints(items)
        q = rng.integers(0, np.iinfo(dt).max, size=(1, lanes), dtype=dt)
        idx, dist = np.empty((1, 50), np.int64), np.empty((1, 50), np.uint16)
        out = (idx, dist)
        n = 20000
        py = timeit.repeat(lambda: eh.topk_shared(q, h, 50, out=out), number=n, repeat=rounds)
        nat = timeit.repeat(lambda: eh._native.topk_shared(q, h, 50, idx, dist, None, 1), number=n, repeat=rounds)
        py_ns, nat_ns = 1e9 * statistics.median(py) / n, 1e9 * statistics.median(nat) / n
        r = rust.get(m)
        rs = f"{r:9.0f}" if r else f"{'n/a':>9}"
        ov = f"{py_ns - r:12.0f}" if r else f"{'n/a':>12}"
        print(f"{m:>4} {rs} {py_ns:10.0f} {nat_ns:10.0f} {ov}")


def float_bits(fps, m):
    by = np.ascontiguousarray(fps).view(np.uint8)
    return np.unpackbits(by, axis=-1, bitorder="little")[..., :m].astype(np.float32)


def float_bit_scan(qb, hb, lens_t, k, m):
    if torch is not None:
        dist = (qb[:, None, :] - hb).abs().sum(-1)
        pad = torch.arange(hb.shape[1])[None, :] >= lens_t[:, None]
        dist = dist.masked_fill(pad, float(m + 1))
        return torch.topk(dist, k, dim=1, largest=False, sorted=True)
    dist = np.abs(qb[:, None, :] - hb).sum(-1)
    dist[np.arange(hb.shape[1])[None, :] >= lens_t[:, None]] = m + 1
    i = np.argpartition(dist, k - 1, axis=1)[:, :k]
    d = np.take_along_axis(dist, i, 1)
    o = np.argsort(d, axis=1, kind="stable")
    return np.take_along_axis(d, o, 1), np.take_along_axis(i, o, 1)


def training(rounds):
    b, length, k = 1024, 1024, 50
    rng = np.random.default_rng(1)
    cores = os.cpu_count()
    impl = f"torch {torch.__version__} ({torch.get_num_threads()} threads)" if torch else f"numpy {np.__version__}"
    print(f"\n## Training batch: B = {b} per-query histories of L = {length} (lens uniform in 0..L), K = {k}")
    print(f"float-bit implementation: {impl}; eta_hamming threads = 1 and 0 (all {cores} cores)")
    print(f"{'m':>4} {'eta 1 thr ms':>13} {'eta all ms':>11} {'float-bit ms':>13} {'speed-up':>9} {'eta MiB':>8} {'float-bit MiB':>14}")
    print("(MiB: eta = queries + histories + outputs; float-bit = bit tensors + the two [B, L, m] intermediates)")
    for m in (32, 64):
        dt, lanes = eh.layout(m)
        q = rng.integers(0, np.iinfo(dt).max, size=(b, lanes), dtype=dt)
        table = rng.integers(0, np.iinfo(dt).max, size=(100_000, lanes), dtype=dt)
        ids = rng.integers(0, 100_000, size=(b, length))
        lens = rng.integers(0, length + 1, size=b)
        hs = eh.histories_gather(table, ids, lens)
        out = (np.empty((b, k), np.int64), np.empty((b, k), np.uint16), np.empty(b, np.uint32))
        qb = float_bits(q, m)
        hb = float_bits(np.ascontiguousarray(hs.transpose(0, 2, 1)), m)
        lens_t = lens
        if torch is not None:
            qb, hb, lens_t = torch.from_numpy(qb), torch.from_numpy(hb), torch.from_numpy(lens)
        # Same distances on the valid slots.
        r = eh.topk_batch(q, hs, lens, k, out=out)
        fd, _ = float_bit_scan(qb, hb, lens_t, k, m)
        fd = fd.numpy() if torch is not None else fd
        valid = np.arange(k)[None, :] < r.filled[:, None].astype(np.int64)
        assert np.array_equal(r.distances[valid], fd[valid].astype(np.uint16)), "distances differ"
        t1, t0, tf = [], [], []
        for _ in range(rounds):
            s = time.perf_counter(); eh.topk_batch(q, hs, lens, k, out=out, threads=1); t1.append(time.perf_counter() - s)
            s = time.perf_counter(); eh.topk_batch(q, hs, lens, k, out=out, threads=0); t0.append(time.perf_counter() - s)
            s = time.perf_counter(); float_bit_scan(qb, hb, lens_t, k, m); tf.append(time.perf_counter() - s)
        e1, e0, f = (1e3 * statistics.median(x) for x in (t1, t0, tf))
        eta_mib = (q.nbytes + hs.base.nbytes + sum(x.nbytes for x in out)) / 2**20
        fb_mib = (qb.nbytes if torch is None else qb.numel() * 4) / 2**20 + 3 * b * length * m * 4 / 2**20
        print(f"{m:>4} {e1:13.1f} {e0:11.1f} {f:13.1f} {f / min(e1, e0):8.0f}x {eta_mib:8.1f} {fb_mib:14.0f}")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rounds", type=int, default=7)
    ap.add_argument("--skip-rust", action="store_true")
    ap.add_argument("--rust-ns", help="M32,M64 ns per call measured elsewhere")
    a = ap.parse_args()
    print(f"CPU: {cpu_model()}, {os.cpu_count()} cores; eta_hamming {eh.__version__}, isa {eh.isa()}; "
          f"Python {platform.python_version()}, numpy {np.__version__}")
    if a.rust_ns:
        r32, r64 = (float(x) for x in a.rust_ns.split(","))
        rust = {32: r32, 64: r64}
    else:
        rust = rust_figures(a.skip_rust)
    overhead(a.rounds, rust)
    training(a.rounds)


if __name__ == "__main__":
    main()
