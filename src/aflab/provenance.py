"""Provenance recorded beside every long job's outputs: which source tree made them."""

from __future__ import annotations

import subprocess
from pathlib import Path

__all__ = ["git_sha"]


def git_sha() -> str | None:
    """HEAD of aflab's source tree, with ``+dirty`` when tracked files have uncommitted
    changes; None outside a git checkout (e.g. an installed wheel)."""
    here = Path(__file__).parent
    try:
        head = subprocess.run(["git", "rev-parse", "HEAD"], capture_output=True, text=True,
                              timeout=5, cwd=here)
        status = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                                capture_output=True, text=True, timeout=5, cwd=here)
    except (OSError, subprocess.SubprocessError):
        return None
    sha = head.stdout.strip()
    if head.returncode != 0 or not sha:
        return None
    return sha + ("+dirty" if status.stdout.strip() else "")
