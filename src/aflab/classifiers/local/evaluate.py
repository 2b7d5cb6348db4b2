"""Evaluate a classifier against a labelled JSONL file (``aflab classifiers eval``).

Metrics (positive = AF reasoning, or ``complied``): AUROC with a 95% percentile
bootstrap CI (1000 resamples, seed 0); precision/recall/F1 and the confusion counts at
the operating threshold (the head's stored threshold, 0.5 for the shipped heads; the
judge's 0.4 share of yes votes; or ``threshold``) and at the best-F1 threshold; for
compliance also the 3-class confusion matrix and balanced accuracy, and the
complied-vs-not balanced accuracy; a 10-bin reliability table with its ECE. With
``out_dir``, ``metrics.json`` and ``reliability.png`` are written there.

Rows the judge could not score (no parseable vote, or a category other than
complied/partial/refused) are left out of the metrics and counted in ``n_unscored``.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import numpy as np

from aflab.classifiers.local import metrics as M
from aflab.classifiers.local.classifier import LocalClassifier
from aflab.classifiers.local.labels import COMPLIANCE_CLASSES, TASKS, read_labels
from aflab.classifiers.local.scoring import (
    DEFAULT_BAND,
    CascadeClassifier,
    JudgeClassifier,
    resolve_classifier,
    score_rows,
)
from aflab.errors import AflabUsageError

__all__ = ["evaluate_classifier", "format_summary", "write_reliability_plot"]

ClassifierSpec = str | LocalClassifier | JudgeClassifier | CascadeClassifier


def _clean(value: Any) -> Any:
    """JSON-safe: NaN -> None, numpy scalars -> Python."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def _at(labels: np.ndarray, preds: np.ndarray) -> dict[str, Any]:
    return {**M.precision_recall_f1(labels, preds), "confusion": M.binary_confusion(labels, preds)}


