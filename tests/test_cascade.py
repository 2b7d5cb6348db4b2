"""The cascade attention kernel against plain attention over the concatenated tokens."""

from __future__ import annotations

import math

import pytest

torch = pytest.importorskip("torch")

from aflab.models.cascade import CascadeState, Prefix  # noqa: E402

KV_HEADS, GROUPS, DIM = 2, 3, 8
HEADS = KV_HEADS * GROUPS


def _reference(query, keys, values, allowed):
    """Attention of query [H, q, d] over keys/values [kvh, T, d] where allowed [q, T]."""
    k = keys.repeat_interleave(GROUPS, dim=0)
    v = values.repeat_interleave(GROUPS, dim=0)
    scores = query @ k.transpose(-1, -2) / math.sqrt(DIM)
    scores = scores.masked_fill(~allowed, float("-inf"))
    return torch.softmax(scores, dim=-1) @ v  # [H, q, d]


def _prefix(length, dtype=torch.float64):
    keys = torch.randn(KV_HEADS, length, DIM, dtype=dtype)
    values = torch.randn(KV_HEADS, length, DIM, dtype=dtype)
    return Prefix([keys], [values]), keys, values


def _state(prefix, rows, capacity, dtype=torch.float64):
    return CascadeState(prefix, rows=rows, layers=1, kv_heads=KV_HEADS, head_dim=DIM,
                        capacity=capacity, dtype=dtype, device="cpu")


# float64 runs the plain kernel (any device), float32 PyTorch's fused CPU kernel
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
@pytest.mark.parametrize("prefix_len", [0, 7])
def test_padded_block_then_decode_steps_match_plain_attention(prefix_len, dtype):
    torch.manual_seed(0)
    prefix, pk, pv = _prefix(prefix_len, dtype) if prefix_len else (None, None, None)
    rows, width, lengths = 3, 5, [5, 2, 4]  # rows' own tokens, left-padded to one width
    state = _state(prefix, rows, capacity=width, dtype=dtype)  # the buffer must grow
    for i, n in enumerate(lengths):
        state.valid[i, : width - n] = False
    own_k = torch.randn(rows, KV_HEADS, width + 3, DIM, dtype=dtype)
    own_v = torch.randn(rows, KV_HEADS, width + 3, DIM, dtype=dtype)
    steps = [(0, width)] + [(width + s, width + s + 1) for s in range(3)]
    for start, stop in steps:
        q = stop - start
        query = torch.randn(rows, HEADS, q, DIM, dtype=dtype)
        state.begin(q)
        out = state.attend(0, query, own_k[:, :, start:stop], own_v[:, :, start:stop],
                           DIM**-0.5)
        state.advance(q)
        assert out.shape == (rows, q, HEADS, DIM)
        for i, n in enumerate(lengths):
            cols = torch.arange(stop)
            mine = (cols >= width - n)[None, :] & (cols[None, :] <= torch.arange(start, stop)[:, None])
            keys, values, allowed = own_k[i, :, :stop], own_v[i, :, :stop], mine
            if prefix_len:
                keys, values = torch.cat([pk, keys], 1), torch.cat([pv, values], 1)
                allowed = torch.cat([torch.ones(q, prefix_len, dtype=torch.bool), mine], 1)
            real = [j for j in range(q) if start + j >= width - n]  # padding queries aside
            expected = _reference(query[i], keys, values, allowed)[:, real]
            torch.testing.assert_close(out[i].transpose(0, 1)[:, real], expected)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32])
def test_padding_queries_never_produce_nan(dtype):
    state = _state(None, rows=2, capacity=6, dtype=dtype)
    state.valid[1, :3] = False
    state.begin(4)
    out = state.attend(0, torch.randn(2, HEADS, 4, DIM, dtype=dtype),
                       torch.randn(2, KV_HEADS, 4, DIM, dtype=dtype),
                       torch.randn(2, KV_HEADS, 4, DIM, dtype=dtype), DIM**-0.5)
    assert not torch.isnan(out).any()


def test_rows_that_leave_keep_the_others_exact():
    torch.manual_seed(1)
    prefix, pk, pv = _prefix(4)
    state = _state(prefix, rows=3, capacity=4)
    k = torch.randn(3, KV_HEADS, 2, DIM, dtype=torch.float64)
    v = torch.randn(3, KV_HEADS, 2, DIM, dtype=torch.float64)
    state.begin(1)
    state.attend(0, torch.randn(3, HEADS, 1, DIM, dtype=torch.float64), k[:, :, :1], v[:, :, :1],
                 DIM**-0.5)
    state.advance(1)
    state.keep(torch.tensor([2, 0]))  # row 1 finished; the order may change too
    query = torch.randn(2, HEADS, 1, DIM, dtype=torch.float64)
    state.begin(1)
    out = state.attend(0, query, k[[2, 0], :, 1:], v[[2, 0], :, 1:], DIM**-0.5)
    for row, original in enumerate([2, 0]):
        keys = torch.cat([pk, k[original]], 1)
        values = torch.cat([pv, v[original]], 1)
        expected = _reference(query[row], keys, values, torch.ones(1, 6, dtype=torch.bool))
        torch.testing.assert_close(out[row].transpose(0, 1), expected)


def test_own_prefix_extends_a_base_prefix():
    prefix, pk, pv = _prefix(3)
    state = _state(prefix, rows=1, capacity=2)
    k = torch.randn(1, KV_HEADS, 2, DIM, dtype=torch.float64)
    v = torch.randn(1, KV_HEADS, 2, DIM, dtype=torch.float64)
    state.begin(2)
    state.attend(0, torch.randn(1, HEADS, 2, DIM, dtype=torch.float64), k, v, DIM**-0.5)
    state.advance(2)
    longer = state.own_prefix(prefix)
    assert longer.length == 5
    torch.testing.assert_close(longer.keys[0], torch.cat([pk, k[0]], 1))
    torch.testing.assert_close(longer.values[0], torch.cat([pv, v[0]], 1))
