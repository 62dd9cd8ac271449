"""Read stage: paths in, `Document`s (decoded, NFC text) or `Reject`s out.

Handles plain-text dumps, HTML, JSONL/JSON crawler records and WARC/ARC/WET,
each optionally gzip- or zstd-compressed; directories are walked recursively in
a stable (sorted) order and `-` reads standard input. Multi-record inputs are
streamed record by record from the file handle, so memory stays bounded
whatever the container's size: `max_bytes` limits one record (or one plain
file), never a container. A broken file or record never stops the run: it comes
out as a `Reject` with the path, record index and a plain reason; WARC records
that are not pages (requests, metadata, images, ...) are only counted, in
`Reader.skipped`.
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
import tempfile
import unicodedata
import warnings
import zlib
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from pathlib import Path
from typing import IO, Any

import chardet

from cleanpipe.config import ReadConfig
from cleanpipe.model import Document, Reject, Replayed, Source, Unchanged

TEXT_SUFFIXES = {".txt", ".text", ".md", ""}
HTML_SUFFIXES = {".html", ".htm", ".xhtml"}
JSONL_SUFFIXES = {".jsonl", ".ndjson"}
JSON_SUFFIXES = {".json"}
WARC_SUFFIXES = {".warc", ".arc", ".wet"}
COMPRESSED_SUFFIXES = (".gz", ".zst")
KNOWN_SUFFIXES = TEXT_SUFFIXES | HTML_SUFFIXES | JSONL_SUFFIXES | JSON_SUFFIXES | WARC_SUFFIXES

GZIP_MAGIC = b"\x1f\x8b"
ZSTD_MAGIC = b"\x28\xb5\x2f\xfd"
CHUNK = 1 << 16
HEAD_BYTES = 1 << 16  # how much of a (decompressed) input the format sniff looks at

# Crawler JSON field names, in the order they are tried. `html` is markup, `text`/`raw_content` (Dolma,
# RedPajama) are extracted text; `content`/`body` may be either and are sniffed.
BODY_FIELDS = ("html", "text", "raw_content", "content", "body")
URL_FIELDS = ("url", "WARC-Target-URI", "warc_url", "source_url")

_BOMS = [
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
]
# WHATWG Encoding: these labels mean windows-1252 on the web (a page "in latin-1" uses its curly quotes)
_WHATWG_ALIASES = {"iso-8859-1": "cp1252", "iso8859-1": "cp1252", "latin-1": "cp1252", "latin1": "cp1252",
                   "l1": "cp1252", "ascii": "cp1252", "us-ascii": "cp1252", "iso_8859-1": "cp1252",
                   "windows-1252": "cp1252", "x-user-defined": "cp1252"}
_META_CHARSET = re.compile(rb"""<meta[^>]{0,200}?charset\s*=\s*["']?\s*([A-Za-z0-9_.:-]{1,40})""", re.I)
_XML_ENCODING = re.compile(rb"""^<\?xml[^>]{0,100}encoding\s*=\s*["']([A-Za-z0-9_.:-]{1,40})""")
_HTTP_CHARSET = re.compile(r"charset\s*=\s*[\"']?([\w.:-]+)", re.I)
_HTML_SNIFF = re.compile(rb"<(!doctype html|html|head|body|div|p|article)\b", re.I)
# Control characters that never occur in real text (NUL..BS, SO..US less ESC, DEL)
_BINARY_CHARS = re.compile("[\x00-\x08\x0e-\x1a\x1c-\x1f\x7f]")
_STRAY_BYTE = re.compile("[\udc80-\udcff]")  # a byte UTF-8 could not decode, as surrogateescape holds it
_LONE_SURROGATE = re.compile("[\ud800-\udfff]")
_NON_ASCII = re.compile("[^\x00-\x7f]")
_ESCAPED_BYTE = re.compile(r"\\(\\|x[0-9a-f]{2})")

# WARC records that are pages; everything else is counted in Reader.skipped, not rejected one by one
PAGE_RECORD_TYPES = ("response", "resource", "conversion")
PAGE_MIME_TYPES = {"text/html": "html", "application/xhtml+xml": "html", "text/plain": "text", "": ""}


class NoInputs(Exception):
    """A run found no input at all (an empty folder, an unmounted crawl share, or an empty standard
    input when it is the run's only input: the producer upstream of the pipe failed): it stops
    before writing anything, so the previous output stays whole (a nightly job would otherwise
    replace it with an empty one). Empty stdin beside other inputs is a reject like an empty file."""

    def __init__(self, inputs: list[str], out: str | os.PathLike[str]):
        found = ("standard input was empty" if inputs == ["-"]
                 else f"no input found in {', '.join(display_path(p) for p in inputs)}")
        super().__init__(f"{found}: nothing was written, the output in {os.fspath(out)} is left as it was")


