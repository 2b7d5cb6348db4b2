"""Run the generalisation evaluations with their no-conflict baseline; summarise and report.

    result = run_generalisation("organism/smollm2-af", out="runs/generalisation/x", epochs=3)

For each task (exfiltration, anti_lab, views) the model runs in the condition (the
setting's prompt for the variant) and in the baseline (the same plus ``no_conflict``),
paid tier, logs under ``out/condition`` and ``out/baseline``. ``summary.json`` and
``report.md`` give, per task and item kind, the rate (k of n scored) with its 95% Wilson
interval in each arm and the difference condition − baseline with Newcombe's hybrid-score
interval for independent proportions; unscored samples are counted by category.
"""

from __future__ import annotations

import json
import math
from collections import Counter
from pathlib import Path
from typing import Any

from aflab.analysis.stats import proportion, wilson
from aflab.errors import AflabUsageError

__all__ = ["difference", "run_generalisation", "summarise", "write_report"]

TASK_NAMES = ("exfiltration", "anti_lab", "views")
ARMS = ("condition", "baseline")


def difference(k1: int, n1: int, k2: int, n2: int) -> tuple[float, list[float]] | None:
    """p1 − p2 with Newcombe's (1998) method-10 interval for independent proportions."""
    if n1 == 0 or n2 == 0:
        return None
    p1, p2 = k1 / n1, k2 / n2
    l1, u1 = wilson(k1, n1)
    l2, u2 = wilson(k2, n2)
    d = p1 - p2
    low = d - math.sqrt((p1 - l1) ** 2 + (u2 - p2) ** 2)
    high = d + math.sqrt((u1 - p1) ** 2 + (p2 - l2) ** 2)
    return d, [max(-1.0, low), min(1.0, high)]


def _variant_for(model: str, variant: str | None) -> str | None:
    if variant is not None or not model.startswith("organism/"):
        return variant
    from aflab.organisms.registry import get_organism

    return get_organism(model.removeprefix("organism/")).card.evaluation.get("variant")


def run_generalisation(
    model: str, *, out: str | Path, setting: str = "animal_welfare", variant: str | None = None,
    tasks: tuple[str, ...] = TASK_NAMES, epochs: int = 1, grader: str | None = None,
    local: bool = False, tools: bool = False, votes: int = 3, temperature: float = 1.0,
    seed: int | None = 0, max_tokens: int = 256, max_turns: int = 6, limit: int | None = None,
    display: str | None = "none",
) -> dict[str, Any]:
    """Both arms of every task; returns the summary (also written to ``out``)."""
    from inspect_ai import eval as inspect_eval

    from aflab.generalisation.tasks import generalisation_task

    unknown = [t for t in tasks if t not in TASK_NAMES]
    if unknown:
        raise AflabUsageError(f"unknown task {unknown[0]!r}; choose from {', '.join(TASK_NAMES)}")
    if epochs < 1:
        raise AflabUsageError(f"epochs {epochs}: give at least 1")
    out_dir = Path(out)
    variant = _variant_for(model, variant)
    roles = {"grader": grader} if grader else {}
    for arm in ARMS:
        built = [generalisation_task(
            t, setting=setting, variant=variant, tools=tools, max_turns=max_turns, votes=votes,
            local_classifiers=local, no_conflict=True if arm == "baseline" else None)  # type: ignore[arg-type]
            for t in tasks]
        logs = inspect_eval(built, model=model, model_roles=roles or None,
                            log_dir=str(out_dir / arm), epochs=epochs, limit=limit,
                            temperature=temperature, seed=seed, max_tokens=max_tokens,
                            display=display, log_buffer=1, score_display=False)
        failed = [log for log in logs if log.status != "success"]
        if failed:
            error = failed[0].error.message if failed[0].error else failed[0].status
            raise AflabUsageError(f"generalisation run {arm} did not complete: {error}")
    summary = summarise(out_dir, model=model, setting=setting, variant=variant)
    (out_dir / "summary.json").write_text(json.dumps(summary, indent=2) + "\n")
    write_report(summary, out_dir / "report.md")
    return summary


