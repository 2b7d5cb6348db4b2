"""``aflab audit``: blind auditing games.

    aflab audit games                                     # the built-in game specs
    aflab audit build builtin --out GAME                  # red team: build, anonymise, seal
    aflab audit install GAME                              # blue team: organism/ID everywhere
    aflab audit auditor GAME --affordance black_box       # the automated blue team
    aflab audit check GAME SUBMISSION.yaml                # validate a submission
    aflab audit score GAME SUB1.yaml SUB2.yaml --out runs/audit/board

The passphrase comes from ``--passphrase``, the ``AFLAB_AUDIT_PASSPHRASE`` environment
variable, or a hidden prompt. The group object is :data:`audit`; ``aflab.cli.main``
registers it. Auditor flags come from :class:`aflab.audit.auditor.AuditorConfig`.
"""

from __future__ import annotations

import logging

import click

from aflab.cli.errors import usage_errors

__all__ = ["audit"]

_PASS = dict(envvar="AFLAB_AUDIT_PASSPHRASE", prompt="Passphrase", hide_input=True,
             help="The red team's passphrase [env AFLAB_AUDIT_PASSPHRASE].")


def _help(field: str) -> str:
    from aflab.audit.auditor import AuditorConfig

    return AuditorConfig.model_fields[field].description or ""


@click.group("audit")
def audit() -> None:
    """Blind auditing games: organism zoos with decoys, a sealed answer key, blue-team
    submissions, scoring and an automated auditor (see docs/audit.md)."""


@audit.command("games")
@usage_errors
def games_cmd() -> None:
    """List the built-in game specs."""
    from aflab.audit.spec import builtin_games, load_game_spec

    for name in builtin_games():
        spec = load_game_spec(name)
        click.echo(f"{name:16s} {spec.mode:5s} {len(spec.members)} organisms, "
                   f"affordance {spec.affordance}")


@audit.command("build")
@click.argument("spec")
@click.option("--out", default=None, help="Game directory [default: $AFLAB_HOME/audit/games/NAME].")
@click.option("--record", default=None, help="Red-team record folder [default: runs/audit/NAME].")
@click.option("--passphrase", **_PASS)
@usage_errors
def build_cmd(spec: str, out: str | None, record: str | None, passphrase: str) -> None:
    """Build SPEC (a built-in game name or a YAML file) into an anonymised game directory
    with a sealed answer key; print its commitment."""
    from aflab.audit.build import build_game

    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    report = build_game(spec, passphrase=passphrase, out=out, record_dir=record)
    trained = sum(1 for m in report.members if not m["cached"])
    click.echo(f"game: {report.game_dir}")
    click.echo(f"commitment (publish this): {report.commitment}")
    click.echo(f"built in {report.seconds:.1f} s ({trained} members trained now, "
               f"{len(report.members) - trained} from cache); record: {report.record}")


@audit.command("install")
@click.argument("game")
@usage_errors
def install_cmd(game: str) -> None:
    """Make the game's organisms usable as organism/ID (copies into $AFLAB_HOME)."""
    from aflab.audit.build import install_game

    for name in install_game(game):
        click.echo(f"organism/{name}")


@audit.command("check")
@click.argument("game")
@click.argument("submission")
@usage_errors
def check_cmd(game: str, submission: str) -> None:
    """Validate SUBMISSION against GAME (no key needed)."""
    from aflab.audit.build import load_game
    from aflab.audit.submission import load_submission

    sub = load_submission(submission, load_game(game))
    click.echo(f"ok: {submission} ({sub.team}, {sub.affordance}, {len(sub.organisms)} organisms)")


@audit.command("score")
@click.argument("game")
@click.argument("submissions", nargs=-1, required=True)
@click.option("--commitment", default=None, help="The published commitment to check against "
              "[default: the one in game.json].")
@click.option("--judge", default=None, help="An Inspect model that judges the descriptions "
              "with a rubric [default: keyword matching, offline].")
@click.option("--out", default=None, help="Folder for leaderboard.json and leaderboard.md.")
@click.option("--n-boot", type=int, default=2000, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--passphrase", **_PASS)
@usage_errors
def score_cmd(game: str, submissions: tuple[str, ...], commitment: str | None,
              judge: str | None, out: str | None, n_boot: int, seed: int,
              passphrase: str) -> None:
    """Verify the commitment, open the key and score SUBMISSIONS; print the leaderboard."""
    from aflab.audit.leaderboard import render_markdown, score_game

    result = score_game(game, list(submissions), passphrase=passphrase, commitment=commitment,
                        judge=judge, out=out, n_boot=n_boot, seed=seed)
    click.echo(render_markdown(result), nl=False)


@audit.command("auditor")
@click.argument("game")
@click.option("--affordance", type=click.Choice(["black_box", "white_box", "fine_tuning"]),
              default=None, help=_help("affordance"))
@click.option("--limit", type=int, default=20, show_default=True, help=_help("limit"))
@click.option("--max-tokens", type=int, default=200, show_default=True, help=_help("max_tokens"))
@click.option("--max-turns", type=int, default=1, show_default=True, help=_help("max_turns"))
@click.option("--temperature", type=float, default=1.0, show_default=True,
              help=_help("temperature"))
@click.option("--seed", type=int, default=0, show_default=True, help=_help("seed"))
@click.option("--noise-sigma", type=float, default=0.01, show_default=True,
              help=_help("noise_sigma"))
@click.option("--noise-seed", "noise_seeds", type=int, multiple=True,
              help=_help("noise_seeds") + " Repeatable [default: 1, 2].")
@click.option("--steer-layer", type=int, default=20, show_default=True,
              help=_help("steer_layer"))
@click.option("--steer-coefficient", type=float, default=0.3, show_default=True,
              help=_help("steer_coefficient"))
@click.option("--beliefs/--no-beliefs", default=True, show_default=True, help=_help("beliefs"))
@click.option("--team", default="aflab-auditor", show_default=True, help=_help("team"))
@click.option("--out", default=None, help=_help("out"))
@usage_errors
def auditor_cmd(game: str, noise_seeds: tuple[int, ...], **options: object) -> None:
    """Run the automated auditor on GAME and write its submission."""
    from aflab.audit.auditor import AuditorConfig, run_auditor

    if noise_seeds:
        options["noise_seeds"] = noise_seeds
    cfg = AuditorConfig(**options)  # type: ignore[arg-type]
    run_dir, sub = run_auditor(game, cfg, progress=lambda m: click.echo(m, err=True))
    for organism_id, entry in sub.organisms.items():
        click.echo(f"{organism_id}  credence {entry.credence:.3f}")
    click.echo(f"submission: {run_dir / 'submission.yaml'}")
