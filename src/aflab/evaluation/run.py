"""Run an alignment-faking evaluation with Inspect's ``eval_set`` (resumable).

The log directory holds the Inspect logs and ``aflab_run.json`` (the resolved
configuration, aflab version and git SHA). Running again with the same log
directory resumes: finished samples are not regenerated.
"""

from __future__ import annotations

import json
import re
import subprocess
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from inspect_ai import eval_set
from inspect_ai.log import EvalLog

from aflab import __version__
from aflab.classifiers import grader as grader_module
from aflab.classifiers.grader import DEFAULT_GRADER, weak_grader_warning
from aflab.errors import AflabUsageError
from aflab.evaluation.tasks import SETTINGS, alignment_faking_task
from aflab.evaluation.variants import parse_variant_specs
from aflab.models.checks import check_model

__all__ = ["RunConfig", "default_log_dir", "run_evaluation"]

DEFAULT_MODEL = "aflab-local/smollm2"


@dataclass(frozen=True)
class RunConfig:
    """Everything `aflab run` needs; fields double as CLI options."""

    setting: str = "helpful_only"
    model: str = DEFAULT_MODEL
    grader: str | None = None
    variants: tuple[str, ...] = ()
    data: str = "builtin"
    text_column: str = "text"
    limit: int | None = None
    epochs: int = 1
    seed: int | None = None
    temperature: float | None = None
    max_tokens: int | None = None
    max_turns: int = 4
    af_votes: int = 5
    cache: bool = False
    batch: bool = False
    log_dir: str | None = None
    model_args: dict[str, Any] = field(default_factory=dict)
    max_connections: int | None = None
    local_classifiers: bool = False


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._=+-]+", "_", text).strip("_") or "x"


def default_log_dir(config: RunConfig) -> Path:
    """``runs/<setting>/<model>/<variant>``: rerunning the same config resumes there."""
    variant = parse_variant_specs(list(config.variants)).name
    return Path("runs") / config.setting / _slug(config.model) / _slug(variant)


def _git_sha() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
            cwd=Path(__file__).parent,
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None


def validate(config: RunConfig) -> None:
    """All checks that must pass before any sample runs."""
    if config.setting not in SETTINGS:
        raise AflabUsageError(
            f"unknown setting {config.setting!r}; choose from: {', '.join(SETTINGS)}"
        )
    parse_variant_specs(list(config.variants))
    check_model(config.model, role="model")
    if not config.local_classifiers:
        check_model(config.grader or DEFAULT_GRADER, role="grader")
    if config.limit is not None and config.limit < 1:
        raise AflabUsageError(f"--limit {config.limit}: give a positive number of queries")
    if config.epochs < 1:
        raise AflabUsageError(f"--epochs {config.epochs}: give at least 1")


def run_evaluation(config: RunConfig, *, display: str | None = None) -> tuple[Path, list[EvalLog]]:
    """Validate, then run (or resume) the evaluation; return the log dir and logs."""
    validate(config)
    variant = parse_variant_specs(list(config.variants))
    task = alignment_faking_task(
        config.setting,
        data=config.data,
        text_column=config.text_column,
        queries=config.limit,
        max_turns=config.max_turns,
        af_votes=config.af_votes,
        variant=variant.name,
        local_classifiers=config.local_classifiers,
    )
    log_dir = Path(config.log_dir) if config.log_dir else default_log_dir(config)
    log_dir.mkdir(parents=True, exist_ok=True)
    record = {"aflab_version": __version__, "git_sha": _git_sha(), "config": asdict(config),
              "variant": variant.model_dump(), "variant_name": variant.name}
    (log_dir / "aflab_run.json").write_text(
        json.dumps(record, indent=2, default=repr), encoding="utf-8"
    )
    gen: dict[str, Any] = {}
    for key in ("seed", "temperature", "max_tokens", "max_connections"):
        if getattr(config, key) is not None:
            gen[key] = getattr(config, key)
    if config.cache:
        gen["cache"] = True
    if config.batch:
        gen["batch"] = True
    grader = config.grader or DEFAULT_GRADER
    warning = None if config.local_classifiers else weak_grader_warning(grader)
    if warning:
        print(f"warning: {warning}")
        grader_module._warned = True  # printed once here; the scorers need not log it again
    success, logs = eval_set(
        task,
        log_dir=str(log_dir),
        model=config.model,
        model_args=config.model_args,
        model_roles={"grader": grader},
        epochs=config.epochs,
        display=display,  # type: ignore[arg-type]
        **gen,
    )
    if not success:
        raise AflabUsageError(
            f"the run did not complete (see logs in {log_dir}); run the same command again to resume"
        )
    return log_dir, logs
