"""`cleanpipe dedup`: the near-duplicate filter on any JSONL file, for users who want only this stage.

Records are read in order from every input (gzip allowed); the text to compare
is `record[field]` (dots walk into nested objects: `comment.text`). The first
record of a group is kept and gains a count of the copies it absorbed; every
later copy goes to the rejects file with `duplicate_of`, the exact Jaccard
similarity and the kept record's text. Records without the field, or with a
non-string value, are kept unchanged; lines that are not JSON objects are rejected.
"""

from __future__ import annotations

import gzip
import json
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from cleanpipe.config import DedupConfig
from cleanpipe.io.write import AtomicJsonl, dumps
from cleanpipe.stages.dedup import NearDuplicateFilter


@dataclass
class DedupSummary:
    records: int = 0
    kept: int = 0
    dropped: int = 0
    no_field: int = 0
    bad_lines: int = 0
    rejects_path: str | None = None

    def line(self) -> str:
        return (f"cleanpipe dedup: {self.records} records, {self.kept} kept, {self.dropped} duplicates dropped, "
                f"{self.no_field} without the field (kept), {self.bad_lines} unreadable lines "
                f"(rejects: {self.rejects_path})")


def _open(path: str) -> IO[bytes]:
    fh = open(path, "rb")  # noqa: SIM115 - returned to the caller, closed there
    if fh.read(2) == b"\x1f\x8b":
        fh.close()
        return gzip.open(path, "rb")
    fh.seek(0)
    return fh


def _lookup(record: dict[str, Any], dotted: str) -> Any:
    cur: Any = record
    for part in dotted.split("."):
        if not isinstance(cur, dict):
            return None
        cur = cur.get(part)
    return cur


def _records(paths: Iterable[str]) -> Iterator[tuple[str, int, dict[str, Any] | None, str]]:
    """(path, line number, record or None, error) for every non-blank line."""
    for path in paths:
        with _open(path) as fh:
            for no, raw in enumerate(fh, start=1):
                if not raw.strip():
                    continue
                try:
                    rec = json.loads(raw)
                except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                    yield path, no, None, f"not JSON: {exc}"
                    continue
                if not isinstance(rec, dict):
                    yield path, no, None, "not a JSON object"
                    continue
                yield path, no, rec, ""


def dedup_jsonl(paths: list[str], field_name: str, out: Path | None, rejects: Path,
                config: DedupConfig | None = None, id_field: str | None = "id",
                count_field: str = "duplicates", stdout: IO[str] | None = None,
                batch: int = 2048) -> DedupSummary:
    """Filter records; kept ones to `out` (or `stdout`), dropped and unreadable ones to `rejects`."""
    flt = NearDuplicateFilter(config or DedupConfig())
    summary = DedupSummary(rejects_path=str(rejects))
    kept_text: dict[str, str] = {}
    rejects_out = AtomicJsonl(rejects, "dedup")

    def judge(pending: list[tuple[str, int, str, str, dict[str, Any]]], spool: IO[str]) -> None:
        verdicts = flt.filter([(key, text) for _, _, key, text, _ in pending], batch=len(pending))
        for (path, no, key, text, rec), verdict in zip(pending, verdicts, strict=True):
            if verdict.kept:
                kept_text[key] = text[:500]
                spool.write(dumps({"k": key, "r": rec}) + "\n")
                continue
            rejects_out.write({"reason": "duplicate", "path": path, "line": no, "id": key,
                               "duplicate_of": verdict.duplicate_of, "similarity": verdict.similarity,
                               "method": verdict.method, "kept_text": kept_text.get(verdict.duplicate_of, ""),
                               "record": rec})
        pending.clear()

    with tempfile.TemporaryFile("w+", encoding="utf-8") as spool:
        try:
            pending: list[tuple[str, int, str, str, dict[str, Any]]] = []
            for path, no, rec, error in _records(paths):
                summary.records += 1
                if rec is None:
                    judge(pending, spool)  # rejects, too, stay in input order
                    summary.bad_lines += 1
                    rejects_out.write({"reason": "bad-json", "path": path, "line": no, "detail": error})
                    continue
                text = _lookup(rec, field_name)
                if not isinstance(text, str):
                    judge(pending, spool)  # keep output in input order
                    summary.no_field += 1
                    spool.write(dumps({"k": None, "r": rec}) + "\n")
                    continue
                rid = _lookup(rec, id_field) if id_field else None
                pending.append((path, no, str(rid) if rid is not None else f"{path}:{no}", text, rec))
                if len(pending) >= batch:
                    judge(pending, spool)
            if pending:
                judge(pending, spool)
            spool.seek(0)
            writer = AtomicJsonl(out, "dedup") if out is not None else None
            for line in spool:
                item = json.loads(line)
                rec = item["r"]
                if item["k"] is not None:
                    rec[count_field] = flt.absorbed.get(item["k"], 0)
                    summary.kept += 1
                if writer is not None:
                    writer.write(rec)
                else:
                    assert stdout is not None
                    stdout.write(dumps(rec) + "\n")
            if writer is not None:
                writer.commit()
            rejects_out.commit()
        except BaseException:
            rejects_out.abort()
            raise
    summary.dropped = flt.dropped
    return summary
