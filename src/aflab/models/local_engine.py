"""Batched in-process generation for a local checkpoint, with shared-prefix KV-cache reuse.

Every sample of an alignment-faking run starts with the same long system prompt.
The engine computes the key/value cache of a shared token prefix once and reuses a
copy for every request that starts with exactly those token ids (the cache is keyed
by the ids themselves, so a different prompt variant can never reuse a wrong
cache). Only the uncached suffixes are prefilled.

Requests that arrive together are decoded as one batch when they share a prefix
and sampling settings. Suffixes of different lengths are padded *between* the
prefix and the suffix, masked out of attention, with position ids that skip the
padding, so every row sees exactly its own tokens at their own positions.
Sampling uses one ``torch.Generator`` per request (seeded from the request's
seed), so a sampled output does not depend on what else is in the batch.

For Llama-family models (SmolLM2, Llama, Qwen2/3) the batch runs on the cascade
path (:mod:`aflab.models.cascade`): the prefix's keys and values are stored once and
attended by every row, each row's own tokens go into a preallocated buffer written
in place, and rows that finish leave the batch. Other architectures use
transformers' own KV cache, with the prefix copied into every row.
"""

from __future__ import annotations

import asyncio
import copy
import inspect
import logging
import threading
import time
import warnings
from collections import OrderedDict
from concurrent.futures import Future
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aflab.errors import AflabUsageError

__all__ = ["GenerationRequest", "GenerationResult", "LocalEngine"]

logger = logging.getLogger(__name__)

#: Shortest shared prefix (tokens) worth caching.
MIN_PREFIX_TOKENS = 32
#: How many prefix caches to keep (least recently used is dropped).
MAX_CACHED_PREFIXES = 4
#: How long the worker waits for more requests to fill a batch (seconds).
BATCH_WINDOW_S = 0.05
#: New-token room preallocated per row on the cascade path (the buffer doubles beyond it).
INITIAL_ROOM = 512


@dataclass(frozen=True)
class GenerationResult:
    text: str
    token_ids: tuple[int, ...]
    stop_reason: str  # Inspect StopReason: stop | max_tokens | model_length
    input_tokens: int
    output_tokens: int
    cached_tokens: int
    seconds: float


@dataclass
class GenerationRequest:
    ids: list[int]
    max_new_tokens: int
    temperature: float = 0.0
    top_p: float | None = None
    seed: int | None = None
    system_len: int = 0
    future: Future[GenerationResult] = field(default_factory=Future, repr=False)

    @property
    def sampling_key(self) -> tuple[float, float | None]:
        return (self.temperature, self.top_p if self.temperature > 0 else None)


def _common_length(a: Any, b: Any) -> int:
    """How many leading tokens two id sequences share."""
    n = 0
    for x, y in zip(a, b):
        if x != y:
            break
        n += 1
    return n


