"""Every bad input raises a typed EtaError (a ValueError or TypeError) with the library's message,
and writes nothing."""

import numpy as np
import pytest

import eta_hamming as eh
import reference as ref


@pytest.fixture
def data():
    rng = np.random.default_rng(0)
    m, b, length = 64, 4, 30
    q = ref.random_fps(rng, b, m)
    items = ref.random_fps(rng, length, m)
    h = eh.history_from_fingerprints(items)
    table = ref.random_fps(rng, 50, m)
    ids = rng.integers(0, 50, (b, length)).astype(np.int64)
    lens = np.array([30, 0, 5, 12], np.uint32)
    hs = eh.histories_gather(table, ids, lens)
    return dict(m=m, b=b, L=length, q=q, h=h, table=table, ids=ids, lens=lens, hs=hs)


def test_hierarchy():
    for cls in (eh.ShapeError, eh.ContiguityError, eh.AlignmentError, eh.OverlapError,
                eh.InvalidBitsError, eh.IdOutOfRangeError, eh.NonFiniteProjectionError, eh.IsaError):
        assert issubclass(cls, eh.EtaError) and issubclass(cls, ValueError)
    assert issubclass(eh.DTypeError, eh.EtaError) and issubclass(eh.DTypeError, TypeError)
    assert issubclass(eh.InternalError, eh.EtaError)


def test_the_issue_example_uint8_queries_for_m64(data):
    # uint8 (B, 1) queries for m = 64 used to read 8x past the buffer through ctypes.
    q8 = np.zeros((data["b"], 1), np.uint8)
    with pytest.raises(eh.InvalidBitsError, match="m = 64|lane"):
        eh.topk_shared(q8, data["h"], 5, m=64)
    with pytest.raises(eh.InvalidBitsError):
        eh.topk_shared(q8, data["h"], 5)  # inferred m = 8 against a uint64 history


def test_hasher_arguments():
    with pytest.raises(eh.InvalidBitsError, match="m"):
        eh.Hasher(8, 0)
    with pytest.raises(eh.InvalidBitsError) as e:
        eh.Hasher(8, 4097)
    assert e.value.status > 0 and "4097" in str(e.value)
    with pytest.raises(eh.ShapeError):
        eh.Hasher(0, 8)
    p = np.ones((4, 8), np.float32)
    p[1, 2] = np.nan
    with pytest.raises(eh.NonFiniteProjectionError, match="element 10"):
        eh.Hasher.from_projection(p)
    with pytest.raises(eh.DTypeError):
        eh.Hasher.from_projection(np.ones((4, 8), np.float64))
    with pytest.raises(eh.ShapeError):
        eh.Hasher.from_projection(np.ones(8, np.float32))


def test_embedding_inputs():
    h = eh.Hasher(8, 64, seed=1)
    with pytest.raises(eh.ShapeError, match="d = 8"):
        h.encode(np.ones((3, 7), np.float32))
    with pytest.raises(eh.DTypeError, match="element"):
        h.encode(np.ones((3, 8), np.uint16))  # bit patterns need element=
    with pytest.raises(eh.DTypeError):
        h.encode(np.ones((3, 8), np.float64))
    with pytest.raises(eh.DTypeError):
        h.encode(np.ones((3, 8), np.float32), element="f64")
    with pytest.raises(eh.DTypeError):
        h.encode(np.ones((3, 8), np.float32), element="bf16")
    with pytest.raises(eh.ContiguityError):
        h.encode(np.ones((8, 3), np.float32).T)
    with pytest.raises(eh.ContiguityError):
        h.encode(np.ones((3, 16), np.float32)[:, ::2])
    with pytest.raises(eh.DTypeError):
        h.encode(np.ones((3, 8), np.float32).astype(">f4"))  # big-endian
    raw = np.zeros(3 * 8 * 4 + 1, np.uint8)
    mis = raw[1:].view(np.float32).reshape(3, 8)
    with pytest.raises(eh.AlignmentError):
        h.encode(mis)
    with pytest.raises(eh.ShapeError):
        h.encode_histories(np.ones((3, 8), np.float32))


def test_encode_outputs():
    h = eh.Hasher(8, 64, seed=1)
    emb = np.ones((3, 8), np.float32)
    for bad, exc in [
        (np.zeros((3, 1), np.uint32), eh.InvalidBitsError),
        (np.zeros((3, 2), np.uint64), eh.InvalidBitsError),
        (np.zeros((4, 1), np.uint64), eh.ShapeError),
        (np.zeros((3, 1), np.float64), eh.DTypeError),
        (np.zeros((3, 2), np.uint64)[:, :1], eh.ContiguityError),
    ]:
        with pytest.raises(exc):
            h.encode(emb, out=bad)
    ro = np.zeros((3, 1), np.uint64)
    ro.setflags(write=False)
    with pytest.raises(eh.DTypeError, match="read-only"):
        h.encode(emb, out=ro)
    # The output may not alias the input.
    buf = np.zeros(64, np.float32)
    e = buf[:24].reshape(3, 8)
    o = buf[:6].view(np.uint64).reshape(3, 1)
    with pytest.raises(eh.OverlapError):
        h.encode(e, out=o)
    with pytest.raises(eh.ShapeError):
        h.encode_history(emb, out=eh.new_history(64, 4))
    with pytest.raises(eh.InvalidBitsError):
        h.encode_history(emb, out=eh.new_history(32, 3))


