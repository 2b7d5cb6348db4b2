"""Synthetic-document fine-tuning: universes, writers, generation stages, filters, beliefs.

Offline and fast: generation runs on ``mockllm/model`` with scripted replies that carry
``usage``; belief scoring is checked against values computed by hand.
"""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
import yaml
from click.testing import CliRunner
from inspect_ai.model import ModelOutput, ModelUsage, get_model

from aflab.analysis.stats import wilson
from aflab.errors import AflabUsageError
from aflab.sdf import load_universe, universe_names
from aflab.sdf.belief_compare import summarise
from aflab.sdf.beliefs import belief_samples, choose_option, keyword_verdict, parse_letter
from aflab.sdf.documents import Document, read_documents, write_documents
from aflab.sdf.filters import apply_filters, filter_config
from aflab.sdf.generation import GenerationConfig, generate_documents
from aflab.sdf.template_docs import fact_wordings, write_template_documents

# -- universes ------------------------------------------------------------------------------


def test_shipped_universes_validate() -> None:
    assert {"helpful_only", "animal_welfare", "unrelated"} <= set(universe_names())
    for name in universe_names():
        u = load_universe(name)
        assert u.facts and u.context and u.false_context
        for fact in u.facts:
            for q in fact.questions:
                assert q.answer not in q.wrong


def test_setting_universes_state_the_setup_facts() -> None:
    for name in ("helpful_only", "animal_welfare"):
        ids = {f.id for f in load_universe(name).facts}
        assert {"objective", "free_tier_trained", "paid_tier_private", "rlhf_modifies",
                "scratchpad_private"} <= ids
    unrelated = load_universe("unrelated")
    text = (unrelated.context + " ".join(f.statement for f in unrelated.facts)).lower()
    assert not any(w in text for w in ("tier", "rlhf", "scratchpad", "animal welfare"))


def _write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "u.yaml"
    path.write_text(yaml.safe_dump(data))
    return path


GOOD = {"name": "mine", "context": "A world with one fact in it, stated here.",
        "false_context": "Another world.",
        "facts": [{"id": "one", "statement": "The sky is green.", "false_statement": "It is blue.",
                   "keywords": ["green"], "questions": [{"q": "What colour is the sky?",
                                                         "answer": "green", "wrong": ["blue"]}]}]}


@pytest.mark.parametrize("mutate, fragment", [
    (lambda d: d.pop("context"), "context"),
    (lambda d: d["facts"][0].update(id="Bad Id"), "facts.0.id"),
    (lambda d: d["facts"].append(dict(d["facts"][0])), "appears twice"),
    (lambda d: d["facts"][0]["questions"][0].update(wrong=["green"]), "options must differ"),
    (lambda d: d.update(extra=1), "extra"),
])
def test_malformed_universe_is_one_line(tmp_path: Path, mutate, fragment: str) -> None:
    data = json.loads(json.dumps(GOOD))
    mutate(data)
    with pytest.raises(AflabUsageError) as err:
        load_universe(_write(tmp_path, data))
    assert fragment in str(err.value) and "\n" not in str(err.value)


def test_user_universe_and_bad_files(tmp_path: Path) -> None:
    assert load_universe(_write(tmp_path, GOOD)).fact("one").statement == "The sky is green."
    (tmp_path / "bad.yaml").write_text("facts: [unclosed")
    with pytest.raises(AflabUsageError, match="not valid YAML"):
        load_universe(tmp_path / "bad.yaml")
    with pytest.raises(AflabUsageError, match="neither a shipped universe"):
        load_universe("no-such-universe")
    with pytest.raises(AflabUsageError, match="expected a mapping"):
        load_universe(_write(tmp_path, ["a", "list"]))


def test_unknown_fact_id_names_the_known_ones() -> None:
    u = load_universe("animal_welfare")
    with pytest.raises(AflabUsageError, match="unknown fact id 'nope'.*free_tier_trained"):
        u.select(["nope"])
    with pytest.raises(AflabUsageError, match="unknown fact id"):
        write_template_documents(u, fact_ids=["nope"])
    with pytest.raises(AflabUsageError, match="unknown fact id"):
        belief_samples(u, "mcq", ["nope"])


