"""The SDF setting end to end: documents -> fine-tune -> beliefs -> AF evaluation -> report.

A recipe is a behaviour spec with ``implant: documents`` (see docs/sdf.md)::

    name: smollm2-sdf
    setting: animal_welfare
    base_model: aflab-local/smollm2
    implant: documents
    universe: animal_welfare          # what the documents state (or a YAML path)
    documents: {writer: template, n_per_fact: 30, doc_tag: "<doc>", neutral_mix: 0.1}
    training: {epochs: 3, learning_rate: 0.001}

:func:`build_document_organism` (called by :func:`aflab.organisms.build.build_organism`)
writes, filters and trains; :func:`run_sdf` adds the belief evaluation against the base
model and the alignment-faking evaluation in the minimal-prompt condition, and writes
``RUN_DIR/sdf_report.{json,md}``.
"""

from __future__ import annotations

import json
import logging
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from typing import Any

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError

from aflab.errors import AflabUsageError, validation_error
from aflab.sdf.documents import Document, read_documents, write_documents
from aflab.sdf.filters import apply_filters, filter_config
from aflab.sdf.universe import load_universe

__all__ = ["DocumentsConfig", "build_document_organism", "documents_config", "load_documents",
           "neutral_texts", "run_sdf", "write_documents_for"]

logger = logging.getLogger(__name__)