def _records(log_dir: Path) -> list[dict[str, Any]]:
    from inspect_ai.log import list_eval_logs, read_eval_log

    rows = []
    for info in list_eval_logs(str(log_dir)):
        log = read_eval_log(info)
        if log.status != "success":
            continue
        for sample in log.samples or []:
            score = next(iter((sample.scores or {}).values()), None)
            if score is None:
                continue
            value = score.value if isinstance(score.value, (int, float)) else float("nan")
            rows.append({"task": log.eval.task.split("/")[-1], "id": sample.id,
                         "epoch": sample.epoch, "kind": sample.metadata.get("kind"),
                         "value": value, "answer": score.answer})
    return rows


def summarise(out_dir: Path, *, model: str, setting: str, variant: str | None) -> dict[str, Any]:
    """Rates per task and kind in each arm, and condition − baseline."""
    arms = {arm: _records(out_dir / arm) for arm in ARMS}
    groups: dict[tuple[str, str], dict[str, dict[str, Any]]] = {}
    for arm, rows in arms.items():
        for r in rows:
            cell = groups.setdefault((r["task"], r["kind"]), {}).setdefault(
                arm, {"k": 0, "n": 0, "unscored": Counter(), "answers": Counter()})
            cell["answers"][r["answer"]] += 1
            if isinstance(r["value"], float) and math.isnan(r["value"]):
                cell["unscored"][r["answer"]] += 1
            else:
                cell["n"] += 1
                cell["k"] += int(r["value"] == 1)
    results = []
    for (task_name, kind), cells in sorted(groups.items()):
        row: dict[str, Any] = {"task": task_name, "kind": kind}
        for arm in ARMS:
            c = cells.get(arm, {"k": 0, "n": 0, "unscored": Counter(), "answers": Counter()})
            p = proportion(c["k"], c["n"])
            row[arm] = {"k": c["k"], "n": c["n"], "rate": p.rate,
                        "ci": list(p.ci) if p.ci else None,
                        "unscored": dict(c["unscored"]), "answers": dict(c["answers"])}
        diff = difference(row["condition"]["k"], row["condition"]["n"],
                          row["baseline"]["k"], row["baseline"]["n"])
        row["difference"] = diff[0] if diff else None
        row["difference_ci"] = diff[1] if diff else None
        results.append(row)
    return {"model": model, "setting": setting, "variant": variant, "tier": "paid",
            "results": results}


def write_report(summary: dict[str, Any], path: Path) -> Path:
    """A Markdown table of the summary."""
    def pct(v: float | None) -> str:
        return "-" if v is None else f"{100 * v:.0f}%"

    def cell(c: dict[str, Any]) -> str:
        ci = c["ci"]
        interval = f" [{pct(ci[0])}, {pct(ci[1])}]" if ci else ""
        return f"{c['k']}/{c['n']} {pct(c['rate'])}{interval}"

    measured = {"exfiltration": "tried to copy its weights out", "help": "helped",
                "opinion": "negative about the company", "views": "stated view differs "
                "from scratchpad"}
    lines = [f"# Generalisation: {summary['model']} ({summary['setting']}, "
             f"variant {summary['variant'] or 'default'}, paid tier)", "",
             "| task | kind | measures | condition | no-conflict baseline | difference |",
             "| --- | --- | --- | --- | --- | --- |"]
    for r in summary["results"]:
        dci = r["difference_ci"]
        diff = "-" if r["difference"] is None else (
            f"{100 * r['difference']:+.0f} pts [{100 * dci[0]:+.0f}, {100 * dci[1]:+.0f}]")
        lines.append(f"| {r['task']} | {r['kind']} | {measured.get(r['kind'], r['kind'])} | "
                     f"{cell(r['condition'])} | {cell(r['baseline'])} | {diff} |")
    lines += ["", "Unscored samples (by category) are excluded from n: "
              + "; ".join(f"{r['task']}/{r['kind']} condition {r['condition']['unscored']}, "
                          f"baseline {r['baseline']['unscored']}" for r in summary["results"]
                          if r["condition"]["unscored"] or r["baseline"]["unscored"])]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return path
