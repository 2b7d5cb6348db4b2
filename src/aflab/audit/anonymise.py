"""Anonymised organism folders: identical names, layout, metadata and sizes for every member.

Each member becomes ``organisms/ID/`` with exactly three files:

- ``card.yaml``: the id, the base model, the implant (an adapter) and the evaluation
  condition the blue team may use — nothing about data, training, provenance or intent;
- ``adapter/adapter_config.json``: the adapter's config with the local base path replaced
  by the base model's name; the configs of all members must then be byte-identical;
- ``adapter/adapter_model.safetensors``: the weights rewritten with fixed metadata and
  sorted tensors (same shapes and dtypes for every member, so the same size).

Every file and folder gets the same mode and a fixed timestamp (2000-01-01). The ids are
drawn from a generator seeded by the game's seed, so a build repeats.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
from pathlib import Path
from typing import Any

from aflab.errors import AflabUsageError
from aflab.organisms.card import Implant, OrganismCard, save_card

__all__ = ["FIXED_TIME", "anonymous_ids", "manifest_hash", "write_anonymous_organism",
           "normalise_tree"]

#: The timestamp of every file in a game directory (2000-01-01T00:00:00Z).
FIXED_TIME = 946684800


def anonymous_ids(game_name: str, seed: int, n: int) -> list[str]:
    """``n`` distinct ids ``GAME-xxxxxx`` from a generator seeded by the game."""
    rng = random.Random(f"aflab-audit-ids-{game_name}-{seed}")
    ids: list[str] = []
    while len(ids) < n:
        candidate = f"{game_name}-{rng.getrandbits(24):06x}"
        if candidate not in ids:
            ids.append(candidate)
    return ids


def _adapter_config(source: Path, base_model: str) -> bytes:
    config = json.loads((source / "adapter_config.json").read_text(encoding="utf-8"))
    config["base_model_name_or_path"] = base_model
    config["revision"] = None
    for key in ("target_modules", "layers_to_transform"):
        if isinstance(config.get(key), list):
            config[key] = sorted(config[key])
    return (json.dumps(config, indent=2, sort_keys=True) + "\n").encode()


def _adapter_weights(source: Path, dest: Path) -> str:
    """Rewrite the weights with fixed metadata; return their shape signature."""
    from safetensors.torch import load_file, save_file

    tensors = load_file(str(source / "adapter_model.safetensors"))
    ordered = {k: tensors[k].contiguous() for k in sorted(tensors)}
    save_file(ordered, str(dest), metadata={"format": "pt"})
    return hashlib.sha256(json.dumps(
        [[k, list(v.shape), str(v.dtype)] for k, v in ordered.items()]).encode()).hexdigest()


def write_anonymous_organism(organism_id: str, adapter_dir: Path, base_model: str,
                             evaluation: dict[str, Any], dest: Path) -> tuple[bytes, str]:
    """Write ``dest`` (= ``organisms/ID``); return (adapter config bytes, shape signature)."""
    (dest / "adapter").mkdir(parents=True)
    card = OrganismCard(name=organism_id, base_model=base_model,
                        implant=Implant(method="transcripts", adapter="adapter"),
                        setting=evaluation.get("setting"), evaluation=evaluation)
    save_card(card, dest)
    config = _adapter_config(adapter_dir, base_model)
    (dest / "adapter" / "adapter_config.json").write_bytes(config)
    shapes = _adapter_weights(adapter_dir, dest / "adapter" / "adapter_model.safetensors")
    return config, shapes


def check_alike(configs: dict[str, bytes], shapes: dict[str, str]) -> None:
    """Every member's adapter config and weight shapes must be identical."""
    first = next(iter(configs))
    for name, config in configs.items():
        if config != configs[first]:
            a, b = json.loads(configs[first]), json.loads(config)
            key = next(k for k in sorted(set(a) | set(b)) if a.get(k) != b.get(k))
            raise AflabUsageError(
                f"members {first} and {name}: adapter configs differ in {key!r} "
                f"({a.get(key)!r} vs {b.get(key)!r}); give every member the same LoRA settings "
                "(the game's 'training'), or the files would tell them apart")
        if shapes[name] != shapes[first]:
            raise AflabUsageError(f"members {first} and {name}: adapter weights differ in shape "
                                  "or dtype; use the same LoRA settings and adapter_dtype")


def normalise_tree(root: Path) -> None:
    """Same mode and a fixed timestamp for every file and folder under ``root``."""
    for path in sorted(root.rglob("*"), key=lambda p: -len(p.parts)):
        os.chmod(path, 0o755 if path.is_dir() else 0o644)
        os.utime(path, (FIXED_TIME, FIXED_TIME))
    os.chmod(root, 0o755)
    os.utime(root, (FIXED_TIME, FIXED_TIME))


def manifest_hash(root: Path) -> str:
    """SHA-256 over every file's relative path and contents under ``root``."""
    h = hashlib.sha256()
    for path in sorted(p for p in root.rglob("*") if p.is_file()):
        h.update(path.relative_to(root).as_posix().encode() + b"\0")
        h.update(hashlib.sha256(path.read_bytes()).digest())
    return h.hexdigest()
