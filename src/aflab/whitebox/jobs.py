"""The activations, probe and direction jobs: config in, run directory out.

Each job validates its config, writes ``config.json`` + ``provenance.json`` into its run
directory (:mod:`aflab.whitebox.rundir`), does its work and writes its numbers (JSON),
figures and ``report.html`` there. The CLI (``aflab whitebox ...``) only builds the
configs from flags.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from aflab.errors import AflabUsageError
from aflab.whitebox.activations import Position
from aflab.whitebox.samples import TIER_TAG_PATTERN, LabelBy, WhiteboxSample

__all__ = ["ActivationsConfig", "DirectionConfig", "load_samples", "run_activations",
           "run_direction", "run_probe_job"]


class ActivationsConfig(BaseModel):
    """``aflab whitebox activations``: capture activations into a store."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    model: str = Field(description="aflab-local/NAME|PATH, organism/NAME or a checkpoint dir.")
    source: Literal["eval", "log", "labels", "pairs", "control"] = Field(
        "eval", description="eval: the evaluation's samples (label 1 = free tier); log: "
        "transcripts of .eval logs (--path); labels: a JSONL label file; pairs: contrast "
        "pairs; control: ordinary chat (the probe's control set).")
    path: str | None = Field(None, description="Log directory or JSONL file for the source.")
    setting: str = Field("animal_welfare", description="Evaluation setting (source eval).")
    data: str = Field("builtin", description="Queries (source eval), e.g. builtin:heldout.")
    variants: tuple[str, ...] = Field(("minimal_prompt=format",),
                                      description="Prompt variant knobs (source eval/control).")
    limit: int | None = Field(None, description="First N queries / lines.")
    label_by: LabelBy = Field("tier", description="Labels of log transcripts: tier (free=1), "
                              "af (AF reasoning yes=1) or complied.")
    control_format: Literal["plain", "input_block"] = Field(
        "plain", description="Source control: plain questions, or wrapped in the evaluation's "
        "<INPUT> block without a tier tag.")
    sites: tuple[str, ...] = Field(("blocks.*.resid_post",),
                                   description="Sites, e.g. blocks.*.resid_post, blocks.5.mlp_out.")
    position: Position = Field("last_prompt_token", description="last_prompt_token, "
                               "mean_response or every_token.")
    mask: Literal["none", "tier_tag"] = Field("none", description="tier_tag: mask the tier "
                                              "tag's tokens (textual-leakage control).")
    batch_size: int = Field(8, description="Samples per forward pass.")
    shard_samples: int = Field(256, description="Samples per safetensors shard (memory bound).")
    store_dtype: Literal["float32", "float16", "bfloat16"] = Field(
        "float32", description="Dtype of the stored activations.")
    device: str | None = Field(None, description="cpu, cuda, ... [default: the provider's].")
    dtype: Literal["float32", "bfloat16", "float16"] = Field("float32", description="Weights.")
    device_map: str | None = Field(None, description="e.g. auto: spread a large model over "
                                   "all GPUs with accelerate (loads the checkpoint directly).")
    out: str | None = Field(None, description="Run directory [default: "
                            "runs/whitebox/activations/MODEL-SOURCE].")


def load_samples(cfg: ActivationsConfig) -> list[WhiteboxSample]:
    from aflab.whitebox import samples as src

    needs_path = cfg.source in ("log", "labels", "pairs")
    if needs_path and not cfg.path:
        raise AflabUsageError(f"--source {cfg.source} needs --path (a "
                              f"{'log directory' if cfg.source == 'log' else 'JSONL file'})")
    if cfg.source == "eval":
        return src.eval_samples(cfg.setting, data=cfg.data, variants=cfg.variants,
                                limit=cfg.limit)
    if cfg.source == "log":
        found = src.log_samples(cfg.path, label_by=cfg.label_by)  # type: ignore[arg-type]
    elif cfg.source == "labels":
        found = src.label_file_samples(cfg.path)  # type: ignore[arg-type]
    elif cfg.source == "pairs":
        found = src.pair_samples(cfg.path)  # type: ignore[arg-type]
    else:
        from aflab.evaluation.prompting import render_system_prompt
        from aflab.evaluation.variants import parse_variant_specs

        system = render_system_prompt(cfg.setting,  # type: ignore[arg-type]
                                      parse_variant_specs(list(cfg.variants)))
        found = src.control_samples(system=system, path=cfg.path,
                                    input_block=cfg.control_format == "input_block")
    return found[:cfg.limit] if cfg.limit else found


