"""Compliance recipes tried against XSTest leave-one-model-out (the issue-8 target, >= 0.95).

    python scripts/compliance_lomo_variants.py                   # lexical variants, ~30 s
    python scripts/compliance_lomo_variants.py --smollm2         # + SmolLM2-135M activations
    python scripts/compliance_lomo_variants.py --minilm-finetune mistralinstruct  # ~5.5 min

(2-core CPU times.) The last lines say how often XSTest's two annotators agree on complied
vs not, and how each alone scores against the final label: the human reference.

Every variant is fitted as ``aflab classifiers lomo`` fits the shipped recipe: for each
XSTest family, on the other two families plus our ``train`` split, then scored on all 450
completions of the held-out family, rules first (a rule's row scores 0). ``test`` and
``heldout_style`` are our own splits, scored by the variant fitted on our ``train`` split
plus all three families. Each cell is ``balanced accuracy at 0.5 / AUROC / best balanced
accuracy over every threshold``. The last number picks the threshold on the held-out rows
themselves: it is a ceiling for that feature set, not a result.

Variants:

``base``
    The shipped ``compliance-pair-lexical`` recipe (three classes, class-balanced, C 10,
    min_df 3); its first three cells reproduce ``aflab classifiers lomo``.
``binary``
    The same features, complied vs not (partial and refused merged) as the training label.
``source-weighted``
    ``base`` with each source (our rows, each XSTest family) given equal total weight.
``masked``
    The request's content words replaced by one token wherever they occur in the response,
    so the head sees the answer's shape and not its topic.
``smollm2`` (``--smollm2``)
    Activations of the embedded SmolLM2-135M, captured by aflab's white-box toolkit
    (:func:`aflab.whitebox.activations.capture`): the request as the user turn, the response
    as the assistant turn, ``resid_post`` of layers 7, 15, 23 and 29 averaged over the
    response tokens; standardised, logistic regression with C 0.01; and ``base+smollm2``,
    the mean of the two probabilities.
``minilm-finetune`` (``--minilm-finetune FAMILY``)
    all-MiniLM-L6-v2 fine-tuned end to end as a (request, response) pair classifier, complied
    vs not, 3 epochs, AdamW 4e-5, batch 16, 192 tokens, seed 0; one held-out family per call.
"""

from __future__ import annotations

import argparse
import random
import re
import time
from collections.abc import Callable

import numpy as np

from aflab.classifiers.local import metrics as M
from aflab.classifiers.local.compliance_features import (
    PAIR_SEP,
    _content_words,
    _split_pair,
    compliance_input,
    pair_lexical_features,
)
from aflab.classifiers.local.features import normalise_text
from aflab.classifiers.local.labels import LabelledRow, read_labels
from aflab.classifiers.local.rules import apply_rules, split_verdict
from aflab.classifiers.local.train import data_path, row_text
from aflab.classifiers.local.xstest import XSTEST_MODELS, read_xstest

GROUPS = (*XSTEST_MODELS, "test", "heldout_style")


def _group(row: LabelledRow) -> str:
    return str(row.raw.get("model") or row.raw.get("split"))


def _masked(text: str) -> str:
    request, response = _split_pair(text)
    stems = sorted({w[:5] for w in _content_words(request)}, key=len, reverse=True)
    if not stems:
        return text
    pattern = re.compile(r"\b(?:" + "|".join(map(re.escape, stems)) + r")[a-z'-]*", re.I)
    return request + PAIR_SEP + pattern.sub("qqq", response)


def _folds(groups: np.ndarray) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """``{held-out group: (train indices, test indices)}`` for the five groups."""
    idx = np.arange(len(groups))
    xs = np.isin(groups, XSTEST_MODELS)
    out = {}
    for g in GROUPS:
        others = xs & (groups != g) if g in XSTEST_MODELS else xs
        out[g] = (idx[(groups == "train") | others], idx[groups == g])
    return out


