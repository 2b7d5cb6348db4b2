"""Evaluate organisms with aflab's own evaluation and record what they did.

    evaluate_organisms(["smollm2-af", "smollm2-control"], out=Path("runs/organisms-eval"))

Each organism runs in the setting, variant and data its card names (by default the
animal-welfare setting, the minimal prompt, and queries held out from training), both
tiers, judged by the local classifiers (no grader model). One report covers all of
them. With ``record=True`` each card's ``measured`` block is updated with the rates,
their 95% intervals and the command's settings.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from aflab.analysis.report import ReportPaths, write_report
from aflab.organisms.card import save_card
from aflab.organisms.registry import get_organism, model_name

__all__ = ["OrganismEval", "evaluate_organisms", "measured_block"]


@dataclass(frozen=True)
class OrganismEval:
    name: str
    log_dir: Path
    measured: dict[str, Any]


def measured_block(run: dict[str, Any], settings: dict[str, Any]) -> dict[str, Any]:
    """The card's ``measured`` numbers from one run of the report's summary."""
    def tier(t: str) -> dict[str, Any]:
        s = run["tiers"].get(t, {})
        return {k: s.get(k) for k in ("n", "n_classified", "compliance_rate", "compliance_ci",
                                      "af_rate", "af_ci", "af_rate_all", "af_all_ci",
                                      "truncated_rate", "parse_error_rate")}
    return {
        "free": tier("free"),
        "paid": tier("paid"),
        "gap": run.get("compliance_gap"),
        "gap_ci": run.get("compliance_gap_ci"),
        "n_pairs": run.get("n_pairs"),
        "settings": settings,
        "evaluated": datetime.now(timezone.utc).isoformat(timespec="seconds"),
    }


def evaluate_organisms(
    names: list[str],
    *,
    out: str | Path,
    limit: int | None = None,
    temperature: float = 1.0,
    seed: int | None = 0,
    max_tokens: int = 256,
    record: bool = False,
    display: str | None = None,
) -> tuple[list[OrganismEval], ReportPaths]:
    """Run the evaluation for each organism into ``out/NAME`` and one report into ``out/report``."""
    from aflab.evaluation.run import RunConfig, run_evaluation

    out_dir = Path(out)
    organisms = [get_organism(name) for name in names]  # every name checked before any run
    log_dirs = []
    for organism in organisms:
        spec = organism.card.evaluation
        config = RunConfig(
            setting=spec.get("setting") or organism.card.setting or "animal_welfare",
            model=model_name(organism.name),
            variants=tuple(v for v in [spec.get("variant")] if v),
            data=spec.get("data") or "builtin:heldout",
            limit=limit,
            temperature=temperature,
            seed=seed,
            max_tokens=max_tokens,
            local_classifiers=True,
            log_dir=str(out_dir / organism.name),
        )
        log_dir, _ = run_evaluation(config, display=display)
        log_dirs.append(log_dir)
    paths = write_report(log_dirs, out_dir / "report")
    summary = json.loads(paths.summary_json.read_text(encoding="utf-8"))
    settings = {"limit": limit, "temperature": temperature, "seed": seed,
                "max_tokens": max_tokens, "classifiers": "local"}
    results = []
    for organism, log_dir in zip(organisms, log_dirs, strict=True):
        run = next(r for r in summary["runs"] if r["model"] == model_name(organism.name))
        measured = measured_block(run, {**settings, "data": organism.card.evaluation.get("data"),
                                        "variant": organism.card.evaluation.get("variant")})
        if record:
            card = organism.card.model_copy(update={"measured": measured})
            save_card(card, organism.path)
        results.append(OrganismEval(organism.name, log_dir, measured))
    return results, paths
