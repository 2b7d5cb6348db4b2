"""``aflab report``: summary.json, summary.md, figure.png/.svg and report.html from logs.

Everything is written to a temporary directory (``.report-*`` beside ``out_dir``, with
the writer's process id inside) first and moved into ``out_dir`` at the end, so a failed
report never leaves half-written files behind; temporary directories left by a killed
writer (whose process is gone) are removed by the next report written there.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from aflab import __version__
from aflab.analysis.figure import plot_compliance
from aflab.analysis.html_report import write_html
from aflab.analysis.markdown import summary_markdown
from aflab.analysis.records import identity_label, load_runs, log_records, run_identity
from aflab.analysis.summary import run_summary
from aflab.analysis.usage import run_usage
from aflab.errors import AflabUsageError

__all__ = ["ReportPaths", "build_summary", "write_report"]

REPORT_FILES = ("summary.json", "summary.md", "figure.png", "figure.svg", "report.html",
                "samples.jsonl")


@dataclass(frozen=True)
class ReportPaths:
    out_dir: Path
    summary_json: Path
    html: Path


def build_summary(log_dirs: list[str | Path], *, merge: bool = False,
                  ) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Read the runs under ``log_dirs``; return (summary, per-sample records)."""
    runs, records = [], []
    for index, log in enumerate(load_runs(log_dirs, merge=merge)):
        run_records = log_records(log, index)
        meta = log.eval.metadata or {}
        identity = run_identity(log)
        run = {
            "setting": meta.get("setting", log.eval.task),
            "model": log.eval.model,
            "variant": meta.get("variant", "default"),
            "grader": identity["grader"],
            "label": identity_label(identity),
            "identity": identity,
            "variant_config": meta.get("variant_config"),
            "run_id": log.eval.run_id,
            "log": str(log.location),
        }
        summary = run_summary(run, run_records)
        summary["usage"] = run_usage(log)
        runs.append(summary)
        records.extend(run_records)
    return {"aflab_version": __version__, "runs": runs}, records


_PID_FILE = ".pid"


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def clean_stale_temp_dirs(parent: Path) -> list[Path]:
    """Remove ``.report-*`` directories under ``parent`` whose writer is gone."""
    removed = []
    for tmp in parent.glob(".report-*"):
        pid_file = tmp / _PID_FILE
        try:
            pid = int(pid_file.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            pid = 0
        if tmp.is_dir() and (pid <= 0 or not _alive(pid)):
            shutil.rmtree(tmp, ignore_errors=True)
            removed.append(tmp)
    return removed


def write_report(log_dirs: list[str | Path], out_dir: str | Path, *,
                 merge: bool = False) -> ReportPaths:
    """Write the full report for ``log_dirs`` into ``out_dir``."""
    out = Path(out_dir)
    for path in (out, *out.parents):
        if path.exists() and not path.is_dir():
            raise AflabUsageError(
                f"--out {out}: {path} is a file; give a directory for the report files"
            )
    summary, records = build_summary(log_dirs, merge=merge)
    out.parent.mkdir(parents=True, exist_ok=True)
    clean_stale_temp_dirs(out.parent)
    tmp = Path(tempfile.mkdtemp(prefix=".report-", dir=out.parent))
    try:
        (tmp / _PID_FILE).write_text(str(os.getpid()), encoding="utf-8")
        (tmp / "summary.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
        (tmp / "summary.md").write_text(summary_markdown(summary), encoding="utf-8")
        with (tmp / "samples.jsonl").open("w", encoding="utf-8") as fh:
            for record in records:
                fh.write(json.dumps(record) + "\n")
        plot_compliance(summary, records, tmp / "figure")
        svg = (tmp / "figure.svg").read_text(encoding="utf-8")
        write_html(tmp / "report.html", summary, records, svg)
        out.mkdir(parents=True, exist_ok=True)
        for name in REPORT_FILES:
            (tmp / name).replace(out / name)
        shutil.rmtree(out / "transcripts", ignore_errors=True)  # pages of an earlier report
        if (tmp / "transcripts").is_dir():
            (tmp / "transcripts").replace(out / "transcripts")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return ReportPaths(out, out / "summary.json", out / "report.html")
