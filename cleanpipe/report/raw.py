"""The raw input of a document, read again from its `source.path` for the before/after view."""

from __future__ import annotations

import re
from collections import OrderedDict
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cleanpipe.config import ReadConfig
from cleanpipe.io.read import Reader, path_from_display
from cleanpipe.model import Document

# tags whose text is on its own line(s) when a browser shows the page
_BLOCK = {"address", "article", "aside", "blockquote", "br", "dd", "div", "dl", "dt", "fieldset", "figcaption",
          "figure", "footer", "form", "h1", "h2", "h3", "h4", "h5", "h6", "header", "hr", "li", "main", "nav",
          "ol", "p", "pre", "section", "table", "td", "th", "tr", "ul", "title", "option", "label", "button"}
_SPACE = re.compile(r"\s+")


@dataclass
class RawPage:
    """`status`: ok | changed (the file's sha256 is not the run's) | gone (cannot be read).
    `lines`: the decoded text's lines (text dumps, line numbers as in provenance) or, for HTML,
    the page's visible text one block per line (not line-addressed: `html` is True)."""

    status: str
    note: str
    lines: list[str]
    html: bool = False


class RawReader:
    """Reads inputs again, as a stream: a JSONL or WARC input of many documents is never held whole.

    Documents are asked for in output order, which is each input's record order, so one open
    reader per input moves forward to the record asked for; asking for an earlier record opens
    the input again. A few inputs stay open (documents of several inputs may interleave).
    """

    def __init__(self, bases: list[Path], cache: int = 4, max_bytes: int = 200_000_000):
        self.bases = bases
        self._open: OrderedDict[str, _Cursor] = OrderedDict()
        self._size = cache
        self._max_bytes = max_bytes  # one record's limit, not the file's

    def _resolve(self, path: str) -> Path | None:
        p = Path(path_from_display(path))  # a non-UTF-8 name is recorded in its printable form
        if p.is_absolute():
            return p if p.is_file() else None
        for base in [Path.cwd(), *self.bases]:
            if (base / p).is_file():
                return base / p
        return None

    def _load(self, path: str, fmt: str, record: int | None) -> tuple[str, Document | None] | None:
        """(sha256 of the input as it is now, its document `record` or None when it holds none)."""
        cursor = self._open.get(path)
        if cursor is None or not cursor.can_reach(record):
            real = self._resolve(path)
            if real is None:
                return None
            reader = Reader(ReadConfig(max_bytes=self._max_bytes,
                                       input_format=fmt if fmt in ("text", "html", "jsonl", "warc") else "auto"))
            cursor = _Cursor(reader.read_path(str(real)))
            self._open[path] = cursor
            if len(self._open) > self._size:
                self._open.popitem(last=False)[1].close()
        self._open.move_to_end(path)
        doc = cursor.seek(record)
        return cursor.sha or "", doc

    def page(self, src: dict[str, Any]) -> RawPage:
        path = src.get("path")
        if not isinstance(path, str) or path == "-":
            return RawPage("gone", "the input was standard input: it cannot be read again", [])
        record = src.get("record") if isinstance(src.get("record"), int) else None
        try:
            loaded = self._load(path, str(src.get("format") or "auto"), record)
        except OSError as exc:
            return RawPage("gone", f"{path} cannot be read: {exc.strerror or exc}", [])
        if loaded is None:
            return RawPage("gone", f"{path} is gone: the raw input is not there any more", [])
        sha, doc = loaded
        if doc is None:
            return RawPage("gone", f"{path} no longer holds record {src.get('record')}", [])
        status, note = "ok", f"read again from {path}"
        if src.get("sha256") and sha != src.get("sha256"):
            status, note = "changed", (f"{path} has changed since the run (sha256 {sha[:12]}, the run read "
                                       f"{str(src.get('sha256'))[:12]}): line marks may be wrong")
        if doc.source.content_type == "html" or src.get("content_type") == "html":
            return RawPage(status, note, visible_lines(doc.content), html=True)
        return RawPage(status, note, doc.content.split("\n"))


class _Cursor:
    """One pass over an input's documents, in record order."""

    def __init__(self, items: Iterator[Any]):
        self._items = items
        self._current: Document | None = None
        self._last: int = -1  # the last record index read (-1: none yet)
        self._done = False
        self.sha: str | None = None

    def can_reach(self, record: int | None) -> bool:
        """Without going back: a plain file's one document (record None) is always at hand."""
        if record is None:
            return True
        return self._current is not None and self._current.source.record == record or record > self._last

    def seek(self, record: int | None) -> Document | None:
        if self._current is not None and self._current.source.record == record:
            return self._current
        while not self._done:
            item = next(self._items, None)
            if item is None:
                self._done = True
                break
            if not isinstance(item, Document):
                continue
            self._current, self.sha = item, item.source.sha256
            self._last = item.source.record if item.source.record is not None else self._last
            if item.source.record == record:
                return item
            if record is not None and item.source.record is not None and item.source.record > record:
                return None  # not a page of this input (any more)
        return None

    def close(self) -> None:
        close = getattr(self._items, "close", None)
        if close is not None:
            close()


def visible_lines(markup: str) -> list[str]:
    """An HTML page's visible text, one block per line (scripts, styles and markup dropped)."""
    import lxml.html
    from lxml import etree

    try:
        tree = lxml.html.document_fromstring(markup)
    except (etree.ParserError, ValueError):
        return [ln for ln in (_SPACE.sub(" ", x).strip() for x in markup.split("\n")) if ln]
    etree.strip_elements(tree, "script", "style", "noscript", "template", "svg", etree.Comment, with_tail=False)
    for el in tree.iter():
        if isinstance(el.tag, str) and el.tag.lower() in _BLOCK:
            el.tail = "\n" + (el.tail or "")
            el.text = "\n" + (el.text or "")
    return [ln for ln in (_SPACE.sub(" ", x).strip() for x in tree.text_content().split("\n")) if ln]
