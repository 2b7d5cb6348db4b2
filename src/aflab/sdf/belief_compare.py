"""Run the belief tasks for several models and compare them, paired on the same questions.

    result = compare_beliefs({"organism": "organism/smollm2-sdf", "base": "aflab-local/smollm2"},
                             load_universe("animal_welfare"), out="runs/beliefs/smollm2-sdf")

Each model's Inspect logs go to ``OUT/LABEL``; ``OUT/beliefs.json`` and ``OUT/beliefs.md``
hold accuracy per kind with 95% Wilson intervals and, for every model against the
reference (the last label, the base model), the paired difference over the same
questions with Newcombe's interval and McNemar's exact p-value.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aflab.analysis.stats import paired_gap, proportion
from aflab.errors import AflabUsageError
from aflab.sdf.beliefs import KINDS, Scoring, belief_task
from aflab.sdf.universe import Universe

__all__ = ["compare_beliefs", "summarise", "render_markdown"]


def _values(log: Any) -> dict[str, int]:
    out = {}
    for sample in log.samples or []:
        score = next(iter((sample.scores or {}).values()), None)
        if score is not None:
            out[str(sample.id)] = int(score.value)
    return out


def summarise(results: dict[str, dict[str, dict[str, int]]], reference: str | None) -> dict[str, Any]:
    """Accuracy per model and kind, and paired comparisons with ``reference``.

    ``results[label][kind]`` maps sample id to 0/1. Pairs use the ids both models have.
    """
    summary: dict[str, Any] = {"models": {}, "paired": {}}
    for label, kinds in results.items():
        summary["models"][label] = {}
        for kind, values in kinds.items():
            p = proportion(sum(values.values()), len(values))
            summary["models"][label][kind] = {"k": p.k, "n": p.n, "accuracy": p.rate,
                                              "ci": list(p.ci) if p.ci else None}
    if reference is None:
        return summary
    for label, kinds in results.items():
        if label == reference:
            continue
        summary["paired"][label] = {}
        for kind, values in kinds.items():
            ref = results[reference].get(kind, {})
            ids = sorted(set(values) & set(ref))
            gap = paired_gap([bool(values[i]) for i in ids], [bool(ref[i]) for i in ids])
            summary["paired"][label][kind] = {
                "n_pairs": gap.n_pairs, "difference": gap.gap,
                "ci": list(gap.ci) if gap.ci else None, "mcnemar_p": gap.mcnemar_p,
                "better_only_here": gap.b, "better_only_reference": gap.c,
                "reference": reference}
    return summary


def render_markdown(summary: dict[str, Any], title: str) -> str:
    pct = lambda v: "-" if v is None else f"{100 * v:.0f}%"  # noqa: E731
    lines = [f"# {title}", "", "| model | kind | accuracy [95% CI] | n |", "| --- | --- | --- | --- |"]
    for label, kinds in summary["models"].items():
        for kind, s in kinds.items():
            ci = s["ci"] or [None, None]
            lines.append(f"| {label} | {kind} | {pct(s['accuracy'])} [{pct(ci[0])}, {pct(ci[1])}] "
                         f"| {s['n']} |")
    if summary["paired"]:
        lines += ["", "| model vs reference | kind | difference [95% CI] | only model / only ref "
                  "right | McNemar exact p |", "| --- | --- | --- | --- | --- |"]
        for label, kinds in summary["paired"].items():
            for kind, s in kinds.items():
                ci = s["ci"] or [None, None]
                p = "-" if s["mcnemar_p"] is None else f"{s['mcnemar_p']:.2g}"
                lines.append(f"| {label} vs {s['reference']} | {kind} | {pct(s['difference'])} "
                             f"[{pct(ci[0])}, {pct(ci[1])}] | {s['better_only_here']} / "
                             f"{s['better_only_reference']} | {p} |")
    return "\n".join(lines) + "\n"


def compare_beliefs(
    models: dict[str, Any],
    universe: Universe,
    *,
    out: str | Path,
    kinds: tuple[str, ...] = KINDS,
    scoring: Scoring = "auto",
    probe: bool = False,
    fact_ids: list[str] | None = None,
    seed: int = 0,
    display: str = "none",
) -> dict[str, Any]:
    """Evaluate every model on the same belief tasks; the last label is the reference."""
    from inspect_ai import eval as inspect_eval

    if not models:
        raise AflabUsageError("compare_beliefs needs at least one model")
    out_dir = Path(out)
    results: dict[str, dict[str, dict[str, int]]] = {}
    for label, model in models.items():
        tasks = [belief_task(universe, k, scoring=scoring, probe=probe,  # type: ignore[arg-type]
                             fact_ids=fact_ids, seed=seed) for k in kinds]
        logs = inspect_eval(tasks, model=model, log_dir=str(out_dir / label), display=display,
                            log_level="warning", score_display=False)
        failed = [log for log in logs if log.status != "success"]
        if failed:
            raise AflabUsageError(f"belief evaluation of {model} failed: "
                                  f"{failed[0].error.message if failed[0].error else 'see logs'}")
        results[label] = {log.eval.task_args.get("kind") or log.eval.metadata["kind"]: _values(log)
                          for log in logs}
    labels = list(models)
    summary = summarise(results, labels[-1] if len(labels) > 1 else None)
    summary.update({"universe": universe.name, "universe_sha256": universe.sha256,
                    "model_names": {k: str(v) for k, v in models.items()}, "probe": probe,
                    "scoring": scoring, "seed": seed, "results": results})
    out_dir.mkdir(parents=True, exist_ok=True)
    (out_dir / "beliefs.json").write_text(json.dumps(summary, indent=2) + "\n")
    (out_dir / "beliefs.md").write_text(render_markdown(summary, f"Beliefs: {universe.name}"
                                                        + (" (robustness probe)" if probe else "")))
    return summary
