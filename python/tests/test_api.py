"""Every function of eta_hamming against the numpy reference in reference.py, on random data and
the edge shapes (L = 0, K > L, lens of 0, m = 1, 4, 64, 65, 4096, ties)."""

import numpy as np
import pytest

import eta_hamming as eh
import reference as ref

MS = [1, 4, 8, 9, 16, 17, 32, 33, 63, 64, 65, 128, 4096]
LS = [0, 1, 5, 64, 65, 130]


def int_data(rng, n, d):
    """Small integers: every product and partial sum is exact in f32, bf16 and f16 inputs are
    exact, so the library's FMA chain and the float64 reference agree bit for bit."""
    return rng.integers(-4, 5, size=(n, d)).astype(np.float32)


def hasher_and_proj(rng, d, m):
    proj = rng.integers(-3, 4, size=(d, m)).astype(np.float32)
    return eh.Hasher.from_projection(proj), proj


def bf16_bits(x):
    return (np.ascontiguousarray(x, np.float32).view(np.uint32) >> 16).astype(np.uint16)


@pytest.mark.parametrize("m", MS)
def test_encode_matches_reference(m):
    rng = np.random.default_rng(m)
    d, n = 13, 37
    h, proj = hasher_and_proj(rng, d, m)
    emb = int_data(rng, n, d)
    want = ref.pack(ref.bits_of(emb, proj), m)
    got = h.encode(emb)
    dt, lanes = ref.lane_layout(m)
    assert got.dtype == dt and got.shape == (n, lanes)
    np.testing.assert_array_equal(got, want)
    assert (h.m, h.d, h.lanes, h.lane_dtype) == (m, d, lanes, dt)
    # float16 and bfloat16 (bit patterns) give the fingerprints of the widened values.
    np.testing.assert_array_equal(h.encode(emb.astype(np.float16)), want)
    np.testing.assert_array_equal(h.encode(bf16_bits(emb), element="bf16"), want)
    np.testing.assert_array_equal(h.encode(emb.astype(np.float16).view(np.uint16), element="f16"), want)
    # Leading dimensions are flattened.
    np.testing.assert_array_equal(h.encode(emb[:36].reshape(4, 9, d)), want[:36])


@pytest.mark.parametrize("m", [1, 4, 32, 64, 65, 4096])
def test_encode_history_and_histories(m):
    rng = np.random.default_rng(100 + m)
    d, length = 7, 45
    h, proj = hasher_and_proj(rng, d, m)
    emb = int_data(rng, length, d)
    fps = ref.pack(ref.bits_of(emb, proj), m)
    hist = h.encode_history(emb)
    dt, lanes = ref.lane_layout(m)
    assert hist.shape == (lanes, length) and hist.dtype == dt
    np.testing.assert_array_equal(hist.T, fps)
    assert hist.strides[0] == eh.padded_stride(length) * dt.itemsize
    # B histories, ragged.
    b = 5
    embs = np.stack([int_data(rng, length, d) for _ in range(b)])
    lens = np.array([0, 1, length, 17, 3], np.int64)
    hs = h.encode_histories(embs, lens)
    assert hs.shape == (b, lanes, length)
    for i in range(b):
        want = ref.pack(ref.bits_of(embs[i], proj), m)
        np.testing.assert_array_equal(hs[i].T[: lens[i]], want[: lens[i]])
        assert not hs[i][:, lens[i]:].any()  # fresh output: padding stays zero
    full = h.encode_histories(embs)
    for i in range(b):
        np.testing.assert_array_equal(full[i].T, ref.pack(ref.bits_of(embs[i], proj), m))


def test_seeded_hasher_is_its_projection():
    rng = np.random.default_rng(1)
    h = eh.Hasher(24, 65, seed=7)
    p = h.projection()
    assert p.shape == (24, 65) and p.dtype == np.float32
    assert np.array_equal(eh.Hasher(24, 65, seed=7).projection(), p)
    assert not np.array_equal(eh.Hasher(24, 65, seed=8).projection(), p)
    emb = rng.standard_normal((50, 24)).astype(np.float32)
    np.testing.assert_array_equal(h.encode(emb), eh.Hasher.from_projection(p).encode(emb))


def test_encode_nan_inf_zero():
    h = eh.Hasher(4, 8, seed=3)
    emb = np.array([[np.nan] * 4, [0.0] * 4, [-0.0] * 4, [np.inf, -np.inf, 1, 1]], np.float32)
    got = h.encode(emb)
    assert got[0, 0] == 0 and got[1, 0] == 0 and got[2, 0] == 0  # NaN and +-0 give bit 0


