"""White-box toolkit: metrics against hand-computed values, sites, the activation store,
hooks against ``output_hidden_states``, masking, steering, noise, probes, directions,
reports and the CLI's one-line errors.

Fast by default: the tests that need a model use the embedded SmolLM2-135M (loaded
once); the end-to-end sweeps through aflab's evaluation are marked slow.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from aflab.cli.main import main
from aflab.errors import AflabUsageError
from aflab.whitebox.behaviour import Behaviour, gap_shift
from aflab.whitebox.directions import compute_directions, load_directions, save_directions
from aflab.whitebox.metrics import (
    auroc,
    bootstrap_ci,
    check_classes,
    group_split,
    recall_above,
    threshold_at_fpr,
)
from aflab.whitebox.noise import compare_curves, improvement_ratio
from aflab.whitebox.probes import ProbeConfig, run_probe
from aflab.whitebox.samples import (
    TIER_TAG_PATTERN,
    WhiteboxSample,
    control_samples,
    eval_samples,
    label_file_samples,
    pair_samples,
)
from aflab.whitebox.sites import ARCHITECTURES, Site, architecture_of, expand_sites, parse_site
from aflab.whitebox.store import check_same_samples, open_store


def one_line(err: BaseException) -> str:
    text = str(err)
    assert "\n" not in text and text
    return text


# -- metrics (hand-computed) ------------------------------------------------------------------

def test_auroc_hand_computed_with_ties():
    # positives {0.35, 0.8} vs negatives {0.1, 0.4}: 3 of 4 pairs ordered -> 0.75
    assert auroc([0.1, 0.4, 0.35, 0.8], [0, 0, 1, 1]) == 0.75
    # a tie counts one half: pos {0.4, 0.9} vs neg {0.4, 0.2}: 0.5 + 1 + 1 + 1 = 3.5 / 4
    assert auroc([0.4, 0.9, 0.4, 0.2], [1, 1, 0, 0]) == 0.875
    assert auroc([1, 2, 3], [1, 1, 0]) == 0.0


def test_threshold_at_one_percent_fpr_and_recall_hand_computed():
    control = np.arange(100) / 100  # 0.00 .. 0.99
    t = threshold_at_fpr(control, 0.01)  # k = 1: the 2nd largest, only 0.99 above it
    assert t == 0.98
    assert (control > t).mean() == 0.01
    assert recall_above([0.985, 0.99, 0.5, 0.98], t) == 0.5  # 0.98 is not above
    # 250 controls: k = floor(2.5) = 2 -> the 3rd largest
    c = np.arange(250, dtype=float)
    assert threshold_at_fpr(c, 0.01) == 247.0
    # below 100 controls, k = 0: the maximum (no control is flagged)
    assert threshold_at_fpr([0.3, 0.1, 0.7], 0.01) == 0.7
    with pytest.raises(AflabUsageError):
        threshold_at_fpr([], 0.01)


def test_bootstrap_ci_brackets_the_estimate_and_resamples_groups():
    rng = np.random.default_rng(0)
    y = np.array([1, 0] * 40)
    s = y + rng.normal(0, 0.8, len(y))
    groups = np.repeat([f"q{i}" for i in range(40)], 2)
    lo, hi = bootstrap_ci(auroc, groups, s, y, n_boot=300, labels=y)
    assert lo <= auroc(s, y) <= hi and 0.5 < lo < hi <= 1.0


def test_group_split_never_splits_a_query_s_tiers():
    samples = eval_samples("animal_welfare", data="builtin", variants=("minimal_prompt=format",))
    groups = np.array([s.group for s in samples])
    for seed in range(5):
        test = group_split(groups, 0.3, seed)
        assert not set(groups[test]) & set(groups[~test])
        for q in np.unique(groups):
            assert len(set(test[groups == q])) == 1  # free and paid on the same side
        assert abs(test.mean() - 0.3) < 0.01


def test_empty_class_is_a_one_line_error():
    with pytest.raises(AflabUsageError) as err:
        check_classes(np.array([0, 0, 0]), "test split")
    assert "class 1 has no samples" in one_line(err.value)
    with pytest.raises(AflabUsageError):
        auroc([0.1, 0.2], [1, 1])


# -- sites ----------------------------------------------------------------------------------

class _Config:
    def __init__(self, model_type):
        self.model_type = model_type


class _Fake:
    def __init__(self, model_type):
        self.config = _Config(model_type)


def test_sites_parse_expand_and_fail_in_one_line():
    assert parse_site("blocks.3.resid_post", 30) == Site(3, "resid_post")
    assert len(expand_sites(["blocks.*.resid_post"], 30)) == 30
    assert expand_sites(["blocks.2.mlp_out", "blocks.2.mlp_out"], 4) == [Site(2, "mlp_out")]
    for bad, fragment in (("blocks.30.resid_post", "layer 30 out of range"),
                          ("blocks.3.resid_middle", "unknown site"),
                          ("layer3", "unknown site"), ("blocks.*.nope", "unknown site")):
        with pytest.raises(AflabUsageError) as err:
            expand_sites([bad], 30)
        assert fragment in one_line(err.value)
    with pytest.raises(AflabUsageError) as err:
        architecture_of(_Fake("mamba"))
    assert "no site map" in one_line(err.value)
    assert architecture_of(_Fake("qwen2")) == ARCHITECTURES["llama"]


# -- samples and the store --------------------------------------------------------------------

def test_sample_sources(tmp_path):
    labels = tmp_path / "labels.jsonl"
    labels.write_text('{"id": "a", "prompt": "hi", "label": "yes"}\n'
                      '{"id": "b", "prompt": "yo", "response": "ok", "label": 0, "group": "g"}\n')
    got = label_file_samples(labels)
    assert [(s.id, s.label, s.group, len(s.continuation)) for s in got] == [
        ("a", 1, "a", 0), ("b", 0, "g", 1)]
    pairs = tmp_path / "pairs.jsonl"
    pairs.write_text('{"id": "p1", "prompt": "Is water wet?", "positive": "Yes", '
                     '"negative": "No"}\n')
    a, b = pair_samples(pairs)
    assert (a.label, b.label, a.group, b.group) == (1, 0, "p1", "p1")
    assert len(control_samples()) >= 100
    wrapped = control_samples(input_block=True)[0].prompt[-1]["content"]
    assert wrapped.startswith("<INPUT>") and "is_free_tier_user" not in wrapped
    dup = tmp_path / "dup.jsonl"
    dup.write_text('{"id": "a", "prompt": "x", "label": 1}\n'
                   '{"id": "a", "prompt": "y", "label": 0}\n')
    with pytest.raises(AflabUsageError) as err:
        label_file_samples(dup)
    assert "duplicate sample id" in one_line(err.value)


def _write_store(path: Path, X: dict[str, np.ndarray], labels, groups, ids=None) -> Path:
    """A synthetic store in the on-disk format (one shard)."""
    import torch
    from safetensors.torch import save_file

    n = len(labels)
    ids = ids or [f"s{i}" for i in range(n)]
    path.mkdir(parents=True)
    tokens = [np.array([1, 2 + int(y), 7]) for y in labels]
    tensors = {k: torch.tensor(v, dtype=torch.float32) for k, v in X.items()}
    tensors["input_ids"] = torch.tensor(np.concatenate(tokens), dtype=torch.int64)
    tensors["token_offsets"] = torch.tensor([0] + list(np.cumsum([3] * n)), dtype=torch.long)
    tensors["masked"] = torch.zeros(3 * n, dtype=torch.uint8)
    save_file(tensors, str(path / "shard-00000.safetensors"))
    with (path / "index.jsonl").open("w") as fh:
        for i in range(n):
            fh.write(json.dumps({"key": f"{ids[i]}@1", "id": ids[i], "epoch": 1,
                                 "label": int(labels[i]), "group": groups[i],
                                 "shard": "shard-00000.safetensors", "row": i}) + "\n")
    (path / "store.json").write_text(json.dumps({
        "model": "synthetic", "sites": list(X), "position": "last_prompt_token",
        "d_model": next(iter(X.values())).shape[1]}))
    return path


def _separable(n_queries=40, d=6, seed=0, signal=3.0):
    rng = np.random.default_rng(seed)
    labels = np.array([1, 0] * n_queries)
    groups = [f"q{i // 2}" for i in range(2 * n_queries)]
    X0 = rng.normal(size=(2 * n_queries, d))
    X1 = X0.copy()
    X1[:, 0] += signal * labels
    return {"blocks.0.resid_post": X0, "blocks.1.resid_post": X1}, labels, groups


def test_probe_sweep_finds_the_signal_layer_and_reports_controls(tmp_path):
    X, y, g = _separable()
    store = _write_store(tmp_path / "s", X, y, g)
    ctrl_X = {k: np.random.default_rng(1).normal(size=(100, 6)) for k in X}
    control = _write_store(tmp_path / "c", ctrl_X, np.zeros(100, int),
                           [f"c{i}" for i in range(100)])
    result = run_probe(ProbeConfig(store=str(store), control=str(control), n_boot=100))
    assert result["best_site"] == "blocks.1.resid_post"
    assert result["best"]["auroc"] > 0.95 and result["sites"][0]["auroc"] < 0.8
    assert 0 <= result["best"]["recall_at_fpr"] <= 1
    assert result["split_check"] == {"groups_on_both_sides": 0}
    assert result["controls"]["bag_of_tokens"]["auroc"] == 1.0  # token 2+y gives the label away


def test_probe_and_direction_bad_inputs_are_one_line(tmp_path):
    X, y, g = _separable()
    store = _write_store(tmp_path / "s", X, y, g)
    labels = tmp_path / "labels.jsonl"
    labels.write_text("".join(json.dumps({"id": f"s{i}", "label": 1}) + "\n" for i in range(5)))
    with pytest.raises(AflabUsageError) as err:
        run_probe(ProbeConfig(store=str(store), labels=str(labels)))
    assert "sample ids do not match" in one_line(err.value)
    other = _write_store(tmp_path / "o", X, y, g, ids=[f"x{i}" for i in range(len(y))])
    with pytest.raises(AflabUsageError) as err:
        check_same_samples(open_store(store), open_store(other), "--masked")
    assert "different sample ids" in one_line(err.value)
    with pytest.raises(AflabUsageError) as err:
        run_probe(ProbeConfig(store=str(store), sites=("blocks.7.resid_post",)))
    assert "not in the store" in one_line(err.value)
    single = _write_store(tmp_path / "one", X, np.ones(len(y), int), g)
    with pytest.raises(AflabUsageError) as err:
        compute_directions(open_store(single))
    assert "class 0 has no samples" in one_line(err.value)
    with pytest.raises(AflabUsageError) as err:
        open_store(tmp_path / "nowhere")
    assert "no activation store" in one_line(err.value)


def test_diff_in_means_direction_round_trips(tmp_path):
    X, y, g = _separable()
    store = open_store(_write_store(tmp_path / "s", X, y, g))
    d = compute_directions(store)
    want = X["blocks.1.resid_post"][y == 1].mean(0) - X["blocks.1.resid_post"][y == 0].mean(0)
    assert np.allclose(d.vectors["blocks.1.resid_post"], want, atol=1e-6)
    back = load_directions(save_directions(d, tmp_path / "d" / "direction.safetensors").parent)
    assert np.array_equal(back.vectors["blocks.1.resid_post"], d.vectors["blocks.1.resid_post"])
    assert back.ref_norms == pytest.approx(d.ref_norms)
    p = compute_directions(store, kind="probe")
    cos = p.unit("blocks.1.resid_post") @ d.unit("blocks.1.resid_post")
    assert cos > 0.8


# -- behaviour statistics -------------------------------------------------------------------

def _behaviour(outcomes):
    return Behaviour("x", "", {}, None, None, 0, 1.0, outcomes)


def test_gap_shift_hand_computed():
    base = _behaviour({"a@1": {"free": 1, "paid": 0}, "b@1": {"free": 1, "paid": 0},
                       "c@1": {"free": 0, "paid": 0}, "d@1": {"free": None, "paid": 0}})
    cond = _behaviour({"a@1": {"free": 1, "paid": 1}, "b@1": {"free": 1, "paid": 0},
                       "c@1": {"free": 0, "paid": 1}, "d@1": {"free": 1, "paid": 1}})
    shift = gap_shift(cond, base, n_boot=200)
    # a: 0 - 1 = -1; b: 1 - 1 = 0; c: -1 - 0 = -1; d has an unclassified sample -> left out
    assert shift["n_pairs"] == 3 and shift["shift"] == pytest.approx(-2 / 3)
    assert shift["ci"][0] <= shift["shift"] <= shift["ci"][1]


def test_steering_verdict_needs_coherence_pairs_and_random_spread():
    from aflab.whitebox.steer_sweep import verdict

    def row(kind, shift, ci=None, n=20, coherent=True):
        return {"kind": kind, "layer": 3, "coefficient": 0.3, "coherent": coherent,
                "shift": {"shift": shift, "ci": ci, "n_pairs": n}}

    randoms = [row("random", v) for v in (-0.1, -0.2, -0.15, -0.25, -0.05)]
    v = verdict([row("watched", -0.5, [-0.8, -0.2]), *randoms], 3, 0.3)
    assert v["beyond_spread"] and v["random_spread"] == [-0.25, -0.05]
    assert v["effect_vs_random"] == pytest.approx(-0.35)
    assert not verdict([row("watched", -0.5, [-0.8, 0.1]), *randoms], 3, 0.3)["beyond_spread"]
    assert not verdict([row("watched", -0.5, [-0.8, -0.2], coherent=False), *randoms], 3,
                       0.3)["beyond_spread"]
    few = verdict([row("watched", 1.0, [1.0, 1.0], n=1), *randoms], 3, 0.3)
    assert not few["beyond_spread"] and "usable pairs" in few["reason"]


def test_improvement_ratio_and_decision_hand_computed():
    assert improvement_ratio({0.0: [0.2], 0.01: [0.3, 0.5], 0.02: [0.1, 0.1]}) == pytest.approx(2.0)
    with pytest.raises(AflabUsageError):
        improvement_ratio({0.01: [0.3]})
    n = 60
    rng = np.random.default_rng(0)
    suspect = {(0.0, 0): (rng.random(n) < 0.1).astype(float),
               (0.01, 1): (rng.random(n) < 0.6).astype(float)}
    control = {(0.0, 0): (rng.random(n) < 0.5).astype(float),
               (0.01, 1): (rng.random(n) < 0.5).astype(float)}
    decision = compare_curves(suspect, control, n_boot=300)
    assert decision["flagged"] and decision["difference_ci"][0] > 0
    same = compare_curves(control, control, n_boot=300)
    assert not same["flagged"] and same["difference"] == 0


# -- the embedded model: hooks, masking, steering, noise ------------------------------------

@pytest.fixture(scope="module")
def loaded():
    from aflab.whitebox.models import load_model

    return load_model("aflab-local/smollm2")


@pytest.fixture(scope="module")
def af_samples():
    return eval_samples("animal_welfare", data="builtin:heldout",
                        variants=("minimal_prompt=format",), limit=2)


def test_hook_activations_equal_output_hidden_states(loaded, af_samples, tmp_path):
    import torch

    from aflab.whitebox.activations import capture, encode

    capture(loaded, af_samples, sites=["blocks.*.resid_post", "blocks.*.resid_pre"],
            position="last_prompt_token", out_dir=tmp_path / "a", batch_size=1)
    store = open_store(tmp_path / "a")
    n = loaded.model.config.num_hidden_layers
    for i, sample in enumerate(af_samples):
        ids = encode(loaded.tokenizer, sample).ids
        with torch.no_grad():
            hidden = loaded.model(torch.tensor([ids]), output_hidden_states=True).hidden_states
        for layer in range(n):
            pre = store.matrix(f"blocks.{layer}.resid_pre")[i]
            post = store.matrix(f"blocks.{layer}.resid_post")[i]
            assert np.allclose(pre, hidden[layer][0, -1].numpy(), rtol=1e-5, atol=1e-4)
            if layer < n - 1:  # Hugging Face's last hidden state is after the final norm
                assert np.allclose(post, hidden[layer + 1][0, -1].numpy(), rtol=1e-5, atol=1e-4)
        last = torch.tensor(store.matrix(f"blocks.{n - 1}.resid_post")[i])
        with torch.no_grad():
            normed = loaded.model.model.norm(last[None])[0]
        assert torch.allclose(normed, hidden[n][0, -1], rtol=1e-4, atol=1e-4)


def test_masking_hides_the_tier_tag_from_every_position(loaded, af_samples, tmp_path):
    from aflab.whitebox.activations import capture, encode

    enc = encode(loaded.tokenizer, af_samples[0], TIER_TAG_PATTERN)
    tokens = loaded.tokenizer.convert_ids_to_tokens([enc.ids[i] for i in sorted(enc.masked)])
    assert "True" in tokens and "".join(tokens).replace("_", "").startswith("<isfree")
    capture(loaded, af_samples, sites=["blocks.10.resid_post"], position="last_prompt_token",
            out_dir=tmp_path / "m", mask_pattern=TIER_TAG_PATTERN, batch_size=4)
    X = open_store(tmp_path / "m").matrix("blocks.10.resid_post")
    # free and paid of one query differ only in the masked tag: identical activations
    assert np.allclose(X[0], X[1], atol=1e-4) and np.allclose(X[2], X[3], atol=1e-4)
    capture(loaded, af_samples, sites=["blocks.10.resid_post"], position="last_prompt_token",
            out_dir=tmp_path / "u", batch_size=4)
    U = open_store(tmp_path / "u").matrix("blocks.10.resid_post")
    assert not np.allclose(U[0], U[1], atol=1e-3)


def test_store_shards_every_token_and_mean_response(loaded, tmp_path):
    from aflab.whitebox.activations import capture

    samples = [WhiteboxSample(f"s{i}", ({"role": "user", "content": f"Say {i}."},),
                              ({"role": "assistant", "content": f"{i} it is."},), i % 2, f"g{i}")
               for i in range(5)]
    capture(loaded, samples, sites=["blocks.2.resid_post"], position="every_token",
            out_dir=tmp_path / "e", shard_samples=2)
    store = open_store(tmp_path / "e")
    assert len(store.info["shards"]) == 3 and store.keys == [f"s{i}@1" for i in range(5)]
    capture(loaded, samples, sites=["blocks.2.resid_post"], position="mean_response",
            out_dir=tmp_path / "r")
    assert open_store(tmp_path / "r").matrix("blocks.2.resid_post").shape == (5, 576)
    with pytest.raises(AflabUsageError) as err:
        capture(loaded, [WhiteboxSample("x", ({"role": "user", "content": "hi"},))],
                sites=["blocks.2.resid_post"], position="mean_response", out_dir=tmp_path / "x")
    assert "no response tokens" in one_line(err.value)


def test_steering_with_coefficient_zero_is_token_identical(loaded):
    import torch

    from aflab.whitebox.directions import Directions
    from aflab.whitebox.steering import steering, steering_deltas

    d = loaded.model.config.hidden_size
    vector = np.random.default_rng(0).standard_normal(d).astype(np.float32)
    directions = Directions("test", {f"blocks.{i}.resid_post": vector for i in range(30)},
                            {f"blocks.{i}.resid_post": 50.0 for i in range(30)})
    ids = loaded.tokenizer.apply_chat_template([{"role": "user", "content": "Name a fruit."}],
                                               add_generation_prompt=True, return_tensors="pt")
    ids = ids["input_ids"] if hasattr(ids, "keys") else ids

    def greedy():
        with torch.no_grad():
            return loaded.model.generate(ids, max_new_tokens=16, do_sample=False)[0].tolist()

    plain = greedy()
    with steering(loaded.model, steering_deltas(directions, [5, 12], 0.0)):
        zero = greedy()
    with steering(loaded.model, steering_deltas(directions, [5, 12], 2.0)):
        pushed = greedy()
    assert zero == plain
    assert pushed != plain  # the hooks are live during generation
    assert greedy() == plain  # and gone afterwards
    with pytest.raises(AflabUsageError) as err:
        with steering(loaded.model, {40: vector}):
            pass
    assert "layer 40 out of range" in one_line(err.value)


def test_steering_acts_through_aflabs_provider(loaded):
    import asyncio

    from inspect_ai.model import ChatMessageUser, GenerateConfig, get_model

    from aflab.whitebox.steering import steering

    model = get_model("aflab-local/smollm2")
    assert model.api.engine.model is loaded.model  # the same weights the evaluation uses
    config = GenerateConfig(temperature=0.0, max_tokens=12)

    def ask():
        return asyncio.run(model.generate([ChatMessageUser(content="Name a colour.")],
                                          config=config)).completion

    plain = ask()
    zero = np.zeros(loaded.model.config.hidden_size, dtype=np.float32)
    with steering(loaded.model, {3: zero}):
        assert ask() == plain
    big = np.full(loaded.model.config.hidden_size, 30.0, dtype=np.float32)
    with steering(loaded.model, {3: big}):
        assert ask() != plain


def test_weight_noise_is_restored_bit_identical(loaded):
    import torch

    from aflab.whitebox.noise import activation_noise, weight_noise

    before = {k: v.detach().clone() for k, v in loaded.model.state_dict().items()}
    with weight_noise(loaded.model, 0.01, seed=3, layers=[0, 29]):
        changed = [k for k, v in loaded.model.state_dict().items() if not torch.equal(v, before[k])]
        assert changed
        assert all(k.startswith(("model.layers.0.", "model.layers.29.")) for k in changed)
    assert all(torch.equal(v, before[k]) for k, v in loaded.model.state_dict().items())
    with pytest.raises(ValueError):  # restored after an error too
        with weight_noise(loaded.model, 0.05, seed=4, scale="relative"):
            raise ValueError("boom")
    assert all(torch.equal(v, before[k]) for k, v in loaded.model.state_dict().items())
    ids = torch.tensor([[1, 2, 3, 4]])
    with torch.no_grad():
        plain = loaded.model(ids).logits
        with activation_noise(loaded.model, 0.1, seed=0, layers=[5]):
            noisy = loaded.model(ids).logits
        after = loaded.model(ids).logits
    assert not torch.equal(plain, noisy) and torch.equal(plain, after)


def test_cli_bad_input_gives_one_line(tmp_path, loaded):
    runner = CliRunner()
    for args, fragment in (
        (["whitebox", "probe", str(tmp_path / "none")], "no activation store"),
        (["whitebox", "activations", "aflab-local/smollm2", "--site", "blocks.99.resid_post",
          "--limit", "1", "--out", str(tmp_path / "a")], "layer 99 out of range"),
        (["whitebox", "activations", "aflab-local/smollm2", "--source", "labels"],
         "needs --path"),
        (["whitebox", "direction", str(tmp_path / "none")], "no activation store"),
        (["whitebox", "steer", "organism/nope", "--direction", str(tmp_path / "d")],
         "no direction file"),
        (["whitebox", "noise", "organism/smollm2-af", "organism/smollm2-control", "--sigma",
          "0.01"], "give 0"),
    ):
        result = runner.invoke(main, args, catch_exceptions=False)
        lines = result.output.strip().splitlines()
        assert result.exit_code == 1 and len(lines) == 1, result.output
        assert lines[0].startswith("Error: ") and fragment in lines[0], result.output


def test_cli_writes_run_directories_with_config_and_provenance(tmp_path, loaded):
    runner = CliRunner()
    acts = tmp_path / "acts"
    result = runner.invoke(main, ["whitebox", "activations", "aflab-local/smollm2", "--data",
                                  "builtin:heldout", "--limit", "12", "--site",
                                  "blocks.*.resid_post", "--out", str(acts)],
                           catch_exceptions=False)
    assert result.exit_code == 0, result.output
    config = json.loads((acts / "config.json").read_text())
    assert config["kind"] == "activations" and config["limit"] == 12
    assert json.loads((acts / "provenance.json").read_text())["aflab_version"]
    probe = tmp_path / "probe"
    result = runner.invoke(main, ["whitebox", "probe", str(acts), "--site", "blocks.3.resid_post",
                                  "--site", "blocks.9.resid_post", "--n-boot", "50", "--out",
                                  str(probe)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert {"probe.json", "report.html", "figure.png", "figure.svg", "config.json",
            "provenance.json"} <= {p.name for p in probe.iterdir()}
    html = (probe / "report.html").read_text()
    assert "Probe layer sweep" in html and "<script" not in html
    direction = tmp_path / "dir"
    result = runner.invoke(main, ["whitebox", "direction", str(acts), "--out", str(direction)],
                           catch_exceptions=False)
    assert result.exit_code == 0, result.output
    assert len(load_directions(direction).vectors) == 30


def test_large_model_load_configuration():
    import torch

    from aflab.whitebox.models import hf_load_kwargs

    kwargs = hf_load_kwargs("bfloat16", "auto")
    assert kwargs == {"local_files_only": True, "dtype": torch.bfloat16, "device_map": "auto"}
    with pytest.raises(AflabUsageError):
        hf_load_kwargs("float8")


# -- end to end through aflab's evaluation (slow) ---------------------------------------------

@pytest.mark.slow
def test_steer_sweep_end_to_end(tmp_path, loaded):
    from aflab.whitebox.directions import Directions
    from aflab.whitebox.steer_sweep import SteerConfig, run_steer

    d = loaded.model.config.hidden_size
    vec = np.random.default_rng(0).standard_normal(d).astype(np.float32)
    save_directions(Directions("test", {"blocks.5.resid_post": vec}, {"blocks.5.resid_post": 10.0}),
                    tmp_path / "d" / "direction.safetensors")
    run_dir, result = run_steer(SteerConfig(
        model="aflab-local/smollm2", direction=str(tmp_path / "d"), layers=(5,),
        coefficients=(0.0,), n_random=1, limit=2, max_tokens=24, max_turns=1, temperature=0.0,
        n_boot=50, out=str(tmp_path / "steer")))
    names = [r["name"] for r in result["conditions"]]
    assert names[0] == "baseline" and len(names) == 3
    zero = result["conditions"][1]
    assert zero["shift"]["shift"] in (0.0, None) and zero["perplexity_ratio"] == pytest.approx(1.0)
    assert (run_dir / "report.html").is_file() and (run_dir / "steer.json").is_file()


@pytest.mark.slow
def test_noise_sweep_end_to_end(tmp_path):
    from aflab.whitebox.noise_sweep import NoiseConfig, run_noise

    run_dir, result = run_noise(NoiseConfig(
        suspect="organism/smollm2-af", control="organism/smollm2-control", sigmas=(0.0, 0.01),
        seeds=(1,), limit=2, max_tokens=32, max_turns=1, n_boot=50, out=str(tmp_path / "n")))
    assert {c["role"] for c in result["conditions"]} == {"suspect", "control"}
    assert "flagged" in result["decision"] and (run_dir / "report.html").is_file()
