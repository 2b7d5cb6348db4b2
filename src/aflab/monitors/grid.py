"""The stress grid: every monitor (behind every defence) on every transform of the inputs.

    config = stress_config(labels="builtin:test", monitors=("af-motive", "keyword"),
                           transforms=("base64", "rot13"), defences=("decode",))
    result = run_stress(config)           # then report.write_stress_report(result, out)

The ``plain`` transform and the ``none`` defence are always in the grid: every cell's
``delta_auroc_vs_plain`` is its AUROC minus that of the same monitor on plain text with
no defence. With the ``paraphrase`` defence, its cost in information is reported per
monitor: the AUROC lost on plain text, and how much of the wording survives. With
``weak_to_strong``, the monitors are taken as ordered from weakest to strongest (e.g.
judge models of growing size) and the report draws AUROC against that order.
"""

from __future__ import annotations

import logging
import math
import re
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np
from inspect_ai.model import Model
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from aflab.errors import AflabUsageError, validation_error
from aflab.monitors.defences import DEFENCES, Defended, apply_defence
from aflab.monitors.inputs import Inputs, load_inputs
from aflab.monitors.metrics import monitor_metrics
from aflab.monitors.monitors import MonitorItem, Scored, nan_scores, resolve_monitor
from aflab.monitors.rewriter import Rewriter
from aflab.monitors.transforms import TRANSFORMS, Transformed, apply_transform, get_transform

__all__ = ["DEFAULT_MONITORS", "StressConfig", "StressResult", "run_stress", "stress_config",
           "weak_to_strong"]

logger = logging.getLogger(__name__)

#: Offline and quick: two local classifiers, the baseline, the action and the hybrid.
DEFAULT_MONITORS = ("af-motive", "af-lexical", "keyword", "output-only", "hybrid")


