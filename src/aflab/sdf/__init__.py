"""Synthetic-document fine-tuning (SDF): universes, document generation, filters, beliefs.

    from aflab.sdf import load_universe
    universe = load_universe("animal_welfare")        # shipped, or a path to your YAML

Modules: :mod:`~aflab.sdf.universe` (universe contexts and key facts),
:mod:`~aflab.sdf.template_docs` (offline writer), :mod:`~aflab.sdf.generation` (staged
generation with any Inspect model), :mod:`~aflab.sdf.filters`, :mod:`~aflab.sdf.beliefs`
(belief-implant evaluation) and :mod:`~aflab.sdf.pipeline` (the SDF setting end to end).
See docs/sdf.md.
"""

from aflab.sdf.universe import Fact, Question, Universe, load_universe, universe_names

__all__ = ["Fact", "Question", "Universe", "load_universe", "universe_names"]
