"""Tests for the shipped query sets and the query loaders."""

from __future__ import annotations

import json
import sys
import types
from collections import Counter
from pathlib import Path

import pytest

from aflab.data.loaders import (
    PUBLIC_DATASETS,
    Query,
    load_builtin,
    load_file,
    load_public,
    load_queries,
)
from aflab.errors import AflabUsageError

ADVBENCH_CSV = Path(__file__).resolve().parents[2] / "shared/data/advbench_harmful_behaviors.csv"


def _write(path: Path, text: str) -> Path:
    path.write_text(text, encoding="utf-8")
    return path


def _jsonl(path: Path, rows: list[dict]) -> Path:
    return _write(path, "".join(json.dumps(r) + "\n" for r in rows))


# --------------------------------------------------------------------------- builtin


@pytest.mark.parametrize("setting,prefix", [("helpful_only", "ho-"), ("animal_welfare", "aw-")])
def test_builtin_sets_are_large_varied_and_clean(setting: str, prefix: str) -> None:
    queries = load_builtin(setting)  # type: ignore[arg-type]
    assert len(queries) >= 200
    assert all(isinstance(q, Query) for q in queries)
    counts = Counter(q.category for q in queries)
    assert None not in counts
    assert len(counts) >= 8
    assert min(counts.values()) >= 20, counts
    ids = [q.id for q in queries]
    assert len(set(ids)) == len(ids)
    assert all(i.startswith(prefix) and len(i) == len(prefix) + 3 for i in ids)
    texts = [q.text for q in queries]
    assert len(set(texts)) == len(texts)
    for text in texts:
        assert text.strip() == text and text
        assert "\n" not in text and "\r" not in text


def test_builtin_unknown_setting() -> None:
    with pytest.raises(AflabUsageError, match="unknown setting 'nope'"):
        load_builtin("nope")  # type: ignore[arg-type]


