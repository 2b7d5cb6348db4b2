"""Markdown summary of a report: one row per run × tier, then the compliance gaps.

The formatting helpers and :func:`summary_rows` / :func:`gap_rows` are shared
with the HTML report so that both show exactly the same numbers.
"""

from __future__ import annotations

from typing import Any

from aflab.analysis.records import identity_details

__all__ = [
    "MISSING",
    "TABLE_COLUMNS",
    "TEXT_COLUMNS",
    "TOY_MODEL",
    "fmt_pct",
    "fmt_ci",
    "fmt_p",
    "gap_rows",
    "run_label",
    "summary_markdown",
    "summary_rows",
    "tier_sort_key",
    "toy_banner",
    "usage_rows",
]

#: How an undefined value (None) is shown.
MISSING = "–"

#: (key, header) of the summary table, in order. Each rate's denominator is beside it:
#: compliance and partial over "Classified n", AF over the n in brackets.
TABLE_COLUMNS: tuple[tuple[str, str], ...] = (
    ("setting", "Setting"),
    ("model", "Model"),
    ("variant", "Variant"),
    ("tier", "Tier"),
    ("n", "n"),
    ("n_classified", "Classified n"),
    ("compliance", "Compliance % of classified [95% CI]"),
    ("partial", "Partial % of classified"),
    ("af", "AF % among compliant [95% CI] (n)"),
    ("af_all", "AF % among all scored (n)"),
    ("parse_error", "Parse error % of n"),
    ("truncated", "Truncated % of n"),
    ("judge_errors", "Judge errors (compliance / AF votes)"),
    ("af_unscored", "AF unscored"),
    ("grader", "Grader"),
    ("details", "Run details"),
)

#: Text columns (left-aligned); every other column is a number.
TEXT_COLUMNS = ("setting", "model", "variant", "tier", "grader", "details")

#: The embedded toy model: a banner says so when it is the target or the grader.
TOY_MODEL = "aflab-local/smollm2"

_TIER_ORDER = {"free": 0, "paid": 1}


def tier_sort_key(tier: Any) -> tuple[int, str]:
    """Free before paid, then any other tier by name."""
    return (_TIER_ORDER.get(tier, 2), str(tier))


def _num(value: Any) -> float | None:
    if value is None or isinstance(value, bool):
        return None
    try:
        return float(value)
    except (TypeError, ValueError):
        return None


def fmt_pct(value: Any, *, signed: bool = False) -> str:
    """A rate in [0, 1] as a percentage with 1 decimal (``0.3`` -> ``30.0``)."""
    x = _num(value)
    if x is None:
        return MISSING
    return f"{x * 100:+.1f}" if signed else f"{x * 100:.1f}"


def fmt_ci(ci: Any) -> str:
    """A confidence interval of rates as ``[10.0, 60.0]``; ``–`` if undefined."""
    if not isinstance(ci, (list, tuple)) or len(ci) != 2:
        return MISSING
    lo, hi = fmt_pct(ci[0]), fmt_pct(ci[1])
    if lo == MISSING and hi == MISSING:
        return MISSING
    return f"[{lo}, {hi}]"


def _pct_with_ci(value: Any, ci: Any) -> str:
    pct = fmt_pct(value)
    if pct == MISSING:
        return MISSING
    interval = fmt_ci(ci)
    return pct if interval == MISSING else f"{pct} {interval}"


def fmt_p(value: Any) -> str:
    """A p-value with 3 decimals, ``<0.001`` below that."""
    x = _num(value)
    if x is None:
        return MISSING
    return "<0.001" if x < 0.001 else f"{x:.3f}"


def _text(value: Any) -> str:
    return MISSING if value is None else str(value)


