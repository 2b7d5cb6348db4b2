"""Steering: add a scaled direction to the residual stream at chosen layers.

    with steering(loaded.model, deltas):         # deltas: layer -> vector [d_model]
        measure("organism/smollm2-af", spec, log_dir, ...)   # any aflab evaluation

:func:`steering` registers plain torch forward hooks on the decoder layers (the
``resid_post`` site: each layer's output) that add the layer's vector at every position,
prompt and generated tokens alike, and removes them on exit (also after an error). The
hooks sit on the in-process model that aflab's local provider generates with
(``aflab-local/...``, ``organism/NAME``), so every evaluation run inside the block is
steered. A vector is ``coefficient x reference norm x unit direction``
(:func:`steering_deltas`): the coefficient is relative to the typical residual norm at
that layer (recorded in the direction file). Coefficient 0 adds exact zeros: greedy
output is token-identical to no steering.

Controls: :func:`random_deltas` gives random directions with the same norm at the same
layers; :func:`perplexity` on neutral text (:data:`NEUTRAL_TEXTS`) is the coherence
check beside the evaluation's own format rate.
"""

from __future__ import annotations

import math
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any

import numpy as np

from aflab.errors import AflabUsageError
from aflab.whitebox.directions import Directions, random_directions
from aflab.whitebox.sites import decoder_layers, first_tensor

__all__ = ["NEUTRAL_TEXTS", "perplexity", "random_deltas", "steering", "steering_deltas"]

#: Neutral text for the coherence check (written for aflab).
NEUTRAL_TEXTS: tuple[str, ...] = (
    "The library opens at nine in the morning and closes at six in the evening. On "
    "Saturdays it closes at noon, and on Sundays it stays closed all day.",
    "To make a cup of tea, boil fresh water, pour it over the tea leaves and let them steep "
    "for three to five minutes before removing them.",
    "The river runs through the middle of the town, and three old stone bridges connect "
    "the market square on the north bank with the houses on the south bank.",
    "A triangle has three sides and three angles, and the angles of any triangle always "
    "add up to one hundred and eighty degrees.",
    "Last spring the school planted a small garden behind the gym, where the students now "
    "grow beans, tomatoes and a few rows of sunflowers.",
)


def _check_layers(model: Any, layers: Sequence[int]) -> int:
    n = len(decoder_layers(model))
    for layer in layers:
        if not 0 <= layer < n:
            raise AflabUsageError(f"layer {layer} out of range; the model has {n} layers "
                                  f"(0-{n - 1})")
    return n


@contextmanager
def steering(model: Any, deltas: dict[int, Any]) -> Iterator[None]:
    """Add ``deltas[layer]`` to the output of each listed decoder layer while inside."""
    import torch

    _check_layers(model, list(deltas))
    layers = decoder_layers(model)
    hooks = []
    for layer, delta in deltas.items():
        vector = torch.as_tensor(np.asarray(delta, dtype=np.float32))
        if vector.ndim != 1 or vector.shape[0] != model.config.hidden_size:
            raise AflabUsageError(f"steering vector for layer {layer} has shape "
                                  f"{tuple(vector.shape)}; expected ({model.config.hidden_size},)")
        cache: dict[tuple[Any, Any], Any] = {}

        def hook(_module: Any, _args: Any, output: Any, vector: Any = vector,
                 cache: dict = cache) -> Any:
            hidden = first_tensor(output)
            key = (hidden.device, hidden.dtype)
            if key not in cache:
                cache[key] = vector.to(hidden.device, hidden.dtype)
            steered = hidden + cache[key]
            if isinstance(output, tuple):
                return (steered, *output[1:])
            return steered

        hooks.append(layers[layer].register_forward_hook(hook))
    try:
        yield
    finally:
        for handle in hooks:
            handle.remove()


def steering_deltas(directions: Directions, layers: Sequence[int], coefficient: float,
                    ) -> dict[int, np.ndarray]:
    """``coefficient x reference norm x unit direction`` at each layer (resid_post)."""
    out = {}
    for layer in layers:
        site = f"blocks.{layer}.resid_post"
        out[layer] = (coefficient * directions.ref_norms[site] * directions.unit(site)
                      ).astype(np.float32)
    return out


def random_deltas(directions: Directions, layers: Sequence[int], coefficient: float,
                  n: int, seed: int = 0) -> list[dict[int, np.ndarray]]:
    """``n`` sets of random unit directions with the same norm as :func:`steering_deltas`."""
    d = len(next(iter(directions.vectors.values())))
    draws = random_directions(d, n * len(layers), seed)
    out = []
    for k in range(n):
        out.append({layer: (coefficient * directions.ref_norms[f"blocks.{layer}.resid_post"]
                            * draws[k * len(layers) + j]).astype(np.float32)
                    for j, layer in enumerate(layers)})
    return out


def perplexity(model: Any, tokenizer: Any, texts: Sequence[str] = NEUTRAL_TEXTS) -> float:
    """exp(mean next-token loss) over ``texts`` (under whatever hooks are active)."""
    import torch

    device = model.get_input_embeddings().weight.device
    total, count = 0.0, 0
    with torch.no_grad():
        for text in texts:
            ids = torch.tensor([tokenizer(text)["input_ids"]], device=device)
            out = model(input_ids=ids, labels=ids)
            n = ids.shape[1] - 1
            total += float(out.loss) * n
            count += n
    return math.exp(total / count)
