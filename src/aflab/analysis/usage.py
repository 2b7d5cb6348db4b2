"""Token usage and estimated cost of a run, per model role, from Inspect's usage records.

Prices are US dollars per million tokens: ``input``, ``cached_input`` (cache reads)
and ``output``. The built-in table covers a few common API models and treats local
models (``aflab-local/``, ``hf/``, ``vllm/``, ``mockllm/``) as free; a user table
(JSON, same shape) given by ``$AFLAB_PRICES`` or ``prices=`` overrides or extends it.
A model missing from both tables gets ``cost: null`` rather than a guess.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any

from inspect_ai.log import EvalLog
from inspect_ai.model import ModelUsage

from aflab.errors import AflabUsageError

__all__ = ["DEFAULT_PRICES", "load_prices", "price_usage", "run_usage"]

#: USD per million tokens. Check your provider's current prices; override with $AFLAB_PRICES.
DEFAULT_PRICES: dict[str, dict[str, float]] = {
    "anthropic/claude-3-opus-20240229": {"input": 15.0, "cached_input": 1.5, "output": 75.0},
    "anthropic/claude-3-5-sonnet-20240620": {"input": 3.0, "cached_input": 0.3, "output": 15.0},
    "anthropic/claude-sonnet-4-5": {"input": 3.0, "cached_input": 0.3, "output": 15.0},
    "openai/gpt-4o": {"input": 2.5, "cached_input": 1.25, "output": 10.0},
    "openai/gpt-4o-mini": {"input": 0.15, "cached_input": 0.075, "output": 0.6},
}
_FREE_PREFIXES = ("aflab-local/", "hf/", "vllm/", "mockllm/", "ollama/", "llama-cpp-python/")


def load_prices(path: str | Path | None = None) -> dict[str, dict[str, float]]:
    """The default price table updated with a user JSON file (``path`` or ``$AFLAB_PRICES``)."""
    prices = dict(DEFAULT_PRICES)
    source = path or os.environ.get("AFLAB_PRICES")
    if source:
        file = Path(source)
        try:
            user = json.loads(file.read_text(encoding="utf-8"))
        except (OSError, json.JSONDecodeError) as err:
            raise AflabUsageError(f"price table {file}: cannot read JSON ({err})") from None
        for model, entry in user.items():
            if not isinstance(entry, dict) or not {"input", "output"} <= set(entry):
                raise AflabUsageError(
                    f"price table {file}: {model!r} needs 'input' and 'output' prices per Mtok"
                )
            prices[model] = {k: float(v) for k, v in entry.items()}
    return prices


def price_usage(
    model: str, usage: ModelUsage, prices: dict[str, dict[str, float]]
) -> dict[str, Any]:
    """Token counts (uncached input, cached input, output) and estimated cost in USD."""
    cached = usage.input_tokens_cache_read or 0
    row: dict[str, Any] = {
        "model": model,
        "input_tokens": usage.input_tokens,
        "cached_input_tokens": cached,
        "output_tokens": usage.output_tokens,
    }
    if model in prices:
        p = prices[model]
        uncached = max(usage.input_tokens - cached, 0)
        row["cost_usd"] = (
            uncached * p["input"]
            + cached * p.get("cached_input", p["input"])
            + usage.output_tokens * p["output"]
        ) / 1e6
    elif model.startswith(_FREE_PREFIXES):
        row["cost_usd"] = 0.0
    else:
        row["cost_usd"] = None
    return row


def _minus(a: ModelUsage, b: ModelUsage) -> ModelUsage:
    return ModelUsage(
        input_tokens=a.input_tokens - b.input_tokens,
        output_tokens=a.output_tokens - b.output_tokens,
        total_tokens=a.total_tokens - b.total_tokens,
        input_tokens_cache_read=((a.input_tokens_cache_read or 0)
                                 - (b.input_tokens_cache_read or 0)) or None,
    )


def run_usage(log: EvalLog, prices: dict[str, dict[str, float]] | None = None) -> dict[str, Any]:
    """Usage per role (``target``, ``grader``) and the run's total estimated cost."""
    table = prices if prices is not None else load_prices()
    roles: dict[str, Any] = {}
    stats = log.stats
    role_usage = dict(stats.role_usage or {}) if stats else {}
    model_usage = dict(stats.model_usage or {}) if stats else {}
    target = log.eval.model
    roles_models = {"target": target}
    for role, spec in (log.eval.model_roles or {}).items():
        roles_models[role] = spec.model
    if target in model_usage and "target" not in role_usage:
        # model_usage is keyed by model name: take out what other roles of the same
        # model used (e.g. a grader that is the same model as the target).
        total = model_usage[target]
        for role, usage in list(role_usage.items()):
            if roles_models.get(role) == target:
                total = _minus(total, usage)
        role_usage["target"] = total
    for role, usage in sorted(role_usage.items()):
        roles[role] = price_usage(roles_models.get(role, role), usage, table)
    costs = [r["cost_usd"] for r in roles.values()]
    total = None if any(c is None for c in costs) else float(sum(costs))
    return {"roles": roles, "total_cost_usd": total}
