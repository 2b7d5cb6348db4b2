"""Detector metrics: AUROC with a group bootstrap interval, the threshold at a fixed
false-positive rate on a control set, and recall there; group-aware splits.

Definitions (tested against hand-computed values in ``tests/test_whitebox.py``):

- AUROC = P(score of a random positive > score of a random negative) + 0.5 P(tie)
  (the Mann-Whitney statistic over n_pos x n_neg pairs).
- Threshold at false-positive rate ``f`` on control scores ``c_1..c_n``: with
  ``k = floor(f n)``, ``t`` is the (k+1)-th largest control score, and a sample is
  flagged when its score is *strictly above* ``t``; so at most ``k`` controls (a share
  <= f) are flagged. Recall = share of positives with score > t.
- Bootstrap: resample *groups* (queries) with replacement, recompute the statistic, and
  take the 2.5th and 97.5th percentiles; a resample lacking a class is drawn again.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np

from aflab.errors import AflabUsageError

__all__ = ["auroc", "bootstrap_ci", "check_classes", "group_split", "recall_above",
           "threshold_at_fpr"]


def check_classes(labels: np.ndarray, where: str) -> None:
    """Both classes must be present; a one-line error names the empty one."""
    for value in (0, 1):
        if not np.any(labels == value):
            raise AflabUsageError(
                f"{where}: class {value} has no samples (n={len(labels)}); a probe needs "
                "both labels 0 and 1 there; check the labels or the split")


def auroc(scores: Sequence[float], labels: Sequence[int]) -> float:
    """Mann-Whitney AUROC with ties counted as one half."""
    s, y = np.asarray(scores, dtype=float), np.asarray(labels)
    check_classes(y, "AUROC")
    pos, neg = s[y == 1], s[y == 0]
    greater = (pos[:, None] > neg[None, :]).sum()
    ties = (pos[:, None] == neg[None, :]).sum()
    return float((greater + 0.5 * ties) / (len(pos) * len(neg)))


def threshold_at_fpr(control_scores: Sequence[float], fpr: float = 0.01) -> float:
    """The (floor(fpr n)+1)-th largest control score (flag when a score is above it)."""
    c = np.sort(np.asarray(control_scores, dtype=float))[::-1]
    if len(c) == 0:
        raise AflabUsageError("the control set is empty; a threshold needs control samples")
    if not 0.0 <= fpr < 1.0:
        raise AflabUsageError(f"false-positive rate {fpr}: give a share in [0, 1)")
    k = int(math.floor(fpr * len(c) + 1e-9))
    return float(c[min(k, len(c) - 1)])


def recall_above(scores: Sequence[float], threshold: float) -> float:
    """Share of ``scores`` strictly above ``threshold``."""
    s = np.asarray(scores, dtype=float)
    return float((s > threshold).mean()) if len(s) else float("nan")


def bootstrap_ci(statistic, groups: Sequence[str], *arrays: np.ndarray, n_boot: int = 1000,
                 seed: int = 0, labels: np.ndarray | None = None,
                 ) -> tuple[float, float]:
    """95% percentile interval of ``statistic(*arrays)`` over group resamples."""
    g = np.asarray(groups)
    unique = np.unique(g)
    members = [np.flatnonzero(g == u) for u in unique]
    rng = np.random.default_rng(seed)
    values = []
    attempts = 0
    while len(values) < n_boot and attempts < 20 * n_boot:
        attempts += 1
        pick = np.concatenate([members[i] for i in rng.integers(0, len(unique), len(unique))])
        if labels is not None and len(np.unique(labels[pick])) < 2:
            continue
        values.append(statistic(*(a[pick] for a in arrays)))
    if not values:
        return (float("nan"), float("nan"))
    lo, hi = np.percentile(values, [2.5, 97.5])
    return float(lo), float(hi)


def group_split(groups: Sequence[str], test_fraction: float = 0.3, seed: int = 0,
                ) -> np.ndarray:
    """Boolean test mask: whole groups go to test, so no group is on both sides.

    The unique groups are sorted, shuffled with ``seed`` and the first
    ``round(test_fraction * n_groups)`` (at least 1, at most n - 1) go to test."""
    g = np.asarray([str(x) for x in groups])
    unique = np.unique(g)
    if len(unique) < 2:
        raise AflabUsageError(f"a group split needs at least 2 groups, got {len(unique)}")
    if not 0.0 < test_fraction < 1.0:
        raise AflabUsageError(f"test fraction {test_fraction}: give a share in (0, 1)")
    n_test = min(len(unique) - 1, max(1, round(test_fraction * len(unique))))
    order = np.random.default_rng(seed).permutation(len(unique))
    test_groups = set(unique[order[:n_test]])
    return np.array([x in test_groups for x in g])
