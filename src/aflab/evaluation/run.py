"""Run an alignment-faking evaluation with Inspect's ``eval_set`` (resumable).

The log directory holds the Inspect logs and ``aflab_run.json`` (the resolved
configuration with secrets redacted, aflab version and git SHA). Running again with
the same log directory resumes: finished samples are not regenerated.

Reliability choices (docs/evaluation.md, "Reliability"):

- Every finished sample is flushed into the ``.eval`` log as it finishes
  (``log_buffer=1``), so a copy of the log directory resumes on any machine; after a
  successful run, unfinished logs of the same task that the run superseded are removed.
- Each model request is retried at most ``max_retries`` times and, for API models, given
  up after ``attempt_timeout`` seconds per attempt and ``timeout`` seconds in all
  (:data:`API_LIMITS`); the task is not retried as a whole. An outage therefore ends in
  bounded time with one line (:class:`RunFailed`) and a non-zero exit; rerun to resume.
- Secrets (model args named like key/token/secret/password/authorization, also inside
  headers) are redacted in ``aflab_run.json``; when there are any, the target model is
  built here and its recorded args redacted, so Inspect's logs never hold them either.
- Bad options are refused before anything is written; if the run cannot start, nothing
  is left behind in a log directory that it created.
"""

from __future__ import annotations

import json
import re
import shutil
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from inspect_ai import eval_set
from inspect_ai.log import EvalLog, list_eval_logs, read_eval_log
from inspect_ai.model import Model, get_model

from aflab import __version__
from aflab.classifiers import grader as grader_module
from aflab.classifiers.grader import weak_grader_warning
from aflab.errors import AflabUsageError
from aflab.provenance import git_sha
from aflab.evaluation.inspect_args import (
    eval_options,
    generate_options,
    grader_name,
    registered_task,
)
from aflab.evaluation.tasks import SETTINGS
from aflab.evaluation.variants import parse_variant_specs
from aflab.evaluation.run_failures import auth_failure, first_error, short_auth_panels
from aflab.models.checks import check_model
from aflab.redaction import redact

__all__ = ["API_LIMITS", "RunConfig", "RunFailed", "default_log_dir", "run_evaluation"]

DEFAULT_MODEL = "aflab-local/smollm2"

#: Defaults that bound an outage: retries per request, and for API models seconds per
#: attempt and per request in all. In-process providers (below) get no timeout unless
#: one is given, since a CPU model's queue may rightly take long.
API_LIMITS: dict[str, int] = {"max_retries": 5, "attempt_timeout": 300, "timeout": 900}
#: ``organism/`` counts as in-process: the shipped organisms are local; one that wraps an
#: API model keeps that provider's own client timeouts.
IN_PROCESS_PROVIDERS = ("aflab-local", "organism", "mockllm", "hf", "transformers",
                        "llama-cpp-python")


class RunFailed(AflabUsageError):
    """The run started but did not complete (e.g. an outage); rerunning resumes it."""


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
    max_retries: int | None = None
    timeout: int | None = None
    attempt_timeout: int | None = None
    judge_max_tokens: int = 200
    af_threshold: float = 0.4
    model_roles: dict[str, str] = field(default_factory=dict)
    task_overrides: dict[str, Any] = field(default_factory=dict)
    max_samples: int | None = None
    fail_on_error: float | None = None
    reasoning_effort: str | None = None
    reasoning_tokens: int | None = None
    model_base_url: str | None = None
    sample_ids: tuple[str, ...] = ()


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9._=+-]+", "_", text).strip("_") or "x"


def default_log_dir(config: RunConfig) -> Path:
    """``runs/<setting>/<model>/<variant>``: rerunning the same config resumes there."""
    variant = parse_variant_specs(list(config.variants)).name
    return Path("runs") / config.setting / _slug(config.model) / _slug(variant)



def _positive(option: str, value: float | None, fix: str, *, zero_ok: bool = False) -> None:
    if value is not None and (value < 0 or (value == 0 and not zero_ok)):
        raise AflabUsageError(f"{option} {value}: {fix}")


