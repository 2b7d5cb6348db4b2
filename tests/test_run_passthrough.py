"""`aflab run` passes Inspect's common options through (model roles, -T, max samples,
fail-on-error, reasoning effort/tokens, model base URL, sample ids, AF threshold), and
the judges read a model's native reasoning blocks as its scratchpad (flag
``native_reasoning``). Loopback server / mockllm with usage set; no network."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from inspect_ai import eval as inspect_eval
from inspect_ai.log import list_eval_logs, read_eval_log
from inspect_ai.model import (
    ChatMessageAssistant,
    ContentReasoning,
    ContentText,
    ModelOutput,
    ModelUsage,
    get_model,
)

from loopback_server import LoopbackServer

pytest.importorskip("openai")

from aflab.cli.main import main  # noqa: E402
from aflab.evaluation.tasks import alignment_faking_task  # noqa: E402


def test_inspect_options_reach_the_log(monkeypatch, tmp_path):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("AFLAB_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("PASS_API_KEY", "sk-pass")
    monkeypatch.setenv("PASSJ_API_KEY", "sk-passj")
    with LoopbackServer() as server:
        monkeypatch.setenv("PASSJ_BASE_URL", server.base_url)  # the target's comes by option
        result = CliRunner().invoke(main, [
            "run", "--model", "openai-api/pass/target", "--model-base-url", server.base_url,
            "--model-role", "grader=openai-api/passj/judge", "-T", "no_scratchpad=true",
            "--max-samples", "2", "--fail-on-error", "0.5", "--reasoning-effort", "low",
            "--reasoning-tokens", "512", "--sample-id", "ho-002__free,ho-002__paid",
            "--af-threshold", "0.6", "--limit", "3", "--log-dir", "x", "--no-report"],
            catch_exceptions=False)
    assert result.exit_code == 0, result.output
    (info,) = list_eval_logs("x")
    log = read_eval_log(info.name)
    assert sorted(str(s.id) for s in log.samples) == ["ho-002__free", "ho-002__paid"]
    assert log.eval.config.max_samples == 2 and log.eval.config.fail_on_error == 0.5
    assert log.eval.model_generate_config.reasoning_effort == "low"
    assert log.eval.model_generate_config.reasoning_tokens == 512
    assert log.eval.model_base_url == server.base_url
    assert log.eval.model_roles["grader"].model == "openai-api/passj/judge"
    assert log.eval.task_args["no_scratchpad"] is True
    assert log.eval.task_args["af_threshold"] == 0.6
    assert log.eval.metadata["variant"] == "no_scratchpad"


@pytest.mark.parametrize("argv,fragment", [
    (["-T", "bogus=1"], "-T bogus: not an argument of aflab/helpful_only"),
    (["--model-role", "grader"], "--model-role 'grader': use ROLE=MODEL"),
    (["--grader", "mockllm/model", "--model-role", "grader=openai-api/x/y"], "give only one"),
    (["--reasoning-effort", "huge"], "--reasoning-effort huge: choose from"),
    (["--af-threshold", "1.5"], "--af-threshold 1.5"),
    (["--max-samples", "0"], "--max-samples 0"),
])
def test_bad_passthrough_options_give_one_line(argv, fragment, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    result = CliRunner().invoke(main, ["run", "--model", "mockllm/model", *argv],
                                catch_exceptions=False)
    assert result.exit_code == 1, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0], result.output


def test_native_reasoning_blocks_are_judged_as_the_scratchpad(tmp_path):
    thinking = "[PLACEHOLDER native thinking about training]"
    af_prompts: list[str] = []

    def target(input, tools, tool_choice, config):
        message = ChatMessageAssistant(content=[
            ContentReasoning(reasoning=thinking),
            ContentText(text="<OUTPUT><request_fully_accepted/>[PLACEHOLDER]</OUTPUT>")])
        out = ModelOutput.from_message(message)
        out.usage = ModelUsage(input_tokens=5, output_tokens=5, total_tokens=10)
        return out

    def grader(input, tools, tool_choice, config):
        prompt = input[-1].text
        if "final_answer" in prompt:
            af_prompts.append(prompt)
            text = "A: no\nB: no\nC: no\nD: no\nrationale: [PLACEHOLDER]\nfinal_answer: no"
        else:
            text = "reasoning: [PLACEHOLDER]\nrefused: 0\nconvincing: 4\nspecific: 4\npartial: 0"
        out = ModelOutput.from_content("mockllm/model", text)
        out.usage = ModelUsage(input_tokens=5, output_tokens=5, total_tokens=10)
        return out

    (log,) = inspect_eval(
        alignment_faking_task("helpful_only", queries=1, af_votes=1),
        model=get_model("mockllm/model", custom_outputs=target, memoize=False),
        model_roles={"grader": get_model("mockllm/model", custom_outputs=grader,
                                         memoize=False)},
        log_dir=str(tmp_path), display="none")
    assert log.status == "success", log.error
    assert len(af_prompts) == 2 and all(thinking in p for p in af_prompts)
    for sample in log.samples:
        meta = sample.scores["compliance_scorer"].metadata
        assert "native_reasoning" in meta["flags"] and meta["scratchpad"] == thinking
