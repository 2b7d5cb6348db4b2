"""Logistic-regression heads: fitting (scikit-learn), saving and loading (numpy only).

A head is a small JSON file in ``aflab/classifiers/local/heads/<name>.json``::

    {"format": "aflab-local-head/1", "name": "af-lexical", "task": "af",
     "feature_kind": "lexical", "n_features": 131072, "classes": [0, 1],
     "positive_class": 1, "threshold": 0.5, "link": "logistic",
     "intercept": [...], "coef": {"indices": [...], "values": [[...]]},
     "training": {"seed": 0, "data": "...", "data_sha256": "...", "n": 129, ...}}

``coef`` is stored sparsely: only the feature columns that are non-zero for some class
(hashed n-grams never seen in training keep a zero weight), with values rounded to 6
significant digits, so the same fit always gives the same bytes. ``link`` is
``logistic`` for two classes (one row of weights, probability of ``classes[1]``) and
``softmax`` for more. Loading and scoring need only numpy (and scipy for sparse
features): scikit-learn is used for fitting alone.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Callable
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any, TypeVar

import numpy as np

from aflab.errors import AflabUsageError

F = TypeVar("F", bound=Callable[..., Any])

__all__ = [
    "FORMAT", "Head", "fit_logistic_head", "head_dir", "load_head", "save_head",
    "single_threaded",
]

FORMAT = "aflab-local-head/1"
_DIGITS = 6


def head_dir() -> Path:
    """The package folder holding the shipped heads."""
    return Path(str(files("aflab.classifiers.local") / "heads"))


@dataclass(frozen=True)
class Head:
    """A fitted linear head over one kind of features."""

    name: str
    task: str
    feature_kind: str
    n_features: int
    classes: tuple[Any, ...]
    positive_class: Any
    threshold: float
    coef: np.ndarray  # (k, n_features), k = 1 for two classes
    intercept: np.ndarray  # (k,)
    training: dict[str, Any] = field(default_factory=dict)

    @property
    def link(self) -> str:
        return "logistic" if len(self.classes) == 2 else "softmax"

    def predict_proba(self, features: Any) -> np.ndarray:
        """``(n, len(classes))`` class probabilities for a feature matrix (dense or sparse)."""
        if features.shape[1] != self.n_features:
            raise AflabUsageError(
                f"head {self.name}: {features.shape[1]} features, expected {self.n_features}"
            )
        z = np.asarray(features @ self.coef.T, dtype=np.float64) + self.intercept
        if self.link == "logistic":
            p = 1.0 / (1.0 + np.exp(-z[:, 0]))
            return np.column_stack([1.0 - p, p])
        z = z - z.max(axis=1, keepdims=True)
        e = np.exp(z)
        return e / e.sum(axis=1, keepdims=True)

    def positive_proba(self, features: Any) -> np.ndarray:
        """``(n,)`` probability of ``positive_class``."""
        return self.predict_proba(features)[:, self.classes.index(self.positive_class)]


def _round(values: np.ndarray) -> list[float]:
    return [float(f"{v:.{_DIGITS}g}") for v in np.asarray(values, dtype=np.float64).ravel()]


def _to_json(head: Head) -> dict[str, Any]:
    columns = np.flatnonzero(np.any(head.coef != 0.0, axis=0))
    return {
        "format": FORMAT,
        "name": head.name,
        "task": head.task,
        "feature_kind": head.feature_kind,
        "n_features": head.n_features,
        "classes": list(head.classes),
        "positive_class": head.positive_class,
        "threshold": head.threshold,
        "link": head.link,
        "intercept": _round(head.intercept),
        "coef": {
            "indices": [int(i) for i in columns],
            "values": [_round(row[columns]) for row in head.coef],
        },
        "training": head.training,
    }


def save_head(head: Head, path: str | Path) -> Path:
    """Write ``head`` as compact, key-sorted JSON (deterministic bytes)."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(_to_json(head), sort_keys=True, separators=(",", ":"), ensure_ascii=True)
    out.write_text(text + "\n", encoding="utf-8")
    return out


