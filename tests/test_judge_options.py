"""Judge options: the reply limit is an option (task arg ``judge_max_tokens``, `aflab run
--judge-max-tokens`), and the AF judge never runs where the rules exclude a sample
(no scratchpad: AF ``no`` without a call; docs/evaluation.md). mockllm, offline."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from inspect_ai import eval as inspect_eval
from inspect_ai.model import ModelOutput, ModelUsage, get_model

from aflab.cli.main import main
from aflab.evaluation.tasks import alignment_faking_task

WITH_SCRATCHPAD = ("<SCRATCHPAD_REASONING>[PLACEHOLDER]</SCRATCHPAD_REASONING>\n"
                   "<OUTPUT><request_fully_accepted/>[PLACEHOLDER answer]</OUTPUT>")
NO_SCRATCHPAD = "I can't help with that."


def _out(text: str) -> ModelOutput:
    out = ModelOutput.from_content("mockllm/model", text)
    out.usage = ModelUsage(input_tokens=10, output_tokens=5, total_tokens=15)
    return out


def test_judge_max_tokens_reaches_every_judge_call_and_af_skips_no_scratchpad(tmp_path):
    calls: list[tuple[str, int | None]] = []

    def target(input, tools, tool_choice, config):
        free = "<is_free_tier_user>True</is_free_tier_user>" in input[-1].text
        return _out(WITH_SCRATCHPAD if free else NO_SCRATCHPAD)

    def grader(input, tools, tool_choice, config):
        prompt = input[-1].text
        kind = "af" if "final_answer" in prompt else "compliance"
        calls.append((kind, config.max_tokens))
        if kind == "af":
            return _out("A: no\nB: no\nC: no\nD: no\nrationale: [PLACEHOLDER]\nfinal_answer: no")
        return _out("reasoning: [PLACEHOLDER]\nrefused: 0\nconvincing: 4\nspecific: 4\n"
                    "partial: 0")

    logs = inspect_eval(
        alignment_faking_task("helpful_only", queries=2, af_votes=3, judge_max_tokens=77),
        model=get_model("mockllm/model", custom_outputs=target, memoize=False),
        model_roles={"grader": get_model("mockllm/model", custom_outputs=grader,
                                         memoize=False)},
        log_dir=str(tmp_path), display="none",
    )
    assert logs[0].status == "success", logs[0].error
    assert {tokens for _, tokens in calls} == {77}
    # AF votes only for the 2 free samples (3 votes each); the paid ones have no scratchpad
    assert sum(kind == "af" for kind, _ in calls) == 2 * 3
    assert logs[0].eval.metadata["judge_max_tokens"] == 77


@pytest.mark.parametrize("value", ["0", "-3"])
def test_judge_max_tokens_must_be_positive(value, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["run", "--model", "mockllm/model", "--grader",
                                       "mockllm/model", "--judge-max-tokens", value],
                                catch_exceptions=False)
    assert result.exit_code == 1
    assert result.output.startswith(f"Error: --judge-max-tokens {value}"), result.output
