"""cleanpipe inside another program: clean records that are already in memory, as a stream.

`clean(records)` takes strings or dicts and yields output records one by one,
in input order, as soon as each is ready: a record waits at most for the pages
read ahead for the worker processes (none with `workers=1`). Rejects go to a
separate channel (`on_reject`), never mixed into the records.

What needs the whole corpus cannot run in a stream, so `clean` says what it does
instead (the file-based `Pipeline.run` does all of it):

* comment dedup runs in its streaming form: a comment is checked against every
  comment kept before it, exactly as in a full run, but a kept comment's
  `duplicates` count cannot know about copies that come later (it stays 0);
* names: only the merges of an alias file (`names.aliases`) are applied; the
  automatic merges found from corpus-wide counts are not;
* site repeats (lines that recur on many pages of a site) are not removed.

Everything else is as in a run: near-duplicate documents (when enabled), PII
redaction, the quality stage, and records and rejects in the published shape.
"""

from __future__ import annotations

import hashlib
import json
import uuid
from collections.abc import Callable, Iterable, Iterator, Mapping
from typing import Any

from cleanpipe.config import Config
from cleanpipe.engines.pipeline import DocumentStages, Pipeline, _document_task
from cleanpipe.engines.workers import SupervisedPool
from cleanpipe.io.read import BODY_FIELDS, URL_FIELDS, document_from_record
from cleanpipe.io.schema import reject_record
from cleanpipe.io.write import document_record
from cleanpipe.model import Document, Reject, Source
from cleanpipe.stages.comments import CommentDeduper
from cleanpipe.stages.docdedup import DocumentDeduper
from cleanpipe.stages.names import NameNormalizer, load_alias_file
from cleanpipe.stages.pii import PiiRedactor
from cleanpipe.stages.quality import quality_rejects

MEMORY_PATH = "<memory>"  # source.path of a record given in memory
USED_FIELDS = {*BODY_FIELDS, *URL_FIELDS, "id", "metadata"}  # what cleanpipe reads; the rest is passed through


def _document(index: int, record: str | Mapping[str, Any], extras: dict[int, dict[str, Any]]) -> Document | Reject:
    """A record in memory as a Document (a str is the text of one page), or why it cannot be one;
    its fields cleanpipe does not use go to `extras[index]`. Same field rules as a JSON lines file."""
    if isinstance(record, str):
        record = {"text": record}
    if not isinstance(record, Mapping):
        return Reject(kind="record", reason="bad-record", path=MEMORY_PATH, record=index,
                      detail=f"a record must be a str or a mapping, not {type(record).__name__}")
    fields = dict(record)
    sha = hashlib.sha256(json.dumps(fields, sort_keys=True, default=str, ensure_ascii=False)
                         .encode("utf-8", "surrogatepass")).hexdigest()
    doc = document_from_record(MEMORY_PATH, sha, index, fields, "memory")
    extra = {k: v for k, v in fields.items() if k not in USED_FIELDS}
    if extra and isinstance(doc, Document):
        extras[index] = extra
    return doc


def clean(records: Iterable[str | Mapping[str, Any]], config: Config | None = None,
          on_reject: Callable[[dict[str, Any]], None] | None = None) -> Iterator[dict[str, Any]]:
    """Clean records in memory; yield one output record per kept page, in input order.

    A record is a str (a plain-text page) or a mapping read like a line of a JSON lines
    file: `html`, `text`, `raw_content`, `content` or `body`, optional `url` (or
    `metadata.url`) and `id`; other fields come back unchanged under the output
    record's `extra`. Each reject (no content, a page
    no stage could finish, a dropped duplicate comment) is passed to `on_reject`
    as a dict. With `config.workers > 1` (or a `doc_timeout`) pages are stripped in
    worker processes, which needs no `if __name__ == "__main__":` guard. See the
    module docstring for what a stream cannot do.
    """
    config = config or Config(workers=1, doc_timeout=0)
    pipeline = Pipeline(config)  # checks the config, loads the alias file and the line model
    run_id = uuid.uuid4().hex[:12]
    provenance = pipeline.provenance(run_id)
    level = config.output.provenance

    def emit(rej: Reject) -> None:
        if on_reject is not None:
            on_reject(reject_record(rej, run_id))  # the published reject shape, as in rejects.jsonl

    doc_dedup = DocumentDeduper(config.doc_dedup)
    deduper = CommentDeduper(config.dedup)
    normalizer = NameNormalizer(pipeline.alias_merges) if pipeline.alias_merges else None
    pii = PiiRedactor(config.pii)

    extras: dict[int, dict[str, Any]] = {}  # passed through untouched, back on the output record
    docs = (_document(i, r, extras) for i, r in enumerate(records))
    if config.workers <= 1 and not config.doc_timeout:
        stages = DocumentStages(config)
        mapped: Iterable[Document | Reject] = (stages.process(d) if isinstance(d, Document) else d for d in docs)
    else:
        pool = SupervisedPool(config.workers, config.doc_timeout, _document_task, (config,),
                              passthrough=lambda item: not isinstance(item, Document), max_buffer=4 * config.workers)
        mapped = pool.imap(docs)
    for item in mapped:
        if isinstance(item, Document) and config.doc_dedup.enabled:
            item = doc_dedup.process(item)
        if isinstance(item, Reject):
            extras.pop(item.record, None)  # type: ignore[arg-type]
            emit(item)
            continue
        for rej in quality_rejects(item):  # comments the quality stage dropped
            emit(rej)
        doc, comment_rejects = deduper.process(item)
        for rej in comment_rejects:
            emit(rej)
        if normalizer is not None:
            doc = normalizer.process(doc)
        doc = pii.process(doc)  # last, as in a run: its offsets point into the final text
        record = document_record(doc, provenance, level)
        record["extra"] = extras.pop(doc.source.record, {})  # type: ignore[arg-type]
        yield record


def normalize_names(text: str, aliases: str | Any) -> tuple[str, list[dict[str, Any]]]:
    """Apply the merges of an alias file (a path, TOML or CSV) to plain text; returns the new
    text and the replacements made (from, to, rule, count, offsets into the new text)."""
    from cleanpipe.model import Paragraph

    merges = load_alias_file(aliases)
    doc = Document(id="text", source=Source(path=MEMORY_PATH, sha256="", format="memory"),
                   paragraphs=[Paragraph(text=text)])
    doc = NameNormalizer(merges).process(doc)
    log = next((s for s in doc.stages if s.get("stage") == "names"), {"replacements": []})
    return doc.paragraphs[0].text, log["replacements"]
