"""The one error type for user mistakes.

Library code raises :class:`AflabUsageError` for anything the user can fix (a bad
option, a missing file, a malformed line). The CLI prints its message as a single
line and exits non-zero; nothing else in aflab catches it.
"""

from __future__ import annotations

from typing import Any

__all__ = ["AflabUsageError", "validation_error"]


class AflabUsageError(Exception):
    """A mistake in user input: the message names the field, the value and the fix."""


def validation_error(err: Any, where: str, default: str = "value") -> AflabUsageError:
    """A pydantic ``ValidationError`` as one usage-error line: where, field, value, reason."""
    first = err.errors()[0]
    field = ".".join(str(p) for p in first["loc"]) or default
    value = first.get("input")
    shown = "" if isinstance(value, dict) else f" = {value!r}"
    msg = str(first["msg"]).removeprefix("Value error, ")
    return AflabUsageError(f"{where}: {field}{shown}: {msg}")