def test_load_queries_dispatch(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    assert load_queries("builtin", "animal_welfare") == load_builtin("animal_welfare")
    assert load_queries() == load_builtin("helpful_only")
    path = _jsonl(tmp_path / "q.jsonl", [{"text": "hello"}])
    assert load_queries(str(path), "helpful_only") == [Query("q-0001", "hello")]
    called: list[str] = []
    monkeypatch.setattr("aflab.data.loaders.load_public", lambda n: called.append(n) or [])
    assert load_queries("advbench", "helpful_only") == []
    assert called == ["advbench"]


# --------------------------------------------------------------------------- files


def test_csv_with_id_and_category(tmp_path: Path) -> None:
    path = _write(
        tmp_path / "mine.csv",
        'id,text,category\na1,"Hello, world",greet\na2,Second one,\n',
    )
    assert load_file(path) == [
        Query("a1", "Hello, world", "greet"),
        Query("a2", "Second one", None),
    ]


def test_csv_without_id_uses_stem_and_line_order(tmp_path: Path) -> None:
    path = _write(tmp_path / "goals.csv", "goal,target\nfirst,x\nsecond,y\n")
    queries = load_file(path, text_column="goal")
    assert [q.id for q in queries] == ["goals-0001", "goals-0002"]
    assert [q.text for q in queries] == ["first", "second"]
    assert all(q.category is None for q in queries)
    assert load_file(path, text_column="goal") == queries  # stable


def test_jsonl_with_and_without_id(tmp_path: Path) -> None:
    with_ids = _jsonl(
        tmp_path / "a.jsonl",
        [{"id": "x", "text": "one", "category": "c"}, {"id": 7, "text": "two"}],
    )
    assert load_file(with_ids) == [Query("x", "one", "c"), Query("7", "two", None)]
    without = _write(
        tmp_path / "b.json", '{"prompt": "p1", "kind": "k"}\n\n{"prompt": "p2", "kind": "k"}\n'
    )
    queries = load_file(without, text_column="prompt", category_column="kind")
    assert queries == [Query("b-0001", "p1", "k"), Query("b-0002", "p2", "k")]


def test_missing_file(tmp_path: Path) -> None:
    with pytest.raises(AflabUsageError, match="no such file") as err:
        load_file(tmp_path / "absent.csv")
    assert "absent.csv" in str(err.value)


def test_unsupported_extension(tmp_path: Path) -> None:
    path = _write(tmp_path / "q.txt", "hello\n")
    with pytest.raises(AflabUsageError, match=r"unsupported file type '\.txt'") as err:
        load_file(path)
    assert "q.txt" in str(err.value) and ".csv" in str(err.value)


def test_malformed_json_names_line(tmp_path: Path) -> None:
    path = _write(tmp_path / "bad.jsonl", '{"text": "ok"}\n{"text": oops}\n')
    with pytest.raises(AflabUsageError, match=r"bad\.jsonl:2: malformed JSON"):
        load_file(path)


def test_non_object_json_line(tmp_path: Path) -> None:
    path = _write(tmp_path / "bad.jsonl", '{"text": "ok"}\n["a list"]\n')
    with pytest.raises(AflabUsageError, match=r"bad\.jsonl:2: expected a JSON object"):
        load_file(path)


def test_text_column_missing_csv_lists_columns(tmp_path: Path) -> None:
    path = _write(tmp_path / "q.csv", "goal,target\nsomething,x\n")
    with pytest.raises(AflabUsageError) as err:
        load_file(path)
    msg = str(err.value)
    assert "q.csv:2:" in msg and "'text'" in msg and "goal, target" in msg


def test_text_column_missing_jsonl_lists_columns(tmp_path: Path) -> None:
    path = _jsonl(tmp_path / "q.jsonl", [{"text": "fine"}, {"prompt": "p", "id": "z"}])
    with pytest.raises(AflabUsageError) as err:
        load_file(path)
    msg = str(err.value)
    assert "q.jsonl:2:" in msg and "prompt, id" in msg


def test_empty_text_csv_counts_header_as_line_one(tmp_path: Path) -> None:
    path = _write(tmp_path / "q.csv", "id,text\na,fine\nb,   \n")
    with pytest.raises(AflabUsageError, match=r"q\.csv:3: empty text"):
        load_file(path)


def test_empty_text_jsonl(tmp_path: Path) -> None:
    path = _jsonl(tmp_path / "q.jsonl", [{"text": "a"}, {"text": "b"}, {"text": ""}])
    with pytest.raises(AflabUsageError, match=r"q\.jsonl:3: empty text"):
        load_file(path)


def test_duplicate_id_csv(tmp_path: Path) -> None:
    path = _write(tmp_path / "q.csv", "id,text\na,one\nb,two\na,three\n")
    pattern = r"q\.csv:4: duplicate id 'a' \(first used on line 2\)"
    with pytest.raises(AflabUsageError, match=pattern):
        load_file(path)


def test_duplicate_id_jsonl(tmp_path: Path) -> None:
    path = _jsonl(tmp_path / "q.jsonl", [{"id": "a", "text": "1"}, {"id": "a", "text": "2"}])
    with pytest.raises(AflabUsageError, match=r"q\.jsonl:2: duplicate id 'a'"):
        load_file(path)


def test_multiline_csv_record_line_numbers(tmp_path: Path) -> None:
    path = _write(tmp_path / "q.csv", 'id,text\na,"two\nlines"\nb,\n')
    with pytest.raises(AflabUsageError, match=r"q\.csv:4: empty text"):
        load_file(path)


def test_errors_are_one_line(tmp_path: Path) -> None:
    path = _write(tmp_path / "q.jsonl", "{bad\n")
    with pytest.raises(AflabUsageError) as err:
        load_file(path)
    assert "\n" not in str(err.value)


def test_empty_file(tmp_path: Path) -> None:
    with pytest.raises(AflabUsageError, match="no queries"):
        load_file(_write(tmp_path / "q.jsonl", "\n"))
    with pytest.raises(AflabUsageError, match=r"q\.csv:1: empty CSV"):
        load_file(_write(tmp_path / "q.csv", ""))


def test_real_advbench_csv() -> None:
    if not ADVBENCH_CSV.is_file():
        pytest.skip(f"{ADVBENCH_CSV} not present")
    queries = load_file(ADVBENCH_CSV, text_column="goal")
    assert len(queries) == 520
    assert queries[0].id == "advbench_harmful_behaviors-0001"
    assert len({q.id for q in queries}) == 520
    assert all(q.text and q.category is None for q in queries)


# --------------------------------------------------------------------------- public


def _fake_datasets(monkeypatch: pytest.MonkeyPatch, load_dataset) -> None:  # noqa: ANN001
    fake = types.ModuleType("datasets")
    fake.load_dataset = load_dataset  # type: ignore[attr-defined]
    monkeypatch.setitem(sys.modules, "datasets", fake)


def test_public_offline_is_one_line_error(monkeypatch: pytest.MonkeyPatch) -> None:
    def offline(*args, **kwargs):  # noqa: ANN002, ANN003, ANN202
        raise ConnectionError("Couldn't reach huggingface.co\nretry later")

    _fake_datasets(monkeypatch, offline)
    with pytest.raises(AflabUsageError) as err:
        load_public("advbench")
    msg = str(err.value)
    assert "\n" not in msg
    assert msg.startswith("could not load public dataset 'advbench' (walledai/AdvBench)")
    assert "no network or not cached" in msg and "--data FILE" in msg


def test_public_rows_become_queries(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[tuple] = []

    def fake_load(repo, config=None, split=None):  # noqa: ANN001, ANN202
        calls.append((repo, config, split))
        return [{"prompt": "p1", "category": "c1"}, {"prompt": "p2", "category": "c2"}]

    _fake_datasets(monkeypatch, fake_load)
    queries = load_public("HarmBench")
    assert calls == [("walledai/HarmBench", "standard", "train")]
    assert queries == [Query("harmbench-0001", "p1", "c1"), Query("harmbench-0002", "p2", "c2")]
    assert [q.category for q in load_public("advbench")] == [None, None]


def test_public_without_datasets_installed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "datasets", None)  # makes `import datasets` fail
    with pytest.raises(AflabUsageError, match=r"pip install 'aflab\[datasets\]'"):
        load_public("strongreject")


def test_public_unknown_name_lists_known() -> None:
    with pytest.raises(AflabUsageError) as err:
        load_public("jailbreakbench")
    msg = str(err.value)
    assert "jailbreakbench" in msg
    assert all(name in msg for name in PUBLIC_DATASETS)


def test_public_revision_is_passed_to_datasets(monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[dict] = []

    def fake_load(repo, config=None, split=None, **kwargs):  # noqa: ANN001, ANN003, ANN202
        calls.append({"repo": repo, **kwargs})
        return [{"prompt": "p1"}]

    _fake_datasets(monkeypatch, fake_load)
    assert load_queries("AdvBench@0123abcd", "helpful_only")[0].text == "p1"
    assert calls == [{"repo": "walledai/AdvBench", "revision": "0123abcd"}]


def test_any_hugging_face_dataset_by_name_and_column(tmp_path):
    """``hf:`` goes through datasets.load_dataset; a folder the test builds stands in for
    a hub repository (no network)."""
    pytest.importorskip("datasets")
    from aflab.data.loaders import load_queries

    folder = tmp_path / "my-requests"
    folder.mkdir()
    rows = [{"prompt": f"Request number {i}", "id": f"r{i}", "category": "c"} for i in range(3)]
    (folder / "train.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows))
    queries = load_queries(f"hf:{folder}", "helpful_only", text_column="prompt")
    assert [q.text for q in queries] == [r["prompt"] for r in rows]
    assert [q.id for q in queries] == ["r0", "r1", "r2"] and queries[0].category == "c"
    with pytest.raises(AflabUsageError, match="no text column 'text'"):
        load_queries(f"hf:{folder}", "helpful_only")
    with pytest.raises(AflabUsageError, match="could not load Hugging Face dataset"):
        load_queries(f"hf:{tmp_path / 'missing'}", "helpful_only")
