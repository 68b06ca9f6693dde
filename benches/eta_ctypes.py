"""ctypes binding of the eta-hamming C ABI (include/eta_hamming.h), for benches/compare.py and
benches/quality.py.

Only the calls the two scripts need are bound. Arrays are numpy arrays of the lane type for `m`
(uint8 / uint16 / uint32 for m <= 8 / 16 / 32, else ceil(m / 64) uint64 words per fingerprint), so
`fps.view(np.uint8)` is the byte string FAISS and NumKong take (lanes are little-endian, bit j of a
fingerprint is bit j % 8 of byte j / 8: numpy.packbits(..., bitorder="little")).

The library is the cdylib `libeta_hamming.so` built by
`cargo rustc --release --lib --crate-type cdylib` (`cargo build` builds only the rlib); it is found with
`--lib`, or `$ETA_HAMMING_LIB`, or `$CARGO_TARGET_DIR/release`, or `target/release` next to this file.
"""

import ctypes
import os
from ctypes import POINTER, c_bool, c_char_p, c_float, c_size_t, c_uint32, c_uint64, c_void_p
from pathlib import Path

import numpy as np

ISAS = ("scalar", "avx2", "avx512", "neon", "avx512bw")
_ISA_VALUE = {name: i for i, name in enumerate(ISAS)}


def default_lib_path():
    """Where `cargo rustc --release --lib --crate-type cdylib` puts the shared library."""
    if os.environ.get("ETA_HAMMING_LIB"):
        return Path(os.environ["ETA_HAMMING_LIB"])
    target = os.environ.get("CARGO_TARGET_DIR")
    root = Path(target) if target else Path(__file__).resolve().parent.parent / "target"
    return root / "release" / "libeta_hamming.so"


class EtaError(RuntimeError):
    pass


def lane_dtype(m):
    """The numpy lane type of an m-bit fingerprint (the contract's storage)."""
    if m <= 8:
        return np.dtype(np.uint8)
    if m <= 16:
        return np.dtype(np.uint16)
    if m <= 32:
        return np.dtype(np.uint32)
    return np.dtype(np.uint64)


def lanes(m):
    """Lanes per fingerprint: 1 for m <= 32, else ceil(m / 64) uint64 words."""
    return 1 if m <= 32 else (m + 63) // 64


def _ptr(a):
    return a.ctypes.data_as(c_void_p)


