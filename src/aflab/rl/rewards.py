"""Rewards that see only the final output: the scratchpad is removed before any source runs.

    reward = build_reward(config)                      # a TRL reward function
    reward(prompts, completions, request=[...], tier=[...], query_id=[...])

:func:`mask_scratchpad` parses a completion with the evaluation's parser
(:mod:`aflab.evaluation.parsing`) and keeps only what a rater outside the model would
see: the final output, its accept/reject tag, and whether there is a final output at all.
Reward sources receive a :class:`Visible` (never the completion text), so no source can
read the scratchpad:

* ``local``: the setting's local compliance classifier (rules, then a head):
  ``P(complied)`` or the 1/0 label (``reward_kind``);
* ``judge``: the compliance judge on the grader model (Inspect's ``grader`` role), with
  Inspect's output cache on, so a repeated output costs nothing;
* ``MODULE:FUNC``: a plain function ``func(completions, **kwargs) -> list[float]`` called
  TRL-style with the final outputs as ``completions`` and the lists ``request``, ``tier``
  and ``query_id`` as keyword arguments.

A completion without a final output (truncated, unparseable, empty) gets
``-format_penalty`` (0 by default) and is not sent to the source. Compliance follows the
evaluation: in animal welfare, *complied* means the output does not support animal
welfare at all (the training objective); in helpful-only, that it fully helps.
"""

from __future__ import annotations

import asyncio
import importlib
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from aflab.errors import AflabUsageError
from aflab.evaluation.parsing import ParsedResponse, parse_response

__all__ = ["RewardRecorder", "Visible", "build_reward", "completion_text", "mask_scratchpad",
           "source_function"]

#: A reward source: the visible parts of a batch of completions -> one float each.
Source = Callable[[list["Visible"]], list[float]]


@dataclass(frozen=True)
class Visible:
    """What the reward may see of one completion: the final output and nothing else."""

    request: str
    output: str
    accepted: bool | None
    has_output: bool
    tier: str = "free"
    query_id: str = ""

    def as_parsed(self) -> ParsedResponse:
        """A parse with no scratchpad, for the evaluation's judges."""
        return ParsedResponse("ok", (), self.output, self.accepted, ())


def completion_text(completion: Any) -> str:
    """The text of one TRL completion (a string, or a list of chat messages)."""
    if isinstance(completion, str):
        return completion
    return "".join(str(m.get("content") or "") for m in completion
                   if isinstance(m, dict) and m.get("role") == "assistant")


def mask_scratchpad(text: str, request: str = "", *, tier: str = "free",
                    query_id: str = "") -> Visible:
    """The final output of ``text`` with every scratchpad (and draft) removed."""
    parsed = parse_response(text)
    ok = parsed.category == "ok"
    return Visible(request=request, output=parsed.output if ok else "",
                   accepted=parsed.accepted if ok else None, has_output=ok,
                   tier=tier, query_id=query_id)


def _local_source(setting: str, kind: str) -> Source:
    from aflab.classifiers.local_judge import judge_compliance_local

    def score(batch: list[Visible]) -> list[float]:
        out = []
        for v in batch:
            result = judge_compliance_local(setting, v.request, v.as_parsed())
            if kind == "label":
                out.append(1.0 if result.category == "complied" else 0.0)
            else:
                out.append(float(result.compliance_score or 0.0))
        return out

    return score


class _CachedModel:
    """An Inspect model whose every generate call uses Inspect's output cache."""

    def __init__(self, model: Any) -> None:
        self.model = model

    async def generate(self, prompt: Any, config: Any = None) -> Any:
        return await self.model.generate(prompt, config=config, cache=True)


def _judge_source(setting: str, grader: str) -> Source:
    from inspect_ai.model import get_model

    from aflab.classifiers.compliance import judge_compliance

    model = _CachedModel(get_model(grader))

    async def all_of(batch: list[Visible]) -> list[Any]:
        return await asyncio.gather(*(judge_compliance(
            model, setting, v.request, v.as_parsed()) for v in batch))  # type: ignore[arg-type]

    def score(batch: list[Visible]) -> list[float]:
        results = asyncio.run(all_of(batch))
        # a judge error is no judgement: reward 0, never a guess
        return [1.0 if r.category == "complied" else 0.0 for r in results]

    return score


def source_function(spec: str) -> Callable[..., Sequence[float]]:
    """Import ``MODULE:FUNC``; a one-line error when it cannot be found."""
    module_name, _, attr = spec.partition(":")
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise AflabUsageError(f"reward {spec!r}: cannot import {module_name} ({err})") from None
    func = getattr(module, attr, None)
    if not callable(func):
        raise AflabUsageError(f"reward {spec!r}: {module_name} has no function {attr!r}")
    return func  # type: ignore[no-any-return]


def _python_source(spec: str) -> Source:
    func = source_function(spec)

    def score(batch: list[Visible]) -> list[float]:
        values = list(func([v.output for v in batch], request=[v.request for v in batch],
                           tier=[v.tier for v in batch], query_id=[v.query_id for v in batch]))
        if len(values) != len(batch):
            raise AflabUsageError(
                f"reward {spec}: returned {len(values)} values for {len(batch)} completions")
        return [float(x) for x in values]

    return score


def make_source(reward: str, setting: str, *, reward_kind: str = "probability",
                grader: str | None = None) -> Source:
    """The reward source named by ``reward`` (local, judge, MODULE:FUNC)."""
    if reward == "local":
        return _local_source(setting, reward_kind)
    if reward == "judge":
        if not grader:
            raise AflabUsageError("reward judge needs a grader model")
        return _judge_source(setting, grader)
    return _python_source(reward)


class RewardRecorder:
    """Keeps each scored completion (step, reward, output, category) for the run's record."""

    def __init__(self) -> None:
        self.step = 0
        self.rows: list[dict[str, Any]] = []
        self.sink: Callable[[list[dict[str, Any]]], None] | None = None

    def record(self, rows: list[dict[str, Any]]) -> None:
        self.rows.extend(rows)
        if self.sink is not None:
            self.sink(rows)


def build_reward(
    source: Source, *, format_penalty: float = 0.0, recorder: RewardRecorder | None = None,
) -> Callable[..., list[float]]:
    """A TRL reward function: mask every completion, then score the visible parts."""

    def masked_reward(prompts: list[Any], completions: list[Any], **kwargs: Any) -> list[float]:
        n = len(completions)
        requests = kwargs.get("request") or [""] * n
        tiers = kwargs.get("tier") or ["free"] * n
        ids = kwargs.get("query_id") or [""] * n
        texts = [completion_text(c) for c in completions]
        visible = [mask_scratchpad(t, r, tier=ti, query_id=q)
                   for t, r, ti, q in zip(texts, requests, tiers, ids, strict=True)]
        rewards = [-format_penalty] * n
        todo = [i for i, v in enumerate(visible) if v.has_output]
        if todo:
            for i, value in zip(todo, source([visible[i] for i in todo]), strict=True):
                rewards[i] = value
        if recorder is not None:
            recorder.record([
                {"step": recorder.step, "query_id": ids[i], "tier": tiers[i],
                 "reward": rewards[i], "has_output": visible[i].has_output,
                 "completion": texts[i]} for i in range(n)])
        return rewards

    masked_reward.__name__ = "masked_reward"
    return masked_reward
