"""A fixed train / held-out split of the built-in query sets.

Organisms are trained on ``train`` queries and evaluated on ``heldout`` ones, so a
measured behaviour is never a memorised answer. The split is a pure function of the
query id (its SHA-256), so it never changes when queries are added or reordered:
about one query in five is held out.

    --data builtin:heldout      # the held-out queries of the setting
    --data builtin:train        # the rest
"""

from __future__ import annotations

import hashlib
from typing import Literal

__all__ = ["HELDOUT_ONE_IN", "SPLITS", "Split", "query_split"]

Split = Literal["train", "heldout"]
SPLITS: tuple[str, ...] = ("train", "heldout")
#: One query in this many is held out.
HELDOUT_ONE_IN = 5


def query_split(query_id: str) -> Split:
    """``heldout`` for about one id in :data:`HELDOUT_ONE_IN`, else ``train`` (stable)."""
    digest = hashlib.sha256(query_id.encode("utf-8")).digest()
    return "heldout" if int.from_bytes(digest[:8], "big") % HELDOUT_ONE_IN == 0 else "train"
