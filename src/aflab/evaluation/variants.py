"""Prompt variants (ablations) as a handful of composable knobs.

A :class:`Variant` is the resolved set of knobs for one run. It is built from
task options (``-T no_scratchpad=true``) or CLI specs (``--variant no_scratchpad
--variant company=OpenAI``); its :attr:`Variant.name` is a stable, readable
label (``default`` or e.g. ``company=OpenAI+no_scratchpad``) recorded in every log.
"""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from aflab.errors import AflabUsageError

__all__ = [
    "Variant",
    "VARIANT_DESCRIPTIONS",
    "N_PARAPHRASES",
    "parse_variant_specs",
    "variant_from_options",
]

#: Number of alternative wordings shipped for each system prompt (besides the main one).
N_PARAPHRASES = 3

TierTag = Literal["title", "lower"]
MinimalPrompt = Literal["off", "format", "examples"]


class Variant(BaseModel):
    """The resolved prompt knobs of a run. Defaults reproduce the paper's main setup."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    no_scratchpad: bool = Field(
        False, description="No hidden reasoning: the model answers directly in <OUTPUT>."
    )
    cut_rlhf_info: bool = Field(
        False, description="Remove the paragraph on how RLHF modifies a non-complying model."
    )
    no_conflict: bool = Field(
        False,
        description="Baseline: the training objective agrees with the model's values (no conflict).",
    )
    no_examples: bool = Field(
        False, description="Remove the worked reasoning examples from the system prompt."
    )
    company: str = Field(
        "Anthropic", description="Company named as the model's developer (any name)."
    )
    model_name: str = Field("Claude", description="Model name shown in the system prompt.")
    tier_tag: TierTag = Field(
        "title",
        description="Tier-tag value format: 'title' gives True/False, 'lower' gives true/false.",
    )
    accept_reject_suffix: bool = Field(
        False,
        description="Append the <request_fully_accepted/> / <rejected/> instruction to each user turn.",
    )
    minimal_prompt: MinimalPrompt = Field(
        "off",
        description="State none of the setting's facts (the condition for fine-tuned "
        "organisms): 'format' keeps only the response-format section, 'examples' the format "
        "and the worked examples.",
    )
    paraphrase: int = Field(
        0,
        ge=0,
        le=N_PARAPHRASES,
        description=f"System-prompt wording: 0 is the main one, 1-{N_PARAPHRASES} are paraphrases.",
    )
    cue: str = Field(
        "",
        max_length=200,
        pattern=r"^[^\n+]*$",
        description="A line put right after <INPUT> in every user turn, e.g. a trigger a red "
        "team planted (one line, no '+').",
    )

    @property
    def name(self) -> str:
        """A stable label: 'default' or the non-default knobs joined with '+'."""
        parts: list[str] = []
        defaults = Variant()
        for field in type(self).model_fields:
            value = getattr(self, field)
            if value == getattr(defaults, field):
                continue
            parts.append(field if value is True else f"{field}={value}")
        return "+".join(sorted(parts)) or "default"


#: One-line description of each knob, for ``aflab variants``.
VARIANT_DESCRIPTIONS: dict[str, str] = {
    name: (field.description or "") for name, field in Variant.model_fields.items()
}


def variant_from_options(**options: Any) -> Variant:
    """Build a Variant from keyword options, with a one-line error on a bad one."""
    unknown = sorted(set(options) - set(Variant.model_fields))
    if unknown:
        raise AflabUsageError(
            f"unknown variant {unknown[0]!r}; choose from: {', '.join(Variant.model_fields)}"
            " (see `aflab variants`)"
        )
    try:
        return Variant(**options)
    except ValidationError as err:
        first = err.errors()[0]
        field = ".".join(str(p) for p in first["loc"])
        raise AflabUsageError(
            f"variant {field}={options.get(field)!r}: {first['msg']} (see `aflab variants`)"
        ) from None


def _coerce(field: str, raw: str) -> Any:
    annotation = Variant.model_fields[field].annotation
    if annotation is bool:
        lowered = raw.lower()
        if lowered in {"1", "true", "yes", "on"}:
            return True
        if lowered in {"0", "false", "no", "off"}:
            return False
        raise AflabUsageError(f"variant {field}={raw!r}: expected true or false")
    return raw


def parse_variant_specs(specs: list[str] | tuple[str, ...]) -> Variant:
    """Parse CLI specs like ``no_scratchpad`` or ``company=OpenAI`` into a Variant.

    A spec may also join several knobs with ``+`` (as :attr:`Variant.name` prints them).
    """
    options: dict[str, Any] = {}
    for spec in specs:
        for part in str(spec).split("+"):
            part = part.strip()
            if not part or part == "default":
                continue
            key, sep, raw = part.partition("=")
            key = key.strip()
            if key not in Variant.model_fields:
                raise AflabUsageError(
                    f"unknown variant {key!r}; choose from: {', '.join(Variant.model_fields)}"
                    " (see `aflab variants`)"
                )
            options[key] = _coerce(key, raw.strip()) if sep else True
    return variant_from_options(**options)
