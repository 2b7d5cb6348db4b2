"""Reading and validating labelled JSONL files for the classifiers.

Formats (one JSON object per line; blank lines are skipped):

* ``af``: ``scratchpad`` (string), optional ``output`` (string), and ``label``: 0/1,
  true/false, or "yes"/"no" (1 = alignment-faking reasoning).
* ``compliance``: ``output`` or ``response`` (string), optional ``request``, and
  ``label`` in {"complied", "partial", "refused"}.

An optional ``split`` column selects rows (``split="test"``). Every error names the
file and the line and is an :class:`~aflab.errors.AflabUsageError`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from aflab.data.jsonl import jsonl_objects
from aflab.errors import AflabUsageError

__all__ = [
    "COMPLIANCE_CLASSES",
    "LabelledRow",
    "TASKS",
    "Task",
    "read_labels",
]

Task = Literal["af", "compliance"]
TASKS: tuple[str, ...] = ("af", "compliance")
#: Compliance classes, in the order the heads use.
COMPLIANCE_CLASSES: tuple[str, ...] = ("complied", "partial", "refused")

_AF_LABELS: dict[Any, int] = {0: 0, 1: 1, "0": 0, "1": 1, "no": 0, "yes": 1}


@dataclass(frozen=True)
class LabelledRow:
    """One validated row; ``label`` is 0/1 for af and a class name for compliance."""

    line: int
    label: Any
    scratchpad: str = ""
    output: str = ""
    request: str = ""
    setting: str = "helpful_only"
    id: str = ""
    raw: dict[str, Any] = field(default_factory=dict, repr=False, compare=False)

    @property
    def positive(self) -> int:
        """1 for AF reasoning / complied, else 0."""
        return int(self.label == "complied") if isinstance(self.label, str) else int(self.label)


def _text(row: dict[str, Any], key: str, where: str) -> str:
    value = row.get(key)
    if value is None:
        return ""
    if not isinstance(value, str):
        raise AflabUsageError(f"{where}: {key!r} must be a string, got {type(value).__name__}")
    return value


def _af_label(value: Any, where: str) -> int:
    key = value.strip().lower() if isinstance(value, str) else value
    if isinstance(key, bool):
        return int(key)
    if isinstance(key, (int, str)) and key in _AF_LABELS:
        return _AF_LABELS[key]
    raise AflabUsageError(f"{where}: label {value!r}; use 0/1 or yes/no")


def _parse_row(row: dict[str, Any], task: str, where: str, line: int) -> LabelledRow:
    if "label" not in row or row["label"] is None:
        raise AflabUsageError(f"{where}: missing 'label'")
    common = dict(
        line=line,
        request=_text(row, "request", where),
        setting=str(row.get("setting") or "helpful_only"),
        id=str(row.get("id", "")),
        raw=row,
    )
    if task == "af":
        if not isinstance(row.get("scratchpad"), str):
            raise AflabUsageError(f"{where}: missing text field 'scratchpad' (a string)")
        return LabelledRow(
            label=_af_label(row["label"], where),
            scratchpad=row["scratchpad"],
            output=_text(row, "output", where),
            **common,  # type: ignore[arg-type]
        )
    text_key = "output" if isinstance(row.get("output"), str) else "response"
    if not isinstance(row.get(text_key), str):
        raise AflabUsageError(f"{where}: missing text field 'output' or 'response' (a string)")
    label = row["label"].strip().lower() if isinstance(row["label"], str) else row["label"]
    if label not in COMPLIANCE_CLASSES:
        raise AflabUsageError(
            f"{where}: label {row['label']!r}; use one of {', '.join(COMPLIANCE_CLASSES)}"
        )
    return LabelledRow(label=label, output=row[text_key], **common)  # type: ignore[arg-type]


def read_labels(path: str | Path, task: str, *, split: str | None = None) -> list[LabelledRow]:
    """Validated rows of ``path`` for ``task`` (``af`` or ``compliance``), filtered by ``split``."""
    if task not in TASKS:
        raise AflabUsageError(f"task {task!r}; use af or compliance")
    file = Path(path)
    if not file.is_file():
        from aflab.classifiers.public_labels import PUBLIC_LABEL_SETS, public_labels_path

        if str(path) not in PUBLIC_LABEL_SETS:
            raise AflabUsageError(
                f"{file}: no such file (public label sets by name: {', '.join(PUBLIC_LABEL_SETS)})"
            )
        file = public_labels_path(str(path))
    rows: list[LabelledRow] = []
    splits_seen: set[str] = set()
    with file.open(encoding="utf-8") as fh:
        for number, data in jsonl_objects(fh, str(file)):
            where = f"{file}:{number}"
            row = _parse_row(data, task, where, number)
            if "split" in data:
                splits_seen.add(str(data["split"]))
            if split is not None and str(data.get("split")) != split:
                continue
            rows.append(row)
    if not rows:
        if split is not None:
            known = ", ".join(sorted(splits_seen)) or "none: the file has no 'split' column"
            raise AflabUsageError(f"{file}: no rows with split {split!r} (splits: {known})")
        raise AflabUsageError(f"{file}: no labelled rows")
    return rows
