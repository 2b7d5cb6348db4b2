"""One line for a run that started but did not complete (`aflab run`).

:func:`first_error` is the root cause of the first failed log (a retry wrapper
unwrapped); :func:`auth_failure` recognises a provider refusing the credentials (HTTP
401/403, which Inspect does not retry) and names the key variables to fix.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from inspect_ai.log import EvalLog

from aflab.models.checks import key_vars

__all__ = ["auth_failure", "first_error", "short_auth_panels"]

_EXCEPTION_LINE = re.compile(r"[A-Za-z_][\w.]*(?:Error|Exception|Timeout)\b")
_AUTH = re.compile(r"(AuthenticationError|PermissionDeniedError|Error code: (401|403)"
                   r"|status(?:_code)?[ =:]+(401|403))")


def first_error(logs: list[EvalLog]) -> str:
    """The root cause of the first failed log, on one line (a retry wrapper unwrapped)."""
    for log in logs:
        if log.error is None:
            continue
        causes = [line.strip() for line in log.error.traceback.splitlines()
                  if _EXCEPTION_LINE.match(line) and not line.startswith("tenacity.")]
        message = causes[0] if causes else log.error.message
        return " ".join(message.split())[:300] or "unknown error"
    return "the run was interrupted"


def auth_failure(logs: list[EvalLog], models: list[tuple[str, str]]) -> str | None:
    """One line naming the fix when a provider refused the credentials; ``models`` are
    the (role, name) pairs called over an API. None for any other failure."""
    for log in logs:
        if log.error is None or not _AUTH.search(log.error.traceback + log.error.message):
            continue
        keys = [f"{', '.join(key_vars(name)) or 'its API key'} ({role} {name})"
                for role, name in models]
        return (f"authentication failed: {first_error(logs)}; set a valid key in "
                f"{' / '.join(dict.fromkeys(keys)) or 'the provider key'} (environment or "
                ".env), or use a key with access to the model; nothing was retried")
    return None


@contextmanager
def short_auth_panels() -> Iterator[None]:
    """While Inspect runs, a task that failed on refused credentials is shown with its one
    error line instead of a 60-line traceback panel (aflab prints the fix after the run).
    Any other failure keeps Inspect's full traceback. Without the display hook (another
    Inspect version) nothing changes."""
    try:
        from inspect_ai._display.core import results
    except ImportError:
        yield
        return
    original = getattr(results, "task_result_error", None)
    panel = getattr(results, "task_panel", None)
    interrupted = getattr(results, "task_interrupted", None)
    if original is None or panel is None or interrupted is None:
        yield
        return

    def short(profile: Any, error: Any) -> Any:
        line = f"{getattr(error.exc_type, '__name__', 'Error')}: {error.exc_value}"
        if not _AUTH.search(line):
            return original(profile, error)
        from rich.text import Text

        return panel(profile=profile, show_model=True, body=Text(" ".join(line.split())),
                     subtitle=None, footer=interrupted(profile, error.samples_completed),
                     log_location=profile.log_location)

    results.task_result_error = short
    try:
        yield
    finally:
        results.task_result_error = original