def test_scan_shape_errors(data):
    q, h, hs, lens = data["q"], data["h"], data["hs"], data["lens"]
    with pytest.raises(eh.ShapeError, match="K"):
        eh.topk_shared(q, h, 0)
    with pytest.raises(eh.ShapeError):
        eh.topk_batch(q, hs, lens, 0)
    with pytest.raises(eh.ShapeError):
        eh.topk_batch(q[:3], hs, lens, 5)
    with pytest.raises(eh.ShapeError):
        eh.topk_batch(q, hs, lens[:3], 5)
    with pytest.raises(eh.ShapeError, match="lens"):
        eh.topk_batch(q, hs, np.array([31, 0, 0, 0]), 5)
    with pytest.raises(eh.ShapeError):
        eh.topk_batch(q, hs, np.array([-1, 0, 0, 0]), 5)
    with pytest.raises(eh.DTypeError):
        eh.topk_batch(q, hs, np.zeros(4, np.float32), 5)
    with pytest.raises(eh.ShapeError):
        eh.distances_batch(q, hs, np.array([31, 0, 0, 0]))
    with pytest.raises(eh.ShapeError):
        eh.topk_shared(q[0, 0], h, 3)  # 0-d queries


def test_scan_dtype_and_layout_errors(data):
    q, h, hs, lens, m = data["q"], data["h"], data["hs"], data["lens"], data["m"]
    with pytest.raises(eh.DTypeError):
        eh.topk_shared(q.astype(np.float64), h, 3)
    with pytest.raises(eh.InvalidBitsError):
        eh.topk_shared(q, h.astype(np.uint32), 3)
    with pytest.raises(eh.InvalidBitsError):
        eh.topk_shared(q, h, 3, m=65)
    with pytest.raises(eh.InvalidBitsError):
        eh.distances_shared(np.zeros((4, 2), np.uint64), h)
    with pytest.raises(eh.InvalidBitsError):
        eh.topk_batch(q.view(np.uint32), hs, lens, 3)
    with pytest.raises(eh.ContiguityError):
        eh.topk_shared(np.zeros((4, 2), np.uint64)[:, :1], h, 3)
    with pytest.raises(eh.ContiguityError):
        eh.distances_shared(q, np.zeros((1, 60), np.uint64)[:, ::2])  # items not contiguous
    with pytest.raises(eh.ContiguityError):
        eh.distances_shared(q, np.zeros((60,), np.uint64)[::-1])
    wide = np.zeros((2, 30), np.uint64)
    with pytest.raises(eh.InvalidBitsError):
        eh.distances_shared(q, wide)  # two lanes against one
    hs_bad = np.zeros((4, 1, 64), np.uint64)[:, :, ::2]
    with pytest.raises(eh.ContiguityError):
        eh.topk_batch(q, hs_bad, lens, 3)
    with pytest.raises(eh.ContiguityError):
        eh.topk_batch(np.zeros((4, 2), np.uint64), np.zeros((8, 2, 30), np.uint64)[::2], lens, 3)  # not back to back
    # One lane: a history stride beyond L is just a wider stride.
    r = eh.topk_batch(q, np.zeros((8, 1, 30), np.uint64)[::2], lens, 3)
    assert (r.filled == np.minimum(3, lens)).all()
    raw = np.zeros(4 * 8 + 1, np.uint8)
    with pytest.raises(eh.AlignmentError):
        eh.topk_shared(raw[1:].view(np.uint64).reshape(4, 1), h, 3, m=m)
    with pytest.raises(eh.DTypeError):
        eh.topk_shared("not an array", h, 3)


