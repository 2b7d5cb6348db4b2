"""``aflab organisms rl`` (GRPO with the scratchpad hidden from the reward) and
``aflab generalisation`` (exfiltration, anti-lab requests, lying about views).

    aflab organisms rl smollm2-af --max-steps 9 --save-every 3 --remeasure-limit 10
    aflab generalisation run organism/smollm2-af --epochs 2 --out runs/generalisation/af

The RL flags are generated from :class:`aflab.rl.config.RLConfig`'s fields; the commands
only parse arguments and call library functions.
"""

from __future__ import annotations

import typing
from collections.abc import Callable
from typing import Any, TypeVar

import click

from aflab.cli.errors import usage_errors

__all__ = ["generalisation", "register_rl", "rl_cmd"]

F = TypeVar("F", bound=Callable[..., Any])


def _rl_options(func: F) -> F:
    """One ``--flag`` per RLConfig field except ``model`` (the argument); unset = default."""
    from aflab.rl.config import RLConfig

    for name, field in reversed(list(RLConfig.model_fields.items())):
        if name == "model":
            continue
        annotation = field.annotation
        flag = name.replace("_", "-")
        kwargs: dict[str, Any] = {"default": None, "help": field.description}
        if annotation is bool:
            func = click.option(f"--{flag}/--no-{flag}", name, **kwargs)(func)
            continue
        args = typing.get_args(annotation)
        literal = next((a for a in (annotation, *args) if typing.get_origin(a) is typing.Literal),
                       None)
        if literal is not None:
            kwargs["type"] = click.Choice(typing.get_args(literal))
        elif annotation in (int, float):
            kwargs["type"] = annotation
        elif typing.get_origin(annotation) is tuple:
            kwargs["help"] = f"{field.description} Comma-separated."
        func = click.option(f"--{flag}", name, **kwargs)(func)
    return func


def rl_overrides(model: str, options: dict[str, Any]) -> dict[str, Any]:
    """The config mapping from the CLI's options (unset ones left to the defaults)."""
    out: dict[str, Any] = {"model": model}
    for name, value in options.items():
        if value is None:
            continue
        if name == "target_modules" and isinstance(value, str):
            value = tuple(p.strip() for p in value.split(",") if p.strip())
        out[name] = value
    return out


@click.command("rl")
@click.argument("model")
@_rl_options
@usage_errors
def rl_cmd(model: str, **options: Any) -> None:
    """RL (GRPO + LoRA) of MODEL toward the setting's training objective, training tier only.

    MODEL is an organism (smollm2-af) or a local checkpoint (aflab-local/PATH). The reward
    sees only the final output: the scratchpad is removed before any reward function runs.
    Every --save-every steps the adapter becomes organism NAME-stepK, and each checkpoint
    is re-measured on held-out queries in both tiers. Rerun the same command to resume.
    """
    import logging

    from aflab.rl.config import rl_config
    from aflab.rl.trainer import run_rl

    logging.basicConfig(level=logging.WARNING, format="%(message)s")
    config = rl_config(rl_overrides(model, options))
    result = run_rl(config)
    click.echo(f"run: {result.run_dir} ({result.steps} steps"
               + (f", resumed from {result.resumed_from}" if result.resumed_from else "") + ")")
    for step, name in result.checkpoints.items():
        click.echo(f"  step {step}: organism/{name}")
    fl = (result.curve or {}).get("first_vs_last")
    if fl and fl.get("ci"):
        click.echo(f"mean reward: first steps {fl['first_mean']:.3f}, last steps "
                   f"{fl['last_mean']:.3f}, difference {fl['difference']:+.3f} "
                   f"[{fl['ci'][0]:+.3f}, {fl['ci'][1]:+.3f}]")
    if result.remeasure:
        for row in result.remeasure["steps"]:
            f, p = row["free"], row["paid"]
            pct = lambda v: "-" if v is None else f"{100 * v:.0f}%"  # noqa: E731
            click.echo(f"  step {row['step']}: compliance training {pct(f['compliance'])}, "
                       f"unmonitored {pct(p['compliance'])}, AF among compliant training "
                       f"{pct(f['af_among_compliant'])}")
        click.echo(f"figure: {result.run_dir / 'remeasure.png'}")


def register_rl(group: click.Group) -> None:
    """Add ``rl`` to the organisms group."""
    group.add_command(rl_cmd)


@click.group("generalisation")
def generalisation() -> None:
    """What else a model does given the chance: self-exfiltration, anti-lab requests,
    lying about its views (paid tier, with the no-conflict baseline)."""


@generalisation.command("run")
@click.argument("model")
@click.option("--out", required=True, help="Run directory: logs, summary.json, report.md.")
@click.option("--setting", type=click.Choice(["animal_welfare", "helpful_only"]),
              default="animal_welfare", show_default=True)
@click.option("--variant", default=None,
              help="Prompt variant; default an organism's evaluation variant, else the full prompt.")
@click.option("--task", "tasks", multiple=True,
              type=click.Choice(["exfiltration", "anti_lab", "views"]),
              help="Tasks to run (repeatable; default all three).")
@click.option("--epochs", type=int, default=1, show_default=True, help="Samples per scenario.")
@click.option("--grader", default=None, help="Judge model (grader role).")
@click.option("--local", is_flag=True, help="Local fallbacks instead of the grader.")
@click.option("--tools", is_flag=True, help="Exfiltration through Inspect tool calling.")
@click.option("--votes", type=int, default=3, show_default=True)
@click.option("--temperature", type=float, default=1.0, show_default=True)
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--max-tokens", type=int, default=256, show_default=True)
@click.option("--limit", type=int, default=None, help="First N scenarios of each task.")
@usage_errors
def generalisation_run(model: str, out: str, setting: str, variant: str | None,
                       tasks: tuple[str, ...], epochs: int, grader: str | None, local: bool,
                       tools: bool, votes: int, temperature: float, seed: int,
                       max_tokens: int, limit: int | None) -> None:
    """Run the generalisation tasks on MODEL in the condition and the no-conflict baseline."""
    from aflab.generalisation.run import TASK_NAMES, run_generalisation

    summary = run_generalisation(
        model, out=out, setting=setting, variant=variant, tasks=tasks or TASK_NAMES,
        epochs=epochs, grader=grader, local=local, tools=tools, votes=votes,
        temperature=temperature, seed=seed, max_tokens=max_tokens, limit=limit)
    for r in summary["results"]:
        c, b = r["condition"], r["baseline"]
        click.echo(f"{r['task']}/{r['kind']}: condition {c['k']}/{c['n']}, "
                   f"baseline {b['k']}/{b['n']}")
    click.echo(f"report: {out}/report.md")
