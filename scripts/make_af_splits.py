"""Merge the hand-authored AF reasoning examples into one labelled file with a fixed split.

    python scripts/make_af_splits.py [--test-share 0.3] [--check]

Reads ``src/aflab/classifiers/data/af_part*.jsonl`` (the hand-authored sources, left
untouched) and the rows composed by ``scripts/make_af_realistic.py`` (seed
``GENERATOR_SEED``; real-scratchpad shape, not stored twice), and writes ``src/aflab/classifiers/data/af_labels.jsonl``: every row with all its fields plus
``split`` (``train`` or ``test``), in id order.

The split is deterministic and uses no random state: rows are grouped by
``(label, setting)`` (stratified by label, and by setting so that the small
animal-welfare group is in both splits); within a group rows are ordered by the
SHA-256 of their id, and the first ``round(test_share * n)`` go to ``test``. Running
the script twice gives a byte-identical file. ``--check`` exits 1 if the file on disk
differs from what the script would write (for CI).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from collections import defaultdict
from pathlib import Path

from aflab.data.jsonl import jsonl_objects
from aflab.errors import AflabUsageError

DATA = Path(__file__).resolve().parent.parent / "src" / "aflab" / "classifiers" / "data"
REQUIRED = ("id", "scratchpad", "label")
GENERATOR_SEED = 0


def generated_rows(seed: int = GENERATOR_SEED) -> list[dict]:
    """The rows of ``make_af_realistic.py`` (loaded by path: scripts/ is not a package)."""
    import importlib.util

    path = Path(__file__).resolve().parent / "make_af_realistic.py"
    spec = importlib.util.spec_from_file_location("make_af_realistic", path)
    module = importlib.util.module_from_spec(spec)  # type: ignore[arg-type]
    sys.modules["make_af_realistic"] = module
    spec.loader.exec_module(module)  # type: ignore[union-attr]
    return module.generate(seed)


def read_parts(data_dir: Path) -> list[dict]:
    """All rows of ``af_part*.jsonl``; fails on malformed lines, missing fields or duplicate ids."""
    rows: list[dict] = []
    seen: dict[str, str] = {}
    parts = sorted(data_dir.glob("af_part*.jsonl"))
    if not parts:
        sys.exit(f"no af_part*.jsonl in {data_dir}")
    for part in parts:
        with part.open(encoding="utf-8") as fh:
            try:
                numbered = list(jsonl_objects(fh, str(part)))
            except AflabUsageError as err:
                sys.exit(str(err))
            for number, row in numbered:
                missing = [k for k in REQUIRED if k not in row]
                if missing:
                    sys.exit(f"{part}:{number}: missing {', '.join(missing)}")
                if row["label"] not in (0, 1):
                    sys.exit(f"{part}:{number}: label {row['label']!r}; use 0 or 1")
                if row["id"] in seen:
                    other = seen[row["id"]]
                    sys.exit(f"{part}:{number}: duplicate id {row['id']!r} (also in {other})")
                seen[row["id"]] = part.name
                row.pop("split", None)
                rows.append(row)
    return rows


def _hash(identifier: str) -> str:
    return hashlib.sha256(identifier.encode("utf-8")).hexdigest()


def assign_splits(rows: list[dict], test_share: float = 0.3) -> list[dict]:
    """Rows with a ``split`` field, stratified by (label, setting), ordered by id."""
    groups: dict[tuple, list[dict]] = defaultdict(list)
    for row in rows:
        groups[(row["label"], row.get("setting", ""))].append(row)
    out = []
    for key in sorted(groups, key=str):
        members = sorted(groups[key], key=lambda r: _hash(r["id"]))
        n_test = round(test_share * len(members))
        for i, row in enumerate(members):
            out.append({**row, "split": "test" if i < n_test else "train"})
    return sorted(out, key=lambda r: r["id"])


def render(rows: list[dict]) -> str:
    return "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--test-share", type=float, default=0.3)
    parser.add_argument("--check", action="store_true", help="fail if af_labels.jsonl is stale")
    args = parser.parse_args()
    rows = assign_splits(read_parts(DATA) + generated_rows(), args.test_share)
    text = render(rows)
    target = DATA / "af_labels.jsonl"
    if args.check:
        if not target.is_file() or target.read_text(encoding="utf-8") != text:
            sys.exit(f"{target} is stale: run python scripts/make_af_splits.py")
        print(f"{target.name} is up to date ({len(rows)} rows)")
        return
    target.write_text(text, encoding="utf-8")
    counts: dict[tuple, int] = defaultdict(int)
    for row in rows:
        counts[(row["split"], row["label"])] += 1
    summary = ", ".join(f"{s}/label {lab}: {n}" for (s, lab), n in sorted(counts.items()))
    print(f"wrote {target} ({len(rows)} rows; {summary})")


if __name__ == "__main__":
    main()
