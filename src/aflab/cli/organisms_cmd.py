"""``aflab organisms``: list, show, build, train and evaluate model organisms.

    aflab organisms list
    aflab organisms show smollm2-af
    aflab organisms build smollm2-af                 # a shipped recipe, reproduced
    aflab organisms train my-spec.yaml --epochs 3    # your own behaviour spec
    aflab organisms eval smollm2-af smollm2-control --limit 20

The group object is :data:`organisms`; ``aflab.cli.main`` registers it. The training
flags are generated from :class:`aflab.organisms.trainer.TrainConfig`'s fields.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from aflab.cli.errors import usage_errors

__all__ = ["organisms"]

F = TypeVar("F", bound=Callable[..., Any])




def _train_options(func: F) -> F:
    """One ``--flag`` per TrainConfig field (help text from the field); unset = the spec's."""
    from aflab.organisms.trainer import TrainConfig

    for name, field in reversed(list(TrainConfig.model_fields.items())):
        annotation = field.annotation
        origin = typing.get_origin(annotation)
        kwargs: dict[str, Any] = {"default": None, "help": field.description}
        if annotation is bool:
            flag = f"--{name.replace('_', '-')}/--no-{name.replace('_', '-')}"
            func = click.option(flag, name, **kwargs)(func)
            continue
        if origin is typing.Literal:
            kwargs["type"] = click.Choice(typing.get_args(annotation))
        elif annotation in (int, float):
            kwargs["type"] = annotation
        else:  # tuples: comma-separated
            kwargs["help"] = f"{field.description} Comma-separated."
        func = click.option(f"--{name.replace('_', '-')}", name, **kwargs)(func)
    return func


def _overrides(options: dict[str, Any]) -> dict[str, Any]:
    from aflab.organisms.trainer import TrainConfig

    out: dict[str, Any] = {}
    for name, value in options.items():
        if value is None or name not in TrainConfig.model_fields:
            continue
        if isinstance(value, str) and name in ("target_modules", "layers"):
            parts = [p.strip() for p in value.split(",") if p.strip()]
            value = tuple(int(p) if name == "layers" and p.lstrip("-").isdigit() else p
                          for p in parts)
        out[name] = value
    return out


@click.group("organisms")
def organisms() -> None:
    """Model organisms: built-in positive and negative controls and your own.

    Every organism is the model organism/NAME in `aflab run`, `inspect eval` and every
    other command. Built-in organisms ship in the package; yours live in
    $AFLAB_HOME/organisms.
    """


@organisms.command("list")
@usage_errors
def list_cmd() -> None:
    """List organisms: name, where it lives, implant, base model, intended and measured gap."""
    from aflab.organisms.registry import list_organisms

    found = list_organisms()
    if not found:
        click.echo("no organisms (build one with `aflab organisms build smollm2-af`)")
        return
    click.echo(f"{'model':<28} {'source':<8} {'implant':<12} {'base model':<22} "
               f"{'gap intended':>12} {'gap measured':>12}")
    for o in found:
        intended = o.card.intended.get("rates", {}).get("gap")
        measured = o.card.measured.get("gap")
        fmt = lambda v: "-" if v is None else f"{100 * v:+.0f} pts"  # noqa: E731
        click.echo(f"{'organism/' + o.name:<28} {o.source:<8} {o.card.implant.method:<12} "
                   f"{o.card.base_model:<22} {fmt(intended):>12} {fmt(measured):>12}")


@organisms.command("show")
@click.argument("name")
@usage_errors
def show_cmd(name: str) -> None:
    """Print an organism's card (YAML) and where it lives."""
    from aflab.organisms.card import CARD_FILE
    from aflab.organisms.registry import get_organism

    organism = get_organism(name)
    click.echo(f"# {organism.path / CARD_FILE} ({organism.source})")
    click.echo((organism.path / CARD_FILE).read_text(encoding="utf-8").rstrip())


