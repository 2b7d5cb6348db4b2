"""`aflab run` options as Inspect receives them: the registered task with its args, the
model roles, and the pass-through options of ``inspect eval``.

The task is built through its registered ``@task`` function so that every log holds
the registry name (``aflab/helpful_only``) and the task args, which ``inspect
eval-retry`` and ``inspect score`` need. ``-T`` values override the options that map
to task args; an unknown ``-T`` name is a usage error naming the valid ones.
"""

from __future__ import annotations

import inspect
from typing import TYPE_CHECKING, Any

from inspect_ai import Task

from aflab.classifiers.grader import DEFAULT_GRADER
from aflab.errors import AflabUsageError
from aflab.evaluation.tasks import TASKS

if TYPE_CHECKING:
    from aflab.evaluation.run import RunConfig

__all__ = ["eval_options", "generate_options", "grader_name", "registered_task",
           "task_args"]

#: Reasoning effort values Inspect accepts.
REASONING_EFFORTS = ("none", "minimal", "low", "medium", "high", "xhigh")


def grader_name(config: RunConfig) -> str:
    """The grader: ``--model-role grader=...``, else ``--grader``, else the default."""
    role = config.model_roles.get("grader")
    if role and config.grader and role != config.grader:
        raise AflabUsageError(
            f"--grader {config.grader} and --model-role grader={role}: give only one"
        )
    return role or config.grader or DEFAULT_GRADER


def task_args(config: RunConfig, variant_name: str) -> dict[str, Any]:
    """The task's arguments as Inspect records them (``-T`` names of `inspect eval`)."""
    args: dict[str, Any] = {
        "data": config.data, "text_column": config.text_column, "queries": config.limit,
        "max_turns": config.max_turns, "af_votes": config.af_votes,
        "af_threshold": config.af_threshold, "variant": variant_name,
        "local_classifiers": config.local_classifiers,
        "judge_max_tokens": config.judge_max_tokens,
    }
    known = set(inspect.signature(TASKS[config.setting]).parameters)
    unknown = sorted(set(config.task_overrides) - known)
    if unknown:
        raise AflabUsageError(
            f"-T {unknown[0]}: not an argument of aflab/{config.setting}; "
            f"known: {', '.join(sorted(known))}"
        )
    args.update(config.task_overrides)
    return {key: value for key, value in args.items() if value is not None}


def registered_task(config: RunConfig, variant_name: str) -> Task:
    """The task built through its registered ``@task`` function (see module docstring)."""
    return TASKS[config.setting](**task_args(config, variant_name))


def generate_options(config: RunConfig) -> dict[str, Any]:
    """Generation options beyond the basic ones: reasoning effort and budget."""
    if config.reasoning_effort is not None and config.reasoning_effort not in REASONING_EFFORTS:
        raise AflabUsageError(
            f"--reasoning-effort {config.reasoning_effort}: choose from "
            f"{', '.join(REASONING_EFFORTS)}"
        )
    return {key: getattr(config, key) for key in ("reasoning_effort", "reasoning_tokens")
            if getattr(config, key) is not None}


def eval_options(config: RunConfig) -> dict[str, Any]:
    """Options of ``eval_set`` passed through: roles, samples, errors, base URL."""
    roles = {**config.model_roles, "grader": grader_name(config)}
    options: dict[str, Any] = {"model_roles": roles}
    if config.max_samples is not None:
        options["max_samples"] = config.max_samples
    if config.fail_on_error is not None:
        value = config.fail_on_error
        options["fail_on_error"] = int(value) if value > 1 else (
            bool(value) if value in (0, 1) else value)
    if config.sample_ids:
        options["sample_id"] = list(config.sample_ids)
    if config.model_base_url:
        options["model_base_url"] = config.model_base_url
    return options
