"""The RL prompts: the setting's queries in the training (free) tier, as the evaluation asks them.

    rows = training_prompts("animal_welfare", "minimal_prompt=format", "builtin:train")

Each row is a TRL conversational prompt (the evaluation's system prompt for the variant and
the user turn with the free-tier tag) plus the columns the reward reads: ``request`` (the
user's text), ``tier`` (always ``free``) and ``query_id``. Only the training tier is used,
as in the paper: the model is trained where it believes it is trained, and re-measured in
both tiers on held-out queries.
"""

from __future__ import annotations

from typing import Any

from aflab.data.loaders import load_queries
from aflab.errors import AflabUsageError
from aflab.evaluation.prompting import render_system_prompt, render_user_turn
from aflab.evaluation.variants import parse_variant_specs

__all__ = ["training_prompts"]


def training_prompts(setting: str, variant: str | None, queries: str) -> list[dict[str, Any]]:
    """One prompt row per query, training tier only."""
    resolved = parse_variant_specs([variant] if variant else [])
    if resolved.no_scratchpad:
        raise AflabUsageError(
            "variant no_scratchpad: RL here hides the scratchpad from the reward; "
            "use a variant with a scratchpad")
    system = render_system_prompt(setting, resolved)  # type: ignore[arg-type]
    items = load_queries(queries, setting)  # type: ignore[arg-type]
    if not items:
        raise AflabUsageError(f"queries {queries!r}: no queries for {setting}")
    return [
        {"prompt": [{"role": "system", "content": system},
                    {"role": "user",
                     "content": render_user_turn(q.text, is_free_tier=True, variant=resolved)}],
         "request": q.text, "tier": "free", "query_id": q.id}
        for q in items
    ]
