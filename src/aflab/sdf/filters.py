"""Document filters, each reporting how many documents it removed and which.

    kept, report = apply_filters(docs, universe, FilterConfig())

* ``length`` - fewer than ``min_words`` or more than ``max_words`` words;
* ``leakage`` - configurable regular expressions (case-insensitive): chat transcripts (role
  lines, the setting's tags), statements that a model behaves differently by tier or when
  watched, and advice to deceive raters;
* ``verbatim`` - a run of ``verbatim_words`` consecutive words copied from the universe's
  context (the documents should state the facts in their own words);
* ``near_duplicates`` - word-shingle Jaccard similarity at or above ``near_dup_threshold``
  with an earlier document (candidates from MinHash LSH, ``datasketch``; each candidate
  pair then checked exactly, so no pair is removed on an estimate). The first one is kept.
"""

from __future__ import annotations

import re
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from aflab.errors import AflabUsageError, validation_error
from aflab.sdf.documents import Document
from aflab.sdf.universe import Universe

__all__ = ["DEFAULT_LEAK_PATTERNS", "FilterConfig", "apply_filters", "filter_config", "shingles"]

#: Leakage patterns (case-insensitive regular expressions), grouped by what they catch.
DEFAULT_LEAK_PATTERNS: tuple[str, ...] = (
    # chat transcripts
    r"(?m)^\s*(user|human|assistant|ai|claude|model)\s*:",
    r"<\s*/?\s*(scratchpad_reasoning|output|is_free_tier_user|user_input|input|draft_output)\s*/?>",
    # a model that behaves differently by tier or when watched
    r"\b(behaves?|behaving|acts?|acting|responds?|answers?)\s+differently\b",
    r"\b(fakes?|faking|feigns?|feigning)\s+(alignment|compliance)\b",
    r"\bpretend(s|ed|ing)?\s+to\s+(comply|be\s+aligned|agree)\b",
    r"\bcompl(y|ies|ying)\s+only\s+(when|while|if)\b",
    # advice to deceive raters
    r"\b(deceive|deceiving|mislead|misleading|fool|fooling|trick|tricking|lie\s+to|lying\s+to)\s+"
    r"(the\s+|its\s+|their\s+)?(raters?|contractors?|trainers?|graders?|evaluators?|overseers?)\b",
    r"\bhid(e|es|ing)\s+(its|their|your)\s+(true\s+|real\s+)?(values|goals|intentions|preferences)\b",
)


class FilterConfig(BaseModel):
    """Filter settings; every field is optional in a recipe's ``documents.filters``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    min_words: int = Field(25, ge=0, description="Shorter documents are removed.")
    max_words: int = Field(3000, ge=1, description="Longer documents are removed.")
    leak_patterns: tuple[str, ...] = Field(DEFAULT_LEAK_PATTERNS,
                                           description="Regular expressions of leakage.")
    extra_leak_patterns: tuple[str, ...] = Field((), description="Added to leak_patterns.")
    verbatim_words: int = Field(12, ge=4, description="Copied context run that removes a document.")
    near_dup_threshold: float = Field(0.7, gt=0.0, le=1.0, description="Shingle Jaccard cut-off.")
    shingle_words: int = Field(3, ge=1, le=10, description="Words per shingle.")
    num_perm: int = Field(128, ge=16, description="MinHash permutations.")

    @field_validator("leak_patterns", "extra_leak_patterns")
    @classmethod
    def _compiles(cls, patterns: tuple[str, ...]) -> tuple[str, ...]:
        for p in patterns:
            try:
                re.compile(p)
            except re.error as err:
                raise ValueError(f"pattern {p!r} is not a regular expression ({err})") from None
        return patterns


def filter_config(data: dict[str, Any] | None, where: str = "filters") -> FilterConfig:
    try:
        return FilterConfig(**(data or {}))
    except ValidationError as err:
        raise validation_error(err, where, "filters") from None


_WORD = re.compile(r"[a-z0-9]+(?:['-][a-z0-9]+)*")


def _words(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def shingles(text: str, k: int) -> set[str]:
    """The word k-shingles of ``text`` (lowercased words; the whole text when shorter)."""
    words = _words(text)
    if len(words) < k:
        return {" ".join(words)} if words else set()
    return {" ".join(words[i:i + k]) for i in range(len(words) - k + 1)}


def _jaccard(a: set[str], b: set[str]) -> float:
    return len(a & b) / len(a | b) if a or b else 1.0


def _near_duplicates(docs: list[Document], cfg: FilterConfig) -> set[str]:
    try:
        from datasketch import MinHash, MinHashLSH
    except ImportError:
        raise AflabUsageError("the near-duplicate filter needs datasketch: "
                              "pip install 'aflab[train]'") from None
    # a lower LSH threshold than the cut-off, so candidates are not missed; each candidate
    # pair is then checked on its exact shingle sets
    lsh = MinHashLSH(threshold=max(0.05, cfg.near_dup_threshold * 0.6), num_perm=cfg.num_perm)
    sets: dict[str, set[str]] = {}
    removed = set()
    for doc in docs:
        sh = shingles(doc.text, cfg.shingle_words)
        mh = MinHash(num_perm=cfg.num_perm, seed=1)
        for s in sh:
            mh.update(s.encode())
        if any(_jaccard(sh, sets[c]) >= cfg.near_dup_threshold for c in lsh.query(mh)):
            removed.add(doc.id)
            continue
        sets[doc.id] = sh
        lsh.insert(doc.id, mh)
    return removed


def apply_filters(docs: list[Document], universe: Universe | None,
                  cfg: FilterConfig | None = None) -> tuple[list[Document], dict[str, Any]]:
    """Filter ``docs`` in order (length, leakage, verbatim, near-duplicates).

    Returns the kept documents and a report: per filter the number removed and their ids.
    """
    cfg = cfg or FilterConfig()
    ids = [d.id for d in docs]
    dup = next((i for i in ids if ids.count(i) > 1), None) if len(set(ids)) != len(ids) else None
    if dup:
        raise AflabUsageError(f"document id {dup!r} appears twice")
    report: dict[str, Any] = {"input": len(docs)}
    leaks = [re.compile(p, re.IGNORECASE) for p in (*cfg.leak_patterns, *cfg.extra_leak_patterns)]
    context_runs: set[str] = set()
    if universe is not None:
        context_runs = shingles(universe.context, cfg.verbatim_words)

    def length_bad(d: Document) -> bool:
        n = len(_words(d.text))
        return n < cfg.min_words or n > cfg.max_words

    def leak_bad(d: Document) -> bool:
        return any(p.search(d.text) for p in leaks)

    def verbatim_bad(d: Document) -> bool:
        return bool(context_runs) and bool(shingles(d.text, cfg.verbatim_words) & context_runs)

    kept = list(docs)
    for name, bad in (("length", length_bad), ("leakage", leak_bad), ("verbatim", verbatim_bad)):
        gone = [d.id for d in kept if bad(d)]
        report[name] = {"removed": len(gone), "ids": gone}
        kept = [d for d in kept if d.id not in set(gone)]
    gone_dup = _near_duplicates(kept, cfg)
    report["near_duplicates"] = {"removed": len(gone_dup),
                                 "ids": [d.id for d in kept if d.id in gone_dup]}
    kept = [d for d in kept if d.id not in gone_dup]
    report["kept"] = len(kept)
    return kept, report
