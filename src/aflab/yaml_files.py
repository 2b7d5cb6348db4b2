"""Reading a user's YAML file with the one-line error every aflab loader gives."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

from aflab.errors import AflabUsageError

__all__ = ["read_yaml"]


def read_yaml(path: str | Path) -> Any:
    """The parsed YAML of ``path``; malformed YAML is one :class:`AflabUsageError` line."""
    try:
        return yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise AflabUsageError(f"{path}: not valid YAML ({str(err).splitlines()[0]})") from None
