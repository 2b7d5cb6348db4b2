"""One line for a run that started but did not complete (`aflab run`).

:func:`first_error` is the root cause of the first failed log (a retry wrapper
unwrapped); :func:`auth_failure` recognises a provider refusing the credentials (HTTP
401/403, which Inspect does not retry) and names the key variables to fix.
"""

from __future__ import annotations

import re

from inspect_ai.log import EvalLog

from aflab.models.checks import key_vars

__all__ = ["auth_failure", "first_error"]

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
