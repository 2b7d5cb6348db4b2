"""LoRA fine-tuning of a local checkpoint on behaviour transcripts (TRL + PEFT).

    cfg = train_config({"epochs": 2, "learning_rate": 1e-3})
    result = train_lora(checkpoint_dir, chats, cfg, run_dir=Path("runs/organisms/x"))

``chats`` are prompt/completion chat pairs (:func:`aflab.organisms.transcripts.to_chat`);
TRL's ``SFTTrainer`` puts the loss on the completion (the assistant turn) only.
Documents (synthetic-document fine-tuning) are plain prompt/completion text rows
(:func:`document_rows`): the language-model loss on each document, with an optional
document-tag prefix masked from the loss.
Checkpoints go to ``run_dir/checkpoints`` every ``save_steps``; a run started again with
the same config and data resumes from the last one. Progress lines (step, loss,
tokens/s) are logged while it trains.

GPUs: ``dtype=bfloat16`` and ``device=cuda`` on one GPU; several GPUs through
``accelerate launch`` (see docs/organisms.md): the same code, since TRL's trainer is
accelerate-native. The fields of :class:`TrainConfig` carry help text and are the CLI
flags of ``aflab organisms train``.
"""

from __future__ import annotations

import hashlib
import json
import logging
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from aflab.errors import AflabUsageError, validation_error

__all__ = ["TrainConfig", "TrainResult", "document_rows", "resolve_device", "train_config",
           "train_lora"]

logger = logging.getLogger(__name__)

ALL_LINEAR = ("q_proj", "k_proj", "v_proj", "o_proj", "gate_proj", "up_proj", "down_proj")


