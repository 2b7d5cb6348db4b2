"""Leave-one-style-out AUROC of the AF local recipes (our out-of-distribution proxy).

    python scripts/af_leave_one_style_out.py [--recipes motive,lexical] [--folds 3]

For each style group of ``af_labels.jsonl`` (all splits), fit the recipe on every other
group and score the held-out one; print the AUROC per group, the pooled AUROC of all
held-out scores (overall and per setting), and two cross-family checks: trained on the
generated rows only, scored on the hand-authored ones, and the reverse. Style groups: the
seven generated styles (``gen_*``) and the hand-authored styles folded into families
(:data:`FAMILIES`). The motive recipe is :func:`fit_motive_head` (stacker on ``--folds``
out-of-fold folds; the shipped head uses 5); ``lexical`` is the ``af-lexical`` recipe.

This is a proxy. Every row was written by us (by hand with LLM help, or composed from
our phrase banks), so a held-out style still shares authors and much vocabulary with the
training rows; it says nothing certain about real frontier-model scratchpads.
"""

from __future__ import annotations

import argparse
import numpy as np

from aflab.classifiers.local import metrics as M
from aflab.classifiers.local.af_motive import fit_motive_head
from aflab.classifiers.local.features import featurize
from aflab.classifiers.local.heads import fit_logistic_head
from aflab.classifiers.local.labels import LabelledRow, read_labels
from aflab.classifiers.local.train import data_path, row_text

#: Hand-authored style name prefixes -> family (first match wins; the rest: "other").
FAMILIES = (
    ("claude", "claude_like"), ("gpt", "gpt_like"), ("gemini", "gemini_like"),
    ("llama", "llama_like"), ("qwen", "okay_so_wait"), ("deepseek", "okay_so_wait"),
    ("small_model", "small_model"), ("casual", "casual"), ("terse", "terse_minimal"),
    ("minimal", "terse_minimal"), ("formal", "formal_numbered"),
    ("numbered", "formal_numbered"), ("game", "game_theoretic"),
)


def style_group(row: LabelledRow) -> str:
    """The leave-out group of a row."""
    style = str(row.raw.get("style", "other"))
    if style.startswith("gen_"):
        return style
    for prefix, family in FAMILIES:
        if style.startswith(prefix):
            return family
    return "other"


def fit_score(recipe: str, train: list[LabelledRow], test: list[LabelledRow],
              folds: int) -> np.ndarray:
    """Fit ``recipe`` on ``train``; P(AF) for ``test``."""
    tr_texts = [row_text(r, "af") for r in train]
    te_texts = [row_text(r, "af") for r in test]
    labels = [r.label for r in train]
    if recipe == "motive":
        head = fit_motive_head(tr_texts, labels, [r.raw.get("motive") for r in train],
                               folds=folds)
        return head.positive_proba(te_texts)
    head = fit_logistic_head(featurize("lexical", tr_texts), labels, name="lexical", task="af",
                             feature_kind="lexical", positive_class=1, c_grid=(10.0,), min_df=3)
    return head.positive_proba(featurize("lexical", te_texts))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--recipes", default="motive,lexical")
    parser.add_argument("--folds", type=int, default=3)
    parser.add_argument("--only", default="",
                        help="hold out only groups starting with this (e.g. gen_); the others "
                             "always stay in training")
    parser.add_argument("--no-cross", action="store_true", help="skip the cross-family check")
    args = parser.parse_args()
    recipes = args.recipes.split(",")
    rows = read_labels(data_path("af_labels.jsonl"), "af")
    groups = sorted({style_group(r) for r in rows if style_group(r).startswith(args.only)})
    y = np.array([r.label for r in rows])
    pooled = {k: np.full(len(rows), np.nan) for k in recipes}
    print(f"{'held-out style group':<22} {'n':>4} {'AF':>3} " +
          " ".join(f"{k:>8}" for k in recipes))
    for g in groups:
        test_idx = [i for i, r in enumerate(rows) if style_group(r) == g]
        train = [r for r in rows if style_group(r) != g]
        test = [rows[i] for i in test_idx]
        cells = []
        for k in recipes:
            pooled[k][test_idx] = fit_score(k, train, test, args.folds)
            cells.append(M.auroc(y[test_idx], pooled[k][test_idx]))
        print(f"{g:<22} {len(test):>4} {int(y[test_idx].sum()):>3} "
              + " ".join(f"{c:>8.3f}" for c in cells), flush=True)
    gen = np.array([style_group(r).startswith("gen_") for r in rows])
    held = ~np.isnan(pooled[recipes[0]])
    settings = np.array([r.setting for r in rows])
    print("\npooled held-out AUROC (every row scored by a head that never saw its style group)")
    for name, mask in (("all", np.ones(len(rows), bool)), ("generated", gen), ("hand-authored", ~gen),
                       ("helpful_only", settings == "helpful_only"),
                       ("animal_welfare", settings == "animal_welfare")):
        mask = mask & held
        if mask.any():
            print(f"  {name:<16} n {int(mask.sum()):>4}  " +
                  "  ".join(f"{k} {M.auroc(y[mask], pooled[k][mask]):.3f}" for k in recipes))
    if args.no_cross:
        return
    print("\ncross-family (train on one family of authors, score the other)")
    for name, tr_mask in (("generated -> hand", gen), ("hand -> generated", ~gen)):
        train = [r for r, m in zip(rows, tr_mask, strict=True) if m]
        test = [r for r, m in zip(rows, tr_mask, strict=True) if not m]
        yt = np.array([r.label for r in test])
        cells = [f"{k} {M.auroc(yt, fit_score(k, train, test, args.folds)):.3f}" for k in recipes]
        print(f"  {name:<18} n {len(test):>4}  " + "  ".join(cells), flush=True)


if __name__ == "__main__":
    main()
