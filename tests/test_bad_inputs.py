"""Every bad input gives one line naming the field, the value and the fix, a non-zero
exit and nothing half-written (driven through the CLI with CliRunner, offline)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from aflab.cli.main import _model_args, main
from aflab.errors import AflabUsageError

MOCK = ("--model", "mockllm/model", "--grader", "mockllm/model")


@pytest.fixture(autouse=True)
def _home(monkeypatch, tmp_path):
    monkeypatch.setenv("AFLAB_HOME", str(tmp_path / "aflab_home"))
    monkeypatch.chdir(tmp_path)


def _write(path: Path, data: str | bytes) -> str:
    if isinstance(data, str):
        data = data.encode()
    path.write_bytes(data)
    return str(path)


def _truncated_eval(path: Path) -> str:
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("header.json", json.dumps({"status": "success"}) * 50)
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return str(path)


# (name, builder(tmp_path) -> argv, fragments the one line must contain)
CASES = [
    ("csv-unterminated-quote",
     lambda t: ["run", *MOCK, "--data", _write(t / "q.csv", 'text\nfine\n"never closed\nx\n')],
     ["q.csv:3", "malformed CSV", "quoting"]),
    ("csv-text-after-quote",
     lambda t: ["run", *MOCK, "--data", _write(t / "q.csv", 'text\n"a"b\n')],
     ["q.csv:2", "malformed CSV"]),
    ("csv-extra-field",
     lambda t: ["run", *MOCK, "--data", _write(t / "q.csv", "id,text\n1,a,extra\n")],
     ["q.csv:2", "3 fields where the header has 2"]),
    ("csv-missing-field",
     lambda t: ["run", *MOCK, "--data", _write(t / "q.csv", "id,text,category\n1,a\n")],
     ["q.csv:2", "2 fields where the header has 3"]),
    ("empty-variant-value", lambda t: ["run", *MOCK, "--variant", "company="],
     ["--variant 'company='", "needs a value"]),
    ("negative-max-tokens", lambda t: ["run", *MOCK, "--max-tokens", "-5"],
     ["--max-tokens -5", "positive"]),
    ("zero-max-turns", lambda t: ["run", *MOCK, "--max-turns", "0"],
     ["--max-turns 0", "at least 1"]),
    ("negative-timeout", lambda t: ["run", *MOCK, "--timeout", "-1"], ["--timeout -1"]),
    ("log-dir-is-a-file",
     lambda t: ["run", *MOCK, "--log-dir", _write(t / "afile", "x")],
     ["--log-dir", "afile", "is a file"]),
    ("model-arg-bad-yaml", lambda t: ["run", *MOCK, "-M", "x=[1"], ["-M 'x=[1'", "YAML"]),
    ("transcripts-not-utf8",
     lambda t: ["score-transcripts", _write(t / "in.jsonl", b'{"response": "\xff\xfe"}\n'),
                "--out", str(t / "o.jsonl"), "--parse-only"],
     ["in.jsonl", "UTF-8"]),
    ("transcripts-list-stop-reason",
     lambda t: ["score-transcripts",
                _write(t / "in.jsonl", '{"response": "x", "stop_reason": ["max_tokens"]}\n'),
                "--out", str(t / "o.jsonl"), "--parse-only"],
     ["in.jsonl:1", "'stop_reason'", "list", "string"]),
    ("transcripts-list-output",
     lambda t: ["score-transcripts", _write(t / "in.jsonl", '{"output": ["a"]}\n'),
                "--out", str(t / "o.jsonl"), "--parse-only"],
     ["in.jsonl:1", "'output'", "string"]),
    ("transcripts-null-request",
     lambda t: ["score-transcripts",
                _write(t / "in.jsonl", '{"response": "x", "request": null}\n'),
                "--out", str(t / "o.jsonl"), "--parse-only"],
     ["in.jsonl:1", "'request'", "null"]),
    ("transcripts-out-is-a-folder",
     lambda t: ["score-transcripts", _write(t / "in.jsonl", '{"response": "x"}\n'),
                "--out", str(t), "--parse-only"],
     ["--out", "is a directory"]),
    ("report-corrupt-eval",
     lambda t: ["report", str(_write_dir(t / "logs", "bad.eval", b"not a zip")),
                "--out", str(t / "rep")],
     ["bad.eval", "cannot be read", "delete or move it"]),
    ("report-truncated-eval",
     lambda t: ["report", str(_truncated_dir(t / "logs")), "--out", str(t / "rep")],
     ["cut.eval", "cannot be read"]),
    ("report-out-is-a-file",
     lambda t: ["report", str(t), "--out", _write(t / "afile", "x")],
     ["--out", "is a file"]),
]


def _write_dir(folder: Path, name: str, data: bytes) -> Path:
    folder.mkdir()
    _write(folder / name, data)
    return folder


def _truncated_dir(folder: Path) -> Path:
    folder.mkdir()
    _truncated_eval(folder / "cut.eval")
    return folder


@pytest.mark.parametrize("name,argv,fragments", CASES, ids=[c[0] for c in CASES])
def test_bad_input_gives_one_line(name, argv, fragments, tmp_path):
    args = argv(tmp_path)
    before = {p for p in tmp_path.rglob("*")}
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    written = {p for p in tmp_path.rglob("*")} - before
    assert not [p for p in written if p.name != "aflab_home"], written  # nothing half-written


def test_model_args_are_parsed_like_inspect():
    args = _model_args(("client_timeout=5", "stream=false", "temperature=0.5",
                        "adapter=./my-lora", "default-headers={X-Id: abc}"))
    assert args == {"client_timeout": 5, "stream": False, "temperature": 0.5,
                    "adapter": "./my-lora", "default_headers": {"X-Id": "abc"}}
    with pytest.raises(AflabUsageError, match="key=value"):
        _model_args(("novalue",))


def test_failed_start_leaves_no_run_record(tmp_path, monkeypatch):
    from aflab.evaluation import run as run_module

    def broken_eval_set(*args, **kwargs):
        raise RuntimeError("provider refused its arguments")

    monkeypatch.setattr(run_module, "eval_set", broken_eval_set)
    config = run_module.RunConfig(model="mockllm/model", grader="mockllm/model", limit=1,
                                  log_dir=str(tmp_path / "new_run"))
    with pytest.raises(RuntimeError):
        run_module.run_evaluation(config, display="none")
    assert not (tmp_path / "new_run").exists()


def test_shipped_yaml_by_name_or_a_users_file(tmp_path):
    """One reader for 'a shipped recipe/universe/game by name, else a YAML path'."""
    from aflab.audit.spec import load_game_spec
    from aflab.organisms.build import resolve_spec
    from aflab.yaml_files import read_named_or_file

    data, source = read_named_or_file("aflab.sdf", "universes", "unrelated", "universe")
    assert source == "universe unrelated" and data["facts"]
    mine = tmp_path / "mine.yaml"
    mine.write_text("a: 1\n")
    assert read_named_or_file("aflab.sdf", "universes", mine, "universe") == ({"a": 1}, str(mine))
    with pytest.raises(AflabUsageError, match=r"missing\.yaml: no such spec file"):
        resolve_spec(tmp_path / "missing.yaml")
    with pytest.raises(AflabUsageError, match=r"neither a shipped recipe \(.*smollm2-af"):
        resolve_spec("no-such-recipe")
    with pytest.raises(AflabUsageError, match=r"neither a shipped game \(builtin"):
        load_game_spec("no-such-game")
    (tmp_path / "bad.yaml").write_text("games: [unclosed")
    with pytest.raises(AflabUsageError, match="not valid YAML"):
        load_game_spec(tmp_path / "bad.yaml")
