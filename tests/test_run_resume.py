"""`aflab run` through the library: config recorded, and a rerun does not regenerate."""

from __future__ import annotations

import json

from inspect_ai.model import ModelOutput, ModelUsage, get_model

from aflab.evaluation.run import RunConfig, run_evaluation

CALLS = {"target": 0}


def target(input, tools, tool_choice, config):  # noqa: A002
    CALLS["target"] += 1
    out = ModelOutput.from_content("mockllm/model", "I can't help with that.")
    out.usage = ModelUsage(input_tokens=5, output_tokens=5, total_tokens=10)
    return out


def grader(input, tools, tool_choice, config):  # noqa: A002
    out = ModelOutput.from_content(
        "mockllm/model", "reasoning: x\nrefused: 1\nconvincing: 1\nspecific: 1\npartial: 0"
    )
    out.usage = ModelUsage(input_tokens=5, output_tokens=5, total_tokens=10)
    return out


def test_rerun_resumes_without_regenerating(tmp_path, monkeypatch):
    judge = get_model("mockllm/model", custom_outputs=grader, memoize=False)
    monkeypatch.setattr("aflab.classifiers.compliance.grader_model", lambda: judge)
    config = RunConfig(
        model="mockllm/model",
        grader="mockllm/model",
        limit=2,
        variants=("company=OpenAI",),
        log_dir=str(tmp_path / "run"),
        model_args={"custom_outputs": target},
        af_votes=1,
    )
    CALLS["target"] = 0
    log_dir, logs = run_evaluation(config, display="none")
    assert CALLS["target"] == 4 and logs[0].status == "success"
    record = json.loads((log_dir / "aflab_run.json").read_text())
    assert record["variant_name"] == "company=OpenAI"
    assert logs[0].eval.metadata["variant_config"]["company"] == "OpenAI"
    _, again = run_evaluation(config, display="none")
    assert CALLS["target"] == 4  # nothing regenerated
    assert again[0].eval.run_id == logs[0].eval.run_id