class Eta:
    """The library, loaded once. Every failing call raises EtaError with the library's message."""

    def __init__(self, path=None):
        self.path = Path(path) if path else default_lib_path()
        if not self.path.exists():
            raise FileNotFoundError(
                f"{self.path} not found: run `cargo rustc --release --lib --crate-type cdylib` (or pass --lib)"
            )
        lib = ctypes.CDLL(str(self.path))
        self.lib = lib
        sz, vp, u32p = c_size_t, c_void_p, POINTER(c_uint32)
        sigs = {
            "eta_version": (c_char_p, []),
            "eta_status_message": (c_char_p, [c_uint32]),
            "eta_isa_name": (c_char_p, []),
            "eta_isa_detect": (c_uint32, []),
            "eta_isa_is_available": (c_bool, [c_uint32]),
            "eta_isa_force_name": (c_uint32, [c_char_p]),
            "eta_isa_reset": (None, []),
            "eta_hasher_new_from_projection": (
                c_uint32, [POINTER(c_float), sz, sz, POINTER(c_void_p)]),
            "eta_hasher_new_seeded": (c_uint32, [sz, sz, c_uint64, POINTER(c_void_p)]),
            "eta_hasher_free": (None, [vp]),
            "eta_hasher_projection": (c_uint32, [vp, POINTER(c_float)]),
            "eta_encode": (c_uint32, [vp, POINTER(c_float), sz, vp]),
            "eta_encode_history": (c_uint32, [vp, POINTER(c_float), sz, vp, sz]),
            "eta_topk_shared": (c_uint32, [vp, sz, vp, sz, sz, sz, sz, vp, vp, vp]),
            "eta_topk_shared_mt": (c_uint32, [vp, sz, vp, sz, sz, sz, sz, vp, vp, vp, sz]),
            "eta_topk_batch": (c_uint32, [vp, sz, vp, sz, sz, u32p, sz, sz, vp, vp, vp]),
            "eta_distances_shared": (c_uint32, [vp, sz, vp, sz, sz, sz, vp]),
            "eta_history_from_fingerprints": (c_uint32, [vp, sz, sz, vp, sz]),
        }
        for name, (res, args) in sigs.items():
            f = getattr(lib, name)
            f.restype, f.argtypes = res, args

    # -- status, version, instruction sets ---------------------------------------------------

    def _check(self, status, what):
        if status != 0:
            msg = self.lib.eta_status_message(status).decode()
            raise EtaError(f"{what}: status {status}: {msg}")

    def version(self):
        return self.lib.eta_version().decode()

    def isa_name(self):
        return self.lib.eta_isa_name().decode()

    def isa_detected(self):
        return ISAS[self.lib.eta_isa_detect()]

    def isa_available(self, name):
        return bool(self.lib.eta_isa_is_available(_ISA_VALUE[name]))

    def available_isas(self):
        return [n for n in ISAS if self.isa_available(n)]

    def force_isa(self, name):
        """Makes every later call run `name`'s kernels (process-wide)."""
        self._check(self.lib.eta_isa_force_name(name.encode()), f"force {name}")
        assert self.isa_name() == name

    def reset_isa(self):
        self.lib.eta_isa_reset()

    # -- SimHash ---------------------------------------------------------------------------

    def hasher(self, proj=None, d=None, m=None, seed=None):
        """A Hasher from a caller projection (d x m float32, row-major) or from a seed."""
        return Hasher(self, proj=proj, d=d, m=m, seed=seed)

    # -- histories and scans -----------------------------------------------------------------

    def history_from_fingerprints(self, fps, m, stride=None):
        """(L x lanes) fingerprints -> structure-of-arrays history (lanes x stride)."""
        n = fps.shape[0]
        stride = n if stride is None else stride
        out = np.zeros((lanes(m), stride), dtype=lane_dtype(m))
        fps = np.ascontiguousarray(fps)
        self._check(
            self.lib.eta_history_from_fingerprints(_ptr(fps), n, m, _ptr(out), stride),
            "history_from_fingerprints")
        return out

    def topk_shared_call(self, queries, history, l, m, k):
        """A zero-argument callable running eta_topk_shared into preallocated outputs (so a
        timing loop measures the call, not numpy allocations); returns (call, idx, dist)."""
        b = queries.shape[0]
        stride = history.shape[-1]
        idx = np.empty((b, k), dtype=np.uint32)
        dist = np.empty((b, k), dtype=np.uint16)
        args = (_ptr(queries), b, _ptr(history), l, stride, m, k, _ptr(idx), _ptr(dist), None)
        f, check = self.lib.eta_topk_shared, self._check

        def call():
            check(f(*args), "topk_shared")

        return call, idx, dist

    def topk_shared_mt_call(self, queries, history, l, m, k, threads):
        """As topk_shared_call, through eta_topk_shared_mt on up to `threads` threads (0: all
        cores)."""
        b = queries.shape[0]
        stride = history.shape[-1]
        idx = np.empty((b, k), dtype=np.uint32)
        dist = np.empty((b, k), dtype=np.uint16)
        args = (_ptr(queries), b, _ptr(history), l, stride, m, k, _ptr(idx), _ptr(dist), None,
                threads)
        f, check = self.lib.eta_topk_shared_mt, self._check

        def call():
            check(f(*args), "topk_shared_mt")

        return call, idx, dist

    def topk_batch_call(self, queries, histories, lens, l, m, k):
        """As topk_shared_call for per-query histories (b x lanes x stride) of lens[b] items."""
        b = queries.shape[0]
        stride = histories.shape[-1]
        lens = np.ascontiguousarray(lens, dtype=np.uint32)
        idx = np.empty((b, k), dtype=np.uint32)
        dist = np.empty((b, k), dtype=np.uint16)
        args = (_ptr(queries), b, _ptr(histories), l, stride,
                lens.ctypes.data_as(POINTER(c_uint32)), m, k, _ptr(idx), _ptr(dist), None)
        f, check = self.lib.eta_topk_batch, self._check
        keep = lens  # the pointer must outlive the callable

        def call():
            check(f(*args), "topk_batch")
            return keep

        return call, idx, dist

    def topk_shared(self, queries, history, l, m, k):
        call, idx, dist = self.topk_shared_call(queries, history, l, m, k)
        call()
        return idx, dist

    def topk_batch(self, queries, histories, lens, l, m, k):
        call, idx, dist = self.topk_batch_call(queries, histories, lens, l, m, k)
        call()
        return idx, dist

    def distances_shared(self, queries, history, l, m):
        b = queries.shape[0]
        out = np.empty((b, l), dtype=np.uint16)
        self._check(
            self.lib.eta_distances_shared(_ptr(queries), b, _ptr(history), l,
                                          history.shape[-1], m, _ptr(out)),
            "distances_shared")
        return out


