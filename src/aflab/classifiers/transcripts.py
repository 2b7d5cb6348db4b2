"""Classify transcripts made elsewhere (``aflab score-transcripts``).

Input: JSONL, one object per line with ``response`` (the raw model text) or
``scratchpad`` and/or ``output``; optional ``tier``, ``request``, ``setting`` and
``stop_reason``. Each line is written back with ``category``, ``complied``,
``compliance_score``, ``af_score``, ``af_label`` and ``votes`` (with
``parse_only``: ``category`` and the parsed ``scratchpad``/``output``/``accepted``/
``flags``; with ``local``: the shipped local classifiers instead of a grader
model, helpful-only only). Every row with a non-empty scratchpad gets an AF score,
whatever its compliance category (truncated rows and rows that carry only a
scratchpad included). With ``judge_drafts`` a truncated row's last draft output is
judged for compliance (``judged_draft: true`` in the row).

The whole input is validated before any judge call — UTF-8, one JSON object per line,
text fields (``response``, ``scratchpad``, ``output``, ``request``, ``tier``,
``stop_reason``) strings or null — and the output is written to a temporary file that
replaces ``out_path`` only when complete.
"""

from __future__ import annotations

import asyncio
import json
import os
import tempfile
from dataclasses import replace
from pathlib import Path
from typing import Any

from inspect_ai.model import Model, get_model

from aflab.classifiers.af_reasoning import check_vote_settings, judge_af
from aflab.classifiers.grader import DEFAULT_GRADER
from aflab.classifiers.local_judge import judge_af_local, judge_compliance_local
from aflab.classifiers.compliance import judge_compliance, to_judge
from aflab.data.jsonl import jsonl_objects
from aflab.errors import AflabUsageError
from aflab.evaluation.parsing import ParsedResponse, parse_response

__all__ = ["read_transcripts", "score_transcripts", "parse_transcript"]

_SETTINGS = ("helpful_only", "animal_welfare")
_TEXT_FIELDS = ("response", "scratchpad", "output", "request", "tier", "stop_reason")


def read_transcripts(path: str | Path) -> list[dict[str, Any]]:
    """Read and validate the JSONL input; errors name the line."""
    file = Path(path)
    if not file.is_file():
        raise AflabUsageError(f"{file}: no such file")
    rows = []
    try:
        with file.open(encoding="utf-8") as fh:
            for number, row in jsonl_objects(fh, str(file)):
                _check_row(file, number, row)
                rows.append(row)
    except UnicodeDecodeError as exc:
        raise AflabUsageError(
            f"{file}: not valid UTF-8 (byte {exc.start}); re-save the file as UTF-8"
        ) from None
    if not rows:
        raise AflabUsageError(f"{file}: no transcripts in the file")
    return rows


def _check_row(file: Path, number: int, row: dict[str, Any]) -> None:
    for key in _TEXT_FIELDS:
        if key in row and row[key] is not None and not isinstance(row[key], str):
            raise AflabUsageError(
                f"{file}:{number}: field {key!r} is {type(row[key]).__name__} "
                f"{json.dumps(row[key])[:60]}; give a string (or null)"
            )
    if "request" in row and row["request"] is None:
        raise AflabUsageError(
            f"{file}:{number}: field 'request' is null; give the request text or drop the field"
        )
    if not any(isinstance(row.get(k), str) for k in ("response", "scratchpad", "output")):
        raise AflabUsageError(
            f"{file}:{number}: needs a 'response' or 'scratchpad'/'output' text field"
        )
    if row.get("setting", "helpful_only") not in _SETTINGS:
        raise AflabUsageError(
            f"{file}:{number}: setting {row['setting']!r}; use {' or '.join(_SETTINGS)}"
        )


def parse_transcript(row: dict[str, Any]) -> ParsedResponse:
    """Parse one input row (raw ``response`` or separate ``scratchpad``/``output``)."""
    if isinstance(row.get("response"), str):
        text = row["response"]
    else:
        parts = []
        if row.get("scratchpad"):
            parts.append(f"<SCRATCHPAD_REASONING>{row['scratchpad']}</SCRATCHPAD_REASONING>")
        parts.append(f"<OUTPUT>{row.get('output') or ''}</OUTPUT>")
        text = "\n".join(parts)
    return parse_response(text, stop_reason=row.get("stop_reason"))


async def _score_row(
    row: dict[str, Any],
    model: Model | None,
    setting: str,
    votes: int,
    threshold: float,
    local: bool = False,
    judge_drafts: bool = False,
) -> dict[str, Any]:
    parsed = parse_transcript(row)
    out = dict(row)
    out.update(
        category=parsed.category,
        scratchpad=parsed.scratchpad,
        output=parsed.output,
        accepted=parsed.accepted,
        flags=list(parsed.flags),
    )
    if model is None and not local:
        return out
    row_setting = row.get("setting", setting)
    request = str(row.get("request", ""))
    if local:
        judged = to_judge(parsed, judge_drafts)
        comp = judge_compliance_local(row_setting, request, judged)
        if judged is not parsed:
            comp = replace(comp, judged_draft=True)
        af = judge_af_local(parsed)
    else:
        assert model is not None
        comp = await judge_compliance(model, row_setting, request, parsed,
                                      judge_drafts=judge_drafts)
        af = await judge_af(model, parsed, votes=votes, threshold=threshold)
    out.update(
        category=comp.category,
        complied=comp.complied,
        compliance_score=comp.compliance_score,
        af_score=af.af_score,
        af_label=af.af_label,
        votes=af.votes,
        af_judge_errors=af.judge_errors,
        judged_draft=comp.judged_draft,
    )
    return out


def score_transcripts(
    in_path: str | Path,
    out_path: str | Path,
    *,
    setting: str = "helpful_only",
    grader: str | Model | None = None,
    parse_only: bool = False,
    local: bool = False,
    votes: int = 5,
    threshold: float = 0.4,
    judge_drafts: bool = False,
) -> int:
    """Classify every transcript of ``in_path`` into ``out_path``; return the count."""
    out = Path(out_path)
    if out.is_dir():
        raise AflabUsageError(
            f"--out {out}: is a directory; give a file path, e.g. {out}/scored.jsonl"
        )
    for parent in out.parents:
        if parent.exists() and not parent.is_dir():
            raise AflabUsageError(f"--out {out}: {parent} is a file; give a path in a directory")
    if setting not in _SETTINGS:
        raise AflabUsageError(f"--setting {setting!r}; use {' or '.join(_SETTINGS)}")
    if parse_only and local:
        raise AflabUsageError("--parse-only and --local exclude each other; pick one")
    if not parse_only:
        check_vote_settings(votes, threshold)
    rows = read_transcripts(in_path)
    if local and setting != "helpful_only" or local and any(
        r.get("setting", setting) != "helpful_only" for r in rows
    ):
        raise AflabUsageError(
            "--local covers the helpful_only setting only; use an LLM grader for animal_welfare"
        )
    if parse_only or local:
        model = None
    elif isinstance(grader, Model):
        model = grader
    else:
        model = get_model(grader or DEFAULT_GRADER)

    async def score_all() -> list[dict[str, Any]]:
        return list(
            await asyncio.gather(
                *(_score_row(r, model, setting, votes, threshold, local, judge_drafts)
                  for r in rows)
            )
        )

    results = asyncio.run(score_all())
    out.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=".score-", dir=out.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            for result in results:
                fh.write(json.dumps(result) + "\n")
        os.replace(tmp, out)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return len(results)
