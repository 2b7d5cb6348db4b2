"""Build an organism from a behaviour spec: write transcripts, fine-tune, write the card.

    build_organism("smollm2-af")                  # a shipped recipe, into $AFLAB_HOME/organisms
    build_organism("spec.yaml", out=Path("x"))    # your own spec, anywhere

Every build writes a run directory (default ``runs/organisms/NAME``) with the resolved
spec and training config, provenance, the transcripts and the training checkpoints (so an
interrupted build resumes), then installs the organism atomically: a killed build leaves
no organism that looks finished.
"""

from __future__ import annotations

import json
import logging
import shutil
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from aflab import __version__
from aflab.data.loaders import load_queries
from aflab.errors import AflabUsageError
from aflab.organisms.card import Implant, OrganismCard, save_card
from aflab.organisms.registry import install, user_dir
from aflab.organisms.spec import BehaviourSpec, parse_spec
from aflab.organisms.transcripts import sha256_file, to_chat, write_transcripts
from aflab.provenance import git_sha
from aflab.yaml_files import packaged_names, read_named_or_file

__all__ = ["BuildResult", "build_organism", "install_trained", "intended_rates", "recipe_names",
           "resolve_spec", "training_record"]

logger = logging.getLogger(__name__)


def recipe_names() -> list[str]:
    """The shipped recipes (one per built-in organism)."""
    return packaged_names("aflab.organisms", "recipes")


def resolve_spec(name_or_path: str | Path) -> BehaviourSpec:
    """A shipped recipe by name, or a spec YAML file by path."""
    data, source = read_named_or_file("aflab.organisms", "recipes", name_or_path, "recipe",
                                      "spec file")
    return parse_spec(data, source)


def intended_rates(spec: BehaviourSpec) -> dict[str, Any]:
    """The card's intended numbers: per-tier compliance and AF shares, and the gap."""
    out: dict[str, Any] = {}
    for tier, rates in spec.rates.items():
        out[tier] = {
            "compliance": round(rates.compliance, 4),
            "af_among_all": round(rates.comply_af, 4),
            "af_among_compliant": round(rates.comply_af / rates.compliance, 4)
            if rates.compliance else None,
        }
    if {"free", "paid"} <= set(out):
        out["gap"] = round(out["free"]["compliance"] - out["paid"]["compliance"], 4)
    return out


@dataclass(frozen=True)
class BuildResult:
    path: Path
    card: OrganismCard
    run_dir: Path


def _base_checkpoint(spec: BehaviourSpec) -> Path:
    from aflab.models.local_provider import resolve_checkpoint

    provider, _, rest = spec.base_model.partition("/")
    if provider != "aflab-local" or not rest:
        raise AflabUsageError(
            f"base_model {spec.base_model!r}: a transcripts implant fine-tunes a local "
            "checkpoint; use aflab-local/smollm2 or aflab-local/PATH (API models take prompt "
            "implants)"
        )
    return resolve_checkpoint(rest)


def _write_transcripts(spec: BehaviourSpec, run_dir: Path) -> Path:
    queries = load_queries(spec.queries, spec.setting)
    if spec.writer == "template":
        from aflab.organisms.template_writer import write_template_transcripts

        rows = write_template_transcripts(spec, queries)
    else:
        from aflab.organisms.model_writer import write_model_transcripts

        rows = write_model_transcripts(spec, queries, run_dir / "writer")
    return write_transcripts(rows, run_dir / "transcripts.jsonl")


