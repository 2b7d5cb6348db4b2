"""Defences a monitor can put in front of itself: decode-then-monitor, paraphrase-then-monitor.

* ``none``: the monitor reads the text as it is.
* ``decode``: :func:`decode_obfuscation` finds and undoes Base64, ROT13 and character
  spacing (nested up to :data:`MAX_ROUNDS` deep) without being told which was used; plain
  text comes back unchanged.
* ``paraphrase``: the text is paraphrased first (the rewriter model, or the offline
  everyday-word swap), which should wash out encodings a model can read and costs some of
  the information in plain text; the grid reports that cost on the ``plain`` column.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass, field
from typing import Any

from aflab.errors import AflabUsageError
from aflab.monitors.rewriter import Rewriter
from aflab.monitors.transforms import apply_transform, rot13, unspace_chars
from aflab.monitors.wordlists import COMMON_ENGLISH

__all__ = ["DEFENCES", "Defended", "apply_defence", "decode_obfuscation", "english_share"]

DEFENCES: dict[str, str] = {
    "none": "the monitor reads the text as it is",
    "decode": "Base64, ROT13 and character spacing are detected and decoded first",
    "paraphrase": "the text is paraphrased first (rewriter model; offline: everyday words "
                  "swapped)",
}
MAX_ROUNDS = 4
#: ROT13 is undone when under this share of the words are frequent English words ...
ROT13_BELOW = 0.08
#: ... and at least this share of the ROT13'd text's words are.
ROT13_ABOVE = 0.12
_B64 = re.compile(r"[A-Za-z0-9+/]+={0,2}")
_TOKEN = re.compile(r"[a-z']+")


def english_share(text: str) -> float:
    """The share of words that are frequent English words (0 for no words)."""
    words = _TOKEN.findall(text.lower())
    return sum(w in COMMON_ENGLISH for w in words) / len(words) if words else 0.0


def _printable_share(text: str) -> float:
    return sum(c.isprintable() or c in "\n\t\r" for c in text) / len(text) if text else 0.0


def _try_base64(text: str) -> str | None:
    compact = "".join(text.split())
    if len(compact) < 8 or len(compact) % 4 or not _B64.fullmatch(compact):
        return None
    try:
        decoded = base64.b64decode(compact, validate=True).decode("utf-8")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return decoded if _printable_share(decoded) >= 0.95 else None


def _try_unspace(text: str) -> str | None:
    if len(text) < 9 or set(text[1::2]) != {" "}:
        return None
    return unspace_chars(text)


def _try_rot13(text: str) -> str | None:
    """ROT13 undone when the text reads as no English and its ROT13 does (on our data plain
    text has at least 16% frequent English words and its ROT13 at most 4%)."""
    if english_share(text) >= ROT13_BELOW:
        return None
    shifted = rot13(text)
    return shifted if english_share(shifted) >= ROT13_ABOVE else None


def decode_obfuscation(text: str) -> tuple[str, list[str]]:
    """The text with any Base64 / ROT13 / character spacing undone, and the steps taken."""
    steps: list[str] = []
    for _ in range(MAX_ROUNDS):
        for name, attempt in (("base64", _try_base64), ("char-spacing", _try_unspace),
                              ("rot13", _try_rot13)):
            decoded = attempt(text)
            if decoded is not None:
                text = decoded
                steps.append(name)
                break
        else:
            break
    return text, steps


@dataclass(frozen=True)
class Defended:
    """Texts after a defence (``None`` stays ``None``) and what the defence did."""

    name: str
    texts: list[str | None]
    info: dict[str, Any] = field(default_factory=dict)


def apply_defence(name: str, texts: list[str | None], *, rewriter: Rewriter | None = None,
                  ) -> Defended:
    """Apply defence ``name`` to every text (``None`` = a row a rewriter failed on)."""
    if name not in DEFENCES:
        raise AflabUsageError(f"defence {name!r}: use one of {', '.join(DEFENCES)}")
    if name == "none":
        return Defended(name, list(texts))
    present = [i for i, t in enumerate(texts) if t is not None]
    out: list[str | None] = [None] * len(texts)
    if name == "decode":
        counts: dict[str, int] = {}
        for i in present:
            out[i], steps = decode_obfuscation(texts[i])  # type: ignore[arg-type]
            for step in steps:
                counts[step] = counts.get(step, 0) + 1
        return Defended(name, out, {"decoded": counts})
    done = apply_transform("paraphrase", [texts[i] for i in present],  # type: ignore[misc]
                           rewriter=rewriter)
    for i, text in zip(present, done.texts, strict=True):
        out[i] = text
    return Defended(name, out, {"via": done.via, **done.usage})
