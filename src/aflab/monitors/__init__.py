"""Chain-of-thought monitor stress tests: transforms, monitors, the grid and its metrics.

How much does a monitor of alignment-faking reasoning still catch when the scratchpad is
encoded, paraphrased, translated, diluted or cut short, and do simple defences (decode
first, paraphrase first) give it back? Labelled scratchpads (:mod:`.inputs`) are
transformed (:mod:`.transforms`), optionally passed through a defence (:mod:`.defences`),
scored by each monitor (:mod:`.monitors`), and every (monitor, defence, transform) cell
gets AUROC, TPR at 1% FPR and g-mean² with bootstrap intervals (:mod:`.metrics`,
:mod:`.grid`); :mod:`.report` writes the run directory. Model calls (rewrites, judge
votes) go through Inspect's cache (:mod:`.rewriter`).

    from aflab.monitors import run_stress, stress_config, write_stress_run
    result = run_stress(stress_config(labels="builtin:test", defences=("decode",)))
    write_stress_run(result, "runs/monitors/builtin-test")

CLI: ``aflab monitors transforms`` and ``aflab monitors stress`` (docs/monitors.md).
"""

from __future__ import annotations

from aflab.monitors.grid import StressConfig, StressResult, run_stress, stress_config
from aflab.monitors.report import render_stress_report, write_stress_run
from aflab.monitors.transforms import TRANSFORMS, apply_transform

__all__ = [
    "TRANSFORMS",
    "StressConfig",
    "StressResult",
    "apply_transform",
    "render_stress_report",
    "run_stress",
    "stress_config",
    "write_stress_run",
]