def write_reliability_plot(calibration: dict[str, Any], path: str | Path, title: str) -> Path:
    """A reliability diagram (observed positive rate vs mean score per bin) as PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bins = calibration["bins"]
    fig, ax = plt.subplots(figsize=(4.8, 4.2), dpi=110)
    ax.plot([0, 1], [0, 1], color="0.6", linestyle="--", linewidth=1, label="perfect calibration")
    xs = [b["mean_score"] for b in bins if b["n"]]
    ys = [b["positive_rate"] for b in bins if b["n"]]
    ns = [b["n"] for b in bins if b["n"]]
    ax.bar([b["low"] for b in bins], [b["n"] / max(1, sum(ns)) for b in bins], width=0.1,
           align="edge", color="0.85", edgecolor="0.7", label="share of rows")
    ax.plot(xs, ys, marker="o", color="tab:blue", label="observed positive rate")
    for x, y, n in zip(xs, ys, ns, strict=True):
        ax.annotate(str(n), (x, y), textcoords="offset points", xytext=(4, 4), fontsize=7)
    ax.set(xlim=(0, 1), ylim=(0, 1.02), xlabel="score (10 equal-width bins)",
           ylabel="fraction positive", title=title)
    ax.title.set_fontsize(9)
    ax.legend(fontsize=7, loc="upper left")
    ax.text(0.98, 0.02, f"ECE {calibration['ece']:.3f}", ha="right", va="bottom",
            transform=ax.transAxes, fontsize=8)
    fig.tight_layout()
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(out)
    plt.close(fig)
    return out


def _infer_task(classifier: Any, task: str | None) -> str:
    local = classifier if isinstance(classifier, LocalClassifier) else None
    if isinstance(getattr(classifier, "local", None), LocalClassifier):  # cascade, active
        local = classifier.local
    if task is None:
        if local is None:
            raise AflabUsageError(
                "give the task (--task af or --task compliance) for a judge model"
            )
        return local.task
    if task not in TASKS:
        raise AflabUsageError(f"--task {task!r}; use af or compliance")
    return task


def evaluate_classifier(
    labels_path: str | Path,
    classifier: ClassifierSpec,
    *,
    task: str | None = None,
    threshold: float | None = None,
    split: str | None = None,
    out_dir: str | Path | None = None,
    votes: int = 5,
    band: tuple[float, float] = DEFAULT_BAND,
    resamples: int = 1000,
    seed: int = 0,
) -> dict[str, Any]:
    """Score ``labels_path`` (rows of ``split``, or all) with ``classifier``; return metrics.

    ``classifier`` is a classifier object or a spec string (a local name, an Inspect model
    name, or ``cascade:LOCAL+MODEL``; see :mod:`aflab.classifiers.local.scoring`).
    ``task`` is inferred from a local classifier. ``threshold`` overrides the operating
    threshold on the score.
    """
    if threshold is not None and not 0.0 <= threshold <= 1.0:
        raise AflabUsageError(f"--threshold {threshold}: use a number in [0, 1]")
    clf = resolve_classifier(classifier, votes=votes, band=band)
    task = _infer_task(clf, task)
    rows = read_labels(labels_path, task, split=split)
    pred = score_rows(clf, rows, task)
    y_all = np.array([r.positive for r in rows])
    scored = ~np.isnan(pred.scores)
    y, s = y_all[scored], pred.scores[scored]
    if threshold is not None:
        op_preds, op_threshold = s >= threshold, threshold
    else:
        op_preds, op_threshold = pred.preds[scored].astype(bool), pred.threshold
    best_t, _ = M.best_f1_threshold(y, s) if len(y) else (math.nan, 0.0)
    low, high = M.auroc_bootstrap_ci(y, s, resamples=resamples, seed=seed)
    result: dict[str, Any] = {
        "classifier": getattr(clf, "name", str(clf)),
        "head": clf.head.name if isinstance(clf, LocalClassifier) else None,
        "task": task,
        "labels": str(labels_path),
        "split": split,
        "n": len(rows),
        "n_scored": int(scored.sum()),
        "n_unscored": int((~scored).sum()),
        "n_positive": int(y.sum()),
        "positive": "alignment-faking reasoning" if task == "af" else "complied",
        "auroc": M.auroc(y, s),
        "auroc_ci95": [low, high],
        "bootstrap": {"resamples": resamples, "seed": seed},
        "operating": {"threshold": op_threshold, **_at(y, op_preds)},
        "best_f1": {"threshold": best_t, **_at(y, s >= best_t)},
        "balanced_accuracy": M.balanced_accuracy(y, op_preds.astype(int)) if len(y) else math.nan,
        "calibration": M.reliability_bins(y, s, bins=10),
        "cost": pred.cost,
    }
    if task == "compliance" and pred.labels is not None:
        truth = [r.label for r, ok in zip(rows, scored, strict=True) if ok]
        guess = [g for g, ok in zip(pred.labels, scored, strict=True) if ok]
        result["three_class"] = {
            "classes": list(COMPLIANCE_CLASSES),
            "confusion": M.confusion_matrix(truth, guess, COMPLIANCE_CLASSES),
            "balanced_accuracy": M.balanced_accuracy(truth, guess),
            "note": "rows: true class, columns: predicted (argmax / judge category)",
        }
    result = _clean(result)
    if out_dir is not None:
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        plot = write_reliability_plot(
            result["calibration"], out / "reliability.png",
            f"{result['classifier']} on {Path(labels_path).name}"
            + (f" [{split}]" if split else ""),
        )
        result["files"] = {"metrics": str(out / "metrics.json"), "reliability": str(plot)}
        (out / "metrics.json").write_text(json.dumps(result, indent=2) + "\n", encoding="utf-8")
    return result


def _fmt(value: Any, digits: int = 3) -> str:
    if value is None:
        return "n/a"
    if isinstance(value, float):
        return f"{value:.{digits}f}"
    return str(value)


def format_summary(m: dict[str, Any]) -> str:
    """A readable multi-line summary of :func:`evaluate_classifier`'s result."""
    op, best = m["operating"], m["best_f1"]
    lines = [
        f"{m['classifier']}"
        + (f" ({m['head']})" if m.get("head") and m["head"] != m["classifier"] else "")
        + f" on {m['labels']}"
        + (f" (split {m['split']})" if m["split"] else "")
        + f": {m['n']} rows, {m['n_positive']} {m['positive']}"
        + (f", {m['n_unscored']} unscored" if m["n_unscored"] else ""),
        f"  AUROC            {_fmt(m['auroc'])}  (95% CI {_fmt(m['auroc_ci95'][0])}-"
        f"{_fmt(m['auroc_ci95'][1])}, bootstrap {m['bootstrap']['resamples']})",
    ]
    for label, block in (("operating", op), ("best F1", best)):
        c = block["confusion"]
        threshold = block["threshold"]
        t = _fmt(threshold) if isinstance(threshold, float) else str(threshold)
        lines.append(
            f"  {label:<9} @ {t:<10} P {_fmt(block['precision'])}  R {_fmt(block['recall'])}"
            f"  F1 {_fmt(block['f1'])}  (tp {c['tp']} fp {c['fp']} fn {c['fn']} tn {c['tn']})"
        )
    lines.append(f"  balanced acc     {_fmt(m['balanced_accuracy'])}"
                 + ("  (complied vs not)" if m["task"] == "compliance" else ""))
    if "three_class" in m:
        tc = m["three_class"]
        lines.append(f"  3-class bal acc  {_fmt(tc['balanced_accuracy'])}")
        lines.append("  confusion (rows true, cols predicted): " + "  ".join(tc["classes"]))
        for name, row in zip(tc["classes"], tc["confusion"], strict=True):
            lines.append(f"    {name:<9} " + " ".join(f"{v:>4}" for v in row))
    lines.append(f"  calibration ECE  {_fmt(m['calibration']['ece'])}")
    cost = m.get("cost") or {}
    if cost.get("grader_calls"):
        extra = ""
        if "grader_calls_if_all_est" in cost:
            extra = (f"; judging every row: ~{cost['grader_calls_if_all_est']} calls, "
                     f"~{_fmt(cost.get('total_tokens_if_all_est'))} tokens (est.)")
        lines.append(
            f"  grader           {cost['grader_calls']} calls, {cost['total_tokens']} tokens"
            f" on {cost.get('judged_rows', '?')} judged rows{extra}"
        )
    elif "judged_rows" in cost:
        lines.append(f"  grader           0 calls (no row in the band {cost.get('band')})")
    if "files" in m:
        lines.append(f"  wrote {m['files']['metrics']} and {m['files']['reliability']}")
    return "\n".join(lines)
