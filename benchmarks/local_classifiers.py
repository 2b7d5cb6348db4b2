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


def bench_pipeline(
    name: str, requests: list[str], responses: list[str], repeats: int
) -> tuple[float, float]:
    """``(load seconds, best transcripts/s)`` for a compliance classifier end to end:
    verdict-tag parsing, the rules, then the head on the rows no rule decided."""
    from aflab.classifiers.local.compliance_pipeline import score_responses

    start = time.perf_counter()
    clf = load_local_classifier(name)
    score_responses(clf, requests[:2], responses[:2])
    load = time.perf_counter() - start
    best = 0.0
    for _ in range(repeats):
        start = time.perf_counter()
        score_responses(clf, requests, responses)
        best = max(best, len(responses) / (time.perf_counter() - start))
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
        ("compliance-pair-lexical", "compliance test"),
        ("compliance-aw-lexical", "compliance test"),
        ("af-motive", "AF test (full)"),
        ("af-lexical", "AF test (full)"),
        ("af-minilm", "AF test (full)"),
        ("compliance-lexical", "AF test (full)"),
        ("compliance-lexical", "compliance test"),
        ("compliance-minilm", "AF test (full)"),
        ("compliance-minilm", "compliance test"),
    ]
    rates: dict[str, float] = {}
    by_source: dict[tuple[str, str], float] = {}
    for name, source in plan:
        texts = sources[source]
        load, rate = bench(name, texts, args.repeats)
        rates.setdefault(name, rate)
        by_source[(name, source)] = rate
        chars = sum(map(len, texts)) / len(texts)
        print(f"{name:<20} {source:<18} {len(texts):>4} {chars:>6.0f} {pieces[source]:>6.0f} "
              f"{load:>7.2f} {rate:>9.1f}  {'met' if rate >= TARGET else 'MISSED'}")

    if "af-motive" in rates and "af-lexical" in rates:
        from aflab.classifiers.local.classifier import ALIASES

        print(f"\naf-local = {ALIASES['af-local']}: {rates[ALIASES['af-local']]:.1f} transcripts/s "
              f"({'met' if rates[ALIASES['af-local']] >= TARGET else 'MISSED'} >= {TARGET:.0f}); "
              f"af-motive / af-lexical speed ratio {rates['af-motive'] / rates['af-lexical']:.2f} "
              "(same run, same texts)")

    # Compliance end to end (rules + head), as the judge runs it.
    aw_rows = read_labels(data_path("compliance_aw_labels.jsonl"), "compliance")
    print(f"\n{'pipeline (rules+head)':<24} {'texts':<18} {'n':>4} {'load s':>7} {'texts/s':>9}  target")
    pipe: dict[str, float] = {}
    for name, source, rows in (("compliance-local", "compliance test", cp_rows),
                               ("compliance-aw-local", "AW labels (all)", aw_rows)):
        load, rate = bench_pipeline(name, [r.request for r in rows], [r.output for r in rows],
                                    args.repeats)
        pipe[name] = rate
        print(f"{name:<24} {source:<18} {len(rows):>4} {load:>7.2f} {rate:>9.1f}  "
              f"{'met' if rate >= TARGET else 'MISSED'}")
    minilm = by_source.get(("compliance-minilm", "compliance test"))
    if minilm:
        from aflab.classifiers.local.classifier import ALIASES

        print(f"\ncompliance-local = {ALIASES['compliance-local']}: "
              f"{pipe['compliance-local']:.1f} transcripts/s with rules "
              f"({'met' if pipe['compliance-local'] >= TARGET else 'MISSED'} >= {TARGET:.0f}); "
              f"ratio to compliance-minilm {pipe['compliance-local'] / minilm:.1f}x "
              "(same run, same texts)")


if __name__ == "__main__":
    main()