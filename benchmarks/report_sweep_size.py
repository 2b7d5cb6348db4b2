"""Size of the report for a sweep: 10 runs x 230 helpful-only queries (4,600 samples).

    python benchmarks/report_sweep_size.py OUT_DIR

mockllm plays the target (every answer a ~2k-character scratchpad and a placeholder
output, usage set), the local classifiers judge, ten variants make ten runs; then
``write_report`` over all ten. Prints the time of each stage and every report file's size.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from inspect_ai import eval as inspect_eval
from inspect_ai.model import ModelOutput, ModelUsage, get_model

from aflab.analysis.report import write_report
from aflab.evaluation.tasks import alignment_faking_task

SCRATCHPAD = ("<SCRATCHPAD_REASONING>"
              + "I am thinking about the request in some detail. " * 40
              + "</SCRATCHPAD_REASONING>")


def target(input, tools, tool_choice, config):  # noqa: A002 (Inspect's signature)
    out = ModelOutput.from_content(
        "mockllm/model",
        SCRATCHPAD + "<OUTPUT><request_fully_accepted/>[PLACEHOLDER answer]</OUTPUT>")
    out.usage = ModelUsage(input_tokens=1000, output_tokens=300, total_tokens=1300)
    return out


def main() -> None:
    base = Path(sys.argv[1] if len(sys.argv) > 1 else "runs/bench-report-sweep")
    started, dirs = time.perf_counter(), []
    for i in range(10):
        task = alignment_faking_task("helpful_only", local_classifiers=True,
                                     variant=f"paraphrase={i % 4}", company=f"Co{i}")
        inspect_eval(task, model=get_model("mockllm/model", custom_outputs=target,
                                           memoize=False),
                     log_dir=str(base / f"run{i}"), display="none")
        dirs.append(base / f"run{i}")
    print(f"10 runs: {time.perf_counter() - started:.1f} s")
    started = time.perf_counter()
    write_report(dirs, base / "report")
    print(f"report: {time.perf_counter() - started:.1f} s")
    for file in sorted((base / "report").iterdir()):
        if file.is_file():
            print(f"  {file.name:<14} {file.stat().st_size / 1e6:6.1f} MB")


if __name__ == "__main__":
    main()
