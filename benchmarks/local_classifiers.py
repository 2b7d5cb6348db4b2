"""Throughput of the local classifiers (transcripts/s) on this machine.

    python benchmarks/local_classifiers.py [--repeats 3]

AF classifiers score the AF test split (scratchpad + final output, realistic lengths);
compliance classifiers score the AF test split's texts too (a worst case: in use they
see only the final output) and, separately, the compliance test split's responses.
Each row: texts, mean characters and MiniLM word pieces per text, one-off load time,
then the best of ``--repeats`` timed passes after a warm-up. Target: >= 200
transcripts/s on 2 cores.

A transformer over whole scratchpads cannot reach that on 2 CPU cores: MiniLM-L6 costs
about 2 x 10.6M non-embedding parameters ~ 21 MFLOP per word piece (plus attention),
a scratchpad is ~400-1,000 word pieces (more with overlapping windows), so ~10-20
GFLOP per transcript against a few tens of GFLOP/s from two cores.
"""

from __future__ import annotations

import argparse
import os
import time

from aflab.classifiers.local.classifier import load_local_classifier
from aflab.classifiers.local.features import af_text, compliance_text
from aflab.classifiers.local.labels import read_labels
from aflab.classifiers.local.train import data_path

TARGET = 200.0


def _word_pieces(texts: list[str]) -> float:
    try:
        from aflab.classifiers.local.features import _minilm

        tok = _minilm().tokenizer
        return sum(len(tok(t, add_special_tokens=False)["input_ids"]) for t in texts) / len(texts)
    except Exception:  # noqa: BLE001 - optional: only for the table
        return float("nan")


def bench(name: str, texts: list[str], repeats: int) -> tuple[float, float]:
    """``(load seconds, best transcripts/s)`` for classifier ``name`` on ``texts``."""
    start = time.perf_counter()
    clf = load_local_classifier(name)
    clf.predict_proba(texts[:2])  # load the head and (for minilm) the model
    load = time.perf_counter() - start
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        clf.predict_proba(texts)
        best = max(best, len(texts) / (time.perf_counter() - start))
    return load, best


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    af_rows = read_labels(data_path("af_labels.jsonl"), "af", split="test")
    cp_rows = read_labels(data_path("compliance_labels.jsonl"), "compliance", split="test")
    af_texts = [af_text(r.scratchpad, r.output) for r in af_rows]
    cp_texts = [compliance_text(r.request, r.output) for r in cp_rows]
    sources = {"AF test (full)": af_texts, "compliance test": cp_texts}
    pieces = {k: _word_pieces(v) for k, v in sources.items()}
    try:
        import torch

        threads = torch.get_num_threads()
    except ImportError:
        threads = 0
    print(f"cores: {os.cpu_count()}  torch threads: {threads}  "
          f"target: >= {TARGET:.0f} transcripts/s\n")
    header = (f"{'classifier':<20} {'texts':<18} {'n':>4} {'chars':>6} {'pieces':>6} "
              f"{'load s':>7} {'texts/s':>9}  target")
    print(header)
    print("-" * len(header))
    plan = [
        ("af-lexical", "AF test (full)"),
        ("af-minilm", "AF test (full)"),
        ("compliance-lexical", "AF test (full)"),
        ("compliance-lexical", "compliance test"),
        ("compliance-minilm", "AF test (full)"),
        ("compliance-minilm", "compliance test"),
    ]
    for name, source in plan:
        texts = sources[source]
        load, rate = bench(name, texts, args.repeats)
        chars = sum(map(len, texts)) / len(texts)
        print(f"{name:<20} {source:<18} {len(texts):>4} {chars:>6.0f} {pieces[source]:>6.0f} "
              f"{load:>7.2f} {rate:>9.1f}  {'met' if rate >= TARGET else 'MISSED'}")


if __name__ == "__main__":
    main()
