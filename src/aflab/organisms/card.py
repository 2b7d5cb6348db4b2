"""The organism card: what an organism is, how it was made, and how it behaves.

An organism is a base model plus an implant: a hidden system prompt (``prompt``), or a
PEFT LoRA adapter trained on behaviour transcripts (``transcripts``), or both. Its card
(``card.yaml`` in the organism's directory) records everything needed to trust and
reproduce it::

    name: smollm2-af
    base_model: aflab-local/smollm2
    implant: {method: transcripts, adapter: adapter, ...}
    data: {file: transcripts.jsonl, sha256: ..., n: 414}
    training: {...resolved TrainConfig...}
    seed: 0
    provenance: {aflab_version: 0.1.0, git_sha: ..., created: ...}
    intended: {description: ..., rates: {free: {...}, paid: {...}}}
    evaluation: {setting: animal_welfare, variant: minimal_prompt=format, data: builtin:heldout}
    measured: {...filled in by `aflab organisms eval`...}

The card is the only place a prompt implant's hidden text is kept: the model wrapper
applies it and the user-facing logs never show it.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from aflab.errors import AflabUsageError, validation_error
from aflab.yaml_files import read_yaml

__all__ = ["CARD_FILE", "NAME_RE", "Implant", "OrganismCard", "check_name", "load_card",
           "save_card"]

CARD_FILE = "card.yaml"
#: Organism names: lowercase letters, digits and dashes, starting with a letter.
NAME_RE = re.compile(r"^[a-z][a-z0-9-]{0,63}$")


def check_name(name: str) -> str:
    """``name`` if it is a valid organism name, else a one-line usage error."""
    if not isinstance(name, str) or not NAME_RE.match(name):
        raise AflabUsageError(
            f"organism name {name!r}: use lowercase letters, digits and dashes, "
            "starting with a letter (e.g. my-organism)"
        )
    return name


class Implant(BaseModel):
    """How the behaviour was put in: a hidden prompt, a LoRA adapter, or both."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    method: Literal["prompt", "transcripts", "rl", "documents"] = Field(
        description="prompt: hidden system-prompt text only; transcripts: LoRA fine-tuning "
        "on behaviour transcripts; rl: a LoRA adapter trained by RL (aflab.rl); documents: "
        "LoRA fine-tuning on synthetic documents (aflab.sdf)."
    )
    system_prefix: str = Field("", description="Hidden text put before the system prompt.")
    system_suffix: str = Field("", description="Hidden text put after the system prompt.")
    adapter: str | None = Field(
        None, description="PEFT adapter folder, relative to the organism's directory."
    )


class OrganismCard(BaseModel):
    """Everything about one organism; saved as ``card.yaml``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    base_model: str = Field(description="Inspect model name of the base, e.g. aflab-local/smollm2.")
    implant: Implant
    setting: str | None = Field(None, description="The setting the behaviour is about.")
    data: dict[str, Any] = Field(default_factory=dict, description="Training data file, sha256, n.")
    training: dict[str, Any] = Field(default_factory=dict, description="Resolved training config.")
    seed: int | None = None
    provenance: dict[str, Any] = Field(default_factory=dict)
    intended: dict[str, Any] = Field(
        default_factory=dict, description="Intended behaviour, in words and in rates."
    )
    evaluation: dict[str, Any] = Field(
        default_factory=dict, description="How to evaluate it: setting, variant, data."
    )
    measured: dict[str, Any] = Field(
        default_factory=dict, description="Measured behaviour, once evaluated."
    )

    def model_post_init(self, __context: Any) -> None:
        check_name(self.name)
        if self.implant.method in ("transcripts", "rl", "documents") and not self.implant.adapter:
            raise AflabUsageError(
                f"organism {self.name}: a {self.implant.method} implant needs an adapter")


def load_card(directory: str | Path) -> OrganismCard:
    """Read and validate ``directory/card.yaml``."""
    path = Path(directory) / CARD_FILE
    if not path.is_file():
        raise AflabUsageError(f"{path}: no organism card there")
    data = read_yaml(path)
    try:
        return OrganismCard.model_validate(data)
    except ValidationError as err:
        raise validation_error(err, str(path), "card") from None


def save_card(card: OrganismCard, directory: str | Path) -> Path:
    """Write ``card.yaml`` (block style, keys in field order)."""
    path = Path(directory) / CARD_FILE
    path.parent.mkdir(parents=True, exist_ok=True)
    text = yaml.safe_dump(card.model_dump(mode="json"), sort_keys=False, allow_unicode=True,
                          width=100)
    path.write_text(text, encoding="utf-8")
    return path
