"""Every white-box job writes a run directory: resolved config, provenance, outputs.

``runs/whitebox/KIND/NAME`` unless ``out`` is given. ``config.json`` is the job's resolved
pydantic config; ``provenance.json`` the aflab version and git SHA, seed, library
versions, the time, and a SHA-256 of every input (a file, or a store's index and
metadata), so a report can always be traced back and rebuilt.
"""

from __future__ import annotations

import hashlib
import json
import re
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from aflab import __version__
from aflab.errors import AflabUsageError
from aflab.provenance import git_sha

__all__ = ["default_run_dir", "input_digest", "start_run"]


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._=+-]+", "_", text).strip("_") or "x"


def default_run_dir(kind: str, name: str) -> Path:
    return Path("runs") / "whitebox" / kind / _slug(name)


def input_digest(path: str | Path) -> str | None:
    """SHA-256 of a file, or of a store's ``store.json`` + ``index.jsonl``; None if absent."""
    path = Path(path)
    files = [path] if path.is_file() else [p for p in (
        path / "store.json", path / "index.jsonl", path / "activations" / "store.json",
        path / "activations" / "index.jsonl", path / "direction.safetensors") if p.is_file()]
    if not files:
        return None
    h = hashlib.sha256()
    for f in files:
        h.update(f.read_bytes())
    return h.hexdigest()


def start_run(kind: str, config: Any, *, name: str, out: str | None,
              inputs: dict[str, str | None] | None = None, seed: int | None = None) -> Path:
    """Create the run directory and write ``config.json`` and ``provenance.json``."""
    run_dir = Path(out) if out else default_run_dir(kind, name)
    for path in (run_dir, *run_dir.parents):
        if path.exists() and not path.is_dir():
            raise AflabUsageError(f"--out {run_dir}: {path} is a file; give a directory")
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / "config.json").write_text(
        json.dumps({"kind": kind, **config.model_dump(mode="json")}, indent=2), encoding="utf-8")
    versions: dict[str, str] = {}
    for module in ("torch", "transformers", "sklearn", "peft"):
        try:
            versions[module] = __import__(module).__version__
        except ImportError:
            continue
    provenance = {
        "aflab_version": __version__, "git_sha": git_sha(), "seed": seed,
        "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
        "versions": versions,
        "inputs": {k: {"path": v, "sha256": input_digest(v)} for k, v in (inputs or {}).items()
                   if v},
    }
    (run_dir / "provenance.json").write_text(json.dumps(provenance, indent=2), encoding="utf-8")
    return run_dir
