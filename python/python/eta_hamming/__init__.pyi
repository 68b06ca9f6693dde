"""Type stubs of eta_hamming (see the module docstring and README "Python" for the contract)."""

from typing import Any, List, NamedTuple, Optional, Sequence, Tuple, Union

import numpy as np
import numpy.typing as npt

from ._errors import (
    AlignmentError as AlignmentError,
    ContiguityError as ContiguityError,
    DTypeError as DTypeError,
    EtaError as EtaError,
    IdOutOfRangeError as IdOutOfRangeError,
    InternalError as InternalError,
    InvalidBitsError as InvalidBitsError,
    IsaError as IsaError,
    NonFiniteProjectionError as NonFiniteProjectionError,
    OverlapError as OverlapError,
    ShapeError as ShapeError,
)

# Anything the package reads: a numpy array, a torch CPU tensor, a DLPack or buffer-protocol object.
ArrayLike = Any
Element = Optional[str]  # "f32" | "bf16" | "f16" (or None: from the dtype)

EMPTY_INDEX: int
EMPTY_DISTANCE: int
MAX_BITS: int
__version__: str

def layout(m: int) -> Tuple[np.dtype, int]: ...
def padded_stride(length: int) -> int: ...
def isa() -> str: ...
def available_isas() -> List[str]: ...
def force_isa(name: str) -> None: ...
def reset_isa() -> None: ...
def new_history(m: int, length: int) -> npt.NDArray[np.unsignedinteger]: ...
def new_histories(m: int, count: int, length: int) -> npt.NDArray[np.unsignedinteger]: ...

class TopK(NamedTuple):
    indices: npt.NDArray[Union[np.int64, np.uint32]]
    distances: npt.NDArray[np.uint16]
    filled: Union[int, npt.NDArray[np.uint32]]

class Hasher:
    def __init__(self, d: int, m: int, seed: int = 0) -> None: ...
    @classmethod
    def from_projection(cls, projection: ArrayLike) -> "Hasher": ...
    @property
    def d(self) -> int: ...
    @property
    def m(self) -> int: ...
    @property
    def lanes(self) -> int: ...
    @property
    def lane_dtype(self) -> np.dtype: ...
    def projection(self) -> npt.NDArray[np.float32]: ...
    def encode(self, emb: ArrayLike, *, element: Element = None, out: Optional[ArrayLike] = None) -> np.ndarray: ...
    def encode_history(
        self, emb: ArrayLike, *, element: Element = None, out: Optional[ArrayLike] = None
    ) -> np.ndarray: ...
    def encode_histories(
        self,
        emb: ArrayLike,
        lens: Optional[ArrayLike] = None,
        *,
        element: Element = None,
        out: Optional[ArrayLike] = None,
    ) -> np.ndarray: ...

def history_from_fingerprints(fps: ArrayLike, *, m: Optional[int] = None, out: Optional[ArrayLike] = None) -> np.ndarray: ...
def history_gather(
    table: ArrayLike, ids: ArrayLike, *, m: Optional[int] = None, out: Optional[ArrayLike] = None
) -> np.ndarray: ...
def histories_gather(
    table: ArrayLike, ids: ArrayLike, lens: ArrayLike, *, m: Optional[int] = None, out: Optional[ArrayLike] = None
) -> np.ndarray: ...
def topk_shared(
    queries: ArrayLike,
    history: ArrayLike,
    k: int,
    *,
    m: Optional[int] = None,
    threads: int = 1,
    out: Optional[Sequence[ArrayLike]] = None,
    index_dtype: Any = ...,
) -> TopK: ...
def topk_batch(
    queries: ArrayLike,
    histories: ArrayLike,
    lens: ArrayLike,
    k: int,
    *,
    m: Optional[int] = None,
    threads: int = 1,
    out: Optional[Sequence[ArrayLike]] = None,
    index_dtype: Any = ...,
) -> TopK: ...
def distances_shared(
    queries: ArrayLike, history: ArrayLike, *, m: Optional[int] = None, out: Optional[ArrayLike] = None
) -> npt.NDArray[np.uint16]: ...
def distances_batch(
    queries: ArrayLike, histories: ArrayLike, lens: ArrayLike, *, m: Optional[int] = None, out: Optional[ArrayLike] = None
) -> npt.NDArray[np.uint16]: ...
