"""Run state in SQLite: every input's stripped documents, so a re-run strips only what changed.

A nightly run over a growing folder reads this to skip the expensive per-page
work (read, strip, split comments) for inputs it has already processed: same
path, same content hash, same config hash. Their documents and rejects come
from the store instead, and everything corpus-wide (comment dedup, site
repeats, names) is done again over the whole run, so an incremental run's
records are those of a full run over the same inputs by construction: a
changed input's old comments cannot linger in the dedup index, a copy of an
input under a new name is the same duplicate it is in a full run, and the
records never depend on what happens to the previous output.

New items are written to a staging table while the run goes; `commit_run`
swaps them in, in one transaction, after the outputs are in place: a run killed
before that commit is never half-recorded. What it had staged is not thrown
away, though: the items of records it finished are kept as `partial` for that
input (path and content hash), and the next run passes them on instead of
processing those records again, so a run killed inside a 1 GB WARC redoes only
what was not staged yet (the last STAGE_SECONDS, or STAGE_BATCH items, at most).
An input finished with a page that timed out or crashed its worker is kept the
same way: the next run processes only those pages again.
"""

from __future__ import annotations

import json
import sqlite3
import time
import zlib
from collections import Counter
from collections.abc import Iterator, Mapping
from dataclasses import asdict
from pathlib import Path

from cleanpipe.model import RETRIED_REASONS, Document, Reject

