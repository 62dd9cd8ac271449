"""Read stage: paths in, `Document`s (decoded, NFC text) or `Reject`s out.

Handles plain-text dumps, HTML, JSONL crawler records and WARC, each optionally
gzipped; directories are walked recursively in a stable (sorted) order and
`-` reads standard input. A broken file or record never stops the run: it
comes out as a `Reject` with the path, record index and a plain reason.
"""

from __future__ import annotations

import codecs
import gzip
import hashlib
import io
import json
import os
import re
import sys
import unicodedata
import zlib
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path

import charset_normalizer

from .config import ReadConfig
from .model import Document, Reject, Source, Unchanged

TEXT_SUFFIXES = {".txt", ".text", ".md", ""}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
JSONL_SUFFIXES = {".jsonl", ".ndjson"}
WARC_SUFFIXES = {".warc", ".arc"}
KNOWN_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | JSONL_SUFFIXES | WARC_SUFFIXES

_BOMS = [
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
]
_META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]{1,40})""", re.I)
_XML_ENCODING = re.compile(rb"""^<\?xml[^>]{0,100}encoding\s*=\s*["']([A-Za-z0-9_.:-]{1,40})""")
_HTML_SNIFF = re.compile(rb"<(!doctype html|html|head|body|div|p|article)\b", re.I)
# Control characters that never occur in real text (NUL..BS, SO..US less ESC, DEL)
_BINARY_CHARS = re.compile("[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f]")


class InputError(Exception):
    """An input that cannot be read; `reason` is a short machine-readable code."""

    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def gunzip_capped(data: bytes, max_bytes: int) -> bytes:
    """Decompress (possibly multi-member) gzip data, refusing output over `max_bytes`."""
    out = bytearray()
    while data:
        decomp = zlib.decompressobj(wbits=31)
        try:
            out += decomp.decompress(data, max_bytes + 1 - len(out))
        except zlib.error as exc:
            raise InputError("corrupt-gzip", f"gzip data is corrupt: {exc}") from exc
        if len(out) > max_bytes:
            raise InputError("too-large", f"decompressed size exceeds --max-bytes ({max_bytes})")
        if not decomp.eof:
            raise InputError("truncated-gzip", "gzip stream ends before its end marker (truncated file)")
        data = decomp.unused_data.lstrip(b"\x00")
    return bytes(out)