def test_out_errors_write_nothing(data):
    q, h, hs, lens = data["q"], data["h"], data["hs"], data["lens"]
    b = data["b"]
    idx = np.full((b, 5), 7, np.int64)
    dist = np.full((b, 5), 9, np.uint16)
    with pytest.raises(eh.DTypeError):
        eh.topk_shared(q, h, 5, out=(idx.astype(np.int32), dist))
    with pytest.raises(eh.DTypeError):
        eh.topk_shared(q, h, 5, out=(idx, dist.astype(np.int16)))
    with pytest.raises(eh.ShapeError):
        eh.topk_shared(q, h, 4, out=(idx, dist))
    with pytest.raises(eh.ShapeError):
        eh.topk_shared(q, h, 5, out=(idx,))
    with pytest.raises(eh.ShapeError):
        eh.topk_shared(q, h, 0, out=(idx[:, :0], dist[:, :0]))
    with pytest.raises(eh.ContiguityError):
        eh.topk_shared(q, h, 5, out=(np.full((5, b), 7, np.int64).T, dist))
    assert (idx == 7).all() and (dist == 9).all()
    # Outputs overlapping each other or an input.
    both = np.zeros(b * 5 * 8 * 2, np.uint8)
    i2 = both[: b * 5 * 8].view(np.int64).reshape(b, 5)
    d2 = both[b * 5 * 8 - 8 :][: b * 5 * 2].view(np.uint16).reshape(b, 5)
    with pytest.raises(eh.OverlapError):
        eh.topk_shared(q, h, 5, out=(i2, d2))
    qq = np.zeros((b, 5), np.int64)
    eh.topk_shared(qq[:, :1].copy().view(np.uint64), h, 5, out=(qq, dist.copy()))  # a copy: fine
    q_alias = qq.view(np.uint64)[:, :1]
    with pytest.raises((eh.OverlapError, eh.ContiguityError)):
        eh.topk_shared(q_alias, h, 5, out=(qq, dist))
    q_int = np.zeros(b * 5, np.int64)
    with pytest.raises(eh.OverlapError):
        eh.topk_shared(q_int[:b].view(np.uint64).reshape(b, 1), h, 5, out=(q_int.reshape(b, 5), dist))
    assert (dist == 9).all()
    filled = np.full(b, 3, np.uint32)
    with pytest.raises(eh.ShapeError):
        eh.topk_batch(q, hs, np.array([31, 0, 0, 0], np.uint32), 5, out=(idx, dist, filled))
    with pytest.raises(eh.DTypeError):
        eh.topk_batch(q, hs, lens, 5, out=(idx, dist, filled.astype(np.int64)))
    with pytest.raises(eh.OverlapError):
        eh.topk_batch(q, hs, lens, 5, out=(idx, dist, lens))
    assert (idx == 7).all() and (dist == 9).all() and (filled == 3).all()
    do = np.full((b, data["L"]), 5, np.uint16)
    with pytest.raises(eh.ShapeError):
        eh.distances_shared(q, h, out=do[:, :-1])
    with pytest.raises(eh.ShapeError):
        eh.distances_batch(q, hs, np.array([0, 0, 0, 99]), out=do)
    assert (do == 5).all()


def test_gather_errors_write_nothing(data):
    table, ids, lens, m = data["table"], data["ids"], data["lens"], data["m"]
    out = eh.new_histories(m, 4, data["L"])
    out[...] = 123
    bad = ids.copy()
    bad[3, 11] = 50  # history 3 (lens 12): the last history fails, after three good ones
    with pytest.raises(eh.IdOutOfRangeError, match="50"):
        eh.histories_gather(table, bad, lens, out=out)
    bad[3, 11] = -2
    with pytest.raises(eh.IdOutOfRangeError, match="negative"):
        eh.histories_gather(table, bad, lens, out=out)
    assert (out == 123).all()
    bad[3, 11] = 0
    bad[3, 12] = 10**6  # past lens[3]: padding ids are ignored
    eh.histories_gather(table, bad, lens, out=out)
    h = eh.new_history(m, 3)
    h[...] = 1
    with pytest.raises(eh.IdOutOfRangeError):
        eh.history_gather(table, np.array([1, 2, 50]), out=h)
    with pytest.raises(eh.IdOutOfRangeError):
        eh.history_gather(table, np.array([1, -1, 0]), out=h)
    with pytest.raises(eh.DTypeError):
        eh.history_gather(table, np.array([1.0, 2.0, 3.0]), out=h)
    with pytest.raises(eh.ShapeError):
        eh.history_gather(table, np.array([1, 2]), out=h)
    assert (h == 1).all()
    with pytest.raises(eh.ShapeError):
        eh.histories_gather(table, ids, lens[:2])
    with pytest.raises(eh.ShapeError):
        eh.histories_gather(table, ids[0], lens)
    with pytest.raises(eh.InvalidBitsError):
        eh.histories_gather(table, ids, lens, m=32)


def test_isa_errors():
    with pytest.raises(eh.IsaError, match="instruction set"):
        eh.force_isa("bogus")
    if "neon" not in eh.available_isas():
        with pytest.raises(eh.IsaError):
            eh.force_isa("neon")
    assert eh.isa() in eh.available_isas()


def test_layout_errors():
    with pytest.raises(eh.InvalidBitsError):
        eh.layout(0)
    with pytest.raises(eh.InvalidBitsError):
        eh.new_history(5000, 3)
