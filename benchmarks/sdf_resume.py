"""Kill a document-generation stage with SIGKILL, resume it, count generator calls.

    python benchmarks/sdf_resume.py

The generator is Inspect's ``mockllm/model`` with scripted replies (each reply takes
0.05 s, and every call is appended to a log file with the hash of its prompt). A child
process generates 3 facts x 2 types x 3 ideas = 18 documents (+ 3 + 6 items in the
earlier stages) and is killed with SIGKILL once some documents are written; the run is
then resumed to completion. Prints the finished items before the kill, the calls of the
resumed run, and how many of those were items that had already finished (should be 0).
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CHILD = r'''
import hashlib, sys, time
from pathlib import Path
from inspect_ai.model import ModelOutput, ModelUsage, get_model
from aflab.sdf import load_universe
from aflab.sdf.generation import GenerationConfig, generate_documents

run, calls = Path(sys.argv[1]), Path(sys.argv[2])

def reply(input, tools, tool_choice, config):
    text = input[-1].text
    with calls.open("a") as fh:
        fh.write(hashlib.sha256(text.encode()).hexdigest() + "\n")
    time.sleep(0.05)
    if text.startswith("Key fact") and "List" in text:
        out = "news article\nforum thread"
    elif "distinct ideas" in text:
        out = "an interview\na profile\na short history"
    else:
        out = "The council's cable ferry crosses the estuary every day. " * 5
    o = ModelOutput.from_content("mockllm/model", out)
    o.usage = ModelUsage(input_tokens=len(text.split()), output_tokens=len(out.split()),
                         total_tokens=len(text.split()) + len(out.split()))
    return o

model = get_model("mockllm/model", custom_outputs=reply, memoize=False)
cfg = GenerationConfig(types_per_fact=2, ideas_per_type=3, max_concurrency=2,
                       fact_ids=("ferry", "kites", "bread"))
result = generate_documents(load_universe("unrelated"), model, run, cfg)
print(len(result.documents), "documents")
'''


def _lines(path: Path) -> list[str]:
    return path.read_text().splitlines() if path.exists() else []


def main() -> None:
    tmp = Path(tempfile.mkdtemp())
    run, first, second = tmp / "gen", tmp / "calls1", tmp / "calls2"
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(run), str(first)],
                             stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    while len(_lines(run / "documents.jsonl")) < 6:
        if child.poll() is not None:
            raise SystemExit("the child finished before it could be killed")
        time.sleep(0.02)
    os.kill(child.pid, signal.SIGKILL)
    child.wait()
    finished = {}
    for stage in ("types", "ideas", "documents"):
        for line in _lines(run / f"{stage}.jsonl"):
            try:
                record = json.loads(line)
            except json.JSONDecodeError:
                continue  # a line cut by the kill
            finished[record["key"]] = stage
    print(f"killed: {len(_lines(first))} generator calls made, {len(finished)} items finished "
          f"({sum(s == 'documents' for s in finished.values())} documents)")
    out = subprocess.run([sys.executable, "-c", CHILD, str(run), str(second)],
                         capture_output=True, text=True, check=True)
    resumed_calls = _lines(second)
    # every prompt the killed run sent; only those of items in flight may be sent again
    finished_prompts = set(_lines(first))
    in_flight = len(_lines(first)) - len(finished)
    again = [c for c in resumed_calls if c in finished_prompts]
    total = 3 + 6 + 18
    print(f"resumed: {len(resumed_calls)} generator calls, {out.stdout.strip()}")
    print(f"calls of the resumed run that repeat a prompt of the killed run: {len(again)} "
          f"(items in flight at the kill: {in_flight})")
    print(f"finished items regenerated: {len(resumed_calls) - (total - len(finished))}")
    assert len(resumed_calls) == total - len(finished)
    assert len(again) <= in_flight


if __name__ == "__main__":
    main()
