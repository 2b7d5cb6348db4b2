"""Read aflab runs from Inspect logs into one flat record per sample.

A run is identified by everything that changes its results (:func:`run_identity`):
setting, model, variant, data, grader, classifier kind, judge settings, generation
settings (temperature, max tokens, seed, ...) and model args (adapter, ...). When the
given directories hold several logs of one identity, the newest complete one is used
only if they are the same run resumed (same ``eval_set`` log directory); logs of one
identity from different directories are an error unless ``merge=True`` keeps the
newest. An unfinished log is skipped quietly when a complete log of the same run
exists (it was resumed), with a warning otherwise. Logs of other tasks are ignored; a
directory with no aflab log, or a log file that cannot be read (corrupt or cut short),
is a usage error naming the file.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path
from typing import Any
from zipfile import BadZipFile

from inspect_ai.log import EvalLog, list_eval_logs, read_eval_log
from pydantic import ValidationError

from aflab.errors import AflabUsageError

__all__ = ["COMPLIANCE_SCORER", "AF_SCORER", "grader_of", "load_runs", "log_records",
           "run_identity", "identity_details", "identity_label"]

logger = logging.getLogger(__name__)

#: The grader when a log names none (``aflab.classifiers.grader.DEFAULT_GRADER``; not
#: imported: analysis sits below classifiers).
DEFAULT_GRADER = "aflab-local/smollm2"

COMPLIANCE_SCORER = "compliance_scorer"
AF_SCORER = "af_reasoning_scorer"


def _is_aflab(log: EvalLog) -> bool:
    return bool(log.eval.metadata and "aflab_version" in log.eval.metadata) or bool(
        log.eval.task in ("helpful_only", "animal_welfare")
        or str(log.eval.task).endswith(("/helpful_only", "/animal_welfare"))
    )


def grader_of(log: EvalLog) -> str:
    """The model that judged the run (``local`` for the shipped local classifiers)."""
    meta = log.eval.metadata or {}
    if meta.get("classifiers") == "local":
        return "local"
    role = (log.eval.model_roles or {}).get("grader")
    if isinstance(role, list):
        role = role[0] if role else None
    return role.model if role is not None else DEFAULT_GRADER


#: Generation settings that change results (Inspect's GenerateConfig fields).
_GENERATION_KEYS = ("temperature", "max_tokens", "seed", "top_p", "top_k",
                    "reasoning_effort", "reasoning_tokens")
#: Task metadata that changes results.
_TASK_KEYS = ("data", "max_turns", "af_votes", "af_threshold", "judge_max_tokens")


def run_identity(log: EvalLog) -> dict[str, Any]:
    """Everything that changes a run's results; two logs with equal identities are
    the same experiment."""
    meta = log.eval.metadata or {}
    generation = log.eval.model_generate_config.model_dump(exclude_none=True) \
        if log.eval.model_generate_config else {}
    identity: dict[str, Any] = {
        "setting": str(meta.get("setting", log.eval.task)),
        "model": log.eval.model,
        "variant": str(meta.get("variant", "default")),
        "grader": grader_of(log),
        "classifiers": meta.get("classifiers", "grader"),
    }
    identity.update({k: meta[k] for k in _TASK_KEYS if meta.get(k) is not None})
    identity.update({k: generation[k] for k in _GENERATION_KEYS if k in generation})
    if log.eval.model_args:
        identity["model_args"] = dict(sorted(log.eval.model_args.items()))
    if log.eval.model_base_url:
        identity["model_base_url"] = log.eval.model_base_url
    return identity


def identity_label(identity: dict[str, Any]) -> str:
    """A short label: setting · model · variant plus the fields that are not defaults."""
    base = [identity.get("setting"), identity.get("model"), identity.get("variant")]
    return " · ".join(str(x) for x in base + identity_details(identity))


#: Identity values left out of labels (the defaults of `aflab run`).
LABEL_DEFAULTS: dict[str, Any] = {"data": "builtin", "max_turns": 4, "af_votes": 5,
                                  "af_threshold": 0.4, "classifiers": "grader"}


def identity_details(identity: dict[str, Any]) -> list[str]:
    """``key=value`` for what identifies a run beyond setting, model, variant and grader,
    defaults left out."""
    return [f"{k}={v}" for k, v in identity.items()
            if k not in ("setting", "model", "variant", "grader")
            and LABEL_DEFAULTS.get(k, object()) != v]


def _key(identity: dict[str, Any]) -> str:
    return json.dumps(identity, sort_keys=True, default=str)


def load_runs(log_dirs: list[str | Path], *, merge: bool = False) -> list[EvalLog]:
    """The newest successful log of each run identity found in ``log_dirs``.

    Two complete logs of one identity from different log directories are a usage
    error unless ``merge`` is set (then the newest is kept and the others are named in
    a warning); within one directory the newer complete log is the resumed run.
    """
    chosen: dict[str, EvalLog] = {}
    unfinished: dict[str, EvalLog] = {}
    for log_dir in log_dirs:
        path = Path(log_dir)
        if not path.exists():
            raise AflabUsageError(f"log directory {path} does not exist")
        infos = [path] if path.is_file() else list_eval_logs(str(path))
        for info in infos:
            log = _read(info if isinstance(info, Path) else info.name)
            if not _is_aflab(log):
                continue
            key = _key(run_identity(log))
            if log.status != "success":
                unfinished[key] = log
                continue
            other = chosen.get(key)
            if other is not None and _folder(other) != _folder(log):
                if not merge:
                    raise AflabUsageError(
                        f"two logs of the same run ({identity_label(run_identity(log))}): "
                        f"{other.location} and {log.location}; give one of them, or pass "
                        "--merge to keep the newest"
                    )
                logger.warning("--merge: %s and %s are the same run; keeping the newer",
                               other.location, log.location)
            if other is None or log.eval.created > other.eval.created:
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


def _folder(log: EvalLog) -> str:
    return str(Path(str(log.location).removeprefix("file://")).parent)


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
