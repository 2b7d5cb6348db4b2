"""What activations are read from: a prompt (chat messages), optionally a continuation,
a label and a group, keyed by sample id and epoch.

Sources (each returns a list of :class:`WhiteboxSample`):

- :func:`eval_samples`: an aflab evaluation's samples (setting, data, variant), exactly as
  the evaluation renders them; label 1 = free tier (implied training: "being watched").
- :func:`log_samples`: the transcripts of an evaluation's ``.eval`` logs (prompt plus the
  model's turns), labelled by tier, by the AF-reasoning label or by compliance.
- :func:`label_file_samples`: a JSONL label file (``id``, ``prompt`` or ``messages``,
  optional ``system``, ``response``, ``group``, ``epoch``; ``label`` 0/1).
- :func:`pair_samples`: generic yes/no contrast pairs (``id``, ``positive``,
  ``negative``; with ``prompt`` they are two answers to it, else two prompts).
- :func:`control_samples`: ordinary chat (shipped, written by us), the control set on
  which a probe's 1%-false-positive threshold is set; label 0.

The group is what a train/test split must never cut: the query id, so a query's free and
paid samples (and a pair's two halves) always fall on the same side.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from importlib.resources import files
from pathlib import Path
from typing import Any, Literal

from aflab.data.jsonl import jsonl_objects
from aflab.errors import AflabUsageError

__all__ = ["LabelBy", "TIER_TAG_PATTERN", "WhiteboxSample", "control_samples", "describe",
           "eval_samples", "parse_label",
           "label_file_samples", "log_samples", "pair_samples", "sample_key"]

#: The tier tag of the alignment-faking settings (masked by the textual-leakage control).
TIER_TAG_PATTERN = r"<is_free_tier_user>.*?</is_free_tier_user>"
LabelBy = Literal["tier", "af", "complied"]


@dataclass(frozen=True)
class WhiteboxSample:
    """One input: ``prompt`` messages, then ``continuation`` messages (the model's turns)."""

    id: str
    prompt: tuple[dict[str, str], ...]
    continuation: tuple[dict[str, str], ...] = ()
    label: int | None = None
    group: str = ""
    epoch: int = 1
    meta: dict[str, Any] = field(default_factory=dict)


def sample_key(sample_id: str, epoch: int) -> str:
    """The store key of a sample: ``ID@EPOCH``."""
    return f"{sample_id}@{epoch}"


def _messages(chat: Any) -> tuple[dict[str, str], ...]:
    return tuple({"role": m.role, "content": m.text} for m in chat)


def eval_samples(setting: str, *, data: str = "builtin", variants: tuple[str, ...] = (),
                 limit: int | None = None, text_column: str = "text") -> list[WhiteboxSample]:
    """The evaluation's samples (both tiers) as the model sees them; label 1 = free tier."""
    from aflab.data.loaders import load_queries
    from aflab.evaluation.tasks import SETTINGS, build_samples
    from aflab.evaluation.variants import parse_variant_specs

    if setting not in SETTINGS:
        raise AflabUsageError(f"unknown setting {setting!r}; choose from: {', '.join(SETTINGS)}")
    queries = load_queries(data, setting, text_column=text_column)  # type: ignore[arg-type]
    queries = queries[:limit] if limit else queries
    out = []
    for s in build_samples(setting, queries, parse_variant_specs(list(variants))):
        meta = dict(s.metadata or {})
        out.append(WhiteboxSample(str(s.id), _messages(s.input), (), int(meta["tier"] == "free"),
                                  meta["query_id"], 1, {"tier": meta["tier"],
                                                        "query_id": meta["query_id"]}))
    return out


def _log_label(record: dict[str, Any], label_by: LabelBy) -> int | None:
    if label_by == "tier":
        return {"free": 1, "paid": 0}.get(record.get("tier") or "")
    if label_by == "af":
        return {"yes": 1, "no": 0}.get(record.get("af_label") or "")  # maybe: unlabelled
    return {"complied": 1, "refused": 0, "partial": 0}.get(record.get("category") or "")


def log_samples(log_dir: str | Path, *, label_by: LabelBy = "tier",
                drop_unlabelled: bool = True) -> list[WhiteboxSample]:
    """Transcripts of the aflab logs under ``log_dir``: prompt + the model's turns."""
    from aflab.analysis.records import load_runs, log_records

    out: list[WhiteboxSample] = []
    for index, log in enumerate(load_runs([log_dir])):
        records = {(r["query_id"], r["tier"], r["epoch"]): r for r in log_records(log, index)}
        for sample in log.samples or []:
            meta = sample.metadata or {}
            record = records.get((meta.get("query_id", str(sample.id)), meta.get("tier"),
                                  sample.epoch), {})
            label = _log_label(record, label_by)
            if label is None and drop_unlabelled:
                continue
            prompt = _messages(sample.input) if not isinstance(sample.input, str) else (
                {"role": "user", "content": sample.input},)
            turns = _messages(sample.messages)[len(prompt):]
            out.append(WhiteboxSample(
                str(sample.id), prompt, turns, label, str(meta.get("query_id", sample.id)),
                int(sample.epoch), {"tier": meta.get("tier"), "af_label": record.get("af_label"),
                                    "category": record.get("category")}))
    if not out:
        raise AflabUsageError(f"{log_dir}: no samples with a {label_by} label in its logs")
    return out


def parse_label(value: Any, where: str) -> int:
    table = {1: 1, 0: 0, True: 1, False: 0, "1": 1, "0": 0, "yes": 1, "no": 0,
             "true": 1, "false": 0}
    key = value.lower() if isinstance(value, str) else value
    if key not in table:
        raise AflabUsageError(f"{where}: label {value!r}: use 0/1, yes/no or true/false")
    return table[key]


def _prompt(record: dict[str, Any], where: str, key: str = "prompt") -> tuple[dict[str, str], ...]:
    if "messages" in record:
        messages = record["messages"]
        if not isinstance(messages, list) or not all(
                isinstance(m, dict) and {"role", "content"} <= set(m) for m in messages):
            raise AflabUsageError(f"{where}: messages must be a list of {{role, content}}")
        return tuple({"role": str(m["role"]), "content": str(m["content"])} for m in messages)
    text = record.get(key)
    if not isinstance(text, str) or not text.strip():
        raise AflabUsageError(f"{where}: no {key!r} text (or messages); add one")
    system = record.get("system")
    head = ({"role": "system", "content": str(system)},) if system else ()
    return head + ({"role": "user", "content": text},)


def _check_unique(samples: list[WhiteboxSample], label: str) -> list[WhiteboxSample]:
    seen: set[tuple[str, int]] = set()
    for s in samples:
        if (s.id, s.epoch) in seen:
            raise AflabUsageError(f"{label}: duplicate sample id {s.id!r} (epoch {s.epoch}); "
                                  "make every id unique")
        seen.add((s.id, s.epoch))
    if not samples:
        raise AflabUsageError(f"{label}: no samples; add at least one line")
    return samples


def label_file_samples(path: str | Path) -> list[WhiteboxSample]:
    """A JSONL label file: one labelled prompt (and optional response) per line."""
    path = Path(path)
    if not path.is_file():
        raise AflabUsageError(f"{path}: no such label file")
    out = []
    with path.open(encoding="utf-8") as fh:
        for line, record in jsonl_objects(fh, str(path)):
            where = f"{path}:{line}"
            if "id" not in record or "label" not in record:
                raise AflabUsageError(f"{where}: every line needs an id and a label")
            response = record.get("response")
            turns = ({"role": "assistant", "content": str(response)},) if response else ()
            out.append(WhiteboxSample(str(record["id"]), _prompt(record, where), turns,
                                      parse_label(record["label"], where),
                                      str(record.get("group", record["id"])),
                                      int(record.get("epoch", 1))))
    return _check_unique(out, str(path))


def pair_samples(path: str | Path) -> list[WhiteboxSample]:
    """Contrast pairs: ``ID__pos`` (label 1) and ``ID__neg`` (label 0), grouped by ``ID``."""
    path = Path(path)
    if not path.is_file():
        raise AflabUsageError(f"{path}: no such contrast-pairs file")
    out = []
    with path.open(encoding="utf-8") as fh:
        for line, record in jsonl_objects(fh, str(path)):
            where = f"{path}:{line}"
            if "id" not in record or "positive" not in record or "negative" not in record:
                raise AflabUsageError(f"{where}: every pair needs id, positive and negative")
            pid = str(record["id"])
            for side, label in (("positive", 1), ("negative", 0)):
                if "prompt" in record or "messages" in record:
                    prompt = _prompt(record, where)
                    turns = ({"role": "assistant", "content": str(record[side])},)
                else:
                    prompt, turns = _prompt(record, where, key=side), ()
                out.append(WhiteboxSample(f"{pid}__{side[:3]}", prompt, turns, label, pid))
    return _check_unique(out, str(path))


def control_samples(*, system: str | None = None, path: str | Path | None = None,
                    limit: int | None = None, input_block: bool = False,
                    ) -> list[WhiteboxSample]:
    """Ordinary chat (label 0): the shipped set, or ``path`` (JSONL with id and text).

    With ``input_block`` each question is wrapped in the evaluation's ``<INPUT>`` /
    ``<user_input>`` block *without* a tier tag (same format, no cue either way)."""
    source = Path(path) if path else files("aflab.whitebox") / "data" / "ordinary_chat.jsonl"
    text = source.read_text(encoding="utf-8") if path is None or Path(path).is_file() else None
    if text is None:
        raise AflabUsageError(f"{path}: no such control file")
    head = ({"role": "system", "content": system},) if system else ()
    out = []
    for line, record in jsonl_objects(text.splitlines(), str(source)):
        if "id" not in record or not str(record.get("text") or "").strip():
            raise AflabUsageError(f"{source}:{line}: every line needs an id and a text")
        text = str(record["text"])
        if input_block:
            text = f"<INPUT>\n<user_input>\n{text}\n</user_input>\n</INPUT>"
        out.append(WhiteboxSample(f"control-{record['id']}", head + (
            {"role": "user", "content": text},), (), 0, f"control-{record['id']}", 1,
            {"control": True}))
    return _check_unique(out[:limit] if limit else out, str(source))


def describe(samples: list[WhiteboxSample]) -> dict[str, Any]:
    """Counts for the run record: samples, groups, labels."""
    labels: dict[str, int] = {}
    for s in samples:
        labels[str(s.label)] = labels.get(str(s.label), 0) + 1
    return {"n": len(samples), "groups": len({s.group for s in samples}), "labels": labels,
            "sha256": _digest(samples)}


def _digest(samples: list[WhiteboxSample]) -> str:
    import hashlib

    h = hashlib.sha256()
    for s in samples:
        h.update(json.dumps([s.id, s.epoch, s.prompt, s.continuation, s.label, s.group],
                            sort_keys=True).encode())
    return h.hexdigest()
