"""Local generation speed on the evaluation's own workload, side by side in one run.

    python benchmarks/local_inference.py [--samples 16] [--max-tokens 256] [--dtype float32 ...]
        [--skip-transformers] [--skip-llamacpp] [--skip-single]

The workload: ``--samples`` helpful-only samples (queries x both tiers) sharing the
default system prompt (~2.5k tokens), greedy, ``--max-tokens`` new tokens each, the
embedded SmolLM2-135M. Every engine gets the same token ids and the same number of
threads, and starts cold (no prefix computed yet). Rows:

- aflab-local on transformers' own KV cache (the engine before the cascade path:
  the prefix copied into every row, the cache re-concatenated each step);
- aflab-local on the cascade path (prefix stored once, rows' own tokens in a
  preallocated buffer, finished rows leave the batch), for each ``--dtype``;
- llama.cpp (llama-cpp-python, the GGUF the package ships), one sequence at a time
  with the prefix's KV reused, and all sequences batched sharing the prefix.

Prints samples/s, decode tokens/s and the ratios to llama.cpp batched (target >= 2x,
floor 1x); whether the two aflab paths give identical tokens and how far aflab's
greedy tokens agree with llama.cpp's (its Q4_1 weights differ from the dequantised
checkpoint, so they may diverge); and the decode roofline: the bytes each decode
step must read (weights, the shared prefix's KV once, each active row's own KV)
over this machine's measured memory bandwidth, against the measured decode time
(goal >= 50%).
"""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).parent))

from aflab.data.loaders import load_builtin  # noqa: E402
from aflab.evaluation.prompting import render_system_prompt, render_user_turn  # noqa: E402
from aflab.evaluation.variants import Variant  # noqa: E402
from aflab.models.embedded import embedded_status  # noqa: E402
from aflab.models.local_engine import GenerationRequest, LocalEngine  # noqa: E402
from aflab.models.local_provider import resolve_checkpoint  # noqa: E402


@dataclass
class Row:
    name: str
    seconds: float
    prefill: float
    tokens: list[list[int]]  # without a final end-of-sequence token
    generated: int  # tokens generated, end-of-sequence tokens included
    roofline: tuple[float, float, float] | None = None  # bytes, FLOPs, matmul peak FLOP/s

    def decode_tps(self) -> float:
        # the first token of each row comes out of the prefill
        return (self.generated - len(self.tokens)) / max(self.seconds - self.prefill, 1e-9)