SCHEMA_VERSION = "2"
SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS inputs (path TEXT PRIMARY KEY, sha256 TEXT NOT NULL, run_id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS items (path TEXT NOT NULL, seq INTEGER NOT NULL, data BLOB NOT NULL,
                                  PRIMARY KEY (path, seq));
CREATE TABLE IF NOT EXISTS staged (run_id TEXT NOT NULL, path TEXT NOT NULL, seq INTEGER NOT NULL,
                                   data BLOB NOT NULL, PRIMARY KEY (run_id, path, seq));
CREATE TABLE IF NOT EXISTS staged_inputs (run_id TEXT NOT NULL, path TEXT NOT NULL, sha256 TEXT NOT NULL,
                                          PRIMARY KEY (run_id, path));
CREATE TABLE IF NOT EXISTS begun (run_id TEXT NOT NULL, path TEXT NOT NULL, sha256 TEXT NOT NULL,
                                  PRIMARY KEY (run_id, path));
CREATE TABLE IF NOT EXISTS partial (path TEXT NOT NULL, sha256 TEXT NOT NULL, record INTEGER NOT NULL,
                                    n INTEGER NOT NULL, data BLOB NOT NULL, PRIMARY KEY (path, record, n));
"""
STATE_FILE = "state.sqlite"
STAGE_BATCH = 256  # staged rows per transaction while a run goes
STAGE_SECONDS = 5.0  # ... or fewer, at least this often: what a killed run loses is bounded in time too


class StateError(Exception):
    """The state store cannot be used (corrupt, not a folder, not writable)."""


def _pack(item: Document | Reject) -> bytes:
    body = {"document": item.to_dict()} if isinstance(item, Document) else {"reject": asdict(item)}
    return zlib.compress(json.dumps(body, ensure_ascii=False).encode("utf-8"), 3)


def _unpack(blob: bytes) -> Document | Reject:
    body = json.loads(zlib.decompress(blob))
    if "document" in body:
        return Document.from_dict(body["document"])
    return Reject(**body["reject"])


def _replayable_record(item: Document | Reject) -> int | None:
    """The record index an item stands for when a later run may pass it on instead of processing
    that record again; None for whole-file items and for pages that should be tried again."""
    if isinstance(item, Document):
        return item.source.record
    if item.reason in RETRIED_REASONS or item.kind == "input":
        return None
    return item.record


class StateStore:
    """The store in `state_dir`; raises StateError when it cannot be used."""

    def __init__(self, state_dir: Path):
        self.path = state_dir / STATE_FILE
        try:
            state_dir.mkdir(parents=True, exist_ok=True)
            self.db = sqlite3.connect(self.path)
        except (OSError, sqlite3.Error) as exc:
            raise StateError(f"the state store {self.path} cannot be opened ({exc}); run again with --force "
                             "to rebuild it, or with --no-state") from exc
        try:
            # a half-written or overwritten file may open and only fail mid-run: check it all now
            if self.db.execute("PRAGMA quick_check").fetchone()[0] != "ok":
                raise sqlite3.DatabaseError("integrity check failed")
            self.db.executescript(SCHEMA)
        except (OSError, sqlite3.Error) as exc:
            self.db.close()
            raise StateError(f"the state store {self.path} cannot be used ({exc}); run again with --force "
                             "to rebuild it, or with --no-state") from exc
        self._pending: list[tuple] = []  # staged items, then the begun and finished marks of inputs
        self._pending_begun: list[tuple[str, str, str]] = []
        self._pending_finished: list[tuple[str, str, str]] = []
        self._flushed = time.monotonic()

    @classmethod
    def open(cls, state_dir: Path, rebuild_broken: bool = False) -> StateStore:
        """With `rebuild_broken` (--force), a store that cannot be used is moved aside and made anew."""
        try:
            return cls(state_dir)
        except StateError:
            if not rebuild_broken:
                raise
            _move_aside(state_dir)
            return cls(state_dir)

    def close(self) -> None:
        self.db.close()

    def _meta(self, key: str) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = ?", (key,)).fetchone()
        return row[0] if row else None

    def config_sha256(self) -> str | None:
        return self._meta("config_sha256") if self._meta("schema") == SCHEMA_VERSION else None

    def reset(self, config_sha256: str) -> None:
        """Forget everything (after --force, a config change or an older store layout)."""
        with self.db:
            for table in ("inputs", "items", "staged", "staged_inputs", "begun", "partial", "meta"):
                self.db.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
            self.db.executemany("INSERT INTO meta VALUES (?, ?)",
                                [("config_sha256", config_sha256), ("schema", SCHEMA_VERSION)])

    def clear_staged(self) -> None:
        """Before a run: what a killed run staged becomes `partial` progress of its inputs."""
        with self.db:
            self._keep_partial(self.db.execute("SELECT run_id, path, sha256 FROM begun").fetchall())
            self._clear_run_tables()

    def _clear_run_tables(self) -> None:
        """A run's own tables, emptied (inside a transaction) once its items are kept or moved."""
        for table in ("staged", "staged_inputs", "begun"):
            self.db.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names

    def _keep_partial(self, begun: list[tuple[str, str, str]]) -> None:
        """Merge the staged items of inputs begun and not finished into `partial` (inside a transaction):
        a run killed while it was still passing on an earlier run's items must not lose them."""
        for run_id, path, sha in begun:
            self.db.execute("DELETE FROM partial WHERE path = ? AND sha256 != ?", (path, sha))
            rows, per_record = [], Counter()
            for (blob,) in self.db.execute("SELECT data FROM staged WHERE run_id = ? AND path = ? ORDER BY seq",
                                           (run_id, path)).fetchall():
                record = _replayable_record(_unpack(blob))
                if record is not None:
                    rows.append((path, sha, record, per_record[record], blob))
                    per_record[record] += 1
            self.db.executemany("INSERT OR REPLACE INTO partial VALUES (?, ?, ?, ?, ?)", rows)

    def begin_input(self, run_id: str, path: str, sha256: str) -> Mapping[int, list[Document | Reject]]:
        """Input `path` (content `sha256`) is being read by this run: what earlier, interrupted runs
        already produced for its records, by record index (empty when nothing; read from the store
        record by record as the reader reaches them, never the whole input at once)."""
        self._pending_begun.append((run_id, path, sha256))  # written with the input's first staged items
        return _PartialItems(self.db, path, sha256)

    def inputs(self) -> dict[str, str]:
        return dict(self.db.execute("SELECT path, sha256 FROM inputs"))

    def items(self, path: str) -> Iterator[Document | Reject]:
        """What pass 1 produced for `path` when it was processed, in order, read a page of rows at a
        time (a crawl file's items do not fit in memory at once)."""
        seq = -1
        while rows := self.db.execute("SELECT seq, data FROM items WHERE path = ? AND seq > ? ORDER BY seq LIMIT ?",
                                      (path, seq, STAGE_BATCH)).fetchall():
            for _, blob in rows:
                yield _unpack(blob)
            seq = rows[-1][0]

    def stage(self, run_id: str, path: str, seq: int, item: Document | Reject) -> None:
        """Item `seq` of input `path`, as pass 1 produced it this run."""
        self._pending.append((run_id, path, seq, _pack(item)))
        if len(self._pending) >= STAGE_BATCH or time.monotonic() - self._flushed >= STAGE_SECONDS:
            self.flush()

    def finish_input(self, run_id: str, path: str, sha256: str) -> None:
        """Every item of `path` is staged; only finished inputs are ever skipped by a later run
        (one whose page timed out or crashed a worker is not finished: it is processed again).
        The mark goes to the store in the same transaction as the input's last staged items."""
        self._pending_finished.append((run_id, path, sha256))

    def flush(self) -> None:
        """Pending staged items and input marks, in one transaction (a commit per input would cost a
        disk sync per file of a folder of small files)."""
        self._flushed = time.monotonic()
        if self._pending or self._pending_begun or self._pending_finished:
            with self.db:
                self.db.executemany("INSERT OR REPLACE INTO begun VALUES (?, ?, ?)", self._pending_begun)
                self.db.executemany("INSERT OR REPLACE INTO staged VALUES (?, ?, ?, ?)", self._pending)
                self.db.executemany("INSERT OR REPLACE INTO staged_inputs VALUES (?, ?, ?)", self._pending_finished)
            self._pending.clear()
            self._pending_begun.clear()
            self._pending_finished.clear()

    def commit_run(self, run_id: str) -> None:
        """Make this run's finished inputs the known ones, in one transaction; inputs begun and not
        finished (a page timed out) keep what was done as `partial`."""
        self.flush()
        with self.db:
            self._keep_partial(self.db.execute(
                "SELECT run_id, path, sha256 FROM begun b WHERE run_id = ? AND NOT EXISTS "
                "(SELECT 1 FROM staged_inputs f WHERE f.run_id = b.run_id AND f.path = b.path)", (run_id,)).fetchall())
            self.db.execute("DELETE FROM partial WHERE path IN (SELECT path FROM staged_inputs WHERE run_id = ?)",
                            (run_id,))
            self.db.execute("DELETE FROM items WHERE path IN (SELECT path FROM staged_inputs WHERE run_id = ?)",
                            (run_id,))
            self.db.execute("INSERT INTO items SELECT s.path, s.seq, s.data FROM staged s JOIN staged_inputs f "
                            "ON s.run_id = f.run_id AND s.path = f.path WHERE s.run_id = ?", (run_id,))
            self.db.execute("INSERT OR REPLACE INTO inputs SELECT path, sha256, run_id FROM staged_inputs "
                            "WHERE run_id = ?", (run_id,))
            self._clear_run_tables()


class _PartialItems(Mapping[int, list[Document | Reject]]):
    """Record index -> the items an interrupted run produced for that record of one input."""

    def __init__(self, db: sqlite3.Connection, path: str, sha256: str):
        self._db, self._key = db, (path, sha256)
        self._records = {r for (r,) in db.execute("SELECT DISTINCT record FROM partial WHERE path = ? AND sha256 = ?",
                                                  self._key)}

    def __contains__(self, record: object) -> bool:
        return record in self._records

    def __getitem__(self, record: int) -> list[Document | Reject]:
        if record not in self._records:
            raise KeyError(record)
        return [_unpack(blob) for (blob,) in self._db.execute(
            "SELECT data FROM partial WHERE path = ? AND sha256 = ? AND record = ? ORDER BY n", (*self._key, record))]

    def __iter__(self) -> Iterator[int]:
        return iter(sorted(self._records))

    def __len__(self) -> int:
        return len(self._records)


def _move_aside(state_dir: Path) -> None:
    """--force on a broken store: a file standing where the folder should be, or the database file,
    is moved aside (renamed with a `.broken-N` suffix), never deleted: it may be something of the user's."""
    targets = [state_dir] if (state_dir.is_file() or state_dir.is_symlink()) else [state_dir / STATE_FILE]
    for target in targets:
        if not (target.exists() or target.is_symlink()):
            continue
        n = 1
        while (aside := target.with_name(f"{target.name}.broken-{n}")).exists():
            n += 1
        target.rename(aside)
        for suffix in ("-journal", "-wal", "-shm"):
            target.with_name(target.name + suffix).unlink(missing_ok=True)
