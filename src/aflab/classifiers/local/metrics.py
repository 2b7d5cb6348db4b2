"""Classifier metrics in plain numpy: AUROC (+ bootstrap CI), P/R/F1, confusion, calibration.

Conventions: labels are 0/1 (1 = positive: AF reasoning, or "complied"); a score at or
above the threshold predicts positive. Every function is deterministic.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from scipy.stats import rankdata

__all__ = [
    "auroc",
    "auroc_bootstrap_ci",
    "balanced_accuracy",
    "best_f1_threshold",
    "binary_confusion",
    "confusion_matrix",
    "precision_recall_f1",
    "reliability_bins",
]


def auroc(labels: Sequence[int] | np.ndarray, scores: Sequence[float] | np.ndarray) -> float:
    """Area under the ROC curve: P(score of a random positive > a random negative), ties 1/2.

    NaN when only one class is present.
    """
    y = np.asarray(labels, dtype=bool)
    s = np.asarray(scores, dtype=float)
    n_pos, n_neg = int(y.sum()), int((~y).sum())
    if n_pos == 0 or n_neg == 0:
        return float("nan")
    ranks = rankdata(s)
    return float((ranks[y].sum() - n_pos * (n_pos + 1) / 2) / (n_pos * n_neg))


def auroc_bootstrap_ci(
    labels: Sequence[int] | np.ndarray,
    scores: Sequence[float] | np.ndarray,
    *,
    resamples: int = 1000,
    level: float = 0.95,
    seed: int = 0,
) -> tuple[float, float]:
    """Percentile bootstrap CI of the AUROC (rows resampled with replacement).

    Resamples holding a single class are skipped; ``(nan, nan)`` if none is usable.
    """
    y = np.asarray(labels, dtype=bool)
    s = np.asarray(scores, dtype=float)
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(resamples):
        idx = rng.integers(0, len(y), len(y))
        value = auroc(y[idx], s[idx])
        if not np.isnan(value):
            values.append(value)
    if not values:
        return float("nan"), float("nan")
    alpha = (1.0 - level) / 2
    low, high = np.quantile(values, [alpha, 1.0 - alpha])
    return float(low), float(high)


def binary_confusion(
    labels: Sequence[int] | np.ndarray, preds: Sequence[int] | np.ndarray
) -> dict[str, int]:
    """Counts ``tp``, ``fp``, ``fn``, ``tn``."""
    y = np.asarray(labels, dtype=bool)
    p = np.asarray(preds, dtype=bool)
    return {
        "tp": int((y & p).sum()),
        "fp": int((~y & p).sum()),
        "fn": int((y & ~p).sum()),
        "tn": int((~y & ~p).sum()),
    }


def precision_recall_f1(
    labels: Sequence[int] | np.ndarray, preds: Sequence[int] | np.ndarray
) -> dict[str, float]:
    """Precision, recall and F1 of the positive class (0 where undefined)."""
    c = binary_confusion(labels, preds)
    precision = c["tp"] / (c["tp"] + c["fp"]) if c["tp"] + c["fp"] else 0.0
    recall = c["tp"] / (c["tp"] + c["fn"]) if c["tp"] + c["fn"] else 0.0
    f1 = 2 * precision * recall / (precision + recall) if precision + recall else 0.0
    return {"precision": precision, "recall": recall, "f1": f1}


def best_f1_threshold(
    labels: Sequence[int] | np.ndarray, scores: Sequence[float] | np.ndarray
) -> tuple[float, float]:
    """``(threshold, f1)``: the candidate score with the highest F1 (ties: highest threshold).

    Candidates are the distinct scores; each predicts positive for ``score >= threshold``.
    """
    y = np.asarray(labels, dtype=bool)
    s = np.asarray(scores, dtype=float)
    best_t, best_f1 = float("nan"), -1.0
    for t in sorted(set(s.tolist()), reverse=True):
        f1 = precision_recall_f1(y, s >= t)["f1"]
        if f1 > best_f1:
            best_t, best_f1 = float(t), f1
    return best_t, max(best_f1, 0.0)


def confusion_matrix(
    labels: Sequence[str], preds: Sequence[str], classes: Sequence[str]
) -> list[list[int]]:
    """``matrix[i][j]`` = rows whose true class is ``classes[i]`` predicted as ``classes[j]``."""
    index = {c: i for i, c in enumerate(classes)}
    matrix = [[0] * len(classes) for _ in classes]
    for label, pred in zip(labels, preds, strict=True):
        matrix[index[label]][index[pred]] += 1
    return matrix


def balanced_accuracy(labels: Sequence, preds: Sequence) -> float:
    """Mean per-class recall over the classes present in ``labels``."""
    y = np.asarray(labels, dtype=object)
    p = np.asarray(preds, dtype=object)
    recalls = [float((p[y == c] == c).mean()) for c in sorted(set(y.tolist()), key=str)]
    return float(np.mean(recalls)) if recalls else float("nan")


def reliability_bins(
    labels: Sequence[int] | np.ndarray, scores: Sequence[float] | np.ndarray, bins: int = 10
) -> dict[str, object]:
    """Equal-width calibration bins over [0, 1]: count, mean score, positive rate; and the ECE."""
    y = np.asarray(labels, dtype=float)
    s = np.clip(np.asarray(scores, dtype=float), 0.0, 1.0)
    which = np.minimum((s * bins).astype(int), bins - 1)
    rows = []
    ece = 0.0
    for b in range(bins):
        mask = which == b
        n = int(mask.sum())
        mean_score = float(s[mask].mean()) if n else None
        rate = float(y[mask].mean()) if n else None
        if n:
            ece += n / len(y) * abs(mean_score - rate)  # type: ignore[operator]
        rows.append(
            {"low": b / bins, "high": (b + 1) / bins, "n": n, "mean_score": mean_score,
             "positive_rate": rate}
        )
    return {"bins": rows, "ece": float(ece) if len(y) else float("nan")}
