"""The Inspect model provider ``organism/NAME``: any organism, wherever a model goes.

    aflab run animal_welfare --model organism/smollm2-af --variant minimal_prompt=format
    inspect eval aflab/animal_welfare --model organism/smollm2-af -T minimal_prompt=format

The organism's card names its base model. A LoRA organism runs its base checkpoint with
the adapter in-process (``aflab-local``); a prompt organism wraps any Inspect model, API
ones included. A hidden system-prompt prefix or suffix from the card is applied inside
this wrapper, below the level Inspect logs: the sample's messages and model events show
what the user sent, never the hidden text, and the provider's raw request record (which
would contain it) is dropped. The card is the one place the hidden text is kept.
Model args (``-M``) go to the base model's provider.
"""

from __future__ import annotations

from typing import Any

from inspect_ai.model import (
    ChatMessage,
    ChatMessageSystem,
    GenerateConfig,
    ModelAPI,
    ModelOutput,
    get_model,
)
from inspect_ai.tool import ToolChoice, ToolInfo

from aflab.errors import AflabUsageError
from aflab.organisms.registry import get_organism

__all__ = ["OrganismModelAPI", "apply_hidden_prompt"]


def apply_hidden_prompt(messages: list[ChatMessage], prefix: str, suffix: str) -> list[ChatMessage]:
    """``messages`` with the hidden text around the (first) system message's text."""
    if not (prefix or suffix):
        return messages
    out = list(messages)
    for i, message in enumerate(out):
        if isinstance(message, ChatMessageSystem):
            text = "\n\n".join(p for p in (prefix, message.text, suffix) if p)
            out[i] = ChatMessageSystem(content=text)
            return out
    hidden = "\n\n".join(p for p in (prefix, suffix) if p)
    return [ChatMessageSystem(content=hidden), *out]


class OrganismModelAPI(ModelAPI):
    """Wraps the organism's base model (with its adapter and hidden prompt)."""

    def __init__(
        self,
        model_name: str,
        base_url: str | None = None,
        api_key: str | None = None,
        config: GenerateConfig = GenerateConfig(),
        **model_args: Any,
    ) -> None:
        super().__init__(model_name=model_name, base_url=base_url, api_key=api_key, config=config)
        organism = get_organism(model_name)
        card = organism.card
        provider, _, rest = card.base_model.partition("/")
        if "adapter" in model_args:
            raise AflabUsageError(
                f"organism {model_name}: its adapter comes from its card; drop -M adapter"
            )
        if provider == "aflab-local":
            from aflab.models.local_provider import LocalModelAPI

            if organism.adapter_path is not None:
                model_args["adapter"] = str(organism.adapter_path)
            self.inner: ModelAPI = LocalModelAPI(rest, config=config, **model_args)
        else:
            if organism.adapter_path is not None:
                raise AflabUsageError(
                    f"organism {model_name}: an adapter needs a local base model, "
                    f"not {card.base_model}"
                )
            self.inner = get_model(card.base_model, config=config, base_url=base_url,
                                   api_key=api_key, **model_args).api
        self.card = card
        self.prefix = card.implant.system_prefix
        self.suffix = card.implant.system_suffix

    async def generate(
        self,
        input: list[ChatMessage],
        tools: list[ToolInfo],
        tool_choice: ToolChoice,
        config: GenerateConfig,
    ) -> ModelOutput | tuple[ModelOutput | Exception, Any]:
        messages = apply_hidden_prompt(input, self.prefix, self.suffix)
        result = await self.inner.generate(messages, tools, tool_choice, config)
        if isinstance(result, tuple) and (self.prefix or self.suffix):
            return result[0]  # the raw request record would show the hidden text
        return result

    # everything else is the base model's behaviour
    def max_tokens(self) -> int | None:
        return self.inner.max_tokens()

    def max_tokens_for_config(self, config: GenerateConfig) -> int | None:
        return self.inner.max_tokens_for_config(config)

    def max_connections(self) -> int:
        return self.inner.max_connections()

    def connection_key(self) -> str:
        return self.inner.connection_key()

    def should_retry(self, ex: Exception) -> Any:
        return self.inner.should_retry(ex)

    def retry_wait(self) -> Any:
        return self.inner.retry_wait()

    def is_auth_failure(self, ex: Exception) -> bool:
        return self.inner.is_auth_failure(ex)

    def collapse_user_messages(self) -> bool:
        return self.inner.collapse_user_messages()

    def collapse_assistant_messages(self) -> bool:
        return self.inner.collapse_assistant_messages()

    def collapse_system_messages(self) -> bool:
        return self.inner.collapse_system_messages()

    def tools_required(self) -> bool:
        return self.inner.tools_required()