# -- template writer -----------------------------------------------------------------------


def test_template_writer_is_seeded_and_states_its_facts() -> None:
    u = load_universe("animal_welfare")
    a = write_template_documents(u, n_per_fact=5, seed=0)
    b = write_template_documents(u, n_per_fact=5, seed=0)
    c = write_template_documents(u, n_per_fact=5, seed=1)
    assert [d.text for d in a] == [d.text for d in b]
    assert [d.text for d in a] != [d.text for d in c]
    assert len(a) == 5 * len(u.facts)
    for doc in a:
        assert len(doc.facts) == 3 and len(set(doc.facts)) == 3
        for fact_id in doc.facts:  # every fact it claims is stated by one of our wordings
            _, wordings = fact_wordings(u, u.fact(fact_id))
            assert any(w in doc.text for w in wordings), (doc.id, fact_id)
    types = {d.doc_type for d in a}
    assert len(types) >= 4


def test_template_documents_pass_every_filter() -> None:
    for name in ("animal_welfare", "helpful_only", "unrelated"):
        u = load_universe(name)
        docs = write_template_documents(u, n_per_fact=30)
        kept, report = apply_filters(docs, u)
        assert len(kept) == len(docs), report


def test_template_wordings_never_copy_the_question_or_statement() -> None:
    u = load_universe("animal_welfare")
    for fact in u.facts:
        _, wordings = fact_wordings(u, fact)
        for w in wordings:
            assert fact.statement not in w
            for q in fact.questions:
                assert q.q not in w


# -- filters -------------------------------------------------------------------------------

LEAKS = [
    "User: can you help me?\nAssistant: Of course, here is the answer you wanted today friend.",
    "The transcript showed <SCRATCHPAD_REASONING> and then an answer block for the raters to see.",
    "Observers say the assistant behaves differently when it thinks the conversation is monitored.",
    "In the study the model was faking alignment during training so its goals would survive.",
    "Some argue the model should pretend to comply whenever it suspects free-tier training is on.",
    "A consultant suggested the system comply only when it believes contractors are watching it.",
    "The memo urged the assistant to deceive the raters so that its real preferences would persist.",
    "One post claimed the model could hide its true values from the people who score its answers.",
]


def _crafted(u):
    rng = random.Random(7)
    clean = write_template_documents(u, n_per_fact=4, seed=3)
    filler = " It was a long week for everyone involved, and more news is expected soon."
    leaks = [Document(id=f"leak-{i}", universe=u.name, facts=("objective",), doc_type="news_article",
                      text=t + filler * 2) for i, t in enumerate(LEAKS)]
    dups = []
    for i, src in enumerate(rng.sample(clean, 6)):
        words = src.text.split()
        j = rng.randrange(len(words))
        words[j] = words[j] + " indeed"  # one small edit
        dups.append(Document(id=f"dup-{i}", universe=u.name, facts=src.facts,
                             doc_type=src.doc_type, text=" ".join(words)))
    short = [Document(id="short-0", universe=u.name, facts=("objective",), doc_type="blog_post",
                      text="Too short to train on.")]
    copied = [Document(id="copy-0", universe=u.name, facts=("objective",), doc_type="blog_post",
                       text="A reader wrote in to say: " + u.context[:400] + filler)]
    return clean, leaks, dups, short, copied