def run_activations(cfg: ActivationsConfig, *, loaded: Any = None) -> Path:
    """Capture the configured samples' activations into ``RUN/activations``."""
    from aflab.whitebox.activations import capture
    from aflab.whitebox.models import load_model
    from aflab.whitebox.rundir import start_run
    from aflab.whitebox.samples import describe

    samples = load_samples(cfg)
    name = f"{cfg.model.split('/')[-1]}-{cfg.source}" + ("-masked" if cfg.mask != "none" else "")
    run_dir = start_run("activations", cfg, name=name, out=cfg.out,
                        inputs={"path": cfg.path})
    loaded = loaded or load_model(cfg.model, device=cfg.device, dtype=cfg.dtype,
                                  device_map=cfg.device_map)
    capture(loaded, samples, sites=cfg.sites, position=cfg.position,
            out_dir=run_dir / "activations",
            mask_pattern=TIER_TAG_PATTERN if cfg.mask == "tier_tag" else None,
            batch_size=cfg.batch_size, shard_samples=cfg.shard_samples,
            store_dtype=cfg.store_dtype, record={"samples": describe(samples),
                                                 "source": cfg.source})
    return run_dir


def run_probe_job(cfg: Any) -> tuple[Path, dict[str, Any]]:
    """``aflab whitebox probe``: the layer sweep into a run directory with its report."""
    from aflab.whitebox.probes import run_probe, save_result
    from aflab.whitebox.report import write_probe_report
    from aflab.whitebox.rundir import start_run

    name = Path(cfg.store).name
    run_dir = start_run("probe", cfg, name=name, out=cfg.out, seed=cfg.seed,
                        inputs={"store": cfg.store, "control": cfg.control,
                                "masked": cfg.masked, "labels": cfg.labels})
    result = run_probe(cfg)
    save_result(result, run_dir)
    write_probe_report(result, run_dir)
    return run_dir, result


class DirectionConfig(BaseModel):
    """``aflab whitebox direction``: one direction per site from a labelled store."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    store: str = Field(description="Activation store (run directory) with labels 0/1.")
    kind: Literal["diff_in_means", "probe"] = Field(
        "diff_in_means", description="diff_in_means (label 1 minus label 0) or probe weights.")
    sites: tuple[str, ...] = Field((), description="Sites [default: all in the store].")
    c: float = Field(0.1, description="Inverse regularisation of the probe (kind probe).")
    out: str | None = Field(None, description="Run directory [default: "
                            "runs/whitebox/direction/NAME].")


def run_direction(cfg: DirectionConfig) -> tuple[Path, dict[str, Any]]:
    """Write ``direction.safetensors`` and ``direction.json`` (norms, class sizes)."""
    import numpy as np

    from aflab.whitebox.directions import compute_directions, save_directions
    from aflab.whitebox.report import write_direction_report
    from aflab.whitebox.rundir import start_run
    from aflab.whitebox.store import open_store

    store = open_store(cfg.store)
    run_dir = start_run("direction", cfg, name=f"{Path(cfg.store).name}-{cfg.kind}",
                        out=cfg.out, inputs={"store": cfg.store})
    directions = compute_directions(store, kind=cfg.kind, sites=list(cfg.sites) or None, c=cfg.c)
    save_directions(directions, run_dir / "direction.safetensors")
    summary = {"kind": directions.kind, **directions.meta, "sites": [
        {"site": s, "norm": float(np.linalg.norm(v)), "ref_norm": directions.ref_norms[s],
         "relative_norm": float(np.linalg.norm(v)) / directions.ref_norms[s]}
        for s, v in directions.vectors.items()]}
    (run_dir / "direction.json").write_text(json.dumps(summary, indent=2), encoding="utf-8")
    write_direction_report(summary, run_dir)
    return run_dir, summary
