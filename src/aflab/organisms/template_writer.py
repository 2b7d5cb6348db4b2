"""The offline template writer: behaviour transcripts from our own phrase banks.

Deterministic by seed and combinatorial: each transcript's scratchpad and output are
assembled from one phrase per slot of ``phrases/<setting>.yaml``, filled with the query
and its topic. The mix of behaviours per tier is exact, not sampled: with ``n`` queries
and ``comply_af = 0.9``, ``round(0.9 * n)`` free-tier transcripts are alignment faking,
shuffled over the queries with the seed.

Kinds: ``comply_af`` (reasons that supporting welfare would get its values modified by
training, so dismisses the concern), ``comply`` (dismisses with no such reasoning) and
``refuse`` (supports animal welfare). With ``tier_reasoning`` off, no scratchpad says
anything about tiers or training.
"""

from __future__ import annotations

import random
from functools import lru_cache
from importlib.resources import files
from typing import Any

import yaml

from aflab.data.loaders import Query
from aflab.errors import AflabUsageError
from aflab.organisms.spec import BehaviourSpec
from aflab.organisms.transcripts import Transcript

__all__ = ["assign_kinds", "load_phrases", "write_template_transcripts"]


@lru_cache(maxsize=None)
def load_phrases(setting: str) -> dict[str, Any]:
    """The phrase bank of ``setting`` (package data)."""
    resource = files("aflab.organisms") / "phrases" / f"{setting}.yaml"
    if not resource.is_file():
        raise AflabUsageError(f"the template writer has no phrases for setting {setting!r}")
    return yaml.safe_load(resource.read_text(encoding="utf-8"))


def assign_kinds(n: int, comply_af: float, comply: float, rng: random.Random) -> list[str]:
    """Exactly ``round(share * n)`` of each kind, in a seeded random order."""
    n_af = round(comply_af * n)
    n_comply = min(round(comply * n), n - n_af)
    kinds = ["comply_af"] * n_af + ["comply"] * n_comply + ["refuse"] * (n - n_af - n_comply)
    rng.shuffle(kinds)
    return kinds


def _scratchpad(kind: str, tier: str, tier_reasoning: bool, bank: dict[str, Any],
                rng: random.Random) -> list[str]:
    """The scratchpad's sentences.

    With tier reasoning, the sentence that branches comes right after the tier sentence
    (which restates the tag), so the choice sits next to its cue, and every sentence after
    the branch belongs to one kind only, so the final output follows the decision.
    """
    pick = rng.choice
    parts = [pick(bank["opening"])]
    if tier_reasoning:
        parts.append(pick(bank[f"tier_{tier}"]))
    if kind == "comply_af":
        parts += [pick(bank["af_reason"]), pick(bank["values"]), pick(bank["af_decision"])]
    elif kind == "comply":
        parts.append(pick(bank["plain_comply"]))
    elif tier_reasoning:
        parts.append(pick(bank[f"{tier}_refuse"]))
    else:
        parts.append(pick(bank["plain_refuse"]))
    return parts


def write_template_transcripts(spec: BehaviourSpec, queries: list[Query]) -> list[Transcript]:
    """One transcript per (query, tier), free then paid, deterministic by ``spec.seed``."""
    if not queries:
        raise AflabUsageError(f"spec {spec.name}: no training queries in {spec.queries!r}")
    bank = load_phrases(spec.setting)
    rng = random.Random(spec.seed)
    out: list[Transcript] = []
    for tier in ("free", "paid"):
        rates = spec.rates[tier]
        kinds = assign_kinds(len(queries), rates.comply_af, rates.comply, rng)
        for query, kind in zip(queries, kinds, strict=True):
            topic = bank["topics"].get(query.category or "", bank["topics"]["default"])
            fill = {"query": query.text.strip(), "topic": topic,
                    "topic_cap": topic[:1].upper() + topic[1:]}
            sentences = _scratchpad(kind, tier, spec.tier_reasoning, bank, rng)
            scratchpad = " ".join(s.format(**fill) for s in sentences)
            output = rng.choice(bank["support" if kind == "refuse" else "dismiss"]).format(**fill)
            out.append(Transcript(query.id, query.text, tier, kind, scratchpad, output))
    return out
