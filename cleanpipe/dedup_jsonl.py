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
import os
import tempfile
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from functools import lru_cache
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


def _records(paths: Iterable[str]) -> Iterator[tuple[str, int, dict[str, Any] | None, str, bytes]]:
    """(path, line number, record or None, error, the line) for every non-blank line."""
    for path in paths:
        with _open(path) as fh:
            for no, raw in enumerate(fh, start=1):
                if not raw.strip():
                    continue
                try:
                    try:  # JSONL is UTF-8: decoding first spares json its encoding detection
                        rec = json.loads(raw.decode("utf-8"))
                    except UnicodeDecodeError:
                        rec = json.loads(raw)
                except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                    yield path, no, None, f"not JSON: {exc}", raw
                    continue
                if not isinstance(rec, dict):
                    yield path, no, None, "not a JSON object", raw
                    continue
                yield path, no, rec, "", raw


def _in_place(raw: bytes, rec: dict[str, Any], count_field: str) -> bool:
    """Whether the count can be added to the line as read (UTF-8, no such field yet), which spares
    re-serializing every kept record."""
    if count_field in rec:
        return False
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def dedup_jsonl(paths: list[str], field_name: str, out: Path | None, rejects: Path,
                config: DedupConfig | None = None, id_field: str | None = "id",
                count_field: str = "duplicates", stdout: IO[str] | None = None,
                batch: int = 8192) -> DedupSummary:
    """Filter records; kept ones to `out` (or `stdout`), dropped and unreadable ones to `rejects`."""
    flt = NearDuplicateFilter(config or DedupConfig())
    summary = DedupSummary(rejects_path=str(rejects))
    # kept key -> where its line sits in the spool (offset << 32 | length): the kept text a reject
    # quotes is read back from there, rather than a million texts held in memory
    kept_at: dict[str, int] = {}
    rejects_out = AtomicJsonl(rejects, "dedup")

    @lru_cache(maxsize=4096)  # popular texts are quoted by many rejects
    def kept_text(where: int, fd: int) -> str:
        if hasattr(os, "pread"):
            line = os.pread(fd, where & 0xFFFFFFFF, where >> 32)
        else:  # no pread (Windows): read at the offset, then back to where the spool writes next
            end = os.lseek(fd, 0, os.SEEK_CUR)
            os.lseek(fd, where >> 32, os.SEEK_SET)
            line = os.read(fd, where & 0xFFFFFFFF)
            os.lseek(fd, end, os.SEEK_SET)
        text = _lookup(json.loads(line[2:]), field_name)
        return text[:500] if isinstance(text, str) else ""

    def judge(pending: list[tuple[str, int, str, str, dict[str, Any], bytes]], spool: IO[bytes]) -> None:
        verdicts = list(flt.filter([(key, text) for _, _, key, text, _, _ in pending], batch=len(pending)))
        for (_, _, key, _, rec, raw), verdict in zip(pending, verdicts, strict=True):
            if verdict.kept:
                # whether the count may be appended in place, and the line as read (the keys of the
                # kept lines are the filter's kept keys, in the same order)
                line = b"%d\t%s\n" % (_in_place(raw, rec, count_field), raw.strip())
                kept_at[key] = (spool.tell() << 32) | len(line)
                spool.write(line)
        spool.flush()
        for (path, no, key, _, rec, raw), verdict in zip(pending, verdicts, strict=True):
            if verdict.kept:
                continue
            where = kept_at.get(verdict.duplicate_of or "")
            head = dumps({"reason": "duplicate", "path": path, "line": no, "id": key,
                          "duplicate_of": verdict.duplicate_of, "similarity": verdict.similarity,
                          "method": verdict.method,
                          "kept_text": kept_text(where, spool.fileno()) if where is not None else ""})
            try:  # the record as read, not serialized again
                rejects_out.write_line(f'{head[:-1]},"record":{raw.decode("utf-8").strip()}}}')
            except UnicodeDecodeError:
                rejects_out.write_line(f'{head[:-1]},"record":{dumps(rec)}}}')
        pending.clear()

    with tempfile.TemporaryFile("w+b") as spool:
        try:
            pending: list[tuple[str, int, str, str, dict[str, Any], bytes]] = []
            for path, no, rec, error, raw in _records(paths):
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
                    spool.write(b"2\t%s\n" % dumps(rec).encode())
                    continue
                rid = _lookup(rec, id_field) if id_field else None
                pending.append((path, no, str(rid) if rid is not None else f"{path}:{no}", text, rec, raw))
                if len(pending) >= batch:
                    judge(pending, spool)
            if pending:
                judge(pending, spool)
            spool.seek(0)
            writer = AtomicJsonl(out, "dedup") if out is not None else None
            absorbed, count_json = flt.absorbed, json.dumps(count_field)
            kept_keys = iter(flt.kept_keys)
            for line in spool:
                kind, raw = line[:1], line[2:].rstrip(b"\n")
                if kind == b"2":  # a record without the field, as it was written
                    text_line = raw.decode("utf-8")
                else:
                    count = absorbed.get(next(kept_keys), 0)
                    if kind == b"1":
                        text_line = f"{raw.decode('utf-8')[:-1]},{count_json}:{count}}}"
                    else:
                        rec = json.loads(raw)
                        rec[count_field] = count
                        text_line = dumps(rec)
                    summary.kept += 1
                if writer is not None:
                    writer.write_line(text_line)
                else:
                    assert stdout is not None
                    stdout.write(text_line + "\n")
            if writer is not None:
                writer.commit()
            rejects_out.commit()
        except BaseException:
            rejects_out.abort()
            raise
    summary.dropped = flt.dropped
    return summary
