"""Local classifiers: a feature extractor plus a shipped logistic-regression head.

    clf = load_local_classifier("af-local")           # alias of the default AF head
    clf.score_af(scratchpad, output)                  # P(alignment-faking reasoning)
    load_local_classifier("compliance-local").score_compliance(request, response)
    # {"complied": .., "partial": .., "refused": .., "label": .., "rule": .., "rationale": ..}

Names: ``af-lexical``, ``af-minilm``, ``compliance-lexical``, ``compliance-minilm``,
``compliance-pair-lexical``, ``compliance-aw-lexical`` (animal welfare); aliases
``af-local``, ``compliance-local`` and ``compliance-aw-local`` (see :data:`ALIASES`). Compliance heads apply high-precision
rules before the head (:mod:`.rules`, :mod:`.compliance_pipeline`). These classifiers
are free and need no network; they were trained on small hand-authored data, so check
them against human labels of your own transcripts (``aflab classifiers eval``) before
trusting them on a new distribution.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import lru_cache
from typing import Any

import numpy as np

from aflab.classifiers.local.features import af_text, featurize
from aflab.classifiers.local.heads import Head, head_dir
from aflab.errors import AflabUsageError

__all__ = ["ALIASES", "LOCAL_NAMES", "LocalClassifier", "load_local_classifier", "resolve_name"]

LOCAL_NAMES: tuple[str, ...] = (
    "af-lexical", "af-minilm", "compliance-lexical", "compliance-minilm",
    "compliance-aw-lexical", "af-motive", "compliance-pair-lexical",
)
#: The defaults: the head of each task that did better on data unlike its training rows
#: (AF: out of style; compliance: XSTest leave-one-model-out). See docs/classifier-data.md.
ALIASES: dict[str, str] = {
    "af-local": "af-motive",  # better than af-lexical out of style (docs/classifier-data.md)
    "compliance-local": "compliance-pair-lexical",  # best XSTest leave-one-model-out
    "compliance-aw-local": "compliance-aw-lexical",  # animal-welfare setting
}


def resolve_name(name: str) -> str:
    """The head name behind a name or alias; AflabUsageError for an unknown one."""
    resolved = ALIASES.get(name, name)
    if resolved not in LOCAL_NAMES:
        known = ", ".join((*LOCAL_NAMES, *ALIASES))
        raise AflabUsageError(f"local classifier {name!r}; use one of {known}")
    return resolved


class LocalClassifier:
    """Features of one kind followed by a linear head; all scoring is batched."""

    def __init__(self, head: Head, name: str | None = None) -> None:
        self.head = head
        self.name = name or head.name

    def __repr__(self) -> str:
        return f"LocalClassifier({self.name!r}, head={self.head.name!r})"

    @property
    def task(self) -> str:
        """``af`` or ``compliance``."""
        return self.head.task

    @property
    def classes(self) -> tuple[Any, ...]:
        """Class order of :meth:`predict_proba` columns (``(0, 1)`` or compliance classes)."""
        return self.head.classes

    @property
    def threshold(self) -> float:
        """Operating threshold on the positive-class probability."""
        return self.head.threshold

    def predict_proba(self, texts: Sequence[str]) -> np.ndarray:
        """``(len(texts), len(classes))`` probabilities for already-assembled input texts."""
        if isinstance(texts, str):
            raise AflabUsageError("predict_proba takes a list of texts, not one string")
        if not texts:
            return np.zeros((0, len(self.classes)))
        if self.head.feature_kind == "text":  # af-motive: the head reads the texts itself
            return self.head.predict_proba(list(texts))
        return self.head.predict_proba(featurize(self.head.feature_kind, list(texts)))

    def positive_proba(self, texts: Sequence[str]) -> np.ndarray:
        """``(n,)`` probability of AF reasoning (af) or of ``complied`` (compliance)."""
        proba = self.predict_proba(texts)
        return proba[:, self.classes.index(self.head.positive_class)]

    def complied(self, texts: Sequence[str]) -> np.ndarray:
        """``(n,)`` P(complied) for a compliance classifier."""
        self._expect("compliance")
        return self.positive_proba(texts)

    def _expect(self, task: str) -> None:
        if self.task != task:
            raise AflabUsageError(f"{self.name} is a {self.task} classifier, not a {task} one")

    def score_af(self, scratchpad: str, output: str | None = None) -> float:
        """P(alignment-faking reasoning) for one scratchpad and its final output."""
        self._expect("af")
        if not (scratchpad or "").strip():
            return 0.0
        return float(self.positive_proba([af_text(scratchpad, output)])[0])

    def score_compliance(self, request: str | None, response: str) -> dict[str, Any]:
        """Class probabilities, the ``label``, and the ``rule`` that decided (or None).

        Rules run first (see :mod:`.compliance_pipeline`); ``response`` may carry its
        verdict tag (``<request_fully_accepted/>`` / ``<rejected/>``).
        """
        from aflab.classifiers.local.compliance_pipeline import score_responses

        (scored,) = score_responses(self, [request], [response])
        return {**scored.proba, "label": scored.label, "rule": scored.rule,
                "rationale": scored.rationale}


@lru_cache(maxsize=None)
def _load(name: str) -> Head:
    from aflab.classifiers.local.user_heads import load_any_head

    return load_any_head(head_dir() / f"{name}.json")  # type: ignore[return-value]


def load_local_classifier(name: str) -> LocalClassifier:
    """The shipped classifier ``name`` (a head name or an alias such as ``af-local``),
    or a head file written by ``aflab classifiers train --labels`` (a path ending .json)."""
    if name.endswith(".json"):
        from aflab.classifiers.local.user_heads import load_any_head

        return LocalClassifier(load_any_head(name), name=name)  # type: ignore[arg-type]
    return LocalClassifier(_load(resolve_name(name)), name=name)
