"""The pipeline: streams documents through the stages, in three passes over a disk spool.

1. map (per document, in supervised worker processes with a time budget):
   read -> strip -> split comments (-> near-duplicate sketch); near-duplicate
   documents are judged in input order from their sketches; candidate-name
   counts are gathered; documents go to a spool file. Inputs the state store
   knows are skipped (their items, sketches included, come from the store).
2. corpus (sequential, input order): near-duplicate comments across the whole
   run and every earlier run, kept lines that recur on many pages of one site
   removed, then names normalized with the merges found over the corpus
   (and an alias file).
3. finish: kept comments learn how many copies they absorbed; records are
   written atomically with their provenance, records of skipped inputs carried
   over, and only then is the state store updated.

Memory holds the dedup index, the name counts and the site line counts (16 bytes
per distinct line), never the corpus.
"""

from __future__ import annotations

import functools
import json
import logging
import os
import shutil
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Union

from cleanpipe import __version__
from cleanpipe.config import Config, ConfigError
from cleanpipe.engines.memory import give_back_free_memory, pin_mmap_threshold
from cleanpipe.engines.workers import SupervisedPool
from cleanpipe.exitcodes import (  # noqa: F401 - importable from here as before
    EXIT_LOCKED,
    EXIT_NOTHING_READ,
    EXIT_OK,
    EXIT_OUTPUT,
    EXIT_REJECTS,
    EXIT_USAGE,
)
from cleanpipe.io.read import NoInputs, Reader, display_path
from cleanpipe.io.schema import SCHEMA_VERSION, reject_record
from cleanpipe.io.write import (
    MANIFEST_FILE,
    OutputLock,
    document_record,
    dumps,
    remove_leftovers,
    write_json_atomic,
)
from cleanpipe.io.writers import ShardedWriter
from cleanpipe.log import event
from cleanpipe.model import RETRIED_REASONS, Document, Reject, Replayed, Unchanged
from cleanpipe.stages.comments import CommentDeduper, CommentSplitter
from cleanpipe.stages.docdedup import DocumentDeduper, DocumentSketcher
from cleanpipe.stages.linemodel import MODEL_PATH, load_model
from cleanpipe.stages.names import Merge, NameNormalizer, NameStats, find_variants, load_alias_file
from cleanpipe.stages.pii import PiiRedactor
from cleanpipe.stages.quality import QualityFilter, quality_rejects
from cleanpipe.stages.repeats import RepeatFilter, SiteStats, site_of
from cleanpipe.stages.strip import Stripper
from cleanpipe.state import StateStore

STATE_DIR = ".cleanpipe-state"

ProgressCallback = Callable[[str, int], None]


Inputs = Union[str, "os.PathLike[str]", Iterable[Union[str, "os.PathLike[str]"]]]


def input_paths(inputs: Inputs) -> list[str]:
    """A bare string or path is one input (never iterated character by character)."""
    if isinstance(inputs, (str, os.PathLike)):
        inputs = [inputs]
    return [os.fspath(p) for p in inputs]


def new_run_id() -> str:
    """Sortable and unique: UTC start time plus a random suffix."""
    return datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ") + "-" + uuid.uuid4().hex[:6]


class DocumentStages:
    """The per-document part of the pipeline (strip, split comments, quality); picklable by config."""

    def __init__(self, config: Config):
        self.repeats = config.repeats
        self.stages = [Stripper(config.strip, self._counted_by_repeats), CommentSplitter()]
        # after the no-content check: signals of the stripped text (a stage that may reject)
        self.judges = [QualityFilter(config.quality)] if config.quality.mode != "off" else []
        # near-duplicate documents: the sketch is the costly part, so it is made here, not in the parent
        self.sketcher = DocumentSketcher(config.doc_dedup) if config.doc_dedup.enabled else None

    def _counted_by_repeats(self, doc: Document) -> bool:
        """Only pages the repeats pass will count need their lines digested (a plain file has no URL)."""
        return self.repeats.enabled and site_of(doc.source, self.repeats.site) is not None

    def process(self, doc: Document) -> Document | Reject:
        for stage in self.stages:
            try:
                doc = stage.process(doc)
            except Exception as exc:  # a stage bug or a pathological page must not end the run
                return _stage_error(doc, stage.name, exc)
        if not doc.paragraphs and not doc.comments:
            strip_log = next((s for s in doc.stages if s.get("stage") == "strip"), {})
            why = next((r["preview"] for r in strip_log.get("removed", []) if r.get("reason") == "html-too-deep"),
                       "nothing left after removing site chrome")
            return Reject(kind="document", reason="no-content", path=doc.source.path,
                          record=doc.source.record, doc_id=doc.id, detail=why,
                          extra={"removed": strip_log.get("removed", [])})
        for judge in self.judges:
            try:
                judged = judge.process(doc)
            except Exception as exc:
                return _stage_error(doc, judge.name, exc)
            if isinstance(judged, Reject):
                return judged
            doc = judged
        if self.sketcher is not None:
            try:
                doc = self.sketcher.process(doc)
            except Exception as exc:
                return _stage_error(doc, self.sketcher.name, exc)
        return doc


