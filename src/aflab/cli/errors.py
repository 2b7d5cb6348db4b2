"""The CLI's one rule for user mistakes: an AflabUsageError becomes one line, exit 1."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, TypeVar

import click

from aflab.errors import AflabUsageError

__all__ = ["usage_errors"]

F = TypeVar("F", bound=Callable[..., Any])


def usage_errors(func: F) -> F:
    """Turn an AflabUsageError into click's one-line error and non-zero exit."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except AflabUsageError as err:
            raise click.ClickException(str(err)) from None

    return wrapper  # type: ignore[return-value]
