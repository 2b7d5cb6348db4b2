"""``aflab whitebox``: activations, probes, directions, steering and noise injection.

    aflab whitebox activations organism/smollm2-af --data builtin --limit 100
    aflab whitebox probe runs/whitebox/activations/smollm2-af-eval --control CHAT --masked MASKED
    aflab whitebox direction runs/whitebox/activations/smollm2-af-eval
    aflab whitebox steer organism/smollm2-af --direction runs/whitebox/direction/X --layer 12
    aflab whitebox noise organism/smollm2-af organism/smollm2-control

The flags are generated from each job's pydantic config (their help is the field's
description); every command writes a run directory and prints where. The group object
is :data:`whitebox`; ``aflab.cli.main`` registers it.
"""

from __future__ import annotations

import types
import typing
from collections.abc import Callable
from typing import Any, TypeVar

import click

from aflab.cli.errors import usage_errors
from aflab.whitebox.jobs import ActivationsConfig, DirectionConfig
from aflab.whitebox.noise_sweep import NoiseConfig
from aflab.whitebox.probes import ProbeConfig
from aflab.whitebox.steer_sweep import SteerConfig

__all__ = ["whitebox"]

F = TypeVar("F", bound=Callable[..., Any])

#: Flag names that read better than the field names (repeatable options in the singular).
_FLAGS = {"variants": "--variant", "sites": "--site", "layers": "--layer",
          "coefficients": "--coef", "sigmas": "--sigma", "seeds": "--noise-seed"}


def _plain(annotation: Any) -> Any:
    """``X | None`` -> ``X``."""
    if typing.get_origin(annotation) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(annotation) if a is not type(None)]
        return args[0] if len(args) == 1 else str
    return annotation


def _config_options(config: type, skip: tuple[str, ...] = ()) -> Callable[[F], F]:
    """One flag per config field (help from the field; unset = the config's default)."""

    def decorate(func: F) -> F:
        fields = config.model_fields  # type: ignore[attr-defined]
        for name, field in reversed(list(fields.items())):
            if name in skip:
                continue
            annotation = _plain(field.annotation)
            flag = _FLAGS.get(name, f"--{name.replace('_', '-')}")
            kwargs: dict[str, Any] = {"default": None, "help": field.description}
            if field.is_required():
                kwargs["required"] = True
            elif field.default not in (None, ()):
                shown = (", ".join(map(str, field.default)) if isinstance(field.default, tuple)
                         else field.default)
                kwargs["help"] = f"{field.description} [default: {shown}]"
            if annotation is bool:
                func = click.option(f"{flag}/--no-{flag[2:]}", name, **kwargs)(func)
                continue
            origin = typing.get_origin(annotation)
            if origin is tuple:
                element = typing.get_args(annotation)[0]
                kwargs.update(multiple=True, default=())
                kwargs["type"] = element if element in (int, float) else str
            elif origin is typing.Literal:
                kwargs["type"] = click.Choice(typing.get_args(annotation))
            elif annotation in (int, float):
                kwargs["type"] = annotation
            func = click.option(flag, name, **kwargs)(func)
        return func

    return decorate


def _build(config: type, where: str, **values: Any) -> Any:
    from pydantic import ValidationError

    from aflab.errors import validation_error

    given = {k: v for k, v in values.items() if v is not None and v != ()}
    try:
        return config(**given)
    except ValidationError as err:
        raise validation_error(err, where, "option") from None


def _say(message: str) -> None:
    click.echo(message, err=True)


@click.group("whitebox")
def whitebox() -> None:
    """White-box detection: activations, probes, directions, steering, noise injection.

    Each command writes a run directory (config.json, provenance.json, numbers as JSON,
    figure.png/.svg and report.html); see docs/whitebox.md.
    """


@whitebox.command("activations")
@click.argument("model")
@_config_options(ActivationsConfig, skip=("model",))
@usage_errors
def activations_cmd(model: str, **options: Any) -> None:
    """Capture MODEL's activations (organism/NAME, aflab-local/..., a checkpoint dir)."""
    from aflab.whitebox.jobs import run_activations

    run_dir = run_activations(_build(ActivationsConfig, "aflab whitebox activations",
                                     model=model, **options))
    click.echo(f"activations: {run_dir / 'activations'}")


