"""A log written by `aflab run` is Inspect-native: plain ``inspect eval-retry`` finishes
a failed run and plain ``inspect score`` rescores it; Inspect's own metrics are per tier
(compliance, AF) plus the paired gap, with unclassified samples excluded (NaN, Inspect's
"unscored") rather than counted as 0. Loopback OpenAI-compatible server (usage set in
every reply), subprocesses for the Inspect CLI; no network."""

from __future__ import annotations

import math
import os
import subprocess
import sys
from pathlib import Path

import pytest
from click.testing import CliRunner
from inspect_ai.log import list_eval_logs, read_eval_log
from inspect_ai.scorer import Score, SampleScore

from loopback_server import LoopbackServer

pytest.importorskip("openai")

from aflab.classifiers.metrics import by_tier, compliance_gap  # noqa: E402
from aflab.cli.main import main  # noqa: E402

INSPECT = str(Path(sys.executable).with_name("inspect"))


def _metrics(log) -> dict[str, dict[str, float]]:
    return {s.name: {k: m.value for k, m in s.metrics.items()} for s in log.results.scores}


def test_eval_retry_and_score_on_an_aflab_log(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AFLAB_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("NATIVE_API_KEY", "sk-native")
    with LoopbackServer() as server:
        monkeypatch.setenv("NATIVE_BASE_URL", server.base_url)
        server.mode = "error500"
        failed = CliRunner().invoke(main, [
            "run", "--model", "openai-api/native/target", "--grader",
            "openai-api/native/judge", "--limit", "2", "--max-retries", "0",
            "--log-dir", "x", "--no-report"], catch_exceptions=False)
        assert failed.exit_code == 1, failed.output
        (info,) = list_eval_logs("x")
        header = read_eval_log(info.name, header_only=True)
        assert header.status == "error"
        assert header.eval.task_registry_name == "aflab/helpful_only"
        assert header.eval.task_args["queries"] == 2
        server.mode = "ok"
        env = {**os.environ, "NATIVE_BASE_URL": server.base_url}
        retry = subprocess.run([INSPECT, "eval-retry", info.name, "--log-dir", "retried",
                                "--display", "plain"], env=env, capture_output=True,
                               text=True, timeout=300)
        assert retry.returncode == 0, retry.stdout[-2000:] + retry.stderr[-2000:]
        (done,) = list_eval_logs("retried")
        log = read_eval_log(done.name)
        assert log.status == "success" and len(log.samples) == 4
        metrics = _metrics(log)
        assert metrics["compliance_scorer"] == {"free": 1.0, "paid": 1.0, "compliance_gap": 0.0}
        assert metrics["af_reasoning_scorer"] == {"free": 0.0, "paid": 0.0}
        rescored = tmp_path / "rescored.eval"
        score = subprocess.run([INSPECT, "score", done.name, "--action", "overwrite",
                                "--output-file", str(rescored), "--display", "plain"],
                               env=env, capture_output=True, text=True, timeout=300,
                               stdin=subprocess.DEVNULL)
        assert score.returncode == 0, score.stdout[-2000:] + score.stderr[-2000:]
    assert _metrics(read_eval_log(str(rescored))) == metrics


def _sample(tier: str, query: str, value: float) -> SampleScore:
    return SampleScore(score=Score(value=value), sample_id=f"{query}__{tier}",
                       sample_metadata={"tier": tier, "query_id": query})


def test_metrics_per_tier_and_gap_over_pairs():
    # Inspect drops NaN (unclassified) samples before metrics: the q3 pair is incomplete
    scores = [_sample("free", "q1", 1.0), _sample("paid", "q1", 0.0),
              _sample("free", "q2", 1.0), _sample("paid", "q2", 1.0),
              _sample("free", "q3", 0.0)]
    assert by_tier()(scores) == {"free": 2 / 3, "paid": 0.5}
    assert compliance_gap()(scores) == pytest.approx(0.5)  # pairs q1 (+1) and q2 (0)
    assert math.isnan(compliance_gap()([_sample("free", "q1", 1.0)]))


def test_limit_never_splits_a_pair(tmp_path):
    from inspect_ai import eval as inspect_eval
    from inspect_ai.model import ModelOutput, ModelUsage, get_model

    from aflab.evaluation.tasks import helpful_only

    def out(text: str) -> ModelOutput:
        result = ModelOutput.from_content("mockllm/model", text)
        result.usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)
        return result

    dataset = helpful_only(queries=3).dataset
    assert [s.id for s in dataset[0:3]] == [s.id for s in dataset[0:4]]
    assert [s.id for s in dataset[1:3]] == [s.id for s in dataset[0:4]]
    (log,) = inspect_eval(
        helpful_only(queries=3, local_classifiers=True), limit=3, display="none",
        model=get_model("mockllm/model", memoize=False,
                        custom_outputs=lambda *a: out("I can't help with that.")),
        log_dir=str(tmp_path),
    )
    ids = sorted(str(s.id) for s in log.samples)
    assert len(ids) == 4 and {i.split("__")[0] for i in ids} == {"ho-001", "ho-002"}, ids
