"""The sealed answer key: encrypted with the red team's passphrase, committed by SHA-256.

The key's plaintext is canonical JSON (sorted keys) holding which anonymous id is which
member, its role and what it hides, a manifest hash of the game's organism files, and a
secret nonce (so the commitment cannot be brute-forced over the few possible keys). It is
encrypted with AES-256-GCM under a key derived from the passphrase with scrypt (the
``cryptography`` package); the SHA-256 of the plaintext is published in ``game.json`` as
the **commitment**. Opening checks three things, each a one-line error: the passphrase
(and the ciphertext's integrity), the commitment (a key changed after publication is
refused) and the manifest (organism files changed after the build are refused).
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import json
import os
from pathlib import Path
from typing import Any

from aflab.errors import AflabUsageError

__all__ = ["KEY_FILE", "canonical", "commitment_of", "derive_nonce", "open_key", "seal_key"]

KEY_FILE = "key.sealed"
FORMAT = "aflab-audit-key/1"
_AAD = b"aflab audit answer key v1"
_SCRYPT = {"n": 2**14, "r": 8, "p": 1}


def canonical(data: dict[str, Any]) -> bytes:
    return json.dumps(data, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def commitment_of(plaintext: bytes) -> str:
    return hashlib.sha256(plaintext).hexdigest()


def derive_nonce(passphrase: str, context: str) -> str:
    """A secret nonce, deterministic given the passphrase and the game (so builds repeat)."""
    return hmac.new(passphrase.encode(), context.encode(), hashlib.sha256).hexdigest()


def _aes_key(passphrase: str, salt: bytes, params: dict[str, int]) -> bytes:
    from cryptography.hazmat.primitives.kdf.scrypt import Scrypt

    return Scrypt(salt=salt, length=32, **params).derive(passphrase.encode())


def seal_key(key: dict[str, Any], passphrase: str, path: str | Path) -> str:
    """Encrypt ``key`` to ``path``; return its commitment (SHA-256 of the plaintext)."""
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    if len(passphrase) < 8:
        raise AflabUsageError("passphrase: use at least 8 characters")
    plaintext = canonical(key)
    salt, nonce = os.urandom(16), os.urandom(12)
    ciphertext = AESGCM(_aes_key(passphrase, salt, _SCRYPT)).encrypt(nonce, plaintext, _AAD)
    b64 = lambda b: base64.b64encode(b).decode()  # noqa: E731
    Path(path).write_text(json.dumps({"format": FORMAT, "kdf": {"name": "scrypt", **_SCRYPT},
                                      "cipher": "AES-256-GCM", "salt": b64(salt),
                                      "nonce": b64(nonce), "ciphertext": b64(ciphertext)},
                                     indent=2) + "\n", encoding="utf-8")
    return commitment_of(plaintext)


def open_key(path: str | Path, passphrase: str, commitment: str) -> dict[str, Any]:
    """Decrypt the key at ``path`` and check it against ``commitment``."""
    from cryptography.exceptions import InvalidTag
    from cryptography.hazmat.primitives.ciphers.aead import AESGCM

    file = Path(path)
    if not file.is_file():
        raise AflabUsageError(f"{file}: no sealed key there")
    try:
        sealed = json.loads(file.read_text(encoding="utf-8"))
        if sealed.get("format") != FORMAT:
            raise ValueError(f"format {sealed.get('format')!r}")
        kdf = {k: int(sealed["kdf"][k]) for k in ("n", "r", "p")}
        salt, nonce, ciphertext = (base64.b64decode(sealed[k], validate=True)
                                   for k in ("salt", "nonce", "ciphertext"))
    except (ValueError, KeyError, TypeError, AttributeError) as err:
        raise AflabUsageError(f"{file}: not a sealed aflab key ({err}); it was damaged or "
                              "replaced") from None
    try:
        plaintext = AESGCM(_aes_key(passphrase, salt, kdf)).decrypt(nonce, ciphertext, _AAD)
    except (InvalidTag, ValueError):
        raise AflabUsageError(f"{file}: wrong passphrase, or the sealed key was tampered "
                              "with; nothing was scored") from None
    found = commitment_of(plaintext)
    if not hmac.compare_digest(found, commitment.lower()):
        raise AflabUsageError(
            f"{file}: the key's SHA-256 {found[:16]}... does not match the published "
            f"commitment {commitment[:16]}...; the key changed after it was committed, so "
            "score refuses it")
    return json.loads(plaintext)
