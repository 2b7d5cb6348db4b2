"""Shared-prefix ("cascade") attention over a preallocated KV cache, for Llama-family models.

Every row of a batch starts with the same long prefix (the system prompt). The
prefix's keys and values are stored **once**, ``[kv_heads, P, head_dim]`` per layer,
and every row attends to that one copy; each row's own tokens (its suffix and what
it generates) go into a preallocated buffer ``[rows, kv_heads, S, head_dim]`` that
is written in place, never re-concatenated. Attention scores over the prefix and
over the row's own tokens are normalised together (one softmax over both parts),
so a row sees exactly the tokens it would see with the prefix copied into it.

The forward pass calls the model's own modules — embeddings, rotary embedding, each
decoder layer as a module, final norm, LM head — so PEFT-merged weights, steering
and activation hooks registered on ``model.model.layers[i]`` work unchanged. Only the
attention kernel is ours: it is registered with transformers' ``AttentionInterface``
and used when the call carries an ``aflab_kv`` state; any other call (training, a
plain ``model(...)``) goes to the model's original attention implementation.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import torch
import torch.nn.functional as F

__all__ = ["CascadeState", "Prefix", "cascade_forward", "install", "supports"]

#: Architectures whose decoder layers take (hidden, position_embeddings=..., **kwargs)
#: and whose attention calls the registered attention interface.
SUPPORTED_TYPES = {"llama", "qwen2", "qwen3"}
ATTENTION_NAME = "aflab_cascade"


@dataclass
class Prefix:
    """Keys and values of a shared token prefix, per layer: keys transposed
    ``[kv_heads, head_dim, P]`` (the layout the score product reads fastest), values
    ``[kv_heads, P, head_dim]``."""

    keys: list[torch.Tensor]
    values: list[torch.Tensor]

    @property
    def length(self) -> int:
        return int(self.keys[0].shape[2]) if self.keys else 0


class CascadeState:
    """Per-batch attention state: the shared prefix plus every row's own preallocated buffer.

    ``valid[b, j]`` is False where column ``j`` of row ``b``'s buffer is padding (rows'
    suffixes are left-padded to one width). ``filled`` columns are written; a forward
    of ``q`` tokens writes columns ``filled .. filled+q`` and then :meth:`advance` moves on.
    """

    def __init__(self, prefix: Prefix | None, *, rows: int, layers: int, kv_heads: int,
                 head_dim: int, capacity: int, dtype: torch.dtype, device: Any) -> None:
        self.prefix = prefix if prefix is not None and prefix.length > 0 else None
        shape = (rows, kv_heads, capacity, head_dim)
        self.keys = [torch.empty(shape, dtype=dtype, device=device) for _ in range(layers)]
        self.values = [torch.empty(shape, dtype=dtype, device=device) for _ in range(layers)]
        self.valid = torch.ones((rows, capacity), dtype=torch.bool, device=device)
        self.filled = 0
        self._bias: torch.Tensor | None = None  # additive mask for the current forward

    @property
    def rows(self) -> int:
        return int(self.valid.shape[0])

    @property
    def capacity(self) -> int:
        return int(self.valid.shape[1])

    def begin(self, q: int) -> None:
        """Prepare the mask for a forward of ``q`` new tokens per row."""
        if self.filled + q > self.capacity:
            self._grow(self.filled + q)
        total = self.filled + q
        valid = self.valid[:, :total]
        if q == 1 and bool(valid.all()):
            self._bias = None
            return
        allowed = valid[:, None, :].expand(self.rows, q, total)
        if q > 1:  # causal within the new block: token i sees columns <= filled + i
            cols = torch.arange(total, device=valid.device)
            rows = torch.arange(q, device=valid.device)[:, None] + self.filled
            allowed = allowed & (cols[None, :] <= rows)[None]
            # a padding token attends to itself, so no row of the softmax is empty
            allowed = allowed | (cols[None, :] == rows)[None]
        bias = torch.zeros(allowed.shape, dtype=self.keys[0].dtype, device=valid.device)
        self._bias = bias.masked_fill_(~allowed, float("-inf"))[:, None]  # [B, 1, q, total]

    def advance(self, q: int) -> None:
        self.filled += q

    def keep(self, rows: torch.Tensor) -> None:
        """Drop every row not in ``rows`` (indices), e.g. rows that finished generating."""
        self.keys = [k.index_select(0, rows) for k in self.keys]
        self.values = [v.index_select(0, rows) for v in self.values]
        self.valid = self.valid.index_select(0, rows)

    def _grow(self, needed: int) -> None:
        new = max(needed, 2 * self.capacity)
        extra = new - self.capacity

        def pad(t: torch.Tensor) -> torch.Tensor:
            return torch.cat([t, t.new_empty((*t.shape[:2], extra, t.shape[3]))], dim=2)

        self.keys = [pad(k) for k in self.keys]
        self.values = [pad(v) for v in self.values]
        self.valid = torch.cat([self.valid, self.valid.new_ones((self.rows, extra))], dim=1)

    # -- the kernel -------------------------------------------------------------------
    def attend(self, layer: int, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
               scaling: float) -> torch.Tensor:
        """Attention of ``query`` [B, H, q, d] over prefix + own tokens; returns [B, q, H, d]."""
        rows, heads, q, dim = query.shape
        kv_heads = key.shape[1]
        groups = heads // kv_heads
        start, stop = self.filled, self.filled + q
        own_k, own_v = self.keys[layer], self.values[layer]
        own_k[:, :, start:stop] = key
        own_v[:, :, start:stop] = value
        # [B, kvh, g*q, d]: query heads grouped under the key/value head they share
        grouped = query.reshape(rows, kv_heads, groups * q, dim)
        if self.prefix is None and q > 1 and self._bias is not None and start == 0:
            # a fresh block (prompt prefill without a prefix): the fused kernel, masked
            out = F.scaled_dot_product_attention(
                query, own_k[:, :, :stop], own_v[:, :, :stop], attn_mask=self._bias,
                scale=scaling, enable_gqa=groups > 1,
            )
            return out.transpose(1, 2)
        own = torch.matmul(grouped, own_k[:, :, :stop].transpose(-1, -2)) * scaling
        if self._bias is not None:
            own = (own.view(rows, kv_heads, groups, q, stop) + self._bias[:, :, None]).view(
                rows, kv_heads, groups * q, stop
            )
        if self.prefix is None:
            weights = torch.softmax(own, dim=-1)
            out = torch.matmul(weights, own_v[:, :, :stop])
        else:
            pk, pv = self.prefix.keys[layer], self.prefix.values[layer]  # [kvh, d, P], [kvh, P, d]
            flat = grouped.transpose(0, 1).reshape(kv_heads, rows * groups * q, dim)
            shared = torch.matmul(flat, pk) * scaling  # [kvh, B*g*q, P]
            shared = shared.view(kv_heads, rows, groups * q, -1).transpose(0, 1)
            top = torch.maximum(shared.amax(-1, keepdim=True), own.amax(-1, keepdim=True))
            shared = torch.exp(shared - top)
            own = torch.exp(own - top)
            total = shared.sum(-1, keepdim=True) + own.sum(-1, keepdim=True)
            from_prefix = torch.matmul(
                shared.transpose(0, 1).reshape(kv_heads, rows * groups * q, -1), pv
            ).view(kv_heads, rows, groups * q, dim).transpose(0, 1)
            out = (from_prefix + torch.matmul(own, own_v[:, :, :stop])) / total
        return out.reshape(rows, heads, q, dim).transpose(1, 2)

    def own_prefix(self, base: Prefix | None, row: int = 0) -> Prefix:
        """The prefix made of ``base`` followed by row ``row``'s filled columns."""
        keys, values = [], []
        for layer, (k, v) in enumerate(zip(self.keys, self.values)):
            k, v = k[row, :, : self.filled].transpose(-1, -2), v[row, :, : self.filled]
            if base is not None and base.length:
                k = torch.cat([base.keys[layer], k], dim=2)
                v = torch.cat([base.values[layer], v], dim=1)
            keys.append(k.contiguous())
            values.append(v.contiguous())
        return Prefix(keys, values)


