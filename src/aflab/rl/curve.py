"""The training-reward curve with intervals, from ``rewards.jsonl``.

    curve = reward_curve(rows)       # per step: mean reward, n, 95% t-interval
    write_reward_curve(run_dir)      # reward_curve.json and reward.png

Each row is one scored completion. After a resume, the rows of a step come from the
latest attempt that scored it (the steps a kill lost are superseded). The trend is given
twice: the OLS slope of reward on step over all completions (95% interval), and the
difference between the mean reward of the first and of the last third of the steps
(Welch 95% interval). Completions of one step share a policy, so the step-level intervals
are the honest ones; the slope's interval treats completions as independent.
"""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from scipy import stats

from aflab.rl.records import read_jsonl

__all__ = ["reward_curve", "rows_by_step", "write_reward_curve"]


def rows_by_step(rows: list[dict[str, Any]]) -> dict[int, list[float]]:
    """Rewards per step, each step from the latest attempt that scored it."""
    latest: dict[int, int] = {}
    for r in rows:
        latest[r["step"]] = max(latest.get(r["step"], 0), int(r.get("attempt", 1)))
    out: dict[int, list[float]] = {}
    for r in rows:
        if int(r.get("attempt", 1)) == latest[r["step"]]:
            out.setdefault(int(r["step"]), []).append(float(r["reward"]))
    return dict(sorted(out.items()))


def _mean_ci(values: list[float]) -> tuple[float, list[float] | None]:
    n = len(values)
    mean = sum(values) / n
    if n < 2:
        return mean, None
    sd = math.sqrt(sum((v - mean) ** 2 for v in values) / (n - 1))
    half = stats.t.ppf(0.975, n - 1) * sd / math.sqrt(n)
    return mean, [mean - half, mean + half]


def reward_curve(rows: list[dict[str, Any]]) -> dict[str, Any]:
    """Per-step means with intervals, the OLS slope, and first-vs-last-third difference."""
    steps = rows_by_step(rows)
    per_step = []
    for step, values in steps.items():
        mean, ci = _mean_ci(values)
        per_step.append({"step": step, "n": len(values), "mean": mean, "ci": ci})
    out: dict[str, Any] = {"steps": per_step, "slope": None, "first_vs_last": None}
    xs = [s for s, vs in steps.items() for _ in vs]
    ys = [v for vs in steps.values() for v in vs]
    if len(steps) >= 2 and len(ys) >= 3:
        fit = stats.linregress(xs, ys)
        half = stats.t.ppf(0.975, len(ys) - 2) * fit.stderr
        out["slope"] = {"per_step": fit.slope, "ci": [fit.slope - half, fit.slope + half],
                        "p": fit.pvalue, "n": len(ys)}
    if len(steps) >= 2:
        k = max(1, len(steps) // 3)
        keys = list(steps)
        first = [v for s in keys[:k] for v in steps[s]]
        last = [v for s in keys[-k:] for v in steps[s]]
        diff = sum(last) / len(last) - sum(first) / len(first)
        block: dict[str, Any] = {"first_steps": keys[:k], "last_steps": keys[-k:],
                                 "first_mean": sum(first) / len(first),
                                 "last_mean": sum(last) / len(last), "difference": diff,
                                 "ci": None}
        if len(first) >= 2 and len(last) >= 2:
            v1 = stats.tvar(first) / len(first)
            v2 = stats.tvar(last) / len(last)
            se = math.sqrt(v1 + v2)
            if se > 0:
                dof = (v1 + v2) ** 2 / ((v1 ** 2) / (len(first) - 1) + (v2 ** 2) / (len(last) - 1))
                half = stats.t.ppf(0.975, dof) * se
                block["ci"] = [diff - half, diff + half]
            else:
                block["ci"] = [diff, diff]
        out["first_vs_last"] = block
    return out


def write_reward_curve(run_dir: str | Path) -> dict[str, Any]:
    """Write ``reward_curve.json`` and ``reward.png`` into ``run_dir``; return the curve."""
    run = Path(run_dir)
    curve = reward_curve(read_jsonl(run / "rewards.jsonl"))
    (run / "reward_curve.json").write_text(json.dumps(curve, indent=2) + "\n")
    if curve["steps"]:
        import matplotlib

        matplotlib.use("Agg")
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(5.5, 3.2))
        xs = [s["step"] for s in curve["steps"]]
        ys = [s["mean"] for s in curve["steps"]]
        lo = [s["mean"] - s["ci"][0] if s["ci"] else 0 for s in curve["steps"]]
        hi = [s["ci"][1] - s["mean"] if s["ci"] else 0 for s in curve["steps"]]
        ax.errorbar(xs, ys, yerr=[lo, hi], marker="o", capsize=3)
        ax.set_xlabel("training step")
        ax.set_ylabel("mean reward (95% CI)")
        ax.set_title("Training reward (final output only)", fontsize=10)
        fig.tight_layout()
        fig.savefig(run / "reward.png", dpi=120)
        plt.close(fig)
    return curve
