"""Run state in SQLite: inputs processed, the comment-dedup index, name and site-paragraph counts.

A nightly run over a growing folder reads this to skip inputs it has already
processed (same path, same content hash, same config hash), to drop tonight's
comments that repeat last night's, and to normalize names and find paragraphs
repeated across a site's pages with corpus-wide counts. Everything is loaded in one query per table and saved in one
transaction at the end of a run, after the outputs are in place: a run killed
before that commit is simply redone, never half-recorded.
"""

from __future__ import annotations

import sqlite3
from pathlib import Path

import numpy as np

from .dedup import NearDuplicateFilter
from .names import NameStats
from .repeats import SiteStats

SCHEMA = """
CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS inputs (
    path TEXT PRIMARY KEY, sha256 TEXT NOT NULL, run_id TEXT NOT NULL);
CREATE TABLE IF NOT EXISTS comments (
    rank INTEGER PRIMARY KEY, id TEXT NOT NULL, digest BLOB NOT NULL, kind TEXT NOT NULL,
    bands BLOB, shingles BLOB, absorbed INTEGER NOT NULL DEFAULT 0);
CREATE INDEX IF NOT EXISTS comments_id ON comments (id);
CREATE TABLE IF NOT EXISTS names (
    name TEXT PRIMARY KEY, count INTEGER NOT NULL, docs INTEGER NOT NULL, example TEXT);
CREATE TABLE IF NOT EXISTS site_pages (site TEXT PRIMARY KEY, pages INTEGER NOT NULL);
CREATE TABLE IF NOT EXISTS site_lines (part INTEGER PRIMARY KEY, digests BLOB NOT NULL, pages BLOB NOT NULL);
-- site_lines: the sorted (digest, pages) table of every page counted so far, as int64 blobs in parts
"""
STATE_FILE = "state.sqlite"
SITE_LINES_PART = 1 << 23  # digests per blob: 64 MB, well under SQLite's 1 GB limit on one value


class StateStore:
    def __init__(self, state_dir: Path):
        state_dir.mkdir(parents=True, exist_ok=True)
        self.path = state_dir / STATE_FILE
        self.db = sqlite3.connect(self.path)
        self.db.executescript(SCHEMA)

    def close(self) -> None:
        self.db.close()

    def config_sha256(self) -> str | None:
        row = self.db.execute("SELECT value FROM meta WHERE key = 'config_sha256'").fetchone()
        return row[0] if row else None

    def reset(self, config_sha256: str) -> None:
        """Forget everything (after --force or a config change)."""
        with self.db:
            for table in ("inputs", "comments", "names", "site_pages", "site_lines", "meta"):
                self.db.execute(f"DELETE FROM {table}")  # noqa: S608 - fixed table names
            self.db.execute("INSERT INTO meta VALUES ('config_sha256', ?)", (config_sha256,))

    def inputs(self) -> dict[str, str]:
        return dict(self.db.execute("SELECT path, sha256 FROM inputs"))

    def load_filter(self, flt: NearDuplicateFilter) -> int:
        rows = self.db.execute("SELECT rank, id, digest, kind, bands, shingles, absorbed FROM comments "
                               "ORDER BY rank").fetchall()
        flt.restore(rows)
        return len(rows)

    def load_names(self) -> NameStats:
        stats = NameStats()
        for name, count, docs, example in self.db.execute("SELECT name, count, docs, example FROM names"):
            stats.counts[name] = count
            stats.docs[name] = docs
            if example:
                stats.examples[name] = example
        return stats

    def load_sites(self) -> SiteStats:
        stats = SiteStats()
        stats.pages.update(dict(self.db.execute("SELECT site, pages FROM site_pages")))
        parts = self.db.execute("SELECT digests, pages FROM site_lines ORDER BY part").fetchall()
        if parts:  # consecutive slices of one sorted table
            stats.keys = np.concatenate([np.frombuffer(digests, dtype=np.int64) for digests, _ in parts])
            stats.counts = np.concatenate([np.frombuffer(pages, dtype=np.int64) for _, pages in parts])
        return stats

    def commit_run(self, run_id: str, inputs: dict[str, str], flt: NearDuplicateFilter,
                   new_names: NameStats, sites: SiteStats | None = None) -> None:
        """Record a finished run in one transaction."""
        with self.db:
            self.db.executemany("INSERT OR REPLACE INTO inputs VALUES (?, ?, ?)",
                                [(p, sha, run_id) for p, sha in inputs.items()])
            self.db.executemany(
                "INSERT OR REPLACE INTO comments (rank, id, digest, kind, bands, shingles, absorbed) "
                "VALUES (?, ?, ?, ?, ?, ?, ?)", flt.export_new())
            self.db.executemany("UPDATE comments SET absorbed = ? WHERE id = ?",
                                [(n, cid) for cid, n in flt.absorbed.items()])
            self.db.executemany(
                "INSERT INTO names (name, count, docs, example) VALUES (?, ?, ?, ?) "
                "ON CONFLICT(name) DO UPDATE SET count = count + excluded.count, docs = docs + excluded.docs",
                [(n, c, new_names.docs[n], new_names.examples.get(n)) for n, c in new_names.counts.items()])
            if sites is not None:  # the totals (loaded at the start of the run, plus this run's pages)
                sites.compact()
                self.db.execute("DELETE FROM site_pages")
                self.db.executemany("INSERT INTO site_pages VALUES (?, ?)", sites.pages.items())
                self.db.execute("DELETE FROM site_lines")
                cuts = range(0, len(sites.keys), SITE_LINES_PART)
                self.db.executemany("INSERT INTO site_lines VALUES (?, ?, ?)", [
                    (part, sites.keys[at:at + SITE_LINES_PART].tobytes(),
                     sites.counts[at:at + SITE_LINES_PART].tobytes()) for part, at in enumerate(cuts)])