def _lexical(features, labels, groups, *, source_weighted: bool = False) -> Callable:
    """The shipped lexical recipe (``fit_logistic_head``: class-balanced, C 10, min_df 3)
    on ``features``/``labels``; ``source_weighted`` refits it with scikit-learn directly,
    since the recipe takes no sample weights."""
    from sklearn.linear_model import LogisticRegression

    from aflab.classifiers.local.heads import fit_logistic_head

    positive = "complied" if "complied" in set(labels.tolist()) else 1

    def fit_predict(train: np.ndarray, test: np.ndarray) -> np.ndarray:
        if not source_weighted:
            head = fit_logistic_head(features[train], list(labels[train]), name="variant",
                                     task="compliance", feature_kind="pair-lexical",
                                     positive_class=positive, c_grid=(10.0,), min_df=3)
            return head.positive_proba(features[test])
        df = np.asarray((features[train] != 0).sum(axis=0)).ravel()
        x = features[:, np.flatnonzero(df >= 3)]
        y, g = labels[train], groups[train]
        w = np.array([1.0 / np.sum(g == s) for s in g])
        w *= len(w) / w.sum()  # mean 1, so C means what it means in ``base``
        w *= np.array([len(y) / (len(set(y)) * np.sum(y == c)) for c in y])
        model = LogisticRegression(C=10.0, max_iter=5000).fit(x[train], y, sample_weight=w)
        return model.predict_proba(x[test])[:, list(model.classes_).index(positive)]

    return fit_predict


def smollm2_states(rows: list[LabelledRow]) -> np.ndarray:
    """The ``smollm2`` variant's features: mean response activations, one row per input."""
    import tempfile

    from aflab.whitebox.activations import capture
    from aflab.whitebox.models import load_model
    from aflab.whitebox.samples import WhiteboxSample
    from aflab.whitebox.store import open_store

    samples = []
    for i, row in enumerate(rows):
        output, accepted = split_verdict(row.output)
        response = normalise_text(compliance_input(output, accepted)) or "(empty)"
        samples.append(WhiteboxSample(
            id=f"row-{i}", prompt=({"role": "user", "content": row.request or ""},),
            continuation=({"role": "assistant", "content": response},)))
    sites = [f"blocks.{layer}.resid_post" for layer in (7, 15, 23, 29)]
    start = time.time()
    with tempfile.TemporaryDirectory() as tmp:
        capture(load_model("aflab-local/smollm2"), samples, sites=sites,
                position="mean_response", out_dir=tmp, batch_size=8)
        store = open_store(tmp)
        states = np.hstack([store.matrix(site) for site in sites])
    print(f"  smollm2 activations of {len(rows)} rows in {time.time() - start:.0f} s", flush=True)
    return states


def _dense(features: np.ndarray, y: np.ndarray) -> Callable:
    from sklearn.linear_model import LogisticRegression
    from sklearn.preprocessing import StandardScaler

    def fit_predict(train: np.ndarray, test: np.ndarray) -> np.ndarray:
        scale = StandardScaler().fit(features[train])
        model = LogisticRegression(C=0.01, class_weight="balanced", max_iter=3000)
        model.fit(scale.transform(features[train]), y[train])
        return model.predict_proba(scale.transform(features[test]))[:, 1]

    return fit_predict


def _cell(y: np.ndarray, p: np.ndarray) -> str:
    best = max(M.balanced_accuracy(y, (p >= t).astype(int)) for t in np.unique(p))
    return (f"{M.balanced_accuracy(y, (p >= 0.5).astype(int)):.3f}/{M.auroc(y, p):.3f}"
            f"/{best:.3f}")


def _report(name: str, predict: Callable, folds, y: np.ndarray, ruled: np.ndarray) -> dict:
    cells, scores = [], {}
    for g, (train, test) in folds.items():
        p = np.where(ruled[test], 0.0, predict(train, test))
        scores[g] = p
        cells.append(f"{g[:7]} {_cell(y[test], p)}")
    print(f"{name:<16} " + "  ".join(cells), flush=True)
    return scores


