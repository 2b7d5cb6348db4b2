"""Model organisms: cards, the registry, implants (prompt, transcripts) and the trainer.

An organism is a base model plus an implant (a hidden system prompt, or a LoRA adapter
trained on behaviour transcripts) plus a card. Every organism is the Inspect model
``organism/NAME``. Modules:

- :mod:`.card` the card; :mod:`.registry` built-in and user organisms, atomic installs;
- :mod:`.spec` behaviour specs (YAML knobs); :mod:`.template_writer` and
  :mod:`.model_writer` the two transcript writers; :mod:`.transcripts` the data format;
- :mod:`.trainer` LoRA SFT with TRL; :mod:`.build` spec -> organism;
- :mod:`.provider` the ``organism/NAME`` model provider (adapter, hidden prompt);
- :mod:`.evaluate` held-out evaluation that records measured behaviour in the card.
See docs/organisms.md.
"""

from __future__ import annotations

from aflab.organisms.card import OrganismCard, load_card
from aflab.organisms.registry import Organism, get_organism, list_organisms, model_name

__all__ = ["Organism", "OrganismCard", "get_organism", "list_organisms", "load_card",
           "model_name"]
