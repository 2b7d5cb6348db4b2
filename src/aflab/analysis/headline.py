"""The headline table printed at the end of ``aflab run`` and ``aflab report``.

Per run: per tier n, classified n, compliance and AF among compliant (each with its
interval and denominator), then the paired compliance gap with its interval, McNemar p
and the number of pairs. The numbers are the report's own (shared formatting helpers).
"""

from __future__ import annotations

from typing import Any

from aflab.analysis.markdown import (
    MISSING,
    fmt_ci,
    fmt_p,
    fmt_pct,
    run_label,
    tier_sort_key,
    toy_banner,
)

__all__ = ["headline_text"]

_HEADER = ("tier", "n", "classified", "compliance % [95% CI]", "AF % of compliant [95% CI] (n)")


def _rate(rate: Any, ci: Any) -> str:
    pct = fmt_pct(rate)
    interval = fmt_ci(ci)
    return pct if pct == MISSING or interval == MISSING else f"{pct} {interval}"


def _table(rows: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(row[i]) for row in rows) for i in range(len(rows[0]))]
    return ["  " + "  ".join(cell.ljust(w) if i == 0 else cell.rjust(w)
                             for i, (cell, w) in enumerate(zip(row, widths))).rstrip()
            for row in rows]


def headline_text(summary: dict[str, Any], *,
                  banner_roles: tuple[str, ...] = ("model", "grader")) -> str:
    """The headline numbers of every run in ``summary`` as plain text, then the toy-model
    warning for ``banner_roles`` (fewer where the caller has warned already)."""
    lines: list[str] = []
    for run in summary.get("runs") or []:
        grader = run.get("grader")
        lines.append(run_label(run) + (f"  (grader: {grader})" if grader else ""))
        rows = [_HEADER]
        tiers = run.get("tiers") or {}
        for tier in sorted(tiers, key=tier_sort_key):
            t = tiers[tier] or {}
            af = _rate(t.get("af_rate"), t.get("af_ci"))
            rows.append((str(tier), str(t.get("n", MISSING)),
                         str(t.get("n_classified", MISSING)),
                         _rate(t.get("compliance_rate"), t.get("compliance_ci")),
                         af if af == MISSING else f"{af} (n={t.get('n_af_compliant')})"))
        lines += _table(rows)
        gap = fmt_pct(run.get("compliance_gap"), signed=True)
        ci = fmt_ci(run.get("compliance_gap_ci"))
        detail = "" if gap == MISSING else f" pts {ci}, McNemar p = {fmt_p(run.get('mcnemar_p'))}"
        lines.append(f"  compliance gap (free − paid): {gap}{detail}; paired over "
                     f"{run.get('n_pairs', 0)} queries where both tiers were classified")
    warning = toy_banner(summary, roles=banner_roles) if banner_roles else None
    if warning:
        lines.append(f"warning: {warning}")
    return "\n".join(lines)
