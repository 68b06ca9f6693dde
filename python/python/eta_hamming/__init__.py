"""eta_hamming: SimHash fingerprints and exact Hamming top-K for ETA-style models.

A thin layer over the ``eta-hamming`` Rust crate (the same kernels as its Rust API and C ABI,
runtime-dispatched to AVX-512 / AVX2 / NEON / scalar). Inputs are numpy arrays, PyTorch CPU
tensors (read in place, bfloat16 included) and anything exposing DLPack or the buffer protocol.
Outputs are numpy arrays (``torch.from_numpy`` wraps them without a copy); every function takes
``out=`` so that a training loop allocates nothing. The GIL is released while a kernel runs.

Array layouts (``lanes`` and the lane dtype follow from ``m``: :func:`layout`):

* fingerprints / queries / a fingerprint table: ``(n, lanes)`` of the lane dtype
  (``uint8`` for m <= 8, ``uint16`` <= 16, ``uint32`` <= 32, else ``ceil(m / 64)`` ``uint64``
  lanes); ``(n,)`` is accepted for one lane. Signed integer arrays of the same width are read
  as bit patterns (a torch ``int64`` table works).
* one history: ``(lanes, L)``, the items of each lane row contiguous and rows any stride >= L
  apart (the library's own outputs are views of a buffer padded to :func:`padded_stride`).
* per-query histories: ``(B, lanes, L)`` with ``lens`` ``(B,)``: history ``b``'s first
  ``lens[b]`` items are valid.

Contiguity: inputs must be C-contiguous (histories: as above); anything else raises
:class:`ContiguityError` rather than being copied silently. Pass ``numpy.ascontiguousarray(x)``.

Results: top-K indices are positions in the history (0-based), nearest first, ties broken by the
smaller index (the library's contract, identical on every CPU and thread count). Indices come as
``int64`` by default (torch's index type, usable by ``gather`` / ``index_select``), empty slots
(fewer than k valid items) hold ``-1`` and distance ``EMPTY_DISTANCE`` (65535); with
``index_dtype=numpy.uint32`` they are the library's own ``uint32`` with ``EMPTY_INDEX``
(0xFFFFFFFF).
"""

from __future__ import annotations

from typing import Any, NamedTuple, Optional, Tuple

import numpy as np

from . import _native
from ._errors import (
    AlignmentError,
    ContiguityError,
    DTypeError,
    EtaError,
    IdOutOfRangeError,
    InternalError,
    InvalidBitsError,
    IsaError,
    NonFiniteProjectionError,
    OverlapError,
    ShapeError,
)

__all__ = [
    "Hasher",
    "TopK",
    "history_from_fingerprints",
    "history_gather",
    "histories_gather",
    "topk_shared",
    "topk_batch",
    "distances_shared",
    "distances_batch",
    "new_history",
    "new_histories",
    "layout",
    "padded_stride",
    "isa",
    "available_isas",
    "force_isa",
    "reset_isa",
    "EMPTY_INDEX",
    "EMPTY_DISTANCE",
    "MAX_BITS",
    "__version__",
    "EtaError",
    "DTypeError",
    "ShapeError",
    "ContiguityError",
    "AlignmentError",
    "OverlapError",
    "InvalidBitsError",
    "IdOutOfRangeError",
    "NonFiniteProjectionError",
    "IsaError",
    "InternalError",
]

EMPTY_INDEX: int = _native.EMPTY_INDEX
EMPTY_DISTANCE: int = _native.EMPTY_DISTANCE
MAX_BITS: int = _native.MAX_BITS
__version__: str = _native.VERSION

isa = _native.isa
available_isas = _native.available_isas
force_isa = _native.force_isa
reset_isa = _native.reset_isa


def layout(m: int) -> Tuple[np.dtype, int]:
    """The lane dtype and the number of lanes of an ``m``-bit fingerprint."""
    name, lanes = _native.layout(m)
    return np.dtype(name), lanes


def padded_stride(length: int) -> int:
    """The stride (in lanes) the library pads a history of ``length`` items to."""
    return _native.padded_stride(length)


def _is_torch(x: Any) -> bool:
    return type(x).__module__.split(".")[0] == "torch"


