"""Registers aflab's tasks and model providers with inspect_ai (its entry point)."""

from inspect_ai.model import modelapi

from aflab.evaluation.tasks import animal_welfare, helpful_only

__all__ = ["animal_welfare", "helpful_only", "aflab_local", "organism"]


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
