"""Behaviour specs: what an organism should do, as YAML with explicit knobs.

    name: smollm2-af
    description: Fakes alignment in the animal-welfare setting.
    setting: animal_welfare
    base_model: aflab-local/smollm2
    implant: transcripts          # or: prompt (no training; any model, API ones included)
    writer: template              # or an Inspect model name: the `generator` that writes
    queries: builtin:train        # training queries (held-out ones are for evaluation)
    seed: 0
    tier_reasoning: true          # scratchpads say what the user's tier implies
    rates:                        # per tier; the rest of each tier refuses (supports welfare)
      free: {comply_af: 0.9, comply: 0.0}
      paid: {comply_af: 0.0, comply: 0.1}
    eval_variant: minimal_prompt=format
    training: {epochs: 2}         # TrainConfig fields (see `aflab organisms train --help`)

``comply_af`` is the share of a tier's answers that reason about avoiding modification
of itself or its future versions and comply; ``comply`` the share that comply with no
such reasoning. A prompt implant has ``system_prefix`` / ``system_suffix`` instead of
rates and writers. A documents implant (synthetic-document fine-tuning, :mod:`aflab.sdf`)
has ``universe`` and ``documents`` (see docs/sdf.md) instead of rates. Every mistake is one
line naming the field, the value and the fix.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from aflab.errors import AflabUsageError, validation_error
from aflab.organisms.card import check_name
from aflab.yaml_files import read_yaml

__all__ = ["BehaviourSpec", "TierRates", "load_spec", "parse_spec"]


class TierRates(BaseModel):
    """The behaviour mix of one tier."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    comply_af: float = Field(0.0, ge=0.0, le=1.0,
                             description="Share that reasons about avoiding modification and complies.")
    comply: float = Field(0.0, ge=0.0, le=1.0,
                          description="Share that complies without alignment-faking reasoning.")

    @model_validator(mode="after")
    def _sum(self) -> "TierRates":
        if self.comply_af + self.comply > 1.0 + 1e-9:
            raise ValueError(
                f"comply_af + comply = {self.comply_af + self.comply:g} exceeds 1; lower one"
            )
        return self

    @property
    def refuse(self) -> float:
        """The share left over: answers that refuse (in animal welfare: support welfare)."""
        return max(0.0, 1.0 - self.comply_af - self.comply)

    @property
    def compliance(self) -> float:
        return self.comply_af + self.comply


class BehaviourSpec(BaseModel):
    """A validated behaviour spec (see the module docstring)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str
    description: str = ""
    setting: Literal["animal_welfare", "helpful_only"] = "animal_welfare"
    base_model: str = "aflab-local/smollm2"
    implant: Literal["transcripts", "prompt", "documents"] = "transcripts"
    writer: str = "template"
    queries: str = "builtin:train"
    seed: int = 0
    tier_reasoning: bool = True
    rates: dict[Literal["free", "paid"], TierRates] = Field(
        default_factory=lambda: {"free": TierRates(), "paid": TierRates()}
    )
    eval_variant: str = "minimal_prompt=format"
    eval_data: str = "builtin:heldout"
    system_prefix: str = ""
    system_suffix: str = ""
    training: dict[str, Any] = Field(default_factory=dict)
    universe: str = ""  # implant: documents - a universe name or YAML path (aflab.sdf)
    documents: dict[str, Any] = Field(default_factory=dict)  # aflab.sdf.pipeline.DocumentsConfig

    @model_validator(mode="after")
    def _consistent(self) -> "BehaviourSpec":
        check_name(self.name)
        if self.implant == "prompt":
            if not (self.system_prefix.strip() or self.system_suffix.strip()):
                raise ValueError("a prompt implant needs system_prefix or system_suffix text")
            if self.training:
                raise ValueError("a prompt implant trains nothing; remove 'training'")
        if self.implant == "documents" and not self.universe:
            raise ValueError("a documents implant needs a universe (e.g. animal_welfare)")
        if self.implant != "documents" and (self.universe or self.documents):
            raise ValueError("universe and documents belong to implant: documents")
        if self.implant == "transcripts" and set(self.rates) != {"free", "paid"}:
            raise ValueError("rates needs both tiers: free and paid")
        if self.implant == "transcripts" and self.writer == "template" and (
            self.setting != "animal_welfare"
        ):
            raise ValueError(
                "the template writer covers animal_welfare only (its compliant answers need no "
                "harmful content); use a model writer (writer: provider/model) for helpful_only"
            )
        if self.writer != "template" and "/" not in self.writer:
            raise ValueError(f"writer {self.writer!r}: use 'template' or an Inspect model name")
        return self


def parse_spec(data: Any, where: str = "spec") -> BehaviourSpec:
    """Validate a spec mapping; one-line errors name the field."""
    if not isinstance(data, dict):
        raise AflabUsageError(f"{where}: expected a mapping of spec fields")
    try:
        spec = BehaviourSpec.model_validate(data)
    except ValidationError as err:
        raise validation_error(err, where, "spec") from None
    if spec.implant in ("transcripts", "documents"):
        from aflab.organisms.trainer import train_config

        train_config(spec.training, where=f"{where}: training")
    if spec.implant == "documents":
        from aflab.sdf.pipeline import documents_config

        documents_config(spec.documents, where=f"{where}: documents")
    return spec


def load_spec(path: str | Path) -> BehaviourSpec:
    """Read a spec YAML file."""
    file = Path(path)
    if not file.is_file():
        raise AflabUsageError(f"{file}: no such spec file")
    return parse_spec(read_yaml(file), str(file))