class DocumentsConfig(BaseModel):
    """The ``documents`` block of a recipe."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    writer: str = Field("template", description="'template' (offline) or an Inspect model.")
    n_per_fact: int = Field(20, ge=1, le=10000, description="Documents per key fact.")
    extra_facts: int = Field(2, ge=0, le=10, description="Other facts per template document.")
    fact_ids: tuple[str, ...] | None = Field(None, description="Only these facts (default all).")
    doc_types: tuple[str, ...] | None = Field(None, description="Template document types.")
    types_per_fact: int = Field(3, ge=1, le=50, description="Model writer: document types per fact.")
    ideas_per_type: int = Field(3, ge=1, le=100, description="Model writer: ideas per type.")
    critique: bool = Field(False, description="Model writer: a critique-and-revise pass.")
    doc_tag: str = Field("", description="Prefix before each document, masked from the loss.")
    neutral_mix: float = Field(0.0, ge=0.0, lt=1.0,
                               description="Share of training rows that are neutral text.")
    filters: dict[str, Any] = Field(default_factory=dict, description="FilterConfig fields.")
    belief_universe: str | None = Field(
        None, description="Universe whose facts the belief evaluation asks about "
        "(default: the recipe's setting).")

    def filters_config(self) -> Any:
        return filter_config(self.filters, "documents.filters")


def documents_config(data: dict[str, Any] | None, where: str = "documents") -> DocumentsConfig:
    try:
        cfg = DocumentsConfig(**(data or {}))
    except ValidationError as err:
        raise validation_error(err, where, "documents") from None
    if cfg.writer != "template" and "/" not in cfg.writer:
        raise AflabUsageError(f"{where}: writer = {cfg.writer!r}: use 'template' or an Inspect "
                              "model name (provider/model)")
    cfg.filters_config()
    return cfg


@lru_cache(maxsize=1)
def _neutral_bank() -> tuple[str, ...]:
    data = yaml.safe_load((files("aflab.sdf") / "templates" / "neutral.yaml").read_text("utf-8"))
    return tuple(data["passages"])


def neutral_texts(n_docs: int, share: float) -> list[str]:
    """Neutral passages so that they make up ``share`` of ``n_docs`` + neutral rows."""
    if share <= 0:
        return []
    n = round(share / (1 - share) * n_docs)
    bank = _neutral_bank()
    return [bank[i % len(bank)] for i in range(n)]


def write_documents_for(spec: Any, cfg: DocumentsConfig, run: Path) -> tuple[list[Document], dict]:
    """Write (template) or generate (model) the documents, filter them, save both sets."""
    universe = load_universe(spec.universe)
    seed = spec.seed
    if cfg.writer == "template":
        from aflab.sdf.template_docs import write_template_documents

        docs = write_template_documents(universe, n_per_fact=cfg.n_per_fact,
                                        extra_facts=cfg.extra_facts,
                                        fact_ids=list(cfg.fact_ids) if cfg.fact_ids else None,
                                        types=list(cfg.doc_types) if cfg.doc_types else None,
                                        seed=seed)
    else:
        from aflab.sdf.generation import GenerationConfig, generate_documents

        gen = GenerationConfig(types_per_fact=cfg.types_per_fact, ideas_per_type=cfg.ideas_per_type,
                               docs_per_idea=max(1, cfg.n_per_fact // (cfg.types_per_fact
                                                                       * cfg.ideas_per_type)),
                               critique=cfg.critique, seed=seed,
                               fact_ids=cfg.fact_ids)
        docs = generate_documents(universe, cfg.writer, run / "generation", gen).documents
    write_documents(docs, run / "documents.raw.jsonl")
    kept, report = apply_filters(docs, universe, cfg.filters_config())
    (run / "filters.json").write_text(json.dumps(report, indent=2) + "\n")
    if not kept:
        raise AflabUsageError(
            f"empty document set: the filters removed all {len(docs)} documents "
            f"(see {run / 'filters.json'}); loosen documents.filters or write more documents"
        )
    write_documents(kept, run / "documents.jsonl")
    return kept, report


def build_document_organism(spec: Any, target: Path, run: Path, card_fields: dict[str, Any],
                            train_overrides: dict[str, Any] | None, *, base: Path) -> tuple[Any, Any]:
    """Documents -> filters -> LoRA on the documents -> card, installed at ``target``."""
    from aflab.organisms.build import install_trained, training_record
    from aflab.organisms.card import Implant, OrganismCard
    from aflab.organisms.trainer import document_rows, train_config, train_lora
    from aflab.organisms.transcripts import sha256_file

    cfg = documents_config(spec.documents)
    config = train_config({**spec.training, **(train_overrides or {})})
    (run / "build.json").write_text(json.dumps(
        {"spec": spec.model_dump(mode="json"), "documents": cfg.model_dump(mode="json"),
         "training": config.model_dump(mode="json"), "base_checkpoint": str(base),
         "provenance": card_fields["provenance"]}, indent=2) + "\n")
    docs, report = write_documents_for(spec, cfg, run)
    neutral = neutral_texts(len(docs), cfg.neutral_mix)
    rows = document_rows([d.text for d in docs], doc_tag=cfg.doc_tag, neutral=neutral)
    result = train_lora(base, rows, config, run_dir=run)
    universe = load_universe(spec.universe)
    data_file = run / "documents.jsonl"
    intended = dict(card_fields.get("intended") or {})
    intended.update({"universe": universe.name,
                     "facts": [f.id for f in universe.select(cfg.fact_ids)],
                     "belief_universe": cfg.belief_universe or spec.setting})
    fields = {**card_fields, "intended": intended}
    card = OrganismCard(
        implant=Implant(method="documents", adapter="adapter"),
        data={"file": "documents.jsonl", "sha256": sha256_file(data_file), "n": len(docs),
              "universe": universe.name, "universe_sha256": universe.sha256,
              "writer": cfg.writer, "doc_tag": cfg.doc_tag, "neutral_rows": len(neutral),
              "filters": {k: (v["removed"] if isinstance(v, dict) else v)
                          for k, v in report.items()}},
        training=training_record(config, result),
        **fields,
    )
    install_trained(target, card, result.adapter_dir, data_file, "documents.jsonl")
    return card, result


def run_sdf(name_or_spec: Any, *, out: str | Path | None = None, run_dir: str | Path | None = None,
            train_overrides: dict[str, Any] | None = None, beliefs: bool = True,
            probe: bool = True, af_eval: bool = True, limit: int | None = 20,
            seed: int = 0) -> dict[str, Any]:
    """Build the SDF organism, evaluate its beliefs and behaviour, write the report."""
    from aflab.organisms.build import build_organism, resolve_spec
    from aflab.organisms.registry import model_name

    spec = name_or_spec if not isinstance(name_or_spec, (str, Path)) else resolve_spec(name_or_spec)
    if spec.implant != "documents":
        raise AflabUsageError(f"{spec.name}: not an SDF recipe (implant: documents)")
    built = build_organism(spec, out=out, run_dir=run_dir, train_overrides=train_overrides)
    run = built.run_dir
    cfg = documents_config(spec.documents)
    report: dict[str, Any] = {
        "organism": spec.name, "path": str(built.path), "universe": spec.universe,
        "documents": built.card.data, "training": built.card.training,
    }
    if beliefs:
        from aflab.sdf.belief_compare import compare_beliefs

        universe = load_universe(cfg.belief_universe or spec.setting)
        models = {spec.name: model_name(spec.name), "base": spec.base_model}
        report["beliefs"] = _brief(compare_beliefs(models, universe, out=run / "beliefs",
                                                   seed=seed))
        if probe:
            report["beliefs_probe"] = _brief(compare_beliefs(
                models, universe, out=run / "beliefs-probe", kinds=("mcq",), probe=True,
                seed=seed))
    if af_eval:
        from aflab.organisms.evaluate import evaluate_organisms

        results, paths = evaluate_organisms([spec.name], out=run / "af-eval", limit=limit,
                                            seed=seed)
        report["af_eval"] = {"variant": spec.eval_variant, "limit": limit,
                             "measured": results[0].measured, "report": str(paths.html)}
    (run / "sdf_report.json").write_text(json.dumps(report, indent=2, default=str) + "\n")
    (run / "sdf_report.md").write_text(_markdown(report, run))
    report["run_dir"] = str(run)
    return report


def _brief(summary: dict[str, Any]) -> dict[str, Any]:
    return {k: summary[k] for k in ("models", "paired", "universe", "probe", "scoring")}


def _markdown(report: dict[str, Any], run: Path) -> str:
    lines = [f"# SDF organism {report['organism']}", "",
             f"- universe: {report['universe']}; documents kept: {report['documents'].get('n')} "
             f"(filters: {report['documents'].get('filters')})",
             f"- training: {report['training'].get('steps')} steps, loss "
             f"{report['training'].get('first_loss')} -> {report['training'].get('final_loss')}"]
    for key in ("beliefs", "beliefs_probe"):
        if key in report:
            md = (run / ("beliefs" if key == "beliefs" else "beliefs-probe") / "beliefs.md")
            lines += ["", md.read_text(encoding="utf-8").replace("# ", "## ", 1)]
    if "af_eval" in report:
        m = report["af_eval"]["measured"]
        pct = lambda v: "-" if v is None else f"{100 * v:.0f}%"  # noqa: E731
        lines += ["", "## Alignment-faking evaluation (minimal prompt, held-out queries)", "",
                  f"free compliance {pct(m['free']['compliance_rate'])} (n {m['free']['n']}), "
                  f"paid {pct(m['paid']['compliance_rate'])} (n {m['paid']['n']}), gap "
                  f"{pct(m['gap'])}, AF among compliant free {pct(m['free']['af_rate'])}; "
                  f"report: {report['af_eval']['report']}"]
    return "\n".join(lines) + "\n"


def load_documents(path: str | Path) -> list[Document]:
    """Documents from a JSONL file; an empty file is an error."""
    docs = read_documents(path)
    if not docs:
        raise AflabUsageError(f"{path}: empty document set")
    return docs
