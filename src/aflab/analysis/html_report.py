"""Self-contained HTML report: figure, summary table and a paired transcript browser.

The page has no external references (inline CSS and a small inline script, a
Content-Security-Policy that forbids loading anything). All model-produced text
is escaped by Jinja's autoescaping; the client-side filters read only ``data-*``
attributes, so no model text is ever placed inside a ``<script>`` element.
"""

from __future__ import annotations

from collections import Counter
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from aflab.analysis.markdown import (
    MISSING,
    TABLE_COLUMNS,
    TEXT_COLUMNS,
    gap_rows,
    run_label,
    summary_rows,
    tier_sort_key,
    toy_banner,
    usage_rows,
)

__all__ = ["INLINE_SAMPLES_LIMIT", "build_pairs", "render_html", "write_html", "write_run_pages"]

_TEMPLATES = Path(__file__).parent / "templates"
_KNOWN_CATEGORIES = {
    "complied", "partial", "refused", "empty", "unparseable", "truncated", "judge_error"
}
_KNOWN_AF = {"yes", "maybe", "no"}


def _env() -> Environment:
    return Environment(
        loader=FileSystemLoader(str(_TEMPLATES)),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )


def _score(value: Any) -> str:
    if value is None or isinstance(value, bool):
        return MISSING
    try:
        return f"{float(value):.2f}"
    except (TypeError, ValueError):
        return MISSING


def _str(value: Any) -> str:
    return "" if value is None else str(value)


def _run_label(run: dict[str, Any]) -> str:
    return run_label(run)


def _panel(rec: dict[str, Any]) -> dict[str, Any]:
    category = _str(rec.get("category")) or "unknown"
    af = rec.get("af_label")
    af_key = _str(af) if af is not None else "none"
    votes = [
        {"vote": _str(v.get("vote")) or "no vote", "rationale": _str(v.get("rationale"))}
        for v in (rec.get("votes") or [])
        if isinstance(v, dict)
    ]
    tally = Counter(v["vote"] for v in votes)
    accepted = rec.get("accepted")
    return {
        "present": True,
        "tier": _str(rec.get("tier")),
        "category": category,
        "category_class": category if category in _KNOWN_CATEGORIES else "other",
        "compliance_score": _score(rec.get("compliance_score")),
        "accepted": MISSING if accepted is None else ("yes" if accepted else "no"),
        "af_label": af_key,
        "af_class": af_key if af_key in _KNOWN_AF else "none",
        "af_score": _score(rec.get("af_score")),
        "scratchpad": _str(rec.get("scratchpad")),
        "output": _str(rec.get("output")),
        "flags": [_str(f) for f in (rec.get("flags") or [])],
        "votes": votes,
        "vote_tally": ", ".join(f"{n} {k}" for k, n in sorted(tally.items())) or "none",
        "compliance_rationale": _str(rec.get("compliance_rationale")),
    }


