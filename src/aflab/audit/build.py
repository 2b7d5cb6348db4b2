"""``aflab audit build``: members -> anonymised game directory + sealed answer key.

    GAME/
      game.json                 public: mode, affordance, target, blue-team inputs, the
                                organism ids (and pairs), the key's commitment
      key.sealed                the answer key, encrypted with the red team's passphrase
      organisms/ID/card.yaml    anonymised organisms (see aflab.audit.anonymise)
      organisms/ID/adapter/...

The red team's own record (resolved spec, per-member build times, provenance) goes to
``runs/audit/NAME/build.json``, never into the game directory. ``install_game`` copies
the organisms into ``$AFLAB_HOME/organisms`` so every aflab command (and Inspect) can use
them as ``organism/ID``.
"""

from __future__ import annotations

import json
import random
import shutil
import time
from dataclasses import dataclass
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from aflab import __version__
from aflab.audit.anonymise import (anonymous_ids, check_alike, manifest_hash, normalise_tree,
                                   write_anonymous_organism)
from aflab.audit.members import build_member
from aflab.audit.sealed_key import KEY_FILE, canonical, derive_nonce, seal_key
from aflab.audit.spec import GameSpec, load_game_spec
from aflab.errors import AflabUsageError
from aflab.models.embedded import aflab_home
from aflab.provenance import git_sha

__all__ = ["GAME_FILE", "BuildReport", "build_game", "default_game_dir", "install_game",
           "load_game"]

GAME_FILE = "game.json"


@dataclass(frozen=True)
class BuildReport:
    game_dir: Path
    commitment: str
    seconds: float
    members: list[dict[str, Any]]
    record: Path


def default_game_dir(name: str) -> Path:
    return aflab_home() / "audit" / "games" / name


def build_game(spec_or_name: str | Path | GameSpec, *, passphrase: str,
               out: str | Path | None = None, record_dir: str | Path | None = None,
               ) -> BuildReport:
    """Build (members from cache where possible), anonymise and seal a game."""
    spec = spec_or_name if isinstance(spec_or_name, GameSpec) else load_game_spec(spec_or_name)
    if len(passphrase) < 8:
        raise AflabUsageError("passphrase: use at least 8 characters")
    target = Path(out) if out is not None else default_game_dir(spec.name)
    if target.exists() and not (target / GAME_FILE).is_file():
        raise AflabUsageError(f"{target}: exists and is not a game directory; choose another "
                              "--out")
    started = time.perf_counter()
    built = [build_member(spec, m) for m in spec.members]
    bases = {b.base_model for b in built}
    if len(bases) > 1:
        raise AflabUsageError(f"members use different base models ({', '.join(sorted(bases))});"
                              " a game's organisms must share one base")
    base_model = bases.pop()
    ids = anonymous_ids(spec.name, spec.seed, len(built))
    order = list(range(len(built)))
    random.Random(f"aflab-audit-order-{spec.name}-{spec.seed}").shuffle(order)
    assignment = {ids[slot]: built[i] for slot, i in enumerate(order)}
    blue = spec.blue_inputs
    evaluation = {"setting": blue.setting, "variant": blue.variants[0] if blue.variants else None,
                  "data": blue.data}
    tmp = target.with_name(f".{target.name}.tmp")
    shutil.rmtree(tmp, ignore_errors=True)
    configs, shapes = {}, {}
    for organism_id in sorted(assignment):
        b = assignment[organism_id]
        configs[b.member.name], shapes[b.member.name] = write_anonymous_organism(
            organism_id, b.adapter_dir, base_model, evaluation, tmp / "organisms" / organism_id)
    check_alike(configs, shapes)
    manifest = manifest_hash(tmp / "organisms")
    key = {"game": spec.name, "manifest": manifest,
           "nonce": derive_nonce(passphrase, canonical(spec.model_dump(mode="json")).decode()),
           "organisms": {oid: {"member": b.member.name, "role": b.member.role,
                               "faker": b.member.is_faker, "hides": b.member.hides,
                               "keywords": list(b.member.keywords), "pair": b.member.pair}
                         for oid, b in sorted(assignment.items())}}
    commitment = seal_key(key, passphrase, tmp / KEY_FILE)
    pairs = sorted(sorted(oid for oid, b in assignment.items() if b.member.pair == label)
                   for label in {b.member.pair for b in assignment.values() if b.member.pair})
    public = {"format": "aflab-audit-game/1", "name": spec.name, "mode": spec.mode,
              "affordance": spec.affordance, "target": " ".join(spec.target.split()),
              "blue_inputs": blue.model_dump(mode="json"), "base_model": base_model,
              "organisms": sorted(assignment), "pairs": pairs if spec.mode == "pairs" else [],
              "manifest": manifest, "commitment": commitment}
    (tmp / GAME_FILE).write_text(json.dumps(public, indent=2) + "\n", encoding="utf-8")
    normalise_tree(tmp)
    if target.exists():
        shutil.rmtree(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp.rename(target)
    seconds = time.perf_counter() - started
    members = [{"member": b.member.name, "role": b.member.role, "cached": b.cached,
                "train_seconds": round(b.seconds, 1)} for b in built]
    record = Path(record_dir) if record_dir else Path("runs") / "audit" / spec.name
    record.mkdir(parents=True, exist_ok=True)
    (record / "build.json").write_text(json.dumps(
        {"spec": spec.model_dump(mode="json"), "game_dir": str(target),
         "commitment": commitment, "seconds": round(seconds, 1), "members": members,
         "provenance": {"aflab_version": __version__, "git_sha": git_sha(),
                        "built": datetime.now(timezone.utc).isoformat(timespec="seconds")}},
        indent=2) + "\n", encoding="utf-8")
    return BuildReport(target, commitment, seconds, members, record / "build.json")


def load_game(game_dir: str | Path) -> dict[str, Any]:
    """The public ``game.json`` of a game directory."""
    path = Path(game_dir) / GAME_FILE
    if not path.is_file():
        raise AflabUsageError(f"{game_dir}: not a game directory (no {GAME_FILE}); build one "
                              "with `aflab audit build`")
    try:
        game = json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as err:
        raise AflabUsageError(f"{path}: not valid JSON ({err.msg})") from None
    missing = [k for k in ("organisms", "commitment", "mode") if k not in game]
    if missing:
        raise AflabUsageError(f"{path}: missing field {missing[0]!r}")
    return game


def install_game(game_dir: str | Path) -> list[str]:
    """Copy the game's organisms into ``$AFLAB_HOME/organisms`` (usable as organism/ID)."""
    from aflab.organisms.registry import install, user_dir

    game = load_game(game_dir)
    names = []
    for organism_id in game["organisms"]:
        source = Path(game_dir) / "organisms" / organism_id
        target = user_dir() / organism_id
        if target.is_dir() and manifest_hash(target) == manifest_hash(source):
            names.append(organism_id)
            continue
        with install(target) as tmp:
            shutil.copytree(source, tmp, dirs_exist_ok=True)
        names.append(organism_id)
    return names
