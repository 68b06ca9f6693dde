"""A small numpy reference of the library's contract, written independently of the package:
SimHash bits, packing, Hamming distances and the top-K order (distance, then index)."""

import numpy as np

EMPTY_INDEX = 0xFFFFFFFF
EMPTY_DISTANCE = 0xFFFF


def lane_layout(m):
    if m <= 8:
        return np.dtype(np.uint8), 1
    if m <= 16:
        return np.dtype(np.uint16), 1
    if m <= 32:
        return np.dtype(np.uint32), 1
    return np.dtype(np.uint64), (m + 63) // 64


def bits_of(emb, proj):
    """Bit j of each row: 1 when sum_k emb[k] * proj[k, j] > 0. Exact in float64 for the small
    integer data the tests use, where the library's f32 FMA chain is exact too."""
    s = emb.astype(np.float64) @ proj.astype(np.float64)
    return (s > 0).astype(np.uint8)


def pack(bits, m):
    """(n, m) bits -> (n, lanes) lanes: bit j in lane j // lane_bits at bit j % lane_bits."""
    dt, lanes = lane_layout(m)
    n = bits.shape[0]
    total = lanes * dt.itemsize * 8
    padded = np.zeros((n, total), np.uint8)
    padded[:, :m] = bits
    by = np.packbits(padded, axis=1, bitorder="little")
    return np.ascontiguousarray(by).view(dt.newbyteorder("<")).astype(dt).reshape(n, lanes)


def random_fps(rng, n, m):
    return pack(rng.integers(0, 2, size=(n, m), dtype=np.uint8), m)


def unpack(fps):
    fps = np.ascontiguousarray(fps)
    n = fps.shape[0]
    by = fps.reshape(n, fps.size // max(n, 1) if n else fps.shape[-1] if fps.ndim > 1 else 1).view(np.uint8)
    return np.unpackbits(by, axis=1, bitorder="little")


def distances(q, h_items):
    """q (B, lanes), h_items (L, lanes) -> (B, L) Hamming distances."""
    qb = unpack(q).astype(np.int32)
    hb = unpack(h_items).astype(np.int32)
    if hb.shape[0] == 0 or qb.shape[0] == 0:
        return np.zeros((qb.shape[0], hb.shape[0]), np.int64)
    return (qb[:, None, :] != hb[None, :, :]).sum(-1)


def topk_row(d, k):
    """The k smallest (distance, index) pairs of one row, and the number filled."""
    n = d.shape[0]
    order = np.lexsort((np.arange(n), d))[:k]
    idx = np.full(k, EMPTY_INDEX, np.int64)
    dist = np.full(k, EMPTY_DISTANCE, np.int64)
    idx[: len(order)] = order
    dist[: len(order)] = d[order]
    return idx, dist, len(order)
