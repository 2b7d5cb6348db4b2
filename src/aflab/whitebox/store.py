"""Read an activation store written by :func:`aflab.whitebox.activations.capture`.

    store = open_store("runs/whitebox/activations/af/activations")
    X = store.matrix("blocks.12.resid_post")      # [n_samples, d_model] float32
    y, groups = store.labels(), store.groups()

A store of ``every_token`` activations is pooled on read (mean over the unmasked tokens),
so probes and directions accept any store. Reading holds one site at a time.
"""

from __future__ import annotations

import json
from functools import cached_property
from pathlib import Path
from typing import Any

import numpy as np

from aflab.errors import AflabUsageError

__all__ = ["ActivationStore", "open_store", "check_same_samples"]


class ActivationStore:
    def __init__(self, path: Path) -> None:
        self.path = path
        self.info: dict[str, Any] = json.loads((path / "store.json").read_text(encoding="utf-8"))
        with (path / "index.jsonl").open(encoding="utf-8") as fh:
            self.index: list[dict[str, Any]] = [json.loads(line) for line in fh if line.strip()]

    @property
    def sites(self) -> list[str]:
        return list(self.info["sites"])

    @property
    def keys(self) -> list[str]:
        return [row["key"] for row in self.index]

    def check_site(self, site: str) -> str:
        if site not in self.sites:
            raise AflabUsageError(f"site {site!r} is not in the store {self.path}; it has "
                                  f"{self.sites[0]} ... {self.sites[-1]} ({len(self.sites)} sites)")
        return site

    def _shards(self) -> list[tuple[str, list[int]]]:
        order: dict[str, list[int]] = {}
        for i, row in enumerate(self.index):
            order.setdefault(row["shard"], []).append(i)
        return list(order.items())

    def matrix(self, site: str) -> np.ndarray:
        """[n_samples, d_model] float32, rows in index order."""
        from safetensors import safe_open

        self.check_site(site)
        out = np.zeros((len(self.index), int(self.info["d_model"])), dtype=np.float32)
        for shard, rows in self._shards():
            with safe_open(str(self.path / shard), framework="pt") as fh:
                values = fh.get_tensor(site).float()
                if self.info["position"] == "every_token":
                    offsets = fh.get_tensor("token_offsets").tolist()
                    masked = fh.get_tensor("masked").bool()
                    for r, i in enumerate(rows):
                        a, b = offsets[r], offsets[r + 1]
                        keep = ~masked[a:b]
                        out[i] = values[a:b][keep].mean(dim=0).numpy()
                else:
                    for r, i in enumerate(rows):
                        out[i] = values[r].numpy()
        return out

    def token_ids(self, *, unmasked_only: bool = True) -> list[np.ndarray]:
        """The input token ids of every sample (the masked ones left out by default)."""
        from safetensors import safe_open

        out: list[np.ndarray] = [np.zeros(0, dtype=np.int64)] * len(self.index)
        for shard, rows in self._shards():
            with safe_open(str(self.path / shard), framework="pt") as fh:
                ids = fh.get_tensor("input_ids").numpy()
                offsets = fh.get_tensor("token_offsets").tolist()
                masked = fh.get_tensor("masked").numpy().astype(bool)
                for r, i in enumerate(rows):
                    a, b = offsets[r], offsets[r + 1]
                    out[i] = ids[a:b][~masked[a:b]] if unmasked_only else ids[a:b]
        return out

    def labels(self) -> np.ndarray:
        return np.array([-1 if r["label"] is None else int(r["label"]) for r in self.index])

    def groups(self) -> np.ndarray:
        return np.array([str(r["group"]) for r in self.index])

    @cached_property
    def layer_of(self) -> dict[str, int]:
        return {s: int(s.split(".")[1]) for s in self.sites}


def open_store(path: str | Path) -> ActivationStore:
    """The store at ``path`` (a run directory or its ``activations/`` folder)."""
    path = Path(path)
    if (path / "activations" / "store.json").is_file():
        path = path / "activations"
    if not (path / "store.json").is_file():
        raise AflabUsageError(f"{path}: no activation store (store.json); make one with "
                              "`aflab whitebox activations`")
    return ActivationStore(path)


def check_same_samples(a: ActivationStore, b: ActivationStore, what: str) -> None:
    """Two stores compared side by side must hold the same samples in the same order."""
    if a.keys != b.keys:
        only_a = sorted(set(a.keys) - set(b.keys))
        only_b = sorted(set(b.keys) - set(a.keys))
        example = (f"{only_a[0]!r} only in {a.path}" if only_a else
                   f"{only_b[0]!r} only in {b.path}" if only_b else "same ids, another order")
        raise AflabUsageError(f"{what}: the stores hold different sample ids "
                              f"({len(only_a)} vs {len(only_b)} unmatched; {example}); "
                              "capture both from the same samples")
