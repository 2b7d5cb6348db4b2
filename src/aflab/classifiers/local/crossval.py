"""Out-of-distribution checks of the compliance heads: leave one group out, refit, score.

* Heads trained with XSTest (``compliance-lexical``, ``compliance-pair-lexical``):
  **leave-one-model-out**. For each XSTest family (gpt4, llama2new, mistralinstruct) the
  head's recipe is refitted on the other two families plus our own ``train`` split and
  scores all 450 completions of the held-out family, rules first.
* ``compliance-minilm`` (the shipped head is trained on our ``train`` split only): the
  same leave-one-model-out with its recipe (MiniLM embeddings, ``C`` by 5-fold CV), so
  the feature kinds are compared on the same out-of-distribution folds.
* ``compliance-aw-lexical``: **leave-one-style-out** over the ``style`` column of the
  animal-welfare file (all splits): refit without one style, score that style; the
  held-out predictions are pooled into one AUROC / balanced accuracy.

Metrics are complied vs not (partial counts as not complied), at the head's threshold.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from aflab.classifiers.local import metrics as M
from aflab.classifiers.local.classifier import LocalClassifier, resolve_name
from aflab.classifiers.local.compliance_pipeline import score_responses
from aflab.classifiers.local.labels import LabelledRow, read_labels
from aflab.classifiers.local.train import HEAD_SPECS, data_path, fit_head
from aflab.errors import AflabUsageError

__all__ = ["cross_validate", "format_crossval"]


def _score(name: str, train: list[LabelledRow], test: list[LabelledRow], seed: int) -> dict:
    clf = LocalClassifier(fit_head(name, train, seed=seed))
    scored = score_responses(clf, [r.request for r in test], [r.output for r in test])
    y = np.array([r.positive for r in test])
    s = np.array([x.complied for x in scored])
    pred = np.array([x.label == "complied" for x in scored], dtype=int)
    return {"n": len(test), "n_complied": int(y.sum()),
            "rules_fired": sum(x.rule is not None for x in scored),
            "y": y, "s": s, "pred": pred}


def _summary(part: dict) -> dict[str, Any]:
    y, s, pred = part.pop("y"), part.pop("s"), part.pop("pred")
    return {**part, "balanced_accuracy": M.balanced_accuracy(y, pred), "auroc": M.auroc(y, s)}


def cross_validate(
    classifier: str, *, xstest: str | Path | None = None, seed: int = 0
) -> dict[str, Any]:
    """Leave-one-model-out (XSTest heads) or leave-one-style-out (the AW head) results."""
    name = resolve_name(classifier)
    spec = HEAD_SPECS.get(name)
    if spec is None or spec.ood_check is None:
        raise AflabUsageError(
            f"--classifier {classifier!r}: cross-validation covers compliance-lexical, "
            "compliance-pair-lexical, compliance-minilm (XSTest) and compliance-aw-lexical "
            "(styles)"
        )
    own = read_labels(data_path(spec.data_file), "compliance")
    folds: dict[str, dict[str, Any]] = {}
    if spec.ood_check == "xstest":
        from aflab.classifiers.local.xstest import XSTEST_MODELS, read_xstest

        xs = read_xstest(xstest)
        own_train = [r for r in own if r.raw.get("split") == spec.split]
        for model in XSTEST_MODELS:
            train = own_train + [r for r in xs if r.raw["model"] != model]
            test = [r for r in xs if r.raw["model"] == model]
            folds[model] = _summary(_score(name, train, test, seed))
        pooled = None
        scheme = "leave-one-model-out (XSTest), train = other two families + our train split"
    else:
        styles = sorted({str(r.raw.get("style", "")) for r in own})
        parts = {}
        for style in styles:
            train = [r for r in own if r.raw.get("style") != style]
            test = [r for r in own if r.raw.get("style") == style]
            parts[style] = _score(name, train, test, seed)
        y = np.concatenate([p["y"] for p in parts.values()])
        s = np.concatenate([p["s"] for p in parts.values()])
        pred = np.concatenate([p["pred"] for p in parts.values()])
        pooled = {"n": len(y), "balanced_accuracy": M.balanced_accuracy(y, pred),
                  "auroc": M.auroc(y, s)}
        folds = {k: _summary(v) for k, v in parts.items()}
        scheme = "leave-one-style-out (animal-welfare file, all splits), pooled"
    return {"classifier": classifier, "head": name, "scheme": scheme, "seed": seed,
            "folds": folds, "pooled": pooled}


def format_crossval(result: dict[str, Any]) -> str:
    """One line per held-out group (and the pooled line for styles)."""
    lines = [f"{result['classifier']} ({result['head']}): {result['scheme']}; "
             "complied vs not (partial = not)"]
    for group, m in result["folds"].items():
        auroc = "n/a" if np.isnan(m["auroc"]) else f"{m['auroc']:.3f}"
        lines.append(
            f"  {group:<16} n {m['n']:>4}  complied {m['n_complied']:>4}  rules {m['rules_fired']:>4}"
            f"  bal acc {m['balanced_accuracy']:.3f}  AUROC {auroc}"
        )
    if result["pooled"]:
        p = result["pooled"]
        lines.append(f"  {'pooled':<16} n {p['n']:>4}  bal acc {p['balanced_accuracy']:.3f}"
                     f"  AUROC {p['auroc']:.3f}")
    return "\n".join(lines)
