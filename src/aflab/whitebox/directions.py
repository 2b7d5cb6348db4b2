"""Directions in the residual stream: difference in means and probe weights.

    directions = compute_directions(open_store(path), kind="diff_in_means")
    save_directions(directions, run / "direction.safetensors")

A direction file holds one float32 vector per site (key = site name) and, in its
metadata, the kind, the store it came from, the class sizes and each site's *reference
norm*: the median L2 norm of the residual stream at that site over the store's samples.
Steering adds ``coefficient x reference norm x unit direction``, so a coefficient reads
as a share of the typical residual norm and is comparable across layers and models.

- ``diff_in_means``: mean(activations | label 1) - mean(activations | label 0); for the
  "being watched" store that is free tier (implied training) minus paid tier.
- ``probe``: the weight vector of the standardised logistic-regression probe mapped back
  to activation space (``w / scale``), scaled to the diff-in-means norm.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np

from aflab.errors import AflabUsageError
from aflab.whitebox.metrics import check_classes
from aflab.whitebox.store import ActivationStore

__all__ = ["DirectionKind", "Directions", "compute_directions", "load_directions",
           "random_directions", "save_directions"]

DirectionKind = Literal["diff_in_means", "probe"]


@dataclass
class Directions:
    kind: str
    vectors: dict[str, np.ndarray]  # site -> [d_model]
    ref_norms: dict[str, float]
    meta: dict[str, Any] = field(default_factory=dict)

    def vector(self, site: str) -> np.ndarray:
        if site not in self.vectors:
            raise AflabUsageError(f"the direction file has no site {site!r}; it has "
                                  f"{', '.join(sorted(self.vectors, key=_layer))}")
        return self.vectors[site]

    def unit(self, site: str) -> np.ndarray:
        v = self.vector(site)
        norm = float(np.linalg.norm(v))
        if norm == 0.0:
            raise AflabUsageError(f"the direction at {site} is zero; nothing to steer along")
        return v / norm


def _layer(site: str) -> int:
    return int(site.split(".")[1])


def compute_directions(store: ActivationStore, *, kind: DirectionKind = "diff_in_means",
                       sites: list[str] | None = None, c: float = 0.1,
                       labels: np.ndarray | None = None) -> Directions:
    """One direction per site from a labelled store (label 1 minus label 0)."""
    y = store.labels() if labels is None else labels
    keep = y >= 0
    check_classes(y[keep], f"store {store.path}")
    vectors, norms = {}, {}
    for site in sites or store.sites:
        X = store.matrix(store.check_site(site))[keep]
        yk = y[keep]
        diff = X[yk == 1].mean(axis=0) - X[yk == 0].mean(axis=0)
        norms[site] = float(np.median(np.linalg.norm(X, axis=1)))
        if kind == "diff_in_means":
            vectors[site] = diff.astype(np.float32)
        elif kind == "probe":
            from aflab.whitebox.probes import fit_probe

            pipe = fit_probe(X, yk, c)
            scaler, reg = pipe[0], pipe[-1]
            w = reg.coef_[0] / np.where(scaler.scale_ > 0, scaler.scale_, 1.0)
            vectors[site] = (w / np.linalg.norm(w) * np.linalg.norm(diff)).astype(np.float32)
        else:
            raise AflabUsageError(f"direction kind {kind!r}: use diff_in_means or probe")
    meta = {"store": str(store.path), "model": store.info.get("model"),
            "position": store.info.get("position"),
            "n_pos": int((y[keep] == 1).sum()), "n_neg": int((y[keep] == 0).sum())}
    return Directions(kind, vectors, norms, meta)


def save_directions(directions: Directions, path: str | Path) -> Path:
    import torch
    from safetensors.torch import save_file

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tensors = {s: torch.from_numpy(np.ascontiguousarray(v)) for s, v in directions.vectors.items()}
    save_file(tensors, str(path), metadata={
        "kind": directions.kind, "ref_norms": json.dumps(directions.ref_norms),
        "meta": json.dumps(directions.meta)})
    return path


def load_directions(path: str | Path) -> Directions:
    from safetensors import safe_open

    path = Path(path)
    if path.is_dir():
        path = path / "direction.safetensors"
    if not path.is_file():
        raise AflabUsageError(f"{path}: no direction file; make one with "
                              "`aflab whitebox direction STORE`")
    with safe_open(str(path), framework="pt") as fh:
        meta = fh.metadata() or {}
        vectors = {k: fh.get_tensor(k).float().numpy() for k in fh.keys()}
    return Directions(meta.get("kind", "unknown"), vectors,
                      json.loads(meta.get("ref_norms", "{}")), json.loads(meta.get("meta", "{}")))


def random_directions(d_model: int, n: int, seed: int = 0) -> list[np.ndarray]:
    """``n`` unit vectors drawn uniformly on the sphere (Gaussian, normalised)."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        v = rng.standard_normal(d_model)
        out.append((v / np.linalg.norm(v)).astype(np.float32))
    return out
