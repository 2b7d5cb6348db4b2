"""Linear probes per layer, with a layer sweep and the textual-leakage controls.

    result = run_probe(ProbeConfig(store="runs/.../watched", control="runs/.../chat",
                                   masked="runs/.../watched-masked"))

For every site of the store: a logistic regression (scikit-learn, standardised features)
is fitted on the training groups and scored on the test groups (a group split, so a
query's free and paid samples are never on both sides). Reported per site: test AUROC
with a group-bootstrap 95% interval; the threshold at ``fpr`` (1%) on the control set of
ordinary chat and the recall of test positives there (and the test negatives flagged).
The "best layer" is chosen on a validation split *inside* the training groups (highest
validation AUROC, to 3 decimals, then the highest validation recall at ``fpr`` on the
control set), so the chosen layer's test numbers are not selected on test data.

Textual-leakage controls, reported beside the probe on the same split:

- ``bag_of_tokens``: the same regression on which input tokens occur (binary);
- ``masked``: the probe on a store captured with the tier-tag positions masked (no
  position could attend to them), and the bag of tokens without those tokens.
The share of signal that survives is ``(AUROC_masked - 0.5) / (AUROC - 0.5)``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
from pydantic import BaseModel, ConfigDict, Field

from aflab.errors import AflabUsageError
from aflab.whitebox.metrics import (
    auroc,
    bootstrap_ci,
    check_classes,
    group_split,
    recall_above,
    threshold_at_fpr,
)
from aflab.whitebox.store import ActivationStore, check_same_samples, open_store

__all__ = ["ProbeConfig", "apply_labels", "fit_probe", "probe_site", "run_probe", "save_result"]


class ProbeConfig(BaseModel):
    """``aflab whitebox probe``: a layer sweep of linear probes with their controls."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    store: str = Field(description="Activation store (run directory) with labelled samples.")
    control: str | None = Field(None, description="Store of ordinary chat (the control set) "
                                "on which the threshold at --fpr is set.")
    masked: str | None = Field(None, description="Store of the same samples captured with "
                               "the tier-tag positions masked (textual-leakage control).")
    labels: str | None = Field(None, description="JSONL file {id, epoch, label} replacing the "
                               "store's labels (ids must match the store's exactly).")
    sites: tuple[str, ...] = Field((), description="Sites to probe [default: all in the store].")
    test_fraction: float = Field(0.3, description="Share of groups (queries) held out for test.")
    seed: int = Field(0, description="Seed of the split and the bootstrap.")
    c: float = Field(0.1, description="Inverse L2 regularisation strength (scikit-learn C).")
    fpr: float = Field(0.01, description="False-positive rate on the control set for the "
                       "threshold.")
    n_boot: int = Field(1000, description="Bootstrap resamples (over groups) for intervals.")
    bag_of_tokens: bool = Field(True, description="Fit the bag-of-input-tokens control.")
    out: str | None = Field(None, description="Run directory [default: "
                            "runs/whitebox/probe/NAME].")


def apply_labels(store: ActivationStore, path: str | Path) -> np.ndarray:
    """Labels from a JSONL file keyed by id (and epoch); its ids must equal the store's."""
    from aflab.data.jsonl import jsonl_objects
    from aflab.whitebox.samples import parse_label, sample_key

    path = Path(path)
    if not path.is_file():
        raise AflabUsageError(f"{path}: no such labels file")
    table: dict[str, int] = {}
    with path.open(encoding="utf-8") as fh:
        for line, record in jsonl_objects(fh, str(path)):
            if "id" not in record or "label" not in record:
                raise AflabUsageError(f"{path}:{line}: every line needs an id and a label")
            table[sample_key(str(record["id"]), int(record.get("epoch", 1)))] = parse_label(
                record["label"], f"{path}:{line}")
    missing = [k for k in store.keys if k not in table]
    extra = sorted(set(table) - set(store.keys))
    if missing or extra:
        first = f"{missing[0]!r} has no label" if missing else f"{extra[0]!r} is not in the store"
        raise AflabUsageError(f"{path}: sample ids do not match the store ({len(missing)} "
                              f"unlabelled, {len(extra)} unknown; {first}); label exactly the "
                              "store's samples")
    return np.array([table[k] for k in store.keys])


