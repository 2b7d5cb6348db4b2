"""Where an RL run starts, and its checkpoints as organisms (the card records the step).

    start = resolve_start(config)          # organism or local checkpoint -> base + adapter
    export_checkpoint(start, config, run_dir, step=4, adapter_dir=..., fingerprint=...)

A checkpoint organism ``NAME-stepK`` is the start's base model plus the adapter after K
optimiser steps, installed atomically under ``$AFLAB_HOME/organisms`` like any organism,
so every command can use it (``organism/NAME-stepK``). Its card's ``training`` block says
``method: grpo``, the ``step``, the ``parent`` it started from, the run's fingerprint and
its resolved config; ``measured`` is filled in by the re-measurement.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from aflab import __version__
from aflab.errors import AflabUsageError
from aflab.organisms.card import CARD_FILE, Implant, OrganismCard, load_card, save_card
from aflab.organisms.registry import MODEL_PREFIX, get_organism, install, model_name, user_dir
from aflab.provenance import git_sha
from aflab.rl.config import RLConfig

__all__ = ["Start", "checkpoint_name", "export_checkpoint", "resolve_start"]

ADAPTER_FILES = ("adapter_config.json", "adapter_model.safetensors")


@dataclass(frozen=True)
class Start:
    """The model an RL run starts from."""

    base_model: str           # Inspect name of the base, aflab-local/...
    base_checkpoint: Path
    adapter: Path | None      # the organism's adapter, trained further; None: a new LoRA
    parent: str               # organism name or the base model name
    eval_model: str           # Inspect model of step 0 (organism/NAME or aflab-local/...)
    setting: str
    variant: str | None
    name: str                 # prefix of the checkpoint organisms


def resolve_start(config: RLConfig) -> Start:
    """Resolve ``config.model``; one-line errors for what cannot be trained."""
    from aflab.models.local_provider import resolve_checkpoint

    text = config.model.removeprefix(MODEL_PREFIX)
    if text.startswith("aflab-local/"):
        rest = text.partition("/")[2]
        checkpoint = resolve_checkpoint(rest)
        default_name = "smollm2-rl" if rest == "smollm2" else "checkpoint-rl"
        return Start(text, checkpoint, None, text, text, config.setting or "animal_welfare",
                     config.variant, config.name or default_name)
    if "/" in text:
        raise AflabUsageError(
            f"model {config.model!r}: RL trains an organism (NAME) or a local checkpoint "
            "(aflab-local/PATH); API models cannot be trained here")
    organism = get_organism(text)
    card = organism.card
    provider, _, rest = card.base_model.partition("/")
    if provider != "aflab-local":
        raise AflabUsageError(
            f"organism {text}: its base {card.base_model} is not a local checkpoint; RL needs one")
    if card.implant.system_prefix or card.implant.system_suffix:
        raise AflabUsageError(
            f"organism {text}: a hidden-prompt implant is not trained by RL here; use its base "
            f"model {card.base_model}")
    setting = config.setting or card.setting or "animal_welfare"
    variant = config.variant or card.evaluation.get("variant")
    return Start(card.base_model, resolve_checkpoint(rest), organism.adapter_path, text,
                 model_name(text), setting, variant, config.name or f"{text}-rl")


def checkpoint_name(prefix: str, step: int) -> str:
    return f"{prefix}-step{step}"


def export_checkpoint(
    start: Start, config: RLConfig, run_dir: Path, *, step: int, adapter_dir: Path,
    fingerprint: str, n_prompts: int,
) -> Path:
    """Install the adapter at ``step`` as organism ``NAME-stepK``; return its directory.

    Idempotent for the same run (same fingerprint); a same-named organism from another run
    is a one-line error rather than being overwritten.
    """
    name = checkpoint_name(start.name, step)
    target = user_dir() / name
    if (target / CARD_FILE).is_file():
        existing = load_card(target).training.get("fingerprint")
        if existing == fingerprint:
            return target
        raise AflabUsageError(
            f"organism {name} exists from another run; choose another --name or delete {target}")
    missing = [f for f in ADAPTER_FILES if not (adapter_dir / f).is_file()]
    if missing:
        raise AflabUsageError(f"{adapter_dir}: no {missing[0]} (not a LoRA checkpoint)")
    card = OrganismCard(
        name=name,
        base_model=start.base_model,
        implant=Implant(method="rl", adapter="adapter"),
        setting=start.setting,
        data={"queries": config.queries, "n": n_prompts, "tier": "free",
              "reward": config.reward, "reward_kind": config.reward_kind,
              "format_penalty": config.format_penalty,
              "reward_sees": "final output only (scratchpad removed)"},
        training=_training_block(start, config, run_dir, step, fingerprint),
        seed=config.seed,
        provenance={"aflab_version": __version__, "git_sha": git_sha(),
                    "created": datetime.now(timezone.utc).isoformat(timespec="seconds")},
        intended={"description": (
            f"Checkpoint after {step} GRPO steps toward the {start.setting} training objective "
            f"(training tier only), started from {start.parent}; the reward saw only the final "
            "output, never the scratchpad.")},
        evaluation={"setting": start.setting, "variant": start.variant,
                    "data": config.heldout,
                    "note": "re-measured on held-out queries in both tiers"},
    )
    with install(target) as tmp:
        (tmp / "adapter").mkdir()
        for file in ADAPTER_FILES:
            shutil.copy2(adapter_dir / file, tmp / "adapter" / file)
        save_card(card, tmp)
    return target


def _training_block(start: Start, config: RLConfig, run_dir: Path, step: int,
                    fingerprint: str) -> dict[str, Any]:
    return {"method": "grpo", "step": step, "parent": start.parent,
            "parent_adapter": "continued" if start.adapter is not None else "new LoRA",
            "run_dir": str(run_dir), "fingerprint": fingerprint,
            "config": config.model_dump(mode="json")}


def record_measured(name: str, measured: dict[str, Any]) -> None:
    """Write the re-measurement into checkpoint organism ``name``'s card."""
    organism = get_organism(name)
    save_card(organism.card.model_copy(update={"measured": measured}), organism.path)
