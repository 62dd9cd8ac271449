"""One pass over a run's records: the aggregates the charts show and the documents the
before/after view embeds. Memory stays bounded by the number of reasons, sites, names and
duplicate clusters, plus the embedded documents (at most `max_docs`)."""

from __future__ import annotations

import random
from array import array
from collections import Counter, defaultdict
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from cleanpipe.engines.memory import pin_mmap_threshold

from . import data
from .raw import RawPage, RawReader

KNOWN_FIELDS = {"id", "title", "byline", "date", "date_text", "text", "paragraphs", "comments", "source",
                "provenance"}
KNOWN_STAGES = {"read", "strip", "comments.split", "comments", "names", "repeats"}
LENGTH_BINS = [0, 10, 30, 100, 300, 1000, 3000, 10000, 30000]
SHARE_BINS = [i / 10 for i in range(11)]
MAX_REJECT_ROWS = 300  # per reason: the table is for looking, the counts are exact
MAX_RAW_LINES = 4000
MAX_RAW_CHARS = 200_000  # one document's raw text in its view ...
RAW_BUDGET = 4_000_000  # ... and all views' together, so 500 views keep the page under ~10 MB
MIN_RAW_CHARS = 8_000
# values kept per numeric field for its histogram: ten bins of an even sample of 5,000 are within a
# point or two of the whole run's, and 40 quality signals of a 28,500-page run held 9 MB at 50,000
MAX_NUMBERS = 5_000
SHOWN_CLUSTERS = 20  # the largest duplicate clusters listed
MAX_DISTINCT = 10_000  # values counted per extra field (a free-text field must not grow without bound)
CONTEXT = 60


@dataclass
class Removal:
    spans: int = 0
    lines: int = 0
    words: int = 0
    docs: int = 0
    example: str = ""


@dataclass
class Collected:
    manifest: dict[str, Any]
    documents: int = 0
    removed: dict[tuple[str, str], Removal] = field(default_factory=lambda: defaultdict(Removal))
    words_before: list[int] = field(default_factory=lambda: [0] * len(LENGTH_BINS))
    words_after: list[int] = field(default_factory=lambda: [0] * len(LENGTH_BINS))
    removed_share: list[int] = field(default_factory=lambda: [0] * (len(SHARE_BINS) - 1))
    total_before: int = 0
    total_after: int = 0
    raw_read: int = 0
    raw_missing: Counter = field(default_factory=Counter)
    sites: dict[str, dict[str, Any]] = field(default_factory=dict)
    comments_kept: int = 0
    comments_dropped: int = 0
    clusters: Counter = field(default_factory=Counter)
    cluster_text: dict[str, str] = field(default_factory=dict)
    merges: dict[tuple[str, str, str], dict[str, Any]] = field(default_factory=dict)
    extra_fields: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    # per numeric field: a uniform sample of at most MAX_NUMBERS values, and how many were seen
    extra_numbers: dict[str, array] = field(default_factory=lambda: defaultdict(lambda: array("d")))
    extra_seen: Counter = field(default_factory=Counter)
    sample_rng: random.Random = field(default_factory=lambda: random.Random(7))
    extra_stages: dict[str, Counter] = field(default_factory=lambda: defaultdict(Counter))
    rejects: Counter = field(default_factory=Counter)
    reject_rows: list[dict[str, Any]] = field(default_factory=list)
    views: list[dict[str, Any]] = field(default_factory=list)
    interesting: int = 0
    sampled: int = 0
    max_docs: int = 0


def _bin(value: float, bins: list[float]) -> int:
    index = 0
    for i, edge in enumerate(bins):
        if value >= edge:
            index = i
    return index


def _words(lines: list[str]) -> int:
    return sum(len(ln.split()) for ln in lines)


def _is_interesting(doc: dict[str, Any], spans: list[data.Span], reps: list[data.Replacement]) -> bool:
    """Documents worth a look in any run: a comment dropped, a name changed, a site repeat removed."""
    return bool(reps) or any(s.reason == "duplicate" or s.stage == "repeats" for s in spans)


