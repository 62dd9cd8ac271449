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
from json.encoder import encode_basestring, encode_basestring_ascii
from pathlib import Path
from typing import IO, Any

import orjson

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


def _json_str(text: str) -> str:
    """`text` as a JSON string; a lone surrogate (from a "\\ud800" escape in the input) is written
    as the same escape, since UTF-8 cannot hold it."""
    quoted = encode_basestring(text)
    try:
        quoted.encode("utf-8")
    except UnicodeEncodeError:
        return encode_basestring_ascii(text)
    return quoted


def _open(path: str) -> IO[bytes]:
    fh = open(path, "rb")  # noqa: SIM115 - returned to the caller, closed there
    if fh.read(2) == b"\x1f\x8b":
        fh.close()
        return gzip.open(path, "rb")
    fh.seek(0)
    return fh


def _lookup(record: dict[str, Any], dotted: str | tuple[str, ...]) -> Any:
    cur: Any = record
    for part in dotted.split(".") if isinstance(dotted, str) else dotted:
        if not isinstance(cur, dict):
            return None
        cur = cur.get(part)
    return cur


def _parse_refused(raw: bytes) -> tuple[dict[str, Any] | None, str]:
    """(record or None, error) of a line orjson refused (NaN, a lone surrogate escape, UTF-16):
    the json module reads it, and decides what counts as JSON, as it always did."""
    try:
        rec = _exact(raw)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        return None, f"not JSON: {exc}"
    if not isinstance(rec, dict):
        return None, "not a JSON object"
    return rec, ""


def _records(paths: Iterable[str]) -> Iterator[tuple[str, int, dict[str, Any] | None, str, bytes, bool]]:
    """(path, line number, record or None, error, the line, whether it is UTF-8) for every non-blank line."""
    loads, refused = orjson.loads, orjson.JSONDecodeError
    for path in paths:
        with _open(path) as fh:
            for no, raw in enumerate(fh, start=1):
                if raw.isspace():  # blank (lines as read are never empty)
                    continue
                try:  # orjson reads valid UTF-8 JSON several times faster than json
                    rec = loads(raw)
                except refused:
                    rec, error = _parse_refused(raw)
                    yield path, no, rec, error, raw, _is_utf8(raw)
                    continue
                if isinstance(rec, dict):
                    yield path, no, rec, "", raw, True
                else:
                    yield path, no, None, "not a JSON object", raw, True


def _is_utf8(raw: bytes) -> bool:
    try:
        raw.decode("utf-8")
    except UnicodeDecodeError:
        return False
    return True


def _exact(raw: bytes) -> dict[str, Any]:
    """The record as the json module reads it: orjson turns an integer beyond 64 bits into a float,
    so a record that is written out again, or whose id is not a plain string or integer, is read
    this way (rare: most ids are strings and most records are passed through as read)."""
    try:
        return json.loads(raw.decode("utf-8"))
    except UnicodeDecodeError:
        return json.loads(raw)


def _emit(lines: list[bytes], writer: AtomicJsonl | None, stdout: IO[str] | None) -> None:
    """Kept lines to the output file (one write) or to stdout; the list is emptied."""
    if writer is not None:
        writer.write_many(lines)
    else:
        assert stdout is not None
        stdout.writelines(line.decode("utf-8") + "\n" for line in lines)
    lines.clear()


def _reject_head(path: str, no: int, key: str, duplicate_of: str | None, similarity: float | None,
                 method: str | None, kept_text: str) -> str:
    """The reject's fields as `dumps` writes them (json's own string encoder, floats by repr), without
    building a dict per dropped record; `kept_text` comes encoded already."""
    return (f'{{"reason":"duplicate","path":{_json_str(path)},"line":{no},"id":{_json_str(key)},'
            f'"duplicate_of":{"null" if duplicate_of is None else _json_str(duplicate_of)},'
            f'"similarity":{"null" if similarity is None else repr(similarity)},'
            f'"method":{"null" if method is None else _json_str(method)},'
            f'"kept_text":{kept_text}')