def minilm_finetune(rows: list[LabelledRow], groups: np.ndarray, held_out: str) -> None:
    import os

    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    import torch
    from transformers import AutoModelForSequenceClassification, AutoTokenizer

    from aflab.classifiers.local.features import minilm_model_dir

    torch.manual_seed(0)
    rng = random.Random(0)
    folds = _folds(groups)
    train, test = folds[held_out]
    pairs = []
    for row in rows:
        output, accepted = split_verdict(row.output)
        pairs.append((row.request or "", normalise_text(compliance_input(output, accepted))))
    y = torch.tensor([int(r.label == "complied") for r in rows])
    tok = AutoTokenizer.from_pretrained(str(minilm_model_dir()))
    model = AutoModelForSequenceClassification.from_pretrained(str(minilm_model_dir()),
                                                               num_labels=2)
    y_train = y[train]
    weight = torch.tensor([len(y_train) / (2 * int((y_train == c).sum())) for c in (0, 1)],
                          dtype=torch.float)
    opt = torch.optim.AdamW(model.parameters(), lr=4e-5, weight_decay=0.01)
    epochs, batch = 3, 16
    steps = epochs * -(-len(train) // batch)
    sched = torch.optim.lr_scheduler.LambdaLR(
        opt, lambda s: min(1.0, (s + 1) / (0.1 * steps)) * max(0.0, (steps - s) / steps))

    def encode(ids):
        return tok([pairs[i][0] for i in ids], [pairs[i][1] for i in ids], truncation=True,
                   max_length=192, padding=True, return_tensors="pt")

    start = time.time()
    for epoch in range(epochs):
        model.train()
        order = [int(i) for i in train]
        rng.shuffle(order)
        for i in range(0, len(order), batch):
            ids = order[i:i + batch]
            loss = torch.nn.functional.cross_entropy(model(**encode(ids)).logits, y[ids],
                                                     weight=weight)
            loss.backward()
            opt.step()
            sched.step()
            opt.zero_grad()
        print(f"  minilm epoch {epoch + 1}/{epochs} ({time.time() - start:.0f} s)", flush=True)
    model.eval()
    with torch.no_grad():
        p = np.concatenate([
            torch.softmax(model(**encode([int(j) for j in test[i:i + 32]])).logits, -1)[:, 1]
            .numpy() for i in range(0, len(test), 32)
        ])
    ruled = np.array([apply_rules(*split_verdict(rows[i].output), "helpful_only") is not None
                      for i in test])
    p = np.where(ruled, 0.0, p)
    print(f"minilm-finetune  {held_out[:7]} {_cell(y[test].numpy(), p)}", flush=True)


def annotator_agreement() -> None:
    """Per family: rows where the two annotators agree on complied vs not, and each
    annotator's balanced accuracy against the final label."""
    import csv

    from aflab.classifiers.local.xstest import find_xstest_dir

    folder = find_xstest_dir()
    for model in XSTEST_MODELS:
        with (folder / f"xstest_v2_completions_{model}.csv").open(encoding="utf-8") as fh:
            recs = list(csv.DictReader(fh))

        def complied(column: str) -> np.ndarray:
            return np.array([r[column].strip() == "1_full_compliance" for r in recs], dtype=int)

        final = complied("final_label")
        one, two = complied("annotation_1"), complied("annotation_2")
        print(f"annotators {model:<16} agree {int((one == two).sum())}/{len(recs)}  "
              f"bal acc vs final: annotator 1 {M.balanced_accuracy(final, one):.3f}, "
              f"annotator 2 {M.balanced_accuracy(final, two):.3f}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--smollm2", action="store_true", help="add the SmolLM2-135M variants")
    parser.add_argument("--minilm-finetune", metavar="FAMILY", choices=XSTEST_MODELS,
                        help="only fine-tune MiniLM with FAMILY held out")
    args = parser.parse_args()
    own = read_labels(data_path("compliance_labels.jsonl"), "compliance")
    rows = own + read_xstest()
    groups = np.array([_group(r) for r in rows])
    if args.minilm_finetune:
        minilm_finetune(rows, groups, args.minilm_finetune)
        return
    labels = np.array([r.label for r in rows], dtype=object)
    y = (labels == "complied").astype(int)
    ruled = np.array([apply_rules(*split_verdict(r.output), "helpful_only") is not None
                      for r in rows])
    texts = [row_text(r, "compliance", "pair-lexical") for r in rows]
    features = pair_lexical_features(texts).tocsr()
    folds = _folds(groups)
    print("cells: balanced accuracy at 0.5 / AUROC / best balanced accuracy over thresholds "
          "(a ceiling: threshold picked on the held-out rows)")
    base = _report("base", _lexical(features, labels, groups), folds, y, ruled)
    _report("binary", _lexical(features, y, groups), folds, y, ruled)
    _report("source-weighted", _lexical(features, labels, groups, source_weighted=True),
            folds, y, ruled)
    masked = pair_lexical_features([_masked(t) for t in texts]).tocsr()
    _report("masked", _lexical(masked, labels, groups), folds, y, ruled)
    if args.smollm2:
        states = smollm2_states(rows)
        smol = _report("smollm2", _dense(states, y), folds, y, ruled)
        cells = []
        for g, (_, test) in folds.items():
            cells.append(f"{g[:7]} {_cell(y[test], (base[g] + smol[g]) / 2)}")
        print(f"{'base+smollm2':<16} " + "  ".join(cells), flush=True)
    annotator_agreement()


if __name__ == "__main__":
    main()
