#!/usr/bin/env python3
"""Interleaved A/B comparison of two criterion bench binaries (before/after a change).

On a shared, noisy machine a speed claim is a ratio of two builds measured side by side: this
runs binary A, then B, then A, ... for `--rounds` rounds over the same criterion filter, and
prints per benchmark id the median time of each round, the median over rounds, and B/A.

Build the two binaries first, e.g. for the commit before a change and for the change:

    git worktree add /tmp/before <commit> && (cd /tmp/before && cargo bench --no-run)
    cargo bench --no-run
    python3 benches/ab.py --a /tmp/before/target/release/deps/scan-<hash> \\
        --b target/release/deps/scan-<hash> --rounds 3 '^shared/m64/L16384/B256/K32/avx512$'

Each binary gets its own criterion output folder (CRITERION_HOME), so neither compares itself
with the other's saved estimates.
"""

import argparse
import os
import re
import statistics
import subprocess
import sys
import tempfile

UNITS = {"ps": 1e-3, "ns": 1.0, "µs": 1e3, "us": 1e3, "ms": 1e6, "s": 1e9}
TIME = re.compile(r"time:\s+\[\S+ \S+ (\S+) (\S+) \S+ \S+\]")


def run(binary, home, flt, extra):
    """Runs one criterion binary; returns {id: median ns}."""
    env = dict(os.environ, CRITERION_HOME=home)
    cmd = [binary, "--bench", "--noplot", *extra, flt]
    out = subprocess.run(cmd, env=env, capture_output=True, text=True, check=True).stdout
    result, last_id = {}, None
    for line in out.splitlines():
        m = TIME.search(line)
        if m:
            head = line[: m.start()].strip()
            ident = head if head else last_id
            result[ident] = float(m.group(1)) * UNITS[m.group(2)]
        elif line.strip() and not line.startswith(" "):
            last_id = line.strip()
    return result


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--a", required=True, help="criterion bench binary before the change")
    p.add_argument("--b", required=True, help="criterion bench binary after the change")
    p.add_argument("--rounds", type=int, default=3)
    p.add_argument("--measurement-time", default="3")
    p.add_argument("--warm-up-time", default="1")
    p.add_argument("filter", help="criterion filter (a regular expression over benchmark ids)")
    args = p.parse_args()
    extra = ["--measurement-time", args.measurement_time, "--warm-up-time", args.warm_up_time]
    times = {"A": {}, "B": {}}
    with tempfile.TemporaryDirectory() as ha, tempfile.TemporaryDirectory() as hb:
        for r in range(args.rounds):
            for name, binary, home in (("A", args.a, ha), ("B", args.b, hb)):
                for ident, t in run(binary, home, args.filter, extra).items():
                    times[name].setdefault(ident, []).append(t)
            print(f"round {r + 1}/{args.rounds} done", file=sys.stderr)
    ids = sorted(set(times["A"]) | set(times["B"]))
    fmt = lambda xs: " ".join(f"{x / 1e3:.2f}" for x in xs)
    print("| benchmark id | A medians (µs) | B medians (µs) | B / A |")
    print("| --- | --- | --- | ---: |")
    for ident in ids:
        a, b = times["A"].get(ident, []), times["B"].get(ident, [])
        ratio = statistics.median(b) / statistics.median(a) if a and b else float("nan")
        print(f"| {ident} | {fmt(a)} | {fmt(b)} | {ratio:.3f} |")


if __name__ == "__main__":
    main()
