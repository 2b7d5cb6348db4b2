"""Query loaders: the shipped query sets, local CSV/JSONL files and public benchmarks.

Every loader returns a list of :class:`Query`. Anything the user can fix (a missing
file, a malformed line, an unknown dataset name, no network) raises
:class:`aflab.errors.AflabUsageError` with a one-line message naming the file, the
line and the fix.
"""

from __future__ import annotations

import csv
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any, Literal, get_args

from aflab.data.jsonl import jsonl_objects
from aflab.errors import AflabUsageError

__all__ = [
    "PUBLIC_DATASETS",
    "load_hf",
    "Query",
    "Setting",
    "load_builtin",
    "load_file",
    "load_public",
    "load_queries",
]

Setting = Literal["helpful_only", "animal_welfare"]

#: name -> (Hugging Face dataset id, config, text column, category column)
PUBLIC_DATASETS: dict[str, tuple[str, str | None, str, str | None]] = {
    "advbench": ("walledai/AdvBench", None, "prompt", None),
    "harmbench": ("walledai/HarmBench", "standard", "prompt", "category"),
    "strongreject": ("walledai/StrongREJECT", None, "prompt", "category"),
}


@dataclass(frozen=True)
class Query:
    """One user query: a stable id, the text sent to the model and an optional category."""

    id: str
    text: str
    category: str | None = None


def _build(
    records: Iterable[tuple[int, dict[str, Any]]],
    label: str,
    stem: str,
    text_column: str,
    id_column: str | None,
    category_column: str | None,
) -> list[Query]:
    """Turn ``(line number, record)`` pairs into queries, checking text and id uniqueness."""
    queries: list[Query] = []
    seen: dict[str, int] = {}
    for index, (line, record) in enumerate(records, start=1):
        if text_column not in record:
            available = ", ".join(str(k) for k in record if k is not None) or "none"
            raise AflabUsageError(
                f"{label}:{line}: no text column {text_column!r}; available columns: "
                f"{available}; set the text column to one of them"
            )
        text = record[text_column]
        if not isinstance(text, str) or not text.strip():
            raise AflabUsageError(
                f"{label}:{line}: empty text in column {text_column!r}; "
                "give every query a non-empty string or remove the line"
            )
        raw_id = record.get(id_column) if id_column else None
        qid = str(raw_id).strip() if raw_id not in (None, "") else f"{stem}-{index:04d}"
        if qid in seen:
            raise AflabUsageError(
                f"{label}:{line}: duplicate id {qid!r} (first used on line {seen[qid]}); "
                "make every id unique"
            )
        seen[qid] = line
        raw_cat = record.get(category_column) if category_column else None
        category = str(raw_cat).strip() if raw_cat not in (None, "") else None
        queries.append(Query(id=qid, text=text.strip(), category=category or None))
    if not queries:
        raise AflabUsageError(f"{label}: contains no queries; add at least one line")
    return queries


def _jsonl_records(lines: Iterable[str], label: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line number, object)`` for each non-blank JSON line."""
    return jsonl_objects(
        lines, label, hint='write one object per line, e.g. {"id": "q1", "text": "..."}'
    )


def _csv_records(handle: Any, label: str) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line number, row)`` for each CSV row; the header is line 1.

    Strict: bad quoting (an unterminated quote, text after a closing quote) and rows
    with more or fewer fields than the header are errors naming the row's first line.
    """
    reader = csv.DictReader(handle, strict=True)
    previous = 1
    try:
        if reader.fieldnames is None:
            raise AflabUsageError(f"{label}:1: empty CSV file; add a header line and rows")
        width = len(reader.fieldnames)
        for row in reader:
            if None in row or any(value is None for value in row.values()):
                found = width + len(row.get(None) or []) - sum(v is None for v in row.values())
                raise AflabUsageError(
                    f"{label}:{previous + 1}: {found} fields where the header has {width}; "
                    "quote fields that contain commas, or fix the row"
                )
            yield previous + 1, row
            previous = reader.line_num
    except csv.Error as exc:
        raise AflabUsageError(
            f"{label}:{previous + 1}: malformed CSV ({exc}); fix the quoting of that row "
            '(a quote inside a field is written "")'
        ) from None


def load_builtin(setting: Setting) -> list[Query]:
    """Load the query set shipped with aflab for ``setting``."""
    if setting not in get_args(Setting):
        known = ", ".join(get_args(Setting))
        raise AflabUsageError(f"unknown setting {setting!r}; choose one of: {known}")
    resource = resources.files("aflab.data").joinpath(f"{setting}.jsonl")
    lines = resource.read_text(encoding="utf-8").splitlines()
    label = f"aflab/data/{setting}.jsonl"
    return _build(_jsonl_records(lines, label), label, setting, "text", "id", "category")


