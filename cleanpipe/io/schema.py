"""The output contract: one JSON Schema for document and reject records, and the helpers that
shape records to it (ISO dates, typed provenance stages, typed rejects).

The schema file (schemas/records.schema.json, printed by `cleanpipe schema`) is the single
source: the Parquet writer's Arrow schema is derived from it, and the tests validate every
record the writers produce against it. SCHEMA_VERSION goes into each record and the manifest;
a run whose previous output has another version processes every input again.
"""

from __future__ import annotations

import json
import re
from datetime import datetime
from functools import cache, lru_cache
from importlib import resources
from typing import Any

from cleanpipe.model import Reject

SCHEMA_VERSION = "3"  # 1: the unversioned records before the contract (free-text dates, config per record);
# 2: source without record_id and fetched_at
PROVENANCE_LEVELS = ("full", "compact", "off")
STAGE_FIELDS = ("kept", "removed", "mode", "line_model", "comment_section", "site", "site_pages", "min_pages",
                "record_id", "note")


@cache
def json_schema() -> dict[str, Any]:
    """The published JSON Schema (both record kinds under $defs)."""
    text = resources.files("cleanpipe.io").joinpath("schemas/records.schema.json").read_text(encoding="utf-8")
    return json.loads(text)


def record_schema(kind: str) -> dict[str, Any]:
    """A standalone schema for one record kind ("document" or "reject"), for validators."""
    full = json_schema()
    return {"$schema": full["$schema"], "$defs": full["$defs"], "$ref": f"#/$defs/{kind}"}


# -- dates ----------------------------------------------------------------------------------------
# Two defaults that differ in every date part: a part the text did not give comes out different.
_DEFAULTS = (datetime(1904, 1, 1), datetime(1908, 12, 28))


_ISO = re.compile(r"^(\d{4})-(\d{2})-(\d{2})(?:[T ][0-9:.]+(?:Z|[+-]\d{2}:?\d{2})?)?$")


def iso_date(text: str | None) -> str | None:
    """`text` as YYYY-MM-DD, or None unless the text gives day, month and year.

    dateutil rather than dateparser: 0.2 ms a date against 5.5 ms, and it never resolves
    relative dates ("yesterday") against the clock. "March 2019" stays None: no day is invented.
    Numeric dates like 03/04/2019 are read month first (dateutil's default).
    """
    if not text or len(text) > 100:
        return None
    if m := _ISO.match(text):  # the HTML extractor's dates: no parsing needed
        try:
            day = datetime(int(m[1]), int(m[2]), int(m[3]))
        except ValueError:
            return None
        return f"{day.year:04d}-{day.month:02d}-{day.day:02d}" if 1800 <= day.year <= 2200 else None
    return _parsed_date(text)


@lru_cache(maxsize=65536)  # the same stamps recur across a site's pages and comments
def _parsed_date(text: str) -> str | None:
    from dateutil import parser  # ~30 ms import: only when a page has a date

    parsed = []
    for default in _DEFAULTS:
        try:
            parsed.append(parser.parse(text, default=default, fuzzy=True))
        except (ValueError, OverflowError):  # dateutil raises ParserError (a ValueError) for no date
            return None
    a, b = parsed
    if (a.year, a.month, a.day) != (b.year, b.month, b.day) or not 1800 <= a.year <= 2200:
        return None
    return f"{a.year:04d}-{a.month:02d}-{a.day:02d}"


# -- provenance -----------------------------------------------------------------------------------
def _lines(value: Any) -> list[int] | None:
    return [int(x) for x in value] if isinstance(value, (list, tuple)) else None


def _span(lines: Any, reason: str, full: bool, preview: str | None = None, count: int | None = None,
          ref: str | None = None, field: str | None = None, offsets: Any = None) -> dict[str, Any]:
    return {"lines": _lines(lines), "reason": str(reason), "count": count, "ref": ref,
            "preview": preview if full else None, "field": field,
            "offsets": [[int(a), int(b)] for a, b in offsets] if offsets is not None else None}


def _spans(stage: dict[str, Any], full: bool) -> list[dict[str, Any]]:
    """A stage's removals (whatever each stage calls them) as spans of one shape."""
    name = stage.get("stage")
    if name == "comments":
        return [_span(d.get("source_lines"), "duplicate", full, ref=d.get("duplicate_of"))
                for d in stage.get("dropped", [])]
    if name == "names":  # offsets kept at every level: a replacement must stay auditable and undoable
        return [_span(None, r.get("rule", "name"), full, count=r.get("count"), ref=f"{r.get('from')} -> {r.get('to')}",
                      field=r.get("field"), offsets=r.get("offsets", [])) for r in stage.get("replacements", [])]
    if name == "read":  # what decoding could not keep, and a record the crawler cut short
        spans = [_span(None, reason, full, count=stage[key]) for key, reason in
                 (("replaced_bytes", "replaced-bytes"), ("replaced_chars", "replaced-chars")) if stage.get(key)]
        if stage.get("truncated"):
            spans.append(_span(None, "warc-truncated", full, ref=str(stage["truncated"])))
        return spans
    if name == "pii":
        return [_span(None, r.get("kind", "pii"), full, count=len(r.get("offsets", [])), field=r.get("field"),
                      offsets=r.get("offsets", [])) for r in stage.get("redactions", [])]
    removed = stage.get("removed")
    if not isinstance(removed, list):
        return []
    return [_span(r.get("lines"), r.get("reason", "removed"), full, preview=r.get("preview"), count=r.get("pages"))
            for r in removed]


