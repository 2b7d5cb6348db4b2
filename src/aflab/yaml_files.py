"""Reading YAML: a user's file, with the one-line error every aflab loader gives, and the
YAML files aflab ships (recipes, universes, game specs) by name."""

from __future__ import annotations

from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml

from aflab.errors import AflabUsageError

__all__ = ["packaged_names", "read_named_or_file", "read_packaged", "read_yaml"]


def read_yaml(path: str | Path) -> Any:
    """The parsed YAML of ``path``; malformed YAML is one :class:`AflabUsageError` line."""
    try:
        return yaml.safe_load(Path(path).read_text(encoding="utf-8"))
    except yaml.YAMLError as err:
        raise AflabUsageError(f"{path}: not valid YAML ({str(err).splitlines()[0]})") from None


def packaged_names(package: str, folder: str) -> list[str]:
    """The names of the ``.yaml`` files shipped in ``package/folder`` (without the suffix)."""
    return sorted(p.name[: -len(".yaml")] for p in (files(package) / folder).iterdir()
                  if p.name.endswith(".yaml"))


def read_packaged(package: str, folder: str, name: str) -> Any:
    """The parsed YAML of the shipped file ``package/folder/NAME.yaml``."""
    resource = files(package) / folder / f"{name}.yaml"
    return yaml.safe_load(resource.read_text(encoding="utf-8"))


def read_named_or_file(
    package: str, folder: str, name_or_path: str | Path, what: str, file_kind: str = "YAML file"
) -> tuple[Any, str]:
    """A shipped YAML file by name, else a user's YAML file by path.

    Returns ``(parsed data, source)`` where ``source`` (``"WHAT NAME"`` or the path) names
    the file in error messages. A path that is not a file is one :class:`AflabUsageError`
    line: "no such FILE_KIND" when it looks like a YAML path, else one listing the names.
    """
    text = str(name_or_path)
    names = packaged_names(package, folder)
    if text in names:
        return read_packaged(package, folder, text), f"{what} {text}"
    path = Path(text)
    if not path.is_file():
        if path.suffix in (".yaml", ".yml"):
            raise AflabUsageError(f"{path}: no such {file_kind}")
        raise AflabUsageError(
            f"{what} {text!r}: neither a shipped {what} ({', '.join(names)}) nor a {file_kind}"
        )
    return read_yaml(path), str(path)
