"""Checks on a model name before any sample runs: known provider, its package
installed, API key present."""

from __future__ import annotations

import os
import re

from aflab.errors import AflabUsageError

__all__ = ["API_KEY_VARS", "check_model"]

#: Environment variables Inspect reads for each provider's key (any one suffices).
API_KEY_VARS: dict[str, tuple[str, ...]] = {
    "anthropic": ("ANTHROPIC_API_KEY",),
    "openai": ("OPENAI_API_KEY",),
    "openrouter": ("OPENROUTER_API_KEY",),
    "google": ("GOOGLE_API_KEY", "GEMINI_API_KEY"),
    "together": ("TOGETHER_API_KEY",),
    "groq": ("GROQ_API_KEY",),
    "mistral": ("MISTRAL_API_KEY",),
    "grok": ("XAI_API_KEY",),
    "deepseek": ("DEEPSEEK_API_KEY",),
    "fireworks": ("FIREWORKS_API_KEY",),
}


def _known_providers() -> set[str]:
    import inspect_ai.model._providers.providers  # noqa: F401  (registers Inspect's providers)
    from inspect_ai._util.registry import registry_find

    import aflab._registry  # noqa: F401  (registers aflab-local)

    found = registry_find(lambda info: info.type == "modelapi")
    names = set()
    for obj in found:
        info = getattr(obj, "__registry_info__", None)
        if info is not None:
            names.add(str(info.name).split("/")[-1])
    return names


def _check_installed(name: str, provider: str, role: str) -> None:
    """Ask the provider's registration whether its package is installed."""
    from inspect_ai._util.error import PrerequisiteError
    from inspect_ai._util.registry import registry_lookup

    factory = registry_lookup("modelapi", provider)
    if factory is None:
        return
    try:
        factory()  # validates the package first, then fails on the missing model name
    except PrerequisiteError as exc:
        text = str(getattr(exc, "message", exc))
        hint = " ".join(re.sub(r"\[/?bold\]", "", text).split()).removeprefix("ERROR: ")
        raise AflabUsageError(f"{role} {name!r}: {hint}") from None
    except TypeError:
        pass  # installed: the provider class was reached without its arguments


def check_model(name: str, *, role: str = "model") -> None:
    """Raise a one-line usage error for a malformed name, unknown provider or missing key."""
    provider, sep, rest = name.partition("/")
    if not sep or not rest:
        raise AflabUsageError(
            f"{role} {name!r}: use provider/model, e.g. anthropic/claude-3-opus-20240229 "
            "or aflab-local/smollm2 (see `aflab models`)"
        )
    known = _known_providers()
    if known and provider not in known:
        raise AflabUsageError(
            f"{role} {name!r}: unknown provider {provider!r}; known: {', '.join(sorted(known))}"
        )
    variables = API_KEY_VARS.get(provider)
    if variables and not any(os.environ.get(v) for v in variables):
        raise AflabUsageError(
            f"{role} {name!r} needs an API key: set {variables[0]} in the environment"
        )
    _check_installed(name, provider, role)
