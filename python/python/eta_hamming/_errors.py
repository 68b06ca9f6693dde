"""The exception hierarchy of eta_hamming.

Every error the package raises on bad input is an :class:`EtaError`; each class also derives from
the builtin exception that fits (``ValueError`` or ``TypeError``), so ``except ValueError`` keeps
working. ``str(e)`` is the library's message (the same text as the C ABI's ``eta_status_message``
plus the details), and ``e.status`` is the C ABI's ``eta_status`` code (``-1`` for checks that only
the Python layer makes: dtypes, shapes and strides of numpy arrays).

Nothing is written to any output when an error is raised.
"""

from __future__ import annotations

__all__ = [
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


class EtaError(Exception):
    """Base class of every eta_hamming error."""

    status: int = -1


class DTypeError(EtaError, TypeError):
    """An array of the wrong dtype (or not an array), or a read-only output."""


class ShapeError(EtaError, ValueError):
    """Shapes that do not fit each other or the library's limits (also: k = 0, d = 0,
    lens[b] > L, a size that overflows, a history too long for uint32 indices)."""


class ContiguityError(EtaError, ValueError):
    """An array whose memory layout is not accepted (not C-contiguous, negative strides, history
    items not contiguous). Pass ``numpy.ascontiguousarray(x)`` (a copy)."""


class AlignmentError(EtaError, ValueError):
    """Data not aligned to its element size."""


class OverlapError(EtaError, ValueError):
    """An output buffer shares memory with an input or another output."""


class InvalidBitsError(EtaError, ValueError):
    """``m`` outside 1..4096, or arrays whose lane dtype / lane count do not match ``m`` (or
    each other)."""


class IdOutOfRangeError(EtaError, ValueError):
    """An item id that is not a row of the fingerprint table (negative, or >= its length)."""


class NonFiniteProjectionError(EtaError, ValueError):
    """A projection holding NaN or an infinity."""


class IsaError(EtaError, ValueError):
    """An unknown instruction-set name, or one this CPU cannot run."""


class InternalError(EtaError, RuntimeError):
    """A bug in the library (a caught panic) or an allocation failure."""
