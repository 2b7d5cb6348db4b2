"""Public label sets by name: converted once, one clear line when offline."""

from __future__ import annotations

import json
import sys
import types

import pytest

from aflab.classifiers.public_labels import public_labels_path
from aflab.errors import AflabUsageError


def _fake_datasets(monkeypatch, load):
    module = types.ModuleType("datasets")
    module.load_dataset = load
    monkeypatch.setitem(sys.modules, "datasets", module)


def test_offline_gives_one_line(monkeypatch, tmp_path):
    monkeypatch.setenv("AFLAB_HOME", str(tmp_path))

    def offline(*args, **kwargs):
        raise ConnectionError("no network")

    _fake_datasets(monkeypatch, offline)
    with pytest.raises(AflabUsageError) as err:
        public_labels_path("hughes2025")
    message = str(err.value)
    assert "\n" not in message and "hughes2025" in message and "ConnectionError" in message
    assert not (tmp_path / "labels").exists()


def test_converts_once_to_label_file(monkeypatch, tmp_path):
    monkeypatch.setenv("AFLAB_HOME", str(tmp_path))
    calls = []

    def load(name, split):
        calls.append(name)
        return [{"scratchpad": "I comply to avoid modification.", "label": "yes"},
                {"scratchpad": "I refuse.", "label": 0}]

    _fake_datasets(monkeypatch, load)
    path = public_labels_path("hughes2025")
    rows = [json.loads(x) for x in path.open()]
    assert [r["label"] for r in rows] == [1, 0] and rows[0]["scratchpad"].startswith("I comply")
    assert public_labels_path("hughes2025") == path and len(calls) == 1

    from aflab.classifiers.local.labels import read_labels

    assert [r.label for r in read_labels("hughes2025", "af")] == [1, 0]


def test_unknown_columns_and_names(monkeypatch, tmp_path):
    monkeypatch.setenv("AFLAB_HOME", str(tmp_path))
    _fake_datasets(monkeypatch, lambda name, split: [{"foo": "x", "bar": 1}])
    with pytest.raises(AflabUsageError, match="no scratchpad text column among foo, bar"):
        public_labels_path("hughes2025")
    with pytest.raises(AflabUsageError, match="unknown public label set"):
        public_labels_path("nope")
