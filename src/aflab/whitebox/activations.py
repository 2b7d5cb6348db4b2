"""Capture activations with plain torch forward hooks and stream them to safetensors.

    store = capture(loaded, samples, sites=["blocks.*.resid_post"],
                    position="last_prompt_token", out_dir=run / "activations")

Positions: ``last_prompt_token`` (the last token of the rendered prompt, where the model
is about to answer), ``mean_response`` (mean over the continuation's tokens: the model's
own turns in a transcript, or a contrast pair's answer) or ``every_token``.

**Masking** (the textual-leakage control): with ``mask_pattern`` (e.g. the tier tag),
the tokens that overlap a match get attention mask 0, so *no other position can read
them*, and they are never pooled; position ids are unchanged. A probe that still works on
masked activations reads something other than those tokens.

**Storage**: samples are processed one shard (``shard_samples``) at a time; each shard is
one ``shard-NNNNN.safetensors`` beside ``index.jsonl`` (one row per sample: key
``ID@EPOCH``, label, group, shard, row) and ``store.json``. Memory holds at most one
shard, so a run of any length is bounded. Activations never go into ``.eval`` logs.
The forward pass stops after the deepest layer needed (``stop_early``).
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from aflab.errors import AflabUsageError
from aflab.whitebox.samples import WhiteboxSample, sample_key
from aflab.whitebox.sites import Site, expand_sites, first_tensor, n_layers, site_module

__all__ = ["POSITIONS", "Encoded", "Position", "capture", "encode", "iter_batches"]

Position = Literal["last_prompt_token", "mean_response", "every_token"]
POSITIONS: tuple[str, ...] = ("last_prompt_token", "mean_response", "every_token")


@dataclass(frozen=True)
class Encoded:
    ids: list[int]
    prompt_len: int
    masked: frozenset[int]


class _Stop(Exception):
    """Raised by the hook after the deepest captured layer: the rest is not needed."""


def _spans(text: str, pattern: str | None, tokenizer: Any) -> tuple[list[int], list[int]]:
    """Token ids of ``text`` and the indices of tokens overlapping ``pattern``."""
    if not pattern:
        return list(tokenizer(text, add_special_tokens=False)["input_ids"]), []
    if not getattr(tokenizer, "is_fast", False):
        raise AflabUsageError("masking needs a fast tokenizer (offsets); this one is not")
    enc = tokenizer(text, add_special_tokens=False, return_offsets_mapping=True)
    spans = [m.span() for m in re.finditer(pattern, text, flags=re.S)]
    masked = [i for i, (a, b) in enumerate(enc["offset_mapping"])
              if b > a and any(a < e and b > s for s, e in spans)]
    return list(enc["input_ids"]), masked


def encode(tokenizer: Any, sample: WhiteboxSample, mask_pattern: str | None = None) -> Encoded:
    """Token ids as aflab's engine renders the chat (template, generation prompt on),
    then the continuation's turns; the prompt length and the masked positions."""
    prompt = tokenizer.apply_chat_template(list(sample.prompt), add_generation_prompt=True,
                                           tokenize=False)
    ids, masked = _spans(prompt, mask_pattern, tokenizer)
    prompt_len = len(ids)
    if sample.continuation:
        full = tokenizer.apply_chat_template(list(sample.prompt) + list(sample.continuation),
                                             tokenize=False)
        if not full.startswith(prompt):
            raise AflabUsageError(f"sample {sample.id}: the chat template renders the "
                                  "conversation with a different prompt; cannot split it")
        rest, rest_masked = _spans(full[len(prompt):], mask_pattern, tokenizer)
        ids += rest
        masked += [prompt_len + i for i in rest_masked]
    return Encoded(ids, prompt_len, frozenset(masked))


def iter_batches(order: Sequence[int], lengths: Sequence[int], batch_size: int,
                 ) -> Iterator[list[int]]:
    """Indices in batches of similar length (less padding), longest first."""
    ranked = sorted(order, key=lambda i: -lengths[i])
    for start in range(0, len(ranked), batch_size):
        yield ranked[start:start + batch_size]


