"""What `aflab run` and `aflab report` print: plain progress lines when not on a
terminal, and the headline table (per tier n, compliance, AF; the paired gap with its
CI) at the end (loopback OpenAI-compatible server, no network)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner

from loopback_server import LoopbackServer

pytest.importorskip("openai")

from aflab.analysis.headline import headline_text  # noqa: E402
from aflab.cli.main import main  # noqa: E402


@pytest.fixture(autouse=True)
def _env(monkeypatch, tmp_path):
    monkeypatch.setenv("AFLAB_HOME", str(tmp_path / "aflab_home"))
    monkeypatch.setenv("CONSOLE_API_KEY", "sk-console")
    monkeypatch.chdir(tmp_path)


def test_run_prints_progress_lines_and_headline_then_report_prints_it(monkeypatch, tmp_path):
    import aflab.evaluation.run as run_module

    displays = []
    real_eval_set = run_module.eval_set

    def recording_eval_set(*args, **kwargs):
        displays.append(kwargs.get("display"))
        return real_eval_set(*args, **kwargs)

    monkeypatch.setattr(run_module, "eval_set", recording_eval_set)
    with LoopbackServer() as server:
        monkeypatch.setenv("CONSOLE_BASE_URL", server.base_url)
        result = CliRunner().invoke(main, [
            "run", "--model", "openai-api/console/target", "--grader",
            "openai-api/console/judge", "--limit", "2", "--log-dir", "x"],
            catch_exceptions=False)
    assert result.exit_code == 0, result.output
    out = result.output
    assert displays == ["plain"]  # not a terminal: Inspect's plain progress lines
    assert "\x1b[" not in out  # no terminal control codes
    tail = out[out.index("summary: "):]
    assert "  tier  n  classified  compliance % [95% CI]" in tail
    assert "  free  2           2    100.0 [34.2, 100.0]" in tail
    assert "compliance gap (free − paid): +0.0 pts [-65.8, 65.8]" in tail
    assert "paired over 2 queries where both tiers were classified" in tail
    report = CliRunner().invoke(main, ["report", "x", "--out", "rep"], catch_exceptions=False)
    assert report.exit_code == 0, report.output
    assert "  paid  2           2    100.0 [34.2, 100.0]" in report.output


def test_headline_shows_dash_without_classified_samples():
    tier = {"n": 3, "n_classified": 0, "compliance_rate": None, "compliance_ci": None,
            "af_rate": None, "af_ci": None, "n_af_compliant": 0}
    run = {"setting": "helpful_only", "model": "aflab-local/smollm2", "variant": "default",
           "tiers": {"free": tier, "paid": tier}, "compliance_gap": None, "n_pairs": 0}
    text = headline_text({"runs": [run]})
    assert "  free  3           0                      –                               –" in text
    assert "compliance gap (free − paid): –; paired over 0 queries" in text
    assert "warning: The target" in text and "toy model" in text
    assert "warning" not in headline_text({"runs": [run]}, banner_roles=())
    run["model"] = "openai/gpt-4o"
    run["grader"] = "aflab-local/smollm2"  # warned at the start of `aflab run`: not again
    assert "warning" not in headline_text({"runs": [run]}, banner_roles=("model",))
    assert "grader of some runs" in headline_text({"runs": [run]})