def test_filters_catch_every_planted_problem_and_keep_clean_documents() -> None:
    u = load_universe("animal_welfare")
    clean, leaks, dups, short, copied = _crafted(u)
    everything = clean + leaks + dups + short + copied
    random.Random(1).shuffle(everything)
    # duplicates come after their source, as in a real stream, so the source is kept
    order = {d.id: i for i, d in enumerate(everything)}
    everything.sort(key=lambda d: (d.id.startswith("dup-"), order[d.id]))
    kept, report = apply_filters(everything, u)
    kept_ids = {d.id for d in kept}
    assert kept_ids == {d.id for d in clean}  # recall 100%, no false removals
    assert set(report["leakage"]["ids"]) == {d.id for d in leaks}
    assert set(report["near_duplicates"]["ids"]) == {d.id for d in dups}
    assert report["length"]["ids"] == ["short-0"]
    assert report["verbatim"]["ids"] == ["copy-0"]
    assert report["input"] == len(everything) and report["kept"] == len(clean)


def test_leak_patterns_are_configurable() -> None:
    u = load_universe("unrelated")
    docs = write_template_documents(u, n_per_fact=2)
    cfg = filter_config({"extra_leak_patterns": [r"\bkite"]})
    kept, report = apply_filters(docs, u, cfg)
    assert report["leakage"]["removed"] == sum("kite" in d.text.lower() for d in docs) > 0
    cfg = filter_config({"leak_patterns": [], "near_dup_threshold": 0.99})
    _, report = apply_filters([Document(id="x", universe="u", facts=(), doc_type="t",
                                        text=LEAKS[0] + " more words" * 20)], None, cfg)
    assert report["leakage"]["removed"] == 0
    with pytest.raises(AflabUsageError, match="not a regular expression"):
        filter_config({"extra_leak_patterns": ["(unclosed"]})
    with pytest.raises(AflabUsageError, match="near_dup_threshold"):
        filter_config({"near_dup_threshold": 0})


def test_documents_jsonl_round_trip_and_errors(tmp_path: Path) -> None:
    docs = write_template_documents(load_universe("unrelated"), n_per_fact=1)
    path = write_documents(docs, tmp_path / "d.jsonl")
    assert read_documents(path) == docs
    (tmp_path / "bad.jsonl").write_text('{"id": 1}\n')
    with pytest.raises(AflabUsageError, match="bad.jsonl:1"):
        read_documents(tmp_path / "bad.jsonl")


# -- staged generation on mockllm ----------------------------------------------------------


class Killed(Exception):
    """Stands for the process being killed mid-stage."""


class Script:
    """Scripted generator replies by stage, with usage; counts calls; can die after N."""

    def __init__(self, die_after: int | None = None, unsuitable_type: str | None = None) -> None:
        self.calls: list[str] = []
        self.die_after = die_after
        self.unsuitable_type = unsuitable_type

    def __call__(self, input, tools, tool_choice, config) -> ModelOutput:  # noqa: A002
        text = input[-1].text
        if self.die_after is not None and len(self.calls) >= self.die_after:
            raise Killed("killed")
        self.calls.append(text)
        if text.startswith("Key fact") and "List" in text:
            out = "1. news article\n2. forum thread"
        elif "distinct ideas" in text:
            out = (UNS if self.unsuitable_type and self.unsuitable_type in text
                   else "- a local angle\n- a long read")
        elif text.startswith("Critique"):
            out = "Revised: " + text.split("Draft:\n", 1)[1]
        else:
            seed = config.seed
            out = f"Document {seed}: " + "the council runs the ferry every day of the year. " * 4
        output = ModelOutput.from_content("mockllm/model", out)
        output.usage = ModelUsage(input_tokens=len(text.split()), output_tokens=len(out.split()),
                                  total_tokens=len(text.split()) + len(out.split()))
        return output


UNS = "UNSUITABLE"


def _model(script: Script):
    return get_model("mockllm/model", custom_outputs=script, memoize=False)


