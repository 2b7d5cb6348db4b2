"""Heads fitted on the user's own labelled transcripts (``aflab classifiers train --labels``).

    from aflab.classifiers.local.user_heads import train_user_head
    head_path = train_user_head("my_labels.jsonl", task="af", out_dir="heads/", seed=0)
    # then: aflab classifiers eval other.jsonl --classifier heads/af-user.json

Label files are those of ``aflab classifiers eval`` (:mod:`.labels`). AF heads use the
``af-motive`` recipe by default (``kind="motive"``; ``kind="lexical"`` gives the
``af-lexical`` recipe); compliance heads the ``compliance-lexical`` recipe (hashed
n-grams, helpful-only rules first; ``--rules animal_welfare`` for that setting's labels).
Beside the head, ``<name>.provenance.json`` records the labels file's SHA-256, row
counts, seed, recipe and library versions, with no timestamp: the same labels, seed and
library versions give byte-identical files.

:func:`load_any_head` reads any head file (plain ``aflab-local-head/1`` or
``aflab-af-motive/1``), shipped or user-trained.
"""

from __future__ import annotations

import hashlib
import json
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

from aflab.classifiers.local.af_motive import (
    MOTIVE_FORMAT,
    MotiveHead,
    fit_motive_head,
    load_motive_head,
    save_motive_head,
)
from aflab.classifiers.local.heads import FORMAT, Head, fit_logistic_head, load_head, save_head
from aflab.classifiers.local.labels import read_labels
from aflab.errors import AflabUsageError

__all__ = ["UserKind", "load_any_head", "train_user_head"]

UserKind = Literal["motive", "lexical"]
_MIN_PER_CLASS = 5


def load_any_head(path: str | Path) -> Head | MotiveHead:
    """A head file of either format (cached while the file is unchanged)."""
    file = Path(path)
    if not file.is_file():
        raise AflabUsageError(f"{file}: no such head file (train one with "
                              "'aflab classifiers train --labels FILE --out DIR')")
    stat = file.stat()
    return _load_file(str(file.resolve()), stat.st_mtime_ns, stat.st_size)


@lru_cache(maxsize=16)
def _load_file(path: str, mtime_ns: int, size: int) -> Head | MotiveHead:
    del mtime_ns, size  # cache key only
    file = Path(path)
    try:
        fmt = json.loads(file.read_text(encoding="utf-8")).get("format")
    except (ValueError, AttributeError):
        raise AflabUsageError(f"{file}: not a JSON head file") from None
    if fmt == MOTIVE_FORMAT:
        return load_motive_head(file)
    if fmt == FORMAT:
        return load_head(file)
    raise AflabUsageError(f"{file}: unknown head format {fmt!r}; use {FORMAT} or {MOTIVE_FORMAT}")


def _versions() -> dict[str, str]:
    import numpy
    import sklearn

    from aflab import __version__

    return {"aflab": __version__, "numpy": numpy.__version__, "sklearn": sklearn.__version__}


def train_user_head(
    labels: str | Path,
    *,
    task: str = "af",
    out_dir: str | Path,
    seed: int = 0,
    kind: UserKind = "motive",
    name: str | None = None,
    rules: str = "helpful_only",
) -> Path:
    """Fit a head on every row of ``labels``; write it and its provenance; return its path."""
    from aflab.classifiers.local.features import featurize
    from aflab.classifiers.local.train import row_text

    if kind not in ("motive", "lexical"):
        raise AflabUsageError(f"--kind {kind!r}; use motive or lexical")
    if task == "compliance" and kind == "motive":
        kind = "lexical"  # the motive recipe is for AF reasoning only
    rows = read_labels(labels, task)
    counts: dict[str, int] = {}
    for r in rows:
        counts[str(r.label)] = counts.get(str(r.label), 0) + 1
    if len(counts) < 2 or min(counts.values()) < _MIN_PER_CLASS:
        raise AflabUsageError(
            f"{labels}: need at least {_MIN_PER_CLASS} rows of each of two labels to train, "
            f"got {dict(sorted(counts.items()))}"
        )
    name = name or f"{task}-user"
    out = Path(out_dir)
    sha = hashlib.sha256(Path(labels).read_bytes()).hexdigest()
    meta: dict[str, Any] = {"data": Path(labels).name, "data_sha256": sha, "user_labels": True}
    head: Head | MotiveHead
    if task == "af" and kind == "motive":
        texts = [row_text(r, "af") for r in rows]
        motives = [r.raw.get("motive") if isinstance(r.raw.get("motive"), str) else None
                   for r in rows]
        head = fit_motive_head(texts, [r.label for r in rows], motives, name=name, seed=seed,
                               training=meta)
        path = save_motive_head(head, out / f"{name}.json")
        recipe = "af-motive (sentence head + stacker)"
    else:
        texts = [row_text(r, task, "lexical") for r in rows]
        if task == "compliance":
            meta["rules"] = rules
        head = fit_logistic_head(
            featurize("lexical", texts), [r.label for r in rows], name=name, task=task,
            feature_kind="lexical", positive_class=1 if task == "af" else "complied",
            c_grid=(10.0,), min_df=3 if len(rows) >= 30 else 1, seed=seed, training=meta,
        )
        path = save_head(head, out / f"{name}.json")
        recipe = f"{task}-lexical (hashed n-grams + logistic regression)"
    provenance = {
        "head": path.name, "task": task, "recipe": recipe, "seed": seed,
        "labels": {"file": str(labels), "sha256": sha, "rows": len(rows), "per_label": counts},
        "versions": _versions(),
        "use": f"aflab classifiers eval LABELS --classifier DIR/{path.name}",
    }
    (out / f"{name}.provenance.json").write_text(
        json.dumps(provenance, indent=2, sort_keys=True) + "\n", encoding="utf-8")
    return path