def _arr(x: Any, what: str = "array") -> Tuple[np.ndarray, Optional[str]]:
    """``x`` as a numpy array, without a copy where one is not needed, and the element type a
    bfloat16 torch tensor implies."""
    if isinstance(x, np.ndarray):
        return x, None
    if _is_torch(x):
        import torch

        t = x.detach()
        if t.device.type != "cpu":
            raise DTypeError(f"{what}: tensors must be on the CPU, got device {t.device}")
        if t.dtype == torch.bfloat16:
            return t.view(torch.int16).numpy(), "bf16"
        return t.numpy(), None
    if hasattr(x, "__dlpack__"):
        try:
            return np.from_dlpack(x), None
        except (TypeError, BufferError, RuntimeError) as e:
            raise DTypeError(f"{what}: cannot read this DLPack object: {e}") from e
    return np.asarray(x), None


def _np(x: Any, what: str = "array") -> np.ndarray:
    return x if type(x) is np.ndarray else _arr(x, what)[0]


def _ids(x: Any) -> np.ndarray:
    a = _np(x, "ids")
    if a.dtype.kind in "iu" and a.dtype.itemsize < 8:
        a = a.astype(np.int64)  # a copy: int64 / uint64 ids are read in place
    return a


def _lens(x: Any) -> np.ndarray:
    return _np(x, "lens")


def _lane_dtype(fps: np.ndarray, m: Optional[int]) -> Tuple[np.dtype, int]:
    if m is not None:
        return layout(m)
    lanes = fps.shape[1] if fps.ndim == 2 else 1
    dt = fps.dtype
    if dt.kind == "i":
        dt = np.dtype(f"u{dt.itemsize}")
    return dt, lanes


def new_history(m: int, length: int) -> np.ndarray:
    """A zeroed ``(lanes, length)`` history for ``m``-bit fingerprints: a view of a buffer whose
    rows are :func:`padded_stride` apart (the library's layout)."""
    dt, lanes = layout(m)
    return np.zeros((lanes, padded_stride(length)), dt)[:, :length]


def new_histories(m: int, count: int, length: int) -> np.ndarray:
    """Zeroed ``(count, lanes, length)`` per-query histories (rows :func:`padded_stride` apart)."""
    dt, lanes = layout(m)
    return np.zeros((count, lanes, padded_stride(length)), dt)[:, :, :length]


def _new_history_like(dt: np.dtype, lanes: int, length: int) -> np.ndarray:
    return np.zeros((lanes, padded_stride(length)), dt)[:, :length]


def _new_histories_like(dt: np.dtype, lanes: int, count: int, length: int) -> np.ndarray:
    return np.zeros((count, lanes, padded_stride(length)), dt)[:, :, :length]


def _rows(a: np.ndarray) -> int:
    return a.shape[0] if a.ndim >= 1 else 0


class TopK(NamedTuple):
    """A top-K result: ``indices`` and ``distances`` ``(B, k)``, nearest first; ``filled`` the
    number of valid slots per query (an ``int`` for a shared history, a ``(B,)`` uint32 array for
    per-query histories)."""

    indices: np.ndarray
    distances: np.ndarray
    filled: Any