def _stage_error(doc: Document, stage: str, exc: Exception) -> Reject:
    return Reject(kind="document", reason="stage-error", path=doc.source.path, record=doc.source.record,
                  doc_id=doc.id, detail=f"{stage} failed: {type(exc).__name__}: {exc}")


def _document_task(config: Config) -> Callable[[Document], Document | Reject]:
    """Built inside each worker process: the per-document stages as one callable."""
    return DocumentStages(config).process


@dataclass
class RunSummary:
    run_id: str
    out_dir: str | None = None
    inputs: int = 0  # input files (or streams) named by this run, directories expanded
    documents: int = 0
    comments_kept: int = 0
    comments_dropped: int = 0
    rejects: Counter[str] = field(default_factory=Counter)
    errors: int = 0  # rejects that are failures (unreadable input/record, stage error)
    seconds: float = 0.0
    name_merges: int = 0
    unchanged_inputs: int = 0  # inputs skipped because an earlier run processed the same content
    skipped_records: Counter[str] = field(default_factory=Counter)  # container records that are not pages
    resumed_records: int = 0  # records an interrupted earlier run had done, passed on and not redone
    files: list[dict[str, Any]] = field(default_factory=list)

    @property
    def exit_code(self) -> int:
        if self.documents == 0 and self.errors:
            return EXIT_NOTHING_READ
        return EXIT_REJECTS if self.errors else EXIT_OK

    def line(self) -> str:
        rej = ", ".join(f"{k} {v}" for k, v in sorted(self.rejects.items())) or "none"
        carried = f" ({self.unchanged_inputs} inputs unchanged since the last run)" if self.unchanged_inputs else ""
        if self.resumed_records:
            carried += f" ({self.resumed_records} records done by an interrupted run, not redone)"
        skipped = (f"; {sum(self.skipped_records.values())} container records skipped (not pages)"
                   if self.skipped_records else "")
        return (f"cleanpipe: {self.documents} documents{carried}, {self.comments_kept} comments kept, "
                f"{self.comments_dropped} duplicate comments dropped, rejects: {rej}{skipped}; "
                f"{self.seconds:.1f}s")

    def to_dict(self) -> dict[str, Any]:
        d = dict(self.__dict__)
        d["processed_inputs"] = self.inputs - self.unchanged_inputs  # read and stripped by this run
        d["rejects"] = dict(self.rejects)
        d["skipped_records"] = dict(self.skipped_records)
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
        model_bytes = b""
        if self.config.strip.line_model:  # a bad model path fails the run here, not every page later
            path = self.config.strip.line_model_path
            try:
                model_bytes = load_model(path).digest.encode()
            except (OSError, ValueError, KeyError) as exc:
                raise ConfigError(f"cannot load line model {path or MODEL_PATH}: {exc}") from exc
        # a retrained model changes the output, so it is part of what incremental runs compare
        # so is the record schema: a new schema version makes the next run process every input again
        self.config_sha256 = self.config.sha256(alias_bytes + model_bytes + f"schema {SCHEMA_VERSION}".encode())

    # -- pass 1 -----------------------------------------------------------------------------------
    def _mapped(self, inputs: Iterable[str], skip: Callable[[str, str], bool] | None = None,
                exclude: Iterable[str | os.PathLike[str]] = (), skipped: Counter[str] | None = None,
                resume: Callable[[str, str], Mapping[int, list[Document | Reject]]] | None = None,
                ) -> Iterator[Document | Reject | Unchanged | Replayed]:
        """Read and strip; `skipped` receives the reader's counts of records that are not pages;
        records `resume` gives back are passed on as `Replayed`, not processed again."""
        reader = Reader(self.config.read, skip=skip, exclude=exclude, resume=resume)
        items = _counting(reader.run(inputs), reader.skipped, skipped)
        workers, timeout = self.config.workers, self.config.doc_timeout
        if workers <= 1 and not timeout:  # no budget to enforce: stay in this process
            stages = DocumentStages(self.config)
            for item in items:
                yield stages.process(item) if isinstance(item, Document) else item
            return
        # Rejects and skipped inputs bypass the workers but keep their place in the order.
        pool = SupervisedPool(workers, timeout, _document_task, (self.config,),
                              passthrough=lambda item: not isinstance(item, Document))
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
                 progress: ProgressCallback | None, carry: Carry | None = None) -> Iterator[tuple[str, Any]]:
        """Yield ("document", Document), ("reject", Reject) and ("unchanged", Unchanged) in order.

        `carry` holds the state store, if any, and which inputs need no processing: their
        items come from the store, new items go to it; everything corpus-wide is done
        over all of them, so the records are those of a full run.
        """
        carry = carry or Carry()
        spool1 = work / "pass1.jsonl"
        stats, sites = NameStats(), SiteStats()
        seen_ids: dict[str, str] = {}
        doc_dedup = DocumentDeduper(self.config.doc_dedup, spill_dir=work)
        store = carry.store
        current: _InputTrack | None = None

        def end_input() -> None:
            if current is None:
                return
            if current.new and store is not None and current.sha and not current.retry:
                store.finish_input(summary.run_id, current.path, current.sha)
            event("input", f"{current.path}: {'read' if current.new else 'unchanged, from the state store'}, "
                  f"{current.items} item(s)", logging.DEBUG, path=current.path, new=current.new, items=current.items)

        def expanded() -> Iterator[tuple[Document | Reject, bool]]:
            """Mapped items, with an unchanged input's items from the store; True for new ones."""
            for item in self._mapped(inputs, carry.skip, carry.exclude, summary.skipped_records, carry.resume):
                if isinstance(item, Replayed):  # done by an interrupted run; staged again as this run's
                    summary.resumed_records += 1
                    yield item.item, True
                elif isinstance(item, Unchanged):
                    summary.unchanged_inputs += 1
                    assert store is not None
                    yield from ((old, False) for old in store.items(item.path))
                else:
                    yield item, True

        def tracked() -> Iterator[Document | Reject]:
            """Every item once, in order: input bookkeeping, staging for the store, duplicate ids."""
            nonlocal current
            # pages and records, not inputs: one 1 GB WARC is one input for half an hour
            for done, (item, new) in enumerate(expanded(), 1):
                path = item.source.path if isinstance(item, Document) else item.path
                if current is None or path != current.path:
                    end_input()
                    current = _InputTrack(path or "", new)
                    summary.inputs += 1
                if progress:
                    progress("map", done)
                current.items += 1
                if new and store is not None and current.path:
                    store.stage(summary.run_id, current.path, current.seq, item)
                    current.seq += 1
                if isinstance(item, Reject):
                    current.retry |= item.reason in RETRIED_REASONS
                    yield item
                    continue
                current.sha = item.source.sha256
                yield from quality_rejects(item)  # comments the quality stage dropped
                if item.id in seen_ids:
                    yield Reject(kind="document", reason="duplicate-document", doc_id=item.id,
                                 path=item.source.path, record=item.source.record,
                                 detail=f"same content as {seen_ids[item.id]}")
                    continue
                # one copy of a path for all its records: each document unpickled from a worker brings its own
                seen_ids[item.id] = sys.intern(item.source.path)
                yield item
            end_input()

        items = doc_dedup.run(tracked()) if doc_dedup.config.enabled else tracked()
        with open(spool1, "w", encoding="utf-8") as fh:
            for item in items:  # near-duplicate documents are rejects here
                if isinstance(item, Reject):
                    yield "reject", item
                    continue
                if self.config.names.mode == "auto":
                    stats.add_document(item)
                if self.config.repeats.enabled:
                    sites.add_document(item, self.config.repeats)
                item.line_keys = []  # counted; no need to spool them
                item.doc_sketch = None  # judged
                fh.write(dumps(item.to_dict()) + "\n")

        merges: dict[str, Merge] = {}
        if self.config.names.mode == "auto":
            merges.update((m.variant, m) for m in find_variants(stats, self.config.names))
        merges.update((m.variant, m) for m in self.alias_merges)  # a reviewed file wins
        summary.name_merges = len(merges)
        normalizer = NameNormalizer(merges.values())
        pii = PiiRedactor(self.config.pii)
        deduper = CommentDeduper(self.config.dedup)
        repeats = RepeatFilter(sites, self.config.repeats) if self.config.repeats.enabled else None
        # the corpus-wide statistics were just folded (find_variants, the site table): their short-lived
        # objects freed about 10 MB on a 4,000-page WARC that stayed resident through pass 2 otherwise
        give_back_free_memory()

        spool2 = work / "pass2.jsonl"
        with open(spool1, encoding="utf-8") as src, open(spool2, "w", encoding="utf-8") as dst:
            spooled = (Document.from_dict(json.loads(line)) for line in src)
            for n, (doc, comment_rejects) in enumerate(deduper.run(spooled), start=1):
                if progress:
                    progress("corpus", n)
                for rej in comment_rejects:
                    yield "reject", rej
                if repeats is not None:  # before names: their offsets point into the final text
                    doc = repeats.process(doc)
                    if (emptied := repeats.emptied(doc)) is not None:
                        yield "reject", emptied
                        continue
                if self.config.names.mode != "off":
                    doc = normalizer.process(doc)
                doc = pii.process(doc)  # last, so its offsets point into the final text
                dst.write(dumps(doc.to_dict()) + "\n")
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
        """The run's fields every record carries (the config itself is in the manifest only)."""
        return {
            "schema_version": SCHEMA_VERSION,
            "cleanpipe_version": __version__,
            "run_id": run_id,
            "config_sha256": self.config_sha256,
        }

    def iter_records(self, inputs: Inputs) -> Iterator[dict[str, Any]]:
        """Yield output records (and {'reject': ...} entries) without writing files."""
        inputs = input_paths(inputs)
        run_id = uuid.uuid4().hex[:12]
        prov = self.provenance(run_id)
        summary = RunSummary(run_id=run_id)
        with tempfile.TemporaryDirectory(prefix="cleanpipe-") as tmp:
            for kind, obj in self._execute(inputs, Path(tmp), summary, None):
                yield (document_record(obj, prov, self.config.output.provenance) if kind == "document"
                       else {"reject": reject_record(obj, run_id)})

    def run(self, inputs: Inputs, out_dir: str | Path, progress: ProgressCallback | None = None,
            wait: bool = False, state_dir: str | Path | None = None, use_state: bool = True,
            force: bool = False) -> RunSummary:
        """Process `inputs` into OUT/documents.EXT, OUT/rejects.EXT (shards `-NNNNN` past
        `config.output.shard_size`; EXT from `config.output.format`) and OUT/manifest.json.

        Holds an exclusive lock on OUT for the whole run (raises OutputLocked, or
        waits with `wait=True`); leftovers of a killed run are removed first.
        With `use_state` (the default) a state store (OUT/.cleanpipe-state unless
        `state_dir` is given) keeps every input's stripped documents: an input with
        the same path and content under the same config is not read and stripped
        again. The records are those a full run would write. `force` forgets the
        state first (and rebuilds a store that cannot be used; without it, such a
        store raises StateError).
        """
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        pin_mmap_threshold()  # pages pass through this process: keep its memory flat (engines/memory.py)
        with OutputLock(out, wait=wait):
            remove_leftovers(out)
            store = None
            if use_state:
                store = StateStore.open(Path(state_dir) if state_dir else out / STATE_DIR, rebuild_broken=force)
            try:
                return self._run_locked(input_paths(inputs), out, progress, store, force)
            finally:
                if store is not None:
                    store.close()

    def _carry_from(self, store: StateStore, force: bool, out: Path) -> Carry:
        # outputs of another schema version are never mixed with this one's: everything is redone
        if force or store.config_sha256() != self.config_sha256 or _output_schema(out) not in (None, SCHEMA_VERSION):
            store.reset(self.config_sha256)
        store.clear_staged()
        known = store.inputs()
        return Carry(store=store, skip=lambda path, sha: known.get(path) == sha)

    def _run_locked(self, inputs: list[str], out: Path, progress: ProgressCallback | None,
                    store: StateStore | None, force: bool) -> RunSummary:
        started = time.monotonic()
        started_at = datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")
        run_id = new_run_id()
        work = out / f".cleanpipe-work-{run_id}"
        work.mkdir()
        summary = RunSummary(run_id=run_id, out_dir=str(out))
        prov = self.provenance(run_id)
        opts = self.config.output
        carry = self._carry_from(store, force, out) if store is not None else Carry()
        carry.exclude = [str(out)] + ([str(store.path.parent)] if store is not None else [])
        if store is not None:
            carry.resume = functools.partial(store.begin_input, run_id)
        event("start", f"run {run_id}: {len(inputs)} input path(s) into {out}", run_id=run_id, inputs=inputs,
              out=str(out), config_sha256=self.config_sha256, state=store is not None)
        docs_out = ShardedWriter(out, "documents", opts.format, "document", run_id, int(opts.shard_size))
        rejects_out = ShardedWriter(out, "rejects", opts.format, "reject", run_id, int(opts.shard_size))
        try:
            for kind, obj in self._execute(inputs, work, summary, progress, carry):
                if kind == "document":
                    docs_out.write(document_record(obj, prov, opts.provenance))
                    summary.documents += 1
                else:
                    rejects_out.write(reject_record(obj, run_id))
                    summary.rejects[obj.reason] += 1
                    summary.errors += obj.is_error
                    _log_reject(obj)
            if summary.inputs == 0 or (inputs == ["-"] and not summary.documents and summary.rejects == {"empty": 1}):
                raise NoInputs(inputs, out)
            summary.files = ([{"kind": "documents", **f} for f in docs_out.commit()]
                             + [{"kind": "rejects", **f} for f in rejects_out.commit()])
        except BaseException:
            docs_out.abort()
            rejects_out.abort()
            raise
        finally:
            shutil.rmtree(work, ignore_errors=True)
        summary.seconds = round(time.monotonic() - started, 3)
        write_json_atomic(out / MANIFEST_FILE, {
            "run_id": run_id,
            "started_at": started_at,
            "cleanpipe_version": __version__,
            "schema_version": SCHEMA_VERSION,
            "config_sha256": self.config_sha256,
            "config": self.config.to_dict(),
            "output": {"format": opts.format, "shard_size": opts.shard_size, "provenance": opts.provenance},
            "inputs": [display_path(p) for p in inputs],  # as records name them (a non-UTF-8 name escaped)
            "files": summary.files,
            "summary": summary.to_dict(),
        })
        if store is not None:
            # after the outputs are in place: a kill before this line means a redo, never a loss
            store.commit_run(run_id)
        return summary


