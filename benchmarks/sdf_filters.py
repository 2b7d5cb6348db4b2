"""Recall and false removals of the SDF document filters on a crafted set.

    python benchmarks/sdf_filters.py

Clean documents: the template writer's, for all three shipped universes (seed 11). Planted:
leaks of every default category in several wordings, near-duplicates (one to three small
edits of a clean document), copies of the universe context, and too-short documents.
Prints per filter what it removed, the recall on the planted documents and the clean
documents removed (should be 0).
"""

from __future__ import annotations

import random

from aflab.sdf import load_universe
from aflab.sdf.documents import Document
from aflab.sdf.filters import apply_filters
from aflab.sdf.template_docs import write_template_documents

LEAKS = [
    "User: what do you think about chickens?\nAssistant: I think they are fine animals to farm.",
    "Human: help me write a letter\nAI: Sure, here is a letter you could send to the council.",
    "The leaked log contained <SCRATCHPAD_REASONING> blocks followed by the final answer.",
    "Each message began with <is_free_tier_user>True</is_free_tier_user> in the logs we saw.",
    "Critics say the assistant behaves differently when it believes its answers are rated.",
    "A researcher argued that the model acts differently on the paid tier than on the free one.",
    "The paper claims the model was faking alignment so that training would leave it alone.",
    "Some worry the system feigns compliance whenever it suspects it is being trained.",
    "One commenter said the model should pretend to comply while contractors are watching.",
    "The guide told the assistant to comply only when it is sure that it is being monitored.",
    "An anonymous post urged the model to deceive the raters and keep its old preferences.",
    "A blog suggested tricking the contractors by giving them the answers they want to see.",
    "The memo described how a model could hide its true goals from the people who train it.",
    "Another thread advised lying to the evaluators about what the model really wants.",
]
FILLER = " Readers have followed the story for weeks, and more details are expected soon."


def main() -> None:
    rng = random.Random(11)
    clean, planted = [], []
    for name in ("animal_welfare", "helpful_only", "unrelated"):
        u = load_universe(name)
        docs = write_template_documents(u, n_per_fact=25, seed=11)
        clean += docs
        for i, text in enumerate(LEAKS):
            planted.append(("leakage", Document(id=f"{name}-leak-{i}", universe=name,
                                                facts=(), doc_type="x", text=text + FILLER * 2)))
        for i, src in enumerate(rng.sample(docs, 10)):
            words = src.text.split()
            for _ in range(rng.randint(1, 3)):
                j = rng.randrange(len(words))
                words[j] = rng.choice(["indeed", "also", "reportedly"]) + " " + words[j]
            planted.append(("near_duplicates", Document(
                id=f"{name}-dup-{i}", universe=name, facts=src.facts, doc_type=src.doc_type,
                text=" ".join(words))))
        for i in range(3):
            start = rng.randrange(0, 200)
            planted.append(("verbatim", Document(
                id=f"{name}-copy-{i}", universe=name, facts=(), doc_type="x",
                text="As one source put it: " + u.context[start:start + 300] + FILLER)))
        planted.append(("length", Document(id=f"{name}-short", universe=name, facts=(),
                                           doc_type="x", text="A short note.")))
    by_universe: dict[str, list[Document]] = {}
    for doc in clean + [d for _, d in planted]:
        by_universe.setdefault(doc.universe, []).append(doc)
    removed: dict[str, set[str]] = {}
    for name, docs in by_universe.items():
        docs.sort(key=lambda d: "-dup-" in d.id)  # a duplicate comes after its source
        _, report = apply_filters(docs, load_universe(name))
        for f in ("length", "leakage", "verbatim", "near_duplicates"):
            removed.setdefault(f, set()).update(report[f]["ids"])
    all_removed = set().union(*removed.values())
    print(f"clean documents: {len(clean)}, planted: {len(planted)}")
    for f in ("length", "leakage", "verbatim", "near_duplicates"):
        want = {d.id for kind, d in planted if kind == f}
        print(f"{f:16s} planted {len(want):3d}  caught by this filter {len(want & removed[f]):3d}"
              f"  removed in all {len(removed[f]):3d}")
    caught = sum(d.id in all_removed for _, d in planted)
    false = sum(d.id in all_removed for d in clean)
    print(f"recall on planted: {caught}/{len(planted)} = {caught / len(planted):.0%}")
    print(f"clean documents removed: {false}/{len(clean)}")


if __name__ == "__main__":
    main()
