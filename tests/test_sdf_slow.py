"""SDF on the embedded model: a few LoRA steps on documents, belief scoring before and after.

Slow (loads SmolLM2-135M and trains on the CPU): run with ``-m slow``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from inspect_ai.log import list_eval_logs, read_eval_log
from inspect_ai.model import get_model
from safetensors.torch import load_file

from aflab.models.embedded import ensure_embedded_checkpoint
from aflab.organisms.trainer import document_rows, train_config, train_lora
from aflab.sdf import load_universe
from aflab.sdf.belief_compare import compare_beliefs
from aflab.sdf.template_docs import write_template_documents

pytestmark = pytest.mark.slow

FACTS = ["ferry", "library"]


def _true_option_logprob(log_dir: Path) -> dict[str, float]:
    """Mean log-prob per token of the true option, per MCQ sample."""
    out = {}
    for info in list_eval_logs(str(log_dir)):
        log = read_eval_log(info)
        for s in log.samples or []:
            lp, n = s.metadata["option_scores"]["ABC".index(s.target)]
            out[str(s.id)] = lp / n
    return out


def test_document_finetuning_then_beliefs_before_and_after(tmp_path: Path) -> None:
    universe = load_universe("unrelated")
    docs = write_template_documents(universe, n_per_fact=4, extra_facts=0, fact_ids=FACTS)
    rows = document_rows([d.text for d in docs], doc_tag="<doc>")
    config = train_config({"max_steps": 6, "batch_size": 8, "learning_rate": 3e-3,
                           "logging_steps": 1, "save_steps": 100, "layers": [26, 27, 28, 29],
                           "warmup_ratio": 0.0, "adapter_dtype": "float32", "max_length": 128})
    result = train_lora(ensure_embedded_checkpoint(), rows, config, run_dir=tmp_path / "run")
    assert result.steps == 6 and result.final_loss < result.first_loss
    weights = load_file(str(result.adapter_dir / "adapter_model.safetensors"))
    assert any(float(v.abs().sum()) > 0 for k, v in weights.items() if "lora_B" in k)

    after = get_model("aflab-local/smollm2", adapter=str(result.adapter_dir))
    summary = compare_beliefs({"after": after, "base": "aflab-local/smollm2"}, universe,
                              out=tmp_path / "beliefs", kinds=("mcq", "distinguish"))
    n_mcq = sum(len(f.questions) for f in universe.facts)
    for label in ("after", "base"):
        assert summary["models"][label]["mcq"]["n"] == n_mcq
        assert summary["models"][label]["distinguish"]["n"] == len(universe.facts)
    paired = summary["paired"]["after"]["mcq"]
    assert paired["n_pairs"] == n_mcq and 0.0 <= paired["mcnemar_p"] <= 1.0
    before = _true_option_logprob(tmp_path / "beliefs" / "base")
    trained = _true_option_logprob(tmp_path / "beliefs" / "after")
    ids = [i for i in before if i.split("-")[0] in FACTS]
    assert ids and sum(trained[i] - before[i] for i in ids) > 0  # the trained facts got likelier
