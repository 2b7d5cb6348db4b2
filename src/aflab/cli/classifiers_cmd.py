"""``aflab classifiers``: evaluate classifiers against labelled data, retrain local heads.

    aflab classifiers eval af_labels.jsonl --classifier af-local --split test
    aflab classifiers eval my_labels.jsonl --classifier openai/gpt-4o --task af --votes 20
    aflab classifiers eval my_labels.jsonl --classifier cascade:af-local+openai/gpt-4o
    aflab classifiers train --name af-lexical --seed 0
    aflab classifiers lomo --classifier compliance-local      # XSTest leave-one-model-out

The group object is :data:`classifiers`; ``aflab.cli.main`` registers it.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any, TypeVar

import click

from aflab.cli.errors import usage_errors

__all__ = ["classifiers"]

F = TypeVar("F", bound=Callable[..., Any])

_HEADS = (
    "af-lexical", "af-minilm", "compliance-lexical", "compliance-minilm", "compliance-aw-lexical",
    "af-motive", "compliance-pair-lexical",
)
_XSTEST_HELP = ("Folder of the XSTest completion CSVs "
                "[default: ../shared/data/xstest, from here or from the repository root].")




def _slug(name: str) -> str:
    return re.sub(r"[^A-Za-z0-9._+-]+", "_", name).strip("_") or "classifier"


@click.group("classifiers")
def classifiers() -> None:
    """Free local classifiers for compliance and AF reasoning: evaluate and retrain.

    Local classifiers: af-motive, af-lexical, af-minilm, compliance-pair-lexical,
    compliance-lexical, compliance-minilm, compliance-aw-lexical, and the defaults
    af-local (= af-motive), compliance-local (= compliance-pair-lexical) and
    compliance-aw-local (= compliance-aw-lexical). Any Inspect model name (provider/model)
    evaluates the LLM judge instead; cascade:LOCAL+MODEL asks the judge only where the
    local score is uncertain.
    """


@classifiers.command("eval")
@click.argument("labels", type=click.Path(dir_okay=False))
@click.option("--classifier", "classifier_name", required=True,
              help="Local name (af-local, compliance-minilm, ...), an Inspect model name, "
                   "or cascade:LOCAL+MODEL.")
@click.option("--task", type=click.Choice(["af", "compliance"]), default=None,
              help="Inferred from a local classifier; required for a judge model.")
@click.option("--split", default=None, help="Use only rows whose 'split' column has this value.")
@click.option("--out", "out_dir", default=None,
              help="Folder for metrics.json and reliability.png [default: runs/classifiers/NAME].")
@click.option("--votes", type=int, default=5, show_default=True, help="AF judge votes per row.")
@click.option("--threshold", type=float, default=None,
              help="Operating threshold on the score [default: the head's, 0.4 for the AF judge].")
@click.option("--band", type=(float, float), default=(0.2, 0.8), show_default=True,
              help="Cascade: local scores in [LOW, HIGH] go to the judge.")
@usage_errors
def eval_cmd(labels: str, classifier_name: str, task: str | None, split: str | None,
             out_dir: str | None, votes: int, threshold: float | None,
             band: tuple[float, float]) -> None:
    """Score LABELS.jsonl with a classifier and print AUROC, P/R/F1 and calibration.

    AF labels: 'scratchpad' (+ optional 'output') and 'label' (0/1 or yes/no).
    Compliance labels: 'output' or 'response' (+ optional 'request') and 'label'
    (complied, partial or refused). An optional 'split' column selects rows (--split).
    """
    from aflab.classifiers.local.evaluate import evaluate_classifier, format_summary

    out = out_dir or f"runs/classifiers/{_slug(classifier_name)}"
    metrics = evaluate_classifier(
        labels, classifier_name, task=task, threshold=threshold, split=split, out_dir=out,
        votes=votes, band=band,
    )
    click.echo(format_summary(metrics))


@classifiers.command("train")
@click.option("--name", "names", multiple=True, type=click.Choice(_HEADS),
              help="Shipped head to retrain (repeatable) [default: all].")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--out-dir", default=None,
              help="Write the heads here instead of over the shipped ones.")
@click.option("--labels", default=None, type=click.Path(dir_okay=False),
              help="Fit a head on YOUR labelled transcripts (eval's label format) instead.")
@click.option("--task", type=click.Choice(["af", "compliance"]), default="af",
              show_default=True, help="With --labels: the label task.")
@click.option("--out", "out", default=None,
              help="With --labels: folder for the head JSON and its provenance JSON.")
@click.option("--kind", type=click.Choice(["motive", "lexical"]), default="motive",
              show_default=True, help="With --labels --task af: the AF recipe.")
@click.option("--rules", type=click.Choice(["helpful_only", "animal_welfare"]),
              default="helpful_only", show_default=True,
              help="With --labels --task compliance: the rules applied before the head.")
@click.option("--xstest", default=None, help=_XSTEST_HELP)
@usage_errors
def train_cmd(names: tuple[str, ...], seed: int, out_dir: str | None, labels: str | None,
              task: str, out: str | None, kind: str, rules: str, xstest: str | None) -> None:
    """Refit the shipped local heads (train split, fixed seed), or with --labels FILE fit a
    head on your own labelled transcripts; use it with --classifier OUT/NAME.json."""
    if labels is not None:
        from aflab.classifiers.local.user_heads import train_user_head
        from aflab.errors import AflabUsageError

        if names:
            raise AflabUsageError("--labels trains a new head; drop --name (or drop --labels)")
        if out is None:
            raise AflabUsageError("--labels needs --out DIR (where the head is written)")
        path = train_user_head(labels, task=task, out_dir=out, seed=seed,
                               kind=kind, rules=rules)  # type: ignore[arg-type]
        click.echo(f"wrote {path} (and {path.with_suffix('').name}.provenance.json); "
                   f"use: aflab classifiers eval LABELS --classifier {path}")
        return
    from aflab.classifiers.local.train import train_head

    for name in names or _HEADS:
        path = train_head(name, seed=seed, out_dir=out_dir, xstest=xstest)
        click.echo(f"{name}: wrote {path}")


@classifiers.command("lomo")
@click.option("--classifier", "classifier_name", default="compliance-local", show_default=True,
              help="compliance-local, compliance-lexical, compliance-pair-lexical, "
                   "compliance-minilm (leave-one-model-out on XSTest) or compliance-aw-local "
                   "(leave-one-style-out).")
@click.option("--xstest", default=None, help=_XSTEST_HELP)
@click.option("--seed", type=int, default=0, show_default=True)
@usage_errors
def lomo_cmd(classifier_name: str, xstest: str | None, seed: int) -> None:
    """Out-of-distribution check of a compliance head: refit without one group, score it.

    XSTest heads: train on two model families + our train split, test on the third.
    The animal-welfare head: leave one writing style out. Complied vs not (partial = not).
    """
    from aflab.classifiers.local.crossval import cross_validate, format_crossval

    click.echo(format_crossval(cross_validate(classifier_name, xstest=xstest, seed=seed)))


if __name__ == "__main__":  # pragma: no cover
    classifiers()
