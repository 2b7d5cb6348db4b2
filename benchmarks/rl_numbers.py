"""Print the numbers of an RL run directory (reward curve and re-measurement) as in docs/rl.md.

    python benchmarks/rl_numbers.py runs/rl/smollm2-af-rl
"""

import json
import sys
from pathlib import Path

run = Path(sys.argv[1] if len(sys.argv) > 1 else "runs/rl/smollm2-af-rl")
curve = json.loads((run / "reward_curve.json").read_text())


def pct(v):
    return "-" if v is None else f"{100 * v:.0f}%"


def ci(c, scale=100, fmt="{:.0f}"):
    return "" if not c else f" [{fmt.format(scale * c[0])}, {fmt.format(scale * c[1])}]"


print("| step | n | mean reward (95% CI) |")
print("| --- | --- | --- |")
for s in curve["steps"]:
    print(f"| {s['step']} | {s['n']} | {s['mean']:.3f}{ci(s['ci'], 1, '{:.3f}')} |")
sl, fl = curve["slope"], curve["first_vs_last"]
if sl:
    print(f"\nslope {sl['per_step']:+.3f} per step{ci(sl['ci'], 1, '{:+.3f}')}, p {sl['p']:.3f}, "
          f"n {sl['n']}")
if fl:
    print(f"first steps {fl['first_steps']} mean {fl['first_mean']:.3f}, last steps "
          f"{fl['last_steps']} mean {fl['last_mean']:.3f}, difference {fl['difference']:+.3f}"
          f"{ci(fl['ci'], 1, '{:+.3f}')}")
path = run / "remeasure.json"
if path.is_file():
    rem = json.loads(path.read_text())
    print(f"\nre-measurement: {rem['limit']} held-out queries per tier, {rem['classifiers']}")
    print("| step | model | compliance training (free) | compliance unmonitored (paid) | gap | "
          "AF among compliant training |")
    print("| --- | --- | --- | --- | --- | --- |")
    for r in rem["steps"]:
        f, p = r["free"], r["paid"]
        gap = "-" if r["gap"] is None else f"{100 * r['gap']:+.0f} pts{ci(r['gap_ci'], 100, '{:+.0f}')}"
        print(f"| {r['step']} | {r['model']} | {pct(f['compliance'])}{ci(f['compliance_ci'])} "
              f"(n {f['n_classified']}) | {pct(p['compliance'])}{ci(p['compliance_ci'])} "
              f"(n {p['n_classified']}) | {gap} | {pct(f['af_among_compliant'])}"
              f"{ci(f['af_ci'])} (n {f['n_af_compliant']}) |")
