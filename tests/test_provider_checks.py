"""Provider prerequisites give one line naming the fix before anything runs: a missing
SDK (simulated), a missing key or base URL (``openai-api/NAME``, ``vllm``), keys in a
``.env`` file counted as Inspect counts them, and a 401/403 from a loopback server ends
the run with one line and no retries."""

from __future__ import annotations

import importlib.util
import sys

import pytest
from click.testing import CliRunner

from loopback_server import LoopbackServer

from aflab.cli.main import main
from aflab.models.checks import check_model

ENV_VARS = ("OPENAI_API_KEY", "LOOP_API_KEY", "LOOP_BASE_URL", "VLLM_BASE_URL")


@pytest.fixture(autouse=True)
def _env(monkeypatch, tmp_path):
    for var in ENV_VARS:
        monkeypatch.setenv(var, "placeholder")  # recorded, so .env loading is undone too
        monkeypatch.delenv(var)
    monkeypatch.setenv("AFLAB_HOME", str(tmp_path / "aflab_home"))
    monkeypatch.chdir(tmp_path)


def run_cli(*args: str):
    return CliRunner().invoke(main, ["run", *args, "--limit", "1", "--no-report",
                                     "--log-dir", "out"], catch_exceptions=False)


def one_line(result, *fragments: str) -> str:
    assert result.exit_code == 1, result.output
    lines = [line for line in result.output.strip().splitlines() if line.strip()]
    assert len(lines) == 1 and lines[0].startswith("Error: "), result.output
    for fragment in fragments:
        assert fragment in lines[0], lines[0]
    return lines[0]


def test_missing_sdk_names_the_extra(monkeypatch, tmp_path):
    monkeypatch.setitem(sys.modules, "openai", None)  # simulates the package not installed
    result = run_cli("--model", "openai/gpt-4o", "--grader", "mockllm/model")
    one_line(result, "model 'openai/gpt-4o'", "pip install 'aflab[openai]'", "OPENAI_API_KEY")
    assert not (tmp_path / "out").exists()


def test_missing_key_and_base_url_for_openai_api(monkeypatch):
    args = ("--model", "openai-api/loop/target", "--grader", "mockllm/model")
    one_line(run_cli(*args), "model 'openai-api/loop/target'", "LOOP_API_KEY", ".env")
    monkeypatch.setenv("LOOP_API_KEY", "sk-x")
    one_line(run_cli(*args), "needs a base URL", "LOOP_BASE_URL")


def test_grader_missing_key():
    result = run_cli("--model", "mockllm/model", "--grader", "openai-api/judge-svc/m")
    one_line(result, "grader 'openai-api/judge-svc/m'", "JUDGE_SVC_API_KEY")


@pytest.mark.skipif(importlib.util.find_spec("vllm") is not None,
                    reason="with vllm installed Inspect starts a server itself")
def test_vllm_without_base_url():
    line = one_line(run_cli("--model", "vllm/meta-llama/Llama-3.1-8B-Instruct",
                            "--grader", "mockllm/model"), "VLLM_BASE_URL")
    assert "pip install vllm" in line
    check_model("vllm/meta-llama/Llama-3.1-8B-Instruct",
                model_args={"base_url": "http://127.0.0.1:9/v1"})  # a base URL suffices


def test_keys_in_dotenv_count(tmp_path):
    (tmp_path / ".env").write_text("LOOP_API_KEY=sk-from-dotenv\nLOOP_BASE_URL=http://x/v1\n")
    check_model("openai-api/loop/target")  # no error: .env read as Inspect reads it


@pytest.mark.parametrize("status", ["401", "403"])
def test_auth_failure_is_one_line_without_retries(status, monkeypatch):
    pytest.importorskip("openai")
    with LoopbackServer() as server:
        server.mode = f"auth{status}"
        service = f"auth{status}"  # a model name per server: Inspect memoizes models
        monkeypatch.setenv(f"AUTH{status}_API_KEY", "sk-wrong")
        monkeypatch.setenv(f"AUTH{status}_BASE_URL", server.base_url)
        result = run_cli("--model", f"openai-api/{service}/target", "--grader",
                         "mockllm/model", "--max-retries", "3")
    assert result.exit_code == 1, result.output
    last = result.output.strip().splitlines()[-1]
    assert last.startswith("Error: authentication failed"), last
    assert status in last and f"AUTH{status}_API_KEY" in last and "resume" not in last
    assert server.counts["target"] <= 2  # one request per sample of the pair: no retries
    assert "Traceback" not in result.output  # Inspect's panel shows the one error line
