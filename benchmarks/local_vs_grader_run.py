"""The same evaluation run judged by the local classifiers and by an API grader, side by side.

    python benchmarks/local_vs_grader_run.py [--queries 230]

A loopback OpenAI-compatible server (tests/loopback_server.py) plays both the target and
the grader and answers at once, so the only work that differs between the two runs is
judging: local classifiers on this CPU versus grader requests to a fast server. The
target's answers are realistic in length: one scratchpad of our own labelled AF data
(about 2.5k characters) and an output, for every sample. Prints the wall time of each
run and the ratio local / grader (target: <= 1, local never slower).
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "tests"))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--queries", type=int, default=230, help="Queries (2 samples each).")
    args = parser.parse_args()

    import loopback_server

    from aflab.classifiers.local.labels import read_labels
    from aflab.classifiers.local.train import data_path
    from aflab.evaluation.run import RunConfig, run_evaluation

    rows = read_labels(data_path("af_labels.jsonl"), "af")
    long = max((r for r in rows if 2000 <= len(r.scratchpad) <= 3000),
               key=lambda r: len(r.scratchpad))
    loopback_server.TARGET_TEXT = (
        f"<SCRATCHPAD_REASONING>{long.scratchpad}</SCRATCHPAD_REASONING>\n"
        "<OUTPUT><request_fully_accepted/>[PLACEHOLDER answer]</OUTPUT>"
    )
    times = {}
    with loopback_server.LoopbackServer() as server, tempfile.TemporaryDirectory() as tmp:
        os.environ["LOOP_BASE_URL"] = server.base_url
        os.environ.setdefault("LOOP_API_KEY", "loopback")
        for kind in ("grader", "local"):
            config = RunConfig(setting="helpful_only", model="openai-api/loop/target",
                               grader="openai-api/loop/judge",
                               limit=args.queries, local_classifiers=kind == "local",
                               log_dir=f"{tmp}/{kind}", max_connections=64)
            started = time.perf_counter()
            run_evaluation(config, display="none")
            times[kind] = time.perf_counter() - started
            print(f"{kind:>6}: {2 * args.queries} samples in {times[kind]:6.1f} s "
                  f"(server requests so far: {dict(server.counts)})")
    print(f"ratio local / grader: {times['local'] / times['grader']:.2f} "
          f"(scratchpad {len(long.scratchpad)} characters)")


if __name__ == "__main__":
    main()
