"""The document record every writer produces and every filter and trainer reads (JSONL).

A :class:`Document` carries its text and its provenance: the universe, the fact ids it
states, its type and idea, the writer (``template`` or an Inspect model name) and seed.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Iterable

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from aflab.errors import AflabUsageError

__all__ = ["Document", "read_documents", "write_documents"]


class Document(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")

    id: str
    universe: str
    facts: tuple[str, ...] = Field(description="Key-fact ids the document states.")
    doc_type: str
    idea: str = ""
    text: str
    writer: str = "template"
    provenance: dict[str, Any] = Field(default_factory=dict)

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.text.encode()).hexdigest()


def write_documents(docs: Iterable[Document], path: str | Path) -> Path:
    """Write documents as JSONL (atomically: a temporary file renamed into place)."""
    out = Path(path)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(out.suffix + ".tmp")
    with tmp.open("w", encoding="utf-8") as fh:
        for doc in docs:
            fh.write(doc.model_dump_json() + "\n")
    tmp.replace(out)
    return out


def read_documents(path: str | Path) -> list[Document]:
    """Read a documents JSONL file; a malformed line is a one-line error naming it."""
    file = Path(path)
    if not file.is_file():
        raise AflabUsageError(f"{file}: no such documents file")
    docs = []
    for n, line in enumerate(file.read_text(encoding="utf-8").splitlines(), 1):
        if not line.strip():
            continue
        try:
            docs.append(Document.model_validate(json.loads(line)))
        except (json.JSONDecodeError, ValidationError) as err:
            first = str(err).splitlines()[0]
            raise AflabUsageError(f"{file}:{n}: not a document record ({first})") from None
    return docs
