"""Registers aflab's tasks, scorers and model providers with inspect_ai (its entry point).

Inspect records a scorer in a log by its unqualified name (``compliance_scorer``) and
``inspect score LOG`` looks it up by that name, which finds only objects registered
without a package prefix. So the two scorers are also registered under their
unqualified names here (Inspect loads this entry point at start-up): plain
``inspect score`` then rescores a log of `aflab run` or `inspect eval aflab/...`.
"""

import functools
from typing import Any

from inspect_ai._util.registry import (  # no public API for an alias
    RegistryInfo,
    registry_add,
    registry_info,
    registry_lookup,
    registry_unqualified_name,
)
from inspect_ai.model import modelapi
from inspect_ai.scorer import Scorer

from aflab.classifiers.af_reasoning import af_reasoning_scorer
from aflab.classifiers.compliance import compliance_scorer
from aflab.evaluation.tasks import animal_welfare, helpful_only
from aflab.generalisation.tasks import anti_lab, exfiltration, views

__all__ = ["animal_welfare", "helpful_only", "anti_lab", "exfiltration", "views", "aflab_local",
           "organism"]


@modelapi(name="aflab-local")
def aflab_local() -> type:
    """Local transformers checkpoints (and the embedded model as ``aflab-local/smollm2``)."""
    from aflab.models.local_provider import LocalModelAPI

    return LocalModelAPI


@modelapi(name="organism")
def organism() -> type:
    """Model organisms by name (``organism/smollm2-af``): base model + adapter + hidden prompt."""
    from aflab.organisms.provider import OrganismModelAPI

    return OrganismModelAPI


def _alias_unqualified(factory: Any) -> None:
    """Register scorer ``factory`` under its name without the ``aflab/`` prefix."""
    info = registry_info(factory)
    name = registry_unqualified_name(info)
    if registry_lookup("scorer", name) is not None:
        return

    @functools.wraps(factory)
    def alias(*args: Any, **kwargs: Any) -> Scorer:
        return factory(*args, **kwargs)

    registry_add(alias, RegistryInfo(type="scorer", name=name, metadata=info.metadata))


for _factory in (compliance_scorer, af_reasoning_scorer):
    _alias_unqualified(_factory)