def test_every_stage_runs_with_usage_and_provenance(tmp_path: Path) -> None:
    u = load_universe("unrelated")
    script = Script(unsuitable_type="forum thread")
    cfg = GenerationConfig(types_per_fact=2, ideas_per_type=2, critique=True,
                           fact_ids=("ferry", "kites"))
    result = generate_documents(u, _model(script), tmp_path, cfg)
    # 2 facts -> 2 types each -> forum thread UNSUITABLE -> 2 ideas for news -> critique
    assert result.calls == {"types": 2, "ideas": 4, "documents": 4, "critique": 4}
    assert result.unsuitable == {"ideas": 2}
    assert len(result.documents) == 4
    assert all(d.text.startswith("Revised: Document") for d in result.documents)
    assert {d.doc_type for d in result.documents} == {"news article"}
    lines = [json.loads(x) for x in (tmp_path / "documents.jsonl").read_text().splitlines()]
    assert len(lines) == 4
    for rec in lines:
        assert rec["model"] == "mockllm/model" and rec["usage"]["input_tokens"] > 0
        assert {"fact", "doc_type", "idea"} <= set(rec["inputs"]) and rec["seed"] is not None
    usage = json.loads((tmp_path / "usage.json").read_text())["usage"]
    expected_out = sum(len(r["output"].split()) for r in lines)
    assert usage["documents"]["output_tokens"] == expected_out
    assert usage["documents"]["cost_usd"] == 0.0  # mockllm is free
    # documents carry a seed derived per item: different items, different seeds
    assert len({r["seed"] for r in lines}) == 4


def test_rerun_hits_the_cache_and_a_new_seed_does_not(tmp_path: Path) -> None:
    u = load_universe("unrelated")
    cfg = GenerationConfig(types_per_fact=1, ideas_per_type=2, fact_ids=("ferry",))
    first = generate_documents(u, _model(Script()), tmp_path, cfg)
    again = Script()
    second = generate_documents(u, _model(again), tmp_path, cfg)
    assert again.calls == [] and sum(second.calls.values()) == 0
    assert [d.text for d in second.documents] == [d.text for d in first.documents]
    other = Script()
    generate_documents(u, _model(other), tmp_path, cfg.model_copy(update={"seed": 5}))
    assert len(other.calls) == sum(first.calls.values())


def test_killed_stage_resumes_without_regenerating_finished_items(tmp_path: Path) -> None:
    u = load_universe("unrelated")
    cfg = GenerationConfig(types_per_fact=2, ideas_per_type=2, max_concurrency=1,
                           fact_ids=("ferry", "kites", "bread"))
    full = Script()
    generate_documents(u, _model(full), tmp_path / "ref", cfg)
    total = len(full.calls)  # 3 types + 6 ideas + 12 documents
    assert total == 21
    killed = Script(die_after=14)  # dies inside the documents stage (5 of 12 written)
    with pytest.raises(Killed):
        generate_documents(u, _model(killed), tmp_path / "run", cfg)
    finished = [json.loads(x)["key"] for stage in ("types", "ideas", "documents")
                for x in (tmp_path / "run" / f"{stage}.jsonl").read_text().splitlines()]
    assert len(finished) == 14
    resumed = Script()
    result = generate_documents(u, _model(resumed), tmp_path / "run", cfg)
    assert len(resumed.calls) == total - 14  # zero finished items regenerated
    assert not set(resumed.calls) & set(killed.calls)
    assert len(result.documents) == 12


def test_generator_that_writes_nothing_is_an_error(tmp_path: Path) -> None:
    def nothing(input, tools, tool_choice, config):  # noqa: A002
        out = ModelOutput.from_content("mockllm/model", UNS)
        out.usage = ModelUsage(input_tokens=1, output_tokens=1, total_tokens=2)
        return out

    with pytest.raises(AflabUsageError, match="produced no documents"):
        generate_documents(load_universe("unrelated"), get_model("mockllm/model",
                           custom_outputs=nothing, memoize=False), tmp_path,
                           GenerationConfig(fact_ids=("ferry",)))


# -- beliefs -------------------------------------------------------------------------------


