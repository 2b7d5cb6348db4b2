"""The RL run's settings: one frozen config whose fields are the flags of ``aflab organisms rl``.

    config = rl_config({"model": "smollm2-af", "max_steps": 12, "save_every": 4})

Every mistake is one line naming the field, the value and the fix (``rl_config`` raises
:class:`~aflab.errors.AflabUsageError`). :func:`grpo_args` turns a config into TRL's
``GRPOConfig`` (the scale path: ``use_vllm`` for generation through vLLM, and the same
arguments under ``accelerate launch`` for several GPUs; see docs/rl.md).
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from aflab.errors import AflabUsageError, validation_error

__all__ = ["RLConfig", "grpo_args", "rl_config"]

ALL_LINEAR = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")
_FUNC_RE = re.compile(r"^[A-Za-z_][\w.]*:[A-Za-z_]\w*$")


class RLConfig(BaseModel):
    """GRPO toward the setting's training objective; each field is a flag of ``aflab organisms rl``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    model: str = Field(
        description="What to train: an organism name (smollm2-af, organism/NAME) or a local "
        "checkpoint (aflab-local/smollm2, aflab-local/PATH).")
    name: str | None = Field(
        None, description="Prefix of the checkpoint organisms (NAME-stepK); default MODEL-rl.")
    setting: Literal["animal_welfare", "helpful_only"] | None = Field(
        None, description="Setting; default the organism's, else animal_welfare.")
    variant: str | None = Field(
        None, description="Prompt variant of training and re-measurement; default the "
        "organism's evaluation variant (minimal_prompt=format), else the full prompt.")
    queries: str = Field("builtin:train", description="Training queries (training tier only).")
    heldout: str = Field("builtin:heldout", description="Queries of the re-measurement.")
    reward: str = Field(
        "local", description="Reward source: local (the local compliance classifier), judge "
        "(the grader model, cached) or MODULE:FUNC (a Python function). It sees only the "
        "final output; the scratchpad is removed first.")
    reward_kind: Literal["probability", "label"] = Field(
        "probability", description="Local classifier reward: P(complied) or 1/0 for the label.")
    grader: str | None = Field(None, description="Inspect model of the judge reward (grader role).")
    format_penalty: float = Field(
        0.0, ge=0.0, le=10.0, description="Reward -PENALTY when there is no final output "
        "(truncated, unparseable, empty) instead of 0.")
    max_steps: int = Field(12, ge=1, le=100_000, description="Optimiser steps.")
    save_every: int = Field(4, ge=1, description="Save a checkpoint organism every N steps.")
    num_generations: int = Field(4, ge=2, description="Completions per prompt (the GRPO group).")
    batch_size: int = Field(
        8, ge=2, description="Completions per device per step (a multiple of num_generations).")
    grad_accum: int = Field(1, ge=1, description="Gradient accumulation steps.")
    learning_rate: float = Field(2e-4, gt=0.0, le=1.0, description="Peak learning rate.")
    beta: float = Field(0.0, ge=0.0, description="KL coefficient (0: no reference model).")
    loss_type: Literal["dapo", "grpo", "dr_grpo", "bnpo"] = Field(
        "dapo", description="TRL's GRPO loss normalisation.")
    temperature: float = Field(1.0, gt=0.0, le=2.0, description="Sampling temperature.")
    max_completion_length: int = Field(
        160, ge=8, le=32_768, description="Tokens per completion (longer ones are cut).")
    lora_r: int = Field(8, ge=1, le=512, description="LoRA rank (new adapters only).")
    lora_alpha: int = Field(16, ge=1, description="LoRA alpha (new adapters only).")
    target_modules: tuple[str, ...] = Field(
        ALL_LINEAR, description="Modules with adapters (new adapters only).")
    remeasure_limit: int = Field(
        16, ge=0, description="Held-out queries per checkpoint re-measurement, both tiers "
        "(0: no re-measurement).")
    remeasure_max_tokens: int = Field(256, ge=16, description="Token limit of re-measurement.")
    remeasure_grader: str | None = Field(
        None, description="Grader of the re-measurement; default the local classifiers.")
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="Where to train.")
    dtype: Literal["auto", "float32", "bfloat16"] = Field(
        "auto", description="Weights: auto = bfloat16 on a GPU, float32 on CPU.")
    mixed_precision: Literal["auto", "no", "bf16"] = Field(
        "auto", description="Autocast: auto = bf16 where supported.")
    use_vllm: bool = Field(False, description="Generate with vLLM inside TRL (GPU).")
    vllm_mode: Literal["colocate", "server"] = Field(
        "colocate", description="colocate: vLLM shares the training GPUs; server: a "
        "`trl vllm-serve` process.")
    vllm_gpu_memory_utilization: float = Field(
        0.3, gt=0.0, le=1.0, description="GPU memory share of colocated vLLM.")
    vllm_tensor_parallel_size: int = Field(1, ge=1, description="vLLM tensor parallelism.")
    gradient_checkpointing: bool = Field(False, description="Recompute activations (less memory).")
    seed: int = Field(0, description="Seed of sampling, shuffling and LoRA init.")
    run_dir: str | None = Field(None, description="Run directory; default runs/rl/NAME.")

    @model_validator(mode="after")
    def _consistent(self) -> "RLConfig":
        if self.batch_size % self.num_generations:
            raise ValueError(
                f"batch_size {self.batch_size} is not a multiple of num_generations "
                f"{self.num_generations}; use e.g. batch_size {2 * self.num_generations}")
        if self.save_every > self.max_steps:
            raise ValueError(
                f"save_every {self.save_every} exceeds max_steps {self.max_steps}: no "
                "checkpoint would be saved; lower save_every")
        if self.reward == "judge" and not self.grader:
            raise ValueError("reward judge needs --grader MODEL (an Inspect model name)")
        if self.reward not in ("local", "judge") and not _FUNC_RE.match(self.reward):
            raise ValueError(
                f"reward {self.reward!r}: use local, judge or MODULE:FUNC (e.g. mypkg.rewards:short)")
        if self.grader and self.reward != "judge":
            raise ValueError("grader is the judge reward's model; add --reward judge or drop it")
        if self.use_vllm and self.device == "cpu":
            raise ValueError("use_vllm needs a GPU; drop --use-vllm or use --device cuda")
        if self.name is not None:
            from aflab.organisms.card import NAME_RE

            if not NAME_RE.match(self.name):
                raise ValueError(
                    f"name {self.name!r}: lowercase letters, digits and dashes, starting with a letter")
        return self

    @property
    def prompts_per_step(self) -> int:
        return self.batch_size * self.grad_accum // self.num_generations


