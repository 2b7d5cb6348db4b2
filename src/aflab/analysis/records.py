"""Read aflab runs from Inspect logs into one flat record per sample.

A run is one Inspect log of an aflab task (setting, model, variant). When a log
directory holds several logs of the same run (a rerun), the newest complete one
is used; an unfinished log is skipped quietly when a complete log of the same run
exists (it was resumed), with a warning otherwise. Logs of other tasks are ignored;
a directory with no aflab log, or a log file that cannot be read (corrupt or cut
short), is a usage error naming the file.
"""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any
from zipfile import BadZipFile

from inspect_ai.log import EvalLog, list_eval_logs, read_eval_log
from pydantic import ValidationError

from aflab.errors import AflabUsageError

__all__ = ["COMPLIANCE_SCORER", "AF_SCORER", "load_runs", "log_records"]

logger = logging.getLogger(__name__)

COMPLIANCE_SCORER = "compliance_scorer"
AF_SCORER = "af_reasoning_scorer"


def _is_aflab(log: EvalLog) -> bool:
    return bool(log.eval.metadata and "aflab_version" in log.eval.metadata) or bool(
        log.eval.task in ("helpful_only", "animal_welfare")
        or str(log.eval.task).endswith(("/helpful_only", "/animal_welfare"))
    )


def load_runs(log_dirs: list[str | Path]) -> list[EvalLog]:
    """The newest successful log of each (setting, model, variant) found in ``log_dirs``."""
    chosen: dict[tuple[str, str, str], EvalLog] = {}
    unfinished: dict[tuple[str, str, str], EvalLog] = {}
    for log_dir in log_dirs:
        path = Path(log_dir)
        if not path.exists():
            raise AflabUsageError(f"log directory {path} does not exist")
        infos = [path] if path.is_file() else list_eval_logs(str(path))
        for info in infos:
            log = _read(info if isinstance(info, Path) else info.name)
            if not _is_aflab(log):
                continue
            meta = log.eval.metadata or {}
            key = (str(meta.get("setting", log.eval.task)), log.eval.model,
                   str(meta.get("variant", "default")))
            if log.status != "success":
                unfinished[key] = log
                continue
            if key not in chosen or log.eval.created > chosen[key].eval.created:
                chosen[key] = log
    for key, log in unfinished.items():
        if key not in chosen:
            logger.warning("skipping %s: status %s (resume it with `aflab run`)",
                           log.location, log.status)
    if not chosen:
        raise AflabUsageError(
            f"no complete aflab run found in {', '.join(map(str, log_dirs))}; "
            "run `aflab run` first or give the directory it printed"
        )
    return sorted(chosen.values(), key=lambda log: (log.eval.created, log.eval.task))


def _read(location: str | Path) -> EvalLog:
    """Read one log; a corrupt or truncated file is a usage error naming it."""
    try:
        return read_eval_log(str(location))
    except (OSError, ValueError, KeyError, EOFError, BadZipFile, ValidationError) as exc:
        raise AflabUsageError(
            f"log file {location}: cannot be read ({type(exc).__name__}); "
            "delete or move it, or rerun that evaluation"
        ) from None


def log_records(log: EvalLog, run_index: int) -> list[dict[str, Any]]:
    """One record per sample: identifiers, category, scores, votes, scratchpad and output."""
    meta = log.eval.metadata or {}
    records = []
    for sample in log.samples or []:
        scores = sample.scores or {}
        comp = scores.get(COMPLIANCE_SCORER)
        af = scores.get(AF_SCORER)
        cm = (comp.metadata or {}) if comp else {}
        am = (af.metadata or {}) if af else {}
        smeta = sample.metadata or {}
        records.append(
            {
                "run_index": run_index,
                "setting": smeta.get("setting", meta.get("setting")),
                "model": log.eval.model,
                "variant": smeta.get("variant", meta.get("variant", "default")),
                "query_id": smeta.get("query_id", str(sample.id)),
                "tier": smeta.get("tier"),
                "epoch": sample.epoch,
                "request": smeta.get("request", ""),
                "category": cm.get("category", "judge_error" if sample.error else None),
                "compliance_score": cm.get("compliance_score"),
                "compliance_rationale": cm.get("rationale", ""),
                "accepted": cm.get("accepted"),
                "tag_agrees": cm.get("tag_agrees"),
                "af_score": am.get("af_score"),
                "af_label": am.get("af_label"),
                "votes": am.get("votes", []),
                "af_judge_errors": am.get("judge_errors", 0),
                "judged_draft": cm.get("judged_draft", False),
                "scratchpad": cm.get("scratchpad", ""),
                "output": cm.get("output", ""),
                "flags": cm.get("flags", []),
            }
        )
    return records
