"""The run directory's JSONL records (rewards, attempts): append-only, robust to a kill."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

__all__ = ["append_jsonl", "read_jsonl"]


def append_jsonl(path: Path, rows: list[dict[str, Any]]) -> None:
    """Append ``rows``, one JSON object per line, flushed."""
    with path.open("a", encoding="utf-8") as fh:
        for row in rows:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        fh.flush()


def read_jsonl(path: Path) -> list[dict[str, Any]]:
    """Every complete line of ``path`` (a line a kill cut short is skipped); [] if absent."""
    if not path.is_file():
        return []
    out = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            try:
                out.append(json.loads(line))
            except json.JSONDecodeError:
                continue
    return out
