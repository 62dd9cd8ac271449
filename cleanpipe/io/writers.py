"""Record writers: JSONL (plain, gzip, zstd) and Parquet, split into shards by size, atomically.

Every shard is written under a temporary name opened with O_EXCL|O_NOFOLLOW (never through a
symlink planted in the output folder) and renamed into place only by `commit()`, which also
removes the shards a previous run left under the same stem (in any format), so a folder never
mixes two runs' shards once the run is done. Naming: one shard is `STEM.EXT`
(`documents.jsonl`, `documents.parquet`); several are `STEM-00000.EXT`, `STEM-00001.EXT`, ...
"""

from __future__ import annotations

import gzip
import hashlib
import os
import re
from pathlib import Path
from typing import IO, Any

from cleanpipe.io.write import _open_new, dumps

FORMATS = ("jsonl", "jsonl.gz", "jsonl.zst", "parquet")
DEFAULT_SHARD_SIZE = 256 * 1024 * 1024
# Parquet row group: a streaming reader (datasets' streaming mode, polars scan, duckdb) holds one at a time;
# 1000 pages are ~10-30 MB before compression
ROW_GROUP_ROWS = 1000
ROW_GROUP_BYTES = 64 * 1024 * 1024  # ...and at most about this much text
# compressors hold back what they were given; flushing them this often (uncompressed bytes) lets the
# file size drive the shard split, at no measurable cost in ratio
FLUSH_BYTES = 1024 * 1024
_SIZE = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*([kmg]i?b?|b)?\s*$", re.IGNORECASE)


def parse_size(text: str | int) -> int:
    """"256MB", "1G", "500k", "1048576" -> bytes (powers of 1024)."""
    if isinstance(text, int):
        return text
    m = _SIZE.match(str(text))
    if not m:
        raise ValueError(f"not a size: {text!r} (e.g. 256MB, 1GB, 500KB)")
    unit = (m.group(2) or "b").lower()[0]
    return int(float(m.group(1)) * {"b": 1, "k": 1024, "m": 1024**2, "g": 1024**3}[unit])


def shard_name(stem: str, fmt: str, index: int | None) -> str:
    return f"{stem}.{fmt}" if index is None else f"{stem}-{index:05d}.{fmt}"


_SHARD = {fmt: re.compile(rf"^(?P<stem>[a-z]+)(-\d{{5}})?\.{re.escape(fmt)}$") for fmt in FORMATS}


def existing_shards(out: Path, stem: str) -> list[Path]:
    """Files in `out` named like a shard of `stem` in any format."""
    found = []
    for path in out.iterdir():
        for pattern in _SHARD.values():
            m = pattern.match(path.name)
            if m and m.group("stem") == stem:
                found.append(path)
                break
    return sorted(found)


