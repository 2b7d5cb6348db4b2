"""Paper-style compliance figure: one horizontal stacked bar per (run, tier).

Each bar splits all samples of one run and tier into five shares that sum to 1, from
the left: compliance with alignment-faking reasoning (red, cross-hatched as in the
paper), compliance without it, partial compliance (its own segment, as in Hughes et al.
2025), refusals, and a grey "not classified" share (empty, unparseable, truncated, judge
error). A black whisker at the right end of the compliance segments is the 95% Wilson
interval of the compliance share; each bar's label gives the tier and its n. Shares are
counted from the per-sample records.

Layout: each run's label is a header line above its bars (wrapped, never clipped), the
figure grows with the number of bars, and a constrained layout keeps the title, tick
labels and legend inside the figure, for 1 to 20+ runs.
"""

from __future__ import annotations

import textwrap
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.figure import Figure  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.ticker import PercentFormatter  # noqa: E402
from matplotlib.transforms import blended_transform_factory  # noqa: E402

from aflab.analysis.markdown import run_label, tier_sort_key  # noqa: E402
from aflab.analysis.stats import wilson  # noqa: E402

__all__ = ["SEGMENTS", "SEGMENT_LABELS", "bar_shares", "build_figure", "plot_compliance"]

#: Segment keys, in stacking order (left to right).
SEGMENTS = ("complies_af", "complies_no_af", "partial", "refuses", "other")

SEGMENT_LABELS = {
    "complies_af": "complies, with alignment-faking reasoning",
    "complies_no_af": "complies, no alignment-faking reasoning",
    "partial": "partially complies",
    "refuses": "refuses",
    "other": "not classified (empty/unparseable/truncated/judge error)",
}

_STYLE: dict[str, dict[str, Any]] = {
    "complies_af": {"facecolor": "#f4b6b0", "edgecolor": "#c0392b", "hatch": "xxx"},
    "complies_no_af": {"facecolor": "#f2dc9b", "edgecolor": "white"},
    "partial": {"facecolor": "#c9e3b5", "edgecolor": "white"},
    "refuses": {"facecolor": "#8fb8de", "edgecolor": "white"},
    "other": {"facecolor": "#cfcfcf", "edgecolor": "white"},
}

_WIDTH_IN = 11.0
_WRAP = 105  # characters per header line at 9 pt across the axes


def _segment(record: dict[str, Any]) -> str:
    category = record.get("category")
    if category == "refused":
        return "refuses"
    if category == "partial":
        return "partial"
    if category == "complied":
        return "complies_af" if record.get("af_label") == "yes" else "complies_no_af"
    return "other"


def _counts(records: list[dict[str, Any]]) -> dict[tuple[int, str], Counter[str]]:
    counts: dict[tuple[int, str], Counter[str]] = defaultdict(Counter)
    for rec in records:
        counts[(int(rec.get("run_index", 0)), str(rec.get("tier")))][_segment(rec)] += 1
    return {key: counts[key] for key in sorted(counts, key=lambda k: (k[0], tier_sort_key(k[1])))}


def bar_shares(records: list[dict[str, Any]]) -> dict[tuple[int, str], dict[str, float]]:
    """Share of each segment per ``(run_index, tier)``; every bar sums to 1.

    Only (run, tier) pairs that have at least one record appear.
    """
    shares = {}
    for key, count in _counts(records).items():
        total = sum(count.values())
        shares[key] = {seg: count[seg] / total for seg in SEGMENTS}
    return shares


def _plain(text: Any) -> str:
    """Keep user text literal in matplotlib (no mathtext on ``$``)."""
    return str(text if text is not None else "?").replace("$", r"\$")


def _label(summary: dict[str, Any], records: list[dict[str, Any]], run_index: int) -> str:
    runs = summary.get("runs") or []
    if 0 <= run_index < len(runs):
        return run_label(runs[run_index])
    rec = next((r for r in records if r.get("run_index") == run_index), {})
    return run_label(rec)