def _weights(torch: Any, batch: list[Encoded], width: int, position: Position,
             ids: list[str]) -> Any:
    """[B, T] pooling weights (one-hot at the last prompt token, or uniform over the
    unmasked response tokens)."""
    weights = torch.zeros((len(batch), width), dtype=torch.float32)
    for b, e in enumerate(batch):
        if position == "last_prompt_token":
            weights[b, e.prompt_len - 1] = 1.0
            continue
        keep = [t for t in range(e.prompt_len, len(e.ids)) if t not in e.masked]
        if not keep:
            raise AflabUsageError(f"sample {ids[b]}: no response tokens to average "
                                  "(mean_response needs a continuation: a transcript or pair)")
        weights[b, keep] = 1.0 / len(keep)
    return weights


def capture(loaded: Any, samples: list[WhiteboxSample], *, sites: Sequence[str],
            position: Position, out_dir: str | Path, mask_pattern: str | None = None,
            batch_size: int = 8, shard_samples: int = 256, store_dtype: str = "float32",
            stop_early: bool = True, record: dict[str, Any] | None = None) -> Path:
    """Run ``samples`` through ``loaded.model`` and write the activation store."""
    import torch
    from safetensors.torch import save_file

    if position not in POSITIONS:
        raise AflabUsageError(f"position {position!r}: use {', '.join(POSITIONS)}")
    if store_dtype not in ("float32", "float16", "bfloat16"):
        raise AflabUsageError(f"store dtype {store_dtype!r}: use float32, float16 or bfloat16")
    if batch_size < 1 or shard_samples < 1:
        raise AflabUsageError("batch size and shard size must be at least 1")
    model, tokenizer = loaded.model, loaded.tokenizer
    resolved = expand_sites(list(sites), n_layers(model))
    keys = [sample_key(s.id, s.epoch) for s in samples]
    if len(set(keys)) != len(keys):
        dup = next(k for k in keys if keys.count(k) > 1)
        raise AflabUsageError(f"duplicate sample key {dup!r}; ids must be unique per epoch")
    if not samples:
        raise AflabUsageError("no samples to capture")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    for old in out.glob("shard-*.safetensors"):
        old.unlink()
    dtype = getattr(torch, store_dtype)
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    device = loaded.input_device
    state: dict[str, Any] = {}
    hooks = []
    for site in resolved:
        module, pre = site_module(model, site)
        hooks.append(_register(module, pre, site, state))
    deepest = max(s.layer for s in resolved)
    if stop_early and deepest < n_layers(model) - 1:
        from aflab.whitebox.sites import decoder_layers

        def stop(_module: Any, _args: Any, _output: Any) -> None:
            raise _Stop

        hooks.append(decoder_layers(model)[deepest].register_forward_hook(stop))
    index_rows: list[dict[str, Any]] = []
    shards: list[str] = []
    try:
        for shard_no, start in enumerate(range(0, len(samples), shard_samples)):
            chunk = samples[start:start + shard_samples]
            encoded = [encode(tokenizer, s, mask_pattern) for s in chunk]
            rows: dict[str, list[Any]] = {s.name: [None] * len(chunk) for s in resolved}
            for batch_idx in iter_batches(range(len(chunk)), [len(e.ids) for e in encoded],
                                          batch_size):
                batch = [encoded[i] for i in batch_idx]
                width = max(len(e.ids) for e in batch)
                input_ids = torch.full((len(batch), width), pad, dtype=torch.long)
                mask = torch.zeros((len(batch), width), dtype=torch.long)
                for b, e in enumerate(batch):
                    input_ids[b, :len(e.ids)] = torch.tensor(e.ids)
                    mask[b, :len(e.ids)] = 1
                    if e.masked:
                        mask[b, sorted(e.masked)] = 0
                state.clear()
                state["weights"] = None if position == "every_token" else _weights(
                    torch, batch, width, position, [chunk[i].id for i in batch_idx])
                state["lengths"] = [len(e.ids) for e in batch]
                state["dtype"] = dtype
                positions = torch.arange(width).unsqueeze(0).expand(len(batch), -1)
                with torch.no_grad():
                    try:
                        model(input_ids=input_ids.to(device), attention_mask=mask.to(device),
                              position_ids=positions.to(device), use_cache=False,
                              logits_to_keep=1)
                    except _Stop:
                        pass
                for site in resolved:
                    for b, i in enumerate(batch_idx):
                        rows[site.name][i] = state[site.name][b]
            name = f"shard-{shard_no:05d}.safetensors"
            tensors = _shard_tensors(torch, resolved, rows, encoded, position)
            save_file(tensors, str(out / name),
                      metadata={"keys": json.dumps(keys[start:start + len(chunk)])})
            shards.append(name)
            for row, (s, e) in enumerate(zip(chunk, encoded)):
                index_rows.append({"key": sample_key(s.id, s.epoch), "id": s.id, "epoch": s.epoch,
                                   "label": s.label, "group": s.group, "shard": name, "row": row,
                                   "n_tokens": len(e.ids), "prompt_tokens": e.prompt_len,
                                   "n_masked": len(e.masked), "meta": s.meta})
    finally:
        for hook in hooks:
            hook.remove()
    with (out / "index.jsonl").open("w", encoding="utf-8") as fh:
        for row in index_rows:
            fh.write(json.dumps(row) + "\n")
    info = {"model": loaded.name, "sites": [s.name for s in resolved], "position": position,
            "mask_pattern": mask_pattern, "store_dtype": store_dtype,
            "d_model": int(model.config.hidden_size), "n_layers": n_layers(model),
            "n_samples": len(samples), "shards": shards, **(record or {})}
    (out / "store.json").write_text(json.dumps(info, indent=2, default=str), encoding="utf-8")
    return out


