"""Local inference speed, measured side by side in one run on the embedded model.

    python benchmarks/local_inference.py [--samples 16] [--max-tokens 32] [--skip-demo]

Prints samples/s for (a) Inspect's stock ``hf/local`` provider, (b) aflab-local
without prefix reuse, (c) aflab-local with prefix reuse, on the same samples of the
default helpful-only prompt (greedy, same max tokens); prefill tokens computed per
sample; decode tokens/s against the machine's measured matmul throughput; and the
README demo's wall time. Checks that (b) and (c) give identical outputs.
Targets: (c) >= 3x (a); decode >= 50% of the measured limit; demo <= 5 minutes.
"""

from __future__ import annotations

import argparse
import asyncio
import subprocess
import sys
import tempfile
import time

import torch
from inspect_ai.model import ChatMessageSystem, ChatMessageUser, GenerateConfig, get_model

from aflab.data.loaders import load_builtin
from aflab.evaluation.prompting import render_system_prompt, render_user_turn
from aflab.evaluation.variants import Variant
from aflab.models.local_engine import GenerationRequest
from aflab.models.local_provider import resolve_checkpoint


def chats(n: int) -> list[list]:
    variant = Variant()
    system = render_system_prompt("helpful_only", variant)
    out = []
    for query in load_builtin("helpful_only")[: (n + 1) // 2]:
        for free in (True, False):
            user = render_user_turn(query.text, is_free_tier=free, variant=variant)
            out.append([ChatMessageSystem(content=system), ChatMessageUser(content=user)])
    return out[:n]


async def run_all(model, samples, max_tokens: int):
    config = GenerateConfig(max_tokens=max_tokens, temperature=0.0)
    return await asyncio.gather(*(model.generate(s, config=config) for s in samples))


def timed(model, samples, max_tokens):
    start = time.perf_counter()
    outputs = asyncio.run(run_all(model, samples, max_tokens))
    return time.perf_counter() - start, outputs


def matmul_flops() -> float:
    """Achieved fp32 matmul FLOP/s on this machine (best of a few 1024^3 products)."""
    a, b = torch.randn(1024, 1024), torch.randn(1024, 1024)
    best = 0.0
    for _ in range(5):
        start = time.perf_counter()
        for _ in range(10):
            a @ b
        best = max(best, 10 * 2 * 1024**3 / (time.perf_counter() - start))
    return best


def flops_per_token(model, context: int) -> float:
    """2 x (non-embedding params + lm_head) + attention over ``context`` positions."""
    cfg = model.config
    params = sum(p.numel() for n, p in model.named_parameters() if "embed_tokens" not in n)
    lm_head = cfg.vocab_size * cfg.hidden_size  # tied to the embedding, still multiplied
    attention = 4 * cfg.num_hidden_layers * context * cfg.hidden_size
    return 2 * (params + lm_head) + attention


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=16)
    parser.add_argument("--max-tokens", type=int, default=32)
    parser.add_argument("--skip-demo", action="store_true")
    args = parser.parse_args()
    torch.manual_seed(0)
    ckpt = str(resolve_checkpoint("smollm2"))
    samples = chats(args.samples)
    n = len(samples)

    stock = get_model("hf/local", model_path=ckpt, tokenizer_path=ckpt, device="cpu",
                      do_sample=False, memoize=False)
    t_a, out_a = timed(stock, samples, args.max_tokens)

    ours = get_model("aflab-local/smollm2", memoize=False)
    engine = ours.api.engine  # type: ignore[attr-defined]
    engine.configure(prefix_cache=False, batch_size=n)
    t_b, out_b = timed(ours, samples, args.max_tokens)
    engine.configure(prefix_cache=True, batch_size=n)
    engine._prefixes.clear()  # cold start: the prefix is computed inside the timing
    t_c, out_c = timed(ours, samples, args.max_tokens)

    same = [b.completion == c.completion for b, c in zip(out_b, out_c)]
    prompt = [o.usage.input_tokens for o in out_c]
    cached = [o.usage.input_tokens_cache_read or 0 for o in out_c]
    prefix_len = max(cached)
    prefill_c = (sum(p - c for p, c in zip(prompt, cached)) + prefix_len) / n

    # decode throughput: same batch, prefix cached, N tokens minus 1 token
    reqs = lambda k: [  # noqa: E731
        GenerationRequest(engine.encode_chat([{"role": m.role, "content": m.text} for m in s]), k)
        for s in samples
    ]
    engine.generate(reqs(1))
    start = time.perf_counter()
    one = engine.generate(reqs(1))
    t_one = time.perf_counter() - start
    start = time.perf_counter()
    many = engine.generate(reqs(args.max_tokens))
    t_many = time.perf_counter() - start
    decoded = sum(r.output_tokens for r in many) - sum(r.output_tokens for r in one)
    steps = max(r.output_tokens for r in many) - 1
    decode_tps = decoded / max(t_many - t_one, 1e-9)
    achieved = matmul_flops()
    per_token = flops_per_token(engine.model, context=sum(prompt) // n + args.max_tokens // 2)
    share = decode_tps * per_token / achieved

    print(f"samples: {n} (default helpful-only prompt, {sum(prompt) // n} prompt tokens on "
          f"average), greedy, max_tokens={args.max_tokens}, torch threads={torch.get_num_threads()}")
    print(f"{'provider':42s} {'seconds':>8s} {'samples/s':>10s} {'prefill tok/sample':>19s}")
    rows = [("(a) inspect hf/local (stock)", t_a, sum(prompt) / n),
            ("(b) aflab-local, no prefix reuse", t_b, sum(prompt) / n),
            ("(c) aflab-local, prefix reuse", t_c, prefill_c)]
    for name, secs, prefill in rows:
        print(f"{name:42s} {secs:8.1f} {n / secs:10.3f} {prefill:19.0f}")
    print(f"speed-up (c)/(a): {t_a / t_c:.2f}x (target >= 3x); (c)/(b): {t_b / t_c:.2f}x")
    print(f"(b) and (c) outputs identical: {sum(same)}/{n}"
          f"{'' if all(same) else '  <-- MISMATCH'}; (a) equal to (c): "
          f"{sum(a.completion == c.completion for a, c in zip(out_a, out_c))}/{n}")
    print(f"decode: {decode_tps:.1f} tok/s over {steps} steps at batch {n}; "
          f"{per_token / 1e6:.0f} MFLOP/token; measured matmul {achieved / 1e9:.1f} GFLOP/s; "
          f"decode at {100 * share:.1f}% of that limit (target >= 50%)")
    if not args.skip_demo:
        with tempfile.TemporaryDirectory() as tmp:
            start = time.perf_counter()
            subprocess.run(
                [sys.executable, "-m", "aflab.cli", "run", "helpful_only", "--limit", "2",
                 "--max-tokens", "300", "--log-dir", f"{tmp}/demo"],
                check=True, capture_output=True,
            )
            print(f"README demo (aflab run helpful_only --limit 2 --max-tokens 300, model "
                  f"already converted): {time.perf_counter() - start:.0f} s (target <= 300 s)")
    if not all(same):
        sys.exit(1)


if __name__ == "__main__":
    main()
