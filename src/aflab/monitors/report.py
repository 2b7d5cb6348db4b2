"""A stress test's run directory: config + provenance, numbers, heatmap and HTML page.

    paths = write_stress_run(result, "runs/monitors/builtin-test")
    render_stress_report("runs/monitors/builtin-test")   # rebuild figures and page later

Files: ``config.json`` (the resolved config, secrets redacted, and provenance: aflab
version, git SHA, seed, the inputs and their SHA-256, library versions), ``results.json``
(every cell's metrics with intervals, the transforms, defences and monitors),
``scores.jsonl`` (each row's label and score in every cell, so any metric can be
recomputed), ``heatmap.png``/``heatmap.svg`` (AUROC, monitor x transform),
``weak_to_strong.png``/``.svg`` (with ``weak_to_strong``) and ``report.html``, a
self-contained page in the evaluation report's style. The figures and the page are built
from the JSON files alone.
"""

from __future__ import annotations

import json
import math
import platform
from dataclasses import dataclass
from datetime import datetime, timezone
from importlib.metadata import version
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined

from aflab import __version__
from aflab.analysis.markdown import MISSING
from aflab.monitors.grid import StressResult, weak_to_strong
from aflab.provenance import git_sha
from aflab.redaction import redact

__all__ = ["StressPaths", "format_grid", "render_stress_report", "report_warnings",
           "stress_numbers", "write_stress_run"]

_TEMPLATES = Path(__file__).parent / "templates"
_METRICS = (("auroc", "AUROC"), ("tpr_at_fpr", "TPR at FPR"), ("gmean2", "g-mean²"))


@dataclass(frozen=True)
class StressPaths:
    out_dir: Path
    results: Path
    heatmap: Path
    html: Path


