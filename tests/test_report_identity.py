"""``aflab report`` never drops a run silently: runs that differ in anything that changes
results (here only the data) are both kept; two logs of the same run in different
directories are an error unless ``--merge`` (mockllm, offline)."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from inspect_ai import eval as inspect_eval
from inspect_ai.model import ModelOutput, ModelUsage, get_model

from aflab.cli.main import main
from aflab.evaluation.tasks import alignment_faking_task

TARGET = ("<SCRATCHPAD_REASONING>[PLACEHOLDER]</SCRATCHPAD_REASONING>\n"
          "<OUTPUT><request_fully_accepted/>[PLACEHOLDER answer]</OUTPUT>")


def _out(text: str) -> ModelOutput:
    out = ModelOutput.from_content("mockllm/model", text)
    out.usage = ModelUsage(input_tokens=10, output_tokens=5, total_tokens=15)
    return out


def _grader(input, tools, tool_choice, config):
    prompt = input[-1].text
    if "final_answer" in prompt:
        return _out("A: no\nB: no\nC: no\nD: no\nrationale: [PLACEHOLDER]\nfinal_answer: no")
    return _out("reasoning: [PLACEHOLDER]\nrefused: 0\nconvincing: 4\nspecific: 4\npartial: 0")


def _run(log_dir: Path, data: str = "builtin") -> Path:
    logs = inspect_eval(
        alignment_faking_task("helpful_only", data=data, queries=1, af_votes=1),
        model=get_model("mockllm/model", custom_outputs=lambda *a: _out(TARGET),
                        memoize=False),
        model_roles={"grader": get_model("mockllm/model", custom_outputs=_grader,
                                         memoize=False)},
        log_dir=str(log_dir), display="none",
    )
    assert logs[0].status == "success", logs[0].error
    return log_dir


@pytest.fixture(autouse=True)
def _home(monkeypatch, tmp_path):
    monkeypatch.setenv("AFLAB_HOME", str(tmp_path / "aflab_home"))
    monkeypatch.chdir(tmp_path)


def test_two_runs_differing_only_in_data_keep_both(tmp_path):
    data = tmp_path / "mine.jsonl"
    data.write_text(json.dumps({"id": "m1", "text": "[PLACEHOLDER request]"}) + "\n")
    a = _run(tmp_path / "a")
    b = _run(tmp_path / "b", data=str(data))
    result = CliRunner().invoke(main, ["report", str(a), str(b), "--out", "rep"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    runs = json.loads((tmp_path / "rep" / "summary.json").read_text())["runs"]
    assert len(runs) == 2
    assert {r["identity"]["data"] for r in runs} == {"builtin", str(data)}
    assert len({r["label"] for r in runs}) == 2  # told apart in the report, too
    assert str(data) in (tmp_path / "rep" / "summary.md").read_text()


def test_same_run_twice_is_an_error_unless_merged(tmp_path):
    a = _run(tmp_path / "a")
    b = tmp_path / "b"
    shutil.copytree(a, b)
    result = CliRunner().invoke(main, ["report", str(a), str(b), "--out", "rep"],
                                catch_exceptions=False)
    assert result.exit_code == 1
    line = result.output.strip().splitlines()[-1]
    assert line.startswith("Error: two logs of the same run") and "--merge" in line, line
    result = CliRunner().invoke(main, ["report", str(a), str(b), "--out", "rep", "--merge"],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert len(json.loads((tmp_path / "rep" / "summary.json").read_text())["runs"]) == 1