def _looks_binary(text: str) -> bool:
    sample = text[:20000]
    if not sample:
        return False
    return len(_BINARY_CHARS.findall(sample)) > max(2, len(sample) // 200)


def _try_decode(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def decode_bytes(data: bytes, declared: str | None = None) -> tuple[str, str]:
    """Decode raw bytes to NFC text with \\n line ends; returns (text, encoding used).

    Order: byte-order mark, strict UTF-8, a declared charset (HTTP header, HTML
    meta, XML declaration), then statistical detection. Raises InputError for
    binary data.
    """
    text = encoding = None
    for bom, name in _BOMS:
        if data.startswith(bom):
            text, encoding = _try_decode(data[len(bom):], name), name
            break
    if text is None:
        text = _try_decode(data, "utf-8")
        encoding = "utf-8"
    if text is None:
        head = data[:4096]
        candidates = [declared] if declared else []
        for pattern in (_META_CHARSET, _XML_ENCODING):
            m = pattern.search(head)
            if m:
                candidates.append(m.group(1).decode("ascii", "replace"))
        for name in candidates:
            text = _try_decode(data, name)
            if text is not None:
                encoding = codecs.lookup(name).name if name else name
                break
    if text is None:
        if b"\x00" in data[:8192]:
            raise InputError("binary", "content is binary, not text (NUL bytes, no text encoding fits)")
        best = charset_normalizer.from_bytes(data[:200_000]).best()
        if best is None:
            raise InputError("undecodable", "no text encoding fits these bytes")
        encoding = best.encoding
        text = data.decode(encoding, errors="replace")
    if _looks_binary(text):
        raise InputError("binary", "content is binary, not text (control characters)")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return unicodedata.normalize("NFC", text), encoding or "utf-8"


def sniff_format(name: str, data: bytes) -> str:
    """Format from the file name (after any .gz), else from the first bytes."""
    lower = name.lower()
    if lower.endswith(".gz"):
        lower = lower[:-3]
    suffix = Path(lower).suffix
    if suffix in HTML_SUFFIXES:
        return "html"
    if suffix in JSONL_SUFFIXES:
        return "jsonl"
    if suffix in WARC_SUFFIXES:
        return "warc"
    head = data[:2048].lstrip()
    if head.startswith(b"WARC/"):
        return "warc"
    if head.startswith(b"{") and head.split(b"\n", 1)[0].rstrip().endswith(b"}"):
        return "jsonl"
    if _HTML_SNIFF.search(head[:1024]):
        return "html"
    return "text"


def iter_input_paths(inputs: Iterable[str]) -> Iterator[str]:
    """Expand directories recursively in sorted order; files and '-' pass through.

    Symlinks inside a directory are not followed, so a tree cannot lead the
    reader outside the paths it was given; hidden files and folders are skipped.
    """
    for item in inputs:
        if item == "-":
            yield item
            continue
        path = Path(item)
        if path.is_dir():
            found = []
            for root, dirs, files in os.walk(path, followlinks=False):
                dirs[:] = sorted(d for d in dirs if not d.startswith("."))
                for name in files:
                    full = Path(root) / name
                    if name.startswith(".") or full.is_symlink():
                        continue
                    found.append(full)
            yield from (str(p) for p in sorted(found, key=lambda p: p.relative_to(path).as_posix()))
        else:
            yield item


def _doc_id(sha: str, record: int | None) -> str:
    return sha[:16] if record is None else f"{sha[:16]}-{record}"


def _make_doc(text: str, source: Source) -> Document:
    return Document(id=_doc_id(source.sha256, source.record), source=source, content=text)


class Reader:
    """Turns input paths into a stream of Documents and Rejects."""

    name = "read"

    def __init__(self, config: ReadConfig | None = None, stdin: io.BufferedIOBase | None = None,
                 skip: Callable[[str, str], bool] | None = None):
        self.config = config or ReadConfig()
        self._stdin = stdin
        self._skip = skip  # (path, sha256) -> True when that input needs no processing

    def run(self, inputs: Iterable[str]) -> Iterator[Document | Reject | Unchanged]:
        for path in iter_input_paths(inputs):
            yield from self.read_path(path)

    def _load(self, path: str) -> bytes:
        max_bytes = self.config.max_bytes
        if path == "-":
            stream = self._stdin or sys.stdin.buffer
            data = stream.read(max_bytes + 1)
        else:
            p = Path(path)
            if not p.exists():
                raise InputError("not-found", "no such file or directory")
            if not p.is_file():
                raise InputError("not-a-file", "not a regular file")
            # gzip may expand a lot; the decompressed size is checked separately
            if p.stat().st_size > max_bytes and not path.endswith(".gz"):
                raise InputError("too-large", f"file size {p.stat().st_size} exceeds --max-bytes ({max_bytes})")
            try:
                data = p.read_bytes()
            except OSError as exc:
                raise InputError("unreadable", exc.strerror or str(exc)) from exc
        if len(data) > max_bytes and not data.startswith(b"\x1f\x8b"):
            raise InputError("too-large", f"input exceeds --max-bytes ({max_bytes})")
        return data

    def read_path(self, path: str) -> Iterator[Document | Reject | Unchanged]:
        try:
            raw = self._load(path)
            sha = sha256_hex(raw)
            if self._skip is not None and path != "-" and self._skip(path, sha):
                yield Unchanged(path, sha)
                return
            data = gunzip_capped(raw, self.config.max_bytes) if raw[:2] == b"\x1f\x8b" else raw
            if not data.strip():
                raise InputError("empty", "file is empty or only whitespace")
            fmt = self.config.input_format
            if fmt == "auto":
                fmt = sniff_format(path, data)
        except InputError as exc:
            yield Reject(kind="input", reason=exc.reason, detail=exc.detail, path=path)
            return
        if fmt == "jsonl":
            yield from self._read_jsonl(path, sha, data)
        elif fmt == "warc":
            yield from self._read_warc(path, sha, data)
        else:
            try:
                text, encoding = decode_bytes(data)
            except InputError as exc:
                yield Reject(kind="input", reason=exc.reason, detail=exc.detail, path=path)
                return
            source = Source(path=path, sha256=sha, format=fmt, content_type=fmt, encoding=encoding)
            yield _make_doc(text, source)

    def _read_jsonl(self, path: str, sha: str, data: bytes) -> Iterator[Document | Reject]:
        for index, line in enumerate(data.split(b"\n")):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
            except (json.JSONDecodeError, UnicodeDecodeError) as exc:
                yield Reject(kind="record", reason="bad-json", detail=f"line {index + 1}: {exc}",
                             path=path, record=index)
                continue
            if not isinstance(record, dict):
                yield Reject(kind="record", reason="bad-record", detail="a record must be a JSON object",
                             path=path, record=index)
                continue
            body, content_type = record.get("html"), "html"
            if not isinstance(body, str) or not body.strip():
                body, content_type = record.get("text"), "text"
            if not isinstance(body, str) or not body.strip():
                yield Reject(kind="record", reason="no-content",
                             detail="record has no non-empty string 'text' or 'html' field",
                             path=path, record=index)
                continue
            text = unicodedata.normalize("NFC", body.replace("\r\n", "\n").replace("\r", "\n"))
            url = record.get("url") if isinstance(record.get("url"), str) else None
            source = Source(path=path, sha256=sha, format="jsonl", url=url, record=index,
                            content_type=content_type, encoding="utf-8")
            doc = _make_doc(text, source)
            if record.get("id") is not None:
                doc.stages.append({"stage": "read", "record_id": str(record["id"])})
            yield doc

    def _read_warc(self, path: str, sha: str, data: bytes) -> Iterator[Document | Reject]:
        from warcio.archiveiterator import ArchiveIterator
        from warcio.exceptions import ArchiveLoadFailed

        index = -1
        produced = 0
        try:
            for index, rec in enumerate(ArchiveIterator(io.BytesIO(data))):
                if rec.rec_type not in ("response", "resource", "conversion"):
                    continue
                url = rec.rec_headers.get_header("WARC-Target-URI")
                if rec.http_headers is not None:
                    ctype = rec.http_headers.get_header("Content-Type") or ""
                else:
                    ctype = rec.rec_headers.get_header("Content-Type") or ""
                if rec.rec_type == "response" and rec.http_headers is None:
                    continue  # e.g. DNS records
                if not any(t in ctype.lower() for t in ("html", "text/plain", "xml")) and ctype:
                    continue  # images, PDFs and the like are not pages
                body = rec.content_stream().read(self.config.max_bytes + 1)
                if len(body) > self.config.max_bytes:
                    yield Reject(kind="record", reason="too-large", path=path, record=index,
                                 detail=f"WARC record exceeds --max-bytes ({self.config.max_bytes})")
                    continue
                m = re.search(r"charset=([\w.:-]+)", ctype, re.I)
                try:
                    text, encoding = decode_bytes(body, m.group(1) if m else None)
                except InputError as exc:
                    yield Reject(kind="record", reason=exc.reason, detail=exc.detail, path=path, record=index)
                    continue
                if not text.strip():
                    continue
                content_type = "text" if "text/plain" in ctype.lower() else "html"
                source = Source(path=path, sha256=sha, format="warc", url=url, record=index,
                                content_type=content_type, encoding=encoding)
                produced += 1
                yield _make_doc(text, source)
        except (ArchiveLoadFailed, EOFError, OSError, ValueError, zlib.error, gzip.BadGzipFile) as exc:
            produced += 1
            yield Reject(kind="record", reason="corrupt-warc", path=path, record=index + 1,
                         detail=f"WARC unreadable from record {index + 1} on: {exc}")
        if not produced:
            yield Reject(kind="input", reason="no-pages", path=path,
                         detail=f"no HTML or text page among {index + 1} WARC records"
                         if index >= 0 else "not a WARC file: no records could be read")