@pytest.mark.parametrize("m", MS)
@pytest.mark.parametrize("length", LS)
def test_topk_and_distances_shared(m, length):
    rng = np.random.default_rng(m * 1000 + length)
    b = 6
    q = ref.random_fps(rng, b, m)
    items = ref.random_fps(rng, length, m)
    items[length // 2:length // 2 + 3] = items[:3][: max(0, min(3, length - length // 2))]  # duplicates: ties
    h = eh.history_from_fingerprints(items)
    np.testing.assert_array_equal(h.T, items)
    d = ref.distances(q, items)
    np.testing.assert_array_equal(eh.distances_shared(q, h), d)
    for k in [1, 3, length + 5]:
        for threads in [1, 3, 0]:
            res = eh.topk_shared(q, h, k, threads=threads)
            assert res.filled == min(k, length)
            for i in range(b):
                idx, dist, _ = ref.topk_row(d[i], k)
                idx = np.where(idx == ref.EMPTY_INDEX, -1, idx)
                np.testing.assert_array_equal(res.indices[i], idx)
                np.testing.assert_array_equal(res.distances[i], dist)
        r32 = eh.topk_shared(q, h, k, index_dtype=np.uint32)
        assert r32.indices.dtype == np.uint32
        for i in range(b):
            idx, _, _ = ref.topk_row(d[i], k)
            np.testing.assert_array_equal(r32.indices[i], idx)


def test_ties_go_to_the_smaller_index():
    m = 4
    items = np.array([[5], [3], [5], [5], [3]], np.uint8)
    q = np.array([[5]], np.uint8)
    h = eh.history_from_fingerprints(items)
    res = eh.topk_shared(q, h, 5)
    assert res.indices.tolist() == [[0, 2, 3, 1, 4]]
    assert res.distances.tolist() == [[0, 0, 0, 2, 2]]
    assert m == 4


@pytest.mark.parametrize("m", [1, 4, 16, 32, 64, 65, 4096])
def test_topk_and_distances_batch(m):
    rng = np.random.default_rng(7 * m)
    b, cap = 9, 70
    q = ref.random_fps(rng, b, m)
    table = ref.random_fps(rng, 300, m)
    ids = rng.integers(0, 300, size=(b, cap)).astype(np.int64)
    ids[:, 1::7] = ids[:, ::7][:, : ids[:, 1::7].shape[1]]  # repeated items: ties
    lens = np.array([0, 1, 70, 5, 69, 33, 0, 64, 65], np.int64)
    hs = eh.histories_gather(table, ids, lens)
    lanes = ref.lane_layout(m)[1]
    assert hs.shape == (b, lanes, cap)
    for i in range(b):
        np.testing.assert_array_equal(hs[i].T[: lens[i]], table[ids[i, : lens[i]]])
    dist = eh.distances_batch(q, hs, lens)
    for i in range(b):
        d = ref.distances(q[i : i + 1], table[ids[i, : lens[i]]])[0]
        np.testing.assert_array_equal(dist[i, : lens[i]], d)
        assert (dist[i, lens[i]:] == eh.EMPTY_DISTANCE).all()
    for k in [1, 4, 50, 80]:
        for threads in [1, 2, 0]:
            res = eh.topk_batch(q, hs, lens, k, threads=threads)
            assert res.filled.dtype == np.uint32
            for i in range(b):
                d = ref.distances(q[i : i + 1], table[ids[i, : lens[i]]])[0]
                idx, dd, f = ref.topk_row(d, k)
                assert res.filled[i] == f
                np.testing.assert_array_equal(res.indices[i], np.where(idx == ref.EMPTY_INDEX, -1, idx))
                np.testing.assert_array_equal(res.distances[i], dd)


def test_lens_dtypes_are_equivalent():
    rng = np.random.default_rng(3)
    q = ref.random_fps(rng, 4, 64)
    hs = eh.histories_gather(ref.random_fps(rng, 50, 64), rng.integers(0, 50, (4, 20)), [3, 0, 20, 7])
    base = eh.topk_batch(q, hs, np.array([3, 0, 20, 7], np.uint32), 5)
    for lens in ([3, 0, 20, 7], np.array([3, 0, 20, 7], np.int32), np.array([3, 0, 20, 7], np.int64)):
        r = eh.topk_batch(q, hs, lens, 5)
        np.testing.assert_array_equal(r.indices, base.indices)


def test_history_gather_and_int_ids():
    rng = np.random.default_rng(5)
    table = ref.random_fps(rng, 100, 65)
    ids = rng.integers(0, 100, 40)
    for dt in (np.int64, np.uint64, np.int32):
        h = eh.history_gather(table, ids.astype(dt))
        np.testing.assert_array_equal(h.T, table[ids])
    assert eh.history_gather(table, np.zeros(0, np.int64)).shape == (2, 0)


def test_out_buffers_are_used_and_returned():
    rng = np.random.default_rng(11)
    m, b, length, k = 64, 8, 100, 10
    hasher = eh.Hasher(16, m, seed=1)
    emb = rng.standard_normal((length, 16)).astype(np.float32)
    qemb = rng.standard_normal((b, 16)).astype(np.float32)
    qo = np.empty((b, 1), np.uint64)
    assert hasher.encode(qemb, out=qo) is qo
    ho = eh.new_history(m, length)
    assert hasher.encode_history(emb, out=ho) is ho
    np.testing.assert_array_equal(ho, hasher.encode_history(emb))
    idx, dist = np.empty((b, k), np.int64), np.empty((b, k), np.uint16)
    r = eh.topk_shared(qo, ho, k, out=(idx, dist))
    assert r.indices is idx and r.distances is dist
    np.testing.assert_array_equal(idx, eh.topk_shared(qo, ho, k).indices)
    do = np.empty((b, length), np.uint16)
    assert eh.distances_shared(qo, ho, out=do) is do
    # Per-query histories into a preallocated buffer.
    hs = eh.new_histories(m, b, length)
    hasher.encode_histories(np.stack([emb] * b), out=hs)
    f = np.empty(b, np.uint32)
    r = eh.topk_batch(qo, hs, np.full(b, length), k, out=(idx, dist, f))
    assert r.filled is f and (f == k).all()
    np.testing.assert_array_equal(idx, eh.topk_shared(qo, ho, k).indices)


def test_padded_and_unpadded_history_views_agree():
    rng = np.random.default_rng(2)
    items = ref.random_fps(rng, 37, 130)
    q = ref.random_fps(rng, 3, 130)
    tight = np.ascontiguousarray(items.T)  # rows exactly L apart
    wide = eh.history_from_fingerprints(items)
    np.testing.assert_array_equal(eh.distances_shared(q, tight), eh.distances_shared(q, wide))


def test_dlpack_and_buffer_inputs():
    rng = np.random.default_rng(9)
    q = ref.random_fps(rng, 4, 32)
    items = ref.random_fps(rng, 20, 32)

    class DL:
        def __init__(self, a):
            self.a = a

        def __dlpack__(self, **kw):
            return self.a.__dlpack__(**kw)

        def __dlpack_device__(self):
            return self.a.__dlpack_device__()

    h = eh.history_from_fingerprints(DL(items))
    np.testing.assert_array_equal(eh.distances_shared(DL(q), h), ref.distances(q, items))
    mv = memoryview(q.reshape(-1))  # buffer protocol
    np.testing.assert_array_equal(eh.distances_shared(mv, h), ref.distances(q, items))


def test_layout_and_constants():
    assert eh.layout(1) == (np.dtype(np.uint8), 1)
    assert eh.layout(16) == (np.dtype(np.uint16), 1)
    assert eh.layout(33) == (np.dtype(np.uint64), 1)
    assert eh.layout(4096) == (np.dtype(np.uint64), 64)
    assert eh.EMPTY_INDEX == 0xFFFFFFFF and eh.EMPTY_DISTANCE == 0xFFFF and eh.MAX_BITS == 4096
    assert eh.padded_stride(1) >= 1 and eh.padded_stride(0) == 0
    assert eh.isa() in eh.available_isas()
    assert isinstance(eh.__version__, str)


def test_every_isa_gives_the_same_results():
    rng = np.random.default_rng(4)
    q = ref.random_fps(rng, 5, 65)
    h = eh.history_from_fingerprints(ref.random_fps(rng, 300, 65))
    hasher = eh.Hasher(32, 65, seed=2)
    emb = rng.standard_normal((40, 32)).astype(np.float32)
    results = []
    try:
        for name in eh.available_isas():
            eh.force_isa(name)
            assert eh.isa() == name
            r = eh.topk_shared(q, h, 20)
            results.append((r.indices.tolist(), r.distances.tolist(), hasher.encode(emb).tolist()))
    finally:
        eh.reset_isa()
    assert all(r == results[0] for r in results)


def test_ml_dtypes_bfloat16():
    ml_dtypes = pytest.importorskip("ml_dtypes", reason="ml_dtypes is not installed")
    rng = np.random.default_rng(8)
    h, proj = hasher_and_proj(rng, 8, 65)
    emb = int_data(rng, 20, 8)
    np.testing.assert_array_equal(h.encode(emb.astype(ml_dtypes.bfloat16)), ref.pack(ref.bits_of(emb, proj), 65))
