"""Write stage: documents and rejects as JSONL, written atomically.

Each output file is written under a temporary name in the output folder and
renamed into place only when complete, so a reader (or a re-run after a kill)
never sees a half-written file.
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import IO, Any

from .model import Document

DOCUMENTS_FILE = "documents.jsonl"
REJECTS_FILE = "rejects.jsonl"
MANIFEST_FILE = "manifest.json"


def dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def document_record(doc: Document, provenance: dict[str, Any]) -> dict[str, Any]:
    """The output contract (documented in the README)."""
    paragraphs, offset = [], 0
    for para in doc.paragraphs:
        paragraphs.append({"start": offset, "end": offset + len(para.text),
                           "source_lines": para.source_lines, "kind": para.kind})
        offset += len(para.text) + 2
    source = {k: v for k, v in doc.source.__dict__.items()}
    return {
        "id": doc.id,
        "title": doc.title,
        "byline": doc.byline,
        "date": doc.date,
        "text": doc.text,
        "paragraphs": paragraphs,
        "comments": [
            {"id": c.id, "text": c.text, "source_lines": c.source_lines, "author": c.author,
             "date": c.date, "duplicates": c.duplicates}
            for c in doc.comments
        ],
        "source": source,
        "provenance": {**provenance, "stages": doc.stages},
    }


class AtomicJsonl:
    """Line writer to `path` via a temporary sibling; `commit()` renames it into place."""

    def __init__(self, path: Path, tag: str):
        self.path = path
        self.tmp = path.with_name(f".{path.name}.{tag}.tmp")
        self._fh: IO[str] | None = open(self.tmp, "w", encoding="utf-8", newline="\n")  # noqa: SIM115 - closed by commit/abort
        self.count = 0
        self._sha = hashlib.sha256()

    def write(self, record: dict[str, Any]) -> None:
        assert self._fh is not None
        line = dumps(record) + "\n"
        self._fh.write(line)
        self._sha.update(line.encode("utf-8"))
        self.count += 1

    def commit(self) -> dict[str, Any]:
        assert self._fh is not None
        self._fh.flush()
        os.fsync(self._fh.fileno())
        self._fh.close()
        self._fh = None
        os.replace(self.tmp, self.path)
        return {"file": self.path.name, "records": self.count, "sha256": self._sha.hexdigest()}

    def abort(self) -> None:
        if self._fh is not None:
            self._fh.close()
            self._fh = None
        self.tmp.unlink(missing_ok=True)


def write_json_atomic(path: Path, obj: Any) -> None:
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "w", encoding="utf-8") as fh:
        json.dump(obj, fh, ensure_ascii=False, indent=2, sort_keys=True)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
