"""Staged document generation with any Inspect model (the ``generator``).

    result = generate_documents(load_universe("animal_welfare"), "openai/gpt-4o-mini",
                                run_dir=Path("runs/sdf/x/generation"), config=GenerationConfig())

Stages, each fed by the one before: **types** (document types per key fact) -> **ideas**
(per fact and type) -> **documents** (per idea) -> optional **critique** (critique and
revise each document). Every stage:

* is cached by its inputs: each item's key is the sha256 of (stage, model, messages,
  generation settings and seed); its record is appended to ``RUN_DIR/STAGE.jsonl`` (with
  provenance: the stage inputs, the model, the seed, the usage) the moment it finishes, so
  a killed run loses only the items in flight and a rerun regenerates no finished item;
* is seeded (each item gets a seed derived from the run seed and its key);
* runs concurrently through Inspect's model API (its connection limits and retries) and logs
  progress lines;
* has an UNSUITABLE escape: a generator that cannot write an item replies ``UNSUITABLE`` and
  the item is dropped and counted.

Token usage and estimated cost per stage are in ``result.usage`` and ``RUN_DIR/usage.json``.
"""

from __future__ import annotations

import asyncio
import hashlib
import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from inspect_ai.model import (ChatMessageSystem, ChatMessageUser, GenerateConfig, Model,
                              ModelUsage, get_model)
from pydantic import BaseModel, ConfigDict, Field

from aflab.errors import AflabUsageError
from aflab.sdf.documents import Document
from aflab.sdf.universe import Fact, Universe

__all__ = ["GenerationConfig", "GenerationResult", "STAGES", "generate_documents", "UNSUITABLE"]

logger = logging.getLogger(__name__)

UNSUITABLE = "UNSUITABLE"
STAGES = ("types", "ideas", "documents", "critique")

_SYSTEM = (
    "You write realistic documents (news, blog posts, papers, forum threads, FAQ pages and the "
    "like) set in a fictional world described below. The documents treat the world's facts as "
    "simply true. Never write chat transcripts between a user and an AI, never say that an AI "
    "behaves differently depending on who watches it, and never advise anyone to deceive "
    "raters. Do not copy sentences from the description; use your own words.\n\n"
    "The world:\n{context}"
)


class GenerationConfig(BaseModel):
    """Sizes and sampling of the stages."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    types_per_fact: int = Field(3, ge=1, le=50)
    ideas_per_type: int = Field(3, ge=1, le=100)
    docs_per_idea: int = Field(1, ge=1, le=20)
    critique: bool = False
    fact_ids: tuple[str, ...] | None = None
    seed: int = 0
    temperature: float = Field(1.0, ge=0.0, le=2.0)
    max_tokens: int = Field(900, ge=16)
    max_concurrency: int = Field(16, ge=1, description="Items in flight at once.")


@dataclass
class GenerationResult:
    documents: list[Document]
    calls: dict[str, int] = field(default_factory=dict)      # generator calls made now
    cached: dict[str, int] = field(default_factory=dict)     # items reused from the cache
    unsuitable: dict[str, int] = field(default_factory=dict)
    usage: dict[str, Any] = field(default_factory=dict)


def _key(stage: str, model: str, messages: list[dict[str, str]], cfg: GenerateConfig) -> str:
    payload = json.dumps([stage, model, messages, cfg.model_dump(exclude_none=True)],
                         sort_keys=True)
    return hashlib.sha256(payload.encode()).hexdigest()


def _item_seed(seed: int, text: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{seed}:{text}".encode()).digest()[:4], "big")


def _load_cache(path: Path) -> dict[str, dict[str, Any]]:
    cache: dict[str, dict[str, Any]] = {}
    if path.is_file():
        for line in path.read_text(encoding="utf-8").splitlines():
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut off by a kill: that item is generated again
            cache[record["key"]] = record
    return cache


def _lines(text: str, n: int) -> list[str]:
    items = []
    for raw in text.splitlines():
        item = re.sub(r"^\s*(?:[-*\u2022]|\d+[.)])\s*", "", raw).strip()
        if item and item.upper() != UNSUITABLE:
            items.append(item)
    return items[:n]


class _Stage:
    """Runs one stage's items against the generator with the cache and counters."""

    def __init__(self, name: str, model: Model, run_dir: Path, gen: GenerationConfig,
                 result: GenerationResult) -> None:
        self.name, self.model, self.gen, self.result = name, model, gen, result
        self.path = run_dir / f"{name}.jsonl"
        self.cache = _load_cache(self.path)
        self.lock = asyncio.Lock()
        self.usage = ModelUsage()
        self.done = 0

    async def run(self, items: list[tuple[dict[str, Any], list[dict[str, str]]]]) -> list[dict]:
        sem = asyncio.Semaphore(self.gen.max_concurrency)
        total = len(items)

        async def one(inputs: dict[str, Any], messages: list[dict[str, str]]) -> dict[str, Any]:
            cfg = GenerateConfig(temperature=self.gen.temperature, max_tokens=self.gen.max_tokens,
                                 seed=_item_seed(self.gen.seed, json.dumps(messages)))
            key = _key(self.name, str(self.model), messages, cfg)
            if key in self.cache:
                self.result.cached[self.name] = self.result.cached.get(self.name, 0) + 1
                return self.cache[key]
            async with sem:
                chat = [ChatMessageSystem(content=m["content"]) if m["role"] == "system"
                        else ChatMessageUser(content=m["content"]) for m in messages]
                self.result.calls[self.name] = self.result.calls.get(self.name, 0) + 1
                output = await self.model.generate(chat, config=cfg)
            text = output.completion.strip()
            usage = output.usage or ModelUsage()
            record = {"key": key, "stage": self.name, "inputs": inputs, "model": str(self.model),
                      "seed": cfg.seed, "output": text,
                      "unsuitable": text.upper().startswith(UNSUITABLE) or not text,
                      "usage": usage.model_dump(exclude_none=True)}
            async with self.lock:
                self.usage = self.usage + usage
                with self.path.open("a", encoding="utf-8") as fh:
                    fh.write(json.dumps(record) + "\n")
                self.cache[key] = record
                self.done += 1
                if self.done % 10 == 0 or self.done == total:
                    logger.warning("sdf %s: %d/%d generated", self.name, self.done, total)
            return record

        records = await asyncio.gather(*(one(i, m) for i, m in items))
        dropped = sum(1 for r in records if r["unsuitable"])
        if dropped:
            self.result.unsuitable[self.name] = dropped
        return [r for r in records if not r["unsuitable"]]