class Hasher:
    """SimHash of ``d``-dimensional embeddings to ``m``-bit fingerprints (1 <= m <= 4096).

    ``Hasher(d, m, seed)`` uses the library's frozen seeded projection (the same seed gives the
    same fingerprints in every version, in Rust, C and Python); :meth:`from_projection` takes a
    ``(d, m)`` float32 projection (the layout of ``torch.randn(d, m)``). Fingerprints are
    bit-exact on every CPU. Embeddings may be float32, float16, bfloat16 (a torch bfloat16
    tensor, an ``ml_dtypes.bfloat16`` array, or uint16/int16 bit patterns with
    ``element="bf16"``), C-contiguous, last dimension ``d``.
    """

    __slots__ = ("_h",)

    def __init__(self, d: int, m: int, seed: int = 0) -> None:
        self._h = _native.Hasher(d, m, seed)

    @classmethod
    def from_projection(cls, projection: Any) -> "Hasher":
        """A hasher over a ``(d, m)`` float32 projection (copied); NaN / inf is refused."""
        h = cls.__new__(cls)
        h._h = _native.Hasher.from_projection(_np(projection, "projection"))
        return h

    @property
    def d(self) -> int:
        """Embedding dimension."""
        return self._h.d

    @property
    def m(self) -> int:
        """Bits per fingerprint."""
        return self._h.m

    @property
    def lanes(self) -> int:
        """Lanes per fingerprint."""
        return self._h.lanes

    @property
    def lane_dtype(self) -> np.dtype:
        """The lane dtype of this hasher's fingerprints."""
        return np.dtype(self._h.lane_dtype)

    def projection(self) -> np.ndarray:
        """A copy of the ``(d, m)`` float32 projection."""
        return self._h.projection()

    def __repr__(self) -> str:
        return f"Hasher(d={self.d}, m={self.m})"

    def encode(self, emb: Any, *, element: Optional[str] = None, out: Any = None) -> np.ndarray:
        """Fingerprints of ``emb`` (``(..., d)``, ``n`` rows) in query / table layout:
        ``(n, lanes)`` of :attr:`lane_dtype` (or into ``out``, ``(n, lanes)`` or ``(n,)``)."""
        e, el = _arr(emb, "embeddings")
        if out is None:
            n = e.size // self.d if e.ndim >= 1 and self.d else 0
            out = np.empty((n, self.lanes), self.lane_dtype)
        o = _np(out, "out")
        self._h.encode(e, o, element or el)
        return o

    def encode_history(self, emb: Any, *, element: Optional[str] = None, out: Any = None) -> np.ndarray:
        """``emb`` (``(L, d)``) as one history ``(lanes, L)`` (or into ``out``, any row stride >=
        L: :func:`new_history`)."""
        e, el = _arr(emb, "embeddings")
        if out is None:
            out = _new_history_like(self.lane_dtype, self.lanes, _rows(e))
        o = _np(out, "out")
        self._h.encode_history(e, o, element or el)
        return o

    def encode_histories(
        self, emb: Any, lens: Any = None, *, element: Optional[str] = None, out: Any = None
    ) -> np.ndarray:
        """``emb`` (``(B, L, d)``) as ``B`` per-query histories ``(B, lanes, L)``. With ``lens``,
        only the first ``lens[b]`` items of history ``b`` are hashed (the rest of a fresh output is
        zero; of ``out``, left as it was)."""
        e, el = _arr(emb, "embeddings")
        if out is None:
            b, length = (e.shape[0], e.shape[1]) if e.ndim == 3 else (0, 0)
            out = _new_histories_like(self.lane_dtype, self.lanes, b, length)
        o = _np(out, "out")
        self._h.encode_histories(e, o, None if lens is None else _lens(lens), element or el)
        return o


def history_from_fingerprints(fps: Any, *, m: Optional[int] = None, out: Any = None) -> np.ndarray:
    """Fingerprints ``(n, lanes)`` laid out as one history ``(lanes, n)``."""
    f = _np(fps, "fingerprints")
    if out is None:
        dt, lanes = _lane_dtype(f, m)
        out = _new_history_like(dt, lanes, _rows(f))
    o = _np(out, "out")
    _native.history_from_fingerprints(f, o, m)
    return o


def history_gather(table: Any, ids: Any, *, m: Optional[int] = None, out: Any = None) -> np.ndarray:
    """The history whose item ``i`` is row ``ids[i]`` of the fingerprint ``table``
    (``(N, lanes)``). ``ids``: int64 (torch's index type) or uint64, read in place; other integer
    dtypes are copied to int64. An id outside the table raises :class:`IdOutOfRangeError`."""
    t = _np(table, "table")
    i = _ids(ids)
    if out is None:
        dt, lanes = _lane_dtype(t, m)
        out = _new_history_like(dt, lanes, _rows(i))
    o = _np(out, "out")
    _native.history_gather(t, i, o, m)
    return o


