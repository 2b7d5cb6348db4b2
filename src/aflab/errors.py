"""The one error type for user mistakes.

Library code raises :class:`AflabUsageError` for anything the user can fix (a bad
option, a missing file, a malformed line). The CLI prints its message as a single
line and exits non-zero; nothing else in aflab catches it.
"""

from __future__ import annotations

__all__ = ["AflabUsageError"]


class AflabUsageError(Exception):
    """A mistake in user input: the message names the field, the value and the fix."""