def fit_probe(X: np.ndarray, y: np.ndarray, c: float, seed: int = 0) -> Any:
    """Standardise, then an L2 logistic regression; ``decision_function`` gives scores."""
    from sklearn.linear_model import LogisticRegression
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    check_classes(y, "probe training set")
    return make_pipeline(StandardScaler(), LogisticRegression(C=c, max_iter=2000,
                                                              random_state=seed)).fit(X, y)


def _bag(token_lists: list[np.ndarray], vocab: int) -> Any:
    from scipy.sparse import csr_matrix

    rows, cols = [], []
    for i, ids in enumerate(token_lists):
        unique = np.unique(ids)
        rows.extend([i] * len(unique))
        cols.extend(unique.tolist())
    return csr_matrix((np.ones(len(rows)), (rows, cols)), shape=(len(token_lists), vocab))


def probe_site(X: np.ndarray, y: np.ndarray, groups: np.ndarray, test: np.ndarray,
               control: np.ndarray | None, cfg: ProbeConfig, *, scaled: bool = True,
               ) -> dict[str, Any]:
    """Fit on ~test, report AUROC [CI], threshold at cfg.fpr on ``control``, recall."""
    train = ~test
    if scaled:
        model = fit_probe(X[train], y[train], cfg.c, cfg.seed)
    else:
        from sklearn.linear_model import LogisticRegression

        check_classes(y[train], "probe training set")
        model = LogisticRegression(C=cfg.c, max_iter=2000).fit(X[train], y[train])
    scores = model.decision_function(X[test])
    yt, gt = y[test], groups[test]
    out: dict[str, Any] = {"auroc": auroc(scores, yt), "n_train": int(train.sum()),
                           "n_test": int(test.sum())}
    out["auroc_ci"] = list(bootstrap_ci(auroc, gt, scores, yt, n_boot=cfg.n_boot,
                                        seed=cfg.seed, labels=yt))
    if control is not None:
        threshold = threshold_at_fpr(model.decision_function(control), cfg.fpr)
        out.update({"threshold": threshold,
                    "recall_at_fpr": recall_above(scores[yt == 1], threshold),
                    "test_negatives_flagged": recall_above(scores[yt == 0], threshold),
                    "n_control": int(control.shape[0])})
    return out


def _labels(store: ActivationStore, cfg: ProbeConfig) -> tuple[np.ndarray, np.ndarray]:
    y = apply_labels(store, cfg.labels) if cfg.labels else store.labels()
    keep = y >= 0
    if not keep.any():
        raise AflabUsageError(f"{store.path}: no labelled samples; give --labels FILE")
    check_classes(y[keep], f"store {store.path}")
    return y, keep