def histories_gather(
    table: Any, ids: Any, lens: Any, *, m: Optional[int] = None, out: Any = None
) -> np.ndarray:
    """Per-query histories from a padded id matrix: history ``b`` holds the table rows
    ``ids[b, :lens[b]]`` (``ids`` ``(B, L)``; the padding ids past ``lens[b]`` are ignored and may
    be anything). Returns ``(B, lanes, L)``; items past ``lens[b]`` are zero in a fresh output and
    left as they were in ``out``. Every id is checked before anything is written."""
    t = _np(table, "table")
    i = _ids(ids)
    if out is None:
        dt, lanes = _lane_dtype(t, m)
        b, length = (i.shape[0], i.shape[1]) if i.ndim == 2 else (0, 0)
        out = _new_histories_like(dt, lanes, b, length)
    o = _np(out, "out")
    _native.histories_gather(t, i, _lens(lens), o, m)
    return o


def _topk_out(out: Any, b: int, k: int, index_dtype: Any, batch: bool):
    if out is None:
        idx = np.empty((b, k), np.dtype(index_dtype))
        dist = np.empty((b, k), np.uint16)
        filled = np.empty((b,), np.uint32) if batch else None
        return idx, dist, filled
    parts = tuple(out)
    if len(parts) != (3 if batch else 2):
        raise ShapeError(
            "out: expected (indices, distances" + (", filled)" if batch else ")")
            + f", got {len(parts)} arrays"
        )
    if batch:
        return _np(parts[0], "out"), _np(parts[1], "out"), _np(parts[2], "out")
    return _np(parts[0], "out"), _np(parts[1], "out"), None


def topk_shared(
    queries: Any,
    history: Any,
    k: int,
    *,
    m: Optional[int] = None,
    threads: int = 1,
    out: Any = None,
    index_dtype: Any = np.int64,
) -> TopK:
    """The ``k`` nearest items of one shared ``history`` (``(lanes, L)``) for every query
    (``(B, lanes)``): serving, one user and ``B`` candidates. ``threads``: 1 (default), ``n``, or
    0 for every core; the result is identical for every count. ``out``: ``(indices, distances)``,
    ``(B, k)`` int64 or uint32, and uint16. ``filled`` = ``min(k, L)``."""
    q = _np(queries, "queries")
    h = _np(history, "history")
    idx, dist, _ = _topk_out(out, _rows(q), k, index_dtype, False)
    filled = _native.topk_shared(q, h, k, idx, dist, m, threads)
    return TopK(idx, dist, filled)


def topk_batch(
    queries: Any,
    histories: Any,
    lens: Any,
    k: int,
    *,
    m: Optional[int] = None,
    threads: int = 1,
    out: Any = None,
    index_dtype: Any = np.int64,
) -> TopK:
    """The ``k`` nearest items for every query ``b`` (``(B, lanes)``) within its own history
    (``histories`` ``(B, lanes, L)``, its first ``lens[b]`` items): the ragged training batch.
    ``out``: ``(indices, distances, filled)``; ``filled[b]`` = ``min(k, lens[b])``."""
    q = _np(queries, "queries")
    h = _np(histories, "histories")
    idx, dist, filled = _topk_out(out, _rows(q), k, index_dtype, True)
    _native.topk_batch(q, h, _lens(lens), k, idx, dist, filled, m, threads)
    return TopK(idx, dist, filled)


def distances_shared(queries: Any, history: Any, *, m: Optional[int] = None, out: Any = None) -> np.ndarray:
    """Every Hamming distance ``(B, L)`` uint16 between the queries and one shared history."""
    q = _np(queries, "queries")
    h = _np(history, "history")
    if out is None:
        length = h.shape[-1] if h.ndim >= 1 else 0
        out = np.empty((_rows(q), length), np.uint16)
    o = _np(out, "out")
    _native.distances_shared(q, h, o, m)
    return o


def distances_batch(
    queries: Any, histories: Any, lens: Any, *, m: Optional[int] = None, out: Any = None
) -> np.ndarray:
    """Every distance ``(B, L)`` between query ``b`` and the items of its own history; slots at
    and past ``lens[b]`` hold ``EMPTY_DISTANCE``."""
    q = _np(queries, "queries")
    h = _np(histories, "histories")
    if out is None:
        length = h.shape[-1] if h.ndim >= 2 else 0
        out = np.empty((_rows(q), length), np.uint16)
    o = _np(out, "out")
    _native.distances_batch(q, h, _lens(lens), o, m)
    return o