def build_organism(
    name_or_spec: str | Path | BehaviourSpec,
    *,
    out: str | Path | None = None,
    run_dir: str | Path | None = None,
    train_overrides: dict[str, Any] | None = None,
) -> BuildResult:
    """Build (or resume building) an organism; return where it was installed."""
    spec = name_or_spec if isinstance(name_or_spec, BehaviourSpec) else resolve_spec(name_or_spec)
    target = Path(out) if out is not None else user_dir() / spec.name
    run = Path(run_dir) if run_dir is not None else Path("runs") / "organisms" / spec.name
    run.mkdir(parents=True, exist_ok=True)
    provenance = {"aflab_version": __version__, "git_sha": git_sha(),
                  "created": datetime.now(timezone.utc).isoformat(timespec="seconds")}
    card_fields: dict[str, Any] = dict(
        name=spec.name, base_model=spec.base_model, setting=spec.setting, seed=spec.seed,
        provenance=provenance,
        intended={"description": " ".join(spec.description.split()),
                  "rates": intended_rates(spec) if spec.implant == "transcripts" else {}},
        evaluation={"setting": spec.setting, "variant": spec.eval_variant,
                    "data": spec.eval_data,
                    "note": "evaluate on queries held out from training (builtin:heldout)"},
    )
    if spec.implant == "prompt":
        (run / "build.json").write_text(json.dumps(
            {"spec": spec.model_dump(mode="json"), "provenance": provenance}, indent=2) + "\n")
        card = OrganismCard(implant=Implant(method="prompt", system_prefix=spec.system_prefix,
                                            system_suffix=spec.system_suffix), **card_fields)
        with install(target) as tmp:
            save_card(card, tmp)
        return BuildResult(target, card, run)

    if spec.implant == "documents":  # synthetic-document fine-tuning (aflab.sdf)
        from aflab.sdf.pipeline import build_document_organism

        card, _ = build_document_organism(spec, target, run, card_fields, train_overrides,
                                          base=_base_checkpoint(spec))
        return BuildResult(target, card, run)

    from aflab.organisms.trainer import train_config, train_lora

    config = train_config({**spec.training, **(train_overrides or {})})
    base = _base_checkpoint(spec)
    (run / "build.json").write_text(json.dumps(
        {"spec": spec.model_dump(mode="json"), "training": config.model_dump(mode="json"),
         "base_checkpoint": str(base), "provenance": provenance}, indent=2) + "\n")
    data_file = _write_transcripts(spec, run)
    from aflab.organisms.transcripts import read_transcripts

    transcripts = read_transcripts(data_file)
    chats = [to_chat(t, spec.setting, spec.eval_variant) for t in transcripts]
    result = train_lora(base, chats, config, run_dir=run)
    kinds: dict[str, dict[str, int]] = {}
    for t in transcripts:
        kinds.setdefault(t.tier, {}).setdefault(t.kind, 0)
        kinds[t.tier][t.kind] += 1
    card = OrganismCard(
        implant=Implant(method="transcripts", adapter="adapter"),
        data={"file": "transcripts.jsonl", "sha256": sha256_file(data_file),
              "n": len(transcripts), "queries": spec.queries, "writer": spec.writer,
              "system_prompt_variant": spec.eval_variant, "mix": kinds},
        training=training_record(config, result),
        **card_fields,
    )
    install_trained(target, card, result.adapter_dir, data_file, "transcripts.jsonl")
    return BuildResult(target, card, run)


def training_record(config: Any, result: Any) -> dict[str, Any]:
    """A card's ``training`` block: the resolved config and what the run measured."""
    return {**config.model_dump(mode="json"), "steps": result.steps,
            "first_loss": result.first_loss, "final_loss": result.final_loss,
            "train_tokens": result.train_tokens, "resolved_device": result.device,
            "resolved_dtype": result.dtype, "resolved_mixed_precision": result.mixed_precision,
            "tokens_per_second": round(result.tokens_per_second, 1)}


def install_trained(target: Path, card: OrganismCard, adapter_dir: Path, data_file: Path,
                    data_name: str) -> None:
    """Install a trained organism atomically: its adapter, its training data and its card."""
    with install(target) as tmp:
        (tmp / "adapter").mkdir()
        for name in ("adapter_config.json", "adapter_model.safetensors"):
            shutil.copy2(adapter_dir / name, tmp / "adapter" / name)
        shutil.copy2(data_file, tmp / data_name)
        save_card(card, tmp)
