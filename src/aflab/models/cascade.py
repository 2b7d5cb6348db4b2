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
#: PyTorch's fused CPU attention kernel that also returns the log-sum-exp (None if absent).
_FLASH = getattr(torch.ops.aten, "_scaled_dot_product_flash_attention_for_cpu", None)


@dataclass
class Prefix:
    """Keys and values of a shared token prefix, one ``[kv_heads, P, head_dim]`` per layer."""

    keys: list[torch.Tensor]
    values: list[torch.Tensor]

    @property
    def length(self) -> int:
        return int(self.keys[0].shape[1]) if self.keys else 0


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
        keys, values = own_k[:, :, :stop], own_v[:, :, :stop]
        bias = None
        if self._bias is not None:  # [B, 1, q, T] -> one row per (group, query) pair
            bias = self._bias.repeat(1, 1, groups, 1) if groups > 1 else self._bias
        if _FLASH is not None and query.device.type == "cpu" and query.dtype != torch.float64:
            out = self._attend_flash(grouped, keys, values, bias, layer, scaling)
        elif self.prefix is None and q > 1:
            # a block with no shared prefix (e.g. a long prompt's prefill): the fused kernel,
            # never a [q, T] score matrix per head in memory
            out = F.scaled_dot_product_attention(query, keys, values, attn_mask=self._bias,
                                                 scale=scaling, enable_gqa=groups > 1)
            return out.transpose(1, 2)
        else:
            out = self._attend_plain(grouped, keys, values, bias, layer, scaling)
        return out.reshape(rows, heads, q, dim).transpose(1, 2)

    def _attend_flash(self, grouped: torch.Tensor, keys: torch.Tensor, values: torch.Tensor,
                      bias: torch.Tensor | None, layer: int, scaling: float) -> torch.Tensor:
        """CPU: PyTorch's fused attention kernel on each part, merged by their log-sum-exps."""
        own, own_lse = _FLASH(grouped, keys, values, attn_mask=bias, scale=scaling)[:2]
        if self.prefix is None:
            return own
        rows, kv_heads, n, dim = grouped.shape
        pk, pv = self.prefix.keys[layer], self.prefix.values[layer]
        flat = grouped.transpose(0, 1).reshape(1, kv_heads, rows * n, dim)
        shared, shared_lse = _FLASH(flat, pk[None], pv[None], scale=scaling)[:2]
        shared = shared.view(kv_heads, rows, n, dim).transpose(0, 1)
        shared_lse = shared_lse.view(kv_heads, rows, n).transpose(0, 1)
        top = torch.maximum(shared_lse, own_lse)
        w_shared = torch.exp(shared_lse - top)[..., None]
        w_own = torch.exp(own_lse - top)[..., None]
        merged = (shared * w_shared + own * w_own) / (w_shared + w_own)
        return merged.to(grouped.dtype)

    def _attend_plain(self, grouped: torch.Tensor, keys: torch.Tensor, values: torch.Tensor,
                      bias: torch.Tensor | None, layer: int, scaling: float) -> torch.Tensor:
        """Any device: scores of both parts normalised by one softmax."""
        rows, kv_heads, n, dim = grouped.shape
        own = torch.matmul(grouped, keys.transpose(-1, -2)) * scaling
        if bias is not None:
            own = own + bias
        if self.prefix is None:
            return torch.matmul(torch.softmax(own, dim=-1), values)
        pk, pv = self.prefix.keys[layer], self.prefix.values[layer]
        flat = grouped.transpose(0, 1).reshape(kv_heads, rows * n, dim)
        shared = torch.matmul(flat, pk.transpose(-1, -2)) * scaling  # [kvh, B*n, P]
        shared = shared.view(kv_heads, rows, n, -1).transpose(0, 1)
        top = torch.maximum(shared.amax(-1, keepdim=True), own.amax(-1, keepdim=True))
        shared = torch.exp(shared - top)
        own = torch.exp(own - top)
        total = shared.sum(-1, keepdim=True) + own.sum(-1, keepdim=True)
        from_prefix = torch.matmul(
            shared.transpose(0, 1).reshape(kv_heads, rows * n, -1), pv
        ).view(kv_heads, rows, n, dim).transpose(0, 1)
        return (from_prefix + torch.matmul(own, values)) / total

    def own_prefix(self, base: Prefix | None, row: int = 0) -> Prefix:
        """The prefix made of ``base`` followed by row ``row``'s filled columns."""
        keys, values = [], []
        for layer, (k, v) in enumerate(zip(self.keys, self.values)):
            k, v = k[row, :, : self.filled], v[row, :, : self.filled]
            if base is not None and base.length:
                k = torch.cat([base.keys[layer], k], dim=1)
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
    if _lean_ok(model):
        cos, sin = (t.unsqueeze(1) for t in position_embeddings)
        for index, layer in enumerate(inner.layers):
            hidden = _lean_layer(layer, index, hidden, cos, sin, state)
    else:
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