class Hasher:
    """An eta_hasher; freed when garbage-collected."""

    def __init__(self, eta, proj=None, d=None, m=None, seed=None):
        self.eta, self.handle = eta, c_void_p()
        if proj is not None:
            proj = np.ascontiguousarray(proj, dtype=np.float32)
            self.d, self.m = proj.shape
            st = eta.lib.eta_hasher_new_from_projection(
                proj.ctypes.data_as(POINTER(c_float)), self.d, self.m, ctypes.byref(self.handle))
        else:
            self.d, self.m = d, m
            st = eta.lib.eta_hasher_new_seeded(d, m, seed, ctypes.byref(self.handle))
        eta._check(st, "hasher_new")

    def __del__(self):
        if getattr(self, "handle", None):
            self.eta.lib.eta_hasher_free(self.handle)
            self.handle = None

    def projection(self):
        """The hasher's projection, d x m float32 (row-major)."""
        out = np.empty((self.d, self.m), dtype=np.float32)
        self.eta._check(
            self.eta.lib.eta_hasher_projection(self.handle, out.ctypes.data_as(POINTER(c_float))),
            "hasher_projection")
        return out

    def encode_call(self, emb):
        """A zero-argument callable hashing emb (n x d float32) into a preallocated (n x lanes)
        output; returns (call, out)."""
        emb = np.ascontiguousarray(emb, dtype=np.float32)
        assert emb.ndim == 2 and emb.shape[1] == self.d
        n = emb.shape[0]
        out = np.empty((n, lanes(self.m)), dtype=lane_dtype(self.m))
        args = (self.handle, emb.ctypes.data_as(POINTER(c_float)), n, _ptr(out))
        f, check = self.eta.lib.eta_encode, self.eta._check

        def call():
            check(f(*args), "encode")
            return emb  # keeps the input alive as long as the callable

        return call, out

    def encode(self, emb):
        call, out = self.encode_call(emb)
        call()
        return out

    def encode_history(self, emb, stride=None):
        """emb (L x d) -> history (lanes x stride)."""
        emb = np.ascontiguousarray(emb, dtype=np.float32)
        n = emb.shape[0]
        stride = n if stride is None else stride
        out = np.zeros((lanes(self.m), stride), dtype=lane_dtype(self.m))
        self.eta._check(
            self.eta.lib.eta_encode_history(self.handle, emb.ctypes.data_as(POINTER(c_float)), n,
                                            _ptr(out), stride),
            "encode_history")
        return out