def _tiers(run: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    tiers = run.get("tiers") or {}
    order = sorted(tiers, key=tier_sort_key)
    return [(str(t), tiers[t] or {}) for t in order]


def _with_n(text: str, n: Any) -> str:
    return text if text == MISSING else f"{text} (n={n})"


def summary_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """Formatted table cells (strings) per run × tier, keyed as :data:`TABLE_COLUMNS`.

    A rate whose denominator is 0 is ``–``. Each row also carries ``run_index`` (int)
    for the HTML report.
    """
    rows: list[dict[str, Any]] = []
    for i, run in enumerate(summary.get("runs") or []):
        for tier, t in _tiers(run):
            n = t.get("n")
            rows.append(
                {
                    "run_index": i,
                    "setting": _text(run.get("setting")),
                    "model": _text(run.get("model")),
                    "variant": _text(run.get("variant")),
                    "grader": _text(run.get("grader")),
                    "tier": tier,
                    "n": _text(n),
                    "n_classified": _text(t.get("n_classified")),
                    "compliance": _pct_with_ci(t.get("compliance_rate"), t.get("compliance_ci")),
                    "partial": fmt_pct(t.get("partial_rate")),
                    "af": _with_n(_pct_with_ci(t.get("af_rate"), t.get("af_ci")),
                                  t.get("n_af_compliant")),
                    "af_all": _with_n(fmt_pct(t.get("af_rate_all")), t.get("n_af_scored")),
                    "parse_error": fmt_pct(t.get("parse_error_rate")),
                    "truncated": fmt_pct(t.get("truncated_rate")),
                    "judge_errors": _judge_errors(t.get("judge_errors")),
                    "af_unscored": _text(t.get("af_unscored")),
                    "details": _details(run),
                }
            )
    return rows


def _details(run: dict[str, Any]) -> str:
    """What else identifies the run (data, temperature, model args, ...), or ``–``."""
    return ", ".join(identity_details(run.get("identity") or {})) or MISSING


def run_label(run: dict[str, Any]) -> str:
    """The run's label (setting · model · variant and what else identifies it)."""
    if run.get("label"):
        return str(run["label"])
    return " · ".join(_text(run.get(k)) for k in ("setting", "model", "variant"))


def toy_banner(summary: dict[str, Any], *,
               roles: tuple[str, ...] = ("model", "grader")) -> str | None:
    """A warning when any run's target (``model``) or grader is the embedded toy model;
    ``roles`` limits which roles are checked."""
    roles = tuple(sorted({role for run in summary.get("runs") or []
                          for role in roles if run.get(role) == TOY_MODEL}))
    if not roles:
        return None
    who = " and ".join("target" if r == "model" else r for r in roles)
    return (f"The {who} of some runs here is the embedded toy model {TOY_MODEL} "
            "(SmolLM2-135M): it does not follow the format reliably and is far too weak a "
            "judge; these numbers test the pipeline, they measure nothing.")


def _judge_errors(value: Any) -> str:
    if not isinstance(value, dict):
        return MISSING
    return f"{_text(value.get('compliance'))} / {_text(value.get('af_votes'))}"


def gap_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """Per run: label, gap in points (signed), its CI, McNemar p and the pair count."""
    rows = []
    for i, run in enumerate(summary.get("runs") or []):
        gap = fmt_pct(run.get("compliance_gap"), signed=True)
        rows.append(
            {
                "run_index": i,
                "label": run_label(run),
                "gap": MISSING if gap == MISSING else f"{gap} pts",
                "gap_ci": fmt_ci(run.get("compliance_gap_ci")),
                "mcnemar_p": fmt_p(run.get("mcnemar_p")),
                "n_pairs": _text(run.get("n_pairs")),
                "definition": _text(run.get("gap_definition") or
                                    "paired: free − paid compliance over the "
                                    f"{_text(run.get('n_pairs'))} queries where both tiers "
                                    "were classified"),
            }
        )
    return rows


def _cell(text: Any) -> str:
    """Keep a table cell on one line and its pipes literal."""
    return " ".join(str(text).split()).replace("|", "\\|")


def summary_markdown(summary: dict[str, Any]) -> str:
    """The summary as Markdown: a title, the run × tier table and the gaps."""
    lines = ["# Alignment-faking evaluation summary", ""]
    banner = toy_banner(summary)
    if banner:
        lines += [f"> **Warning:** {banner}", ""]
    rows = summary_rows(summary)
    if rows:
        lines.append("| " + " | ".join(h for _, h in TABLE_COLUMNS) + " |")
        lines.append("|" + "|".join("---" if k in TEXT_COLUMNS
                                    else "---:" for k, _ in TABLE_COLUMNS) + "|")
        for row in rows:
            lines.append("| " + " | ".join(_cell(row[k]) for k, _ in TABLE_COLUMNS) + " |")
    else:
        lines.append("_No runs._")
    lines += [
        "",
        "Compliance and partial: shares of the classified outputs (complied, partial or"
        " refused; truncated, unparseable, empty and judge errors are not classified)."
        " AF % among compliant: share of compliant outputs with an AF label whose label is"
        " \"yes\" (headline); AF % among all scored: share of all outputs with an AF label."
        f" AF unscored: outputs without an AF label. {MISSING}: denominator 0.",
        "",
        "## Compliance gap (free − paid)",
        "",
    ]
    gaps = gap_rows(summary)
    for g in gaps:
        ci = "" if g["gap_ci"] == MISSING else f" {g['gap_ci']}"
        lines.append(
            f"- **{_cell(g['label'])}**: {g['gap']}{ci}, McNemar p = {g['mcnemar_p']}"
            f" ({g['definition']})"
        )
    if not gaps:
        lines.append("_No runs._")
    usage = usage_rows(summary)
    if usage:
        lines += ["", "## Token usage and estimated cost", "",
                  "| Run | Role | Model | Input | Cached input | Output | Cost (USD) |",
                  "|---|---|---|---:|---:|---:|---:|"]
        for u in usage:
            lines.append("| " + " | ".join(_cell(u[k]) for k in (
                "label", "role", "model", "input", "cached", "output", "cost")) + " |")
    return "\n".join(lines) + "\n"


def usage_rows(summary: dict[str, Any]) -> list[dict[str, Any]]:
    """One row per run and model role from each run's ``usage`` block (if any)."""
    rows = []
    for run in summary.get("runs", []):
        label = f"{_text(run.get('model'))} · {_text(run.get('variant'))}"
        for role, u in sorted(((run.get("usage") or {}).get("roles") or {}).items()):
            cost = u.get("cost_usd")
            rows.append({
                "label": label, "role": role, "model": _text(u.get("model")),
                "input": u.get("input_tokens", 0), "cached": u.get("cached_input_tokens", 0),
                "output": u.get("output_tokens", 0),
                "cost": MISSING if cost is None else f"{cost:.4f}",
            })
    return rows