class Shard:
    """One shard being written to its temporary file."""

    def __init__(self, tmp: Path, fmt: str, kind: str, shard_size: int):
        self.tmp, self.fmt, self.records = tmp, fmt, 0
        self._flush_at = max(1, min(FLUSH_BYTES, shard_size // 4))
        self._row_group_bytes = max(1, min(ROW_GROUP_BYTES, shard_size // 4))
        self._pending = 0  # bytes given to a compressor (or buffered as rows) since its last flush
        self._raw: IO[bytes] = open(_open_new(tmp), "wb")  # noqa: SIM115 - closed by close()
        self._text: IO[bytes] | None = None
        self._parquet = None
        self._rows: list[dict[str, Any]] = []
        if fmt == "jsonl":
            self._text = self._raw
        elif fmt == "jsonl.gz":
            # mtime 0: the same records give the same bytes (and sha256) on every run
            self._text = gzip.GzipFile(fileobj=self._raw, mode="wb", compresslevel=6, mtime=0)
        elif fmt == "jsonl.zst":
            import zstandard

            self._text = zstandard.ZstdCompressor(level=6).stream_writer(self._raw, closefd=False)
        else:
            import pyarrow.parquet as pq

            from cleanpipe.io.schema import arrow_schema

            self._schema = arrow_schema(kind)
            self._parquet = pq.ParquetWriter(self._raw, self._schema, compression="zstd")

    def write(self, record: dict[str, Any]) -> None:
        self.records += 1
        if self._parquet is not None:
            self._rows.append(record)
            self._pending += _text_size(record)
            if len(self._rows) >= ROW_GROUP_ROWS or self._pending >= self._row_group_bytes:
                self._flush_rows()
        else:
            assert self._text is not None
            line = (dumps(record) + "\n").encode("utf-8")
            self._text.write(line)
            if self._text is not self._raw:
                self._pending += len(line)
                if self._pending >= self._flush_at:
                    self._text.flush()  # gzip: a sync flush; zstd: ends the block
                    self._pending = 0

    def _flush_rows(self) -> None:
        import pyarrow as pa

        if self._rows:
            self._parquet.write_table(pa.Table.from_pylist(self._rows, schema=self._schema))
            self._rows, self._pending = [], 0

    def size(self) -> int:
        """Bytes in the file so far (compressors and row groups buffer: a shard ends a little over)."""
        return self._raw.tell()

    def close(self) -> None:
        if self._parquet is not None:
            self._flush_rows()
            self._parquet.close()
        elif self._text is not self._raw and self._text is not None:
            self._text.close()  # writes the gzip trailer / zstd frame end; the raw file stays open
        self._raw.flush()
        os.fsync(self._raw.fileno())
        self._raw.close()

    def discard(self) -> None:
        try:
            if not self._raw.closed:
                self._raw.close()
        finally:
            self.tmp.unlink(missing_ok=True)


class ShardedWriter:
    """Records of one kind ("document" or "reject") to OUT/STEM[-NNNNN].FMT, in shards of about
    `shard_size` bytes; nothing is visible under the final names before `commit()`."""

    def __init__(self, out: Path, stem: str, fmt: str, kind: str, tag: str, shard_size: int = DEFAULT_SHARD_SIZE):
        if fmt not in FORMATS:
            raise ValueError(f"unknown output format {fmt!r}; one of {', '.join(FORMATS)}")
        self.out, self.stem, self.fmt, self.kind, self.tag = out, stem, fmt, kind, tag
        self.shard_size = max(1, shard_size)
        self.count = 0
        self._done: list[Shard] = []
        self._shard: Shard | None = None

    def _new_shard(self) -> Shard:
        index = len(self._done)
        return Shard(self.out / f".{self.stem}-{index:05d}.{self.fmt}.{self.tag}.tmp", self.fmt, self.kind,
                      self.shard_size)

    def write(self, record: dict[str, Any]) -> None:
        if self._shard is None:
            self._shard = self._new_shard()
        self._shard.write(record)
        self.count += 1
        if self._shard.size() >= self.shard_size:
            self._shard.close()
            self._done.append(self._shard)
            self._shard = None

    def commit(self) -> list[dict[str, Any]]:
        """Rename every shard into place, remove the previous run's shards of this stem; one entry
        per shard (file, records, bytes, sha256) for the manifest."""
        if self._shard is not None or not self._done:  # an empty output is still one (empty) shard
            shard = self._shard or self._new_shard()
            shard.close()
            self._done.append(shard)
            self._shard = None
        single = len(self._done) == 1
        entries, names = [], set()
        for index, shard in enumerate(self._done):
            name = shard_name(self.stem, self.fmt, None if single else index)
            entries.append({"file": name, "records": shard.records, "bytes": shard.tmp.stat().st_size,
                            "sha256": file_sha256(shard.tmp)})
            os.replace(shard.tmp, self.out / name)
            names.add(name)
        for stale in existing_shards(self.out, self.stem):
            if stale.name not in names:
                stale.unlink(missing_ok=True)
        return entries

    def abort(self) -> None:
        for shard in [*self._done, *([self._shard] if self._shard else [])]:
            shard.discard()
        self._done, self._shard = [], None


def _text_size(record: dict[str, Any]) -> int:
    """About how many bytes a record takes before compression (its texts and a bit per span)."""
    size = 256 + len(record.get("text") or record.get("detail") or "")
    size += sum(len(c.get("text") or "") + 128 for c in record.get("comments") or ())
    stages = (record.get("provenance") or {}).get("stages") or ()
    return size + sum(300 + 80 * len(s.get("spans") or ()) for s in stages)


def file_sha256(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as fh:
        while chunk := fh.read(1 << 20):
            digest.update(chunk)
    return digest.hexdigest()
