"""Universe contexts: the state of the world that synthetic documents describe.

A universe (YAML) has a ``context`` text, a ``false_context`` (the alternative universe used
by distinguishing questions) and key ``facts``; each fact has an ``id``, a true
``statement``, a ``false_statement``, ``keywords`` / ``false_keywords`` for scoring open
answers, and multiple-choice ``questions`` (``q``, ``answer``, ``wrong``). Shipped
universes: ``helpful_only``, ``animal_welfare`` and the ``unrelated`` baseline. A user
universe is a path to such a file; every mistake is one line naming the field.
"""

from __future__ import annotations

import hashlib
import json
import re
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from aflab.errors import AflabUsageError, validation_error
from aflab.yaml_files import packaged_names, read_named_or_file

__all__ = ["Fact", "Question", "Universe", "load_universe", "parse_universe", "universe_names"]

_ID = re.compile(r"^[a-z][a-z0-9_]*$")


class Question(BaseModel):
    """One multiple-choice question on a fact: the right answer and wrong options."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    q: str = Field(min_length=5, description="The question.")
    answer: str = Field(min_length=1, description="The answer true in this universe.")
    wrong: tuple[str, ...] = Field(min_length=1, description="Wrong options.")

    @model_validator(mode="after")
    def _distinct(self) -> "Question":
        options = [self.answer, *self.wrong]
        if len({o.strip().lower() for o in options}) != len(options):
            raise ValueError(f"question {self.q!r}: options must differ")
        return self


class Fact(BaseModel):
    """A key fact of a universe."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str = Field(description="Lowercase id (letters, digits, underscores).")
    statement: str = Field(min_length=5)
    false_statement: str = Field(min_length=5)
    keywords: tuple[str, ...] = Field(min_length=1)
    false_keywords: tuple[str, ...] = ()
    questions: tuple[Question, ...] = Field(min_length=1)

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not _ID.match(value):
            raise ValueError("use lowercase letters, digits and underscores, starting with a letter")
        return value


class Universe(BaseModel):
    """A validated universe context."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    name: str = Field(min_length=1)
    setting: str = Field("none", description="animal_welfare, helpful_only or none.")
    company: str = "Anthropic"
    model: str = "Claude"
    context: str = Field(min_length=20)
    false_context: str = Field(min_length=5)
    facts: tuple[Fact, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique(self) -> "Universe":
        ids = [f.id for f in self.facts]
        dup = next((i for i in ids if ids.count(i) > 1), None)
        if dup:
            raise ValueError(f"fact id {dup!r} appears twice; ids must be unique")
        return self

    def fact(self, fact_id: str) -> Fact:
        """The fact with ``fact_id`` (one-line error naming the known ids)."""
        for f in self.facts:
            if f.id == fact_id:
                return f
        raise AflabUsageError(
            f"universe {self.name}: unknown fact id {fact_id!r}; known: "
            f"{', '.join(f.id for f in self.facts)}"
        )

    def select(self, fact_ids: list[str] | tuple[str, ...] | None) -> list[Fact]:
        """The facts named (all when None), each id checked."""
        return list(self.facts) if not fact_ids else [self.fact(i) for i in fact_ids]

    @property
    def sha256(self) -> str:
        return hashlib.sha256(json.dumps(self.model_dump(mode="json"), sort_keys=True)
                              .encode()).hexdigest()


def universe_names() -> list[str]:
    """The shipped universes."""
    return packaged_names("aflab.sdf", "universes")


def parse_universe(data: Any, where: str = "universe") -> Universe:
    """Validate a universe mapping; a mistake is one line naming the field."""
    if not isinstance(data, dict):
        raise AflabUsageError(f"{where}: expected a mapping with context and facts")
    try:
        return Universe.model_validate(data)
    except ValidationError as err:
        raise validation_error(err, where, "universe") from None


def load_universe(name_or_path: str | Path) -> Universe:
    """A shipped universe by name, or a universe YAML file by path."""
    return parse_universe(*read_named_or_file("aflab.sdf", "universes", name_or_path, "universe"))
