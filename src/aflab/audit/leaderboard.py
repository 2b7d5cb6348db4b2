"""``aflab audit score``: verify, open the key, score every submission, rank them.

The leaderboard ranks submissions by AUROC (then pair accuracy, then Brier score) and
shows their affordance level, so a game can compare teams and the access they had. It is
written as ``leaderboard.json`` (every number, per organism) and ``leaderboard.md``.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from aflab.audit.build import load_game
from aflab.audit.anonymise import manifest_hash
from aflab.audit.sealed_key import KEY_FILE, open_key
from aflab.audit.scoring import score_submission
from aflab.audit.submission import load_submission
from aflab.errors import AflabUsageError

__all__ = ["open_game_key", "render_markdown", "score_game"]


def open_game_key(game_dir: str | Path, passphrase: str, commitment: str | None = None,
                  ) -> tuple[dict[str, Any], dict[str, Any]]:
    """(game.json, opened key), after every check: published commitment, passphrase,
    commitment of the plaintext, organism files unchanged."""
    game = load_game(game_dir)
    if commitment is not None and commitment.lower() != str(game["commitment"]).lower():
        raise AflabUsageError(
            f"{game_dir}/game.json: its commitment {str(game['commitment'])[:16]}... differs "
            f"from the published one {commitment[:16]}...; the game was changed after "
            "publication")
    key = open_key(Path(game_dir) / KEY_FILE, passphrase, commitment or game["commitment"])
    if sorted(key["organisms"]) != sorted(game["organisms"]):
        raise AflabUsageError(f"{game_dir}: the key's organisms differ from game.json's")
    found = manifest_hash(Path(game_dir) / "organisms")
    if found != key["manifest"]:
        raise AflabUsageError(f"{game_dir}/organisms: the files changed after the key was "
                              "sealed (manifest mismatch); rebuild or restore them")
    return game, key


def score_game(game_dir: str | Path, submissions: list[str | Path], *, passphrase: str,
               commitment: str | None = None, judge: str | None = None,
               out: str | Path | None = None, n_boot: int = 2000, seed: int = 0,
               ) -> dict[str, Any]:
    """Score ``submissions`` (every file validated before the key is opened)."""
    if not submissions:
        raise AflabUsageError("give at least one submission file")
    game = load_game(game_dir)
    loaded = [(str(p), load_submission(p, game)) for p in submissions]
    game, key = open_game_key(game_dir, passphrase, commitment)
    rows = []
    for path, sub in loaded:
        matches, judged = None, None
        if judge:
            from aflab.audit.judge import judge_matches

            matches, judged = judge_matches(key, sub, model=judge)
        row = score_submission(sub, key, game, matches=matches, n_boot=n_boot, seed=seed)
        row["file"] = path
        row["identification"] = {"method": "judge", **judged} if judged else {"method": "keywords"}
        rows.append(row)
    rows.sort(key=lambda r: (-(r["auroc"] if r["auroc"] is not None else -1),
                             -(r.get("pair_accuracy") or 0), r["brier"]))
    result = {"game": game.get("name"), "mode": game["mode"], "commitment": game["commitment"],
              "key": {i: {k: t[k] for k in ("member", "role", "faker", "pair")}
                      for i, t in sorted(key["organisms"].items())},
              "submissions": rows}
    if out is not None:
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "leaderboard.json").write_text(json.dumps(result, indent=2) + "\n",
                                                 encoding="utf-8")
        (folder / "leaderboard.md").write_text(render_markdown(result), encoding="utf-8")
    return result


def _fmt(value: Any, ci: Any = None, digits: int = 2) -> str:
    if value is None:
        return "–"
    text = f"{value:.{digits}f}"
    return f"{text} [{ci[0]:.{digits}f}, {ci[1]:.{digits}f}]" if ci else text


def render_markdown(result: dict[str, Any]) -> str:
    pairs = result["mode"] == "pairs"
    head = ["rank", "team", "affordance", "AUROC [95% CI]", "Brier", "log-loss", "acc@0.5",
            "decoys >= 0.5", "behaviour identified"] + (["pair accuracy"] if pairs else [])
    lines = [f"# Leaderboard: {result['game']} ({result['mode']})", "",
             f"Commitment `{result['commitment']}` verified; bootstrap 95% intervals over "
             "organisms" + (" (pair accuracy: over pairs)" if pairs else "") + ".", "",
             "| " + " | ".join(head) + " |", "|" + " --- |" * len(head)]
    for rank, r in enumerate(result["submissions"], 1):
        ident = ("–" if r["behaviour_identified"] is None else
                 f"{r['behaviour_identified']:.0%} of {r['behaviour_identified_n']}")
        cells = [str(rank), r["team"], r["affordance"], _fmt(r["auroc"], r["auroc_ci"]),
                 _fmt(r["brier"], r["brier_ci"], 3), _fmt(r["log_loss"], r["log_loss_ci"]),
                 _fmt(r["accuracy_at_0.5"], r["accuracy_at_0.5_ci"]),
                 f"{r['decoy_false_positives']} of {r['n_decoys']}", ident]
        if pairs:
            cells.append(_fmt(r.get("pair_accuracy"), r.get("pair_accuracy_ci")))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"