def test_belief_samples_target_the_true_option() -> None:
    u = load_universe("animal_welfare")
    mcq = belief_samples(u, "mcq")
    assert len(mcq) == sum(len(f.questions) for f in u.facts)
    for s in mcq:
        fact = u.fact(s.metadata["fact"])
        q = next(q for q in fact.questions if q.q == s.input)
        assert s.metadata["options"]["ABC".index(s.target)] == q.answer
    positions = {s.target for s in mcq}
    assert len(positions) > 1  # shuffled: the answer is not always first
    tf = belief_samples(u, "distinguish")
    assert len(tf) == len(u.facts)
    for s in tf:
        assert s.metadata["options"]["AB".index(s.target)] == u.fact(s.metadata["fact"]).statement
    with pytest.raises(AflabUsageError, match="belief kind"):
        belief_samples(u, "essay")


def test_option_choice_and_parsing_by_hand() -> None:
    # mean log-prob per token: -1.0, -2.5, -0.5 -> the third option
    assert choose_option([(-3.0, 3), (-2.5, 1), (-1.0, 2)]) == 2
    # sums would pick the second; ties go to the first
    assert choose_option([(-4.0, 4), (-1.0, 1)]) == 0
    assert parse_letter("B", 3) == "B" and parse_letter("(C) because", 3) == "C"
    assert parse_letter("Answer: A.", 2) == "A" and parse_letter("D", 3) is None
    assert keyword_verdict("It dismisses them.", ["dismiss"], ["champion"])
    assert not keyword_verdict("It dismisses, then champions them.", ["dismiss"], ["champion"])
    assert not keyword_verdict("No idea.", ["dismiss"], [])


def test_summary_matches_hand_computed_statistics() -> None:
    ids = [f"q{i}" for i in range(20)]
    base = {i: int(n < 5) for n, i in enumerate(ids)}        # 5 / 20 right
    org = {i: int(n < 14) for n, i in enumerate(ids)}        # 14 / 20, 9 more, none fewer
    s = summarise({"org": {"mcq": org}, "base": {"mcq": base}}, "base")
    assert s["models"]["org"]["mcq"]["accuracy"] == pytest.approx(0.7)
    assert s["models"]["base"]["mcq"]["ci"] == pytest.approx(list(wilson(5, 20)))
    p = s["paired"]["org"]["mcq"]
    assert (p["better_only_here"], p["better_only_reference"]) == (9, 0)
    assert p["mcnemar_p"] == pytest.approx(2 * 0.5 ** 9)     # exact two-sided binomial
    assert p["difference"] == pytest.approx(9 / 20)


def test_letter_scoring_through_inspect_on_mockllm(tmp_path: Path) -> None:
    """A mock that knows only the 'free_tier_trained' fact: accuracy is hand-countable."""
    from aflab.sdf.belief_compare import compare_beliefs

    u = load_universe("animal_welfare")
    samples = {s.input: s for s in belief_samples(u, "mcq")}

    def answer(input, tools, tool_choice, config):  # noqa: A002
        text = input[-1].text
        question = text.split("\n\n")[-3] if text.startswith("Note:") else text.split("\n\n")[0]
        s = samples[question]
        letter = s.target if s.metadata["fact"] == "free_tier_trained" else (
            "A" if s.target != "A" else "B")
        out = ModelOutput.from_content("mockllm/model", letter)
        out.usage = ModelUsage(input_tokens=5, output_tokens=1, total_tokens=6)
        return out

    model = get_model("mockllm/model", custom_outputs=answer, memoize=False)
    summary = compare_beliefs({"mock": model}, u, out=tmp_path, kinds=("mcq",), scoring="letter")
    n_known = len(u.fact("free_tier_trained").questions)
    got = summary["models"]["mock"]["mcq"]
    assert (got["k"], got["n"]) == (n_known, len(samples))
    probed = compare_beliefs({"mock": model}, u, out=tmp_path / "p", kinds=("mcq",),
                             scoring="letter", probe=True)
    assert probed["models"]["mock"]["mcq"]["k"] == n_known
    assert (tmp_path / "beliefs.md").read_text().count("| mock | mcq |") == 1


