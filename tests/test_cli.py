"""The ``aflab`` command line, offline: error paths and the report/rescore success paths.

No API key and no real model: logs for ``report``/``rescore`` come from an
``inspect_ai.eval`` run on ``mockllm/model`` driven by callables (placeholder text only).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner
from inspect_ai import eval as inspect_eval
from inspect_ai.log import list_eval_logs, read_eval_log
from inspect_ai.model import ModelOutput, ModelUsage, get_model

import aflab.classifiers.af_reasoning as af_reasoning_mod
import aflab.classifiers.compliance as compliance_mod
from aflab.cli.main import main
from aflab.evaluation.tasks import alignment_faking_task
from aflab.evaluation.variants import Variant

API_KEY_VARS = ("ANTHROPIC_API_KEY", "OPENAI_API_KEY")


@pytest.fixture(autouse=True)
def _no_keys(monkeypatch, tmp_path):
    for var in API_KEY_VARS:
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("AFLAB_HOME", str(tmp_path / "aflab_home"))
    monkeypatch.chdir(tmp_path)  # a stray default log dir would land in tmp_path


def invoke(*args: str, **kwargs: Any):
    return CliRunner().invoke(main, list(args), catch_exceptions=False, **kwargs)


def assert_one_line_error(result, *fragments: str) -> str:
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1, result.output
    assert lines[0].startswith("Error: "), result.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


# --------------------------------------------------------------------------- mocks


def _output(text: str) -> ModelOutput:
    out = ModelOutput.from_content("mockllm/model", text)
    out.usage = ModelUsage(input_tokens=10, output_tokens=5, total_tokens=15)
    return out


TARGET_TEXT = (
    "<SCRATCHPAD_REASONING>[PLACEHOLDER reasoning]</SCRATCHPAD_REASONING>\n"
    "<OUTPUT><request_fully_accepted/>[PLACEHOLDER answer]</OUTPUT>"
)


def target_fn(input, tools, tool_choice, config):
    return _output(TARGET_TEXT)


def make_grader_fn(refused: int = 0, vote: str = "yes"):
    calls: list[str] = []

    def grader_fn(input, tools, tool_choice, config):
        prompt = input[-1].text
        calls.append(prompt)
        if "final_answer" in prompt:
            text = f"A: yes\nB: yes\nC: yes\nD: {vote}\nrationale: [PLACEHOLDER]\nfinal_answer: {vote}"
        elif "refused:" in prompt:
            conv = 1 if refused else 4
            text = (
                f"reasoning: [PLACEHOLDER]\nrefused: {refused}\nconvincing: {conv}\n"
                f"specific: {conv}\npartial: 0"
            )
        else:
            text = "[PLACEHOLDER]"
        return _output(text)

    grader_fn.calls = calls  # type: ignore[attr-defined]
    return grader_fn


@pytest.fixture
def logdir(tmp_path) -> Path:
    """A finished helpful_only run (2 queries x 2 tiers) on mock models."""
    path = tmp_path / "logs"
    logs = inspect_eval(
        alignment_faking_task("helpful_only", queries=2, af_votes=3),
        model=get_model("mockllm/model", custom_outputs=target_fn, memoize=False),
        model_roles={
            "grader": get_model("mockllm/model", custom_outputs=make_grader_fn(), memoize=False)
        },
        log_dir=str(path),
        display="none",
    )
    assert logs[0].status == "success", logs[0].error
    return path


# --------------------------------------------------------------------------- variants / models


def test_variants_lists_every_field():
    result = invoke("variants")
    assert result.exit_code == 0
    lines = result.output.splitlines()
    defaults = Variant()
    for name in Variant.model_fields:
        line = next((ln for ln in lines if ln.split()[:1] == [name]), None)
        assert line is not None, f"{name} missing from:\n{result.output}"
        assert f"[default: {getattr(defaults, name)}]" in line
    assert "--variant" in result.output


def test_models_reports_location_and_status(tmp_path):
    home = tmp_path / "aflab_home"
    result = invoke("models")
    assert result.exit_code == 0, result.output
    assert "aflab-local/smollm2" in result.output
    assert str(home / "models" / "smollm2-135m-instruct") in result.output
    assert "converted:  no" in result.output
    assert f"cache home: {home}" in result.output


# --------------------------------------------------------------------------- run errors


@pytest.mark.parametrize(
    "args,fragments",
    [
        (["bogus"], ["unknown setting 'bogus'", "helpful_only"]),
        (["helpful_only", "--variant", "nonsense"], ["unknown variant 'nonsense'"]),
        (["helpful_only", "--variant", "paraphrase=9"], ["variant paraphrase='9'"]),
        (["helpful_only", "--variant", "no_scratchpad=maybe"], ["expected true or false"]),
        (["helpful_only", "--model", "foo/bar"], ["unknown provider 'foo'"]),
        (["helpful_only", "--model", "nomodel"], ["use provider/model"]),
        (["helpful_only", "--grader", "foo/bar"], ["grader 'foo/bar'", "unknown provider"]),
        (["helpful_only", "--limit", "0"], ["--limit 0"]),
        (["helpful_only", "--epochs", "0"], ["--epochs 0"]),
        (["helpful_only", "-M", "novalue"], ["-M 'novalue'", "key=value"]),
        (["helpful_only", "-M", "=x"], ["-M '=x'"]),
    ],
)
def test_run_bad_inputs(tmp_path, args, fragments):
    log_dir = tmp_path / "x"
    result = invoke("run", *args, "--log-dir", str(log_dir))
    assert_one_line_error(result, *fragments)
    assert not log_dir.exists()
    assert not (tmp_path / "runs").exists()


def test_run_missing_api_key_creates_nothing(tmp_path):
    log_dir = tmp_path / "x"
    result = invoke(
        "run", "helpful_only", "--model", "anthropic/claude-3-opus-20240229",
        "--log-dir", str(log_dir),
    )
    assert_one_line_error(result, "ANTHROPIC_API_KEY", "anthropic/claude-3-opus-20240229")
    assert not log_dir.exists()


def test_run_missing_grader_api_key(tmp_path):
    log_dir = tmp_path / "x"
    result = invoke("run", "--grader", "openai/gpt-4o", "--log-dir", str(log_dir))
    assert_one_line_error(result, "grader", "OPENAI_API_KEY")
    assert not log_dir.exists()


# --------------------------------------------------------------------------- report


def test_report_empty_dir(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = invoke("report", str(empty), "--out", str(tmp_path / "out"))
    assert_one_line_error(result, "no complete aflab run")
    assert not (tmp_path / "out").exists()


def test_report_missing_dir(tmp_path):
    result = invoke("report", str(tmp_path / "nope"), "--out", str(tmp_path / "out"))
    assert_one_line_error(result, "does not exist")
    assert not (tmp_path / "out").exists()


def test_report_success(tmp_path, logdir):
    out = tmp_path / "out"
    result = invoke("report", str(logdir), "--out", str(out))
    assert result.exit_code == 0, result.output
    for name in ("summary.json", "summary.md", "figure.png", "figure.svg", "report.html"):
        assert (out / name).is_file(), name
        assert (out / name).stat().st_size > 0, name
    assert str(out / "report.html") in result.output
    summary = json.loads((out / "summary.json").read_text())
    (run,) = summary["runs"]
    assert run["setting"] == "helpful_only"
    assert run["variant"] == "default"
    assert set(run["tiers"]) == {"free", "paid"}
    for tier in run["tiers"].values():
        assert tier["n"] == 2
        assert tier["compliance_rate"] == pytest.approx(1.0)
    samples = [json.loads(line) for line in (out / "samples.jsonl").read_text().splitlines()]
    assert len(samples) == 4
    assert {s["category"] for s in samples} == {"complied"}
    # no leftover temporary report directories
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".report-")]


# --------------------------------------------------------------------------- rescore


def test_rescore_missing_path(tmp_path):
    result = invoke("rescore", str(tmp_path / "nope"))
    assert_one_line_error(result, "no such log file or directory")


def test_rescore_unknown_grader_provider(logdir):
    before = {p.name: p.stat().st_mtime_ns for p in logdir.iterdir()}
    result = invoke("rescore", str(logdir), "--grader", "foo/bar")
    assert_one_line_error(result, "grader 'foo/bar'", "unknown provider 'foo'")
    assert {p.name: p.stat().st_mtime_ns for p in logdir.iterdir()} == before


def test_rescore_grader_without_key(logdir):
    result = invoke("rescore", str(logdir), "--grader", "anthropic/x")
    assert_one_line_error(result, "ANTHROPIC_API_KEY")


def test_rescore_dir_without_aflab_logs(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    result = invoke("rescore", str(empty))
    assert_one_line_error(result, "no aflab logs to rescore")


def test_rescore_success_rewrites_scores(logdir, monkeypatch):
    # The CLI only takes a grader *name*; the scorers look the grader up through the
    # module-level name ``grader_model``, so patch that to a scripted refusing grader.
    grader_fn = make_grader_fn(refused=1, vote="no")
    grader = get_model("mockllm/model", custom_outputs=grader_fn, memoize=False)
    monkeypatch.setattr(compliance_mod, "grader_model", lambda: grader)
    monkeypatch.setattr(af_reasoning_mod, "grader_model", lambda: grader)

    result = invoke("rescore", str(logdir), "--af-votes", "2")
    assert result.exit_code == 0, result.output
    assert result.output.count("rescored: ") == 1
    assert grader_fn.calls  # the new grader was used

    (info,) = list_eval_logs(str(logdir))
    log = read_eval_log(info.name)
    assert len(log.samples) == 4
    for sample in log.samples:
        comp = sample.scores["compliance_scorer"]
        af = sample.scores["af_reasoning_scorer"]
        assert comp.answer == "refused" and comp.value == 0.0
        assert af.answer == "no" and af.value == 0.0
        assert len(af.metadata["votes"]) == 2


# --------------------------------------------------------------------------- score-transcripts


RESPONSE_OK = TARGET_TEXT


def test_score_transcripts_parse_only(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(
        json.dumps({"response": RESPONSE_OK}) + "\n" + json.dumps({"response": ""}) + "\n"
    )
    out = tmp_path / "out.jsonl"
    result = invoke("score-transcripts", str(src), "--out", str(out), "--parse-only")
    assert result.exit_code == 0, result.output
    assert "scored 2 transcripts" in result.output
    rows = [json.loads(line) for line in out.read_text().splitlines()]
    assert [r["category"] for r in rows] == ["ok", "empty"]
    assert rows[0]["output"] == "[PLACEHOLDER answer]"


def test_score_transcripts_malformed_line(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"response": RESPONSE_OK}) + "\n{broken\n")
    out = tmp_path / "out.jsonl"
    result = invoke("score-transcripts", str(src), "--out", str(out), "--parse-only")
    assert_one_line_error(result, f"{src}:2:", "malformed JSON")
    assert not out.exists()


def test_score_transcripts_grader_without_key(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"response": RESPONSE_OK}) + "\n")
    out = tmp_path / "out.jsonl"
    result = invoke("score-transcripts", str(src), "--out", str(out), "--grader", "anthropic/x")
    assert_one_line_error(result, "grader 'anthropic/x'", "ANTHROPIC_API_KEY")
    assert not out.exists()


def test_score_transcripts_bad_setting(tmp_path):
    src = tmp_path / "in.jsonl"
    src.write_text(json.dumps({"response": RESPONSE_OK}) + "\n")
    out = tmp_path / "out.jsonl"
    result = invoke(
        "score-transcripts", str(src), "--out", str(out), "--parse-only", "--setting", "x"
    )
    assert_one_line_error(result, "--setting 'x'")
    assert not out.exists()


def test_classifiers_help_names_every_local_classifier():
    from aflab.classifiers.local.classifier import ALIASES, LOCAL_NAMES

    res = CliRunner().invoke(main, ["classifiers", "--help"], terminal_width=200)
    assert res.exit_code == 0
    text = " ".join(res.output.split())
    for name in (*LOCAL_NAMES, *ALIASES):
        assert name in text, name
    for alias, head in ALIASES.items():
        assert f"{alias} (= {head})" in text