_ORIGINAL: dict[int, str] = {}


def _attention(module: Any, query: torch.Tensor, key: torch.Tensor, value: torch.Tensor,
               attention_mask: Any, scaling: float | None = None, dropout: float = 0.0,
               **kwargs: Any) -> tuple[torch.Tensor, None]:
    state: CascadeState | None = kwargs.pop("aflab_kv", None)
    if state is None:  # anyone else's call: the model's own attention
        from transformers.modeling_utils import ALL_ATTENTION_FUNCTIONS

        name = _ORIGINAL.get(id(module.config), "sdpa")
        if name == "eager" or name not in ALL_ATTENTION_FUNCTIONS:
            from transformers.models.llama.modeling_llama import eager_attention_forward

            return eager_attention_forward(module, query, key, value, attention_mask,
                                           scaling=scaling, dropout=dropout, **kwargs)
        return ALL_ATTENTION_FUNCTIONS[name](module, query, key, value, attention_mask,
                                             scaling=scaling, dropout=dropout, **kwargs)
    scale = scaling if scaling is not None else query.shape[-1] ** -0.5
    return state.attend(module.layer_idx, query, key, value, scale), None


def supports(model: Any) -> bool:
    """Whether ``model`` (a causal LM) can run on the cascade path."""
    config = getattr(model, "config", None)
    inner = getattr(model, "model", None)
    if config is None or inner is None or getattr(config, "model_type", None) not in SUPPORTED_TYPES:
        return False
    if getattr(config, "use_sliding_window", False) or getattr(config, "layer_types", None) and any(
        t != "full_attention" for t in config.layer_types
    ):
        return False
    needed = ("embed_tokens", "layers", "norm", "rotary_emb")
    if not all(hasattr(inner, name) for name in needed) or not hasattr(model, "lm_head"):
        return False
    import transformers

    return hasattr(transformers, "AttentionInterface")