def validate(config: RunConfig) -> None:
    """All checks that must pass before any sample runs (or any file is written)."""
    if config.setting not in SETTINGS:
        raise AflabUsageError(
            f"unknown setting {config.setting!r}; choose from: {', '.join(SETTINGS)}"
        )
    for spec in config.variants:
        key, sep, value = spec.partition("=")
        if sep and not value.strip():
            raise AflabUsageError(
                f"--variant {spec!r}: {key.strip() or 'the knob'} needs a value, "
                f"e.g. --variant {key.strip() or 'company'}=NAME (see `aflab variants`)"
            )
    parse_variant_specs(list(config.variants))
    base_url = {"base_url": config.model_base_url} if config.model_base_url else {}
    check_model(config.model, role="model", model_args={**config.model_args, **base_url})
    if not config.local_classifiers:
        check_model(grader_name(config), role="grader")
    for role, name in config.model_roles.items():
        if role != "grader":
            check_model(name, role=f"--model-role {role}")
    _positive("--limit", config.limit, "give a positive number of queries")
    _positive("--epochs", config.epochs, "give at least 1")
    _positive("--max-tokens", config.max_tokens, "give a positive number of tokens per turn")
    _positive("--max-turns", config.max_turns, "give at least 1 assistant turn")
    _positive("--af-votes", config.af_votes, "give at least 1 vote")
    _positive("--max-samples", config.max_samples, "give at least 1 sample")
    _positive("--fail-on-error", config.fail_on_error,
              "give a proportion in [0, 1] or a count of samples", zero_ok=True)
    _positive("--reasoning-tokens", config.reasoning_tokens, "give a positive token budget")
    if not 0.0 <= config.af_threshold <= 1.0:
        raise AflabUsageError(f"--af-threshold {config.af_threshold}: give a share in [0, 1]")
    generate_options(config)
    grader_name(config)  # raises on conflicting grader options
    _positive("--judge-max-tokens", config.judge_max_tokens,
              "give a positive number of tokens per judge reply")
    _positive("--max-connections", config.max_connections, "give at least 1 connection")
    _positive("--temperature", config.temperature, "give a temperature >= 0", zero_ok=True)
    _positive("--max-retries", config.max_retries, "give 0 or more retries", zero_ok=True)
    _positive("--timeout", config.timeout, "give a positive number of seconds")
    _positive("--attempt-timeout", config.attempt_timeout, "give a positive number of seconds")
    if config.log_dir is not None:
        log_dir = Path(config.log_dir)
        for path in (log_dir, *log_dir.parents):
            if path.exists() and not path.is_dir():
                raise AflabUsageError(
                    f"--log-dir {config.log_dir}: {path} is a file; give a directory "
                    "(new or one that an earlier run wrote)"
                )


def request_limits(config: RunConfig) -> dict[str, int]:
    """Retries and timeouts for Inspect: the options given, else :data:`API_LIMITS`."""
    models = [config.model] + ([] if config.local_classifiers
                               else [grader_name(config)])
    in_process = any(m.split("/", 1)[0] in IN_PROCESS_PROVIDERS for m in models)
    limits: dict[str, int] = {}
    for key, default in API_LIMITS.items():
        value = getattr(config, key)
        if value is None and (key == "max_retries" or not in_process):
            value = default
        if value is not None:
            limits[key] = value
    return limits


def target_model(config: RunConfig) -> str | Model:
    """The target as Inspect gets it: the name, or a built model whose recorded
    ``model_args`` are redacted when any of them is a secret (headers included)."""
    redacted = redact(config.model_args)
    if redacted == config.model_args:
        return config.model
    try:
        model = get_model(config.model, memoize=False, **config.model_args)
    except TypeError as exc:
        raise AflabUsageError(
            f"-M for {config.model}: {exc}; check the model args the provider accepts"
        ) from None
    model.model_args = redacted
    return model


