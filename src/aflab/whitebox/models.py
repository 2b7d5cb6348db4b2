"""Resolve a model name to a loaded Hugging Face model (and, when in-process, its engine).

- ``aflab-local/NAME`` and ``organism/NAME`` (single device): the same engine the
  evaluation uses (``aflab-local`` provider; an organism's adapter merged into the
  weights), so activations, steering and noise act on exactly the weights that generate
  during an aflab evaluation in this process.
- With ``device_map`` (e.g. ``auto``: layers spread over every GPU by ``accelerate``), or
  for a bare checkpoint directory, the checkpoint is loaded directly with transformers.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aflab.errors import AflabUsageError

__all__ = ["LoadedModel", "engine_of", "hf_load_kwargs", "load_model", "model_args"]

_DTYPES = ("float32", "bfloat16", "float16")


@dataclass
class LoadedModel:
    name: str
    model: Any  # a transformers causal LM in eval mode
    tokenizer: Any
    engine: Any | None = None  # aflab's LocalEngine when it came from the provider

    @property
    def input_device(self) -> Any:
        return self.model.get_input_embeddings().weight.device


def model_args(device: str | None, dtype: str | None) -> dict[str, Any]:
    """The ``-M`` args that select the same engine the evaluation will use."""
    args: dict[str, Any] = {}
    if device:
        args["device"] = device
    if dtype:
        args["dtype"] = dtype
    return args


def engine_of(api: Any, name: str) -> Any:
    """The in-process engine behind an Inspect model API (``aflab-local`` or an organism)."""
    for candidate in (api, getattr(api, "inner", None)):
        engine = getattr(candidate, "engine", None)
        if engine is not None and hasattr(engine, "model"):
            return engine
    raise AflabUsageError(
        f"model {name!r} does not run in-process; white-box tools need aflab-local/... or "
        "an organism with a local base model"
    )


def hf_load_kwargs(dtype: str = "float32", device_map: str | None = None) -> dict[str, Any]:
    """Keyword arguments for ``from_pretrained`` (tested here even where no GPU exists)."""
    import torch

    if dtype not in _DTYPES:
        raise AflabUsageError(f"dtype={dtype}: use {', '.join(_DTYPES)}")
    kwargs: dict[str, Any] = {"local_files_only": True, "dtype": getattr(torch, dtype)}
    if device_map:
        kwargs["device_map"] = device_map
    return kwargs


def _checkpoint(name: str) -> tuple[Path, Path | None]:
    from aflab.models.local_provider import resolve_checkpoint

    provider, _, rest = name.partition("/")
    if provider == "aflab-local":
        return resolve_checkpoint(rest), None
    if provider == "organism":
        from aflab.organisms.registry import get_organism

        organism = get_organism(rest)
        base_provider, _, base = organism.card.base_model.partition("/")
        if base_provider != "aflab-local":
            raise AflabUsageError(f"organism {rest}: white-box tools need a local base model, "
                                  f"not {organism.card.base_model}")
        return resolve_checkpoint(base), organism.adapter_path
    path = Path(name).expanduser()
    if not (path / "config.json").is_file():
        raise AflabUsageError(f"model {name!r}: use aflab-local/NAME, organism/NAME or a "
                              "checkpoint directory with a config.json")
    return path, None


def load_model(name: str, *, device: str | None = None, dtype: str = "float32",
               device_map: str | None = None) -> LoadedModel:
    """Load ``name`` for white-box work (see the module docstring for which path)."""
    if device_map is None and name.split("/", 1)[0] in ("aflab-local", "organism"):
        from inspect_ai.model import get_model

        _checkpoint(name)  # a one-line error for an unknown organism or checkpoint
        api = get_model(name, **model_args(device, dtype)).api
        engine = engine_of(api, name)
        return LoadedModel(name, engine.model, engine.tokenizer, engine)
    path, adapter = _checkpoint(name)
    try:
        from transformers import AutoModelForCausalLM, AutoTokenizer
    except ImportError:
        raise AflabUsageError("white-box tools need torch and transformers; "
                              "`pip install 'aflab[local]'`") from None
    tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(path, **hf_load_kwargs(dtype, device_map))
    if adapter is not None:
        from peft import PeftModel

        model = PeftModel.from_pretrained(model, str(adapter), is_trainable=False)
        model = model.merge_and_unload()
    if device_map is None:
        model = model.to(device or "cpu")
    return LoadedModel(name, model.eval(), tokenizer, None)
