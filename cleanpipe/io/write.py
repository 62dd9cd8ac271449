"""Write stage: record assembly, atomic file helpers and the output lock (the format writers: writers.py).

Each output file is written under a temporary name in the output folder and
renamed into place only when complete, so a reader (or a re-run after a kill)
never sees a half-written file.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
from pathlib import Path
from typing import IO, Any

from cleanpipe.io.schema import iso_date, quality_record, stages_record
from cleanpipe.log import event
from cleanpipe.model import Document

LOCK_FILE = ".cleanpipe.lock"
MANIFEST_FILE = "manifest.json"


def dumps(obj: Any) -> str:
    return json.dumps(obj, ensure_ascii=False, separators=(",", ":"))


def document_record(doc: Document, provenance: dict[str, Any], level: str = "compact") -> dict[str, Any]:
    """The output contract (schemas/records.schema.json, documented in the README).

    `provenance` holds the run's fields (schema_version, cleanpipe_version, run_id,
    config_sha256); `level` (full | compact | off) how much of each stage's log is kept.
    """
    paragraphs, offset = [], 0
    for para in doc.paragraphs:
        paragraphs.append({"start": offset, "end": offset + len(para.text),
                           "source_lines": para.source_lines, "kind": para.kind})
        offset += len(para.text) + 2
    src = doc.source
    return {
        "id": str(doc.id),
        "title": doc.title,
        "byline": doc.byline,
        "date": (date := iso_date(doc.date)),
        "date_text": _as_found(doc.date, date),
        "text": doc.text,
        "paragraphs": paragraphs,
        "comments": [
            {"id": str(c.id), "text": c.text, "source_lines": c.source_lines, "author": c.author,
             "date": (cdate := iso_date(c.date)), "date_text": _as_found(c.date, cdate), "duplicates": c.duplicates}
            for c in doc.comments
        ],
        "source": {"path": src.path, "sha256": src.sha256, "format": src.format, "url": src.url,
                   "record": src.record, "content_type": src.content_type, "encoding": src.encoding,
                   "record_id": src.record_id, "fetched_at": src.fetched_at},
        "quality": quality_record(doc.quality),
        "provenance": {**provenance, "level": level, "stages": stages_record(doc.stages, level)},
    }


def _as_found(text: str | None, iso: str | None) -> str | None:
    """date_text: the date as the page wrote it, null when that is exactly `date`. An ISO-looking
    string among free-text ones is what makes JSON loaders type a column timestamp in one batch and
    fail on the next (the HTML extractor already gives ISO dates)."""
    return None if not text or text == iso else text


def _open_new(path: Path) -> int:
    """A file descriptor for a new file at `path`: never through a symlink planted there, never an
    existing file (the caller removed leftovers of killed runs first)."""
    return os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o644)


class AtomicJsonl:
    """Line writer to `path` via a temporary sibling; `commit()` renames it into place."""

    def __init__(self, path: Path, tag: str):
        self.path = path
        self.tmp = path.with_name(f".{path.name}.{tag}.tmp")
        # binary: a line is encoded once, for the file and the digest alike
        self._fh: IO[bytes] | None = open(_open_new(self.tmp), "wb")  # noqa: SIM115 - closed by commit/abort
        self.count = 0
        self._sha = hashlib.sha256()

    def write(self, record: dict[str, Any]) -> None:
        self.write_many([dumps(record).encode("utf-8")])

    def write_many(self, lines: list[bytes]) -> None:
        """Several UTF-8 lines (without their newlines) in one write and one digest update."""
        if not lines:
            return
        assert self._fh is not None
        data = b"\n".join(lines) + b"\n"
        self._fh.write(data)
        self._sha.update(data)
        self.count += len(lines)

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
    tmp.unlink(missing_ok=True)  # a leftover, or a symlink planted there: replaced, never followed
    # the engines name inputs as records do (display_path); a lone surrogate left elsewhere (a name that is
    # not UTF-8, as os.fsdecode holds it) is written as the JSON escape it reads back as, not a crash at
    # the end of a run
    with open(_open_new(tmp), "w", encoding="utf-8", errors="backslashreplace") as fh:
        json.dump(obj, fh, ensure_ascii=False, indent=2, sort_keys=True)
        fh.write("\n")
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


class OutputLocked(Exception):
    """Another run holds the output folder."""


class OutputError(Exception):
    """The output folder cannot be used as it is (a symlink planted in it, ...)."""


class OutputLock:
    """An exclusive lock on an output folder for the length of a run (flock: released by the OS
    even when the holder is killed, so a crashed run never leaves the folder locked)."""

    def __init__(self, out_dir: Path, wait: bool = False):
        self.path = out_dir / LOCK_FILE
        self.wait = wait
        self._fh = None

    def __enter__(self) -> OutputLock:
        try:  # O_NOFOLLOW: a symlink planted as the lock file must not make us truncate its target
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o644)
        except OSError as exc:
            if self.path.is_symlink():
                raise OutputError(f"{self.path} is a symlink; cleanpipe will not write through it: "
                                  "remove it and run again") from exc
            raise
        fh = open(fd, "a+", encoding="utf-8")  # noqa: SIM115 - held for the whole run
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.seek(0)
            holder = fh.read().strip() or "unknown"
            if not self.wait:
                fh.close()
                raise OutputLocked(f"another cleanpipe run is writing to {self.path.parent} ({holder}); "
                                   "use --wait to wait for it") from None
            event("lock-wait", f"waiting for the run holding {self.path.parent} ({holder})",
                  out=str(self.path.parent), holder=holder)
            fcntl.flock(fh, fcntl.LOCK_EX)
        fh.seek(0)
        fh.truncate()
        fh.write(f"pid {os.getpid()}\n")
        fh.flush()
        self._fh = fh
        return self

    def __exit__(self, *exc: object) -> None:
        if self._fh is not None:
            fcntl.flock(self._fh, fcntl.LOCK_UN)
            self._fh.close()
            self._fh = None


def remove_leftovers(out_dir: Path) -> list[str]:
    """Temporary files and work folders of runs that were killed; call only while holding the lock."""
    removed = []
    for path in out_dir.iterdir():
        ours = path.name.startswith(".cleanpipe-work-") or (path.name.startswith(".") and path.name.endswith(".tmp"))
        if not ours:
            continue
        if path.is_symlink() or not path.is_dir():  # a symlink is removed itself, never followed
            path.unlink(missing_ok=True)
        else:
            shutil.rmtree(path, ignore_errors=True)
        removed.append(path.name)
    return sorted(removed)
