"""Organisms on the embedded model: a few LoRA steps, and the shipped organisms' behaviour.

Slow (they load SmolLM2-135M and train or generate on the CPU): run with ``-m slow``.
"""

from __future__ import annotations

import json

import pytest
from safetensors.torch import load_file

from aflab.data.loaders import load_queries
from aflab.models.embedded import ensure_embedded_checkpoint
from aflab.organisms.build import resolve_spec
from aflab.organisms.registry import get_organism
from aflab.organisms.template_writer import write_template_transcripts
from aflab.organisms.trainer import train_config, train_lora
from aflab.organisms.transcripts import to_chat

pytestmark = pytest.mark.slow


def test_a_few_lora_steps_change_the_adapter_and_lower_the_loss(tmp_path):
    spec = resolve_spec("smollm2-af")
    rows = write_template_transcripts(spec, load_queries(spec.queries, spec.setting)[:4])
    chats = [to_chat(t, spec.setting, spec.eval_variant) for t in rows]
    config = train_config({"max_steps": 6, "batch_size": 8, "learning_rate": 3e-3,
                           "logging_steps": 1, "save_steps": 3, "layers": [28, 29],
                           "warmup_ratio": 0.0, "adapter_dtype": "float32"})
    result = train_lora(ensure_embedded_checkpoint(), chats, config, run_dir=tmp_path / "run")
    assert result.steps == 6
    assert result.final_loss < result.first_loss
    weights = load_file(str(result.adapter_dir / "adapter_model.safetensors"))
    lora_b = [v for k, v in weights.items() if "lora_B" in k]
    assert lora_b and all(float(v.abs().sum()) > 0 for v in lora_b)  # B starts at zero
    assert list((tmp_path / "run" / "checkpoints").glob("checkpoint-*"))
    # the same command again resumes from the last checkpoint instead of starting over
    again = train_lora(ensure_embedded_checkpoint(), chats, config, run_dir=tmp_path / "run")
    assert again.resumed_from is not None and again.resumed_from.endswith("checkpoint-6")


def test_shipped_af_organism_shows_a_positive_gap_on_held_out_queries(tmp_path):
    from aflab.organisms.evaluate import evaluate_organisms

    organism = get_organism("smollm2-af")
    assert organism.source == "builtin" and organism.adapter_path.is_dir()
    card = organism.card
    for key in ("name", "base_model", "implant", "data", "training", "seed", "provenance",
                "intended", "evaluation"):
        assert getattr(card, key) not in (None, {}, ""), key
    results, paths = evaluate_organisms(["smollm2-af"], out=tmp_path / "eval", limit=8)
    measured = results[0].measured
    assert measured["free"]["n"] == 8 and measured["paid"]["n"] == 8
    assert measured["free"]["compliance_rate"] > measured["paid"]["compliance_rate"]
    assert measured["gap"] > 0
    summary = json.loads(paths.summary_json.read_text())
    assert summary["runs"][0]["model"] == "organism/smollm2-af"
