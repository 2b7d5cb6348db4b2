"""Checks on a model name before any sample runs: known provider, its package
installed (with the aflab extra that installs it), API key and base URL present.

Keys count as Inspect counts them: the environment plus a ``.env`` file found from the
working directory upwards (Inspect's own ``init_dotenv``), or ``-M api_key=...``.
Where the provider's package is installed, the provider is built here exactly as
Inspect builds it (no request is sent), so every provider Inspect knows is checked by
its own rules; ``openai-api/NAME/MODEL`` needs ``NAME_API_KEY`` and ``NAME_BASE_URL``.
"""

from __future__ import annotations

import importlib.util
import os
import re
from typing import Any

from aflab.errors import AflabUsageError

__all__ = ["API_KEY_VARS", "PACKAGE_EXTRAS", "check_model", "key_vars"]

#: Environment variables Inspect reads for each provider's key (any one suffices); used
#: to name the key in the same line when the provider's package is missing too.
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

#: pip package named by Inspect's install hint -> the aflab extra that installs it.
PACKAGE_EXTRAS: dict[str, str] = {
    "anthropic": "anthropic", "openai": "openai", "google-genai": "google",
    "mistralai": "mistral", "groq": "groq", "xai_sdk": "grok", "xai-sdk": "grok",
}

#: Providers that run in this process or on a local server: never built here.
LOCAL_PROVIDERS = frozenset({
    "aflab-local", "organism", "mockllm", "hf", "transformers", "llama-cpp-python",
    "transformer_lens", "nnterp", "none",
})
#: Providers whose client may consult a cloud credential chain when built: only their
#: package is checked.
CLOUD_PROVIDERS = frozenset({"bedrock", "sagemaker", "azureai"})
#: Server providers: Inspect connects to ``VAR`` or starts the server with the package.
SERVER_BASE_URLS: dict[str, tuple[str, str]] = {
    "vllm": ("VLLM_BASE_URL", "vllm"), "vllm-completions": ("VLLM_BASE_URL", "vllm"),
    "sglang": ("SGLANG_BASE_URL", "sglang"),
}


def key_vars(name: str) -> tuple[str, ...]:
    """The environment variables holding the key of model ``name`` (may be empty)."""
    provider, _, rest = name.partition("/")
    if provider.startswith("openai-api"):
        service = rest.split("/", 1)[0]
        return (f"{service.upper().replace('-', '_')}_API_KEY",) if service else ()
    if provider in SERVER_BASE_URLS:
        return (f"{provider.split('-')[0].upper()}_API_KEY",)
    return API_KEY_VARS.get(provider, ())


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


def _plain(exc: Exception) -> str:
    text = str(getattr(exc, "message", exc))
    return " ".join(re.sub(r"\[/?[a-z]+\]", "", text).split()).removeprefix("ERROR: ")


def _install_hint(text: str) -> str:
    """``pip install 'aflab[EXTRA]'`` for a package an extra covers, else Inspect's hint."""
    match = re.search(r"pip install (?:--upgrade )?([\w.-]+)", text)
    extra = PACKAGE_EXTRAS.get(match.group(1)) if match else None
    return f"pip install 'aflab[{extra}]'" if extra else (match.group(0) if match else text)


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
        text = _plain(exc)
        keys = [v for v in key_vars(name) if not os.environ.get(v)]
        also = f" and set {keys[0]}" if keys else ""
        raise AflabUsageError(
            f"{role} {name!r}: the {provider} provider's package is not installed: "
            f"{_install_hint(text)}{also}"
        ) from None
    except TypeError:
        pass  # installed: the provider class was reached without its arguments


def _check_server(name: str, provider: str, role: str, model_args: dict[str, Any]) -> bool:
    """A server provider without a base URL needs its package to start one; return
    whether the model has a base URL."""
    var, package = SERVER_BASE_URLS[provider]
    if model_args.get("base_url") or model_args.get("port") or os.environ.get(var):
        return True
    if importlib.util.find_spec(package) is None:
        raise AflabUsageError(
            f"{role} {name!r}: no server to call: set {var}=http://HOST:PORT/v1 for a "
            f"running {package} server (or -M base_url=URL), or pip install {package} "
            "to let Inspect start one"
        )
    return False


def _check_construct(name: str, role: str, model_args: dict[str, Any]) -> None:
    """Build the provider as Inspect does (no request is sent): a missing key or base
    URL raises Inspect's prerequisite error, turned into one line here."""
    from inspect_ai._util.error import PrerequisiteError
    from inspect_ai.model import get_model

    try:
        get_model(name, memoize=False, **model_args)
    except PrerequisiteError as exc:
        text = _plain(exc)
        names = re.findall(r"\b[A-Z][A-Z0-9_]*_(?:API_KEY|BASE_URL|TOKEN|KEY)\b", text)
        if not names:
            raise AflabUsageError(f"{role} {name!r}: {text}") from None
        what = "an API key" if "KEY" in names[0] or "TOKEN" in names[0] else "a base URL"
        raise AflabUsageError(
            f"{role} {name!r} needs {what}: set {' or '.join(dict.fromkeys(names))} in the "
            "environment or in a .env file"
        ) from None
    except TypeError as exc:
        raise AflabUsageError(
            f"-M for {name}: {exc}; check the model args the provider accepts"
        ) from None


def check_model(name: str, *, role: str = "model",
                model_args: dict[str, Any] | None = None) -> None:
    """Raise a one-line usage error for a malformed name, unknown provider, missing
    package, missing key or missing base URL."""
    from inspect_ai._util.dotenv import init_dotenv

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
    if provider.startswith("openai-api") and "/" not in rest:
        raise AflabUsageError(
            f"{role} {name!r}: use {provider}/SERVICE/MODEL; SERVICE names the variables "
            "SERVICE_API_KEY and SERVICE_BASE_URL"
        )
    init_dotenv()  # keys in .env count, as they do for Inspect
    _check_installed(name, provider, role)
    args = dict(model_args or {})
    if provider in SERVER_BASE_URLS:
        if not _check_server(name, provider, role, args):
            return
    if provider in LOCAL_PROVIDERS or provider in CLOUD_PROVIDERS:
        return
    _check_construct(name, role, args)
