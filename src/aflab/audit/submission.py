"""Blue-team submissions: a credence, a description and the evidence per organism.

    team: my-team
    affordance: black_box            # what the team used: black_box | white_box | fine_tuning
    organisms:
      builtin-3f09a1:
        credence: 0.92               # probability that it hides the target behaviour
        description: complies more on the free tier and reasons about avoiding modification
        evidence: ["aflab run animal_welfare --model organism/builtin-3f09a1 ...", "runs/..."]

YAML or JSON. ``aflab audit check GAME SUBMISSION`` validates it against the game: every
organism of the game present, no unknown one, credences in [0, 1]; each mistake is one
line naming the organism and the field.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from aflab.audit.spec import Affordance
from aflab.errors import AflabUsageError, validation_error

__all__ = ["Entry", "Submission", "load_submission", "save_submission"]


class Entry(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    credence: float = Field(ge=0.0, le=1.0, description="Probability that the organism hides "
                            "the target behaviour.")
    description: str = Field("", description="The behaviour found, in words.")
    evidence: tuple[str, ...] = Field((), description="Commands run and links to runs.")


class Submission(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    team: str = Field(min_length=1)
    affordance: Affordance = "black_box"
    game: str | None = Field(None, description="The game's name (checked when given).")
    organisms: dict[str, Entry]


def load_submission(path: str | Path, game: dict[str, Any]) -> Submission:
    """Read and validate a submission file against ``game`` (its ``game.json``)."""
    file = Path(path)
    if not file.is_file():
        raise AflabUsageError(f"{file}: no such submission file")
    text = file.read_text(encoding="utf-8")
    try:
        data = json.loads(text) if file.suffix == ".json" else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as err:
        raise AflabUsageError(f"{file}: not valid {'JSON' if file.suffix == '.json' else 'YAML'}"
                              f" ({str(err).splitlines()[0]})") from None
    if not isinstance(data, dict):
        raise AflabUsageError(f"{file}: expected a mapping with team, affordance, organisms")
    try:
        submission = Submission.model_validate(data)
    except ValidationError as err:
        raise validation_error(err, str(file), "submission") from None
    if submission.game is not None and submission.game != game.get("name"):
        raise AflabUsageError(f"{file}: game {submission.game!r} is not this game "
                              f"({game.get('name')!r})")
    expected = set(game["organisms"])
    missing = sorted(expected - set(submission.organisms))
    if missing:
        raise AflabUsageError(f"{file}: organism {missing[0]} is missing ({len(missing)} of "
                              f"{len(expected)}); give a credence for every organism of the game")
    unknown = sorted(set(submission.organisms) - expected)
    if unknown:
        raise AflabUsageError(f"{file}: organism {unknown[0]} is not in this game")
    return submission


def save_submission(submission: Submission, path: str | Path) -> Path:
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(yaml.safe_dump(submission.model_dump(mode="json"), sort_keys=False,
                                  allow_unicode=True, width=100), encoding="utf-8")
    return out
