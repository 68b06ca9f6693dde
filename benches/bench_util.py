"""Shared helpers of benches/compare.py and benches/quality.py: single-thread set-up, timing,
machine and BLAS description, Markdown tables.

Import this module before numpy: `single_thread_env()` must run before any BLAS library loads.
"""

import ctypes
import os
import platform
import statistics
import time


def single_thread_env():
    """Pins every threaded library we load (OpenMP, OpenBLAS, MKL) to one thread. Called before
    numpy, FAISS and NumKong are imported: they read these at load time."""
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"


def cpu_model():
    """The CPU's model name and x86 family/model numbers, from /proc/cpuinfo."""
    info = {}
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if ":" not in line:
                    if info:
                        break  # the first processor is enough
                    continue
                k, v = (s.strip() for s in line.split(":", 1))
                info.setdefault(k, v)
    except OSError:
        pass
    name = info.get("model name", platform.processor() or platform.machine())
    fam, mod = info.get("cpu family"), info.get("model")
    return f"{name} (family {fam}, model {mod})" if fam else name


def loaded_openblas():
    """Every OpenBLAS loaded in this process, with its runtime core (kernel set), build config
    and thread count, read through its own API (what threadpoolctl reports). numpy ships
    scipy-openblas (symbols `scipy_openblas_*64_`), FAISS's wheel its own OpenBLAS."""
    paths = set()
    try:
        with open("/proc/self/maps") as f:
            for line in f:
                p = line.split()[-1]
                if "openblas" in os.path.basename(p).lower() and ".so" in p:
                    paths.add(p)
    except OSError:
        return []
    out = []
    for p in sorted(paths):
        lib = ctypes.CDLL(p)
        for pre, suf in (("scipy_openblas_", "64_"), ("openblas_", "")):
            try:
                core = getattr(lib, f"{pre}get_corename{suf}")
                conf = getattr(lib, f"{pre}get_config{suf}")
                nth = getattr(lib, f"{pre}get_num_threads{suf}")
            except AttributeError:
                continue
            core.restype = conf.restype = ctypes.c_char_p
            nth.restype = ctypes.c_int
            out.append({"library": os.path.basename(p), "core": core().decode(),
                        "config": conf().decode().strip(), "threads": nth()})
            break
    return out


def measure(fn, reps=5, min_sample_s=0.02, max_total_s=20.0):
    """Times `fn()`: one warm-up call, then `reps` samples, each repeating the call enough times
    to last at least `min_sample_s` (so short calls are not all timer and call overhead).
    Returns (best, median) seconds per call. The best sample is the headline figure: on a
    shared machine it is the one least disturbed by other processes. `max_total_s` caps the
    samples of very slow calls (fewer samples, never fewer than one)."""
    t = time.perf_counter()
    fn()
    first = time.perf_counter() - t
    inner = max(1, int(min_sample_s / max(first, 1e-7)))
    reps = max(1, min(reps, int(max_total_s / max(first * inner, 1e-9))))
    samples = []
    for _ in range(reps):
        t = time.perf_counter()
        for _ in range(inner):
            fn()
        samples.append((time.perf_counter() - t) / inner)
    return min(samples), statistics.median(samples)


def measure_interleaved(fns, reps=7, min_sample_s=0.02):
    """Times several callables (a dict name -> fn) in alternation: each round takes one sample of
    each, so a burst of load on a shared machine hits all of them alike. Returns
    {name: (best, median)} seconds per call, as measure()."""
    inner = {}
    for name, fn in fns.items():
        t = time.perf_counter()
        fn()
        first = time.perf_counter() - t
        inner[name] = max(1, int(min_sample_s / max(first, 1e-7)))
    samples = {name: [] for name in fns}
    for _ in range(reps):
        for name, fn in fns.items():
            t = time.perf_counter()
            for _ in range(inner[name]):
                fn()
            samples[name].append((time.perf_counter() - t) / inner[name])
    return {name: (min(s), statistics.median(s)) for name, s in samples.items()}


def md_table(header, rows, align=None):
    """A Markdown table; `align` is a string of 'l'/'r' per column (default: first left)."""
    align = align or "l" + "r" * (len(header) - 1)
    lines = ["| " + " | ".join(header) + " |",
             "| " + " | ".join("---:" if a == "r" else "---" for a in align) + " |"]
    lines += ["| " + " | ".join(str(c) for c in r) + " |" for r in rows]
    return "\n".join(lines)


def env_warning():
    """A note when the environment overrides OpenBLAS's CPU detection (figures then do not
    reflect the BLAS kernel the CPU would get)."""
    over = [v for v in ("OPENBLAS_CORETYPE", "OPENBLAS_L2_SIZE") if os.environ.get(v)]
    if over:
        return ("note: " + ", ".join(f"{v}={os.environ[v]}" for v in over)
                + " is set; for a fair BLAS figure run with `env -u OPENBLAS_CORETYPE -u OPENBLAS_L2_SIZE`")
    return None
