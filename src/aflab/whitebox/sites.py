"""Canonical activation sites, mapped once per architecture.

A site is named like TransformerLens names it: ``blocks.{L}.{kind}`` with ``kind`` one of

- ``resid_pre``: the residual stream entering decoder layer ``L`` (its first input);
- ``resid_post``: the residual stream leaving layer ``L`` (the layer's output; for the
  last layer this is *before* the final norm);
- ``attn_out``: the attention block's output, before it is added to the residual;
- ``mlp_out``: the MLP block's output, before it is added to the residual.

Where these modules live differs by architecture (``model.layers[i].self_attn`` in Llama,
``transformer.h[i].attn`` in GPT-2, ...): :data:`ARCHITECTURES` maps each Hugging Face
``model_type`` to the paths once, so the rest of :mod:`aflab.whitebox` never looks inside
a model. ``blocks.*.resid_post`` expands to every layer.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any, Literal

from aflab.errors import AflabUsageError

__all__ = ["ARCHITECTURES", "SITE_KINDS", "Architecture", "Site", "architecture_of",
           "decoder_layers", "expand_sites", "first_tensor", "n_layers", "parse_site",
           "site_module",
           "unwrap"]

SiteKind = Literal["resid_pre", "resid_post", "attn_out", "mlp_out"]
SITE_KINDS: tuple[str, ...] = ("resid_pre", "resid_post", "attn_out", "mlp_out")
_SITE_RE = re.compile(r"^blocks\.(\d+|\*)\.([a-z_]+)$")


@dataclass(frozen=True)
class Architecture:
    """Attribute paths: the decoder-layer list, and attention / MLP inside one layer."""

    layers: str
    attn: str
    mlp: str


_LLAMA_LIKE = Architecture("model.layers", "self_attn", "mlp")
#: Hugging Face ``config.model_type`` -> where its blocks are.
ARCHITECTURES: dict[str, Architecture] = {
    **{name: _LLAMA_LIKE for name in (
        "llama", "mistral", "mixtral", "qwen2", "qwen2_moe", "qwen3", "qwen3_moe", "gemma",
        "gemma2", "gemma3_text", "phi3", "olmo", "olmo2", "granite", "smollm3", "cohere",
        "starcoder2", "deepseek_v3")},
    "gpt2": Architecture("transformer.h", "attn", "mlp"),
    "gpt_neox": Architecture("gpt_neox.layers", "attention", "mlp"),
    "gptj": Architecture("transformer.h", "attn", "mlp"),
}


@dataclass(frozen=True)
class Site:
    """A parsed site name: ``blocks.{layer}.{kind}``."""

    layer: int
    kind: SiteKind

    @property
    def name(self) -> str:
        return f"blocks.{self.layer}.{self.kind}"


def unwrap(model: Any) -> Any:
    """The plain Hugging Face model inside a PEFT wrapper (a merged model is returned as is)."""
    get_base = getattr(model, "get_base_model", None)
    return get_base() if callable(get_base) else model


def architecture_of(model: Any) -> Architecture:
    """The block paths of ``model``'s architecture; a one-line error for an unknown one."""
    model_type = getattr(getattr(unwrap(model), "config", None), "model_type", None)
    if model_type not in ARCHITECTURES:
        raise AflabUsageError(
            f"architecture {model_type!r} has no site map; known: "
            f"{', '.join(sorted(ARCHITECTURES))} (add it to aflab.whitebox.sites.ARCHITECTURES)"
        )
    return ARCHITECTURES[model_type]


def _get(obj: Any, path: str) -> Any:
    for part in path.split("."):
        obj = getattr(obj, part)
    return obj


def decoder_layers(model: Any) -> Any:
    """The decoder-layer ``ModuleList`` (``model.model.layers`` for Llama-like models)."""
    return _get(unwrap(model), architecture_of(model).layers)


def n_layers(model: Any) -> int:
    return len(decoder_layers(model))


def parse_site(name: str, layers: int) -> Site:
    """Parse and range-check one site name against a model with ``layers`` layers."""
    match = _SITE_RE.match(str(name).strip())
    if not match or match.group(2) not in SITE_KINDS or match.group(1) == "*":
        raise AflabUsageError(
            f"unknown site {name!r}; use blocks.L.KIND with KIND one of "
            f"{', '.join(SITE_KINDS)} (e.g. blocks.5.resid_post)"
        )
    layer = int(match.group(1))
    if not 0 <= layer < layers:
        raise AflabUsageError(
            f"site {name!r}: layer {layer} out of range; the model has {layers} layers "
            f"(0-{layers - 1})"
        )
    return Site(layer, match.group(2))  # type: ignore[arg-type]


def expand_sites(names: list[str] | tuple[str, ...], layers: int) -> list[Site]:
    """Sites in the order given; ``blocks.*.KIND`` is every layer; duplicates dropped."""
    out: list[Site] = []
    for name in names:
        match = _SITE_RE.match(str(name).strip())
        if match and match.group(1) == "*":
            if match.group(2) not in SITE_KINDS:
                parse_site(name.replace("*", "0"), layers)  # raises the one-line error
            found = [Site(i, match.group(2)) for i in range(layers)]  # type: ignore[arg-type]
        else:
            found = [parse_site(name, layers)]
        out.extend(s for s in found if s not in out)
    if not out:
        raise AflabUsageError("no sites given; e.g. --site blocks.*.resid_post")
    return out


def site_module(model: Any, site: Site) -> tuple[Any, bool]:
    """(module, is_pre_hook): where a hook for ``site`` goes. ``resid_pre`` is the
    decoder layer's input (a forward pre-hook); the others are module outputs."""
    arch = architecture_of(model)
    layer = decoder_layers(model)[site.layer]
    if site.kind == "resid_pre":
        return layer, True
    if site.kind == "resid_post":
        return layer, False
    return _get(layer, arch.attn if site.kind == "attn_out" else arch.mlp), False


def first_tensor(value: Any) -> Any:
    """A module's hidden-state output: the tensor itself or the first element of a tuple."""
    return value[0] if isinstance(value, (tuple, list)) else value
