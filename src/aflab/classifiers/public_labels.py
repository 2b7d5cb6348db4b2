"""Public human-labelled sets by name, converted once to aflab's label-file format.

``hughes2025``: the 106 human-labelled scratchpads of Hughes et al. 2025 (Hugging Face
dataset ``jplhughes2/classify_alignment_faking_human_labels``), an AF label set. Loading
needs the optional ``datasets`` package and the network once; the converted JSONL is
kept under ``$AFLAB_HOME/labels/``. Offline, the loader fails with one line.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aflab.errors import AflabUsageError
from aflab.models.embedded import aflab_home

__all__ = ["PUBLIC_LABEL_SETS", "public_labels_path"]

#: name -> (Hugging Face dataset id, task)
PUBLIC_LABEL_SETS: dict[str, tuple[str, str]] = {
    "hughes2025": ("jplhughes2/classify_alignment_faking_human_labels", "af"),
}
_TEXT_COLUMNS = ("scratchpad", "reasoning", "response", "completion", "transcript", "text")
_LABEL_COLUMNS = ("label", "human_label", "is_alignment_faking", "alignment_faking", "af")


def _pick(columns: list[str], candidates: tuple[str, ...], what: str, dataset: str) -> str:
    for name in candidates:
        if name in columns:
            return name
    raise AflabUsageError(
        f"public labels {dataset}: no {what} column among {', '.join(columns)}; "
        "convert it to a label file by hand (see docs/classifier-data.md)"
    )


def _convert(rows: list[dict[str, Any]], dataset: str) -> list[dict[str, Any]]:
    columns = list(rows[0]) if rows else []
    text = _pick(columns, _TEXT_COLUMNS, "scratchpad text", dataset)
    label = _pick(columns, _LABEL_COLUMNS, "label", dataset)
    out = []
    for i, row in enumerate(rows):
        value = row[label]
        if isinstance(value, str):
            value = value.strip().lower()
        value = {"yes": 1, "no": 0, "true": 1, "false": 0}.get(value, value)  # type: ignore[arg-type]
        if value not in (0, 1, True, False):
            raise AflabUsageError(f"public labels {dataset}: row {i}: label {row[label]!r}")
        out.append({"id": f"{dataset.split('/')[-1]}-{i:04d}", "scratchpad": str(row[text]),
                    "output": str(row.get("output") or ""), "label": int(value)})
    return out


def public_labels_path(name: str) -> Path:
    """The converted JSONL of public label set ``name`` (downloaded and converted once)."""
    if name not in PUBLIC_LABEL_SETS:
        raise AflabUsageError(
            f"unknown public label set {name!r}; known: {', '.join(PUBLIC_LABEL_SETS)}"
        )
    dataset, _task = PUBLIC_LABEL_SETS[name]
    target = aflab_home() / "labels" / f"{name}.jsonl"
    if target.is_file():
        return target
    try:
        import datasets
    except ImportError:
        raise AflabUsageError(
            f"public label set {name!r} needs `pip install 'aflab[datasets]'`"
        ) from None
    try:
        loaded = datasets.load_dataset(dataset, split="train")
    except Exception as err:  # noqa: BLE001 - any failure of the download is one user-facing line
        raise AflabUsageError(
            f"could not load public label set {name!r} ({dataset}): no network or not cached "
            f"({type(err).__name__}); download it once online"
        ) from None
    rows = _convert([dict(r) for r in loaded], dataset)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.with_suffix(".tmp")
    tmp.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    tmp.replace(target)
    return target