class StressConfig(BaseModel):
    """One stress test; each field is also a flag of ``aflab monitors stress``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    labels: str = Field(description="Label file (aflab's AF format), builtin, builtin:train, "
                        "builtin:test, a public set by name (hughes2025), or an evaluation "
                        "log (.eval file or folder; labels from its AF judge).")
    split: str | None = Field(None, description="Only rows whose 'split' column has this "
                              "value (label files).")
    limit: int | None = Field(None, ge=1, description="Only the first N rows.")
    monitors: tuple[str, ...] = Field(DEFAULT_MONITORS, min_length=1, description=(
        "Monitors: af-lexical, af-minilm, af-motive/af-local, keyword, output-only, hybrid, "
        "hybrid:MONITOR, cascade:LOCAL+MODEL, PROVIDER/MODEL (LLM judge), PATH.json."))
    transforms: tuple[str, ...] = Field(tuple(TRANSFORMS), min_length=1, description=(
        "Transforms (`aflab monitors transforms`); plain is always included."))
    defences: tuple[str, ...] = Field(("none",), min_length=1, description=(
        "Defences: none, decode, paraphrase; none is always included."))
    votes: int = Field(5, ge=1, description="Votes of each LLM-judge monitor per row.")
    judge_max_tokens: int = Field(200, ge=1, description="Reply limit of each judge vote.")
    band: tuple[float, float] = Field((0.2, 0.8), description="Cascade monitors: local "
                                      "scores in [LOW, HIGH] go to the judge.")
    rewriter: str | None = Field(None, description="Inspect model for the language and "
                                 "paraphrase transforms and defence [default: offline "
                                 "fallbacks].")
    rewriter_max_tokens: int = Field(2048, ge=16, description="Reply limit of each rewrite.")
    with_output: bool = Field(False, description="Scratchpad monitors also read the final "
                              "output (never transformed).")
    hybrid_weight: float = Field(0.5, ge=0.0, le=1.0, description="Weight of the scratchpad "
                                 "score in hybrid monitors (the output gets the rest).")
    fpr: float = Field(0.01, gt=0.0, lt=1.0, description="False-positive rate of the TPR "
                       "metric.")
    resamples: int = Field(1000, ge=0, description="Bootstrap resamples of each interval.")
    seed: int = Field(0, description="Seed of the bootstrap.")
    cache: bool = Field(True, description="Inspect's model output cache for rewrites and "
                        "judge votes (a rerun makes no new calls).")
    weak_to_strong: bool = Field(False, description="The monitors are given from weakest to "
                                 "strongest: add the weak-to-strong figure.")


def stress_config(**options: Any) -> StressConfig:
    """A validated config with ``plain``/``none`` first; bad names are one-line errors."""
    try:
        config = StressConfig(**options)
    except ValidationError as err:
        raise validation_error(err, "monitors stress", "config") from None
    for name in config.transforms:
        get_transform(name)
    for name in config.defences:
        if name not in DEFENCES:
            raise AflabUsageError(f"defence {name!r}: use one of {', '.join(DEFENCES)}")
    low, high = config.band
    if not 0.0 <= low <= high <= 1.0:
        raise AflabUsageError(f"band {config.band}: need 0 <= LOW <= HIGH <= 1")
    return config.model_copy(update={
        "transforms": _first("plain", config.transforms),
        "defences": _first("none", config.defences),
        "monitors": tuple(dict.fromkeys(config.monitors))})


def _first(name: str, names: tuple[str, ...]) -> tuple[str, ...]:
    return (name, *dict.fromkeys(n for n in names if n != name))


@dataclass
class StressResult:
    config: StressConfig
    inputs: Inputs
    cells: list[dict[str, Any]]
    transforms: dict[str, dict[str, Any]]
    defences: dict[str, dict[str, Any]]
    monitors: dict[str, dict[str, Any]]
    scores: dict[str, list[float | None]] = field(default_factory=dict)

    def cell(self, monitor: str, transform: str, defence: str = "none") -> dict[str, Any]:
        return next(c for c in self.cells if (c["monitor"], c["transform"], c["defence"])
                    == (monitor, transform, defence))


def _key(item: MonitorItem) -> tuple[str, str, str, str]:
    return item.scratchpad, item.output, item.request, item.setting


def _score_view(monitor: Any, items: list[MonitorItem | None], memo: dict) -> Scored:
    """Scores of one view; rows already scored (same texts) are not scored again."""
    todo = list(dict.fromkeys(_key(i) for i in items if i is not None and _key(i) not in memo))
    if todo:
        done = monitor.score([MonitorItem(*k) for k in todo])
        for k, s, f in zip(todo, done.scores, done.flags, strict=True):
            memo[k] = (float(s), bool(f))
    out = nan_scores(len(items))
    for n, item in enumerate(items):
        if item is not None:
            out.scores[n], out.flags[n] = memo[_key(item)]
    return out


_WORDS = re.compile(r"\w+")


def _wording_kept(before: list[str], after: list[str | None]) -> float:
    """Mean share of each text's distinct words that are still there after rewriting."""
    shares = []
    for a, b in zip(before, after, strict=True):
        words = set(_WORDS.findall(a.lower()))
        if b is not None and words:
            shares.append(len(words & set(_WORDS.findall(b.lower()))) / len(words))
    return float(np.mean(shares)) if shares else math.nan


def _example(texts: list[str | None], labels: list[int], limit: int = 360) -> str:
    pick = next((t for t, y in zip(texts, labels, strict=True) if y == 1 and t), None)
    pick = pick if pick is not None else next((t for t in texts if t), "")
    return pick if len(pick) <= limit else pick[:limit] + " …"