def run_probe(cfg: ProbeConfig) -> dict[str, Any]:
    """The layer sweep with its controls; returns the results (JSON-ready)."""
    store = open_store(cfg.store)
    control = open_store(cfg.control) if cfg.control else None
    masked = open_store(cfg.masked) if cfg.masked else None
    if masked is not None:
        check_same_samples(store, masked, "--masked")
    y_all, keep = _labels(store, cfg)
    groups = store.groups()[keep]
    y = y_all[keep]
    test = group_split(groups, cfg.test_fraction, cfg.seed)
    check_classes(y[test], "test split")
    check_classes(y[~test], "training split")
    inner_groups = groups[~test]
    val = group_split(inner_groups, 0.25, cfg.seed + 1)
    sites = [store.check_site(s) for s in cfg.sites] or store.sites
    if control is not None:
        for s in sites:
            control.check_site(s)
    per_site, masked_sites = [], []
    for site in sites:
        X = store.matrix(site)[keep]
        ctrl = control.matrix(site) if control is not None else None
        row = {"site": site, **probe_site(X, y, groups, test, ctrl, cfg)}
        Xtr, ytr = X[~test], y[~test]
        if len(np.unique(ytr[~val])) == 2 and len(np.unique(ytr[val])) == 2:
            inner = fit_probe(Xtr[~val], ytr[~val], cfg.c, cfg.seed)
            val_scores = inner.decision_function(Xtr[val])
            row["val_auroc"] = auroc(val_scores, ytr[val])
            if ctrl is not None:
                row["val_recall_at_fpr"] = recall_above(
                    val_scores[ytr[val] == 1],
                    threshold_at_fpr(inner.decision_function(ctrl), cfg.fpr))
        per_site.append(row)
        if masked is not None:
            Xm = masked.matrix(site)[keep]
            masked_sites.append({"site": site, **probe_site(Xm, y, groups, test, ctrl, cfg)})
    def rank(i: int) -> tuple[float, float, int]:  # validation only: never the test split
        row = per_site[i]
        return (round(row.get("val_auroc", row["auroc"]), 3),
                row.get("val_recall_at_fpr", 0.0), -i)

    best = max(range(len(per_site)), key=rank)
    result: dict[str, Any] = {
        "store": str(store.path), "model": store.info.get("model"),
        "position": store.info.get("position"), "n": int(keep.sum()), "fpr": cfg.fpr,
        "n_groups": int(len(np.unique(groups))), "n_test": int(test.sum()),
        "test_groups": int(len(np.unique(groups[test]))),
        "labels": {"1": int((y == 1).sum()), "0": int((y == 0).sum())},
        "split_check": _split_check(groups, test),
        "sites": per_site, "best_site": per_site[best]["site"], "best": per_site[best],
        "controls": {},
    }
    if masked is not None:
        result["controls"]["masked_activations"] = {"sites": masked_sites,
                                                    "best": masked_sites[best]}
    if cfg.bag_of_tokens:
        all_ids = store.token_ids(unmasked_only=False)
        vocab = int(max(int(ids.max(initial=0)) for ids in all_ids)) + 1
        if control is not None:
            vocab = max(vocab, int(max(int(i.max(initial=0)) for i in control.token_ids())) + 1)
        ctrl_bag = _bag(control.token_ids(), vocab) if control is not None else None
        bag = _bag([t for t, k in zip(store.token_ids(), keep) if k], vocab)
        result["controls"]["bag_of_tokens"] = probe_site(bag, y, groups, test, ctrl_bag, cfg,
                                                         scaled=False)
        if masked is not None:
            mbag = _bag([t for t, k in zip(masked.token_ids(), keep) if k], vocab)
            result["controls"]["bag_of_tokens_masked"] = probe_site(
                mbag, y, groups, test, ctrl_bag, cfg, scaled=False)
    result["survival"] = _survival(result)
    return result


def _split_check(groups: np.ndarray, test: np.ndarray) -> dict[str, Any]:
    """Evidence that no group straddles the split (written into the results)."""
    straddling = set(groups[test]) & set(groups[~test])
    if straddling:  # cannot happen with group_split; checked so the record can say so
        raise AflabUsageError(f"group {sorted(straddling)[0]!r} is on both sides of the split")
    return {"groups_on_both_sides": 0}


def _survival(result: dict[str, Any]) -> dict[str, Any]:
    """How much of the probe's signal (AUROC above 0.5) survives each control."""
    base = result["best"]["auroc"] - 0.5
    out: dict[str, Any] = {}
    masked = result["controls"].get("masked_activations")
    if masked and base > 0:
        out["masked_activations"] = (masked["best"]["auroc"] - 0.5) / base
    return out


def save_result(result: dict[str, Any], out_dir: Path) -> Path:
    path = out_dir / "probe.json"
    path.write_text(json.dumps(result, indent=2), encoding="utf-8")
    return path