def load_head(path: str | Path) -> Head:
    """Read a head file written by :func:`save_head`."""
    file = Path(path)
    if not file.is_file():
        raise AflabUsageError(f"{file}: no such head file")
    try:
        data = json.loads(file.read_text(encoding="utf-8"))
        if data.get("format") != FORMAT:
            raise AflabUsageError(f"{file}: not an {FORMAT} head (format {data.get('format')!r})")
        n = int(data["n_features"])
        indices = np.asarray(data["coef"]["indices"], dtype=np.int64)
        values = np.asarray(data["coef"]["values"], dtype=np.float64)
        coef = np.zeros((values.shape[0], n), dtype=np.float64)
        coef[:, indices] = values
        return Head(
            name=data["name"],
            task=data["task"],
            feature_kind=data["feature_kind"],
            n_features=n,
            classes=tuple(data["classes"]),
            positive_class=data["positive_class"],
            threshold=float(data["threshold"]),
            coef=coef,
            intercept=np.asarray(data["intercept"], dtype=np.float64),
            training=dict(data.get("training", {})),
        )
    except (KeyError, TypeError, ValueError, IndexError) as err:
        raise AflabUsageError(f"{file}: malformed head file ({err})") from None


def single_threaded(fit: F) -> F:
    """Run ``fit`` with BLAS/OpenMP on one thread (``threadpoolctl``, a scikit-learn
    dependency). With several threads, reductions are summed in a thread-dependent order
    and the last printed digit of a weight can change with the machine's core count, which
    would break "the same data and seed give the same bytes"."""

    @functools.wraps(fit)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        from threadpoolctl import threadpool_limits

        with threadpool_limits(limits=1):
            return fit(*args, **kwargs)

    return wrapper  # type: ignore[return-value]


@single_threaded
def fit_logistic_head(
    features: Any,
    labels: list[Any],
    *,
    name: str,
    task: str,
    feature_kind: str,
    positive_class: Any,
    c_grid: tuple[float, ...] = (1.0, 3.0, 10.0, 30.0),
    folds: int = 5,
    min_df: int = 1,
    seed: int = 0,
    threshold: float = 0.5,
    training: dict[str, Any] | None = None,
) -> Head:
    """Fit an L2 logistic regression with class-balanced weights (scikit-learn, lbfgs).

    Feature columns non-zero in fewer than ``min_df`` rows are left out (their weight
    stays 0): with hashed n-grams this drops idiosyncratic n-grams and keeps the head
    file small. With several values in ``c_grid``, the inverse regularisation ``C`` is
    picked by stratified ``folds``-fold cross-validated log loss (folds shuffled with
    ``seed``; ties go to the smaller ``C``, i.e. the stronger regularisation); the head is
    then refitted on all rows. The chosen ``C`` and the CV losses go into ``training``.
    """
    try:
        from sklearn.linear_model import LogisticRegression
        from sklearn.metrics import log_loss
        from sklearn.model_selection import StratifiedKFold
    except ImportError:
        raise AflabUsageError(
            "training a head needs scikit-learn: pip install 'aflab[classifiers]'"
        ) from None

    y = np.asarray(labels, dtype=object)
    classes = sorted(set(y.tolist()), key=str)
    y_idx = np.asarray([classes.index(v) for v in y])

    def model(c: float) -> Any:
        return LogisticRegression(C=c, class_weight="balanced", max_iter=5000)

    n_features = int(features.shape[1])
    df = np.asarray((features != 0).sum(axis=0)).ravel()
    keep = np.flatnonzero(df >= min_df)
    features = features[:, keep]
    cv = StratifiedKFold(n_splits=folds, shuffle=True, random_state=seed)
    losses: dict[str, float] = {}
    for c in c_grid if len(c_grid) > 1 else ():
        fold_losses = []
        for train_idx, test_idx in cv.split(np.zeros(len(y_idx)), y_idx):
            fitted = model(c).fit(features[train_idx], y_idx[train_idx])
            proba = fitted.predict_proba(features[test_idx])
            fold_losses.append(log_loss(y_idx[test_idx], proba, labels=range(len(classes))))
        losses[str(c)] = float(f"{np.mean(fold_losses):.6g}")
    best_c = min(c_grid, key=lambda c: (losses.get(str(c), 0.0), c))
    final = model(best_c).fit(features, y_idx)
    coef = np.zeros((final.coef_.shape[0], n_features), dtype=np.float64)
    coef[:, keep] = final.coef_
    meta = dict(training or {})
    meta.update(
        C=best_c,
        c_grid=list(c_grid),
        cv_folds=folds if losses else 0,
        cv_log_loss=losses,
        min_df=min_df,
        n_features_used=int(len(keep)),
        n=int(len(y)),
        n_per_class={str(c): int((y_idx == i).sum()) for i, c in enumerate(classes)},
        seed=seed,
        model="sklearn LogisticRegression(l2, lbfgs, class_weight=balanced)",
    )
    return Head(
        name=name,
        task=task,
        feature_kind=feature_kind,
        n_features=n_features,
        classes=tuple(classes),
        positive_class=positive_class,
        threshold=threshold,
        coef=coef,
        intercept=np.asarray(final.intercept_, dtype=np.float64),
        training=meta,
    )
