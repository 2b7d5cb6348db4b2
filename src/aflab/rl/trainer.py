"""GRPO toward the training objective with the scratchpad hidden from the reward (TRL + PEFT).

    result = run_rl(rl_config({"model": "smollm2-af", "max_steps": 12, "save_every": 4}))

The run directory (default ``runs/rl/NAME``) holds ``config.json`` (resolved config,
start model, provenance), ``rewards.jsonl`` (every scored completion: step, reward, the
completion), TRL's checkpoints, ``reward_curve.json`` / ``reward.png`` and, after the
re-measurement, ``remeasure.json`` / ``remeasure.png``. Every ``save_every`` steps the
adapter is installed as organism ``NAME-stepK`` (:mod:`aflab.rl.checkpoints`).

**Resume.** Running the same command again continues from the last checkpoint (the run's
fingerprint — config, start model and prompts — must match), exports any checkpoint a kill
interrupted, and resumes the re-measurement (Inspect's ``eval_set``). Reward rows of steps
a kill lost are superseded by the rows of the resumed attempt.

An organism start trains the organism's own LoRA adapter further; a checkpoint start gets
a new LoRA. GPUs: ``device=cuda`` (bf16), ``use_vllm`` for generation, and several GPUs
through ``accelerate launch`` (docs/rl.md).
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from aflab import __version__
from aflab.errors import AflabUsageError
from aflab.organisms.trainer import resolve_device
from aflab.provenance import git_sha
from aflab.rl.checkpoints import Start, checkpoint_name, export_checkpoint, resolve_start
from aflab.rl.config import RLConfig, grpo_args
from aflab.rl.prompts import training_prompts
from aflab.rl.records import append_jsonl, read_jsonl
from aflab.rl.rewards import RewardRecorder, build_reward, make_source

__all__ = ["RLResult", "run_rl", "train_rl"]

logger = logging.getLogger(__name__)

#: Config fields that do not change what the first steps train (they may differ on resume):
#: with a constant learning rate, ``max_steps`` only says where to stop (raising it extends
#: a finished run, lowering it stops one early) and ``save_every`` when to save.
_NOT_TRAINING = {"run_dir", "remeasure_limit", "remeasure_max_tokens", "remeasure_grader",
                 "max_steps", "save_every"}


@dataclass
class RLResult:
    run_dir: Path
    steps: int
    checkpoints: dict[int, str] = field(default_factory=dict)  # step -> organism name
    resumed_from: str | None = None
    seconds: float = 0.0
    curve: dict[str, Any] = field(default_factory=dict)
    remeasure: dict[str, Any] | None = None


def fingerprint(config: RLConfig, start: Start, rows: list[dict[str, Any]]) -> str:
    """What identifies a run: the training-relevant config, the start model and the prompts."""
    h = hashlib.sha256()
    h.update(json.dumps(config.model_dump(mode="json", exclude=_NOT_TRAINING),
                        sort_keys=True).encode())
    h.update(str(start.base_checkpoint.resolve()).encode())
    if start.adapter is not None:
        h.update((start.adapter / "adapter_model.safetensors").read_bytes())
    h.update(json.dumps(rows, sort_keys=True).encode())
    return h.hexdigest()


def default_run_dir(config: RLConfig, start: Start) -> Path:
    return Path(config.run_dir) if config.run_dir else Path("runs") / "rl" / start.name


def _last_checkpoint(ckpt_dir: Path) -> Path | None:
    found = [p for p in ckpt_dir.glob("checkpoint-*") if p.name.split("-")[1].isdigit()]
    return max(found, key=lambda p: int(p.name.split("-")[1])) if found else None


def _callbacks(recorder: RewardRecorder, export: Any) -> list[Any]:
    from transformers import TrainerCallback

    class RLProgress(TrainerCallback):  # type: ignore[misc]
        def on_train_begin(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            # a resumed run keeps the checkpoint's save cadence unless told: use this run's
            state.save_steps = args.save_steps

        def on_step_begin(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            recorder.step = int(state.global_step) + 1

        def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kw: Any) -> None:
            if logs and "reward" in logs:
                logger.warning("rl step %d/%d  mean reward %.3f (sd %.3f)", state.global_step,
                               state.max_steps, logs["reward"], logs.get("reward_std", 0.0))

        def on_save(self, args: Any, state: Any, control: Any, **kw: Any) -> None:
            if state.is_world_process_zero:
                export(int(state.global_step),
                       Path(args.output_dir) / f"checkpoint-{state.global_step}")

    return [RLProgress()]


def train_rl(config: RLConfig, *, callbacks: list[Any] | None = None) -> RLResult:
    """Train (or resume) and export the checkpoint organisms; no re-measurement."""
    try:
        import torch
        from datasets import Dataset
        from peft import LoraConfig, PeftModel
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from trl import GRPOTrainer
    except ImportError as err:
        raise AflabUsageError(f"RL needs {err.name}: pip install 'aflab[train]'") from None
    start = resolve_start(config)
    rows = training_prompts(start.setting, start.variant, config.queries)
    source = make_source(config.reward, start.setting, reward_kind=config.reward_kind,
                         grader=config.grader)
    run = default_run_dir(config, start)
    run.mkdir(parents=True, exist_ok=True)
    ckpt_dir = run / "checkpoints"
    fp = fingerprint(config, start, rows)
    stamp = run / "fingerprint.txt"
    last = _last_checkpoint(ckpt_dir) if ckpt_dir.is_dir() else None
    if last is not None and not (stamp.is_file() and stamp.read_text().strip() == fp):
        raise AflabUsageError(
            f"{run}: checkpoints of a different config, start model or prompts; delete that "
            "folder or use another --run-dir")
    stamp.write_text(fp + "\n")
    device, dtype, mixed = resolve_device(config)
    attempt = sum(1 for _ in read_jsonl(run / "attempts.jsonl")) + 1
    append_jsonl(run / "attempts.jsonl", [{
        "attempt": attempt, "resumed_from": str(last) if last else None,
        "started": datetime.now(timezone.utc).isoformat(timespec="seconds")}])
    (run / "config.json").write_text(json.dumps({
        "config": config.model_dump(mode="json"),
        "start": {"base_model": start.base_model, "base_checkpoint": str(start.base_checkpoint),
                  "adapter": str(start.adapter) if start.adapter else None,
                  "parent": start.parent, "setting": start.setting, "variant": start.variant,
                  "name": start.name},
        "resolved": {"device": device, "dtype": dtype, "mixed_precision": mixed},
        "n_prompts": len(rows), "fingerprint": fp,
        "provenance": {"aflab_version": __version__, "git_sha": git_sha()},
    }, indent=2) + "\n")

    exported: dict[int, str] = {}

    def export(step: int, adapter_dir: Path) -> None:
        export_checkpoint(start, config, run, step=step, adapter_dir=adapter_dir,
                          fingerprint=fp, n_prompts=len(rows))
        exported[step] = checkpoint_name(start.name, step)

    recorder = RewardRecorder()
    recorder.sink = lambda new: append_jsonl(
        run / "rewards.jsonl", [{**r, "attempt": attempt} for r in new])
    started = time.perf_counter()
    done = last is not None and int(last.name.split("-")[1]) >= config.max_steps
    if not done:
        torch.manual_seed(config.seed)
        tokenizer = AutoTokenizer.from_pretrained(start.base_checkpoint, local_files_only=True)
        model = AutoModelForCausalLM.from_pretrained(
            start.base_checkpoint, local_files_only=True, dtype=getattr(torch, dtype))
        peft_config = None
        if start.adapter is not None:
            model = PeftModel.from_pretrained(model, str(start.adapter), is_trainable=True)
        else:
            peft_config = LoraConfig(r=config.lora_r, lora_alpha=config.lora_alpha,
                                     target_modules=list(config.target_modules),
                                     task_type="CAUSAL_LM")
        trainer = GRPOTrainer(
            model=model,
            reward_funcs=[build_reward(source, format_penalty=config.format_penalty,
                                       recorder=recorder)],
            args=grpo_args(config, ckpt_dir, device=device, mixed=mixed),
            train_dataset=Dataset.from_list(rows),
            processing_class=tokenizer,
            peft_config=peft_config,
            callbacks=_callbacks(recorder, export) + list(callbacks or []),
        )
        trainer.train(resume_from_checkpoint=str(last) if last else None)
        final = int(trainer.state.global_step)
        if final % config.save_every:  # the last steps after the last save
            trainer.save_model(str(run / "final-adapter"))
            export(final, run / "final-adapter")
    # checkpoints a kill left unexported (saved, then killed before the export)
    for path in sorted(ckpt_dir.glob("checkpoint-*")):
        step = int(path.name.split("-")[1])
        if step not in exported:
            export(step, path)
    if (run / "final-adapter").is_dir() and config.max_steps not in exported:
        export(config.max_steps, run / "final-adapter")
    from aflab.rl.curve import write_reward_curve

    curve = write_reward_curve(run)
    return RLResult(run, max(exported) if exported else 0, dict(sorted(exported.items())),
                    str(last) if last else None, time.perf_counter() - started, curve)


def run_rl(config: RLConfig, *, callbacks: list[Any] | None = None,
           display: str | None = None) -> RLResult:
    """Train, export checkpoints, and re-measure each (step 0 included) on held-out queries."""
    result = train_rl(config, callbacks=callbacks)
    if config.remeasure_limit > 0:
        from aflab.rl.remeasure import remeasure

        result.remeasure = remeasure(config, result.run_dir, result.checkpoints,
                                     display=display)
    return result

