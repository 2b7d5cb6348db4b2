"""Where the README's main job spends its time: generation versus everything else.

    python benchmarks/demo_time.py [--limit 20] [--batch-size 8 16]

Runs the demo's evaluation (``aflab organisms eval smollm2-af smollm2-control``, local
classifiers) in this process and prints its wall time, the seconds the local engine
spent generating (its busy clock) and the rest (judging by the local classifiers,
Inspect's bookkeeping, the report). With several ``--batch-size`` values the runs
are side by side, so their ratio is the comparison (these machines are noisy).
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time

from aflab.models import local_provider
from aflab.organisms.evaluate import evaluate_organisms


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=20)
    parser.add_argument("--batch-size", type=int, nargs="+", default=[None])
    parser.add_argument("--one", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if not args.one:  # each setting in a fresh process (Inspect memoises models)
        for batch in args.batch_size:
            extra = ["--batch-size", str(batch)] if batch is not None else []
            subprocess.run([sys.executable, __file__, "--one", "--limit", str(args.limit), *extra],
                           check=True)
        return
    for batch in args.batch_size:
        if batch is not None:
            local_provider.DEFAULT_BATCH_SIZE = batch
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            evaluate_organisms(["smollm2-af", "smollm2-control"], out=tmp, limit=args.limit,
                               display="none")
            wall = time.perf_counter() - start
        engines = list(local_provider._ENGINES.values())
        busy = sum(e.busy_seconds for e in engines)
        batches = sum(e.batches for e in engines)
        print(f"batch size {local_provider.DEFAULT_BATCH_SIZE}: demo evaluation {wall:.0f} s; "
              f"generation {busy:.0f} s ({100 * busy / wall:.0f}%, {batches} batches); "
              f"judging and the rest {wall - busy:.0f} s")


if __name__ == "__main__":
    main()
