"""The grader model role: any Inspect model, defaulting to the embedded one."""

from __future__ import annotations

import logging

from inspect_ai.model import Model, get_model

__all__ = ["DEFAULT_GRADER", "grader_model", "weak_grader_warning"]

logger = logging.getLogger(__name__)

#: Used when no ``grader`` model role is given. Far too weak for real measurements.
DEFAULT_GRADER = "aflab-local/smollm2"

_warned = False


def weak_grader_warning(name: str) -> str | None:
    """The warning to print when ``name`` is the embedded model, else None."""
    if name.startswith(DEFAULT_GRADER):
        return (
            f"grader is {name}, a 135M-parameter model: far too weak for real measurements; "
            "pass a strong grader (e.g. --grader anthropic/claude-sonnet-4-5)"
        )
    return None


def grader_model() -> Model:
    """The model bound to the ``grader`` role, or the embedded model with a warning."""
    global _warned
    model = get_model(role="grader", default=DEFAULT_GRADER)
    warning = weak_grader_warning(str(model))
    if warning and not _warned:
        logger.warning(warning)
        _warned = True
    return model