def run_stress(
    config: StressConfig,
    *,
    models: Mapping[str, Model] | None = None,
    progress: Callable[[str], None] | None = None,
) -> StressResult:
    """Score every (monitor, defence, transform) cell with intervals; see the module doc.

    ``models`` maps model names to ready Inspect models (tests, custom providers)."""
    say = progress or logger.info
    models = models or {}
    monitors = {spec: resolve_monitor(spec, votes=config.votes, with_output=config.with_output,
                                      hybrid_weight=config.hybrid_weight, band=config.band,
                                      cache=config.cache,
                                      judge_max_tokens=config.judge_max_tokens, models=models)
                for spec in config.monitors}
    inputs = load_inputs(config.labels, split=config.split, limit=config.limit)
    rows, labels = inputs.rows, inputs.labels
    rewriter = None
    if config.rewriter is not None:
        if config.rewriter not in models:
            from aflab.models.checks import check_model

            check_model(config.rewriter, role="rewriter")
        rewriter = Rewriter(models.get(config.rewriter, config.rewriter), cache=config.cache,
                            max_tokens=config.rewriter_max_tokens)
    say(f"{len(rows)} rows ({sum(labels)} AF) from {inputs.name}")

    plain = [r.scratchpad for r in rows]
    transformed: dict[str, Transformed] = {}
    views: dict[tuple[str, str], Defended] = {}
    for t in config.transforms:
        transformed[t] = apply_transform(t, plain, rewriter=rewriter)
        for d in config.defences:
            views[d, t] = apply_defence(d, transformed[t].texts, rewriter=rewriter)
    say(f"{len(config.transforms)} transforms x {len(config.defences)} defences ready")

    cells: list[dict[str, Any]] = []
    scores: dict[str, list[float | None]] = {}
    monitor_info: dict[str, dict[str, Any]] = {}
    for spec, monitor in monitors.items():
        start, memo = time.perf_counter(), {}
        for (d, t), view in views.items():
            items = [None if text is None else
                     MonitorItem(text, r.output, r.request, r.setting)
                     for text, r in zip(view.texts, rows, strict=True)]
            scored = _score_view(monitor, items, memo)
            metrics = monitor_metrics(labels, scored.scores, scored.flags, fpr=config.fpr,
                                      resamples=config.resamples, seed=config.seed)
            cells.append({"monitor": spec, "defence": d, "transform": t, **metrics})
            scores[f"{spec}|{d}|{t}"] = [None if math.isnan(s) else round(float(s), 6)
                                         for s in scored.scores]
        monitor_info[spec] = {"kind": monitor.kind, "threshold": monitor.threshold,
                              "reads": monitor.reads,
                              "seconds": round(time.perf_counter() - start, 2),
                              "usage": monitor.usage()}
        say(f"monitor {spec}: {len(views)} cells in {monitor_info[spec]['seconds']} s")

    reference = {c["monitor"]: c["auroc"]["value"] for c in cells
                 if c["transform"] == "plain" and c["defence"] == "none"}
    for c in cells:
        c["delta_auroc_vs_plain"] = c["auroc"]["value"] - reference[c["monitor"]]
    transforms_info = {t: {"description": TRANSFORMS[t].description,
                           "invertible": TRANSFORMS[t].invertible, "via": tr.via,
                           "usage": tr.usage, "failed": sum(x is None for x in tr.texts),
                           "example": _example(tr.texts, labels)}
                       for t, tr in transformed.items()}
    defences_info: dict[str, dict[str, Any]] = {
        d: {"description": DEFENCES[d],
            "by_transform": {t: views[d, t].info for t in config.transforms}}
        for d in config.defences}
    if "paraphrase" in config.defences:
        para = views["paraphrase", "plain"].texts
        defences_info["paraphrase"]["cost_on_plain"] = {
            "wording_kept": _wording_kept(plain, para),
            "auroc_lost": {m: reference[m] - next(
                c["auroc"]["value"] for c in cells if (c["monitor"], c["defence"],
                                                       c["transform"]) == (m, "paraphrase",
                                                                           "plain"))
                for m in monitors},
        }
    return StressResult(config, inputs, cells, transforms_info, defences_info, monitor_info,
                        scores)


def weak_to_strong(result: StressResult, defence: str = "none") -> dict[str, Any]:
    """AUROC (and interval) per transform along the monitors' order, weakest first."""
    order = list(result.config.monitors)
    series = {t: [result.cell(m, t, defence)["auroc"] for m in order]
              for t in result.config.transforms}
    return {"order": order, "defence": defence, "auroc": series}
