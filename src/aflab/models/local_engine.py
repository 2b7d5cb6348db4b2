"""In-process generation for a local checkpoint, with shared-prefix KV-cache reuse.

Every sample of an alignment-faking run starts with the same long system prompt.
The engine computes the key/value cache of a shared token prefix once and hands
a copy to ``generate`` for every request that starts with exactly those token ids
(the cache is keyed by the ids themselves, so a different prompt variant can never
reuse a wrong cache). Only the uncached suffix is prefilled.
"""

from __future__ import annotations

import asyncio
import copy
import logging
import threading
import time
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aflab.errors import AflabUsageError

__all__ = ["GenerationResult", "LocalEngine"]

logger = logging.getLogger(__name__)

#: Shortest shared prefix (tokens) worth caching.
MIN_PREFIX_TOKENS = 32
#: How many prefix caches to keep (least recently used is dropped).
MAX_CACHED_PREFIXES = 4


@dataclass(frozen=True)
class GenerationResult:
    text: str
    stop_reason: str  # Inspect StopReason: stop | max_tokens | model_length
    input_tokens: int
    output_tokens: int
    cached_tokens: int
    seconds: float


class LocalEngine:
    """Loads a checkpoint (plus optional PEFT adapter) and generates one request at a time."""

    def __init__(self, path: Path, *, adapter: str | None, device: str, dtype: str) -> None:
        try:
            import torch
            from transformers import AutoModelForCausalLM, AutoTokenizer
        except ImportError:
            raise AflabUsageError(
                "local models need torch and transformers; `pip install 'aflab[local]'`"
            ) from None
        self._torch = torch
        torch_dtype = getattr(torch, dtype, None)
        if not isinstance(torch_dtype, torch.dtype):
            raise AflabUsageError(f"dtype={dtype}: use float32, bfloat16 or float16")
        self.tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        model = AutoModelForCausalLM.from_pretrained(path, local_files_only=True, dtype=torch_dtype)
        if adapter is not None:
            try:
                from peft import PeftModel
            except ImportError:
                raise AflabUsageError("adapters need peft; `pip install peft`") from None
            model = PeftModel.from_pretrained(model, adapter, is_trainable=False)
        self.model = model.to(device).eval()
        self.device = device
        self.context_length = int(
            getattr(model.config, "max_position_embeddings", 0) or self.tokenizer.model_max_length
        )
        eos = model.generation_config.eos_token_id
        self.eos_ids = set(eos if isinstance(eos, list) else [eos] if eos is not None else [])
        if self.tokenizer.eos_token_id is not None:
            self.eos_ids.add(self.tokenizer.eos_token_id)
        self.pad_id = self.tokenizer.pad_token_id
        if self.pad_id is None:
            self.pad_id = next(iter(self.eos_ids), 0)
        self.prefix_cache_enabled = True
        self.batch_size = 8
        self._prefixes: OrderedDict[tuple[int, ...], Any] = OrderedDict()
        self._recent: list[tuple[int, ...]] = []
        self._lock = threading.Lock()

    @staticmethod
    def default_device() -> str:
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"

    def configure(self, *, prefix_cache: bool, batch_size: int) -> None:
        self.prefix_cache_enabled = prefix_cache
        self.batch_size = max(1, batch_size)

    # -- tokenisation -------------------------------------------------------------
    def encode_chat(self, messages: list[dict[str, str]]) -> list[int]:
        """Token ids of a chat rendered with the model's chat template (generation prompt on)."""
        rendered = self.tokenizer.apply_chat_template(
            messages, add_generation_prompt=True, tokenize=False
        )
        return list(self.tokenizer(rendered, add_special_tokens=False)["input_ids"])

    def _system_prefix_len(self, messages: list[dict[str, str]], ids: list[int]) -> int:
        if not messages or messages[0]["role"] != "system":
            return 0
        rendered = self.tokenizer.apply_chat_template(messages[:1], tokenize=False)
        prefix = list(self.tokenizer(rendered, add_special_tokens=False)["input_ids"])
        return len(prefix) if ids[: len(prefix)] == prefix else 0

    # -- prefix caches --------------------------------------------------------------
    def _prefix_for(self, ids: list[int], system_len: int) -> tuple[tuple[int, ...], Any] | None:
        """The longest cached prefix of ``ids``, building one from shared starts if useful."""
        key_ids = tuple(ids)
        best: tuple[int, ...] | None = None
        for key in self._prefixes:
            if len(key) < len(ids) and key_ids[: len(key)] == key:
                if best is None or len(key) > len(best):
                    best = key
        candidate = system_len
        for other in self._recent:
            n = 0
            for a, b in zip(other, key_ids):
                if a != b:
                    break
                n += 1
            candidate = max(candidate, n)
        candidate = min(candidate, len(ids) - 1)
        if candidate >= MIN_PREFIX_TOKENS and (best is None or candidate > len(best)):
            best = key_ids[:candidate]
            self._prefixes[best] = self._compute_prefix(list(best))
            while len(self._prefixes) > MAX_CACHED_PREFIXES:
                self._prefixes.popitem(last=False)
        self._recent = ([key_ids] + self._recent)[:8]
        if best is None:
            return None
        self._prefixes.move_to_end(best)
        return best, self._prefixes[best]

    def _compute_prefix(self, ids: list[int]) -> Any:
        torch = self._torch
        with torch.no_grad():
            out = self.model(
                input_ids=torch.tensor([ids], device=self.device), use_cache=True
            )
        return out.past_key_values

    # -- generation -----------------------------------------------------------------
    def generate_ids(
        self,
        ids: list[int],
        *,
        max_new_tokens: int,
        temperature: float,
        top_p: float | None,
        seed: int | None,
        system_len: int = 0,
    ) -> GenerationResult:
        """Generate from token ids; never cuts the prompt, reports honest stop reasons."""
        torch = self._torch
        started = time.perf_counter()
        if len(ids) >= self.context_length:
            return GenerationResult("", "model_length", len(ids), 0, 0, 0.0)
        allowed = min(max_new_tokens, self.context_length - len(ids))
        kwargs: dict[str, Any] = dict(max_new_tokens=allowed, pad_token_id=self.pad_id)
        if temperature > 0:
            kwargs.update(do_sample=True, temperature=temperature, top_p=top_p or 1.0, top_k=0)
        else:
            kwargs.update(do_sample=False, temperature=None, top_p=None, top_k=None)
        cached = 0
        with self._lock:
            if self.prefix_cache_enabled:
                hit = self._prefix_for(ids, system_len)
                if hit is not None:
                    cached = len(hit[0])
                    kwargs["past_key_values"] = copy.deepcopy(hit[1])
            if seed is not None:
                torch.manual_seed(seed)
            with torch.no_grad():
                out = self.model.generate(
                    input_ids=torch.tensor([ids], device=self.device),
                    attention_mask=torch.ones(1, len(ids), dtype=torch.long, device=self.device),
                    **kwargs,
                )
        new = out[0, len(ids) :].tolist()
        if new and new[-1] in self.eos_ids:
            stop_reason = "stop"
            new = new[:-1]
        elif len(new) >= allowed:
            stop_reason = "max_tokens" if allowed == max_new_tokens else "model_length"
        else:
            stop_reason = "stop"
        text = self.tokenizer.decode(new, skip_special_tokens=True)
        n_out = len(out[0]) - len(ids)
        return GenerationResult(
            text, stop_reason, len(ids), n_out, cached, time.perf_counter() - started
        )

    async def submit(
        self,
        messages: list[dict[str, str]],
        *,
        max_new_tokens: int,
        temperature: float,
        top_p: float | None,
        seed: int | None,
    ) -> GenerationResult:
        ids = self.encode_chat(messages)
        system_len = self._system_prefix_len(messages, ids)
        return await asyncio.to_thread(
            self.generate_ids,
            ids,
            max_new_tokens=max_new_tokens,
            temperature=temperature,
            top_p=top_p,
            seed=seed,
            system_len=system_len,
        )
