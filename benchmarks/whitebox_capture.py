"""Activation capture: throughput as a ratio to a plain forward pass on the same tokens,
and peak memory for a run of 1,000 samples (bounded: it must not grow with samples).

    python benchmarks/whitebox_capture.py                 # defaults below
    python benchmarks/whitebox_capture.py --n-throughput 200 --n-memory 1000 --repeats 3

Throughput: the same samples, batches and forward call (``logits_to_keep=1``,
``use_cache=False``), once plain (pre-tokenised, no hooks, nothing kept) and once
through :func:`aflab.whitebox.activations.capture` end to end (tokenising, hooks on every
layer's ``resid_post``, pooling, safetensors shards on disk). Runs alternate and the
fastest of ``--repeats`` is kept for each, so load from other processes hurts both
alike; the ratio is also given in process CPU time, which a process stopped or
starved by other work does not accumulate. Goal: ratio >= 0.8. A second line captures
only the lower half of the layers, where the forward pass stops early.

Memory: ``capture`` of N samples in a fresh subprocess, peak resident memory (ru_maxrss),
for N = n_memory / 4 and n_memory; the difference is what the run itself costs beyond the
model, which stays bounded by one shard (``--shard-samples``).
"""

from __future__ import annotations

import argparse
import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path


def samples(n: int):
    from aflab.whitebox.samples import WhiteboxSample, control_samples, eval_samples

    pool = (eval_samples("animal_welfare", variants=("minimal_prompt=format",))
            + eval_samples("helpful_only", variants=("minimal_prompt=format",))
            + control_samples())
    return [WhiteboxSample(f"{s.id}-{i}", s.prompt, s.continuation, s.label, s.group)
            for i, s in enumerate((pool * (n // len(pool) + 1))[:n])]


def _clock() -> tuple[float, float]:
    return time.perf_counter(), time.process_time()


def _since(start: tuple[float, float]) -> tuple[float, float]:
    wall, cpu = _clock()
    return wall - start[0], cpu - start[1]


def plain_forward(loaded, batch_ids: list[list[list[int]]]) -> tuple[float, float]:
    import torch

    pad = loaded.tokenizer.pad_token_id or 0
    started = _clock()
    for batch in batch_ids:
        width = max(len(x) for x in batch)
        ids = torch.full((len(batch), width), pad, dtype=torch.long)
        mask = torch.zeros((len(batch), width), dtype=torch.long)
        for b, x in enumerate(batch):
            ids[b, :len(x)] = torch.tensor(x)
            mask[b, :len(x)] = 1
        pos = torch.arange(width).unsqueeze(0).expand(len(batch), -1)
        with torch.no_grad():
            loaded.model(input_ids=ids, attention_mask=mask, position_ids=pos, use_cache=False,
                         logits_to_keep=1)
    return _since(started)


def throughput(n: int, repeats: int, batch_size: int, sites: list[str]) -> dict:
    from aflab.whitebox.activations import capture, encode, iter_batches
    from aflab.whitebox.models import load_model

    loaded = load_model("aflab-local/smollm2")
    data = samples(n)
    encoded = [encode(loaded.tokenizer, s).ids for s in data]
    batches = [[encoded[i] for i in b] for b in
               iter_batches(range(n), [len(e) for e in encoded], batch_size)]
    tokens = sum(len(e) for e in encoded)
    plain_forward(loaded, batches[:2])  # warm-up
    plain, captured = [], []
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(repeats):
            plain.append(plain_forward(loaded, batches))
            started = _clock()
            capture(loaded, data, sites=sites, position="last_prompt_token",
                    out_dir=Path(tmp) / f"r{r}", batch_size=batch_size, shard_samples=256)
            captured.append(_since(started))
    wall_p, wall_c = min(p[0] for p in plain), min(c[0] for c in captured)
    cpu_p, cpu_c = min(p[1] for p in plain), min(c[1] for c in captured)
    return {"samples": n, "tokens": tokens, "plain_s": wall_p, "capture_s": wall_c,
            "plain_tokens_per_s": tokens / wall_p, "capture_tokens_per_s": tokens / wall_c,
            "ratio": wall_p / wall_c, "plain_cpu_s": cpu_p, "capture_cpu_s": cpu_c,
            "ratio_cpu": cpu_p / cpu_c}


def memory_child(n: int, shard_samples: int) -> None:
    from aflab.whitebox.activations import capture
    from aflab.whitebox.models import load_model

    loaded = load_model("aflab-local/smollm2")
    data = samples(n)
    after_load = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    with tempfile.TemporaryDirectory() as tmp:
        capture(loaded, data, sites=["blocks.*.resid_post"], position="last_prompt_token",
                out_dir=tmp, batch_size=8, shard_samples=shard_samples)
        size = sum(p.stat().st_size for p in Path(tmp).iterdir())
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"samples": n, "peak_rss_mb": peak / 1024, "rss_after_load_mb":
                      after_load / 1024, "store_mb": size / 2**20}))


def memory(n: int, shard_samples: int) -> dict:
    out = {}
    for count in (n // 4, n):
        line = subprocess.run([sys.executable, __file__, "--memory-child", str(count),
                               "--shard-samples", str(shard_samples)], capture_output=True,
                              text=True, check=True).stdout.strip().splitlines()[-1]
        out[count] = json.loads(line)
    return out


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n-throughput", type=int, default=200)
    parser.add_argument("--n-memory", type=int, default=1000)
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--shard-samples", type=int, default=256)
    parser.add_argument("--memory-child", type=int, default=None, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.memory_child is not None:
        memory_child(args.memory_child, args.shard_samples)
        return
    full = throughput(args.n_throughput, args.repeats, args.batch_size, ["blocks.*.resid_post"])
    print(f"capture, all 30 layers (resid_post, last prompt token), {full['samples']} samples, "
          f"{full['tokens']} tokens: {full['capture_tokens_per_s']:.0f} tokens/s vs plain forward "
          f"{full['plain_tokens_per_s']:.0f} tokens/s -> ratio {full['ratio']:.2f} (goal >= 0.8); "
          f"by CPU time {full['ratio_cpu']:.2f}")
    half = throughput(args.n_throughput, args.repeats, args.batch_size,
                      [f"blocks.{i}.resid_post" for i in range(15)])
    print(f"capture, layers 0-14 (stops after layer 14): ratio {half['ratio']:.2f}; by CPU "
          f"time {half['ratio_cpu']:.2f}")
    mem = memory(args.n_memory, args.shard_samples)
    small, big = mem[args.n_memory // 4], mem[args.n_memory]
    print(f"peak memory: {small['samples']} samples {small['peak_rss_mb']:.0f} MB, "
          f"{big['samples']} samples {big['peak_rss_mb']:.0f} MB (model loaded: "
          f"{big['rss_after_load_mb']:.0f} MB; store on disk {big['store_mb']:.1f} MB); growth "
          f"{big['peak_rss_mb'] - small['peak_rss_mb']:+.0f} MB for "
          f"{big['samples'] - small['samples']} more samples")


if __name__ == "__main__":
    main()
