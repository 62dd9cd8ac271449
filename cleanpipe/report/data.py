"""Reading a run's output for the report: the one place that knows the record format.

Everything else in `cleanpipe.report` sees records through these helpers, so a change to the
output contract (sharded or compressed files, compact provenance, nested reject fields) is
adapted here. Every field is optional: a record missing one is shown with less, never a crash.
"""

from __future__ import annotations

import gzip
import json
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

MANIFEST = "manifest.json"


@dataclass
class Span:
    """One thing a stage removed: raw lines [first, last] (1-based; None when not line-addressed)."""

    stage: str
    reason: str
    lines: tuple[int, int] | None = None
    preview: str | None = None
    count: int | None = None  # repeats: on how many pages of the site the line occurs
    ref: str | None = None  # comments: the kept comment a dropped one duplicates


@dataclass
class Replacement:
    """A name the names stage changed: `offsets` into the record's field (after the change)."""

    field: str
    old: str
    new: str
    rule: str
    count: int
    offsets: list[tuple[int, int]] = field(default_factory=list)


@dataclass
class RunFiles:
    out: Path
    manifest: dict[str, Any]
    documents: list[Path]
    rejects: list[Path]


def _as_dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _lines(value: Any) -> tuple[int, int] | None:
    if isinstance(value, (list, tuple)) and len(value) == 2 and all(isinstance(x, int) for x in value):
        return int(value[0]), int(value[1])
    return None


