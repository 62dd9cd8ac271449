"""The document model that carries text and provenance through every stage.

A `Document` starts as decoded raw content (a text dump or HTML) and leaves as
paragraphs and comments, each paragraph knowing which raw lines it came from.
Every stage appends one dict to `stages` saying what it did; nothing a stage
removes disappears without a trace there or in a `Reject`.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

PREVIEW_CHARS = 80  # how much of a removed line or paragraph its record quotes
# A comment_block line with this text is a break the page's markup gave: one comment element ends there.
COMMENT_BREAK = ""


@dataclass
class Source:
    path: str
    sha256: str
    format: str  # text | html | jsonl | json | warc (ARC and WET included)
    url: str | None = None
    record: int | None = None  # index inside a multi-record file (jsonl line, warc record)
    content_type: str | None = None  # text | html: what the content inside the container is
    encoding: str | None = None
    record_id: str | None = None  # the record's own id: WARC-Record-ID, or a JSONL record's "id"
    fetched_at: str | None = None  # when the crawler fetched it (WARC-Date)


@dataclass
class Paragraph:
    text: str
    source_lines: list[int] | None = None  # [first, last], 1-based lines of the decoded raw content
    kind: str = "text"  # text | heading | list


@dataclass
class Comment:
    id: str
    text: str
    source_lines: list[int] | None = None
    author: str | None = None
    date: str | None = None
    duplicates: int = 0  # how many later near-copies were dropped in favour of this one


@dataclass
class Document:
    id: str
    source: Source
    content: str = ""  # decoded raw content; cleared once stripped
    title: str | None = None
    byline: str | None = None
    date: str | None = None
    paragraphs: list[Paragraph] = field(default_factory=list)
    comments: list[Comment] = field(default_factory=list)
    # the raw comment section, (line no, text) pairs, between the strip and comments stages; a
    # COMMENT_BREAK text marks where the page's markup ends one comment
    comment_block: list[tuple[int, str]] = field(default_factory=list)
    # digests of the page's lines (`lines.line_key`), for counting lines across a site's pages
    line_keys: list[int] = field(default_factory=list)
    stages: list[dict[str, Any]] = field(default_factory=list)
    quality: dict[str, Any] | None = None  # signals of the quality stage (`quality.text_signals`)
    # near-duplicate documents: digest, LSH band keys and shingles (`docdedup.DocumentSketcher`)
    doc_sketch: dict[str, str] | None = None

    @property
    def text(self) -> str:
        return "\n\n".join(p.text for p in self.paragraphs)

    def to_dict(self) -> dict[str, Any]:
        # hand-written: dataclasses.asdict deep-copies recursively and dominated spool time
        return {
            "id": self.id,
            "source": dict(vars(self.source)),
            "content": self.content,
            "title": self.title,
            "byline": self.byline,
            "date": self.date,
            "paragraphs": [dict(vars(p)) for p in self.paragraphs],
            "comments": [dict(vars(c)) for c in self.comments],
            "comment_block": self.comment_block,
            "line_keys": self.line_keys,
            "stages": self.stages,
            "quality": self.quality,
            "doc_sketch": self.doc_sketch,
        }

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Document:
        return cls(
            id=data["id"],
            source=Source(**data["source"]),
            content=data.get("content", ""),
            title=data.get("title"),
            byline=data.get("byline"),
            date=data.get("date"),
            paragraphs=[Paragraph(**p) for p in data.get("paragraphs", [])],
            comments=[Comment(**c) for c in data.get("comments", [])],
            comment_block=[tuple(x) for x in data.get("comment_block", [])],
            line_keys=list(data.get("line_keys", [])),
            stages=list(data.get("stages", [])),
            quality=data.get("quality"),
            doc_sketch=data.get("doc_sketch"),
        )


@dataclass
class Reject:
    """Something that did not become (part of) a document, and why."""

    kind: str  # input | record | document | comment
    reason: str  # short machine-readable reason, e.g. "decode-error", "duplicate"
    detail: str = ""  # plain-language explanation
    path: str | None = None
    record: int | None = None
    doc_id: str | None = None
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def is_error(self) -> bool:
        """A failure (drives the exit code): unreadable input, or a page no stage could finish.
        Pages with no content and duplicate comments are results, not errors."""
        return self.kind in ("input", "record") or self.reason in ("stage-error", "timeout", "worker-crash")


# a page that timed out or crashed its worker may pass next time: it is processed again by the next
# run, and its input is not remembered as done
RETRIED_REASONS = ("timeout", "worker-crash")


@dataclass
class Unchanged:
    """An input already processed with this config (same content hash): not read again."""

    path: str
    sha256: str


@dataclass
class Replayed:
    """An item an interrupted earlier run already produced for this record of the same input
    (same path and content): passed on as it was, not processed again."""

    item: Document | Reject