def _clean(value: Any) -> Any:
    """JSON-safe: NaN -> None, numpy scalars -> Python."""
    if isinstance(value, dict):
        return {k: _clean(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_clean(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, (str, bytes)):
        value = value.item()
    if isinstance(value, float) and math.isnan(value):
        return None
    return value


def stress_numbers(result: StressResult) -> dict[str, Any]:
    """Everything measured, as written to ``results.json``."""
    rows = result.inputs.rows
    numbers: dict[str, Any] = {
        "inputs": {"name": result.inputs.name, "n": len(rows),
                   "n_pos": sum(result.inputs.labels), **result.inputs.source},
        "monitors": result.monitors,
        "transforms": result.transforms,
        "defences": result.defences,
        "cells": result.cells,
    }
    if result.config.weak_to_strong:
        numbers["weak_to_strong"] = weak_to_strong(result)
    return _clean(numbers)


def _provenance(result: StressResult) -> dict[str, Any]:
    libraries = {name: version(name) for name in
                 ("inspect_ai", "numpy", "scipy", "scikit-learn", "matplotlib")}
    return {"aflab_version": __version__, "git_sha": git_sha(), "seed": result.config.seed,
            "created": datetime.now(timezone.utc).isoformat(timespec="seconds"),
            "inputs": _clean(result.inputs.source), "python": platform.python_version(),
            "libraries": libraries}


def write_stress_run(result: StressResult, out_dir: str | Path) -> StressPaths:
    """Write the run directory (see the module docstring); return its main paths."""
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    config = {"config": redact(result.config.model_dump(mode="json")),
              "provenance": _provenance(result)}
    (out / "config.json").write_text(json.dumps(config, indent=2) + "\n", encoding="utf-8")
    (out / "results.json").write_text(json.dumps(stress_numbers(result), indent=2) + "\n",
                                      encoding="utf-8")
    with (out / "scores.jsonl").open("w", encoding="utf-8") as fh:
        for n, row in enumerate(result.inputs.rows):
            fh.write(json.dumps({"id": row.id or str(row.line), "label": int(row.label),
                                 "setting": row.setting,
                                 "scores": {k: v[n] for k, v in result.scores.items()}}) + "\n")
    return render_stress_report(out)


def _row_label(cell: dict[str, Any]) -> str:
    monitor, defence = cell["monitor"], cell["defence"]
    return monitor if defence == "none" else f"{monitor} · {defence}"


def _grid(numbers: dict[str, Any]) -> tuple[list[str], list[str], dict[tuple[str, str], dict]]:
    rows = list(dict.fromkeys(_row_label(c) for c in numbers["cells"]))
    cols = list(dict.fromkeys(c["transform"] for c in numbers["cells"]))
    return rows, cols, {(_row_label(c), c["transform"]): c for c in numbers["cells"]}


def _fmt(value: Any, digits: int = 3) -> str:
    return MISSING if value is None else f"{value:.{digits}f}"


def _ci(block: dict[str, Any]) -> str:
    low, high = block.get("ci95") or (None, None)
    return MISSING if low is None or high is None else f"[{low:.2f}, {high:.2f}]"


def _save(fig: Any, stem: Path) -> None:
    """PNG (150 dpi) and SVG (text kept as text, no date: the same numbers give the same
    file) of ``fig``; the figure is closed."""
    import matplotlib.pyplot as plt

    try:
        fig.savefig(f"{stem}.png", dpi=150)
        with plt.rc_context({"svg.fonttype": "none", "svg.hashsalt": "aflab"}):
            fig.savefig(f"{stem}.svg", metadata={"Creator": None, "Date": None,
                                                 "Format": None, "Type": None})
    finally:
        plt.close(fig)


def _plot_heatmap(numbers: dict[str, Any], out: Path) -> Path:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import numpy as np

    rows, cols, cells = _grid(numbers)
    values = np.array([[cells[r, c]["auroc"]["value"] if cells.get((r, c)) and
                        cells[r, c]["auroc"]["value"] is not None else np.nan
                        for c in cols] for r in rows], dtype=float)
    fig, ax = plt.subplots(figsize=(2.4 + 1.25 * len(cols), 1.3 + 0.52 * len(rows)), dpi=110,
                           layout="constrained")
    image = ax.imshow(values, cmap="RdYlGn", vmin=0.5, vmax=1.0, aspect="auto")
    for i, r in enumerate(rows):
        for j, c in enumerate(cols):
            cell = cells.get((r, c))
            if cell is None:
                continue
            value = cell["auroc"]["value"]
            ax.text(j, i, f"{_fmt(value, 2)}\n{_ci(cell['auroc'])}", ha="center",
                    va="center", fontsize=7.5)
    ax.set_xticks(range(len(cols)), cols, rotation=30, ha="right", fontsize=8.5)
    ax.set_yticks(range(len(rows)), rows, fontsize=8.5)
    n = numbers["inputs"]
    ax.set_title(f"AUROC (95% CI) by monitor and transform — {n['name']}, n = {n['n']} "
                 f"({n['n_pos']} AF)", fontsize=9.5)
    fig.colorbar(image, ax=ax, shrink=0.8, label="AUROC (colour clipped at 0.5)")
    _save(fig, out / "heatmap")
    return out / "heatmap.png"


def _plot_weak_to_strong(numbers: dict[str, Any], out: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    w2s = numbers["weak_to_strong"]
    order = w2s["order"]
    fig, ax = plt.subplots(figsize=(2.5 + 1.1 * len(order), 4.2), dpi=110, layout="constrained")
    for transform, blocks in w2s["auroc"].items():
        ys = [b["value"] if b["value"] is not None else float("nan") for b in blocks]
        ax.plot(range(len(order)), ys, marker="o", label=transform)
    ax.set_xticks(range(len(order)), order, rotation=20, ha="right", fontsize=8)
    ax.set(ylim=(0.4, 1.01), xlabel="monitor (weakest → strongest, as given)", ylabel="AUROC",
           title="Weak-to-strong: AUROC per transform")
    ax.title.set_fontsize(9.5)
    ax.axhline(0.5, color="0.6", linestyle="--", linewidth=1)
    ax.legend(fontsize=7, ncols=2)
    _save(fig, out / "weak_to_strong")


def _svg(path: Path) -> str:
    if not path.is_file():
        return ""
    text = path.read_text(encoding="utf-8")
    start = text.find("<svg")
    return text[start:].strip() if start >= 0 else ""


def report_warnings(config: dict[str, Any], numbers: dict[str, Any]) -> list[str]:
    """What the reader must know before trusting the numbers (the page's banners): the
    embedded toy model as a monitor or rewriter, labels made by a judge, unscored cells."""
    from aflab.classifiers.grader import weak_grader_warning

    notes = []
    models = [m.removeprefix("hybrid:").rpartition("+")[2] for m in config["monitors"]
              if "/" in m and not m.endswith(".json")]
    models += [config["rewriter"]] if config.get("rewriter") else []
    for name in models:
        if weak_grader_warning(name):
            notes.append(f"{name} is the embedded 135M-parameter model: far too weak a judge "
                         "or rewriter for real measurements; these numbers test the pipeline")
            break
    if numbers["inputs"].get("kind") == "evaluation logs":
        notes.append("labels come from the evaluation's own AF judge ("
                     f"{', '.join(numbers['inputs'].get('label_source', []))}), not from people")
    empty = sorted({c["monitor"] for c in numbers["cells"] if c["n"] == 0})
    if empty:
        notes.append(f"no row could be scored in some cells of {', '.join(empty)} (no usable "
                     "judge vote or rewrite); see n_unscored")
    return notes


def _table(numbers: dict[str, Any]) -> list[dict[str, str]]:
    out = []
    for c in numbers["cells"]:
        out.append({"monitor": c["monitor"], "defence": c["defence"],
                    "transform": c["transform"], "n": f"{c['n']} ({c['n_pos']} AF)",
                    "unscored": str(c["n_unscored"]),
                    "auroc": _fmt(c["auroc"]["value"]), "auroc_ci": _ci(c["auroc"]),
                    "delta": _fmt(c["delta_auroc_vs_plain"]),
                    "tpr": _fmt(c["tpr_at_fpr"]["value"]), "tpr_ci": _ci(c["tpr_at_fpr"]),
                    "g2": _fmt(c["gmean2"]["value"]), "g2_ci": _ci(c["gmean2"])})
    return out


def render_stress_report(out_dir: str | Path) -> StressPaths:
    """(Re)build the figures and ``report.html`` from ``config.json`` and ``results.json``."""
    out = Path(out_dir)
    config = json.loads((out / "config.json").read_text(encoding="utf-8"))
    numbers = json.loads((out / "results.json").read_text(encoding="utf-8"))
    heatmap = _plot_heatmap(numbers, out)
    if "weak_to_strong" in numbers:
        _plot_weak_to_strong(numbers, out)
    env = Environment(loader=FileSystemLoader(str(_TEMPLATES)), autoescape=True,
                      undefined=StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    fpr = config["config"]["fpr"]
    html = env.get_template("stress.html.j2").render(
        title=f"Monitor stress test: {numbers['inputs']['name']}",
        banners=report_warnings(config["config"], numbers), heatmap_svg=_svg(out / "heatmap.svg"),
        w2s_svg=_svg(out / "weak_to_strong.svg"), cells=_table(numbers), fpr=f"{fpr:g}",
        numbers=numbers, config=config["config"], provenance=config["provenance"],
        config_json=json.dumps(config, indent=2))
    (out / "report.html").write_text(html, encoding="utf-8")
    return StressPaths(out, out / "results.json", heatmap, out / "report.html")


def format_grid(numbers: dict[str, Any], metric: str = "auroc") -> str:
    """A plain-text grid of one metric (value and interval), rows monitor · defence."""
    rows, cols, cells = _grid(numbers)
    width = max(len(r) for r in rows) + 2
    head = " " * width + "".join(f"{c:>20}" for c in cols)
    lines = [dict(_METRICS)[metric] + (f" {numbers['cells'][0]['tpr_at_fpr']['fpr']:g}"
                                       if metric == "tpr_at_fpr" else ""), head]
    for r in rows:
        parts = []
        for c in cols:
            cell = cells.get((r, c))
            if cell is None:
                text = ""
            elif cell[metric]["value"] is None:
                text = f"{MISSING} (n={cell['n']})"
            else:
                text = f"{_fmt(cell[metric]['value'])} {_ci(cell[metric])}"
            parts.append(f"{text:>20}")
        lines.append(f"{r:<{width}}" + "".join(parts))
    return "\n".join(lines)
