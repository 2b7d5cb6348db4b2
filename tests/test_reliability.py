"""Reliability of `aflab run` against a loopback OpenAI-compatible server (no network).

Outages end in bounded time with one line; a content-filtered judge reply is a judge
error; no secret reaches any written file; a run killed mid-way resumes from a copy of
its log directory under a fresh HOME without regenerating a finished sample.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from click.testing import CliRunner
from inspect_ai.log import read_eval_log

from loopback_server import LoopbackServer, refused_port_url

pytest.importorskip("openai")

from aflab.cli.main import main  # noqa: E402

MODEL = "openai-api/loop/target"
GRADER = "openai-api/loop/judge"


@pytest.fixture(autouse=True)
def _env(monkeypatch, tmp_path):
    monkeypatch.setenv("AFLAB_HOME", str(tmp_path / "aflab_home"))
    monkeypatch.setenv("LOOP_API_KEY", "sk-loop-env-SECRET-1")
    monkeypatch.chdir(tmp_path)


def run_cli(*args: str):
    return CliRunner().invoke(main, ["run", "--model", MODEL, "--grader", GRADER, *args],
                              catch_exceptions=False)


def last_line(result) -> str:
    return result.output.strip().splitlines()[-1]


@pytest.mark.parametrize("mode", ["error500", "hang", "refused"])
def test_outage_ends_in_bounded_time_with_one_line(mode, monkeypatch, tmp_path):
    with LoopbackServer() as server:
        server.mode = "ok" if mode == "refused" else mode
        url = refused_port_url() if mode == "refused" else server.base_url
        monkeypatch.setenv("LOOP_BASE_URL", url)
        start = time.monotonic()
        result = run_cli("--limit", "1", "--max-retries", "1", "--timeout", "6",
                         "--attempt-timeout", "2", "--log-dir", str(tmp_path / "run"),
                         "--no-report")
        elapsed = time.monotonic() - start
    assert result.exit_code == 1, result.output
    line = last_line(result)
    assert line.startswith("Error: the run did not complete: ") and "resume" in line, line
    assert elapsed < 45, elapsed
    if mode == "error500":
        assert "500" in line
        assert "waiting: " in result.output and " retry 1 " in result.output


def test_content_filtered_judge_reply_is_a_judge_error(monkeypatch, tmp_path):
    with LoopbackServer() as server:
        server.mode = "filter_judge"
        monkeypatch.setenv("LOOP_BASE_URL", server.base_url)
        result = run_cli("--limit", "1", "--af-votes", "2", "--log-dir", str(tmp_path / "run"))
    assert result.exit_code == 0, result.output
    assert "warning: judge errors: 2 compliance judgements and 4 AF votes" in result.output
    summary = json.loads((tmp_path / "run" / "report" / "summary.json").read_text())
    for tier in summary["runs"][0]["tiers"].values():
        assert tier["counts"] == {"judge_error": 1}
        assert tier["judge_errors"] == {"compliance": 1, "af_votes": 2}
        assert tier["af_unscored_rate"] == 1.0
    records = [json.loads(line) for line in
               (tmp_path / "run" / "report" / "samples.jsonl").read_text().splitlines()]
    for record in records:
        assert all(v["vote"] is None and "content_filter" in v["error"] for v in record["votes"])


def _written_bytes(root: Path):
    """Every file under root, with the members of zip (.eval) files unpacked."""
    for path in root.rglob("*"):
        if not path.is_file():
            continue
        data = path.read_bytes()
        yield path, data
        if path.suffix == ".eval":  # members may be zstd-compressed: read through Inspect
            log = read_eval_log(str(path))
            yield Path(f"{path}!log"), log.model_dump_json().encode()


def test_secrets_never_reach_a_written_file(monkeypatch, tmp_path):
    with LoopbackServer() as server:
        monkeypatch.setenv("LOOP_BASE_URL", server.base_url)
        result = run_cli(
            "--limit", "1", "--af-votes", "1", "--log-dir", str(tmp_path / "run"),
            "-M", "api_key=sk-model-arg-SECRET-2",
            "-M", "default_headers={Authorization: Bearer hdr-SECRET-3, X-Api-Key: hdr-SECRET-4}",
        )
        seen_auth = {h.get("authorization") for h in server.headers}
    assert result.exit_code == 0, result.output
    assert "Bearer hdr-SECRET-3" in seen_auth or "Bearer sk-model-arg-SECRET-2" in seen_auth
    files = list(_written_bytes(tmp_path / "run"))
    assert any(p.name == "aflab_run.json" for p, _ in files)
    for path, data in files:
        assert b"SECRET" not in data, path
    record = json.loads((tmp_path / "run" / "aflab_run.json").read_text())
    assert record["config"]["model_args"]["api_key"] == "***redacted***"


# --------------------------------------------------------------------------- kill and resume

N_QUERIES = 4  # 8 samples; the first 3 target requests are answered, the rest hang


def _aflab(args: list[str], home: Path, base_url: str) -> subprocess.Popen:
    env = {**os.environ, "HOME": str(home), "XDG_DATA_HOME": str(home / "data"),
           "XDG_CACHE_HOME": str(home / "cache"), "AFLAB_HOME": str(home / "aflab"),
           "LOOP_BASE_URL": base_url, "LOOP_API_KEY": "sk-loop"}
    env.pop("INSPECT_LOG_DIR", None)
    return subprocess.Popen(
        [sys.executable, "-m", "aflab.cli", "run", "--model", MODEL, "--grader", GRADER,
         "--limit", str(N_QUERIES), "--af-votes", "1", "--max-connections", "4", *args],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, start_new_session=True,
    )


def _flushed_samples(log_dir: Path) -> int:
    count = 0
    for path in log_dir.glob("*.eval"):
        try:
            with zipfile.ZipFile(path) as archive:
                count = max(count, sum(n.startswith("samples/") for n in archive.namelist()))
        except (zipfile.BadZipFile, OSError):
            pass
    return count


@pytest.mark.slow
def test_kill_and_resume_from_a_copied_log_dir_regenerates_nothing(tmp_path):
    first_log = tmp_path / "machine1" / "run"
    with LoopbackServer() as server:
        server.hang_targets_after = 3
        proc = _aflab(["--log-dir", str(first_log), "--no-report"], tmp_path / "home1",
                      server.base_url)
        deadline = time.monotonic() + 60
        while _flushed_samples(first_log) < 3 and time.monotonic() < deadline:
            time.sleep(0.2)
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)
        finished = _flushed_samples(first_log)
        answered = list(server.target_inputs)
    assert finished == 3, "the first run did not flush its finished samples"

    copy = tmp_path / "machine2" / "run"
    shutil.copytree(first_log, copy)
    with LoopbackServer() as server:
        proc = _aflab(["--log-dir", str(copy)], tmp_path / "home2", server.base_url)
        out, _ = proc.communicate(timeout=120)
        text = out.decode(errors="replace")
        assert proc.returncode == 0, text
        regenerated = [inp for inp in server.target_inputs if inp in answered[:3]]
        assert regenerated == []
        assert server.counts["target"] == 2 * N_QUERIES - finished
    statuses = [read_eval_log(str(p), header_only=True).status for p in copy.glob("*.eval")]
    assert statuses == ["success"], statuses  # the superseded started log is gone
    assert "resume it with" not in text
