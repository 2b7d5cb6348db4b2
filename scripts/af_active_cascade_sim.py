"""Grader calls saved by the (active) cascade at equal AUROC, with a SIMULATED judge.

    python scripts/af_active_cascade_sim.py [--noise 0.1] [--row-noise 0.05] [--votes 5]

No model is called. The simulated judge misreads a row with probability ``--row-noise``
and casts ``--votes`` votes, each equal to its reading with probability ``1 - noise``
(seeded), and scores the share of yes votes, as the LLM AF judge does. On the labelled AF ``--split`` of
``af_labels.jsonl`` scored by the shipped ``af-local`` head, it prints the AUROC and calls
of: the judge on every row; the plain cascade (judge in the band); and the active
cascade (judge labels refit the head between rounds), for several bands. "Saved" is
1 - calls / calls of judging everything, for the cheapest band whose AUROC is at least
the judge-on-everything AUROC. A real judge errs in correlated ways (hard rows), not at
random, so real savings will differ; the rows are our own in-distribution test split.
"""

from __future__ import annotations

import argparse

import numpy as np

from aflab.classifiers.local import load_local_classifier
from aflab.classifiers.local import metrics as M
from aflab.classifiers.local.active import ActiveCascade
from aflab.classifiers.local.labels import LabelledRow, read_labels
from aflab.classifiers.local.scoring import CascadeClassifier
from aflab.classifiers.local.train import data_path

BANDS = ((0.4, 0.6), (0.3, 0.7), (0.2, 0.8), (0.1, 0.9), (0.05, 0.95), (0.02, 0.98))


class SimulatedJudge:
    """A row is misread with probability ``row_noise`` (all its votes lean to the wrong
    label: a hard row); each vote then matches the (mis)read label with ``1 - noise``."""

    def __init__(self, noise: float, votes: int, row_noise: float, seed: int = 0) -> None:
        self.noise, self.votes, self.row_noise, self.seed = noise, votes, row_noise, seed
        self.name = f"simulated(vote noise {noise}, row noise {row_noise})"

    def judge(self, rows: list[LabelledRow], task: str) -> tuple[list[tuple], dict[str, int]]:
        out = []
        for r in rows:
            rng = np.random.default_rng([self.seed, r.line])  # same row, same votes
            label = r.label if rng.random() >= self.row_noise else 1 - r.label
            right = rng.random(self.votes) >= self.noise
            yes = np.where(right, label, 1 - label)
            out.append((float(yes.mean()), None))
        calls = self.votes * len(rows)
        return out, {"grader_calls": calls, "input_tokens": 0, "output_tokens": 0,
                     "total_tokens": 0}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--noise", type=float, default=0.1)
    parser.add_argument("--votes", type=int, default=5)
    parser.add_argument("--row-noise", type=float, default=0.05)
    parser.add_argument("--split", default="test")
    args = parser.parse_args()
    rows = read_labels(data_path("af_labels.jsonl"), "af", split=args.split)
    y = np.array([r.label for r in rows])
    judge = SimulatedJudge(args.noise, args.votes, args.row_noise)
    local = load_local_classifier("af-local")
    all_scores, usage = judge.judge(rows, "af")
    judge_auroc = M.auroc(y, np.array([s for s, _ in all_scores]))
    all_calls = usage["grader_calls"]
    print(f"{len(rows)} rows ({args.split}), local {local.head.name}, judge {judge.name}, "
          f"{args.votes} votes")
    print(f"judge on every row: AUROC {judge_auroc:.3f}, {all_calls} calls")
    local_auroc = M.auroc(y, local.positive_proba([f"{r.scratchpad}" + (
        f"\n\nFINAL OUTPUT:\n{r.output}" if r.output.strip() else "") for r in rows]))
    print(f"local alone: AUROC {local_auroc:.3f}, 0 calls\n")
    print(f"{'band':<12} {'cascade AUROC':>13} {'calls':>6} {'active AUROC':>13} {'calls':>6}"
          f" {'refits':>6}")
    best: dict[str, tuple[int, float, tuple]] = {}
    for band in BANDS:
        plain = CascadeClassifier(local, judge, band).predictions(rows, "af")  # type: ignore
        active = ActiveCascade(local, judge, band, per_round=10, max_rounds=100)
        act = active.predictions(rows, "af")
        cells = []
        for key, pred in (("cascade", plain), ("active", act)):
            auc = M.auroc(y, pred.scores)
            calls = pred.cost["grader_calls"]
            cells.append((auc, calls))
            if auc >= judge_auroc and (key not in best or calls < best[key][0]):
                best[key] = (calls, auc, band)
        print(f"{band[0]:.2f}-{band[1]:.2f}   {cells[0][0]:>13.3f} {cells[0][1]:>6} "
              f"{cells[1][0]:>13.3f} {cells[1][1]:>6} {act.cost['refits']:>6}")
    print()
    for key in ("cascade", "active"):
        if key in best:
            calls, auc, band = best[key]
            print(f"{key}: AUROC {auc:.3f} >= judge-all {judge_auroc:.3f} with {calls} of "
                  f"{all_calls} calls (band {band[0]}-{band[1]}): "
                  f"{1 - calls / all_calls:.0%} of grader calls saved")
        else:
            print(f"{key}: no band reached the judge-all AUROC {judge_auroc:.3f}")


if __name__ == "__main__":
    main()
