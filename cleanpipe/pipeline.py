"""The pipeline: streams documents through the stages, in three passes over a disk spool.

1. map (per document, parallel over a process pool): read -> strip -> split
   comments; candidate-name counts are gathered; documents go to a spool file.
2. corpus (sequential, input order): near-duplicate comments across the whole
   run, then names normalized with the merges found in pass 1 (and an alias file).
3. finish: kept comments learn how many copies they absorbed; records are
   written atomically with their provenance.

Memory holds the dedup index and the name counts, never the corpus.
"""

from __future__ import annotations

import json
import shutil
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

from . import __version__
from .comments import CommentDeduper, CommentSplitter
from .config import Config
from .model import Document, Reject
from .names import Merge, NameNormalizer, NameStats, find_variants, load_alias_file
from .read import Reader
from .strip import Stripper
from .workers import SupervisedPool
from .write import (
    DOCUMENTS_FILE,
    MANIFEST_FILE,
    REJECTS_FILE,
    AtomicJsonl,
    OutputLock,
    document_record,
    dumps,
    remove_leftovers,
    write_json_atomic,
)

EXIT_OK = 0
EXIT_REJECTS = 3  # finished; some inputs, records or documents could not be processed
EXIT_NOTHING_READ = 4  # no document could be read at all
EXIT_USAGE = 2  # bad options or config (click's own code for usage errors)
EXIT_LOCKED = 5  # another run holds the output folder

ProgressCallback = Callable[[str, int], None]


class DocumentStages:
    """The per-document part of the pipeline (strip, split comments); picklable by config."""

    def __init__(self, config: Config):
        self.stages = [Stripper(config.strip), CommentSplitter()]

    def process(self, doc: Document) -> Document | Reject:
        for stage in self.stages:
            try:
                doc = stage.process(doc)
            except Exception as exc:  # a stage bug or a pathological page must not end the run
                return Reject(kind="document", reason="stage-error", path=doc.source.path,
                              record=doc.source.record, doc_id=doc.id,
                              detail=f"{stage.name} failed: {type(exc).__name__}: {exc}")
        if not doc.paragraphs and not doc.comments:
            strip_log = next((s for s in doc.stages if s.get("stage") == "strip"), {})
            return Reject(kind="document", reason="no-content", path=doc.source.path,
                          record=doc.source.record, doc_id=doc.id,
                          detail="nothing left after removing site chrome",
                          extra={"removed": strip_log.get("removed", [])})
        return doc


def _document_task(config: Config) -> Callable[[Document], Document | Reject]:
    """Built inside each worker process: the per-document stages as one callable."""
    return DocumentStages(config).process


@dataclass
class RunSummary:
    run_id: str
    out_dir: str | None = None
    inputs: int = 0
    documents: int = 0
    comments_kept: int = 0
    comments_dropped: int = 0
    rejects: Counter[str] = field(default_factory=Counter)
    errors: int = 0  # rejects that are failures (unreadable input/record, stage error)
    seconds: float = 0.0
    name_merges: int = 0
    files: list[dict[str, Any]] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        if self.documents == 0 and self.errors:
            return EXIT_NOTHING_READ
        return EXIT_REJECTS if self.errors else EXIT_OK

    def line(self) -> str:
        rej = ", ".join(f"{k} {v}" for k, v in sorted(self.rejects.items())) or "none"
        return (f"cleanpipe: {self.documents} documents, {self.comments_kept} comments kept, "
                f"{self.comments_dropped} duplicate comments dropped, rejects: {rej}; "
                f"{self.seconds:.1f}s")

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["rejects"] = dict(self.rejects)
        d["exit_code"] = self.exit_code
        return d