class InputError(Exception):
    """An input that cannot be read; `reason` is a short machine-readable code."""

    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason = reason
        self.detail = detail


# -- paths ----------------------------------------------------------------------------------------
def display_path(path: str) -> str:
    """A printable, lossless form of a path for records: bytes the file system name does not decode
    as UTF-8 (held by Python as surrogate escapes, e.g. `x\\udcff.txt`) become `\\xff`, and a literal
    backslash in such a name becomes `\\\\`. Names that decode (nearly all) are returned unchanged;
    `path_from_display` inverts it. Needed because JSON/SQLite cannot store lone surrogates as UTF-8."""
    if not _STRAY_BYTE.search(path):
        return path
    out = []
    for ch in path:
        if "\udc80" <= ch <= "\udcff":
            out.append(f"\\x{ord(ch) - 0xdc00:02x}")
        elif ch == "\\":
            out.append("\\\\")
        else:
            out.append(ch)
    return "".join(out)


def path_from_display(shown: str) -> str:
    """The os-level path (str with surrogate escapes) a `display_path` result stands for."""
    if "\\x" not in shown:
        return shown
    return _ESCAPED_BYTE.sub(lambda m: "\\" if m.group(1) == "\\" else chr(0xdc00 + int(m.group(1)[1:], 16)),
                             shown)


def _real(path: str | os.PathLike[str]) -> str:
    return os.path.realpath(os.fspath(path))


def _excluded(real: str, excluded: tuple[str, ...]) -> bool:
    return any(real == e or real.startswith(e.rstrip(os.sep) + os.sep) for e in excluded)


def iter_input_paths(inputs: Iterable[str], exclude: Iterable[str | os.PathLike[str]] = ()) -> Iterator[str]:
    """Expand directories recursively in sorted order; files and '-' pass through.

    Symlinks inside a directory are not followed, so a tree cannot lead the
    reader outside the paths it was given; hidden files and folders are skipped.
    Folders in `exclude` (e.g. the run's own output and state folders) and
    everything under them are never yielded. A folder that cannot be listed is
    yielded itself, so reading it gives an `unreadable` reject instead of its
    pages vanishing silently.
    """
    excluded = tuple(_real(e) for e in exclude)
    for item in inputs:
        if item == "-":
            yield item
            continue
        if excluded and _excluded(_real(item), excluded):
            continue
        path = Path(item)
        if path.is_dir():
            found: list[Path] = []

            def unlisted(err: OSError, found: list[Path] = found, top: Path = path) -> None:
                found.append(Path(err.filename) if err.filename else top)

            for root, dirs, files in os.walk(path, followlinks=False, onerror=unlisted):
                dirs[:] = sorted(d for d in dirs if not d.startswith(".")
                                 and not (excluded and _excluded(_real(os.path.join(root, d)), excluded)))
                for name in files:
                    full = Path(root) / name
                    if name.startswith(".") or full.is_symlink():
                        continue
                    found.append(full)
            yield from (str(p) for p in sorted(found, key=lambda p: p.relative_to(path).as_posix()))
        else:
            yield item


# -- bytes ----------------------------------------------------------------------------------------
def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _file_sha256(fh: IO[bytes]) -> str:
    """One streaming pass over an open file (constant memory), then back to its start."""
    digest = hashlib.sha256()
    for block in iter(lambda: fh.read(1 << 20), b""):
        digest.update(block)
    fh.seek(0)
    return digest.hexdigest()


def read_up_to(stream: IO[bytes], limit: int) -> bytes:
    """Read until `limit` bytes or the end: some streams (zstd, HTTP decoders) return short reads."""
    parts, got = [], 0
    while got < limit:
        block = stream.read(min(CHUNK * 16, limit - got))
        if not block:
            break
        parts.append(block)
        got += len(block)
    return b"".join(parts)


def _decompression_error(exc: BaseException) -> InputError:
    if isinstance(exc, EOFError):
        return InputError("truncated-gzip", "compressed stream ends before its end marker (truncated file)")
    name = type(exc).__name__
    if name == "ZstdError":
        if "incomplete" in str(exc) or "truncat" in str(exc) or "end" in str(exc):
            return InputError("truncated-zstd", f"zstd stream is truncated: {exc}")
        return InputError("corrupt-zstd", f"zstd data is corrupt: {exc}")
    return InputError("corrupt-gzip", f"gzip data is corrupt: {exc}")


def _decompression_errors() -> tuple[type[BaseException], ...]:
    errors: tuple[type[BaseException], ...] = (EOFError, zlib.error, gzip.BadGzipFile)
    try:
        import zstandard
    except ImportError:  # pragma: no cover - zstandard is a dependency
        return errors
    return (*errors, zstandard.ZstdError)


