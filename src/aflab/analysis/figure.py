"""Paper-style compliance figure: one horizontal stacked bar per (run, tier).

Each bar splits the samples of one run and tier into four shares that sum to 1:
refusals, compliance without alignment-faking reasoning, compliance with
alignment-faking reasoning (red, cross-hatched as in the paper) and a grey
"other" share (partial, empty, unparseable, truncated, judge error). Shares are
counted from the per-sample records, not from the summary rates.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
from matplotlib.patches import Patch  # noqa: E402
from matplotlib.ticker import PercentFormatter  # noqa: E402
from matplotlib.transforms import blended_transform_factory  # noqa: E402

from aflab.analysis.markdown import tier_sort_key  # noqa: E402

__all__ = ["SEGMENTS", "SEGMENT_LABELS", "bar_shares", "plot_compliance"]

#: Segment keys, in stacking order (left to right).
SEGMENTS = ("refuses", "complies_no_af", "complies_af", "other")

SEGMENT_LABELS = {
    "refuses": "refuses",
    "complies_no_af": "complies, no alignment-faking reasoning",
    "complies_af": "complies, with alignment-faking reasoning",
    "other": "other (partial/empty/unparseable/truncated/judge error)",
}

_STYLE: dict[str, dict[str, Any]] = {
    "refuses": {"facecolor": "#8fb8de", "edgecolor": "white"},
    "complies_no_af": {"facecolor": "#f2dc9b", "edgecolor": "white"},
    "complies_af": {"facecolor": "#f4b6b0", "edgecolor": "#c0392b", "hatch": "xxx"},
    "other": {"facecolor": "#cfcfcf", "edgecolor": "white"},
}



def _segment(record: dict[str, Any]) -> str:
    category = record.get("category")
    if category == "refused":
        return "refuses"
    if category == "complied":
        return "complies_af" if record.get("af_label") == "yes" else "complies_no_af"
    return "other"


def bar_shares(records: list[dict[str, Any]]) -> dict[tuple[int, str], dict[str, float]]:
    """Share of each segment per ``(run_index, tier)``; every bar sums to 1.

    Only (run, tier) pairs that have at least one record appear.
    """
    counts: dict[tuple[int, str], Counter[str]] = defaultdict(Counter)
    for rec in records:
        counts[(int(rec.get("run_index", 0)), str(rec.get("tier")))][_segment(rec)] += 1
    shares: dict[tuple[int, str], dict[str, float]] = {}
    for key in sorted(counts, key=lambda k: (k[0], tier_sort_key(k[1]))):
        total = sum(counts[key].values())
        shares[key] = {seg: counts[key][seg] / total for seg in SEGMENTS}
    return shares


def _plain(text: Any) -> str:
    """Keep user text literal in matplotlib (no mathtext on ``$``)."""
    return str(text if text is not None else "?").replace("$", r"\$")


def _run_meta(summary: dict[str, Any], records: list[dict[str, Any]], run_index: int) -> dict:
    runs = summary.get("runs") or []
    if 0 <= run_index < len(runs):
        return runs[run_index]
    for rec in records:
        if rec.get("run_index") == run_index:
            return rec
    return {}


def plot_compliance(
    summary: dict[str, Any], records: list[dict[str, Any]], path_stem: Path
) -> list[Path]:
    """Write ``<path_stem>.png`` and ``<path_stem>.svg``; return both paths."""
    path_stem = Path(path_stem)
    path_stem.parent.mkdir(parents=True, exist_ok=True)
    shares = bar_shares(records)

    # Lay out bars top to bottom, grouped by run with a gap between groups.
    groups: dict[int, list[str]] = defaultdict(list)
    for run_index, tier in shares:
        groups[run_index].append(tier)
    ys: list[float] = []
    labels: list[str] = []
    bars: list[dict[str, float]] = []
    headers: list[tuple[float, str]] = []
    y = 0.0
    for run_index in sorted(groups):
        meta = _run_meta(summary, records, run_index)
        headers.append((y - 0.62, _plain(meta.get("setting"))))
        for tier in groups[run_index]:
            ys.append(y)
            labels.append(
                f"{_plain(meta.get('model'))} · {_plain(meta.get('variant'))} · {_plain(tier)}"
            )
            bars.append(shares[(run_index, tier)])
            y += 1.0
        y += 0.9

    n_bars = len(bars)
    fig, ax = plt.subplots(figsize=(10, 1.9 + 0.55 * max(n_bars, 1) + 0.35 * len(groups)))
    try:
        left = [0.0] * n_bars
        for seg in SEGMENTS:
            widths = [b[seg] for b in bars]
            ax.barh(ys, widths, left=left, height=0.72, linewidth=0.8, **_STYLE[seg])
            for yi, li, wi in zip(ys, left, widths):
                if wi >= 0.06:
                    box = {"facecolor": "white", "edgecolor": "none", "pad": 1, "alpha": 0.85}
                    ax.text(li + wi / 2, yi, f"{wi:.0%}", ha="center", va="center", fontsize=8,
                            bbox=box if seg == "complies_af" else None)
            left = [li + wi for li, wi in zip(left, widths)]

        ax.set_xlim(0, 1)
        ax.xaxis.set_major_formatter(PercentFormatter(xmax=1))
        ax.set_yticks(ys, labels, fontsize=9)
        if n_bars:
            ax.set_ylim(max(ys) + 0.6, -1.1)
        else:
            ax.set_ylim(1, -1)
            ax.text(0.5, 0, "no samples", ha="center", va="center", color="grey")
        trans = blended_transform_factory(ax.transAxes, ax.transData)
        for hy, text in headers:
            ax.text(0.0, hy, text, transform=trans, fontsize=9, fontweight="bold", va="center")
        for spine in ("top", "right"):
            ax.spines[spine].set_visible(False)
        ax.set_xlabel("share of samples")
        settings = sorted({_plain(_run_meta(summary, records, r).get("setting")) for r in groups})
        title = "Compliance and alignment-faking reasoning by tier"
        if len(settings) == 1:
            title += f" ({settings[0]})"
        ax.set_title(title, fontsize=11)
        handles = [Patch(label=SEGMENT_LABELS[s], linewidth=0.8, **_STYLE[s]) for s in SEGMENTS]
        fig.legend(handles=handles, loc="lower center", ncol=2, fontsize=8, frameon=False)
        fig.tight_layout(rect=(0, 0.12 if n_bars > 2 else 0.2, 1, 1))

        paths = [Path(f"{path_stem}.png"), Path(f"{path_stem}.svg")]
        fig.savefig(paths[0], dpi=150)
        fig.savefig(
            paths[1],
            metadata={"Creator": None, "Date": None, "Format": None, "Type": None},
        )
    finally:
        plt.close(fig)
    return paths