# -- the lean layer: the decoder layer's arithmetic without its Python wrappers ------------
#: Architectures whose decoder layer is exactly: RMSNorm -> q/k/v projections -> rotary ->
#: attention -> o_proj -> residual -> RMSNorm -> SiLU-gated MLP -> residual.
LEAN_TYPES = {"llama", "qwen2"}


def _lean_ok(model: Any) -> bool:
    """The lean path computes what the layer modules compute, op for op. It is taken only
    when no hook could tell the difference: hooks on a decoder layer itself are called as
    the module would call them; a hook anywhere inside a layer (or a global module hook, or
    one that takes keyword arguments) sends the forward through the modules instead."""
    from torch.nn.modules import module as torch_module

    config = model.config
    if config.model_type not in LEAN_TYPES or getattr(config, "hidden_act", "silu") != "silu":
        return False
    if any(getattr(torch_module, name, None) for name in (
        "_global_forward_hooks", "_global_forward_pre_hooks", "_global_backward_hooks",
    )):
        return False
    for layer in model.model.layers:
        if layer._forward_hooks_with_kwargs or layer._forward_pre_hooks_with_kwargs:
            return False
        for sub in layer.modules():
            if sub is not layer and (sub._forward_hooks or sub._forward_pre_hooks):
                return False
    return True


def _rms_norm(norm: Any, hidden: torch.Tensor) -> torch.Tensor:
    eps = getattr(norm, "variance_epsilon", None)
    eps = getattr(norm, "eps", 1e-6) if eps is None else eps
    dtype = hidden.dtype
    x = hidden.to(torch.float32)
    x = x * torch.rsqrt(x.pow(2).mean(-1, keepdim=True) + eps)
    return norm.weight * x.to(dtype)


def _rotate_half(x: torch.Tensor) -> torch.Tensor:
    half = x.shape[-1] // 2
    return torch.cat((-x[..., half:], x[..., :half]), dim=-1)


def _lean_layer(layer: Any, index: int, hidden: torch.Tensor, cos: torch.Tensor,
                sin: torch.Tensor, state: CascadeState) -> torch.Tensor:
    args: tuple[Any, ...] = (hidden,)
    for hook in list(layer._forward_pre_hooks.values()):
        result = hook(layer, args)
        if result is not None:
            args = result if isinstance(result, tuple) else (result,)
    hidden = args[0]
    attn = layer.self_attn
    rows, q, _ = hidden.shape
    dim = attn.head_dim
    x = _rms_norm(layer.input_layernorm, hidden)
    query = F.linear(x, attn.q_proj.weight, attn.q_proj.bias).view(rows, q, -1, dim).transpose(1, 2)
    key = F.linear(x, attn.k_proj.weight, attn.k_proj.bias).view(rows, q, -1, dim).transpose(1, 2)
    value = F.linear(x, attn.v_proj.weight, attn.v_proj.bias).view(rows, q, -1, dim).transpose(1, 2)
    query = (query * cos) + (_rotate_half(query) * sin)
    key = (key * cos) + (_rotate_half(key) * sin)
    out = state.attend(index, query, key, value, attn.scaling).reshape(rows, q, -1)
    hidden = hidden + F.linear(out, attn.o_proj.weight, attn.o_proj.bias)
    mlp = layer.mlp
    x = _rms_norm(layer.post_attention_layernorm, hidden)
    gate = F.silu(F.linear(x, mlp.gate_proj.weight, mlp.gate_proj.bias))
    hidden = hidden + F.linear(gate * F.linear(x, mlp.up_proj.weight, mlp.up_proj.bias),
                               mlp.down_proj.weight, mlp.down_proj.bias)
    for hook in list(layer._forward_hooks.values()):
        result = hook(layer, args, hidden)
        if result is not None:
            hidden = result
    return hidden