def _register(module: Any, pre: bool, site: Site, state: dict[str, Any]) -> Any:
    """A hook that pools (or keeps) this site's hidden states for the current batch."""

    def keep(hidden: Any) -> None:
        weights = state["weights"]
        if weights is None:  # every token: one [T_i, d] tensor per row
            state[site.name] = [hidden[b, :n].detach().to("cpu", state["dtype"])
                                for b, n in enumerate(state["lengths"])]
        else:
            pooled = (weights.to(hidden.device, hidden.dtype).unsqueeze(1) @ hidden).squeeze(1)
            state[site.name] = pooled.detach().to("cpu", state["dtype"])

    if pre:
        def pre_hook(_module: Any, args: Any, kwargs: Any) -> None:
            keep(args[0] if args else kwargs["hidden_states"])
        return module.register_forward_pre_hook(pre_hook, with_kwargs=True)

    def hook(_module: Any, _args: Any, output: Any) -> None:
        keep(first_tensor(output))
    return module.register_forward_hook(hook)


def _shard_tensors(torch: Any, sites: list[Site], rows: dict[str, list[Any]],
                   encoded: list[Encoded], position: Position) -> dict[str, Any]:
    tensors: dict[str, Any] = {}
    for site in sites:
        if position == "every_token":
            tensors[site.name] = torch.cat(rows[site.name], dim=0).contiguous()
        else:
            tensors[site.name] = torch.stack(rows[site.name], dim=0).contiguous()
    lengths = torch.tensor([0] + [len(e.ids) for e in encoded], dtype=torch.long)
    tensors["input_ids"] = torch.tensor([t for e in encoded for t in e.ids], dtype=torch.int64)
    tensors["token_offsets"] = torch.cumsum(lengths, dim=0)
    tensors["prompt_len"] = torch.tensor([e.prompt_len for e in encoded], dtype=torch.long)
    tensors["masked"] = torch.tensor([int(t in e.masked) for e in encoded
                                      for t in range(len(e.ids))], dtype=torch.uint8)
    return tensors