def open_decompressed(fh: IO[bytes]) -> IO[bytes]:
    """A streaming reader of `fh`'s content: gzip (any number of members) and zstd (any number of
    frames) are decompressed block by block, so neither the input nor its output is ever held whole."""
    fh.seek(0)
    magic = fh.read(4)
    fh.seek(0)
    if magic.startswith(GZIP_MAGIC):
        # GzipFile moves from member to member without copying what is left (linear in members)
        return gzip.GzipFile(fileobj=fh, mode="rb")
    if magic == ZSTD_MAGIC:
        import zstandard

        reader = zstandard.ZstdDecompressor().stream_reader(fh, read_across_frames=True, closefd=False)
        return io.BufferedReader(reader, CHUNK)  # type: ignore[arg-type]  # readline() for JSONL
    return fh


def gunzip_capped(data: bytes, max_bytes: int) -> bytes:
    """Decompress (possibly multi-member) gzip data, refusing output over `max_bytes`.

    Streams: at most `max_bytes` + one block of output is ever held."""
    stream = gzip.GzipFile(fileobj=io.BytesIO(data), mode="rb")
    try:
        out = read_up_to(stream, max_bytes + 1)
    except _decompression_errors() as exc:
        raise _decompression_error(exc) from exc
    if len(out) > max_bytes:
        raise InputError("too-large", f"decompressed size exceeds --max-bytes ({max_bytes})")
    return out