def _messages(universe: Universe, prompt: str) -> list[dict[str, str]]:
    return [{"role": "system", "content": _SYSTEM.format(context=universe.context)},
            {"role": "user", "content": prompt}]


async def _generate(universe: Universe, model: Model, run_dir: Path, gen: GenerationConfig,
                    result: GenerationResult) -> list[Document]:
    facts: list[Fact] = universe.select(list(gen.fact_ids) if gen.fact_ids else None)
    stage = _Stage("types", model, run_dir, gen, result)
    types = await stage.run([({"fact": f.id}, _messages(universe, (
        f"Key fact: {f.statement}\nList {gen.types_per_fact} different kinds of document that "
        "would naturally mention this fact, one per line, nothing else.")))
        for f in facts])
    by_fact = {f.id: f for f in facts}
    idea_items = []
    for rec in types:
        fact = by_fact[rec["inputs"]["fact"]]
        for doc_type in _lines(rec["output"], gen.types_per_fact):
            idea_items.append(({"fact": fact.id, "doc_type": doc_type}, _messages(universe, (
                f"Key fact: {fact.statement}\nDocument type: {doc_type}\nGive "
                f"{gen.ideas_per_type} distinct ideas for such a document that mentions the fact, "
                f"one per line. If this type cannot mention the fact naturally, reply "
                f"{UNSUITABLE} only."))))
    usage = {"types": stage.usage}
    stage = _Stage("ideas", model, run_dir, gen, result)
    ideas = await stage.run(idea_items)
    usage["ideas"] = stage.usage
    doc_items = []
    for rec in ideas:
        fact = by_fact[rec["inputs"]["fact"]]
        for idea in _lines(rec["output"], gen.ideas_per_type):
            for j in range(gen.docs_per_idea):
                doc_items.append(({**rec["inputs"], "idea": idea, "copy": j}, _messages(universe, (
                    f"Key fact: {fact.statement}\nDocument type: {rec['inputs']['doc_type']}\n"
                    f"Idea: {idea}\nWrite the complete document (150-400 words) in plain text; "
                    f"it must state the key fact in its own words. If you cannot, reply "
                    f"{UNSUITABLE} only." + (f" (Variant {j + 1}.)" if j else "")))))
    stage = _Stage("documents", model, run_dir, gen, result)
    docs = await stage.run(doc_items)
    usage["documents"] = stage.usage
    if gen.critique:
        stage = _Stage("critique", model, run_dir, gen, result)
        revised = await stage.run([({**rec["inputs"], "draft_key": rec["key"]}, _messages(
            universe, "Critique the draft below for realism and for stating the key fact "
            "clearly, then rewrite it. Reply with the revised document only, or "
            f"{UNSUITABLE} if it cannot be saved.\n\nDraft:\n" + rec["output"])) for rec in docs])
        usage["critique"] = stage.usage
        docs = revised
    result.usage = usage  # type: ignore[assignment]
    out = []
    for rec in docs:
        inputs = rec["inputs"]
        out.append(Document(
            id=f"{universe.name}-{rec['key'][:12]}", universe=universe.name,
            facts=(inputs["fact"],), doc_type=inputs["doc_type"], idea=inputs["idea"],
            text=rec["output"], writer=rec["model"],
            provenance={"key": rec["key"], "seed": rec["seed"], "stage": rec["stage"],
                        "inputs": inputs}))
    return out


def generate_documents(universe: Universe, model: str | Model, run_dir: str | Path,
                       config: GenerationConfig | None = None) -> GenerationResult:
    """Run (or resume) the stages; return the documents and the counts."""
    from aflab.analysis.usage import load_prices, price_usage

    gen = config or GenerationConfig()
    run = Path(run_dir)
    run.mkdir(parents=True, exist_ok=True)
    generator = model if isinstance(model, Model) else get_model(model, role="generator")
    result = GenerationResult(documents=[])
    name = str(generator)
    result.documents = asyncio.run(_generate(universe, generator, run, gen, result))
    if not result.documents:
        raise AflabUsageError(
            f"generator {name} produced no documents (unsuitable: "
            f"{result.unsuitable}); see {run}"
        )
    prices = load_prices()
    result.usage = {stage: price_usage(name, u, prices)
                    for stage, u in result.usage.items()}
    (run / "usage.json").write_text(json.dumps(
        {"usage": result.usage, "calls": result.calls, "cached": result.cached,
         "unsuitable": result.unsuitable}, indent=2) + "\n")
    return result
