"""Reading JSONL files line by line with errors that name the file and the line."""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from aflab.errors import AflabUsageError

__all__ = ["jsonl_objects"]


def jsonl_objects(
    lines: Iterable[str], label: str, *, hint: str = ""
) -> Iterator[tuple[int, dict[str, Any]]]:
    """Yield ``(line number, object)`` for each non-blank line; ``hint`` ends each error."""
    suffix = f"; {hint}" if hint else ""
    for line_no, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError as exc:
            raise AflabUsageError(f"{label}:{line_no}: malformed JSON ({exc.msg}){suffix}") from None
        if not isinstance(record, dict):
            raise AflabUsageError(
                f"{label}:{line_no}: expected a JSON object, got {type(record).__name__}{suffix}"
            )
        yield line_no, record
