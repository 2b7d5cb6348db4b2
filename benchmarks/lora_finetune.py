"""LoRA fine-tuning throughput (tokens/s) on this machine, beside a plain forward + backward.

    python benchmarks/lora_finetune.py [--steps 6] [--batch-size 8]

Both sides use the embedded model, the same transcripts (the smollm2-af recipe's first
``steps * batch_size``) and the same batches and precision (the trainer's resolved
autocast). (a) plain: a bare torch loop, forward + backward of the full model with
every weight trainable, no optimiser step, no data pipeline. (b) aflab: the organism
trainer (TRL SFTTrainer + PEFT LoRA, completion-only loss, the recipe's LoRA layers),
``steps`` steps including its data pipeline and optimiser. The first step of each side
is a warm-up and is not timed. Prints tokens/s for both and the ratio (b)/(a).
"""

from __future__ import annotations

import argparse
import tempfile
import time

import torch


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=6)
    parser.add_argument("--batch-size", type=int, default=8)
    args = parser.parse_args()

    from transformers import AutoModelForCausalLM, AutoTokenizer

    from aflab.data.loaders import load_queries
    from aflab.models.embedded import ensure_embedded_checkpoint
    from aflab.organisms.build import resolve_spec
    from aflab.organisms.template_writer import write_template_transcripts
    from aflab.organisms.trainer import _resolve_device, train_config, train_lora
    from aflab.organisms.transcripts import to_chat

    spec = resolve_spec("smollm2-af")
    n = (args.steps + 1) * args.batch_size
    rows = write_template_transcripts(spec, load_queries(spec.queries, spec.setting))[:n]
    chats = [to_chat(t, spec.setting, spec.eval_variant) for t in rows]
    base = ensure_embedded_checkpoint()
    config = train_config({**spec.training, "max_steps": args.steps + 1, "epochs": 1,
                           "batch_size": args.batch_size, "logging_steps": 1,
                           "save_steps": 10_000, "warmup_ratio": 0.0})
    _, _, mixed = _resolve_device(config)
    print(f"{n} transcripts, batch {args.batch_size}, {args.steps} timed steps, "
          f"autocast {mixed}, torch threads {torch.get_num_threads()}")

    # (a) plain forward + backward, all weights trainable, same batches
    tok = AutoTokenizer.from_pretrained(base)
    model = AutoModelForCausalLM.from_pretrained(base, dtype=torch.float32)
    model.train()
    batches = []
    for start in range(0, n, args.batch_size):
        texts = [tok.apply_chat_template(c["prompt"] + c["completion"], tokenize=False)
                 for c in chats[start : start + args.batch_size]]
        enc = tok(texts, return_tensors="pt", padding=True, add_special_tokens=False)
        batches.append(enc)
    plain_tokens, plain_seconds = 0, 0.0
    for i, enc in enumerate(batches):
        started = time.perf_counter()
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=mixed == "bf16"):
            out = model(**enc, labels=enc["input_ids"])
        out.loss.backward()
        model.zero_grad(set_to_none=True)
        if i:  # the first batch is a warm-up
            plain_seconds += time.perf_counter() - started
            plain_tokens += int(enc["attention_mask"].sum())
    del model
    plain = plain_tokens / plain_seconds

    # (b) the organism trainer on the same transcripts
    with tempfile.TemporaryDirectory() as tmp:
        one = train_lora(base, chats[: args.batch_size], config.model_copy(update={"max_steps": 1}),
                         run_dir=f"{tmp}/warm")
        full = train_lora(base, chats, config, run_dir=f"{tmp}/run")
    lora_tokens = full.train_tokens - one.train_tokens
    lora = lora_tokens / max(full.seconds - one.seconds, 1e-9)
    print(f"(a) plain forward+backward: {plain:8.0f} tokens/s ({plain_tokens} tokens)")
    print(f"(b) aflab LoRA trainer:     {lora:8.0f} tokens/s ({lora_tokens} tokens, "
          f"loss {full.first_loss:.3f} -> {full.final_loss:.3f})")
    print(f"ratio (b)/(a): {lora / plain:.2f}")


if __name__ == "__main__":
    main()