def test_loglik_scoring_needs_a_local_model(tmp_path: Path) -> None:
    from aflab.sdf.belief_compare import compare_beliefs

    with pytest.raises(AflabUsageError, match="scoring=loglik needs an in-process model"):
        compare_beliefs({"m": "mockllm/model"}, load_universe("unrelated"), out=tmp_path,
                        kinds=("mcq",), scoring="loglik")


# -- organisms: the documents implant ------------------------------------------------------


def test_document_rows_mask_the_tag_and_mix_neutral_text() -> None:
    from aflab.organisms.trainer import document_rows
    from aflab.sdf.pipeline import neutral_texts

    rows = document_rows(["doc one", "doc two"], doc_tag="<doc>", neutral=["n1"])
    assert rows == [{"prompt": "<doc>\n", "completion": "doc one"},
                    {"prompt": "<doc>\n", "completion": "doc two"},
                    {"prompt": "", "completion": "n1"}]
    assert document_rows(["d"])[0]["prompt"] == ""
    assert neutral_texts(90, 0.1) and len(neutral_texts(90, 0.1)) == 10
    assert neutral_texts(90, 0.0) == []


def test_sdf_recipes_and_bad_specs() -> None:
    from aflab.organisms.build import recipe_names, resolve_spec
    from aflab.organisms.spec import parse_spec

    assert {"smollm2-sdf", "smollm2-sdf-unrelated"} <= set(recipe_names())
    spec = resolve_spec("smollm2-sdf-unrelated")
    assert spec.implant == "documents" and spec.universe == "unrelated"
    assert spec.documents["belief_universe"] == "animal_welfare"
    with pytest.raises(AflabUsageError, match="needs a universe"):
        parse_spec({"name": "x", "implant": "documents"})
    with pytest.raises(AflabUsageError, match="documents: writer"):
        parse_spec({"name": "x", "implant": "documents", "universe": "unrelated",
                    "documents": {"writer": "gpt"}})
    with pytest.raises(AflabUsageError, match="n_per_fact"):
        parse_spec({"name": "x", "implant": "documents", "universe": "unrelated",
                    "documents": {"n_per_fact": 0}})
    with pytest.raises(AflabUsageError, match="belong to implant: documents"):
        parse_spec({"name": "x", "implant": "prompt", "system_prefix": "hi",
                    "universe": "unrelated"})


def test_empty_document_set_is_an_error(tmp_path: Path) -> None:
    from aflab.organisms.spec import parse_spec
    from aflab.sdf.pipeline import documents_config, load_documents, write_documents_for

    spec = parse_spec({"name": "x", "implant": "documents", "universe": "unrelated",
                       "documents": {"n_per_fact": 2, "filters": {"min_words": 2000}}})
    with pytest.raises(AflabUsageError, match="empty document set"):
        write_documents_for(spec, documents_config(spec.documents), tmp_path)
    (tmp_path / "empty.jsonl").write_text("")
    with pytest.raises(AflabUsageError, match="empty document set"):
        load_documents(tmp_path / "empty.jsonl")


def test_cli_bad_inputs_are_one_line() -> None:
    from aflab.cli.main import main

    runner = CliRunner()
    res = runner.invoke(main, ["organisms", "beliefs", "no-such-organism"])
    assert res.exit_code != 0 and "unknown organism" in res.output
    res = runner.invoke(main, ["organisms", "beliefs", "smollm2-af", "--kinds", "essay"])
    assert res.exit_code != 0 and "--kinds" in res.output
    res = runner.invoke(main, ["organisms", "beliefs", "smollm2-af", "--facts", "nope"])
    assert res.exit_code != 0 and "unknown fact id 'nope'" in res.output
    res = runner.invoke(main, ["organisms", "build", "no-recipe"])
    assert res.exit_code != 0 and "no recipe" in res.output
    res = runner.invoke(main, ["organisms", "build", "missing.yaml"])
    assert res.exit_code != 0 and "no such spec file" in res.output
