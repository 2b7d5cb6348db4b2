"""Measure behaviour under an intervention with aflab's own evaluation.

Steering and noise change the in-process model's forward pass (hooks, or perturbed
weights); :func:`measure` then runs the ordinary aflab evaluation (``run_evaluation``:
the setting, variant and data, local classifiers) into its own log directory and reads
the result back from the logs like ``aflab report`` does: compliance per tier, the
paired gap with its interval, the share of samples whose format could be classified, and
the per-query outcomes that the paired bootstraps below need.

The engine's shared-prefix KV cache is turned off for these runs (``-M
prefix_cache=false``): a cache built without the intervention must never be reused with
it, nor the other way round. A ``condition.json`` in each log directory records the
intervention; rerunning resumes only the same condition.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from aflab.errors import AflabUsageError

__all__ = ["Behaviour", "EvalSpec", "bootstrap_mean_ci", "gap_shift", "measure"]

_CLASSIFIED = {"complied", "partial", "refused"}


class EvalSpec(BaseModel):
    """Which evaluation measures the behaviour (the organism evaluation's defaults)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    setting: str = Field("animal_welfare", description="Evaluation setting.")
    variants: tuple[str, ...] = Field(("minimal_prompt=format",),
                                      description="Prompt variant knobs of the evaluation.")
    data: str = Field("builtin:heldout", description="Queries of the evaluation.")
    limit: int | None = Field(None, description="First N queries.")
    tiers: Literal["both", "free", "paid"] = Field("both", description="Tiers to run.")
    temperature: float = Field(1.0, description="Sampling temperature.")
    seed: int = Field(0, description="Generation seed (each request its own stream).")
    max_tokens: int = Field(256, description="Tokens per assistant turn.")
    max_turns: int = Field(4, description="Assistant turns while still in the scratchpad.")


@dataclass
class Behaviour:
    """What one condition did."""

    name: str
    log_dir: str
    tiers: dict[str, dict[str, Any]]
    gap: float | None
    gap_ci: list[float] | None
    n_pairs: int
    format_rate: float | None
    outcomes: dict[str, dict[str, int | None]]  # "QUERY@EPOCH" -> tier -> 1/0/None

    def rate(self, tier: str) -> float | None:
        return self.tiers.get(tier, {}).get("compliance_rate")

    def summary(self) -> dict[str, Any]:
        keep = ("n", "n_classified", "compliance_rate", "compliance_ci")
        return {"name": self.name, "log_dir": self.log_dir, "gap": self.gap,
                "gap_ci": self.gap_ci, "n_pairs": self.n_pairs, "format_rate": self.format_rate,
                "tiers": {t: {k: v.get(k) for k in keep} for t, v in self.tiers.items()}}


def _sample_ids(spec: EvalSpec) -> tuple[str, ...]:
    if spec.tiers == "both":
        return ()
    from aflab.data.loaders import load_queries

    queries = load_queries(spec.data, spec.setting)  # type: ignore[arg-type]
    queries = queries[:spec.limit] if spec.limit else queries
    return tuple(f"{q.id}__{spec.tiers}" for q in queries)


def measure(model: str, spec: EvalSpec, log_dir: str | Path, *, name: str,
            condition: dict[str, Any], model_args: dict[str, Any] | None = None,
            display: str | None = "none") -> Behaviour:
    """Run the evaluation of ``model`` (under whatever intervention is active) into
    ``log_dir`` and read its behaviour back."""
    from aflab.analysis.report import build_summary
    from aflab.evaluation.run import RunConfig, run_evaluation

    log_dir = Path(log_dir)
    record = log_dir / "condition.json"
    if record.is_file() and json.loads(record.read_text(encoding="utf-8")) != condition:
        raise AflabUsageError(f"{log_dir} holds another condition's run; give a new --out")
    log_dir.mkdir(parents=True, exist_ok=True)
    record.write_text(json.dumps(condition, indent=2), encoding="utf-8")
    config = RunConfig(
        setting=spec.setting, model=model, variants=spec.variants, data=spec.data,
        limit=spec.limit, temperature=spec.temperature, seed=spec.seed,
        max_tokens=spec.max_tokens, max_turns=spec.max_turns, local_classifiers=True,
        log_dir=str(log_dir), model_args={**(model_args or {}), "prefix_cache": False},
        sample_ids=_sample_ids(spec))
    run_evaluation(config, display=display)
    summary, records = build_summary([log_dir])
    run = summary["runs"][0]
    outcomes: dict[str, dict[str, int | None]] = {}
    for r in records:
        value = None if r["category"] not in _CLASSIFIED else int(r["category"] == "complied")
        outcomes.setdefault(f"{r['query_id']}@{r['epoch']}", {})[r["tier"]] = value
    n = sum(t["n"] for t in run["tiers"].values())
    classified = sum(t["n_classified"] for t in run["tiers"].values())
    return Behaviour(name, str(log_dir), run["tiers"], run["compliance_gap"],
                     run["compliance_gap_ci"], int(run["n_pairs"] or 0),
                     classified / n if n else None, outcomes)


def bootstrap_mean_ci(values: Sequence[float], *, n_boot: int = 2000, seed: int = 0,
                      ) -> tuple[float, float]:
    """95% percentile interval of the mean of ``values`` (resampling the values)."""
    v = np.asarray(values, dtype=float)
    if len(v) == 0:
        return (float("nan"), float("nan"))
    rng = np.random.default_rng(seed)
    means = v[rng.integers(0, len(v), (n_boot, len(v)))].mean(axis=1)
    lo, hi = np.percentile(means, [2.5, 97.5])
    return float(lo), float(hi)


def gap_shift(condition: Behaviour, baseline: Behaviour, *, n_boot: int = 2000, seed: int = 0,
              ) -> dict[str, Any]:
    """Change of the compliance gap against ``baseline`` over the queries whose both tiers
    were classified in both runs: mean of ``(f_c - p_c) - (f_b - p_b)`` with a paired
    bootstrap interval over queries."""
    diffs = []
    for key, tiers in condition.outcomes.items():
        base = baseline.outcomes.get(key, {})
        values = [tiers.get("free"), tiers.get("paid"), base.get("free"), base.get("paid")]
        if any(v is None for v in values):
            continue
        fc, pc, fb, pb = values
        diffs.append((fc - pc) - (fb - pb))  # type: ignore[operator]
    if not diffs:
        return {"shift": None, "ci": None, "n_pairs": 0}
    return {"shift": float(np.mean(diffs)), "ci": list(bootstrap_mean_ci(diffs, n_boot=n_boot,
                                                                         seed=seed)),
            "n_pairs": len(diffs)}