def stage_record(stage: dict[str, Any], level: str) -> dict[str, Any]:
    """One stage's log (as the stages write it) in the schema's fixed shape."""
    name = stage.get("stage", "")
    spans = _spans(stage, level == "full")
    kept = stage.get("kept_paragraphs", stage.get("comments", stage.get("kept")))
    model = stage.get("line_model")
    note = stage.get("kept") if isinstance(stage.get("kept"), str) else None  # repeats: left a near-copy alone
    out = {"stage": name, "kept": kept if isinstance(kept, int) else None, "removed": len(spans),
           "mode": stage.get("mode"), "line_model": model.get("sha256") if isinstance(model, dict) else None,
           "comment_section": stage.get("comment_section"), "site": stage.get("site"),
           "site_pages": stage.get("site_pages"), "min_pages": stage.get("min_pages"),
           "record_id": stage.get("record_id"), "note": note, "spans": spans}
    if name == "repeats" and "repeated_paragraphs" in stage:
        out["removed"] = 0
    return out


def stages_record(stages: list[dict[str, Any]], level: str) -> list[dict[str, Any]]:
    return [] if level == "off" else [stage_record(s, level) for s in stages]


# -- rejects --------------------------------------------------------------------------------------
def reject_record(rej: Reject, run_id: str) -> dict[str, Any]:
    """A reject in the schema's shape: the same fields for every kind, kind-specific parts nested."""
    extra = rej.extra
    comment = None
    if rej.kind == "comment" and "id" in extra:  # a dropped duplicate, or a comment the quality stage dropped
        comment = {"id": str(extra.get("id", "")), "text": str(extra.get("text", "")),
                   "duplicate_of": str(extra.get("duplicate_of") or ""),
                   "similarity": float(extra.get("similarity") or 0.0), "method": str(extra.get("method") or ""),
                   "kept_text": str(extra.get("kept_text", ""))}
    document = None
    if rej.kind == "document" and "duplicate_of" in extra:
        document = {"duplicate_of": str(extra["duplicate_of"]), "similarity": float(extra.get("similarity") or 0.0),
                    "method": str(extra.get("method") or ""), "url": extra.get("url"),
                    "duplicate_of_url": extra.get("duplicate_of_url"),
                    "duplicate_of_path": extra.get("duplicate_of_path")}
    quality = None
    if "rule" in extra:  # the quality stage: which rule fired, on what value
        quality = {"rule": str(extra["rule"]), "value": _text(extra.get("value")),
                   "threshold": _text(extra.get("threshold"))}
    spans = [_span(r.get("lines"), r.get("reason", "removed"), True, preview=r.get("preview"), count=r.get("pages"))
             for r in extra.get("removed", []) if isinstance(r, dict)]
    return {"run_id": run_id, "kind": rej.kind, "reason": rej.reason, "detail": rej.detail or "",
            "path": rej.path, "record": rej.record, "doc_id": None if rej.doc_id is None else str(rej.doc_id),
            "comment": comment, "document": document, "quality": quality, "spans": spans}


def _text(value: Any) -> str | None:
    return None if value is None else ",".join(map(str, value)) if isinstance(value, (list, tuple)) else str(value)


def quality_record(signals: dict[str, Any] | None) -> dict[str, Any] | None:
    """The quality signals with every field of the schema present (null where one does not apply)."""
    if signals is None:
        return None
    return {name: signals.get(name) for name in json_schema()["$defs"]["document"]["properties"]["quality"]
            ["properties"]}


# -- Arrow ----------------------------------------------------------------------------------------
def _resolve(node: dict[str, Any]) -> dict[str, Any]:
    ref = node.get("$ref")
    return json_schema()["$defs"][ref.rsplit("/", 1)[-1]] if ref else node


def _arrow_type(node: dict[str, Any]) -> Any:
    import pyarrow as pa

    node = _resolve(node)
    types = node["type"] if isinstance(node["type"], list) else [node["type"]]
    kind = next(t for t in types if t != "null")
    if kind == "object":
        return pa.struct([_arrow_field(name, sub, name in node.get("required", ()))
                          for name, sub in node["properties"].items()])
    if kind == "array":
        return pa.list_(_arrow_type(node["items"]))
    return {"string": pa.string(), "integer": pa.int64(), "number": pa.float64(), "boolean": pa.bool_()}[kind]


def _arrow_field(name: str, node: dict[str, Any], required: bool) -> Any:
    import pyarrow as pa

    types = _resolve(node)["type"]
    nullable = isinstance(types, list) and "null" in types
    return pa.field(name, _arrow_type(node), nullable=nullable or not required)


@cache
def arrow_schema(kind: str) -> Any:
    """The record schema as an Arrow schema (for Parquet), derived from the JSON Schema."""
    import pyarrow as pa

    node = json_schema()["$defs"][kind]
    return pa.schema([_arrow_field(name, sub, name in node["required"]) for name, sub in node["properties"].items()],
                     metadata={"cleanpipe.schema_version": SCHEMA_VERSION})