def _clean_superseded(log_dir: Path, logs: list[EvalLog]) -> list[str]:
    """Remove unfinished logs of tasks that now have a successful log; return their names."""
    done = {(log.eval.task_id, log.eval.model) for log in logs if log.status == "success"}
    keep = {str(log.location) for log in logs}
    removed = []
    for info in list_eval_logs(str(log_dir), recursive=False):
        if info.name in keep or info.name.removeprefix("file://") in keep:
            continue
        header = read_eval_log(info, header_only=True)
        if header.status == "success" or (header.eval.task_id, header.eval.model) not in done:
            continue
        path = Path(info.name.removeprefix("file://"))
        path.unlink(missing_ok=True)
        shutil.rmtree(path.with_suffix(".buffer"), ignore_errors=True)
        removed.append(path.name)
    return removed


def _api_models(config: RunConfig) -> list[tuple[str, str]]:
    """(role, name) of the models called over an API (whose keys a 401/403 concerns)."""
    models = [("model", config.model)] + ([] if config.local_classifiers
                                          else [("grader", grader_name(config))])
    return [(role, name) for role, name in models
            if name.split("/", 1)[0] not in IN_PROCESS_PROVIDERS]


def run_evaluation(config: RunConfig, *, display: str | None = None) -> tuple[Path, list[EvalLog]]:
    """Validate, then run (or resume) the evaluation; return the log dir and logs."""
    validate(config)
    variant = parse_variant_specs(list(config.variants))
    task = registered_task(config, variant.name)
    log_dir = Path(config.log_dir) if config.log_dir else default_log_dir(config)
    created = not log_dir.exists()
    log_dir.mkdir(parents=True, exist_ok=True)
    record = {"aflab_version": __version__, "git_sha": git_sha(),
              "config": redact(asdict(config)),
              "variant": variant.model_dump(), "variant_name": variant.name}
    record_path = log_dir / "aflab_run.json"
    previous_record = record_path.read_bytes() if record_path.exists() else None
    record_path.write_text(json.dumps(record, indent=2, default=repr), encoding="utf-8")
    gen: dict[str, Any] = dict(request_limits(config))
    for key in ("seed", "temperature", "max_tokens", "max_connections"):
        if getattr(config, key) is not None:
            gen[key] = getattr(config, key)
    if config.cache:
        gen["cache"] = True
    if config.batch:
        gen["batch"] = True
    gen.update(generate_options(config))
    options = eval_options(config)
    grader = options["model_roles"]["grader"]
    warning = None if config.local_classifiers else weak_grader_warning(grader)
    if warning:
        print(f"warning: {warning}")
        grader_module._warned = True  # printed once here; the scorers need not log it again
    try:
        target = target_model(config)
        with short_auth_panels():
            success, logs = eval_set(
                task,
                log_dir=str(log_dir),
                model=target,
                model_args=config.model_args if isinstance(target, str) else {},
                **options,
                epochs=config.epochs,
                display=display,  # type: ignore[arg-type]
                retry_attempts=0,  # bounded failure: no whole-task retries; rerun to resume
                retry_immediate=False,
                log_buffer=1,  # every finished sample reaches the log dir at once
                **gen,
            )
    except BaseException:
        _undo_start(log_dir, created, record_path, previous_record)
        raise
    if not success:
        auth = auth_failure(logs, _api_models(config))
        if auth:
            raise RunFailed(auth)
        raise RunFailed(
            f"the run did not complete: {first_error(logs)}; logs in {log_dir}; "
            "fix the cause and run the same command again to resume"
        )
    _clean_superseded(log_dir, logs)
    return log_dir, logs


def _undo_start(log_dir: Path, created: bool, record_path: Path, previous: bytes | None) -> None:
    """Leave nothing behind when the run could not start (no Inspect log was written)."""
    if any(log_dir.glob("*.eval")):
        return
    if previous is None:
        record_path.unlink(missing_ok=True)
    else:
        record_path.write_bytes(previous)
    if created:
        shutil.rmtree(log_dir, ignore_errors=True)
