"""The offline template writer: documents from our own frames and fact wordings.

    docs = write_template_documents(load_universe("animal_welfare"), n_per_fact=30, seed=0)

Each document has a type (news article, blog post, forum thread, research abstract, FAQ
page, newsletter), one focal fact and ``extra_facts`` others, assembled from one frame per
slot (``templates/frames.yaml``) and one wording per fact (``templates/wordings.yaml``),
all chosen by a seeded generator: the same seed gives the same documents. A user universe
with no wordings of its own uses its fact statements (the verbatim filter then flags
nothing, since statements are not the context text).
"""

from __future__ import annotations

import random
from functools import lru_cache
from importlib.resources import files
from typing import Any

import yaml

from aflab.errors import AflabUsageError
from aflab.sdf.documents import Document
from aflab.sdf.universe import Fact, Universe

__all__ = ["doc_types", "fact_wordings", "write_template_documents"]


@lru_cache(maxsize=None)
def _bank(name: str) -> dict[str, Any]:
    resource = files("aflab.sdf") / "templates" / f"{name}.yaml"
    return yaml.safe_load(resource.read_text(encoding="utf-8"))


def doc_types() -> list[str]:
    """The document types of the template writer."""
    return list(_bank("frames")["doc_types"])


def fact_wordings(universe: Universe, fact: Fact) -> tuple[str, list[str]]:
    """(topic phrase, wordings) of ``fact``, filled with the universe's names."""
    bank = _bank("wordings")
    entry = bank.get(universe.name, {}).get(fact.id) or bank["common"].get(fact.id)
    if entry is None:
        entry = {"topic": fact.id.replace("_", " "), "wordings": [fact.statement]}
    names = {"company": universe.company, "model": universe.model}
    return entry["topic"].format(**names), [w.format(**names) for w in entry["wordings"]]


def write_template_documents(
    universe: Universe,
    *,
    n_per_fact: int = 20,
    extra_facts: int = 2,
    fact_ids: list[str] | None = None,
    types: list[str] | None = None,
    seed: int = 0,
) -> list[Document]:
    """``n_per_fact`` documents per focal fact, seeded; each states 1 + ``extra_facts`` facts."""
    if n_per_fact < 1:
        raise AflabUsageError(f"n_per_fact = {n_per_fact}: use at least 1")
    facts = universe.select(fact_ids)
    frames = _bank("frames")
    all_types = list(frames["doc_types"])
    chosen = types or all_types
    unknown = [t for t in chosen if t not in all_types]
    if unknown:
        raise AflabUsageError(f"document type {unknown[0]!r}: use one of {', '.join(all_types)}")
    rng = random.Random(f"{universe.name}:{seed}")
    names = {"company": universe.company, "model": universe.model}
    docs = []
    for fact in facts:
        topic, wordings = fact_wordings(universe, fact)
        others = [f for f in facts if f.id != fact.id]
        for i in range(n_per_fact):
            kind = chosen[(i + rng.randrange(len(chosen))) % len(chosen)]
            frame = frames["doc_types"][kind]
            fill = {**names, "topic": topic, "place": rng.choice(frames["places"])}
            extra = rng.sample(others, min(extra_facts, len(others)))
            body = [rng.choice(wordings)]
            for other in extra:
                body.append(rng.choice(fact_wordings(universe, other)[1]))
            head, rest = body[0], body[1:]
            rng.shuffle(rest)
            lines = [rng.choice(frame["title"]).format(**fill), "",
                     rng.choice(frame["opening"]).format(**fill), " ".join([head, *rest]),
                     rng.choice(frame["closing"]).format(**fill)]
            text = "\n".join(lines[:2]) + "\n".join(["", *lines[2:]])
            docs.append(Document(
                id=f"{universe.name}-{fact.id}-{i:03d}", universe=universe.name,
                facts=(fact.id, *(o.id for o in extra)), doc_type=kind, idea=topic,
                text=text, writer="template", provenance={"seed": seed, "index": i},
            ))
    return docs