def collect(out_dir: str | Path, max_docs: int = 500, max_raw_reads: int = 2000, seed: int = 1,
            include: frozenset[str] = frozenset()) -> Collected:
    """`max_raw_reads`: how many documents' raw inputs are read again for the removal counts, an
    even sample over the run (every k-th document); each costs a parse of the page."""
    pin_mmap_threshold()  # every record of the run passes through: keep the heap from fragmenting (134 -> 94 MB)
    run = data.open_run(out_dir)
    summary = run.manifest.get("summary")
    total = summary.get("documents") if isinstance(summary, dict) else None
    stride = -(-total // max_raw_reads) if isinstance(total, int) and total > max_raw_reads else 1
    out = Collected(run.manifest, max_docs=max_docs)
    reader = RawReader([Path(out_dir).resolve().parent])
    rng = random.Random(seed)
    # The samples hold documents' places in the output, not the documents: a pool of whole
    # records, replaced at random for a whole run, scattered long-lived objects over the heap
    # (the report of a 28,500-page run grew 50 MB). The chosen ones are read again afterwards.
    interesting: list[int] = []
    plain: list[int] = []
    forced: list[int] = []
    seen_interesting = seen_plain = 0
    for index, doc in enumerate(data.iter_records(run.documents)):
        out.documents += 1
        spans, reps = data.spans(doc), data.replacements(doc)
        raw: RawPage | None = None
        if out.raw_read < max_raw_reads and (out.documents - 1) % stride == 0:
            raw = reader.page(data.source(doc))
            if raw.status == "ok":
                out.raw_read += 1
            else:
                out.raw_missing[raw.status] += 1
                raw = None
        _count_removals(out, doc, spans, raw)
        _count_other(out, doc, spans, reps)
        src = data.source(doc)
        keys = {str(doc.get("id")), str(src.get("url")), str(src.get("path"))}
        # reservoir samples: a uniform pick of each kind however long the run
        if include and keys & include:
            forced.append(index)
        elif _is_interesting(doc, spans, reps):
            seen_interesting += 1
            _reservoir(interesting, index, seen_interesting, max_docs, rng)
        else:
            seen_plain += 1
            _reservoir(plain, index, seen_plain, max_docs, rng)
    out.interesting = seen_interesting
    room = max(0, max_docs - len(forced))
    sample = min(len(plain), max(room // 5, room - len(interesting)))
    chosen_at = set(forced + interesting[: room - sample] + plain[:sample])
    chosen = [doc for index, doc in enumerate(data.iter_records(run.documents)) if index in chosen_at]
    out.sampled = sample
    dropped_by_doc = _collect_rejects(out, run, {str(d.get("id")) for d in chosen})
    _cluster_texts(out, run)
    allowance = min(MAX_RAW_CHARS, max(MIN_RAW_CHARS, RAW_BUDGET // max(1, len(chosen))))
    chosen.sort(key=_input_order, reverse=True)  # each input read again in one forward pass
    while chosen:  # a record goes once its view is made: the two never all live at once
        doc = chosen.pop()
        out.views.append(_view(doc, reader, dropped_by_doc.get(str(doc.get("id")), []), allowance))
    out.views.sort(key=lambda v: (v["path"] or "", v["record"] if v["record"] is not None else -1))
    return out


def _input_order(doc: dict[str, Any]) -> tuple[str, int]:
    src = data.source(doc)
    record = src.get("record")
    return str(src.get("path") or ""), record if isinstance(record, int) else -1


def _reservoir(pool: list[int], item: int, seen: int, size: int, rng: random.Random) -> None:
    if len(pool) < size:
        pool.append(item)
    else:
        j = rng.randrange(seen)
        if j < size:
            pool[j] = item


def _count_removals(out: Collected, doc: dict[str, Any], spans: list[data.Span], raw: RawPage | None) -> None:
    text = data.text(doc)
    after = len(text.split()) + sum(len(str(c.get("text") or "").split()) for c in data.comments(doc))
    out.words_after[_bin(after, LENGTH_BINS)] += 1
    out.total_after += after
    before = _words(raw.lines) if raw else None
    unaddressed: list[data.Span] = []
    counted_docs: set[tuple[str, str]] = set()
    removed_words = 0
    for span in spans:
        key = (span.stage, span.reason)
        entry = out.removed[key]
        entry.spans += 1
        if key not in counted_docs:
            entry.docs += 1
            counted_docs.add(key)
        if not entry.example and span.preview:
            entry.example = span.preview
        if span.lines:
            first, last = span.lines
            entry.lines += max(0, last - first + 1)
            if raw and not raw.html:
                words = _words(raw.lines[first - 1:last])
                entry.words += words
                removed_words += words
                if not entry.example:
                    entry.example = next((ln.strip() for ln in raw.lines[first - 1:last] if ln.strip()), "")[:80]
        elif span.reason != "duplicate":
            unaddressed.append(span)
    if before is not None:
        if raw and raw.html and unaddressed:
            # HTML: what is not line-addressed is what the extractor left out, in words
            removed_words = max(0, before - after)
            out.removed[(unaddressed[0].stage, unaddressed[0].reason)].words += removed_words
        out.words_before[_bin(before, LENGTH_BINS)] += 1
        out.total_before += before
        if before:
            out.removed_share[min(_bin(removed_words / before, SHARE_BINS), len(SHARE_BINS) - 2)] += 1


def _count_other(out: Collected, doc: dict[str, Any], spans: list[data.Span],
                 reps: list[data.Replacement]) -> None:
    out.comments_kept += len(data.comments(doc))
    for stage in data.stages(doc):
        name = str(stage.get("stage", "?"))
        if name == "repeats" and isinstance(stage.get("site"), str):
            site = out.sites.setdefault(stage["site"], {"pages": 0, "site_pages": 0, "lines": 0, "spans": 0,
                                                        "kept_near_copies": 0, "example": ""})
            site["site_pages"] = max(site["site_pages"], int(stage.get("site_pages") or 0))
            removed = [s for s in spans if s.stage == "repeats"]
            if removed:
                site["pages"] += 1
                site["spans"] += len(removed)
                site["lines"] += sum(s.lines[1] - s.lines[0] + 1 for s in removed if s.lines)
                site["example"] = site["example"] or next((s.preview for s in removed if s.preview), "")
            elif isinstance(stage.get("kept"), str) or stage.get("note"):
                site["kept_near_copies"] += 1
        if name not in KNOWN_STAGES:
            out.extra_stages[name]["documents"] += 1
            for key, value in stage.items():
                if isinstance(value, (str, bool)) and key != "stage" and len(str(value)) <= 40:
                    out.extra_stages[name][f"{key} = {value}"] += 1  # a setting, e.g. the PII mode
                elif isinstance(value, list):
                    for item in value:
                        if isinstance(item, dict):
                            label = item.get("kind") or item.get("reason") or item.get("rule") or key
                            n = len(item["offsets"]) if isinstance(item.get("offsets"), list) else 1
                            out.extra_stages[name][f"{key}: {label}"] += n
    for rep in reps:
        entry = out.merges.setdefault((rep.old, rep.new, rep.rule), {"count": 0, "docs": 0, "context": None})
        entry["count"] += rep.count
        entry["docs"] += 1
        where = _field_text(doc, rep.field)
        if entry["context"] is None and where:
            start, end = rep.offsets[0] if rep.offsets else _find(where, rep.new)
            if 0 <= start < end <= len(where):
                entry["context"] = [where[max(0, start - CONTEXT):start], where[start:end],
                                    where[end:end + CONTEXT], str(doc.get("id"))]
    for key, value in doc.items():
        if key not in KNOWN_FIELDS:
            _count_field(out, key, value)


def _count_field(out: Collected, key: str, value: Any, depth: int = 0) -> None:
    """A field another stage added (quality, language, ...): counts of its values, numbers binned."""
    counts = out.extra_fields[key]
    if isinstance(value, (bool, str)) or value is None:
        if str(value)[:60] in counts or len(counts) < MAX_DISTINCT:
            counts[str(value)[:60]] += 1
    elif isinstance(value, (int, float)):
        # a reservoir: the histogram of a million-page run from a fixed, even sample
        values = out.extra_numbers[key]
        out.extra_seen[key] += 1
        if len(values) < MAX_NUMBERS:
            values.append(float(value))
        elif (slot := out.sample_rng.randrange(out.extra_seen[key])) < MAX_NUMBERS:
            values[slot] = float(value)
    elif isinstance(value, dict) and depth < 1:
        for sub, v in value.items():
            _count_field(out, f"{key}.{sub}", v, depth + 1)
    elif isinstance(value, list) and all(isinstance(v, str) for v in value):
        for v in value:
            if v[:60] in counts or len(counts) < MAX_DISTINCT:
                counts[v[:60]] += 1


def _field_text(doc: dict[str, Any], name: str) -> str:
    """The text a replacement's offsets point into: text, title or comments/<id>."""
    if name == "text":
        return data.text(doc)
    if name == "title":
        return str(doc.get("title") or "")
    if name.startswith("comments/"):
        return next((str(c.get("text") or "") for c in data.comments(doc) if str(c.get("id")) == name[9:]), "")
    return ""


def _find(text: str, needle: str) -> tuple[int, int]:
    at = text.find(needle)
    return (at, at + len(needle)) if at >= 0 else (-1, -1)


def _cluster_texts(out: Collected, run: data.RunFiles) -> None:
    """The kept comment's text of the largest duplicate clusters, from a second pass over the rejects:
    a text for every cluster grew with the run (a crawl's spam can make hundreds of thousands)."""
    wanted = {target for target, _ in out.clusters.most_common(SHOWN_CLUSTERS)}
    if not wanted:
        return
    for rej in data.iter_records(run.rejects):
        if rej.get("kind") != "comment":
            continue
        comment = data.reject_comment(rej)
        target = str(comment.get("duplicate_of"))
        if target in wanted and target not in out.cluster_text and comment.get("kept_text"):
            out.cluster_text[target] = str(comment["kept_text"])[:300]
            if len(out.cluster_text) == len(wanted):
                return


def _collect_rejects(out: Collected, run: data.RunFiles, doc_ids: set[str]) -> dict[str, list[dict[str, Any]]]:
    by_doc: dict[str, list[dict[str, Any]]] = defaultdict(list)
    shown: Counter = Counter()
    for rej in data.iter_records(run.rejects):
        kind, reason = str(rej.get("kind") or "?"), str(rej.get("reason") or "?")
        out.rejects[(kind, reason)] += 1
        comment = data.reject_comment(rej)
        if kind == "comment":
            out.comments_dropped += 1
            if comment.get("duplicate_of"):
                target = str(comment["duplicate_of"])
                out.clusters[target] += 1
            if str(rej.get("doc_id")) in doc_ids:
                by_doc[str(rej.get("doc_id"))].append(comment)
        if shown[reason] < MAX_REJECT_ROWS:
            shown[reason] += 1
            detail = str(rej.get("detail") or "")
            out.reject_rows.append({"kind": kind, "reason": reason, "path": rej.get("path"),
                                    "record": rej.get("record"), "doc": rej.get("doc_id"),
                                    "detail": detail[:300], "text": str(comment.get("text") or "")[:200]})
    return by_doc


def _view(doc: dict[str, Any], reader: RawReader, dropped: list[dict[str, Any]],
          max_chars: int = MAX_RAW_CHARS) -> dict[str, Any]:
    """What the before/after view of one document needs, as plain JSON."""
    src = data.source(doc)
    raw = reader.page(src)
    lines = raw.lines
    clipped = False
    if len(lines) > MAX_RAW_LINES or sum(map(len, lines)) > max_chars:
        keep, size = [], 0
        for ln in lines[:MAX_RAW_LINES]:
            size += len(ln)
            if size > max_chars:
                break
            keep.append(ln[:2000])
        lines, clipped = keep, True
    spans = data.spans(doc)
    comments = data.comments(doc)
    return {
        "id": str(doc.get("id")), "url": src.get("url"), "path": src.get("path"), "record": src.get("record"),
        "title": doc.get("title"), "byline": doc.get("byline"), "date": doc.get("date"),
        "date_text": doc.get("date_text"),
        "raw": {"status": raw.status, "note": raw.note, "html": raw.html, "lines": lines, "clipped": clipped},
        "spans": [{"stage": s.stage, "reason": s.reason, "lines": s.lines, "preview": s.preview, "ref": s.ref}
                  for s in spans],
        "paragraphs": [{"start": p.get("start"), "end": p.get("end"), "lines": p.get("source_lines")}
                       for p in data.paragraphs(doc)],
        "text": data.text(doc),
        "comments": [{"id": str(c.get("id")), "text": str(c.get("text") or ""), "author": c.get("author"),
                      "date": c.get("date"), "lines": c.get("source_lines"), "duplicates": c.get("duplicates")}
                     for c in comments],
        "dropped": [{"id": str(d.get("id")), "text": str(d.get("text") or ""), "duplicate_of": d.get("duplicate_of"),
                     "similarity": d.get("similarity"), "method": d.get("method")} for d in dropped],
        "names": [{"field": r.field, "from": r.old, "to": r.new, "rule": r.rule, "count": r.count,
                   "offsets": r.offsets} for r in data.replacements(doc)],
    }