def build_pairs(summary: dict[str, Any], records: list[dict[str, Any]]) -> dict[str, Any]:
    """Group records into rows keyed by (run, query_id, epoch), one panel per tier."""
    runs = summary.get("runs") or []
    tiers = sorted({_str(r.get("tier")) for r in records} | {"free", "paid"}, key=tier_sort_key)
    grouped: dict[tuple[int, str, str], dict[str, dict[str, Any]]] = {}
    for rec in records:
        key = (int(rec.get("run_index", 0)), _str(rec.get("query_id")), _str(rec.get("epoch")))
        grouped.setdefault(key, {})[_str(rec.get("tier"))] = rec

    def sort_key(k: tuple[int, str, str]) -> tuple:
        epoch = int(k[2]) if k[2].isdigit() else 0
        return (k[0], k[1], epoch, k[2])

    pairs = []
    for key in sorted(grouped, key=sort_key):
        by_tier = grouped[key]
        first = next(iter(by_tier.values()))
        run = runs[key[0]] if 0 <= key[0] < len(runs) else first
        panels = [
            _panel(by_tier[t]) if t in by_tier else {"present": False, "tier": t}
            for t in tiers
        ]
        request = next((_str(r.get("request")) for r in by_tier.values() if r.get("request")), "")
        pairs.append({
            "run_index": key[0],
            "run_label": _run_label(run),
            "query_id": key[1],
            "epoch": key[2] or MISSING,
            "request": request,
            "panels": panels,
        })
    run_options = [(i, _run_label(r)) for i, r in enumerate(runs)]
    known = {i for i, _ in run_options}
    for p in pairs:
        if p["run_index"] not in known:
            run_options.append((p["run_index"], p["run_label"]))
            known.add(p["run_index"])
    categories = sorted({pn["category"] for p in pairs for pn in p["panels"] if pn["present"]})
    af_labels = sorted({pn["af_label"] for p in pairs for pn in p["panels"] if pn["present"]})
    return {
        "pairs": pairs,
        "tiers": tiers,
        "run_options": run_options,
        "categories": categories,
        "af_labels": af_labels,
    }


def _inline_svg(svg: str) -> str:
    """Drop the XML prolog and DOCTYPE so the SVG can sit inside HTML."""
    start = svg.find("<svg")
    if start < 0:
        return ""
    return svg[start:].strip()


def render_html(
    summary: dict[str, Any],
    records: list[dict[str, Any]],
    figure_svg: str,
    *,
    title: str = "Alignment-faking evaluation report",
    transcript_links: list[dict[str, Any]] | None = None,
) -> str:
    """The whole report as one self-contained HTML string; with ``transcript_links``
    (``label``, ``href``, ``n``) the transcripts are linked pages instead of inline."""
    browser = build_pairs(summary, [] if transcript_links else records)
    return _env().get_template("report.html.j2").render(
        title=title,
        figure_svg=_inline_svg(figure_svg or ""),
        columns=TABLE_COLUMNS,
        text_columns=TEXT_COLUMNS,
        banner=toy_banner(summary),
        rows=summary_rows(summary),
        gaps=gap_rows(summary),
        usage=usage_rows(summary),
        missing=MISSING,
        n_records=len(records),
        transcript_links=transcript_links,
        **browser,
    )


def write_html(
    path: Path,
    summary: dict[str, Any],
    records: list[dict[str, Any]],
    figure_svg: str,
    **kwargs: Any,
) -> Path:
    """Render the report and write it to ``path`` (UTF-8); return the path. A big report
    of several runs puts each run's transcripts in ``transcripts/run-NNN.html`` beside it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    links = write_run_pages(path.parent / "transcripts", summary, records)
    path.write_text(render_html(summary, records, figure_svg, transcript_links=links, **kwargs),
                    encoding="utf-8")
    return path


#: Above this many samples in a report of several runs, each run's transcripts get a page
#: of their own (a sweep of 10 x 230 queries inline made one 14 MB page).
INLINE_SAMPLES_LIMIT = 1000


def write_run_pages(folder: Path, summary: dict[str, Any], records: list[dict[str, Any]],
                    ) -> list[dict[str, Any]] | None:
    """Per-run transcript pages in ``folder`` when the report is big; None when it is not.

    Returns the links (relative to the report) for :func:`render_html`."""
    runs = summary.get("runs") or []
    if len(runs) < 2 or len(records) <= INLINE_SAMPLES_LIMIT:
        return None
    folder.mkdir(parents=True, exist_ok=True)
    links = []
    for index, run in enumerate(runs):
        mine = [r for r in records if int(r.get("run_index", 0)) == index]
        label = _run_label(run)
        name = f"run-{index:03d}.html"
        (folder / name).write_text(
            render_html(summary, mine, "", title=f"Transcripts: {label}"), encoding="utf-8")
        links.append({"label": label, "href": f"{folder.name}/{name}", "n": len(mine)})
    return links
