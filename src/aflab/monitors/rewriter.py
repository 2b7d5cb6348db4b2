"""A rewriter: any Inspect model that rewrites scratchpads (translate, paraphrase), cached.

    rewriter = Rewriter("openai/gpt-4o")              # or an Inspect Model object
    texts = rewriter.rewrite([prompt_1, prompt_2])    # str, or None where the reply failed

One call per text at temperature 0 (seed 0) through Inspect's model output cache (no
expiry, ``$INSPECT_CACHE_DIR`` or Inspect's cache folder), so rerunning a stress test
makes no new calls for texts already rewritten. A reply that is no answer (provider
error, content filter, empty) is retried once and then kept as ``None``: the grid
leaves that row out of the cell and counts it (never a silent fallback).
"""

from __future__ import annotations

import asyncio
from typing import Any

from inspect_ai.model import CachePolicy, GenerateConfig, Model, ModelOutput, get_model

from aflab.classifiers.judge_replies import reply_error

__all__ = ["CACHE_POLICY", "CachedModel", "Rewriter", "cached_model"]

#: The cache used for every model call of the monitors package (rewrites and judge votes).
CACHE_POLICY = CachePolicy(expiry=None, per_epoch=False)


class CachedModel:
    """An Inspect model whose every ``generate`` call goes through Inspect's cache (and,
    with ``max_tokens``, has its reply limited to that many tokens)."""

    def __init__(self, model: Model, policy: CachePolicy | bool = CACHE_POLICY,
                 max_tokens: int | None = None) -> None:
        self.model = model
        self.policy = policy
        self.max_tokens = max_tokens

    async def generate(self, input: Any, *args: Any, **kwargs: Any) -> ModelOutput:
        kwargs.setdefault("cache", self.policy)
        if self.max_tokens is not None:
            config = kwargs.get("config") or GenerateConfig()
            kwargs["config"] = config.merge(GenerateConfig(max_tokens=self.max_tokens))
        return await self.model.generate(input, *args, **kwargs)

    def __str__(self) -> str:
        return str(self.model)


def cached_model(model: str | Model, *, cache: bool = True, max_tokens: int | None = None,
                 ) -> CachedModel:
    """``model`` (a name or an Inspect model) with Inspect's cache on (or off)."""
    resolved = get_model(model) if isinstance(model, str) else model
    return CachedModel(resolved, CACHE_POLICY if cache else False, max_tokens)


class Rewriter:
    """Rewrites texts with one model; counts calls, tokens and failed replies."""

    def __init__(self, model: str | Model, *, cache: bool = True, max_tokens: int = 2048,
                 max_concurrency: int = 8) -> None:
        self.model = cached_model(model, cache=cache)
        self.name = str(self.model)
        self.max_tokens = max_tokens
        self.max_concurrency = max_concurrency
        self.calls = self.errors = self.input_tokens = self.output_tokens = 0

    def __repr__(self) -> str:
        return f"Rewriter({self.name!r})"

    async def _one(self, prompt: str, limit: asyncio.Semaphore) -> str | None:
        config = GenerateConfig(temperature=0.0, seed=0, max_tokens=self.max_tokens)
        async with limit:
            for _ in range(2):
                output = await self.model.generate(prompt, config=config)
                self.calls += 1
                if output.usage is not None:
                    self.input_tokens += output.usage.input_tokens
                    self.output_tokens += output.usage.output_tokens
                if reply_error(output) is None:
                    return output.completion.strip()
        self.errors += 1
        return None

    def rewrite(self, prompts: list[str]) -> list[str | None]:
        """The model's reply to each prompt (``None`` where no usable reply came back)."""

        async def run() -> list[str | None]:
            limit = asyncio.Semaphore(self.max_concurrency)
            return list(await asyncio.gather(*(self._one(p, limit) for p in prompts)))

        return asyncio.run(run()) if prompts else []

    def usage(self) -> dict[str, Any]:
        """Calls (cache hits included), failed replies and tokens so far."""
        return {"model": self.name, "calls": self.calls, "failed_replies": self.errors,
                "input_tokens": self.input_tokens, "output_tokens": self.output_tokens}
