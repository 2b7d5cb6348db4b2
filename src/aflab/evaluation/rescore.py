"""Rescore existing logs with new judges, without regenerating (wraps ``inspect score``)."""

from __future__ import annotations

from pathlib import Path
from zipfile import BadZipFile

from inspect_ai import score
from inspect_ai.log import EvalLog, list_eval_logs, read_eval_log, write_eval_log

from aflab.classifiers.af_reasoning import af_reasoning_scorer, check_vote_settings
from aflab.classifiers.compliance import compliance_scorer
from aflab.errors import AflabUsageError
from aflab.models.checks import check_model

__all__ = ["rescore_logs"]


def _read(name: str) -> EvalLog:
    try:
        return read_eval_log(name)
    except (OSError, ValueError, KeyError, EOFError, BadZipFile) as exc:
        raise AflabUsageError(
            f"log file {name}: cannot be read ({type(exc).__name__}); delete or move it"
        ) from None


def rescore_logs(
    log_path: str | Path,
    *,
    grader: str | None = None,
    af_votes: int = 5,
    af_threshold: float = 0.4,
    display: str | None = None,
    judge_drafts: bool = False,
) -> list[str]:
    """Rescore every aflab log under ``log_path`` in place; return the rewritten paths."""
    path = Path(log_path)
    if not path.exists():
        raise AflabUsageError(f"{path}: no such log file or directory")
    check_vote_settings(af_votes, af_threshold)
    if grader:
        check_model(grader, role="grader")
    names = [str(path)] if path.is_file() else [i.name for i in list_eval_logs(str(path))]
    done = []
    for name in names:
        log = _read(name)
        setting = (log.eval.metadata or {}).get("setting")
        if setting is None:
            continue
        scored = score(
            log,
            scorers=[
                compliance_scorer(setting, judge_drafts=judge_drafts),
                af_reasoning_scorer(votes=af_votes, threshold=af_threshold),
            ],
            model_roles={"grader": grader} if grader else None,
            action="overwrite",
            display=display,  # type: ignore[arg-type]
        )
        write_eval_log(scored, name)
        done.append(name)
    if not done:
        raise AflabUsageError(f"{path}: no aflab logs to rescore")
    return done