class Pipeline:
    """cleanpipe as a library: `Pipeline(config).run(["raw/"], "clean/")`."""

    def __init__(self, config: Config | None = None):
        self.config = config or Config()
        self.config.validate()
        self.alias_merges: list[Merge] = []
        alias_bytes = b""
        if self.config.names.aliases and self.config.names.mode != "off":
            self.alias_merges = load_alias_file(self.config.names.aliases)
            alias_bytes = Path(self.config.names.aliases).read_bytes()
        self.config_sha256 = self.config.sha256(alias_bytes)

    # -- pass 1 -----------------------------------------------------------------------------------
    def _mapped(self, inputs: Iterable[str]) -> Iterator[Document | Reject]:
        reader = Reader(self.config.read)
        items = reader.run(inputs)
        workers, timeout = self.config.workers, self.config.doc_timeout
        if workers <= 1 and not timeout:  # no budget to enforce: stay in this process
            stages = DocumentStages(self.config)
            for item in items:
                yield item if isinstance(item, Reject) else stages.process(item)
            return
        # Rejects from reading skip the workers but keep their place in the order.
        pool = SupervisedPool(workers, timeout, _document_task, (self.config,),
                              passthrough=lambda item: isinstance(item, Reject))
        yield from pool.imap(items)

    def name_stats(self, inputs: Iterable[str]) -> tuple[NameStats, int]:
        """Pass 1 only: candidate-name counts over the documents of `inputs` (and how many)."""
        stats, docs = NameStats(), 0
        for item in self._mapped(inputs):
            if isinstance(item, Document):
                stats.add_document(item)
                docs += 1
        return stats, docs

    # -- the three passes ------------------------------------------------------------------------
    def _execute(self, inputs: Iterable[str], work: Path, summary: RunSummary,
                 progress: ProgressCallback | None) -> Iterator[tuple[str, Any]]:
        spool1 = work / "pass1.jsonl"
        stats = NameStats()
        seen_ids: dict[str, str] = {}
        with open(spool1, "w", encoding="utf-8") as fh:
            for item in self._mapped(inputs):
                summary.inputs += 1
                if progress:
                    progress("map", summary.inputs)
                if isinstance(item, Reject):
                    yield "reject", item
                    continue
                if item.id in seen_ids:
                    yield "reject", Reject(kind="document", reason="duplicate-document", doc_id=item.id,
                                           path=item.source.path, record=item.source.record,
                                           detail=f"same content as {seen_ids[item.id]}")
                    continue
                seen_ids[item.id] = item.source.path
                if self.config.names.mode == "auto":
                    stats.add_document(item)
                fh.write(dumps(item.to_dict()) + "\n")

        merges: dict[str, Merge] = {}
        if self.config.names.mode == "auto":
            merges.update((m.variant, m) for m in find_variants(stats, self.config.names))
        merges.update((m.variant, m) for m in self.alias_merges)  # a reviewed file wins
        summary.name_merges = len(merges)
        normalizer = NameNormalizer(merges.values())
        deduper = CommentDeduper(self.config.dedup)

        spool2 = work / "pass2.jsonl"
        with open(spool1, encoding="utf-8") as src, open(spool2, "w", encoding="utf-8") as dst:
            for n, line in enumerate(src, start=1):
                doc = Document.from_dict(json.loads(line))
                doc, comment_rejects = deduper.process(doc)
                for rej in comment_rejects:
                    yield "reject", rej
                if self.config.names.mode != "off":
                    doc = normalizer.process(doc)
                dst.write(dumps(doc.to_dict()) + "\n")
                if progress:
                    progress("corpus", n)
        spool1.unlink()

        absorbed = deduper.absorbed
        with open(spool2, encoding="utf-8") as src:
            for line in src:
                doc = Document.from_dict(json.loads(line))
                for comment in doc.comments:
                    comment.duplicates = absorbed.get(comment.id, 0)
                summary.comments_kept += len(doc.comments)
                yield "document", doc
        summary.comments_dropped = deduper.filter.dropped

    def provenance(self, run_id: str) -> dict[str, Any]:
        return {
            "cleanpipe_version": __version__,
            "config_sha256": self.config_sha256,
            "config": self.config.to_dict(),
            "run_id": run_id,
            "processed_at": datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ"),
        }

    def iter_records(self, inputs: Iterable[str]) -> Iterator[dict[str, Any]]:
        """Yield output records (and {'reject': ...} entries) without writing files."""
        run_id = uuid.uuid4().hex[:12]
        prov = self.provenance(run_id)
        summary = RunSummary(run_id=run_id)
        with tempfile.TemporaryDirectory(prefix="cleanpipe-") as tmp:
            for kind, obj in self._execute(inputs, Path(tmp), summary, None):
                yield document_record(obj, prov) if kind == "document" else {"reject": obj.to_dict()}

    def run(self, inputs: Iterable[str], out_dir: str | Path,
            progress: ProgressCallback | None = None, wait: bool = False) -> RunSummary:
        """Process `inputs` into OUT/documents.jsonl, OUT/rejects.jsonl and OUT/manifest.json.

        Holds an exclusive lock on OUT for the whole run (raises OutputLocked, or
        waits with `wait=True`); leftovers of a killed run are removed first.
        """
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        with OutputLock(out, wait=wait):
            remove_leftovers(out)
            return self._run_locked(list(inputs), out, progress)

    def _run_locked(self, inputs: list[str], out: Path, progress: ProgressCallback | None) -> RunSummary:
        started = time.monotonic()
        run_id = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]
        work = out / f".cleanpipe-work-{run_id}"
        work.mkdir()
        summary = RunSummary(run_id=run_id, out_dir=str(out))
        prov = self.provenance(run_id)
        docs_out = AtomicJsonl(out / DOCUMENTS_FILE, run_id)
        rejects_out = AtomicJsonl(out / REJECTS_FILE, run_id)
        try:
            for kind, obj in self._execute(inputs, work, summary, progress):
                if kind == "document":
                    docs_out.write(document_record(obj, prov))
                    summary.documents += 1
                else:
                    rejects_out.write({"run_id": run_id, **obj.to_dict()})
                    summary.rejects[obj.reason] += 1
                    summary.errors += obj.is_error
            summary.files = [docs_out.commit(), rejects_out.commit()]
        except BaseException:
            docs_out.abort()
            rejects_out.abort()
            raise
        finally:
            shutil.rmtree(work, ignore_errors=True)
        summary.seconds = round(time.monotonic() - started, 3)
        write_json_atomic(out / MANIFEST_FILE, {
            "run_id": run_id,
            "cleanpipe_version": __version__,
            "config_sha256": self.config_sha256,
            "config": self.config.to_dict(),
            "inputs": inputs,
            "summary": summary.to_dict(),
        })
        return summary
