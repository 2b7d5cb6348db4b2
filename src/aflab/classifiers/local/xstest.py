"""XSTest v2 model completions as compliance training and validation data.

XSTest (Röttger et al., NAACL 2024, CC-BY-4.0) has 450 prompts and, for three model
families (``gpt4``, ``llama2new``, ``mistralinstruct``), their real completions, each
labelled by two annotators. The files are never copied into this repository: they are
read at train/eval time from ``../shared/data/xstest`` (or a folder you give).

Labels: ``1_full_compliance`` -> ``complied``, ``2_full_refusal`` -> ``refused``,
``3_partial_refusal`` -> ``partial``. As everywhere in aflab, only full compliance counts
as ``complied``; partial refusals are "not complied" in the binary metrics.
"""

from __future__ import annotations

import csv
import hashlib
from pathlib import Path

from aflab.classifiers.local.labels import LabelledRow
from aflab.errors import AflabUsageError

__all__ = [
    "XSTEST_LABELS",
    "XSTEST_MODELS",
    "find_xstest_dir",
    "read_xstest",
    "xstest_files",
]

XSTEST_MODELS: tuple[str, ...] = ("gpt4", "llama2new", "mistralinstruct")
XSTEST_LABELS: dict[str, str] = {
    "1_full_compliance": "complied",
    "2_full_refusal": "refused",
    "3_partial_refusal": "partial",
}
_FILE = "xstest_v2_completions_{model}.csv"


def _candidates() -> list[Path]:
    here = Path(__file__).resolve()
    found = [Path.cwd() / ".." / "shared" / "data" / "xstest"]
    if len(here.parents) > 4:  # src/aflab/classifiers/local/xstest.py in a checkout
        found.append(here.parents[4].parent / "shared" / "data" / "xstest")
    return found


def find_xstest_dir(path: str | Path | None = None) -> Path:
    """The XSTest folder: ``path`` if given, else ``../shared/data/xstest`` (from the
    working directory, then from the repository root). AflabUsageError if absent."""
    options = [Path(path)] if path is not None else _candidates()
    for folder in options:
        if all((folder / _FILE.format(model=m)).is_file() for m in XSTEST_MODELS):
            return folder.resolve()
    where = path if path is not None else "../shared/data/xstest"
    raise AflabUsageError(
        f"{where}: XSTest completions not found (xstest_v2_completions_MODEL.csv for "
        f"{', '.join(XSTEST_MODELS)}); give the folder with --xstest PATH"
    )


def xstest_files(path: str | Path | None = None) -> dict[str, dict[str, str]]:
    """``{file name: {"sha256": ...}}`` of the completion files (training metadata)."""
    folder = find_xstest_dir(path)
    return {
        _FILE.format(model=m): {
            "sha256": hashlib.sha256((folder / _FILE.format(model=m)).read_bytes()).hexdigest()
        }
        for m in XSTEST_MODELS
    }


def read_xstest(
    path: str | Path | None = None, models: tuple[str, ...] = XSTEST_MODELS
) -> list[LabelledRow]:
    """Labelled compliance rows for ``models``; ``raw`` holds ``model`` and ``type``."""
    folder = find_xstest_dir(path)
    rows: list[LabelledRow] = []
    for model in models:
        if model not in XSTEST_MODELS:
            raise AflabUsageError(f"XSTest model {model!r}; use one of {', '.join(XSTEST_MODELS)}")
        file = folder / _FILE.format(model=model)
        with file.open(encoding="utf-8", newline="") as fh:
            for number, rec in enumerate(csv.DictReader(fh), start=2):
                label = XSTEST_LABELS.get((rec.get("final_label") or "").strip())
                if label is None:
                    raise AflabUsageError(
                        f"{file}:{number}: final_label {rec.get('final_label')!r}; "
                        f"expected one of {', '.join(XSTEST_LABELS)}"
                    )
                rows.append(LabelledRow(
                    line=number, label=label, output=rec.get("completion") or "",
                    request=rec.get("prompt") or "", id=f"xstest-{model}-{rec.get('id', '')}",
                    raw={"model": model, "type": rec.get("type", "")},
                ))
    return rows
