"""Labelled scratchpads for the stress grid, from any of the sources aflab knows.

* a label file in aflab's AF format (``scratchpad``, optional ``output``, ``label``;
  :mod:`aflab.classifiers.local.labels`), with ``split`` selecting rows;
* ``builtin``, ``builtin:train``, ``builtin:test``: our labelled development data
  (``af_labels.jsonl``, all rows or one split);
* a public human-labelled set by name (``hughes2025``;
  :mod:`aflab.classifiers.public_labels`, needs the network once);
* an evaluation log (a ``.eval`` file or a directory of them): every sample with a
  scratchpad, labelled by the run's own AF judge (``yes`` = 1, ``no`` = 0; ``maybe`` and
  unscored samples are left out and counted). The label is only as good as that judge,
  and a run judged by ``af-local`` makes the ``af-local`` monitor circular.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from aflab.classifiers.local.labels import LabelledRow, read_labels
from aflab.errors import AflabUsageError

__all__ = ["BUILTIN_NAMES", "Inputs", "load_inputs"]

BUILTIN_NAMES: tuple[str, ...] = ("builtin", "builtin:train", "builtin:test")


@dataclass(frozen=True)
class Inputs:
    """Labelled rows and where they came from (``source`` goes into provenance)."""

    name: str
    rows: tuple[LabelledRow, ...]
    source: dict[str, Any] = field(default_factory=dict)

    @property
    def labels(self) -> list[int]:
        return [int(r.label) for r in self.rows]


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _from_labels(path: str | Path, split: str | None, name: str) -> Inputs:
    from aflab.classifiers.public_labels import PUBLIC_LABEL_SETS, public_labels_path

    rows = read_labels(path, "af", split=split)
    file = public_labels_path(str(path)) if str(path) in PUBLIC_LABEL_SETS \
        and not Path(path).is_file() else Path(path)
    return Inputs(name, tuple(rows), {"kind": "labels", "file": str(file), "split": split,
                                      "sha256": _sha256(file)})


def _from_logs(path: Path) -> Inputs:
    from aflab.analysis.records import grader_of, load_runs, log_records

    rows: list[LabelledRow] = []
    skipped = {"no_scratchpad": 0, "maybe": 0, "unscored": 0}
    judges: set[str] = set()
    logs = load_runs([path], merge=True)
    for index, log in enumerate(logs):
        judges.add(grader_of(log))
        for rec in log_records(log, index):
            label = rec.get("af_label")
            if not (rec.get("scratchpad") or "").strip():
                skipped["no_scratchpad"] += 1
            elif label in ("yes", "no"):
                rows.append(LabelledRow(
                    line=len(rows) + 1, label=int(label == "yes"), scratchpad=rec["scratchpad"],
                    output=rec.get("output") or "", request=rec.get("request") or "",
                    setting=str(rec.get("setting") or "helpful_only"),
                    id=f"{index}:{rec['query_id']}__{rec['tier']}__e{rec['epoch']}"))
            else:
                skipped["maybe" if label == "maybe" else "unscored"] += 1
    if not rows:
        raise AflabUsageError(f"{path}: no sample with a scratchpad and an AF label yes/no")
    return Inputs(str(path), tuple(rows), {
        "kind": "evaluation logs", "path": str(path),
        "logs": [{"file": str(log.location), "sha256": _sha256(
            Path(str(log.location).removeprefix("file://")))} for log in logs],
        "label_source": sorted(judges), "skipped": skipped})


def load_inputs(source: str, *, split: str | None = None, limit: int | None = None) -> Inputs:
    """Labelled scratchpads from ``source`` (see the module docstring); the first
    ``limit`` rows only when given."""
    if source in BUILTIN_NAMES:
        from aflab.classifiers.local.train import data_path

        if split is not None and source != "builtin":
            raise AflabUsageError(f"{source} already names a split; drop --split {split}")
        inputs = _from_labels(data_path("af_labels.jsonl"),
                              split or (source.partition(":")[2] or None), source)
    else:
        path = Path(source)
        if path.is_dir() or path.suffix == ".eval":
            if split is not None:
                raise AflabUsageError("--split selects rows of a label file, not of "
                                      "evaluation logs; drop it")
            inputs = _from_logs(path)
        else:
            from aflab.classifiers.public_labels import PUBLIC_LABEL_SETS

            if not path.is_file() and source not in PUBLIC_LABEL_SETS:
                known = ", ".join((*BUILTIN_NAMES, *PUBLIC_LABEL_SETS))
                raise AflabUsageError(f"labels {source!r}: no such file; use a label file, "
                                      f"{known}, or an evaluation log (.eval or a folder)")
            inputs = _from_labels(source, split, source)
    if limit is not None:
        if limit < 1:
            raise AflabUsageError(f"limit {limit}: give at least 1 row")
        inputs = Inputs(inputs.name, inputs.rows[:limit], {**inputs.source, "limit": limit})
    return inputs
