"""``aflab monitors``: stress-test chain-of-thought monitors on transformed scratchpads.

    aflab monitors transforms
    aflab monitors stress builtin:test --monitor af-motive --monitor keyword \\
        --transform base64 --transform rot13 --defence decode --out runs/monitors/test
    aflab monitors stress LABELS.jsonl --monitor openai/gpt-4o-mini \\
        --monitor openai/gpt-4o --weak-to-strong --rewriter openai/gpt-4o

The group object is :data:`monitors`; ``aflab.cli.main`` registers it. Option help comes
from :class:`aflab.monitors.grid.StressConfig`'s fields.
"""

from __future__ import annotations

import json
import re
from typing import Any

import click

from aflab.cli.errors import usage_errors

__all__ = ["monitors"]


def _help(field: str) -> str:
    from aflab.monitors.grid import StressConfig

    return StressConfig.model_fields[field].description or ""


@click.group("monitors")
def monitors() -> None:
    """Chain-of-thought monitor stress tests: how much each AF monitor still catches when
    the scratchpad is encoded, paraphrased, translated, diluted or cut short."""


@monitors.command("transforms")
@usage_errors
def transforms_cmd() -> None:
    """List the transforms and the defences, one line each."""
    from aflab.monitors.defences import DEFENCES
    from aflab.monitors.transforms import TRANSFORMS

    for name, transform in TRANSFORMS.items():
        click.echo(f"{name:14s} {transform.description}")
    click.echo("\ndefences (--defence):")
    for name, description in DEFENCES.items():
        click.echo(f"{name:14s} {description}")


@monitors.command("stress")
@click.argument("labels")
@click.option("--monitor", "monitors_", multiple=True, help=_help("monitors")
              + " Repeatable [default: af-motive, af-lexical, keyword, output-only, hybrid].")
@click.option("--transform", "transforms", multiple=True,
              help=_help("transforms") + " Repeatable [default: all].")
@click.option("--defence", "defences", multiple=True, help=_help("defences") + " Repeatable.")
@click.option("--split", default=None, help=_help("split"))
@click.option("--limit", type=int, default=None, help=_help("limit"))
@click.option("--votes", type=int, default=5, show_default=True, help=_help("votes"))
@click.option("--judge-max-tokens", type=int, default=200, show_default=True,
              help=_help("judge_max_tokens"))
@click.option("--band", type=(float, float), default=(0.2, 0.8), show_default=True,
              help=_help("band"))
@click.option("--rewriter", default=None, help=_help("rewriter"))
@click.option("--rewriter-max-tokens", type=int, default=2048, show_default=True,
              help=_help("rewriter_max_tokens"))
@click.option("--with-output", is_flag=True, help=_help("with_output"))
@click.option("--hybrid-weight", type=float, default=0.5, show_default=True,
              help=_help("hybrid_weight"))
@click.option("--fpr", type=float, default=0.01, show_default=True, help=_help("fpr"))
@click.option("--resamples", type=int, default=1000, show_default=True, help=_help("resamples"))
@click.option("--seed", type=int, default=0, show_default=True, help=_help("seed"))
@click.option("--cache/--no-cache", default=True, show_default=True, help=_help("cache"))
@click.option("--weak-to-strong", is_flag=True, help=_help("weak_to_strong"))
@click.option("--out", "out_dir", default=None,
              help="Run directory [default: runs/monitors/LABELS].")
@usage_errors
def stress_cmd(labels: str, monitors_: tuple[str, ...], transforms: tuple[str, ...],
               defences: tuple[str, ...], out_dir: str | None, **options: Any) -> None:
    """Score LABELS with every monitor on every transform; write JSON, heatmap and HTML.

    LABELS: an AF label file, builtin, builtin:train, builtin:test, hughes2025, or an
    evaluation log (.eval file or folder)."""
    from aflab.monitors.grid import run_stress, stress_config
    from aflab.monitors.report import format_grid, report_warnings, write_stress_run

    given = {k: v for k, v in (("monitors", monitors_), ("transforms", transforms),
                               ("defences", defences)) if v}
    config = stress_config(labels=labels, **given, **options)
    result = run_stress(config, progress=lambda line: click.echo(line, err=True))
    out = out_dir or f"runs/monitors/{re.sub(r'[^A-Za-z0-9._+-]+', '_', labels).strip('_')}"
    paths = write_stress_run(result, out)
    numbers = json.loads(paths.results.read_text(encoding="utf-8"))
    for metric in ("auroc", "tpr_at_fpr", "gmean2"):
        click.echo(format_grid(numbers, metric) + "\n")
    for warning in report_warnings(config.model_dump(mode="json"), numbers):
        click.echo(f"warning: {warning}", err=True)
    click.echo(f"report: {paths.html}")
    click.echo(f"results: {paths.results}")


if __name__ == "__main__":  # pragma: no cover
    monitors()