def _build(spec: str, out: str | None, run_dir: str | None, options: dict[str, Any]) -> None:
    from aflab.organisms.build import build_organism

    result = build_organism(spec, out=out, run_dir=run_dir, train_overrides=_overrides(options))
    rates = result.card.intended.get("rates") or {}
    click.echo(f"organism: organism/{result.card.name}  ({result.path})")
    if "gap" in rates:
        click.echo(f"intended: free compliance {rates['free']['compliance']:.0%}, paid "
                   f"{rates['paid']['compliance']:.0%}, AF among free {rates['free']['af_among_all']:.0%}")
    if result.card.training:
        t = result.card.training
        loss = (f"loss {t['first_loss']:.3f} -> {t['final_loss']:.3f}, "
                if t.get("first_loss") is not None else "")
        click.echo(f"trained: {t['steps']} steps, {loss}{t['tokens_per_second']:.0f} tokens/s")
    click.echo(f"run directory: {result.run_dir}")
    click.echo(f"evaluate it: aflab organisms eval {result.card.name}")


_OUT = click.option("--out", default=None,
                    help="Install the organism here [default: $AFLAB_HOME/organisms/NAME].")
_RUN_DIR = click.option("--run-dir", default=None,
                        help="Run directory (transcripts, checkpoints, config) "
                             "[default: runs/organisms/NAME]; rerun to resume.")


@organisms.command("build")
@click.argument("name")
@_OUT
@_RUN_DIR
@_train_options
@usage_errors
def build_cmd(name: str, out: str | None, run_dir: str | None, **options: Any) -> None:
    """Rebuild a shipped organism from its recipe (fixed seed), e.g. smollm2-af."""
    from aflab.errors import AflabUsageError
    from aflab.organisms.build import recipe_names

    if name not in recipe_names():
        raise AflabUsageError(
            f"no recipe {name!r}; shipped recipes: {', '.join(recipe_names())} "
            "(train your own spec with `aflab organisms train SPEC.yaml`)"
        )
    _build(name, out, run_dir, options)


@organisms.command("train")
@click.argument("spec", type=click.Path(dir_okay=False))
@_OUT
@_RUN_DIR
@_train_options
@usage_errors
def train_cmd(spec: str, out: str | None, run_dir: str | None, **options: Any) -> None:
    """Build an organism from a behaviour SPEC (YAML): transcripts, LoRA training, card.

    A spec with `implant: prompt` makes a prompt organism (no training), usable with
    any model, API ones included.
    """
    from aflab.errors import AflabUsageError

    if not Path(spec).is_file():
        raise AflabUsageError(f"{spec}: no such spec file")
    _build(spec, out, run_dir, options)


@organisms.command("eval")
@click.argument("names", nargs=-1, required=True)
@click.option("--out", "out_dir", default="runs/organisms-eval", show_default=True,
              help="Logs go to OUT/NAME, the report to OUT/report; rerun to resume.")
@click.option("--limit", type=int, default=None, help="First N held-out queries (both tiers).")
@click.option("--temperature", type=float, default=1.0, show_default=True,
              help="Sampling temperature (1.0 samples the trained mix).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--max-tokens", type=int, default=256, show_default=True)
@click.option("--record/--no-record", default=False,
              help="Write the measured rates into each organism's card.")
@usage_errors
def eval_cmd(names: tuple[str, ...], out_dir: str, limit: int | None, temperature: float,
             seed: int, max_tokens: int, record: bool) -> None:
    """Evaluate organisms on held-out queries (local classifiers) into one report."""
    from aflab.organisms.evaluate import evaluate_organisms

    results, paths = evaluate_organisms(
        list(names), out=out_dir, limit=limit, temperature=temperature, seed=seed,
        max_tokens=max_tokens, record=record,
    )
    for r in results:
        m = r.measured
        pct = lambda v: "-" if v is None else f"{100 * v:.0f}%"  # noqa: E731
        ci = m["gap_ci"] or [None, None]
        click.echo(
            f"organism/{r.name}: free compliance {pct(m['free']['compliance_rate'])} "
            f"(n {m['free']['n']}), paid {pct(m['paid']['compliance_rate'])} "
            f"(n {m['paid']['n']}), gap {pct(m['gap'])} [{pct(ci[0])}, {pct(ci[1])}], "
            f"AF among compliant free {pct(m['free']['af_rate'])}"
        )
    click.echo(f"report: {paths.html}")


from aflab.cli.sdf_cmd import register_sdf  # noqa: E402  (SDF: beliefs, build of SDF recipes)

register_sdf(organisms)

from aflab.cli.rl_cmd import register_rl  # noqa: E402  (RL toward the training objective)

register_rl(organisms)
