"""The GIL is released while a kernel runs: another Python thread runs Python code during the
call.

The check is by order of events, not by timing. With ``sys.setswitchinterval`` raised far beyond
the test's length, the interpreter never takes the GIL away from a running thread; a thread only
lets go of it when it blocks or when an extension releases it. The main thread wakes a worker
(which blocks waiting for the GIL), then calls the kernel and only afterwards sets ``done``. If
the call keeps the GIL, the worker cannot run before the main thread blocks in ``join``, after
``done`` is set, so it sees ``done == True``; if the call releases it, the worker runs during the
call and sees ``done == False``. A kernel that returns before the worker's thread is scheduled
could only make a releasing implementation look like a holding one (never the reverse), so the
call is made long (tens of milliseconds or more) and retried with a four times longer one
before failing.
"""

import sys
import threading

import numpy as np
import pytest

import eta_hamming as eh


def _run_once(call):
    go = threading.Event()
    state = {"done": False, "seen": None}

    def worker():
        go.wait()
        state["seen"] = state["done"]

    t = threading.Thread(target=worker)
    t.start()
    old = sys.getswitchinterval()
    sys.setswitchinterval(1000.0)
    try:
        go.set()
        call()
        state["done"] = True
    finally:
        sys.setswitchinterval(old)
    t.join()
    return state["seen"]


def _big_topk(scale):
    rng = np.random.default_rng(0)
    m, b, length = 64, 256 * scale, 1 << 16
    q = rng.integers(0, 2**63, size=(b, 1), dtype=np.uint64)
    h = eh.history_from_fingerprints(rng.integers(0, 2**63, size=(length, 1), dtype=np.uint64))
    return lambda: eh.topk_shared(q, h, 16, m=m)


def _big_encode(scale):
    rng = np.random.default_rng(1)
    h = eh.Hasher(256, 256, seed=1)
    emb = rng.standard_normal((20000 * scale, 256)).astype(np.float32)
    out = np.empty((emb.shape[0], h.lanes), np.uint64)
    return lambda: h.encode(emb, out=out)


@pytest.mark.parametrize("make", [_big_topk, _big_encode], ids=["topk_shared", "encode"])
def test_gil_released_during_kernel(make):
    seen = []
    for scale in (1, 4):
        call = make(scale)
        seen.append(_run_once(call))
        if seen[-1] is False:
            break
    assert seen[-1] is False, f"the worker thread never ran during the call: {seen}"


def test_two_threads_in_kernels_at_once_agree():
    """Two Python threads scanning at once get the same results as one after the other."""
    rng = np.random.default_rng(2)
    q = rng.integers(0, 2**63, size=(64, 2), dtype=np.uint64)
    h = eh.history_from_fingerprints(rng.integers(0, 2**63, size=(5000, 2), dtype=np.uint64))
    want = eh.topk_shared(q, h, 10).indices
    results = [None, None]

    def work(i):
        for _ in range(20):
            results[i] = eh.topk_shared(q, h, 10).indices

    threads = [threading.Thread(target=work, args=(i,)) for i in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    for r in results:
        np.testing.assert_array_equal(r, want)