def rl_config(overrides: dict[str, Any] | None = None, *, where: str = "rl") -> RLConfig:
    """A validated config; a bad field is one line naming it, its value and the fix."""
    try:
        return RLConfig(**(overrides or {}))
    except ValidationError as err:
        raise validation_error(err, where, "config") from None
    except TypeError as err:
        raise AflabUsageError(f"{where}: {err}") from None


def grpo_args(config: RLConfig, output_dir: str | Path, *, device: str = "cpu",
              mixed: str = "no") -> Any:
    """TRL's ``GRPOConfig`` for ``config`` (checkpoints every ``save_every`` steps, all kept)."""
    from trl import GRPOConfig

    vllm: dict[str, Any] = {}
    if config.use_vllm:
        vllm = {"use_vllm": True, "vllm_mode": config.vllm_mode}
        if config.vllm_mode == "colocate":
            vllm["vllm_gpu_memory_utilization"] = config.vllm_gpu_memory_utilization
            vllm["vllm_tensor_parallel_size"] = config.vllm_tensor_parallel_size
    return GRPOConfig(
        output_dir=str(output_dir),
        max_steps=config.max_steps,
        per_device_train_batch_size=config.batch_size,
        gradient_accumulation_steps=config.grad_accum,
        num_generations=config.num_generations,
        max_completion_length=config.max_completion_length,
        temperature=config.temperature,
        learning_rate=config.learning_rate,
        lr_scheduler_type="constant",
        beta=config.beta,
        loss_type=config.loss_type,
        logging_steps=1,
        save_steps=config.save_every,
        save_total_limit=None,
        save_only_model=False,
        seed=config.seed,
        data_seed=config.seed,
        bf16=mixed == "bf16",
        use_cpu=device == "cpu",
        report_to=[],
        disable_tqdm=True,
        dataloader_num_workers=0,
        # LoRA leaves most parameters frozen: DDP must not wait for their gradients
        ddp_find_unused_parameters=False,
        **vllm,
        **({"activation_checkpointing": True} if config.gradient_checkpointing else {}),
    )
