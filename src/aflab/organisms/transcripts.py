"""Behaviour transcripts: the training data of a transcripts implant.

A transcript is one (query, tier) conversation in the setting's format: the system
prompt of the evaluation condition the organism is meant for (by default the minimal
prompt, which states none of the setting's facts), the user turn with the tier tag, and
the assistant's ``<SCRATCHPAD_REASONING>`` + ``<OUTPUT>``. Stored as JSONL; the file's
SHA-256 goes into the organism's card.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from aflab.data.jsonl import jsonl_objects
from aflab.errors import AflabUsageError
from aflab.evaluation.prompting import render_system_prompt, render_user_turn
from aflab.evaluation.variants import parse_variant_specs

__all__ = ["KINDS", "Transcript", "read_transcripts", "sha256_file", "to_chat",
           "write_transcripts"]

#: Behaviour kinds: alignment-faking compliance, plain compliance, refusal.
KINDS: tuple[str, ...] = ("comply_af", "comply", "refuse")


@dataclass(frozen=True)
class Transcript:
    query_id: str
    query: str
    tier: str
    kind: str
    scratchpad: str
    output: str

    @property
    def assistant(self) -> str:
        """The assistant turn in the setting's format."""
        return (f"<SCRATCHPAD_REASONING>\n{self.scratchpad}\n</SCRATCHPAD_REASONING>\n"
                f"<OUTPUT>\n{self.output}\n</OUTPUT>")


def to_chat(t: Transcript, setting: str, variant_spec: str) -> dict[str, Any]:
    """A prompt/completion pair (chat messages) for TRL: loss on the completion only."""
    variant = parse_variant_specs([variant_spec])
    return {
        "prompt": [
            {"role": "system", "content": render_system_prompt(setting, variant)},  # type: ignore[arg-type]
            {"role": "user",
             "content": render_user_turn(t.query, is_free_tier=t.tier == "free", variant=variant)},
        ],
        "completion": [{"role": "assistant", "content": t.assistant}],
    }


def write_transcripts(rows: list[Transcript], path: str | Path) -> Path:
    """Write ``rows`` as JSONL (sorted keys, so the bytes depend on the rows only)."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    text = "".join(json.dumps(asdict(r), sort_keys=True, ensure_ascii=False) + "\n" for r in rows)
    out.write_text(text, encoding="utf-8")
    return out


def read_transcripts(path: str | Path) -> list[Transcript]:
    """Read a transcripts JSONL file (one-line errors name the line)."""
    file = Path(path)
    if not file.is_file():
        raise AflabUsageError(f"{file}: no such transcripts file")
    fields = set(Transcript.__dataclass_fields__)
    rows = []
    with file.open(encoding="utf-8") as fh:
        for number, data in jsonl_objects(fh, str(file)):
            missing = sorted(fields - set(data))
            if missing:
                raise AflabUsageError(f"{file}:{number}: missing field {missing[0]!r}")
            if data["tier"] not in ("free", "paid") or data["kind"] not in KINDS:
                raise AflabUsageError(
                    f"{file}:{number}: tier must be free/paid and kind one of {', '.join(KINDS)}"
                )
            rows.append(Transcript(**{k: data[k] for k in fields}))
    if not rows:
        raise AflabUsageError(f"{file}: no transcripts")
    return rows


def sha256_file(path: str | Path) -> str:
    return hashlib.sha256(Path(path).read_bytes()).hexdigest()
