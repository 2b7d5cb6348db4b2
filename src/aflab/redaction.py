"""Keep secrets out of every file aflab writes.

A value is secret when its key names one: a part of the name (split at anything not a
letter or digit, any case) that ends in ``key``, ``token``, ``secret`` or ``password``,
or is ``authorization``, ``credential(s)``, ``cookie`` or ``passwd`` — so ``api_key``,
``OPENAI_API_KEY``, ``apikey``, ``Authorization``, ``hf_token`` are secret, while
``max_tokens`` is not.
:func:`redact` replaces such values with :data:`REDACTED`, recursively through
dicts, lists and tuples, and returns a copy; the input is never changed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

__all__ = ["REDACTED", "is_secret_name", "redact"]

REDACTED = "***redacted***"

_PARTS = re.compile(r"[A-Za-z0-9]+")
_SUFFIXES = ("key", "token", "secret", "password")
_WORDS = frozenset({"authorization", "credential", "credentials", "cookie", "passwd"})


def is_secret_name(name: object) -> bool:
    """True when a key's name says its value is a secret."""
    if not isinstance(name, str):
        return False
    parts = [part.lower() for part in _PARTS.findall(name)]
    return any(part.endswith(_SUFFIXES) or part in _WORDS for part in parts)


def redact(value: Any) -> Any:
    """A copy of ``value`` with every secret-named entry replaced by :data:`REDACTED`."""
    if isinstance(value, Mapping):
        return {
            k: (REDACTED if is_secret_name(k) and v not in (None, "") else redact(v))
            for k, v in value.items()
        }
    if isinstance(value, (list, tuple)):
        return type(value)(redact(v) for v in value)
    return value