def dedup_jsonl(paths: list[str], field_name: str, out: Path | None, rejects: Path,
                config: DedupConfig | None = None, id_field: str | None = "id",
                count_field: str = "duplicates", stdout: IO[str] | None = None,
                batch: int = 8192) -> DedupSummary:
    """Filter records; kept ones to `out` (or `stdout`), dropped and unreadable ones to `rejects`."""
    flt = NearDuplicateFilter(config or DedupConfig())
    summary = DedupSummary(rejects_path=str(rejects))
    field_path = tuple(field_name.split("."))
    id_path = tuple(id_field.split(".")) if id_field else None
    # kept key -> where the start of its text sits, JSON-encoded, in the quotes spool (offset << 32 |
    # length): read back for the rejects that quote it, rather than a million texts held in memory
    kept_at: dict[str, int] = {}
    rejects_out = AtomicJsonl(rejects, "dedup")

    @lru_cache(maxsize=4096)  # popular texts are quoted by many rejects
    def kept_text(where: int, fd: int) -> str:
        if hasattr(os, "pread"):
            quote = os.pread(fd, where & 0xFFFFFFFF, where >> 32)
        else:  # no pread (Windows): read at the offset, then back to where the spool writes next
            end = os.lseek(fd, 0, os.SEEK_CUR)
            os.lseek(fd, where >> 32, os.SEEK_SET)
            quote = os.read(fd, where & 0xFFFFFFFF)
            os.lseek(fd, end, os.SEEK_SET)
        return quote.decode("utf-8", "surrogatepass")

    # pending: (path, line number, key, text, whether the count can be appended to the line as read, line)
    def judge(pending: list[tuple[str, int, str, str, bool, bytes]], spool: IO[bytes], quotes: IO[bytes]) -> None:
        if not pending:
            return
        verdicts = list(flt.filter([(p[2], p[3]) for p in pending], batch=len(pending)))
        # the batch's kept lines in one write: whether the count may be appended in place, and the line
        # as read (the keys of the kept lines are the filter's kept keys, in the same order); and the
        # start of each kept text as a reject quotes it, encoded once here
        kept_lines, quoted = [], []
        offset = quotes.tell()
        for (_, _, key, text, in_place, raw), verdict in zip(pending, verdicts, strict=True):
            if verdict.kept:
                kept_lines.append(b"%s\t%s\n" % (b"1" if in_place else b"0", raw.strip()))
                quote = _json_str(text[:500]).encode("utf-8")
                kept_at[key] = (offset << 32) | len(quote)
                offset += len(quote)
                quoted.append(quote)
        spool.write(b"".join(kept_lines))
        quotes.write(b"".join(quoted))
        quotes.flush()
        fd = quotes.fileno()
        lines = []
        for (path, no, key, _, in_place, raw), verdict in zip(pending, verdicts, strict=True):
            if verdict.kept:
                continue
            where = kept_at.get(verdict.duplicate_of or "")
            head = _reject_head(path, no, key, verdict.duplicate_of, verdict.similarity, verdict.method,
                                kept_text(where, fd) if where is not None else '""')
            if in_place:  # the record as read (valid UTF-8), not serialized again
                lines.append(b'%s,"record":%s}' % (head.encode("utf-8"), raw.strip()))
            else:
                try:
                    lines.append(f'{head},"record":{raw.decode("utf-8").strip()}}}'.encode())
                except UnicodeDecodeError:
                    lines.append(f'{head},"record":{dumps(_exact(raw))}}}'.encode())
        rejects_out.write_many(lines)
        pending.clear()

    with tempfile.TemporaryFile("w+b") as spool, tempfile.TemporaryFile("w+b") as quotes:
        try:
            pending: list[tuple[str, int, str, str, bool, bytes]] = []
            # a top-level field (most inputs) is one dict lookup
            field_top = field_path[0] if len(field_path) == 1 else None
            id_top = id_path[0] if id_path and len(id_path) == 1 else None
            for path, no, rec, error, raw, utf8 in _records(paths):
                summary.records += 1
                if rec is None:
                    judge(pending, spool, quotes)  # rejects, too, stay in input order
                    summary.bad_lines += 1
                    rejects_out.write({"reason": "bad-json", "path": path, "line": no, "detail": error})
                    continue
                text = rec.get(field_top) if field_top is not None else _lookup(rec, field_path)
                if not isinstance(text, str):
                    judge(pending, spool, quotes)  # keep output in input order
                    summary.no_field += 1
                    spool.write(b"2\t%s\n" % dumps(_exact(raw)).encode())
                    continue
                rid = rec.get(id_top) if id_top is not None else _lookup(rec, id_path) if id_path else None
                if rid is not None and type(rid) is not str and type(rid) is not int:
                    rid = _lookup(_exact(raw), id_path)  # a float may be orjson's reading of a big integer
                # the count is appended to the line as read, which spares serializing every kept record
                in_place = utf8 and count_field not in rec
                pending.append((path, no, rid if type(rid) is str else str(rid) if rid is not None else f"{path}:{no}",
                                text, in_place, raw))
                if len(pending) >= batch:
                    judge(pending, spool, quotes)
            judge(pending, spool, quotes)
            spool.seek(0)
            writer = AtomicJsonl(out, "dedup") if out is not None else None
            absorbed = flt.absorbed
            count_json = json.dumps(count_field).encode()
            kept_keys = iter(flt.kept_keys)
            done: list[bytes] = []
            for line in spool:
                kind, raw = line[:1], line[2:].rstrip(b"\n")
                if kind == b"2":  # a record without the field, as it was written
                    data = raw
                else:
                    count = absorbed.get(next(kept_keys), 0)
                    if kind == b"1":
                        data = b"%s,%s:%d}" % (raw[:-1], count_json, count)
                    else:
                        rec = _exact(raw)
                        rec[count_field] = count
                        data = dumps(rec).encode("utf-8")
                    summary.kept += 1
                done.append(data)
                if len(done) >= batch:
                    _emit(done, writer, stdout)
            _emit(done, writer, stdout)
            if writer is not None:
                writer.commit()
            rejects_out.commit()
        except BaseException:
            rejects_out.abort()
            raise
    summary.dropped = flt.dropped
    return summary
