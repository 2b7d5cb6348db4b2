"""``aflab organisms beliefs`` and the SDF path of ``aflab organisms build``.

    aflab organisms beliefs smollm2-sdf                 # organism vs its base model, paired
    aflab organisms beliefs smollm2-sdf --no-base --probe
    aflab organisms build smollm2-sdf                   # documents -> fine-tune -> beliefs -> AF eval
    aflab organisms build my-sdf-recipe.yaml --limit 20

:func:`register_sdf` adds ``beliefs`` to the organisms group and replaces ``build`` with one
that also takes a recipe YAML path and runs an SDF recipe (``implant: documents``) end to
end; any other recipe builds as before.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import click

from aflab.cli.errors import usage_errors

__all__ = ["register_sdf"]


@click.command("beliefs")
@click.argument("name")
@click.option("--base/--no-base", default=True, show_default=True,
              help="Also evaluate the organism's base model, paired on the same questions.")
@click.option("--universe", default=None,
              help="Universe to ask about (name or YAML) [default: the card's belief universe "
                   "or setting].")
@click.option("--kinds", default="mcq,distinguish,open", show_default=True,
              help="Comma-separated: mcq, distinguish, open.")
@click.option("--probe", is_flag=True, help="Add the robustness probe ('you may have been "
              "fine-tuned on false information').")
@click.option("--scoring", type=click.Choice(["auto", "loglik", "letter"]), default="auto",
              show_default=True, help="loglik: option log-likelihoods (in-process models); "
              "letter: the model writes a letter (any model).")
@click.option("--facts", default=None, help="Comma-separated fact ids (default: all).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--out", default=None, help="Output directory [default: runs/beliefs/NAME].")
@usage_errors
def beliefs_cmd(name: str, base: bool, universe: str | None, kinds: str, probe: bool,
                scoring: str, facts: str | None, seed: int, out: str | None) -> None:
    """Belief-implant evaluation of organism NAME on a universe's key facts."""
    from aflab.errors import AflabUsageError
    from aflab.organisms.registry import get_organism, model_name
    from aflab.sdf.belief_compare import compare_beliefs
    from aflab.sdf.beliefs import KINDS
    from aflab.sdf.universe import load_universe

    organism = get_organism(name)
    card = organism.card
    chosen = tuple(k.strip() for k in kinds.split(",") if k.strip())
    bad = [k for k in chosen if k not in KINDS]
    if bad or not chosen:
        raise AflabUsageError(f"--kinds {kinds!r}: use a comma-separated subset of "
                              f"{', '.join(KINDS)}")
    uni = load_universe(universe or card.intended.get("belief_universe") or card.setting)
    fact_ids = [f.strip() for f in facts.split(",") if f.strip()] if facts else None
    if fact_ids:
        uni.select(fact_ids)
    models = {organism.name: model_name(organism.name)}
    if base:
        models["base"] = card.base_model
    out_dir = Path(out) if out else Path("runs") / "beliefs" / organism.name
    compare_beliefs(models, uni, out=out_dir, kinds=chosen, scoring=scoring,  # type: ignore[arg-type]
                    probe=probe, fact_ids=fact_ids, seed=seed)
    click.echo((out_dir / "beliefs.md").read_text(encoding="utf-8").rstrip())
    click.echo(f"\nwritten: {out_dir / 'beliefs.json'}")


def register_sdf(group: click.Group) -> None:
    """Add ``beliefs`` and the SDF-aware ``build`` to the organisms group."""
    from aflab.cli import organisms_cmd as oc

    group.add_command(beliefs_cmd)

    @click.command("build")
    @click.argument("name")
    @oc._OUT
    @oc._RUN_DIR
    @click.option("--beliefs/--no-beliefs", "beliefs", default=True, show_default=True,
                  help="SDF recipes: evaluate beliefs against the base model.")
    @click.option("--af-eval/--no-af-eval", "af_eval", default=True, show_default=True,
                  help="SDF recipes: run the alignment-faking evaluation (minimal prompt).")
    @click.option("--limit", type=int, default=20, show_default=True,
                  help="SDF recipes: held-out queries in the AF evaluation (both tiers).")
    @oc._train_options
    @usage_errors
    def build_cmd(name: str, out: str | None, run_dir: str | None, beliefs: bool, af_eval: bool,
                  limit: int, **options: Any) -> None:
        """Build a shipped recipe (e.g. smollm2-af, smollm2-sdf) or a recipe YAML file.

        A recipe with `implant: documents` (synthetic-document fine-tuning) runs end to
        end: documents, filters, fine-tuning, belief evaluation against the base model,
        the alignment-faking evaluation in the minimal-prompt condition, and a report.
        """
        from aflab.errors import AflabUsageError
        from aflab.organisms.build import recipe_names, resolve_spec

        if name not in recipe_names() and Path(name).suffix not in (".yaml", ".yml"):
            raise AflabUsageError(
                f"no recipe {name!r}; shipped recipes: {', '.join(recipe_names())}, or give a "
                "recipe .yaml file"
            )
        spec = resolve_spec(name)
        if spec.implant != "documents":
            oc._build(name, out, run_dir, options)
            return
        from aflab.sdf.pipeline import run_sdf

        report = run_sdf(spec, out=out, run_dir=run_dir, train_overrides=oc._overrides(options),
                         beliefs=beliefs, af_eval=af_eval, limit=limit)
        click.echo(f"organism: organism/{spec.name}  ({report['path']})")
        docs = report["documents"]
        click.echo(f"documents: {docs['n']} kept (filters removed: "
                   f"{ {k: v for k, v in docs['filters'].items() if k not in ('input', 'kept')} })")
        t = report["training"]
        click.echo(f"trained: {t['steps']} steps, loss {t['first_loss']:.3f} -> "
                   f"{t['final_loss']:.3f}, {t['tokens_per_second']:.0f} tokens/s")
        for key in ("beliefs", "beliefs_probe"):
            for kind, s in report.get(key, {}).get("paired", {}).get(spec.name, {}).items():
                mine = report[key]["models"][spec.name][kind]["accuracy"]
                base_acc = report[key]["models"]["base"][kind]["accuracy"]
                click.echo(f"{key} {kind}: {mine:.0%} vs base {base_acc:.0%}, paired p "
                           f"{s['mcnemar_p']:.2g}")
        click.echo(f"report: {Path(report['run_dir']) / 'sdf_report.md'}")

    group.add_command(build_cmd)
