"""Where organisms live and how a name finds one.

* built-in organisms ship inside the package (``aflab/organisms/builtin/NAME``);
* the user's live under ``$AFLAB_HOME/organisms/NAME`` (default ``~/.cache/aflab``).

A user organism with a built-in's name shadows it (``aflab organisms list`` shows which
one is used). An organism directory counts only once its ``card.yaml`` exists, and
builds write into a hidden temporary folder that is renamed into place at the end
(:func:`install`), so an interrupted build never leaves an organism that looks finished.
"""

from __future__ import annotations

import shutil
import tempfile
from contextlib import contextmanager
from dataclasses import dataclass
from importlib.resources import files
from pathlib import Path
from typing import Iterator, Literal

from aflab.errors import AflabUsageError
from aflab.models.embedded import aflab_home
from aflab.organisms.card import CARD_FILE, OrganismCard, check_name, load_card

__all__ = [
    "MODEL_PREFIX",
    "Organism",
    "builtin_dir",
    "get_organism",
    "install",
    "list_organisms",
    "model_name",
    "user_dir",
]

#: Every organism is the Inspect model ``organism/NAME``.
MODEL_PREFIX = "organism/"


def model_name(name: str) -> str:
    """The Inspect model name of organism ``name``."""
    return MODEL_PREFIX + name


def builtin_dir() -> Path:
    """The package folder with the shipped organisms."""
    return Path(str(files("aflab.organisms") / "builtin"))


def user_dir() -> Path:
    """``$AFLAB_HOME/organisms``: the user's organisms."""
    return aflab_home() / "organisms"


@dataclass(frozen=True)
class Organism:
    """A found organism: its card, its directory and where it came from."""

    card: OrganismCard
    path: Path
    source: Literal["builtin", "user"]

    @property
    def name(self) -> str:
        return self.card.name

    @property
    def adapter_path(self) -> Path | None:
        """The adapter folder, or None for a prompt-only organism."""
        adapter = self.card.implant.adapter
        return (self.path / adapter) if adapter else None


def _scan(root: Path, source: Literal["builtin", "user"]) -> dict[str, Organism]:
    found: dict[str, Organism] = {}
    if not root.is_dir():
        return found
    for folder in sorted(root.iterdir()):
        if folder.name.startswith(".") or not (folder / CARD_FILE).is_file():
            continue
        card = load_card(folder)
        if card.name != folder.name:
            raise AflabUsageError(
                f"{folder / CARD_FILE}: card name {card.name!r} differs from its folder "
                f"{folder.name!r}; rename one of them"
            )
        found[card.name] = Organism(card, folder, source)
    return found


def list_organisms() -> list[Organism]:
    """Every organism, built-in then user (a user organism shadows a built-in of its name)."""
    found = _scan(builtin_dir(), "builtin")
    found.update(_scan(user_dir(), "user"))
    return [found[name] for name in sorted(found)]


def get_organism(name: str) -> Organism:
    """The organism called ``name`` (the user's first); a one-line error if unknown."""
    check_name(name)
    for root, source in ((user_dir(), "user"), (builtin_dir(), "builtin")):
        if (root / name / CARD_FILE).is_file():
            return _scan_one(root / name, source)  # type: ignore[arg-type]
    known = ", ".join(o.name for o in list_organisms()) or "none"
    raise AflabUsageError(
        f"unknown organism {name!r}; known: {known} (see `aflab organisms list`)"
    )


def _scan_one(folder: Path, source: Literal["builtin", "user"]) -> Organism:
    card = load_card(folder)
    if card.name != folder.name:
        raise AflabUsageError(
            f"{folder / CARD_FILE}: card name {card.name!r} differs from its folder {folder.name!r}"
        )
    return Organism(card, folder, source)


@contextmanager
def install(target: Path) -> Iterator[Path]:
    """Yield a fresh hidden folder beside ``target``; on success it replaces ``target``.

    On any error or interruption the temporary folder is removed and ``target`` is left
    as it was. Stale temporary folders of killed builds are removed on the next install.
    """
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    for stale in target.parent.glob(f".{target.name}.tmp-*"):
        shutil.rmtree(stale, ignore_errors=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{target.name}.tmp-", dir=target.parent))
    try:
        yield tmp
        if not (tmp / CARD_FILE).is_file():
            raise AflabUsageError(f"{target}: the build wrote no {CARD_FILE}; nothing installed")
        if target.exists():
            old = target.parent / f".{target.name}.tmp-old"
            shutil.rmtree(old, ignore_errors=True)
            target.rename(old)
            tmp.rename(target)
            shutil.rmtree(old, ignore_errors=True)
        else:
            tmp.rename(target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