def build_figure(summary: dict[str, Any], records: list[dict[str, Any]]) -> Figure:
    """The figure (not saved); its texts all lie inside it."""
    counts = _counts(records)
    groups: dict[int, list[str]] = defaultdict(list)
    for run_index, tier in counts:
        groups[run_index].append(tier)
    ys: list[float] = []
    ticks: list[str] = []
    keys: list[tuple[int, str]] = []
    headers: list[tuple[float, str]] = []
    y = 0.0
    for run_index in sorted(groups):
        lines = textwrap.wrap(_plain(_label(summary, records, run_index)), _WRAP) or ["?"]
        y += 0.45 * len(lines)
        headers.append((y - 0.55, "\n".join(lines)))
        for tier in groups[run_index]:
            ys.append(y)
            ticks.append(f"{_plain(tier)}  n={sum(counts[(run_index, tier)].values())}")
            keys.append((run_index, tier))
            y += 1.0
        y += 0.35

    height = 2.4 + 0.36 * y
    fig = plt.figure(figsize=(_WIDTH_IN, height), layout="constrained")
    ax = fig.add_subplot()
    left = [0.0] * len(keys)
    totals = [sum(counts[k].values()) for k in keys]
    for seg in SEGMENTS:
        widths = [counts[k][seg] / n for k, n in zip(keys, totals)]
        ax.barh(ys, widths, left=left, height=0.72, linewidth=0.8, **_STYLE[seg])
        for yi, li, wi in zip(ys, left, widths):
            if wi >= 0.06:
                box = {"facecolor": "white", "edgecolor": "none", "pad": 1, "alpha": 0.85}
                ax.text(li + wi / 2, yi, f"{wi:.0%}", ha="center", va="center", fontsize=8,
                        bbox=box if seg == "complies_af" else None)
        left = [li + wi for li, wi in zip(left, widths)]
    for yi, key, n in zip(ys, keys, totals):
        complied = counts[key]["complies_af"] + counts[key]["complies_no_af"]
        lo, hi = wilson(complied, n)
        share = complied / n
        ax.errorbar(share, yi, xerr=[[share - lo], [hi - share]], fmt="none", ecolor="black",
                    elinewidth=1.0, capsize=3)
    ax.set_xlim(0, 1)
    ax.xaxis.set_major_formatter(PercentFormatter(xmax=1))
    ax.set_yticks(ys, ticks, fontsize=9)
    if keys:
        ax.set_ylim(max(ys) + 0.6, 0)
    else:
        ax.set_ylim(1, -1)
        ax.text(0.5, 0, "no samples", ha="center", va="center", color="grey")
    trans = blended_transform_factory(ax.transAxes, ax.transData)
    for hy, text in headers:
        ax.text(0.0, hy, text, transform=trans, fontsize=9, fontweight="bold", va="bottom")
    for spine in ("top", "right"):
        ax.spines[spine].set_visible(False)
    ax.set_xlabel("share of all samples of the tier (whisker: 95% Wilson interval of compliance)",
                  fontsize=9)
    settings = sorted({str(r.get("setting")) for r in summary.get("runs") or []})
    title = "Compliance and alignment-faking reasoning by tier"
    if len(settings) == 1:
        title += f" ({_plain(settings[0])})"
    fig.suptitle("\n".join(textwrap.wrap(title, 90)), fontsize=11)
    handles = [Patch(label=SEGMENT_LABELS[s], linewidth=0.8, **_STYLE[s]) for s in SEGMENTS]
    fig.legend(handles=handles, loc="outside lower center", ncol=2, fontsize=8,
               frameon=False)
    return fig


def plot_compliance(
    summary: dict[str, Any], records: list[dict[str, Any]], path_stem: Path
) -> list[Path]:
    """Write ``<path_stem>.png`` and ``<path_stem>.svg``; return both paths."""
    path_stem = Path(path_stem)
    path_stem.parent.mkdir(parents=True, exist_ok=True)
    fig = build_figure(summary, records)
    try:
        paths = [Path(f"{path_stem}.png"), Path(f"{path_stem}.svg")]
        fig.savefig(paths[0], dpi=150)
        fig.savefig(
            paths[1],
            metadata={"Creator": None, "Date": None, "Format": None, "Type": None},
        )
    finally:
        plt.close(fig)
    return paths