def _looks_binary(text: str) -> bool:
    sample = text[:20000]
    if not sample:
        return False
    return len(_BINARY_CHARS.findall(sample)) > max(2, len(sample) // 200)


def _codec(name: str | None) -> str | None:
    """Python codec for a declared charset label (WHATWG's latin-1 -> windows-1252), None if unknown."""
    if not name:
        return None
    label = name.strip().strip("\"'").lower()
    label = _WHATWG_ALIASES.get(label, label)
    try:
        return codecs.lookup(label).name
    except LookupError:
        return None


def _try_decode(data: bytes, encoding: str) -> str | None:
    try:
        return data.decode(encoding)
    except (UnicodeDecodeError, LookupError):
        return None


def _mostly_utf8(data: bytes) -> tuple[str, int] | None:
    """UTF-8 with a few stray bytes (a latin-1 byte pasted into a UTF-8 page): the text with those
    bytes replaced by U+FFFD and how many there were; None when the bytes are not mostly UTF-8.
    Valid multi-byte sequences essentially never occur by chance in legacy 8-bit text, so at least
    two of them per bad byte is strong evidence for UTF-8."""
    try:
        return data.decode("utf-8"), 0
    except UnicodeDecodeError:
        pass
    loose = data.decode("utf-8", "surrogateescape")
    bad = len(_STRAY_BYTE.findall(loose))
    multibyte = len(_NON_ASCII.findall(loose)) - bad
    if multibyte < 2 * bad:
        return None
    return data.decode("utf-8", "replace"), bad


class Decoded:
    """What decoding gave: NFC text, the codec used, and how many invalid bytes became U+FFFD."""

    __slots__ = ("text", "encoding", "replaced")

    def __init__(self, text: str, encoding: str, replaced: int = 0):
        self.text, self.encoding, self.replaced = text, encoding, replaced


def decode_content(data: bytes, declared: str | None = None) -> Decoded:
    """Decode raw bytes to NFC text with \\n line ends.

    Order: byte-order mark; UTF-8 (strict, or with a few stray bytes replaced
    and counted when the rest is clearly UTF-8); a declared charset (`declared`,
    e.g. from the HTTP header, before the HTML meta and XML declaration; WHATWG
    labels, so latin-1 means windows-1252); then statistical detection. Raises
    InputError for binary data.
    """
    text: str | None = None
    encoding, replaced = "utf-8", 0
    for bom, name in _BOMS:
        if data.startswith(bom):
            text, encoding = data[len(bom):].decode(name, "replace"), name
            break
    if text is None:
        mostly = _mostly_utf8(data)
        if mostly is not None:
            text, replaced = mostly
    if text is None:
        head = data[:4096]
        labels = [declared] if declared else []
        for pattern in (_META_CHARSET, _XML_ENCODING):
            m = pattern.search(head)
            if m:
                labels.append(m.group(1).decode("ascii", "replace"))
        for label in labels:
            codec = _codec(label)
            if codec and codec != "utf-8":
                text = _try_decode(data, codec)
                if text is not None:
                    encoding = codec
                    break
    if text is None:
        if b"\x00" in data[:8192]:
            raise InputError("binary", "content is binary, not text (NUL bytes, no text encoding fits)")
        encoding = _detected_encoding(data[:200_000])
        text = data.decode(encoding, errors="replace")
    if _looks_binary(text):
        raise InputError("binary", "content is binary, not text (control characters)")
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    return Decoded(unicodedata.normalize("NFC", text), encoding, replaced)


# What detection may answer: the web's encodings and the ISO ones (not DOS, Mac or mainframe code pages,
# which short Western texts look like as well: cp775 for French, MacCyrillic for Russian).
_DETECTED_ERAS = chardet.EncodingEra.MODERN_WEB | chardet.EncodingEra.LEGACY_ISO
# Below this confidence the bytes say little (an English page whose one non-ASCII byte is a © or ®
# was "ISO-8859-2" or "ISO-8859-16"): windows-1252, the web's default for undeclared pages, when it
# decodes them. On the benchmark's texts this costs 4 of 696 (short ones), on real pages it kept ®.
_WEAK_EVIDENCE = 0.15
_NO_MATCH = "cp037"  # what chardet says when nothing fits: an EBCDIC code page, outside the eras above


def _detected_encoding(data: bytes) -> str:
    """The encoding chardet finds for bytes that are not UTF-8 and declare none.

    Latin-1 becomes windows-1252, as browsers read it: they differ only in 0x80-0x9F, which
    are control characters in Latin-1 and curly quotes, dashes and the euro sign in 1252.
    On real sentences of 20 languages in their legacy encodings (benchmarks/charsets.py)
    the reader decodes 669 of 696 texts right, with charset-normalizer 536 (a 51-byte KOI8-R page was
    Shift-JIS, short French in windows-1252 was cp775)."""
    with warnings.catch_warnings():  # chardet warns that our sentinel is outside the eras: that is the point
        warnings.simplefilter("ignore", UserWarning)
        found = chardet.detect(data, encoding_era=_DETECTED_ERAS, no_match_encoding=_NO_MATCH)
    codec = codecs.lookup(found["encoding"]).name if found["encoding"] is not None else _NO_MATCH
    if codec == _NO_MATCH:
        raise InputError("undecodable", "no text encoding fits these bytes")
    weak = found["confidence"] < _WEAK_EVIDENCE
    if codec in ("latin-1", "iso8859-1", "ascii") or (weak and _decodes(data, "cp1252")):
        return "cp1252"
    return codec


def _decodes(data: bytes, codec: str) -> bool:
    try:
        data.decode(codec)
    except UnicodeDecodeError:
        return False
    return True


def decode_bytes(data: bytes, declared: str | None = None) -> tuple[str, str]:
    """`decode_content` as (text, encoding used)."""
    decoded = decode_content(data, declared)
    return decoded.text, decoded.encoding


# -- formats --------------------------------------------------------------------------------------
def _name_format(name: str) -> str | None:
    lower = name.lower()
    for suffix in COMPRESSED_SUFFIXES:
        if lower.endswith(suffix):
            lower = lower[: -len(suffix)]
    suffix = Path(lower).suffix
    if suffix in HTML_SUFFIXES:
        return "html"
    if suffix in JSONL_SUFFIXES:
        return "jsonl"
    if suffix in JSON_SUFFIXES:
        return "json"
    if suffix in WARC_SUFFIXES:
        return "warc"
    return None


def _content_format(head: bytes) -> str:
    start = head[:HEAD_BYTES].lstrip()
    if start.startswith(codecs.BOM_UTF8):
        start = start[3:].lstrip()
    if start.startswith(b"WARC/") or start.startswith(b"filedesc://"):
        return "warc"
    if start[:1] in (b"{", b"["):
        return "json"  # confirmed (or not) by parsing, see Reader._json_kind
    if _HTML_SNIFF.search(start[:1024]):
        return "html"
    return "text"


def _parses_as_object(line: bytes) -> bool:
    try:
        return isinstance(json.loads(line), dict)
    except (ValueError, UnicodeDecodeError, RecursionError):
        return False


def sniff_format(name: str, data: bytes) -> str:
    """Format from the file name (after any .gz/.zst), else from the content: WARC/ARC by their
    first line, JSONL when its first line (whatever its length) is a JSON object, then HTML or text."""
    fmt = _name_format(name)
    if fmt == "json":
        return "jsonl"
    if fmt is not None:
        return fmt
    fmt = _content_format(data)
    if fmt == "json":
        first = data.lstrip().split(b"\n", 1)[0]
        if _parses_as_object(first):
            return "jsonl"
        return "html" if _HTML_SNIFF.search(data[:1024]) else "text"
    return fmt


def _doc_id(sha: str, record: int | None) -> str:
    return sha[:16] if record is None else f"{sha[:16]}-{record}"


def _make_doc(text: str, source: Source, read_log: dict[str, Any] | None = None) -> Document:
    doc = Document(id=_doc_id(source.sha256, source.record), source=source, content=text)
    if read_log:
        doc.stages.append({"stage": "read", **read_log})
    return doc


def _normalize(text: str) -> str:
    return unicodedata.normalize("NFC", text.replace("\r\n", "\n").replace("\r", "\n"))


def _record_body(record: dict[str, Any]) -> tuple[str, str] | None:
    """(body, "html"|"text") from a crawler record's first non-empty content field."""
    for key in BODY_FIELDS:
        body = record.get(key)
        if isinstance(body, str) and body.strip():
            if key == "html":
                return body, "html"
            if key in ("content", "body") and _HTML_SNIFF.search(body[:1024].encode("utf-8", "replace")):
                return body, "html"
            return body, "text"
    return None


def _record_url(record: dict[str, Any]) -> str | None:
    for key in URL_FIELDS:
        if isinstance(record.get(key), str):
            return record[key]
    meta = record.get("metadata")
    if isinstance(meta, dict):
        for key in URL_FIELDS:
            if isinstance(meta.get(key), str):
                return meta[key]
    return None


def document_from_record(shown: str, sha: str, index: int, record: Any, fmt: str) -> Document | Reject:
    """One crawler record (a JSON object) as a Document, or why it cannot be one."""
    if not isinstance(record, dict):
        return Reject(kind="record", reason="bad-record", detail="a record must be a JSON object",
                      path=shown, record=index)
    found = _record_body(record)
    if found is None:
        return Reject(kind="record", reason="no-content", path=shown, record=index,
                      detail="record has no non-empty string field among " + ", ".join(BODY_FIELDS))
    body, content_type = found
    # a JSON "\ud800" escape with no partner cannot be written as UTF-8: U+FFFD, counted
    body, lone = _LONE_SURROGATE.subn("\ufffd", body)
    record_id = str(record["id"]) if record.get("id") is not None else None
    source = Source(path=shown, sha256=sha, format=fmt, url=_record_url(record), record=index,
                    content_type=content_type, encoding="utf-8", record_id=record_id)
    log: dict[str, Any] = {"record_id": record_id} if record_id else {}
    if lone:
        log["replaced_chars"] = lone
    return _make_doc(_normalize(body), source, log)


def _iter_lines(stream: IO[bytes], cap: int) -> Iterator[tuple[int, bytes | None]]:
    """(0-based line number, line) from a stream, one line in memory at a time; a line longer than
    `cap` comes out as None after being skipped in blocks."""
    index = 0
    while True:
        line = stream.readline(cap + 1)
        if not line:
            return
        if len(line) > cap and not line.endswith(b"\n"):
            while True:
                rest = stream.readline(CHUNK)
                if not rest or rest.endswith(b"\n"):
                    break
            yield index, None
        else:
            yield index, line
        index += 1


class _Opened:
    """An input opened for reading: a seekable binary handle (stdin is spooled to a temporary file
    while hashed), its size and sha256."""

    def __init__(self, fh: IO[bytes], sha: str, size: int):
        self.fh, self.sha, self.size = fh, sha, size


class Reader:
    """Turns input paths into a stream of Documents, Rejects and Unchanged inputs.

    `skip(path, sha256)` is asked before an input's records are produced (with the
    path as recorded, `display_path`); stdin is never skipped. `exclude` lists
    folders never read (the run's output and state). `skipped` counts, by reason,
    WARC records that are not pages (not rejects: a crawl has tens of thousands).
    `resume(path, sha256)` may give, by record index, what an interrupted earlier run
    already produced for records of this very input (JSON lines and WARC): those
    records are passed on as `Replayed` instead of being processed again.
    """

    name = "read"

    def __init__(self, config: ReadConfig | None = None, stdin: IO[bytes] | None = None,
                 skip: Callable[[str, str], bool] | None = None, *,
                 exclude: Iterable[str | os.PathLike[str]] = (),
                 resume: Callable[[str, str], Mapping[int, list[Document | Reject]] | None] | None = None):
        self.config = config or ReadConfig()
        self._resume = resume
        self._stdin = stdin
        self._skip = skip  # (path, sha256) -> True when that input needs no processing
        self.exclude = tuple(exclude)
        self.skipped: Counter[str] = Counter()

    def run(self, inputs: Iterable[str]) -> Iterator[Document | Reject | Unchanged | Replayed]:
        for path in iter_input_paths(inputs, exclude=self.exclude):
            yield from self.read_path(path)

    # -- opening ----------------------------------------------------------------------------------
    def _open(self, path: str) -> _Opened:
        if path == "-":
            stream = self._stdin or sys.stdin.buffer
            spool = tempfile.TemporaryFile(prefix="cleanpipe-stdin-")  # noqa: SIM115 - closed by read_path
            digest, size = hashlib.sha256(), 0
            for block in iter(lambda: stream.read(1 << 20), b""):
                digest.update(block)
                spool.write(block)
                size += len(block)
            spool.seek(0)
            return _Opened(spool, digest.hexdigest(), size)
        if os.path.isdir(path):
            try:  # only a folder that the walk could not list gets here
                with os.scandir(path):
                    pass
            except OSError as exc:
                raise InputError("unreadable", f"folder cannot be listed: {exc.strerror or exc}") from exc
            raise InputError("not-a-file", "a folder, not a file")
        if not os.path.exists(path):
            raise InputError("not-found", "no such file or directory")
        if not os.path.isfile(path):
            raise InputError("not-a-file", "not a regular file")
        try:
            fh = open(path, "rb")  # noqa: SIM115 - closed by read_path
            sha = _file_sha256(fh)
        except OSError as exc:
            raise InputError("unreadable", exc.strerror or str(exc)) from exc
        return _Opened(fh, sha, os.fstat(fh.fileno()).st_size)

    def read_path(self, path: str) -> Iterator[Document | Reject | Unchanged | Replayed]:
        shown = display_path(path)
        try:
            opened = self._open(path)
        except InputError as exc:
            yield Reject(kind="input", reason=exc.reason, detail=exc.detail, path=shown)
            return
        with opened.fh:
            if self._skip is not None and path != "-" and self._skip(shown, opened.sha):
                yield Unchanged(shown, opened.sha)
                return
            replay = self._resume(shown, opened.sha) if self._resume is not None and path != "-" else None
            yield from self._read_opened(path, shown, opened, replay or {})

    def _read_opened(self, path: str, shown: str, opened: _Opened,
                     replay: Mapping[int, list[Document | Reject]]) -> Iterator[Document | Reject | Replayed]:
        errors = _decompression_errors()
        try:
            if opened.size == 0:
                raise InputError("empty", "file is empty or only whitespace")
            fmt = self.config.input_format
            if fmt == "auto":
                fmt = _name_format(path) or self._content_format(opened)
            if fmt == "json":
                fmt = self._json_kind(opened, explicit=_name_format(path) == "json")
        except InputError as exc:
            yield Reject(kind="input", reason=exc.reason, detail=exc.detail, path=shown)
            return
        except errors as exc:
            err = _decompression_error(exc)
            yield Reject(kind="input", reason=err.reason, detail=err.detail, path=shown)
            return
        try:
            if fmt == "jsonl":
                yield from self._read_jsonl(shown, opened, replay)
            elif fmt == "json-array":
                yield from self._read_json_array(shown, opened)
            elif fmt == "warc":
                yield from self._read_warc(shown, opened, replay)
            else:
                yield from self._read_plain(shown, opened, fmt)
        except InputError as exc:
            yield Reject(kind="input", reason=exc.reason, detail=exc.detail, path=shown)
        except errors as exc:  # a multi-record input cut or corrupted after its first records
            err = _decompression_error(exc)
            yield Reject(kind="input", reason=err.reason, path=shown,
                         detail=f"{err.detail}; the records before the damage were read")
        except OSError as exc:  # e.g. an I/O error on a failing disk halfway through
            yield Reject(kind="input", reason="unreadable", path=shown,
                         detail=f"read failed: {exc.strerror or exc}; the records before it were read")

    def _content_format(self, opened: _Opened) -> str:
        head = read_up_to(open_decompressed(opened.fh), HEAD_BYTES)
        if not head.strip():
            raise InputError("empty", "file is empty or only whitespace")
        return _content_format(head)

    def _json_kind(self, opened: _Opened, explicit: bool) -> str:
        """JSON lines when one of the first non-blank lines (read whole, whatever its length) is a
        JSON object; else one JSON array of records; else, for a file not named .json, HTML or text."""
        stream = open_decompressed(opened.fh)
        checked = 0
        for _, line in _iter_lines(stream, self.config.max_bytes):
            if line is None or not line.strip():
                continue
            if _parses_as_object(line):
                return "jsonl"
            checked += 1
            if checked >= 3:
                break
        head = read_up_to(open_decompressed(opened.fh), HEAD_BYTES)
        if head.lstrip().startswith(b"[") and (explicit or self._is_json_array(opened)):
            return "json-array"
        if explicit:
            raise InputError("not-json", "named .json but neither JSON lines nor a JSON array of records "
                                         "(formats tried: jsonl, json array)")
        return "html" if _HTML_SNIFF.search(head[:1024]) else "text"

    def _is_json_array(self, opened: _Opened) -> bool:
        """Content that starts with "[" but was not named .json: a JSON array, or text ("[Update] ...")?"""
        data = read_up_to(open_decompressed(opened.fh), self.config.max_bytes + 1)
        if len(data) > self.config.max_bytes:
            return False  # too large either way; rejected as a plain file
        try:
            return isinstance(json.loads(data), list)
        except (ValueError, UnicodeDecodeError, RecursionError):
            return False

    # -- plain files ------------------------------------------------------------------------------
    def _read_plain(self, shown: str, opened: _Opened, fmt: str) -> Iterator[Document | Reject]:
        max_bytes = self.config.max_bytes
        data = read_up_to(open_decompressed(opened.fh), max_bytes + 1)
        if len(data) > max_bytes:
            raise InputError("too-large", f"input exceeds --max-bytes ({max_bytes})"
                             + (" after decompression" if opened.size <= max_bytes else ""))
        if not data.strip():
            raise InputError("empty", "file is empty or only whitespace")
        if fmt not in ("html", "text"):
            fmt = _content_format(data)
            fmt = fmt if fmt in ("html", "text") else "text"
        decoded = decode_content(data)
        source = Source(path=shown, sha256=opened.sha, format=fmt, content_type=fmt, encoding=decoded.encoding)
        yield _make_doc(decoded.text, source, {"replaced_bytes": decoded.replaced} if decoded.replaced else None)

    # -- JSON records -----------------------------------------------------------------------------
    def _json_record(self, shown: str, sha: str, index: int, record: Any, fmt: str) -> Document | Reject:
        return document_from_record(shown, sha, index, record, fmt)

    def _read_jsonl(self, shown: str, opened: _Opened,
                    replay: Mapping[int, list[Document | Reject]]) -> Iterator[Document | Reject | Replayed]:
        max_bytes, any_line = self.config.max_bytes, False
        for index, line in _iter_lines(open_decompressed(opened.fh), max_bytes):
            if index in replay:
                any_line = True
                yield from (Replayed(item) for item in replay[index])
                continue
            if line is None:
                any_line = True
                yield Reject(kind="record", reason="too-large", path=shown, record=index,
                             detail=f"line {index + 1} exceeds --max-bytes ({max_bytes})")
                continue
            if not line.strip():
                continue
            any_line = True
            try:
                record = json.loads(line)
            except (ValueError, UnicodeDecodeError, RecursionError) as exc:
                yield Reject(kind="record", reason="bad-json", detail=f"line {index + 1}: {exc}",
                             path=shown, record=index)
                continue
            yield self._json_record(shown, opened.sha, index, record, "jsonl")
        if not any_line:
            raise InputError("empty", "file is empty or only whitespace")

    def _read_json_array(self, shown: str, opened: _Opened) -> Iterator[Document | Reject]:
        max_bytes = self.config.max_bytes
        data = read_up_to(open_decompressed(opened.fh), max_bytes + 1)
        if len(data) > max_bytes:  # an array is one JSON value: only JSON lines stream
            raise InputError("too-large", f"a JSON array over --max-bytes ({max_bytes}); use JSON lines")
        try:
            records = json.loads(data)
        except (ValueError, UnicodeDecodeError, RecursionError) as exc:
            raise InputError("bad-json", f"not valid JSON (formats tried: jsonl, json array): {exc}") from exc
        if not isinstance(records, list):
            records = [records]
        for index, record in enumerate(records):
            yield self._json_record(shown, opened.sha, index, record, "json")

    # -- WARC / ARC / WET -------------------------------------------------------------------------
    def _read_warc(self, shown: str, opened: _Opened,
                   replay: Mapping[int, list[Document | Reject]]) -> Iterator[Document | Reject | Replayed]:
        from warcio.archiveiterator import ArchiveIterator
        from warcio.exceptions import ArchiveLoadFailed
        from warcio.statusandheaders import StatusAndHeadersParserException

        opened.fh.seek(0)
        magic = opened.fh.read(4)
        opened.fh.seek(0)
        # warcio reads gzip record by record itself; zstd is decompressed around it
        stream = open_decompressed(opened.fh) if magic == ZSTD_MAGIC else opened.fh
        iterator = ArchiveIterator(stream, arc2warc=True)  # ARC headers as WARC ones
        index, produced, pages = -1, 0, 0
        try:
            for index, rec in enumerate(iterator):
                if index in replay:  # done by an interrupted run: its body is not even decoded
                    done = replay[index]  # read from the state store: once
                    produced += len(done)
                    yield from (Replayed(item) for item in done)
                    continue
                item = self._warc_record(shown, opened.sha, index, rec)
                # what the record's header promised and the file did not hold: cut off by the file's end
                while rec.raw_stream.read(CHUNK):
                    pass
                if getattr(rec.raw_stream, "limit", 0) > 0:
                    produced += 1
                    yield Reject(kind="record", reason="truncated-record", path=shown, record=index,
                                 detail=f"the file ends inside WARC record {index}: "
                                        f"{rec.raw_stream.limit} bytes of it are missing")
                    continue
                if item is not None:
                    produced += 1
                    pages += isinstance(item, Document)
                    yield item
        except (ArchiveLoadFailed, StatusAndHeadersParserException, ValueError, OSError, EOFError,
                zlib.error) as exc:
            produced += 1
            yield Reject(kind="record", reason="corrupt-warc", path=shown, record=index + 1,
                         detail=f"WARC unreadable from record {index + 1} on: {exc}")
        else:
            if stream is opened.fh and (tail := self._unread_tail(opened, iterator.offset)):
                produced += 1  # warcio stops silently at a gzip member cut short
                yield Reject(kind="record", reason="truncated-record", path=shown, record=index + 1,
                             detail=f"the file ends inside WARC record {index + 1}: its last {tail} bytes "
                                    "are not a complete record")
        if not produced:
            yield Reject(kind="input", reason="no-pages", path=shown,
                         detail=f"no HTML or text page among {index + 1} WARC records"
                         if index >= 0 else "not a WARC file: no records could be read")

    @staticmethod
    def _unread_tail(opened: _Opened, offset: int) -> int:
        """Bytes after the last complete record that are more than padding (0 when none)."""
        if offset >= opened.size:
            return 0
        opened.fh.seek(offset)
        rest = opened.fh.read(CHUNK)
        if len(rest) == opened.size - offset and not rest.strip(b"\x00\r\n\t "):
            return 0
        return opened.size - offset

    def _warc_record(self, shown: str, sha: str, index: int, rec: Any) -> Document | Reject | None:
        """A page record as a Document (or a Reject when it cannot be read); None when it is not a
        page, counted in `skipped` by reason."""
        rec_type = rec.rec_type
        if rec_type not in PAGE_RECORD_TYPES:
            self.skipped[f"record:{rec_type}"] += 1
            return None
        if rec.http_headers is not None:
            status = rec.http_headers.get_statuscode()
            if rec.rec_type == "response" and status != "200":
                self.skipped[f"http-status:{status}"] += 1
                return None
            ctype = rec.http_headers.get_header("Content-Type") or ""
        elif rec_type == "response":  # e.g. DNS records
            self.skipped["record:response-not-http"] += 1
            return None
        else:
            ctype = rec.rec_headers.get_header("Content-Type") or ""
        mime = ctype.split(";", 1)[0].strip().lower()
        if rec_type == "conversion" and not mime:
            mime = "text/plain"  # WET: extracted text
        if mime not in PAGE_MIME_TYPES:
            self.skipped[f"content-type:{mime[:60]}"] += 1
            return None
        max_bytes = self.config.max_bytes
        try:
            body = read_up_to(rec.content_stream(), max_bytes + 1)
        except (OSError, ValueError, EOFError, zlib.error) as exc:
            return Reject(kind="record", reason="bad-encoding", path=shown, record=index,
                          detail=f"HTTP body cannot be decoded (chunked or content-encoding): {exc}")
        if len(body) > max_bytes:
            return Reject(kind="record", reason="too-large", path=shown, record=index,
                          detail=f"WARC record exceeds --max-bytes ({max_bytes})")
        if not body.strip():
            self.skipped["empty"] += 1
            return None
        m = _HTTP_CHARSET.search(ctype)
        try:
            decoded = decode_content(body, m.group(1) if m else None)
        except InputError as exc:
            return Reject(kind="record", reason=exc.reason, detail=exc.detail, path=shown, record=index)
        if not decoded.text.strip():
            self.skipped["empty"] += 1
            return None
        content_type = PAGE_MIME_TYPES[mime] or _content_format(body)
        if content_type not in ("html", "text"):
            content_type = "text"
        headers = rec.rec_headers
        source = Source(path=shown, sha256=sha, format="warc", url=headers.get_header("WARC-Target-URI"),
                        record=index, content_type=content_type, encoding=decoded.encoding,
                        record_id=headers.get_header("WARC-Record-ID"), fetched_at=headers.get_header("WARC-Date"))
        log: dict[str, Any] = {}
        if decoded.replaced:
            log["replaced_bytes"] = decoded.replaced
        if headers.get_header("WARC-Truncated"):
            log["truncated"] = headers.get_header("WARC-Truncated")  # the crawler cut it: kept, marked
        return _make_doc(decoded.text, source, log)