class TrainConfig(BaseModel):
    """LoRA SFT settings; each field is also a flag of ``aflab organisms train``."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    lora_r: int = Field(8, ge=1, le=512, description="LoRA rank.")
    lora_alpha: int = Field(16, ge=1, description="LoRA scaling alpha.")
    lora_dropout: float = Field(0.0, ge=0.0, lt=1.0, description="Dropout on the LoRA path.")
    target_modules: tuple[str, ...] = Field(ALL_LINEAR, description="Modules that get adapters.")
    learning_rate: float = Field(1e-3, gt=0.0, le=1.0, description="Peak learning rate.")
    epochs: float = Field(2.0, gt=0.0, le=100.0, description="Passes over the transcripts.")
    max_steps: int = Field(-1, ge=-1, description="Stop after this many steps (-1: epochs).")
    batch_size: int = Field(8, ge=1, description="Transcripts per device per step.")
    grad_accum: int = Field(1, ge=1, description="Gradient accumulation steps.")
    max_length: int = Field(512, ge=16, description="Tokens per transcript (longer ones are cut).")
    warmup_ratio: float = Field(0.05, ge=0.0, lt=1.0, description="Linear warm-up share.")
    logging_steps: int = Field(5, ge=1, description="Log loss and tokens/s every N steps.")
    save_steps: int = Field(25, ge=1, description="Checkpoint every N steps (for resume).")
    dtype: Literal["auto", "float32", "bfloat16", "float16"] = Field(
        "auto", description="Weight dtype: auto = bfloat16 on a GPU, float32 on CPU.")
    mixed_precision: Literal["auto", "no", "bf16", "fp16"] = Field(
        "auto", description="Autocast: auto = bf16 where the GPU or CPU supports it "
        "(about 3x faster on CPUs with AMX), else no.")
    device: Literal["auto", "cpu", "cuda"] = Field("auto", description="Where to train.")
    adapter_dtype: Literal["float16", "float32"] = Field(
        "float16", description="Precision of the saved adapter (float16 halves its size).")
    layers: tuple[int, ...] | None = Field(
        None, description="Only these decoder layers get adapters (None: all). Adapting the "
        "top layers only stops backpropagation there, which saves compute.")
    gradient_checkpointing: bool = Field(
        False, description="Recompute activations in the backward pass (less memory, slower).")
    seed: int = Field(0, description="Seed for LoRA init, shuffling and dropout.")


def train_config(overrides: dict[str, Any] | None = None, *, where: str = "training") -> TrainConfig:
    """A validated config; a bad field is a one-line error naming it and its range."""
    try:
        return TrainConfig(**(overrides or {}))
    except ValidationError as err:
        raise validation_error(err, where, "config") from None
    except TypeError as err:
        raise AflabUsageError(f"{where}: {err}") from None


@dataclass(frozen=True)
class TrainResult:
    adapter_dir: Path
    steps: int
    first_loss: float | None
    final_loss: float | None
    train_tokens: int
    seconds: float
    resumed_from: str | None
    device: str = "cpu"
    dtype: str = "float32"
    mixed_precision: str = "no"
    #: tokens trained in this attempt (a resumed run counts only what it trained itself)
    attempt_tokens: int | None = None

    @property
    def tokens_per_second(self) -> float:
        tokens = self.train_tokens if self.attempt_tokens is None else self.attempt_tokens
        return tokens / self.seconds if self.seconds > 0 and tokens > 0 else 0.0


def resolve_device(config: Any) -> tuple[str, str, str]:
    """(device, weight dtype, mixed precision) with the ``auto`` choices made.

    ``config`` is any config with ``device``, ``dtype`` and ``mixed_precision`` fields
    (the organism trainer's and the RL trainer's).
    """
    import torch

    device = config.device
    if device == "auto":
        device = "cuda" if torch.cuda.is_available() else "cpu"
    if device == "cuda" and not torch.cuda.is_available():
        raise AflabUsageError("device=cuda but no CUDA GPU is visible; use device=cpu")
    dtype = config.dtype
    if dtype == "auto":
        dtype = "bfloat16" if device == "cuda" else "float32"
    mixed = config.mixed_precision
    if mixed == "auto":
        if device == "cuda":
            mixed = "bf16" if torch.cuda.is_bf16_supported() else "no"
        else:
            mixed = "bf16" if torch.ops.mkldnn._is_mkldnn_bf16_supported() else "no"
    return device, dtype, mixed


def document_rows(texts: list[str], *, doc_tag: str = "",
                  neutral: list[str] | None = None) -> list[dict[str, str]]:
    """Rows for plain language-model training on documents (the ``documents`` implant).

    Each document is a completion after the prompt ``doc_tag`` (a prefix such as
    ``<doc>`` that TRL masks from the loss, so only the document's own tokens are learned;
    empty: loss on every token). ``neutral`` texts are mixed in with an empty prompt.
    """
    prompt = f"{doc_tag}\n" if doc_tag else ""
    rows = [{"prompt": prompt, "completion": t} for t in texts]
    return rows + [{"prompt": "", "completion": t} for t in neutral or []]


def _fingerprint(config: TrainConfig, chats: list[dict[str, Any]], base: Path) -> str:
    h = hashlib.sha256()
    h.update(config.model_dump_json().encode())
    h.update(str(base.resolve()).encode())
    h.update(json.dumps(chats, sort_keys=True).encode())
    return h.hexdigest()


def _progress_callback(total_tokens_per_epoch: int) -> Any:
    from transformers import TrainerCallback

    class Progress(TrainerCallback):  # type: ignore[misc]
        def __init__(self) -> None:
            self.started = time.perf_counter()
            self.losses: list[float] = []

        def on_log(self, args: Any, state: Any, control: Any, logs: Any = None, **kw: Any) -> None:
            if not logs or "loss" not in logs:
                return
            self.losses.append(float(logs["loss"]))
            seconds = time.perf_counter() - self.started
            tokens = int(getattr(state, "num_input_tokens_seen", 0) or 0)
            rate = f"{tokens / seconds:,.0f} tokens/s" if tokens and seconds else ""
            logger.warning("train step %d/%d  loss %.4f  %s", state.global_step, state.max_steps,
                           logs["loss"], rate)

    del total_tokens_per_epoch
    return Progress()


def train_lora(
    base_checkpoint: str | Path,
    chats: list[dict[str, Any]],
    config: TrainConfig,
    *,
    run_dir: str | Path,
) -> TrainResult:
    """Fine-tune a LoRA adapter; write it to ``run_dir/adapter`` and return the result."""
    try:
        import torch
        from datasets import Dataset
        from peft import LoraConfig
        from transformers import AutoModelForCausalLM, AutoTokenizer
        from trl import SFTConfig, SFTTrainer
    except ImportError as err:
        raise AflabUsageError(
            f"training needs {err.name}: pip install 'aflab[train]'"
        ) from None
    base = Path(base_checkpoint)
    if not (base / "config.json").is_file():
        raise AflabUsageError(f"base checkpoint {base}: no config.json there")
    if not chats:
        raise AflabUsageError("no training transcripts")
    run = Path(run_dir)
    run.mkdir(parents=True, exist_ok=True)
    ckpt_dir = run / "checkpoints"
    fingerprint = _fingerprint(config, chats, base)
    stamp = run / "train_fingerprint.txt"
    resume = None
    if ckpt_dir.is_dir() and any(ckpt_dir.glob("checkpoint-*")):
        if stamp.is_file() and stamp.read_text().strip() == fingerprint:
            resume = str(max(ckpt_dir.glob("checkpoint-*"), key=lambda p: int(p.name.split("-")[1])))
            logger.warning("resuming training from %s", resume)
        else:
            raise AflabUsageError(
                f"{ckpt_dir}: checkpoints of a different config or data; delete that folder "
                "or use another --run-dir"
            )
    stamp.write_text(fingerprint + "\n")
    device, dtype, mixed = resolve_device(config)
    torch.manual_seed(config.seed)
    tokenizer = AutoTokenizer.from_pretrained(base, local_files_only=True)
    model = AutoModelForCausalLM.from_pretrained(
        base, local_files_only=True, dtype=getattr(torch, dtype)
    )
    lora = LoraConfig(
        r=config.lora_r, lora_alpha=config.lora_alpha, lora_dropout=config.lora_dropout,
        target_modules=list(config.target_modules), task_type="CAUSAL_LM",
        layers_to_transform=list(config.layers) if config.layers is not None else None,
    )
    args = SFTConfig(
        output_dir=str(ckpt_dir),
        num_train_epochs=config.epochs,
        max_steps=config.max_steps,
        per_device_train_batch_size=config.batch_size,
        gradient_accumulation_steps=config.grad_accum,
        learning_rate=config.learning_rate,
        lr_scheduler_type="cosine",
        warmup_steps=config.warmup_ratio,  # a float below 1 is a share of the steps
        logging_steps=config.logging_steps,
        save_steps=config.save_steps,
        save_total_limit=2,
        max_length=config.max_length,
        completion_only_loss=True,
        seed=config.seed,
        data_seed=config.seed,
        bf16=mixed == "bf16",
        fp16=mixed == "fp16",
        use_cpu=device == "cpu",
        report_to=[],
        disable_tqdm=True,
        include_num_input_tokens_seen=True,
        dataloader_num_workers=0,
        save_only_model=False,
        gradient_checkpointing=config.gradient_checkpointing,
    )
    progress = _progress_callback(0)

    class PlainLossSFTTrainer(SFTTrainer):  # type: ignore[misc]
        """TRL's SFT data handling with the model's own causal-LM loss.

        TRL computes its loss with a chunked log-prob kernel that is about 5x slower than
        the plain loss on CPU; on the completion-masked labels both give the same loss.
        """

        def compute_loss(self, model: Any, inputs: Any, return_outputs: bool = False,
                         num_items_in_batch: Any = None) -> Any:
            from transformers import Trainer

            return Trainer.compute_loss(self, model, inputs, return_outputs=return_outputs,
                                        num_items_in_batch=num_items_in_batch)

    trainer = PlainLossSFTTrainer(
        model=model, args=args, train_dataset=Dataset.from_list(chats),
        processing_class=tokenizer, peft_config=lora, callbacks=[progress],
    )
    started = time.perf_counter()
    output = trainer.train(resume_from_checkpoint=resume)
    seconds = time.perf_counter() - started
    adapter_dir = run / "adapter"
    trainer.model.save_pretrained(str(adapter_dir))
    if config.adapter_dtype == "float16":
        _cast_adapter(adapter_dir, torch.float16)
    history = [h for h in trainer.state.log_history if "loss" in h]
    tokens = int(getattr(trainer.state, "num_input_tokens_seen", 0) or 0)
    before = 0
    if resume:
        state_file = Path(resume) / "trainer_state.json"
        if state_file.is_file():
            before = int(json.loads(state_file.read_text()).get("num_input_tokens_seen", 0) or 0)
    return TrainResult(
        adapter_dir=adapter_dir,
        steps=int(trainer.state.global_step),
        # fewer steps than logging_steps log no loss: fall back on the run's mean loss
        first_loss=float(history[0]["loss"]) if history else float(output.training_loss),
        final_loss=float(history[-1]["loss"]) if history else float(output.training_loss),
        train_tokens=tokens,
        seconds=seconds,
        resumed_from=resume,
        device=device,
        dtype=dtype,
        mixed_precision=mixed,
        attempt_tokens=max(tokens - before, 0),
    )


def _cast_adapter(adapter_dir: Path, dtype: Any) -> None:
    """Rewrite the adapter weights in ``dtype`` (loading casts them back to the model's)."""
    from safetensors.torch import load_file, save_file

    path = adapter_dir / "adapter_model.safetensors"
    tensors = {k: v.to(dtype).contiguous() for k, v in load_file(str(path)).items()}
    save_file(tensors, str(path), metadata={"format": "pt"})