def _log_reject(rej: Reject) -> None:
    """Failures are warnings; results such as a dropped duplicate comment are shown with --verbose."""
    where = rej.path or "?"
    if rej.record is not None:
        where += f" record {rej.record}"
    event("reject", f"{where}: {rej.reason}: {rej.detail}", logging.WARNING if rej.is_error else logging.DEBUG,
          kind=rej.kind, reason=rej.reason, path=rej.path, record=rej.record, doc_id=rej.doc_id, detail=rej.detail)


def _counting(items: Iterator[Any], source: Counter[str], into: Counter[str] | None) -> Iterator[Any]:
    """Pass `items` through; when they end, add the reader's counts to `into`."""
    yield from items
    if into is not None:
        into.update(source)


def _output_schema(out: Path) -> str | None:
    """The schema version of the output already in `out` ("1" for outputs from before versions), or None."""
    try:
        manifest = json.loads((out / MANIFEST_FILE).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return str(manifest.get("schema_version", "1")) if isinstance(manifest, dict) else None


@dataclass
class _InputTrack:
    """The input whose items pass 1 is reading now."""

    path: str
    new: bool  # read this run (not from the state store)
    seq: int = 0
    items: int = 0  # documents and rejects
    sha: str | None = None
    retry: bool = False


@dataclass
class Carry:
    """The state store of an incremental run, and which inputs it already holds."""

    store: StateStore | None = None
    skip: Callable[[str, str], bool] | None = None
    exclude: list[str] = field(default_factory=list)  # never inputs: the output and state folders
    # (path, sha256) -> items an interrupted run produced for that input's records, by record index
    resume: Callable[[str, str], Mapping[int, list[Document | Reject]]] | None = None