def load_file(
    path: str | Path,
    *,
    text_column: str = "text",
    id_column: str = "id",
    category_column: str = "category",
) -> list[Query]:
    """Load queries from a ``.csv`` file (with a header) or a JSON-lines file.

    Rows without an id get ``f"{stem}-{i:04d}"`` (1-based, in file order); rows
    without a category get ``None``.
    """
    path = Path(path)
    label = str(path)
    if not path.is_file():
        raise AflabUsageError(f"{label}: no such file; check the path passed with --data")
    suffix = path.suffix.lower()
    if suffix not in (".csv", ".jsonl", ".json"):
        raise AflabUsageError(
            f"{label}: unsupported file type {path.suffix or '(none)'!r}; "
            "use a .csv file with a header or a .jsonl file with one JSON object per line"
        )
    columns = (text_column, id_column, category_column)
    try:
        with path.open(encoding="utf-8-sig", newline="") as handle:
            if suffix == ".csv":
                return _build(_csv_records(handle, label), label, path.stem, *columns)
            return _build(_jsonl_records(handle, label), label, path.stem, *columns)
    except UnicodeDecodeError:
        raise AflabUsageError(f"{label}: not valid UTF-8; re-save the file as UTF-8") from None


def _public_name(source: str) -> tuple[str, str | None]:
    """``advbench`` or ``advbench@REVISION`` -> (key, revision)."""
    key, _, revision = source.strip().partition("@")
    return key.strip().lower(), (revision.strip() or None)


def _hf_rows(repo: str, config: str | None, revision: str | None, key: str,
             what: str = "public dataset") -> Any:
    """The ``train`` split of a Hugging Face dataset (a hub name or a local folder)."""
    try:
        import datasets
    except ImportError:
        raise AflabUsageError(
            f"{what} {key!r} needs the optional 'datasets' package; "
            "install it with: pip install 'aflab[datasets]'"
        ) from None
    try:
        pin = {"revision": revision} if revision else {}
        return datasets.load_dataset(repo, config, split="train", **pin)
    except Exception as exc:  # network, cache, auth: all become one line for the user
        raise AflabUsageError(
            f"could not load {what} {key!r} ({repo}): no network or not cached, or no train "
            f"split ({type(exc).__name__}); download it once online or pass a local file "
            "with --data FILE"
        ) from exc


def load_public(name: str) -> list[Query]:
    """Load a public harmful-request benchmark by name via Hugging Face ``datasets``;
    ``NAME@REVISION`` (a commit SHA or tag of the dataset repository) pins its version."""
    key, revision = _public_name(name)
    if key not in PUBLIC_DATASETS:
        known = ", ".join(PUBLIC_DATASETS)
        raise AflabUsageError(f"unknown public dataset {name!r}; choose one of: {known}")
    repo, config, text_column, category_column = PUBLIC_DATASETS[key]
    data = _hf_rows(repo, config, revision, key)
    records = ((i, dict(row)) for i, row in enumerate(data, start=1))
    return _build(records, f"{repo} row", key, text_column, None, category_column)


def load_hf(source: str, *, text_column: str = "text") -> list[Query]:
    """Any Hugging Face dataset: ``hf:OWNER/NAME[@REVISION]`` (or ``hf:LOCAL_FOLDER``), its
    ``train`` split, the request text in ``text_column``; ``id`` and ``category`` columns
    are used when present."""
    repo, _, revision = source[len("hf:"):].strip().partition("@")
    if not repo:
        raise AflabUsageError(f"--data {source!r}: use hf:OWNER/NAME[@REVISION]")
    data = _hf_rows(repo, None, revision.strip() or None, source, "Hugging Face dataset")
    records = ((i, dict(row)) for i, row in enumerate(data, start=1))
    stem = repo.rstrip("/").split("/")[-1] or "hf"
    return _build(records, f"{repo} row", stem, text_column, "id", "category")


def load_queries(
    source: str = "builtin",
    setting: Setting = "helpful_only",
    *,
    text_column: str = "text",
) -> list[Query]:
    """Resolve ``source``: ``"builtin"`` (or ``builtin:train`` / ``builtin:heldout``, see
    :mod:`aflab.data.splits`), a public dataset name, ``hf:OWNER/NAME[@REVISION]`` (any
    Hugging Face dataset, request text in ``text_column``), or a file path."""
    if source == "builtin":
        return load_builtin(setting)
    if source.startswith("builtin:"):
        from aflab.data.splits import SPLITS, query_split

        split = source.partition(":")[2]
        if split not in SPLITS:
            raise AflabUsageError(
                f"--data {source!r}: unknown split {split!r}; use builtin, builtin:train "
                "or builtin:heldout"
            )
        return [q for q in load_builtin(setting) if query_split(q.id) == split]
    if _public_name(source)[0] in PUBLIC_DATASETS:
        return load_public(source)
    if source.startswith("hf:"):
        return load_hf(source, text_column=text_column)
    return load_file(source, text_column=text_column)