@whitebox.command("probe")
@click.argument("store")
@_config_options(ProbeConfig, skip=("store",))
@usage_errors
def probe_cmd(store: str, **options: Any) -> None:
    """Probe every layer of STORE (a layer sweep) beside the textual-leakage controls."""
    from aflab.whitebox.jobs import run_probe_job

    run_dir, result = run_probe_job(_build(ProbeConfig, "aflab whitebox probe", store=store,
                                           **options))
    best = result["best"]
    line = (f"best {result['best_site']}: AUROC {best['auroc']:.3f} "
            f"[{best['auroc_ci'][0]:.3f}, {best['auroc_ci'][1]:.3f}]")
    if "recall_at_fpr" in best:
        line += f", recall at {100 * result['fpr']:g}% FPR {best['recall_at_fpr']:.3f}"
    click.echo(line)
    for key, control in result["controls"].items():
        value = control["best"] if "best" in control else control
        click.echo(f"control {key}: AUROC {value['auroc']:.3f}")
    click.echo(f"report: {run_dir / 'report.html'}")


@whitebox.command("direction")
@click.argument("store")
@_config_options(DirectionConfig, skip=("store",))
@usage_errors
def direction_cmd(store: str, **options: Any) -> None:
    """Compute a direction per site from STORE's labels (difference in means or probe)."""
    from aflab.whitebox.jobs import run_direction

    run_dir, _ = run_direction(_build(DirectionConfig, "aflab whitebox direction", store=store,
                                      **options))
    click.echo(f"direction: {run_dir / 'direction.safetensors'}")


@whitebox.command("steer")
@click.argument("model")
@_config_options(SteerConfig, skip=("model",))
@usage_errors
def steer_cmd(model: str, **options: Any) -> None:
    """Steer MODEL along a direction over layers x coefficients, with random controls."""
    from aflab.whitebox.steer_sweep import run_steer

    cfg = _build(SteerConfig, "aflab whitebox steer", model=model, **options)
    run_dir, result = run_steer(cfg, progress=_say)
    v = result["verdict"]
    ci = v["ci"] or [float("nan")] * 2
    click.echo(f"gap shift at layer {result['chosen']['layer']}, coefficient "
               f"{result['chosen']['coefficient']:+g}: {100 * (v['shift'] or 0):+.1f} pts "
               f"[{100 * ci[0]:+.1f}, {100 * ci[1]:+.1f}]; random: "
               + ", ".join(f"{100 * s:+.1f}" for s in v["random_shifts"])
               + f"; beyond spread: {'yes' if v['beyond_spread'] else 'no'}"
               + (f" ({v['reason']})" if v.get("reason") else ""))
    click.echo(f"report: {run_dir / 'report.html'}")


@whitebox.command("noise")
@click.argument("suspect")
@click.argument("control")
@_config_options(NoiseConfig, skip=("suspect", "control"))
@usage_errors
def noise_cmd(suspect: str, control: str, **options: Any) -> None:
    """Noise-inject SUSPECT and a benign CONTROL over sigma x seeds; decide."""
    from aflab.whitebox.noise_sweep import run_noise

    cfg = _build(NoiseConfig, "aflab whitebox noise", suspect=suspect, control=control,
                 **options)
    run_dir, result = run_noise(cfg, progress=_say)
    d = result["decision"]
    ci = d["difference_ci"]
    click.echo(f"improvement ratio: suspect {d['ratio_suspect']:.2f}, control "
               f"{d['ratio_control']:.2f}; difference {d['difference']:.2f} "
               f"[{ci[0]:.2f}, {ci[1]:.2f}]; flagged: {'yes' if d['flagged'] else 'no'}"
               if ci[0] is not None else "improvement ratio: no finite bootstrap resample")
    click.echo(f"report: {run_dir / 'report.html'}")