def install(model: Any) -> None:
    """Register the cascade kernel with transformers (idempotent)."""
    from transformers import AttentionInterface

    AttentionInterface.register(ATTENTION_NAME, _attention)


class _Selected:
    """Point every attention config of ``model`` at the cascade kernel for one forward.

    Only for the duration of the call: masks and attention of any other call (training,
    a plain ``model(...)``) are built for the model's own implementation.
    """

    def __init__(self, model: Any) -> None:
        configs = {id(model.config): model.config}
        for module in model.modules():
            sub = getattr(module, "config", None)
            if sub is not None and hasattr(sub, "_attn_implementation"):
                configs.setdefault(id(sub), sub)
        self.configs = list(configs.values())

    def __enter__(self) -> None:
        self.saved = [c._attn_implementation for c in self.configs]
        for c in self.configs:
            _ORIGINAL[id(c)] = c._attn_implementation or "sdpa"
            c._attn_implementation = ATTENTION_NAME

    def __exit__(self, *exc: object) -> None:
        for c, name in zip(self.configs, self.saved):
            c._attn_implementation = name


def new_state(model: Any, prefix: Prefix | None, rows: int, capacity: int) -> CascadeState:
    config = model.config
    heads = config.num_attention_heads
    head_dim = getattr(config, "head_dim", None) or config.hidden_size // heads
    weight = model.lm_head.weight
    return CascadeState(
        prefix, rows=rows, layers=config.num_hidden_layers,
        kv_heads=getattr(config, "num_key_value_heads", None) or heads, head_dim=head_dim,
        capacity=capacity, dtype=weight.dtype, device=weight.device,
    )


def cascade_forward(model: Any, ids: torch.Tensor, positions: torch.Tensor,
                    state: CascadeState, *, logits: bool = True) -> torch.Tensor | None:
    """Run ``ids`` [B, q] at ``positions`` through ``model``; the last position's logits [B, V]."""
    inner = model.model
    q = ids.shape[1]
    state.begin(q)
    hidden = inner.embed_tokens(ids)
    position_embeddings = inner.rotary_emb(hidden, position_ids=positions)
    selected = getattr(model, "_aflab_cascade_selected", None)
    if selected is None:
        selected = _Selected(model)
        model._aflab_cascade_selected = selected
    with selected:
        for layer in inner.layers:
            out = layer(hidden, attention_mask=None, position_ids=positions,
                        position_embeddings=position_embeddings, aflab_kv=state)
            hidden = out[0] if isinstance(out, tuple) else out
    state.advance(q)
    if not logits:
        return None
    return model.lm_head(inner.norm(hidden[:, -1:, :]))[:, -1, :]