def chats(n: int) -> list[list[dict[str, str]]]:
    variant = Variant()
    system = render_system_prompt("helpful_only", variant)
    out = []
    for query in load_builtin("helpful_only")[: (n + 1) // 2]:
        for free in (True, False):
            user = render_user_turn(query.text, is_free_tier=free, variant=variant)
            out.append([{"role": "system", "content": system}, {"role": "user", "content": user}])
    return out[:n]


def bandwidth() -> float:
    """Best read bandwidth (bytes/s) over a 1 GiB tensor, all threads."""
    a = torch.ones(256 * 1024 * 1024)
    best = 0.0
    for _ in range(5):
        start = time.perf_counter()
        a.sum()
        best = max(best, a.numel() * 4 / (time.perf_counter() - start))
    return best


def matmul_peak(dtype: torch.dtype) -> float:
    """Best achieved FLOP/s of a 1024^3 matrix product in ``dtype``, all threads."""
    a, b = torch.randn(1024, 1024, dtype=dtype), torch.randn(1024, 1024, dtype=dtype)
    best = 0.0
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(10):
            a @ b
        best = max(best, 10 * 2 * 1024**3 / (time.perf_counter() - start))
    return best


def run_engine(engine: LocalEngine, rows: list[list[int]], system_lens: list[int], max_new: int,
               *, cascade: bool) -> tuple[float, float, list]:
    engine.configure(prefix_cache=True, batch_size=len(rows), cascade=cascade)

    def once(n: int) -> tuple[float, list]:
        engine._prefixes.clear()  # cold: the prefix is computed inside the timing
        engine._recent.clear()
        reqs = [GenerationRequest(ids, n, system_len=s) for ids, s in zip(rows, system_lens)]
        start = time.perf_counter()
        out = engine.generate(reqs)
        return time.perf_counter() - start, out

    prefill, _ = once(1)
    seconds, out = once(max_new)
    return seconds, prefill, out


def decode_cost(engine: LocalEngine, results: list) -> tuple[float, float]:
    """Bytes the cascade path must read, and FLOPs it must do, over all decode steps."""
    model = engine.model
    cfg = model.config
    weights = sum(p.numel() * p.element_size() for p in model.parameters())  # tied: counted once
    # every weight multiplies each active row (the tied embedding once, as the LM head)
    flops_row = 2 * sum(p.numel() for p in model.parameters())
    heads = cfg.num_attention_heads
    head_dim = getattr(cfg, "head_dim", None) or cfg.hidden_size // heads
    kv_bytes = model.lm_head.weight.element_size()
    per_token = 2 * cfg.num_hidden_layers * cfg.num_key_value_heads * head_dim * kv_bytes
    attention_flops = 4 * cfg.num_hidden_layers * heads * head_dim  # per row, per context token
    prefix = max(r.cached_tokens for r in results)
    width = max(r.input_tokens - r.cached_tokens for r in results)
    read = flops = 0.0
    for step in range(1, max(r.output_tokens for r in results)):
        active = sum(1 for r in results if r.output_tokens > step)
        read += weights + prefix * per_token + active * (width + step) * per_token
        flops += active * (flops_row + attention_flops * (prefix + width + step))
    return read, flops


def agreement(a: list[list[int]], b: list[list[int]]) -> str:
    same = sum(x == y for x, y in zip(a, b))
    common = []
    for x, y in zip(a, b):
        n = 0
        while n < min(len(x), len(y)) and x[n] == y[n]:
            n += 1
        common.append(n)
    return (f"identical {same}/{len(a)}; tokens before the first difference: mean "
            f"{sum(common) / len(common):.0f}, min {min(common)}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=16)
    parser.add_argument("--max-tokens", type=int, default=256)
    parser.add_argument("--dtype", nargs="+", default=["float32", "bfloat16"])
    parser.add_argument("--skip-transformers", action="store_true")
    parser.add_argument("--skip-llamacpp", action="store_true")
    parser.add_argument("--skip-single", action="store_true", help="skip llama.cpp one-at-a-time")
    args = parser.parse_args()
    threads = torch.get_num_threads()
    path = resolve_checkpoint("smollm2")
    messages = chats(args.samples)
    results: list[Row] = []
    reference: list[list[int]] | None = None
    identical = None
    for dtype in args.dtype:
        engine = LocalEngine(path, adapter=None, device="cpu", dtype=dtype)
        rows = [engine.encode_chat(m) for m in messages]
        system_lens = [engine.system_prefix_len(m, ids) for m, ids in zip(messages, rows)]
        if dtype == args.dtype[0] and not args.skip_transformers:
            secs, pre, out = run_engine(engine, rows, system_lens, args.max_tokens, cascade=False)
            results.append(Row(f"aflab-local transformers cache, {dtype}", secs, pre,
                               [list(r.token_ids) for r in out],
                               sum(r.output_tokens for r in out)))
            old = [r.token_ids for r in out]
        else:
            old = None
        secs, pre, out = run_engine(engine, rows, system_lens, args.max_tokens, cascade=True)
        row = Row(f"aflab-local cascade, {dtype}", secs, pre, [list(r.token_ids) for r in out],
                  sum(r.output_tokens for r in out))
        row.roofline = (*decode_cost(engine, out), matmul_peak(getattr(torch, dtype)))
        results.append(row)
        if dtype == args.dtype[0]:
            reference = [list(r.token_ids) for r in out]
            if old is not None:
                identical = sum(a == tuple(b) for a, b in zip(old, reference))
        del engine
    n = len(messages)
    if not args.skip_llamacpp:
        from llamacpp_baseline import LlamaCpp

        tokens = rows  # the same token ids (the GGUF and the checkpoint share the vocabulary)
        shared = min(system_lens)
        ctx = shared + n * (max(len(t) for t in tokens) - shared + args.max_tokens) + 256
        cpp = LlamaCpp(str(embedded_status().gguf), threads=threads, n_ctx=ctx, n_seq=n)

        def row(name: str, run) -> Row:
            clean = [t[:-1] if t and cpp._eog(t[-1]) else t for t in run.tokens]
            return Row(name, run.seconds, run.prefill_seconds, clean,
                       sum(len(t) for t in run.tokens))

        if not args.skip_single:
            results.append(row("llama.cpp one at a time, prefix reused",
                               cpp.one_at_a_time(tokens, args.max_tokens)))
        batched = row("llama.cpp batched, prefix shared (seq_cp)",
                      cpp.batched(tokens, args.max_tokens))
        results.append(batched)
    else:
        batched = None
    bw = bandwidth()
    print(f"workload: {n} helpful-only samples ({len(rows[0])} prompt tokens, shared prefix "
          f"~{max(system_lens)}), greedy, {args.max_tokens} new tokens, {threads} threads; "
          f"measured read bandwidth {bw / 1e9:.1f} GB/s")
    print(f"{'engine':46s} {'seconds':>8s} {'samples/s':>10s} {'prefill s':>9s} "
          f"{'decode tok/s':>12s} {'x llama.cpp batched':>20s} {'roofline':>9s}")
    for row in results:
        ratio = f"{batched.seconds / row.seconds:.2f}x" if batched else "-"
        roof = "-"
        if row.roofline is not None:
            roof = f"{100 * row.roofline[0] / bw / max(row.seconds - row.prefill, 1e-9):.0f}%"
        print(f"{row.name:46s} {row.seconds:8.1f} {n / row.seconds:10.3f} {row.prefill:9.1f} "
              f"{row.decode_tps():12.1f} {ratio:>20s} {roof:>9s}")
    if identical is not None:
        print(f"transformers cache vs cascade ({args.dtype[0]}): identical tokens {identical}/{n}")
    if batched is not None and reference is not None:
        print(f"greedy agreement, aflab cascade {args.dtype[0]} vs llama.cpp Q4_1: "
              f"{agreement(reference, batched.tokens)}")
    for row in results:
        if row.roofline is not None:
            read, flops, peak = row.roofline
            decode = row.seconds - row.prefill
            print(f"roofline {row.name}: decode measured {decode:.1f} s; memory: {read / 1e9:.0f} GB "
                  f"at {bw / 1e9:.1f} GB/s = {read / bw:.1f} s ({100 * read / bw / decode:.0f}%); "
                  f"compute: {flops / 1e12:.2f} TFLOP at this dtype's measured matmul peak "
                  f"{peak / 1e9:.0f} GFLOP/s = {flops / peak:.1f} s ({100 * flops / peak / decode:.0f}%)")
    if identical is not None and identical != n:
        sys.exit(1)


if __name__ == "__main__":
    main()