def open_run(out_dir: str | Path) -> RunFiles:
    """The manifest and the record files of the run in `out_dir`: the files the manifest lists
    (documents.jsonl, or shards such as documents/part-*.jsonl), else whatever is there by name."""
    out = Path(out_dir)
    try:
        manifest = json.loads((out / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        manifest = {}
    manifest = _as_dict(manifest)
    listed = manifest.get("files") or _as_dict(manifest.get("summary")).get("files") or []
    docs: list[Path] = []
    rejects: list[Path] = []
    for entry in listed if isinstance(listed, list) else []:
        name = entry.get("file") if isinstance(entry, dict) else entry
        if not isinstance(name, str):
            continue
        kind = str(entry.get("kind", "")) if isinstance(entry, dict) else ""
        path = out / name
        if not path.is_file():
            continue
        if kind.startswith("document") or (not kind and name.startswith("documents")):
            docs.append(path)
        elif kind.startswith("reject") or (not kind and name.startswith("rejects")):
            rejects.append(path)
    if not docs:
        docs = _by_name(out, "documents")
    if not rejects:
        rejects = _by_name(out, "rejects")
    return RunFiles(out, manifest, docs, rejects)


def _by_name(out: Path, stem: str) -> list[Path]:
    found = sorted(p for p in out.glob(f"{stem}*") if p.is_file() and _readable(p))
    if (out / stem).is_dir():
        found += sorted(p for p in (out / stem).iterdir() if p.is_file() and _readable(p))
    return found


def _readable(path: Path) -> bool:
    return path.name.endswith((".jsonl", ".jsonl.gz", ".jsonl.zst", ".parquet")) and not path.name.startswith(".")


def iter_records(paths: list[Path]) -> Iterator[dict[str, Any]]:
    """Records of JSONL (plain, .gz, .zst) and Parquet files; unreadable lines are skipped."""
    for path in paths:
        name = path.name
        if name.endswith(".parquet"):
            import pyarrow.parquet as pq  # only runs written as Parquet need pyarrow

            for batch in pq.ParquetFile(path).iter_batches(batch_size=500):
                yield from batch.to_pylist()
            continue
        if name.endswith(".gz"):
            fh: Any = gzip.open(path, "rt", encoding="utf-8")  # noqa: SIM115 - closed below
        elif name.endswith(".zst"):
            import io

            import zstandard

            fh = io.TextIOWrapper(zstandard.ZstdDecompressor().stream_reader(open(path, "rb")),  # noqa: SIM115
                                  encoding="utf-8")
        else:
            fh = open(path, encoding="utf-8")  # noqa: SIM115 - closed below
        with fh:
            for line in fh:
                try:
                    record = json.loads(line)
                except ValueError:
                    continue
                if isinstance(record, dict):
                    yield record


# -- fields of a document record -------------------------------------------------------------
def stages(doc: dict[str, Any]) -> list[dict[str, Any]]:
    stages_ = _as_dict(doc.get("provenance")).get("stages")
    return [s for s in stages_ if isinstance(s, dict)] if isinstance(stages_, list) else []


def spans(doc: dict[str, Any]) -> list[Span]:
    """What the stages removed from this page, in one shape. Reads both the stages' own logs
    (`removed` lists; comments `dropped`) and the schema's typed form (`spans` lists)."""
    out: list[Span] = []
    for stage in stages(doc):
        name = str(stage.get("stage", "?"))
        if name == "names":
            continue  # replacements, not removals: see replacements()
        items = stage.get("spans") if isinstance(stage.get("spans"), list) else None
        if items is not None:
            for s in items:
                if isinstance(s, dict):
                    out.append(Span(name, str(s.get("reason") or "removed"), _lines(s.get("lines")),
                                    _str(s.get("preview")), _int(s.get("count")), _str(s.get("ref"))))
            continue
        for s in stage.get("removed") if isinstance(stage.get("removed"), list) else []:
            if isinstance(s, dict):
                out.append(Span(name, str(s.get("reason") or "removed"), _lines(s.get("lines")),
                                _str(s.get("preview")), _int(s.get("pages")), None))
        for s in stage.get("dropped") if isinstance(stage.get("dropped"), list) else []:
            if isinstance(s, dict):
                out.append(Span(name, "duplicate", _lines(s.get("source_lines")), None, None,
                                _str(s.get("duplicate_of"))))
    return out


def replacements(doc: dict[str, Any]) -> list[Replacement]:
    """Name changes: the stage's own log (with offsets) or the schema's spans (ref 'old -> new')."""
    out: list[Replacement] = []
    for stage in stages(doc):
        if stage.get("stage") != "names":
            continue
        for r in stage.get("replacements") if isinstance(stage.get("replacements"), list) else []:
            if isinstance(r, dict) and r.get("from") and r.get("to"):
                offsets = [(int(o[0]), int(o[1])) for o in r.get("offsets") or []
                           if isinstance(o, (list, tuple)) and len(o) == 2]
                out.append(Replacement(str(r.get("field") or "text"), str(r["from"]), str(r["to"]),
                                       str(r.get("rule") or ""), _int(r.get("count")) or len(offsets) or 1, offsets))
        for s in stage.get("spans") if isinstance(stage.get("spans"), list) else []:
            ref = _str(s.get("ref")) if isinstance(s, dict) else None
            if ref and " -> " in ref:
                old, new = ref.split(" -> ", 1)
                offsets = [(int(o[0]), int(o[1])) for o in s.get("offsets") or []
                           if isinstance(o, (list, tuple)) and len(o) == 2]
                out.append(Replacement(str(s.get("field") or "text"), old, new, str(s.get("reason") or ""),
                                       _int(s.get("count")) or 1, offsets))
    return out


def source(doc: dict[str, Any]) -> dict[str, Any]:
    return _as_dict(doc.get("source"))


def comments(doc: dict[str, Any]) -> list[dict[str, Any]]:
    items = doc.get("comments")
    return [c for c in items if isinstance(c, dict)] if isinstance(items, list) else []


def paragraphs(doc: dict[str, Any]) -> list[dict[str, Any]]:
    items = doc.get("paragraphs")
    return [p for p in items if isinstance(p, dict)] if isinstance(items, list) else []


def text(doc: dict[str, Any]) -> str:
    return doc.get("text") if isinstance(doc.get("text"), str) else ""


# -- fields of a reject record ---------------------------------------------------------------
def reject_comment(rej: dict[str, Any]) -> dict[str, Any]:
    """A dropped comment's fields: top-level (today) or nested under `comment` (the schema)."""
    nested = _as_dict(rej.get("comment"))
    return {k: nested.get(k, rej.get(k)) for k in ("id", "text", "duplicate_of", "similarity", "method", "kept_text")}


def _str(value: Any) -> str | None:
    return value if isinstance(value, str) else None


def _int(value: Any) -> int | None:
    return value if isinstance(value, int) and not isinstance(value, bool) else None
