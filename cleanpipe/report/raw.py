"""The raw input of a document, read again from its `source.path` for the before/after view."""

from __future__ import annotations

import hashlib
import re
from collections import OrderedDict
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from cleanpipe.config import ReadConfig
from cleanpipe.io.read import Reader
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
    """Reads inputs again, a few files cached (a JSONL or WARC input holds many documents)."""

    def __init__(self, bases: list[Path], cache: int = 4):
        self.bases = bases
        self._cache: OrderedDict[str, tuple[str, dict[int | None, Document]]] = OrderedDict()
        self._size = cache

    def _resolve(self, path: str) -> Path | None:
        p = Path(path)
        if p.is_absolute():
            return p if p.is_file() else None
        for base in [Path.cwd(), *self.bases]:
            if (base / p).is_file():
                return base / p
        return None

    def _load(self, path: str, fmt: str) -> tuple[str, dict[int | None, Document]] | None:
        if path in self._cache:
            self._cache.move_to_end(path)
            return self._cache[path]
        real = self._resolve(path)
        if real is None:
            return None
        data = real.read_bytes()
        sha = hashlib.sha256(data).hexdigest()
        reader = Reader(ReadConfig(max_bytes=max(len(data) * 50, 50_000_000),
                                   input_format=fmt if fmt in ("text", "html", "jsonl", "warc") else "auto"))
        docs = {d.source.record: d for d in reader.read_path(str(real)) if isinstance(d, Document)}
        self._cache[path] = (sha, docs)
        if len(self._cache) > self._size:
            self._cache.popitem(last=False)
        return sha, docs

    def page(self, src: dict[str, Any]) -> RawPage:
        path = src.get("path")
        if not isinstance(path, str) or path == "-":
            return RawPage("gone", "the input was standard input: it cannot be read again", [])
        try:
            loaded = self._load(path, str(src.get("format") or "auto"))
        except OSError as exc:
            return RawPage("gone", f"{path} cannot be read: {exc.strerror or exc}", [])
        if loaded is None:
            return RawPage("gone", f"{path} is gone: the raw input is not there any more", [])
        sha, docs = loaded
        doc = docs.get(src.get("record") if isinstance(src.get("record"), int) else None)
        if doc is None:
            return RawPage("gone", f"{path} no longer holds record {src.get('record')}", [])
        status, note = "ok", f"read again from {path}"
        if src.get("sha256") and sha != src.get("sha256"):
            status, note = "changed", (f"{path} has changed since the run (sha256 {sha[:12]}, the run read "
                                       f"{str(src.get('sha256'))[:12]}): line marks may be wrong")
        if doc.source.content_type == "html" or src.get("content_type") == "html":
            return RawPage(status, note, visible_lines(doc.content), html=True)
        return RawPage(status, note, doc.content.split("\n"))


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
