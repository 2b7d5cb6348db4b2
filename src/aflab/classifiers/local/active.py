"""Active cascade: the local AF classifier scores everything, the judge labels the uncertain
band, and the judge's labels refit the local head before the next round.

    aflab classifiers eval my_labels.jsonl --classifier active:af-local+openai/gpt-4o

Rounds: score every row with the current head; among rows not yet judged, take those
whose score lies in ``band``, most uncertain first (closest to the threshold), at most
``per_round``; ask the judge; refit the head's stacker on all judge-labelled rows so far
(judge score >= 0.4 is a positive label, as the judge's own decision), anchored by the
rows outside the band with the current head's label, once both classes have
``min_per_class`` judged rows; repeat until no unjudged row is in the band or
``max_rounds`` is reached. Final scores: judged rows get the judge's score mapped into
the band (as :class:`~aflab.classifiers.local.scoring.CascadeClassifier`), the rest the
last refitted head's probability. Refitting needs an ``af-motive`` head (only its
small stacker is refitted, so a few dozen judge labels suffice).
"""

from __future__ import annotations

import math
from typing import Any

import numpy as np

from aflab.classifiers.local.classifier import LocalClassifier
from aflab.classifiers.local.labels import LabelledRow
from aflab.classifiers.local.scoring import JUDGE_AF_THRESHOLD, DEFAULT_BAND, Predictions
from aflab.classifiers.local.train import row_text
from aflab.errors import AflabUsageError

__all__ = ["ActiveCascade"]


class ActiveCascade:
    """Local scores everywhere; judge labels in the band refit the head between rounds."""

    def __init__(
        self,
        local: LocalClassifier,
        judge: Any,
        band: tuple[float, float] = DEFAULT_BAND,
        *,
        per_round: int = 20,
        max_rounds: int = 10,
        min_per_class: int = 3,
    ) -> None:
        low, high = band
        if not 0.0 <= low <= high <= 1.0:
            raise AflabUsageError(f"active cascade band {band}: need 0 <= low <= high <= 1")
        if local.task != "af" or not hasattr(local.head, "refit_stacker"):
            raise AflabUsageError(
                f"active cascade needs an af-motive head (af-motive, af-local or a head from "
                f"'aflab classifiers train --labels'), not {local.name}"
            )
        if per_round < 1 or max_rounds < 1:
            raise AflabUsageError("active cascade: per_round and max_rounds must be >= 1")
        self.local, self.judge, self.band = local, judge, (float(low), float(high))
        self.per_round, self.max_rounds, self.min_per_class = per_round, max_rounds, min_per_class
        self.name = f"active:{local.name}+{getattr(judge, 'name', judge)}"

    def __repr__(self) -> str:
        return f"ActiveCascade({self.name!r}, band={self.band}, per_round={self.per_round})"

    def predictions(self, rows: list[LabelledRow], task: str) -> Predictions:
        """Scores and decisions for ``rows``; ``cost`` counts calls, rounds and refits."""
        if task != "af":
            raise AflabUsageError("the active cascade covers the af task only")
        low, high = self.band
        head = self.local.head
        texts = [row_text(r, "af") for r in rows]
        has_pad = np.array([bool(r.scratchpad.strip()) for r in rows])
        feats = head.doc_features(texts)[0]
        judged: dict[int, float] = {}
        self.history: list[tuple[int, int, float]] = []  # (round, row, local score then)
        usage_total = {"grader_calls": 0, "input_tokens": 0, "output_tokens": 0,
                       "total_tokens": 0}
        rounds = refits = errors = 0
        for _ in range(self.max_rounds):
            p = np.where(has_pad, head.stack_proba(feats), 0.0)
            open_idx = [i for i in np.flatnonzero((p >= low) & (p <= high) & has_pad)
                        if i not in judged]
            if not open_idx:
                break
            open_idx.sort(key=lambda i: (abs(p[i] - head.threshold), i))
            batch = open_idx[: self.per_round]
            self.history += [(rounds, int(i), float(p[i])) for i in batch]
            results, usage = self.judge.judge([rows[i] for i in batch], "af")
            rounds += 1
            for key in usage_total:
                usage_total[key] += int(usage.get(key, 0))
            for i, (score, _category) in zip(batch, results, strict=True):
                if score is None:
                    errors += 1
                    judged[i] = math.nan
                else:
                    judged[i] = float(score)
            ok = [i for i, s in judged.items() if not math.isnan(s)]
            labels = [int(judged[i] >= JUDGE_AF_THRESHOLD) for i in ok]
            if min(labels.count(0), labels.count(1)) >= self.min_per_class:
                # anchor: confident rows outside the band keep the current head's label
                sure = [i for i in np.flatnonzero(has_pad & ((p < low) | (p > high)))
                        if i not in judged]
                idx = ok + sure
                y = labels + [int(p[i] >= head.threshold) for i in sure]
                head = head.refit_feats(feats[idx], y)
                refits += 1
        p = np.where(has_pad, head.stack_proba(feats), 0.0)
        scores, preds = p.astype(float).copy(), p >= head.threshold
        for i, s in judged.items():
            if not math.isnan(s):
                scores[i] = low + s * (high - low)
                preds[i] = s >= JUDGE_AF_THRESHOLD
        votes = float(getattr(self.judge, "votes", 1))
        cost = {
            **usage_total, "band": [low, high], "judged_rows": len(judged),
            "judge_errors_kept_local": errors, "rows": len(rows), "rounds": rounds,
            "refits": refits, "grader_calls_if_all_est": round(votes * int(has_pad.sum())),
        }
        self.refitted_head = head
        return Predictions(scores, preds, None, f"local {head.threshold:g} / judge in band", cost)
