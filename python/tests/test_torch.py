"""PyTorch CPU tensors in, without a copy (bfloat16 included); skipped where torch is absent."""

import numpy as np
import pytest

import eta_hamming as eh
import reference as ref

torch = pytest.importorskip("torch", reason="torch is not installed (pip install torch to run these)")


def test_float_bf16_f16_tensors():
    rng = np.random.default_rng(0)
    d, m = 16, 64
    proj = rng.integers(-3, 4, (d, m)).astype(np.float32)
    h = eh.Hasher.from_projection(torch.from_numpy(proj))
    emb = rng.integers(-4, 5, (40, d)).astype(np.float32)
    want = ref.pack(ref.bits_of(emb, proj), m)
    t = torch.from_numpy(emb)
    np.testing.assert_array_equal(h.encode(t), want)
    np.testing.assert_array_equal(h.encode(t.to(torch.bfloat16)), want)
    np.testing.assert_array_equal(h.encode(t.to(torch.float16)), want)
    np.testing.assert_array_equal(h.encode(t.requires_grad_()), want)


def test_int64_ids_table_and_outputs_in_place():
    rng = np.random.default_rng(1)
    table = torch.from_numpy(ref.random_fps(rng, 100, 64).view(np.int64))
    ids = torch.randint(0, 100, (8, 30), dtype=torch.int64)
    lens = torch.tensor([30, 0, 3, 29, 1, 7, 30, 12])
    hs = eh.histories_gather(table, ids, lens)
    q = torch.from_numpy(ref.random_fps(rng, 8, 64).view(np.int64))
    idx = torch.empty((8, 5), dtype=torch.int64)
    dist = torch.empty((8, 5), dtype=torch.int16).view(torch.uint16) if hasattr(torch, "uint16") else None
    if dist is None:
        pytest.skip("this torch has no uint16")
    filled = torch.empty(8, dtype=torch.uint32)
    eh.topk_batch(q, hs, lens, 5, out=(idx, dist, filled))
    r = eh.topk_batch(q.numpy(), hs, lens.numpy(), 5)
    assert torch.equal(idx, torch.from_numpy(r.indices))
    # Indices are torch's index type: gather works directly (empty slots are -1: mask them).
    safe = idx.clamp(min=0)
    assert torch.gather(ids, 1, safe).shape == (8, 5)


def test_cuda_tensor_refused():
    if not torch.cuda.is_available():
        pytest.skip("no CUDA device")
    with pytest.raises(eh.DTypeError):
        eh.Hasher(4, 8).encode(torch.ones(2, 4, device="cuda"))