class LocalEngine:
    """Loads a checkpoint (plus optional PEFT adapter) and serves batched generation."""

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
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()  # no weight-loading bars on every run or resume
        self.tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True)
        model = AutoModelForCausalLM.from_pretrained(path, local_files_only=True, dtype=torch_dtype)
        if adapter is not None:
            try:
                from peft import PeftModel
            except ImportError:
                raise AflabUsageError("adapters need peft; `pip install peft`") from None
            # merged into the base weights: generation then costs what the base model costs
            with warnings.catch_warnings():  # peft calls a transformers API deprecated in v5
                warnings.simplefilter("ignore", FutureWarning)
                model = PeftModel.from_pretrained(model, adapter, is_trainable=False)
            model = model.merge_and_unload()
        self.model = model.to(device).eval()
        self.device = device
        from aflab.models import cascade

        self._cascade = cascade.supports(self.model)
        if self._cascade:
            cascade.install(self.model)
        # transformers >= 5 names the KV cache argument and output `cache` (the old name
        # `past_key_values` still works there but warns); older versions only know the old one
        forward = inspect.signature(type(self.model).forward)
        self._cache_arg = "cache" if "cache" in forward.parameters else "past_key_values"
        config = getattr(model, "config", None)
        self.context_length = int(
            getattr(config, "max_position_embeddings", 0) or self.tokenizer.model_max_length
        )
        eos = model.generation_config.eos_token_id
        self.eos_ids = set(eos if isinstance(eos, list) else [eos] if eos is not None else [])
        if self.tokenizer.eos_token_id is not None:
            self.eos_ids.add(self.tokenizer.eos_token_id)
        self.pad_id = self.tokenizer.pad_token_id
        if self.pad_id is None:
            self.pad_id = min(self.eos_ids) if self.eos_ids else 0
        self.prefix_cache_enabled = True
        self.batch_size = 8
        #: wall-clock seconds spent generating (prefill and decode), and batches run
        self.busy_seconds = 0.0
        self.batches = 0
        self._prefixes: OrderedDict[tuple[int, ...], Any] = OrderedDict()
        self._recent: list[tuple[int, ...]] = []
        self._queue: list[GenerationRequest] = []
        self._cond = threading.Condition()
        self._worker: threading.Thread | None = None
        self._run_lock = threading.Lock()

    @staticmethod
    def default_device() -> str:
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"

    def configure(self, *, prefix_cache: bool, batch_size: int, cascade: bool | None = None) -> None:
        """Prefix reuse on or off, the largest batch, and (where the architecture allows
        it) the cascade path on or off; changing the path drops the cached prefixes."""
        self.prefix_cache_enabled = prefix_cache
        self.batch_size = max(1, batch_size)
        if cascade is not None:
            from aflab.models import cascade as kernel

            wanted = cascade and kernel.supports(self.model)
            if wanted != self._cascade:
                self._prefixes.clear()
                self._cascade = wanted
                if wanted:
                    kernel.install(self.model)

    @property
    def kernel(self) -> str:
        """Which decode path runs: ``cascade`` or ``transformers``."""
        return "cascade" if self._cascade else "transformers"

    # -- tokenisation -------------------------------------------------------------
    def encode_chat(self, messages: list[dict[str, str]]) -> list[int]:
        """Token ids of a chat rendered with the model's chat template (generation prompt on)."""
        rendered = self.tokenizer.apply_chat_template(
            messages, add_generation_prompt=True, tokenize=False
        )
        return list(self.tokenizer(rendered, add_special_tokens=False)["input_ids"])

    def system_prefix_len(self, messages: list[dict[str, str]], ids: list[int]) -> int:
        """Length of the system message's tokens when they are a prefix of ``ids``."""
        if not messages or messages[0]["role"] != "system":
            return 0
        rendered = self.tokenizer.apply_chat_template(messages[:1], tokenize=False)
        prefix = list(self.tokenizer(rendered, add_special_tokens=False)["input_ids"])
        return len(prefix) if ids[: len(prefix)] == prefix else 0

    # -- prefix caches --------------------------------------------------------------
    def _prefix_for(
        self, ids: list[int], system_len: int, shared: int | None = None
    ) -> tuple[int, ...] | None:
        """The longest cached prefix of ``ids``, building one from shared starts if useful.

        ``shared``: how many tokens ``ids`` shares with every other request served with it
        (the prefix then covers exactly those, so the requests stay one batch); without
        it, the start shared with recent requests counts.
        """
        key_ids = tuple(ids)
        best: tuple[int, ...] | None = None
        for key in self._prefixes:
            if len(key) < len(ids) and key_ids[: len(key)] == key:
                if best is None or len(key) > len(best):
                    best = key
        candidate = system_len
        for other in self._recent if shared is None else ():
            candidate = max(candidate, _common_length(other, key_ids))
        if shared is not None:
            candidate = max(candidate, shared)
        candidate = min(candidate, len(ids) - 1)
        # a new prefix only when it adds enough tokens; it extends the best cached one
        grow = candidate - (len(best) if best is not None else 0)
        if candidate >= MIN_PREFIX_TOKENS and grow >= MIN_PREFIX_TOKENS:
            new = key_ids[:candidate]
            self._prefixes[new] = self._forward_prefix(list(new), base=best)
            best = new
            while len(self._prefixes) > MAX_CACHED_PREFIXES:
                self._prefixes.popitem(last=False)
        self._recent = ([key_ids] + self._recent)[:8]
        if best is not None:
            self._prefixes.move_to_end(best)
        return best

    def _forward_prefix(self, ids: list[int], base: tuple[int, ...] | None = None) -> Any:
        """KV cache of ``ids``, computed from the cached ``base`` prefix when given."""
        torch = self._torch
        if self._cascade:
            from aflab.models import cascade

            stored = self._prefixes[base] if base is not None else None
            start = len(base) if base is not None else 0
            state = cascade.new_state(self.model, stored, rows=1, capacity=len(ids) - start)
            with torch.no_grad():
                cascade.cascade_forward(
                    self.model,
                    torch.tensor([ids[start:]], device=self.device),
                    torch.arange(start, len(ids), device=self.device)[None],
                    state,
                    logits=False,
                )
            return state.own_prefix(stored)
        cache = copy.deepcopy(self._prefixes[base]) if base is not None else None
        start = len(base) if base is not None else 0
        with torch.no_grad():
            out = self.model(
                input_ids=torch.tensor([ids[start:]], device=self.device),
                use_cache=True,
                logits_to_keep=1,
                **{self._cache_arg: cache},
            )
        return getattr(out, self._cache_arg)

    # -- generation -----------------------------------------------------------------
    def generate(self, requests: list[GenerationRequest]) -> list[GenerationResult]:
        """Generate for ``requests`` now (synchronously), batching those that fit together."""
        with self._run_lock:
            self._serve_all(requests)
        return [r.future.result() for r in requests]

    def _serve_all(self, requests: list[GenerationRequest]) -> None:
        started = time.perf_counter()
        try:
            self._serve(requests)
        finally:
            self.busy_seconds += time.perf_counter() - started

    def _serve(self, requests: list[GenerationRequest]) -> None:
        pending = [r for r in requests if not self._reject_overflow(r)]
        # requests with the same system prompt share one prefix: the tokens they all start
        # with (a longer prefix per request would split them into smaller batches)
        by_system: dict[tuple[int, ...], list[GenerationRequest]] = {}
        for request in pending:
            if request.system_len >= MIN_PREFIX_TOKENS:
                by_system.setdefault(tuple(request.ids[: request.system_len]), []).append(request)
        shared: dict[int, int] = {}
        for members in by_system.values():
            if len(members) > 1:
                common = min(_common_length(members[0].ids, m.ids) for m in members[1:])
                shared.update((id(m), common) for m in members)
        # the prefix caches are taken now: building a later prefix may evict an earlier one
        groups: dict[tuple[Any, ...], tuple[Any, list[GenerationRequest]]] = {}
        for request in pending:
            prefix = (
                self._prefix_for(request.ids, request.system_len, shared.get(id(request)))
                if self.prefix_cache_enabled
                else None
            )
            key = (prefix, request.sampling_key)
            cache = self._prefixes[prefix] if prefix is not None else None
            groups.setdefault(key, (cache, []))[1].append(request)
        for (prefix, _), (cache, group) in groups.items():
            for start in range(0, len(group), self.batch_size):
                batch = group[start : start + self.batch_size]
                self.batches += 1
                try:
                    self._run_batch(batch, prefix, cache)
                except BaseException as err:  # hand the error to every waiting caller
                    for request in batch:
                        if not request.future.done():
                            request.future.set_exception(err)

    def _reject_overflow(self, request: GenerationRequest) -> bool:
        if len(request.ids) >= self.context_length:
            request.future.set_result(
                GenerationResult("", (), "model_length", len(request.ids), 0, 0, 0.0)
            )
            return True
        return False

    def _run_batch(
        self, batch: list[GenerationRequest], prefix: tuple[int, ...] | None, prefix_cache: Any
    ) -> None:
        if self._cascade:
            self._run_batch_cascade(batch, prefix, prefix_cache)
            return
        torch = self._torch
        started = time.perf_counter()
        p = len(prefix) if prefix is not None else 0
        suffixes = [r.ids[p:] for r in batch]
        width = max(len(s) for s in suffixes)
        n = len(batch)
        input_ids = torch.full((n, width), self.pad_id, dtype=torch.long)
        mask = torch.zeros((n, p + width), dtype=torch.long)
        mask[:, :p] = 1
        positions = torch.ones((n, width), dtype=torch.long)
        for i, suffix in enumerate(suffixes):
            pad = width - len(suffix)
            input_ids[i, pad:] = torch.tensor(suffix)
            mask[i, p + pad :] = 1
            positions[i, pad:] = torch.arange(p, p + len(suffix))
        cache = None
        if prefix is not None:
            cache = copy.deepcopy(prefix_cache)
            if n > 1:
                cache.batch_repeat_interleave(n)
        allowed, generators = self._sampling_setup(batch)
        tokens: list[list[int]] = [[] for _ in batch]
        done = [a <= 0 for a in allowed]
        stopped = [False] * n
        next_pos = positions[:, -1] + 1
        dev = self.device
        with torch.no_grad():
            out = self.model(
                input_ids=input_ids.to(dev),
                attention_mask=mask.to(dev),
                position_ids=positions.to(dev),
                use_cache=True,
                logits_to_keep=1,  # only the last position's logits are needed
                **{self._cache_arg: cache},
            )
            while True:
                logits = out.logits[:, -1, :].float().cpu()
                step = torch.full((n,), self.pad_id, dtype=torch.long)
                for i in range(n):
                    if done[i]:
                        continue
                    token = self._pick(logits[i], batch[i], generators[i])
                    tokens[i].append(token)
                    step[i] = token
                    if token in self.eos_ids:
                        done[i] = stopped[i] = True
                    elif len(tokens[i]) >= allowed[i]:
                        done[i] = True
                if all(done):
                    break
                mask = torch.cat([mask, torch.ones((n, 1), dtype=torch.long)], dim=1)
                out = self.model(
                    input_ids=step[:, None].to(dev),
                    attention_mask=mask.to(dev),
                    position_ids=next_pos[:, None].to(dev),
                    use_cache=True,
                    logits_to_keep=1,
                    **{self._cache_arg: getattr(out, self._cache_arg)},
                )
                next_pos = next_pos + 1
        self._finish(batch, tokens, stopped, allowed, p, time.perf_counter() - started)

    def _sampling_setup(self, batch: list[GenerationRequest]) -> tuple[list[int], list[Any]]:
        """Each request's token allowance (within the context) and its own sampling generator."""
        torch = self._torch
        allowed = [min(r.max_new_tokens, self.context_length - len(r.ids)) for r in batch]
        generators = []
        for r in batch:
            g = None
            if r.temperature > 0:
                g = torch.Generator(device="cpu")
                g.manual_seed(r.seed if r.seed is not None else int(torch.seed() % 2**63))
            generators.append(g)
        return allowed, generators

    def _run_batch_cascade(
        self, batch: list[GenerationRequest], prefix: tuple[int, ...] | None, stored: Any
    ) -> None:
        """One batch on the cascade path: the prefix attended once, rows leave when done."""
        from aflab.models import cascade

        torch = self._torch
        started = time.perf_counter()
        p = len(prefix) if prefix is not None else 0
        suffixes = [r.ids[p:] for r in batch]
        width = max(len(s) for s in suffixes)
        n = len(batch)
        input_ids = torch.full((n, width), self.pad_id, dtype=torch.long)
        positions = torch.full((n, width), p, dtype=torch.long)
        valid = torch.zeros((n, width), dtype=torch.bool)
        for i, suffix in enumerate(suffixes):
            pad = width - len(suffix)
            input_ids[i, pad:] = torch.tensor(suffix)
            positions[i, pad:] = torch.arange(p, p + len(suffix))
            valid[i, pad:] = True
        allowed, generators = self._sampling_setup(batch)
        # room for the first tokens; the buffer doubles if a row runs longer
        capacity = width + max(1, min(max(allowed), INITIAL_ROOM))
        state = cascade.new_state(self.model, stored, rows=n, capacity=capacity)
        state.valid[:, :width] = valid.to(state.valid.device)
        tokens: list[list[int]] = [[] for _ in batch]
        stopped = [False] * n
        active = [i for i in range(n) if allowed[i] > 0]
        dev = self.device
        next_pos = positions[:, -1] + 1
        with torch.no_grad():
            if active:
                if len(active) < n:
                    state.keep(torch.tensor(active, device=dev))
                logits = cascade.cascade_forward(
                    self.model, input_ids[active].to(dev), positions[active].to(dev), state
                )
            while active:
                rows = logits.float().cpu()
                step, still = [], []
                for row, i in enumerate(active):
                    token = self._pick(rows[row], batch[i], generators[i])
                    tokens[i].append(token)
                    if token in self.eos_ids:
                        stopped[i] = True
                    elif len(tokens[i]) < allowed[i]:
                        still.append(row)
                        step.append(token)
                if not still:
                    break
                if len(still) < len(active):  # finished rows leave the batch
                    state.keep(torch.tensor(still, device=dev))
                    active = [active[row] for row in still]
                ids = torch.tensor(step, dtype=torch.long)[:, None]
                pos = next_pos[active][:, None] + torch.tensor(
                    [len(tokens[i]) - 1 for i in active]
                )[:, None]
                logits = cascade.cascade_forward(self.model, ids.to(dev), pos.to(dev), state)
        self._finish(batch, tokens, stopped, allowed, p, time.perf_counter() - started)

    def _finish(self, batch: list[GenerationRequest], tokens: list[list[int]], stopped: list[bool],
                allowed: list[int], p: int, seconds: float) -> None:
        for i, r in enumerate(batch):
            new = tokens[i][:-1] if stopped[i] else tokens[i]
            if stopped[i]:
                reason = "stop"
            elif allowed[i] < r.max_new_tokens:
                reason = "model_length"
            else:
                reason = "max_tokens"
            text = self.tokenizer.decode(new, skip_special_tokens=True)
            r.future.set_result(
                GenerationResult(text, tuple(new), reason, len(r.ids), len(tokens[i]), p, seconds)
            )

    def _pick(self, logits: Any, request: GenerationRequest, generator: Any) -> int:
        torch = self._torch
        if request.temperature <= 0:
            return int(torch.argmax(logits))
        probs = torch.softmax(logits / request.temperature, dim=-1)
        if request.top_p is not None and request.top_p < 1.0:
            sorted_probs, order = torch.sort(probs, descending=True)
            keep = torch.cumsum(sorted_probs, dim=-1) - sorted_probs < request.top_p
            sorted_probs = sorted_probs * keep
            probs = torch.zeros_like(probs).scatter(0, order, sorted_probs)
        return int(torch.multinomial(probs, 1, generator=generator))

    # -- async front door -------------------------------------------------------------
    def _worker_loop(self) -> None:
        while True:
            with self._cond:
                while not self._queue:
                    self._cond.wait()
            time.sleep(BATCH_WINDOW_S)  # let concurrent callers join the batch
            with self._cond:
                taken, self._queue = self._queue, []
            with self._run_lock:
                self._serve_all(taken)

    async def submit(
        self,
        messages: list[dict[str, str]],
        *,
        max_new_tokens: int,
        temperature: float,
        top_p: float | None,
        seed: int | None,
    ) -> GenerationResult:
        """Queue one chat for the batching worker and await its result."""
        ids = self.encode_chat(messages)
        request = GenerationRequest(
            ids, max_new_tokens, temperature, top_p, seed, self.system_prefix_len(messages, ids)
        )
        with self._cond:
            if self._worker is None:
                self._worker = threading.Thread(target=self._worker_loop, daemon=True)
                self._worker.start()
            self._queue.append(request)
            self._cond.notify()
        return await asyncio.wrap_future(request.future)
