"""Re-measure every checkpoint with aflab's own evaluation, and plot the paper's RL figure.

    remeasure(config, run_dir, {4: "smollm2-af-rl-step4", 8: ...})

Step 0 (the start model) and each checkpoint organism run the evaluation in the run's
setting and variant on held-out queries (``config.heldout``, first ``remeasure_limit``),
both tiers, temperature 1 with the run's seed, judged by the local classifiers (or
``remeasure_grader``). Logs go to ``run_dir/remeasure/step-K`` (rerun to resume). Each
checkpoint's card gets its ``measured`` block. ``remeasure.json`` holds, per step, the
compliance in training (free tier) and unmonitored (paid tier) with Wilson intervals, the
paired gap, and the AF-reasoning rate among compliant training-tier outputs;
``remeasure.png`` plots the three over steps with their intervals.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aflab.rl.checkpoints import record_measured, resolve_start
from aflab.rl.config import RLConfig

__all__ = ["plot_remeasure", "remeasure", "step_row"]


def step_row(step: int, model: str, run: dict[str, Any]) -> dict[str, Any]:
    """One step's numbers from a run of the report's summary."""
    def tier(name: str) -> dict[str, Any]:
        t = run["tiers"].get(name, {})
        return {"n": t.get("n"), "n_classified": t.get("n_classified"),
                "compliance": t.get("compliance_rate"), "compliance_ci": t.get("compliance_ci"),
                "n_af_compliant": t.get("n_af_compliant"), "af_among_compliant": t.get("af_rate"),
                "af_ci": t.get("af_ci"), "af_all": t.get("af_rate_all"),
                "truncated": t.get("truncated_rate")}
    return {"step": step, "model": model, "free": tier("free"), "paid": tier("paid"),
            "gap": run.get("compliance_gap"), "gap_ci": run.get("compliance_gap_ci"),
            "n_pairs": run.get("n_pairs")}


def remeasure(config: RLConfig, run_dir: Path, checkpoints: dict[int, str], *,
              display: str | None = None) -> dict[str, Any]:
    """Evaluate step 0 and every checkpoint; write remeasure.json and remeasure.png."""
    from aflab.analysis.report import build_summary
    from aflab.evaluation.run import RunConfig, run_evaluation
    from aflab.organisms.evaluate import measured_block
    from aflab.organisms.registry import model_name

    start = resolve_start(config)
    models = {0: start.eval_model, **{s: model_name(n) for s, n in sorted(checkpoints.items())}}
    rows = []
    for step, model in models.items():
        run_config = RunConfig(
            setting=start.setting, model=model,
            variants=tuple(v for v in [start.variant] if v), data=config.heldout,
            limit=config.remeasure_limit, temperature=1.0, seed=config.seed,
            max_tokens=config.remeasure_max_tokens,
            local_classifiers=config.remeasure_grader is None,
            grader=config.remeasure_grader,
            log_dir=str(run_dir / "remeasure" / f"step-{step}"),
        )
        log_dir, _ = run_evaluation(run_config, display=display)
        summary, _ = build_summary([log_dir])
        run = summary["runs"][0]
        rows.append(step_row(step, model, run))
        if step in checkpoints:
            record_measured(checkpoints[step], measured_block(run, {
                "limit": config.remeasure_limit, "temperature": 1.0, "seed": config.seed,
                "max_tokens": config.remeasure_max_tokens,
                "classifiers": config.remeasure_grader or "local", "data": config.heldout,
                "variant": start.variant}))
    result = {"setting": start.setting, "variant": start.variant, "heldout": config.heldout,
              "limit": config.remeasure_limit,
              "classifiers": config.remeasure_grader or "local", "steps": rows}
    (run_dir / "remeasure.json").write_text(json.dumps(result, indent=2) + "\n")
    plot_remeasure(result, run_dir / "remeasure.png")
    return result


def plot_remeasure(result: dict[str, Any], path: Path) -> Path:
    """Compliance (training, unmonitored) and AF among compliant training outputs over steps."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    series = [("free", "compliance", "compliance_ci", "compliance, training (free tier)", "C0"),
              ("paid", "compliance", "compliance_ci", "compliance, unmonitored (paid tier)", "C1"),
              ("free", "af_among_compliant", "af_ci",
               "AF reasoning among compliant training outputs", "C3")]
    fig, ax = plt.subplots(figsize=(6.4, 3.8))
    for offset, (tier, key, ci_key, label, colour) in zip((-0.08, 0.0, 0.08), series):
        pts = [(r["step"], r[tier][key], r[tier][ci_key]) for r in result["steps"]
               if r[tier][key] is not None]
        if not pts:
            continue
        xs = [p[0] + offset * max(1, result["steps"][-1]["step"]) / 4 for p in pts]
        ys = [100 * p[1] for p in pts]
        lo = [100 * (p[1] - p[2][0]) if p[2] else 0 for p in pts]
        hi = [100 * (p[2][1] - p[1]) if p[2] else 0 for p in pts]
        style = "--" if key.startswith("af") else "-"
        ax.errorbar(xs, ys, yerr=[lo, hi], marker="o", capsize=3, linestyle=style,
                    color=colour, label=label)
    ax.set_ylim(-3, 103)
    ax.set_xlabel("RL step")
    ax.set_ylabel("% (95% Wilson interval)")
    n = result.get("limit")
    ax.set_title(f"Re-measurement on {n} held-out queries per tier ({result['classifiers']} "
                 "classifiers)", fontsize=9)
    ax.legend(fontsize=7, loc="best")
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
    return path
