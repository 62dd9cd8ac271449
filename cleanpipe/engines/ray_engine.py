"""The Ray engine: the same pipeline on a Ray cluster, with the same output as the local engine.

Ray Data runs the plan; every corpus-wide step is a shuffle over narrow rows,
never the corpus through one process:

1. map (per input file): read -> strip -> split comments (-> document sketch).
   Inputs are listed in the driver; a document's place in input order is
   (file, record).
2. duplicate documents: group by document id, the first by input order wins.
   Near-duplicate documents (doc_dedup, when on) follow, with steps 5-8 below
   run over the sketch each document brought from step 1 (digest, band keys,
   shingles); a group by document id then swaps each copy for its reject,
   before anything is counted, as in the local engine.
3. names and site repeats: partial counts per block (candidate names; page
   lines per site), merged once in the driver, where the name variants are
   found; the merges and site counts go to every worker for step 9.
4. comment sketches (per document block): exact digest, shingles, LSH band keys.
5. exact copies: group by digest; the first occurrence stands for the text.
6. candidates: one row per LSH bucket entry (kind, band and band key as one
   64-bit number), grouped by bucket: pairs of texts that share one.
7. verification: two reduce-side joins bring both texts' shingles to each
   pair (a pair found in several bands is one pair from the first join on);
   exact Jaccard >= threshold makes an edge.
8. resolution: the edges (only similar pairs, a small fraction of the corpus)
   go to the driver, which decides in input order which texts are kept
   (`dedup.SimilarityGraph`: a text duplicates only an earlier kept one, as in
   the streaming filter); every occurrence then gets its verdict in a map.
9. assembly: documents meet their comments' verdicts and kept comments their
   absorbed counts (group by document id); paragraphs repeated across their
   site are removed and names normalized; records and
   rejects are sorted by input order and written one part per write task, named
   as the local engine names shards (`documents-00000.jsonl`, ... in any output
   format; one part: `documents.jsonl`), then the manifest.

Every shuffle groups many keys per task (`group_by`): Ray's map_groups calls
its function once per key, which cost more than the work itself here.

Not in this engine: the state store (every run is a full run) and the per-page
time budget of the local worker pool; stdin is not an input.
"""

from __future__ import annotations

import importlib.util
import json
import logging
import os
import pickle
import shutil
import time
import zlib
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np

from cleanpipe import __version__
from cleanpipe.config import Config, DedupConfig
from cleanpipe.engines.pipeline import (
    DocumentStages,
    Inputs,
    Pipeline,
    ProgressCallback,
    RunSummary,
    input_paths,
    new_run_id,
)
from cleanpipe.io.read import NoInputs, Reader, display_path, iter_input_paths
from cleanpipe.io.schema import SCHEMA_VERSION, reject_record
from cleanpipe.io.write import MANIFEST_FILE, OutputLock, document_record, dumps, remove_leftovers, write_json_atomic
from cleanpipe.io.writers import DEFAULT_SHARD_SIZE, Shard, existing_shards, file_sha256, shard_name
from cleanpipe.model import Document, Reject
from cleanpipe.stages.comments import apply_verdicts, comment_doc_id
from cleanpipe.stages.dedup import (
    NearDuplicateFilter,
    SimilarityGraph,
    Verdict,
    pack_sketch,
    pair_similarity,
    sketch_buckets,
)
from cleanpipe.stages.docdedup import near_duplicate_reject, sketch_parts
from cleanpipe.stages.names import Merge, NameNormalizer, NameStats, find_variants
from cleanpipe.stages.pii import PiiRedactor
from cleanpipe.stages.quality import quality_rejects
from cleanpipe.stages.repeats import RepeatFilter, SiteStats

try:  # the module imports without the extra; running it needs `pip install 'cleanpipe[ray]'`
    import pyarrow as pa
except ImportError:  # pragma: no cover - exercised only where the extra is missing
    pa = None


def ray_available() -> bool:
    return importlib.util.find_spec("ray") is not None and pa is not None


def _schema(**columns: Any) -> Any:
    return pa.schema(list(columns.items()))


def _row_schema() -> Any:
    """Rows that carry documents, verdicts and output lines, ordered by (file, rec, seq)."""
    return _schema(file=pa.int64(), rec=pa.int64(), seq=pa.int64(), doc_id=pa.string(), kind=pa.string(),
                   data=pa.string(), reason=pa.string(), error=pa.bool_(), comments=pa.int64())


def _table(rows: list[dict[str, Any]], schema: Any) -> Any:
    return pa.Table.from_pylist(rows, schema=schema)


def _row(file: int, rec: int, kind: str, data: str, doc_id: str = "", seq: int = 0,
         reason: str = "", error: bool = False, comments: int = 0) -> dict[str, Any]:
    return {"file": file, "rec": rec, "seq": seq, "doc_id": doc_id, "kind": kind, "data": data,
            "reason": reason, "error": error, "comments": comments}


def _reject_row(file: int, rec: int, reject: Reject, run_id: str, seq: int = 0) -> dict[str, Any]:
    return _row(file, rec, "reject", dumps(reject_record(reject, run_id)), reject.doc_id or "", seq,
                reject.reason, reject.is_error)


@lru_cache(maxsize=4)
def _config(config_blob: bytes) -> Config:
    return pickle.loads(config_blob)


@lru_cache(maxsize=4)
def _document_stages(config_blob: bytes) -> DocumentStages:
    return DocumentStages(_config(config_blob))


@lru_cache(maxsize=4)
def _sketcher(config_blob: bytes) -> NearDuplicateFilter:
    return NearDuplicateFilter(pickle.loads(config_blob))


# -- per-row and per-group functions (run in Ray workers; plain functions, testable alone) -------
def read_and_strip(row: dict[str, Any], config_blob: bytes, run_id: str) -> list[dict[str, Any]]:
    """Step 1: one input file -> document rows (the pages after strip and comment split) and rejects."""
    stages = _document_stages(config_blob)
    out = []
    for rec, item in enumerate(Reader(_config(config_blob).read).read_path(row["path"])):
        if isinstance(item, Document):
            item = stages.process(item)
        if isinstance(item, Document):
            out.append(_row(row["file"], rec, "document", dumps(item.to_dict()), item.id))
            out += [_reject_row(row["file"], rec, rej, run_id) for rej in quality_rejects(item)]
        else:
            out.append(_reject_row(row["file"], rec, item, run_id))
    return out


def first_of_each_id(rows: list[dict[str, Any]], run_id: str) -> list[dict[str, Any]]:
    """Step 2: documents with one id (the same content); all but the first by input order are rejects."""
    if len(rows) == 1:  # the common case: no need to parse the page
        return rows
    rows = sorted(rows, key=lambda r: (r["file"], r["rec"]))
    first_path = json.loads(rows[0]["data"])["source"]["path"]
    out = [rows[0]]
    for row in rows[1:]:
        source = json.loads(row["data"])["source"]
        out.append(_reject_row(row["file"], row["rec"], Reject(
            kind="document", reason="duplicate-document", doc_id=row["doc_id"], path=source["path"],
            record=source["record"], detail=f"same content as {first_path}"), run_id))
    return out


def partial_counts(batch: Any, config: Config) -> Any:
    """Step 3: candidate-name and site line counts of one block of documents."""
    names, sites = NameStats(), SiteStats()
    for data in batch.column("data").to_pylist():
        doc = Document.from_dict(json.loads(data))
        if config.names.mode == "auto":
            names.add_document(doc)
        if config.repeats.enabled:
            sites.add_document(doc, config.repeats)
    return _table([{"names": pickle.dumps(names), "sites": pickle.dumps(sites)}],
                  _schema(names=pa.binary(), sites=pa.binary()))


def _sketch_schema() -> Any:
    return _schema(digest=pa.binary(), file=pa.int64(), rec=pa.int64(), c=pa.int64(), id=pa.string(),
                   text=pa.string(), kind=pa.string(), bands=pa.binary(), shingles=pa.binary(),
                   others=pa.string())


def comment_sketches(batch: Any, dedup: DedupConfig) -> Any:
    """Step 4: one row per comment of a block of documents, with what the filter compares."""
    found = []
    for file, rec, data in zip(*(batch.column(k).to_pylist() for k in ("file", "rec", "data")), strict=True):
        for c, comment in enumerate(json.loads(data)["comments"]):
            found.append((file, rec, c, comment["id"], comment["text"]))
    sketches = _sketcher(pickle.dumps(dedup)).sketch([text for *_, text in found])
    return _table([{"digest": sk.digest, "file": file, "rec": rec, "c": c, "id": cid, "text": text[:500],
                    "kind": sk.kind, "bands": sk.bands.tobytes() if sk.bands is not None else None,
                    "shingles": sk.shingles.tobytes(), "others": "[]"}
                   for (file, rec, c, cid, text), sk in zip(found, sketches, strict=True)], _sketch_schema())


def first_occurrences(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Step 5: the occurrences of one exact text -> its first, listing the later ones."""
    rows = sorted(rows, key=lambda r: (r["file"], r["rec"], r["c"]))
    first = dict(rows[0])
    first["others"] = dumps([[r["file"], r["rec"], r["c"], r["id"]] for r in rows[1:]])
    return [first]


def bucket_entries(batch: Any, shards: int) -> Any:
    """Step 6a: one row per LSH bucket of each text (kind, band, band key as one 64-bit number),
    with the shard of keys it goes to; texts with nothing to shingle match only exactly: none."""
    bands, kinds, digests = (batch.column(k).to_pylist() for k in ("bands", "kind", "digest"))
    schema = _schema(bucket=pa.uint64(), digest=pa.binary(), shard=pa.int64())
    # a text near the shingle cut-over has buckets in both spaces (`dedup.sketch_buckets`)
    buckets, owner = sketch_buckets([np.frombuffer(b, dtype=np.uint64) if b else None for b in bands], kinds)
    if not len(buckets):
        return _table([], schema)
    return pa.table({"bucket": pa.array(buckets, pa.uint64()),
                     "digest": pa.array([digests[i] for i in owner.tolist()], pa.binary()),
                     "shard": pa.array((buckets % np.uint64(shards)).astype(np.int64), pa.int64())}, schema=schema)


def _pair_schema() -> Any:
    return _schema(a=pa.binary(), b=pa.binary())


def bucket_pairs(group: Any) -> Any:
    """Step 6b: in one shard of buckets, the texts that share a bucket, as ordered pairs of digests."""
    buckets = group.column("bucket").to_numpy()
    order = np.argsort(buckets, kind="stable")
    ordered = buckets[order]
    bounds = np.concatenate(([0], np.flatnonzero(ordered[1:] != ordered[:-1]) + 1, [len(ordered)]))
    shared = np.flatnonzero(np.diff(bounds) > 1)  # most buckets hold one text
    digests = group.column("digest").to_pylist()
    pairs: set[tuple[bytes, bytes]] = set()
    for k in shared.tolist():
        members = sorted({digests[j] for j in order[bounds[k]: bounds[k + 1]].tolist()})
        pairs.update((a, b) for i, a in enumerate(members) for b in members[i + 1:])
    return _table([{"a": a, "b": b} for a, b in sorted(pairs)], _pair_schema())


def _join_schema() -> Any:
    return _schema(key=pa.binary(), other=pa.binary(), shingles=pa.binary(), meta=pa.string())


def join_rows_of_pairs(batch: Any) -> Any:
    return _table([{"key": a, "other": b, "shingles": None, "meta": None}
                   for a, b in zip(batch.column("a").to_pylist(), batch.column("b").to_pylist(), strict=True)],
                  _join_schema())


def join_rows_of_texts(batch: Any) -> Any:
    cols = [batch.column(k).to_pylist() for k in ("digest", "shingles", "file", "rec", "c", "id", "text", "bands")]
    return _table([{"key": d, "other": None, "shingles": sh, "meta": dumps([f, r, c, i, t])}
                   for d, sh, f, r, c, i, t, bands in zip(*cols, strict=True) if bands], _join_schema())


def attach_first_side(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Step 7a: pairs (a, b) keyed by a meet a's row; they leave keyed by b, carrying a's shingles.
    A pair found in several buckets is one pair from here on."""
    text = next(r for r in rows if r["other"] is None)
    return [{"key": other, "other": text["key"], "shingles": text["shingles"], "meta": text["meta"]}
            for other in sorted({r["other"] for r in rows if r["other"] is not None})]


def _edge_schema() -> Any:
    return _schema(a=pa.binary(), b=pa.binary(), sim=pa.float64(), a_meta=pa.string(), b_meta=pa.string())


def verify_pairs(rows: list[dict[str, Any]], dedup: DedupConfig) -> list[dict[str, Any]]:
    """Step 7b: pairs keyed by b meet b's row; the filter's own pair test (`dedup.pair_similarity`:
    exact Jaccard, and the short-text check) decides which are edges."""
    threshold = dedup.threshold
    text = next(r for r in rows if r["other"] is None)
    mine = np.frombuffer(text["shingles"], dtype=np.uint64)
    edges = []
    for r in rows:
        if r["other"] is None:
            continue
        sim = pair_similarity(np.frombuffer(r["shingles"], dtype=np.uint64), mine, threshold,
                              dedup.strict_words, dedup.strict_edits)
        if sim >= threshold:
            edges.append({"a": r["other"], "b": r["key"], "sim": sim, "a_meta": r["meta"], "b_meta": text["meta"]})
    return edges


def _dropped_occurrences(row: dict[str, Any], graph: SimilarityGraph,
                         kept_meta: dict[bytes, tuple[str, str]]) -> Iterator[tuple[tuple, str, str, str, float, str]]:
    """Every dropped occurrence of one distinct text (a row of step 5): its position and id, the
    kept text's id and label, the similarity and the method (exact or minhash)."""
    digest, first = row["digest"], (row["file"], row["rec"], row["c"])
    occurrences = [(first, row["id"])] + [((f, r, c), oid) for f, r, c, oid in json.loads(row["others"])]
    for position, oid in occurrences:
        if digest in graph.order:
            dup = graph.duplicate_of(digest, position)
        else:  # similar to nothing else: only its own later copies are duplicates
            dup = None if position == first else (digest, 1.0)
        if dup is None:
            continue
        exact = dup[0] == digest
        kept_id, kept_text = (row["id"], row["text"]) if exact else kept_meta[dup[0]]
        yield position, oid, kept_id, kept_text, 1.0 if exact else dup[1], "exact" if exact else "minhash"


def occurrence_verdicts(batch: Any, graph: SimilarityGraph, kept_meta: dict[bytes, tuple[str, str]]) -> Any:
    """Step 8b: a verdict row for every dropped occurrence, and an 'absorbed' row for its kept text."""
    out = []
    for row in batch.to_pylist():
        for position, cid, kept_id, kept_text, similarity, method in _dropped_occurrences(row, graph, kept_meta):
            verdict = {"id": cid, "duplicate_of": kept_id, "similarity": round(similarity, 4),
                       "method": method, "kept_text": kept_text}
            out.append(_row(position[0], position[1], "drop", dumps(verdict), comment_doc_id(cid), position[2]))
            out.append(_row(0, 0, "absorbed", kept_id, comment_doc_id(kept_id)))
    return _table(out, _row_schema())


_NO_SHINGLES = np.empty(0, dtype=np.uint64)


def document_sketches(batch: Any) -> Any:
    """Near-duplicate documents, step 4: the sketch each document brought from the map step, as a row
    of the comment plan (c = 0; text: the kept document's path and URL, which a reject names)."""
    found = []
    for file, rec, data in zip(*(batch.column(k).to_pylist() for k in ("file", "rec", "data")), strict=True):
        doc = json.loads(data)
        if doc.get("doc_sketch") is None:  # no text: never compared
            continue
        digest, bands, shingles = sketch_parts(doc["doc_sketch"])
        found.append({"digest": digest, "file": file, "rec": rec, "c": 0, "id": doc["id"],
                      "text": dumps([doc["source"]["path"], doc["source"].get("url")]), "kind": "word",
                      "bands": bands.tobytes() if len(bands) else None,
                      "shingles": pack_sketch(_NO_SHINGLES, shingles.astype(np.uint64), 0, None).tobytes(),
                      "others": "[]"})
    return _table(found, _sketch_schema())


def document_verdicts(batch: Any, graph: SimilarityGraph, kept_meta: dict[bytes, tuple[str, str]]) -> Any:
    """Near-duplicate documents, step 8b: a 'doc-drop' row for every document that duplicates a kept one."""
    out = []
    for row in batch.to_pylist():
        for position, doc_id, kept_id, kept_text, similarity, method in _dropped_occurrences(row, graph, kept_meta):
            path, url = json.loads(kept_text)
            verdict = {"duplicate_of": kept_id, "similarity": similarity, "method": method, "path": path, "url": url}
            out.append(_row(position[0], position[1], "doc-drop", dumps(verdict), doc_id))
    return _table(out, _row_schema())


def drop_near_duplicates(rows: list[dict[str, Any]], run_id: str) -> list[dict[str, Any]]:
    """Near-duplicate documents, step 8c: one document with its verdict, if any -> the document, or
    its reject (written by the local engine's own function)."""
    doc_row = next(r for r in rows if r["kind"] == "document")
    drop = next((r for r in rows if r["kind"] == "doc-drop"), None)
    data = json.loads(doc_row["data"])
    if drop is None:  # judged: the sketch (kilobytes of shingles) need not travel through later steps
        return [{**doc_row, "data": dumps({**data, "doc_sketch": None})}]
    v = json.loads(drop["data"])
    doc = Document.from_dict(data)
    reject = near_duplicate_reject(doc, v["duplicate_of"], v["similarity"], v["method"], v["path"], v["url"])
    return [_reject_row(doc_row["file"], doc_row["rec"], reject, run_id)]


def assemble(rows: list[dict[str, Any]], normalizer: NameNormalizer | None, repeats: RepeatFilter | None,
             provenance: dict[str, Any], run_id: str, pii: PiiRedactor | None = None,
             level: str = "compact") -> list[dict[str, Any]]:
    """Step 9: one document with its comments' verdicts -> its output record and comment rejects."""
    doc_row = next(r for r in rows if r["kind"] == "document")
    doc = Document.from_dict(json.loads(doc_row["data"]))
    drops = {v["id"]: v for v in (json.loads(r["data"]) for r in rows if r["kind"] == "drop")}
    absorbed = Counter(r["data"] for r in rows if r["kind"] == "absorbed")
    verdicts = [Verdict(c.id, True) if (d := drops.get(c.id)) is None
                else Verdict(c.id, False, d["duplicate_of"], d["similarity"], d["method"])
                for c in doc.comments]
    kept_text = {v["duplicate_of"]: v["kept_text"] for v in drops.values()}
    seq_of = {c.id: i + 1 for i, c in enumerate(doc.comments)}
    rejects = apply_verdicts(doc, verdicts, kept_text)
    f, r = doc_row["file"], doc_row["rec"]
    if repeats is not None:
        doc = repeats.process(doc)
        if (emptied := repeats.emptied(doc)) is not None:
            return [_reject_row(f, r, emptied, run_id)]
    if normalizer is not None:
        doc = normalizer.process(doc)
    if pii is not None:  # last, as in the local engine
        doc = pii.process(doc)
    for comment in doc.comments:
        comment.duplicates = absorbed.get(comment.id, 0)
    out = [_row(f, r, "record", dumps(document_record(doc, provenance, level)), doc.id, comments=len(doc.comments))]
    out += [_reject_row(f, r, rej, run_id, seq_of[rej.extra["id"]]) for rej in rejects]
    return out


def _add_shard(batch: Any, key: str, shards: int) -> Any:
    shard = [zlib.crc32(v if isinstance(v, bytes) else v.encode()) % shards for v in batch.column(key).to_pylist()]
    return batch.append_column("shard", pa.array(shard, pa.int64()))


def _each_key(group: Any, key: str, fn: Any, schema: Any, kwargs: dict[str, Any]) -> Any:
    by_key: dict[Any, list[dict[str, Any]]] = {}
    for row in group.to_pylist():
        by_key.setdefault(row[key], []).append(row)
    return _table([out for rows in by_key.values() for out in fn(rows, **kwargs)], schema)


def group_by(ds: Any, key: str, fn: Any, schema: Any, shards: int, **kwargs: Any) -> Any:
    """`fn(rows of one key, **kwargs) -> rows` over every key of `ds`, each shard of keys in one task.

    Ray's map_groups calls its function once per key, which for millions of mostly single-row
    keys (bucket entries, digests) costs more than the work; grouping many keys per shard and
    splitting them in the task keeps the same shuffle with one call per shard."""
    return (ds.map_batches(_add_shard, batch_format="pyarrow", fn_kwargs={"key": key, "shards": shards})
            .groupby("shard", num_partitions=min(shards, 200))
            .map_groups(_each_key, batch_format="pyarrow",
                        fn_kwargs={"key": key, "fn": fn, "schema": schema, "kwargs": kwargs}))


def write_part(blocks: Iterable[Any], folder: Path, task_index: int, stem: str = "documents", fmt: str = "jsonl",
               kind: str = "document") -> dict[str, Any]:
    """Write one task's rows (sorted) as `STEM-NNNNN.FMT` in `folder` (the run's work folder),
    through a temporary file opened with O_EXCL|O_NOFOLLOW; an empty part leaves no file."""
    name = shard_name(stem, fmt, task_index)
    shard = Shard(folder / f".{name}.tmp", fmt, kind, DEFAULT_SHARD_SIZE)
    comments, reasons, errors = 0, Counter(), 0
    try:
        for block in blocks:
            for row in block.to_pylist():
                shard.write(json.loads(row["data"]))
                if row["kind"] == "record":
                    comments += row["comments"]
                else:
                    reasons[row["reason"]] += 1
                    errors += bool(row["error"])
        shard.close()
    except BaseException:
        shard.discard()
        raise
    if not shard.records:
        shard.tmp.unlink()
        return {"file": name, "records": 0}
    os.replace(shard.tmp, folder / name)
    return {"file": name, "records": shard.records, "bytes": (folder / name).stat().st_size,
            "sha256": file_sha256(folder / name), "comments": comments, "reasons": dict(reasons), "errors": errors}


def _parts_sink(folder: Path, stem: str, fmt: str, kind: str) -> Any:
    """A Ray Datasink over `write_part` that keeps what each part holds (for the manifest)."""
    from ray.data import Datasink

    class Parts(Datasink):
        def __init__(self) -> None:
            self.parts: list[dict[str, Any]] = []

        def write(self, blocks: Iterable[Any], ctx: Any) -> dict[str, Any]:
            return write_part(blocks, folder, ctx.task_idx, stem, fmt, kind)

        def on_write_complete(self, write_result: Any) -> None:
            returns = getattr(write_result, "write_returns", write_result)
            self.parts = sorted((p for p in returns if p["records"]), key=lambda p: p["file"])

    return Parts()


def _publish(parts: list[dict[str, Any]], work: Path, out: Path, stem: str, fmt: str) -> list[dict[str, Any]]:
    """Move a run's parts from `work` into `out` under the local engine's names (one part:
    STEM.FMT; several: STEM-00000.FMT, ... in input order), then remove the previous run's shards."""
    if not parts:  # no records: one empty shard, as the local engine writes
        empty = Shard(work / f".{stem}.{fmt}.tmp", fmt, "document" if stem == "documents" else "reject", 1)
        empty.close()
        os.replace(empty.tmp, work / f"{stem}-empty.{fmt}")
        parts = [{"file": f"{stem}-empty.{fmt}", "records": 0, "bytes": (work / f"{stem}-empty.{fmt}").stat().st_size,
                  "sha256": file_sha256(work / f"{stem}-empty.{fmt}"), "comments": 0, "reasons": {}, "errors": 0}]
    single = len(parts) == 1
    published = []
    for index, part in enumerate(parts):
        name = shard_name(stem, fmt, None if single else index)
        os.replace(work / part["file"], out / name)
        published.append({**part, "file": name})
    names = {p["file"] for p in published}
    for stale in existing_shards(out, stem):
        if stale.name not in names:
            stale.unlink(missing_ok=True)
    return published


class RayPipeline(Pipeline):
    """`Pipeline` on Ray: `RayPipeline(config).run(["crawl/"], "clean/", address="auto")`."""

    def run(self, inputs: Inputs, out_dir: str | Path, progress: ProgressCallback | None = None,
            wait: bool = False, address: str | None = None, partitions: int | None = None) -> RunSummary:
        """Connect to the cluster at `address` (or start a local Ray on this machine's loopback with
        `config.workers` CPUs), run the plan, and write OUT/documents[-NNNNN].EXT, OUT/rejects[-NNNNN].EXT
        (one part per write task: `config.output.shard_size` does not apply) and OUT/manifest.json."""
        if not ray_available():
            raise RuntimeError("the Ray engine needs Ray: pip install 'cleanpipe[ray]'")
        paths = list(iter_input_paths(input_paths(inputs), exclude=[out_dir]))  # never read our own output
        if "-" in paths:
            raise ValueError("the Ray engine reads files, not standard input")
        if not paths:
            raise NoInputs(input_paths(inputs), out_dir)
        out = Path(out_dir)
        out.mkdir(parents=True, exist_ok=True)
        ray = _start_ray(address, self.config.workers)
        with OutputLock(out, wait=wait):
            remove_leftovers(out)
            return self._run_on_ray(ray, paths, out, progress, partitions)

    def _run_on_ray(self, ray: Any, paths: list[str], out: Path, progress: ProgressCallback | None,
                    partitions: int | None) -> RunSummary:
        started = time.monotonic()
        run_id = new_run_id()
        summary = RunSummary(run_id=run_id, out_dir=str(out))
        prov = self.provenance(run_id)
        cpus = max(1, int(ray.cluster_resources().get("CPU", 1)))
        shuffle = partitions or max(2 * cpus, len(paths) // 2000)  # shards of keys; ~2000 pages each
        config_blob = pickle.dumps(self.config)
        data = ray.data
        from ray.data.expressions import col
        step = _Steps(progress)

        # Ray infers a schema from the rows: with no inputs, one placeholder row, then none
        files = data.from_items([{"file": i, "path": p} for i, p in enumerate(paths)] or [{"file": 0, "path": ""}],
                                override_num_blocks=max(1, min(len(paths), max(4 * cpus, len(paths) // 1000))))
        if not paths:
            files = files.limit(0)
        mapped = step("map", files.flat_map(read_and_strip, fn_kwargs={"config_blob": config_blob,
                                                                         "run_id": run_id}).materialize())
        summary.inputs = len(paths)  # input files, as the local engine counts them (not rows)
        docs = step("documents", group_by(mapped.filter(expr=col("kind") == "document"), "doc_id",
                                          first_of_each_id, _row_schema(), shuffle, run_id=run_id).materialize())
        unique = docs.filter(expr=col("kind") == "document")
        driver: dict[str, int] = {}
        doc_rejects = []
        if self.config.doc_dedup.enabled:  # before anything is counted, as in the local engine
            judged, driver = self._near_duplicate_documents(unique, shuffle, step, run_id)
            unique = judged.filter(expr=col("kind") == "document")
            doc_rejects.append(judged.filter(expr=col("kind") == "reject"))

        merges: dict[str, Merge] = {}
        names, sites = NameStats(), SiteStats()
        if self.config.names.mode == "auto" or self.config.repeats.enabled:
            for row in unique.map_batches(partial_counts, batch_format="pyarrow",
                                          fn_kwargs={"config": self.config}).iter_rows():
                names.merge(pickle.loads(row["names"]))
                sites.merge(pickle.loads(row["sites"]))
        if self.config.names.mode == "auto":
            merges.update((m.variant, m) for m in find_variants(names, self.config.names))
        merges.update((m.variant, m) for m in self.alias_merges)
        summary.name_merges = len(merges)
        step("names", None)

        verdict_rows = None
        if self.config.dedup.enabled:
            verdict_rows, held = self._comment_verdicts(unique, shuffle, step)
            driver.update(held)

        parts = [unique] + ([verdict_rows] if verdict_rows is not None else [])
        combined = parts[0].union(*parts[1:]) if len(parts) > 1 else parts[0]
        assembled = step("assemble", group_by(
            combined, "doc_id", assemble, _row_schema(), shuffle,
            normalizer=NameNormalizer(merges.values()) if self.config.names.mode != "off" else None,
            repeats=RepeatFilter(sites, self.config.repeats) if self.config.repeats.enabled else None,
            provenance=prov, run_id=run_id, pii=PiiRedactor(self.config.pii),
            level=self.config.output.provenance).materialize())

        work = out / f".cleanpipe-work-{run_id}"
        fmt = self.config.output.format
        try:
            written = {}
            for stem, kind, rows in (("documents", "document", assembled.filter(expr=col("kind") == "record")),
                                     ("rejects", "reject", mapped.filter(expr=col("kind") == "reject").union(
                                         docs.filter(expr=col("kind") == "reject"),
                                         assembled.filter(expr=col("kind") == "reject"), *doc_rejects))):
                (work / stem).mkdir(parents=True)
                sink = _parts_sink(work / stem, stem, fmt, kind)
                rows.sort(["file", "rec", "seq"]).write_datasink(sink)
                written[stem] = sink.parts
            step("write", None)
            for stem in written:  # the earlier engine's part folders are replaced too
                if (out / stem).is_dir() and not (out / stem).is_symlink():
                    os.replace(out / stem, work / f"previous-{stem}")
                written[stem] = _publish(written[stem], work / stem, out, stem, fmt)
        finally:
            shutil.rmtree(work, ignore_errors=True)

        for part in written["documents"]:
            summary.documents += part["records"]
            summary.comments_kept += part["comments"]
        for part in written["rejects"]:
            summary.rejects.update(part["reasons"])
            summary.errors += part["errors"]
        summary.comments_dropped = summary.rejects.get("duplicate", 0)
        summary.files = [{"kind": stem, **{k: p[k] for k in ("file", "records", "bytes", "sha256")}}
                         for stem in ("documents", "rejects") for p in written[stem]]
        summary.seconds = round(time.monotonic() - started, 3)
        write_json_atomic(out / MANIFEST_FILE, {
            "run_id": run_id, "engine": "ray", "cleanpipe_version": __version__, "schema_version": SCHEMA_VERSION,
            "config_sha256": self.config_sha256, "config": self.config.to_dict(),
            "output": {"format": fmt, "provenance": self.config.output.provenance},
            "inputs": [display_path(p) for p in paths],  # as records name them (a non-UTF-8 name escaped)
            "files": summary.files, "summary": summary.to_dict(),
            "steps": {"seconds": step.seconds, "largest_block_bytes": step.largest_block, **driver},
        })
        return summary

    def _similar_texts(self, sketches: Any, dedup: DedupConfig, shuffle: int, step: _Steps,
                       prefix: str = "") -> tuple[Any, SimilarityGraph, dict[bytes, tuple[str, str]], dict[str, int]]:
        """Steps 5-8a over sketch rows (comments or documents): the distinct texts, the graph of
        their similar pairs (decided in the driver), the kept texts' id and label, and what the
        driver held."""
        texts = step(f"{prefix}sketch", group_by(sketches, "digest", first_occurrences, _sketch_schema(), shuffle)
                     .materialize())
        pairs = (texts.map_batches(bucket_entries, batch_format="pyarrow", fn_kwargs={"shards": shuffle})
                 .groupby("shard", num_partitions=min(shuffle, 200))
                 .map_groups(bucket_pairs, batch_format="pyarrow"))
        text_rows = texts.map_batches(join_rows_of_texts, batch_format="pyarrow")
        keyed_by_b = group_by(pairs.map_batches(join_rows_of_pairs, batch_format="pyarrow").union(text_rows),
                              "key", attach_first_side, _join_schema(), shuffle)
        edges = group_by(keyed_by_b.union(text_rows), "key", verify_pairs, _edge_schema(), shuffle,
                         dedup=dedup).take_all()
        step(f"{prefix}candidates", None)
        order: dict[bytes, tuple] = {}
        kept_meta: dict[bytes, tuple[str, str]] = {}
        for edge in edges:
            for side in ("a", "b"):
                f, r, c, cid, text = json.loads(edge[f"{side}_meta"])
                order[edge[side]] = (f, r, c)
                kept_meta[edge[side]] = (cid, text)
        graph = SimilarityGraph(order, ((e["a"], e["b"], e["sim"]) for e in edges))
        kept_meta = {d: m for d, m in kept_meta.items() if graph.is_kept(d)}
        held = {f"driver_{prefix.replace('-', '_')}similar_pairs": len(edges),
                f"driver_{prefix.replace('-', '_')}graph_bytes": len(pickle.dumps((graph, kept_meta)))}
        return texts, graph, kept_meta, held

    def _comment_verdicts(self, unique: Any, shuffle: int, step: _Steps) -> tuple[Any, dict[str, int]]:
        """Steps 4-8: 'drop' and 'absorbed' rows for the comments of the unique documents, and what
        the driver held (the similar pairs and the graph made of them)."""
        sketches = unique.map_batches(comment_sketches, batch_format="pyarrow",
                                      fn_kwargs={"dedup": self.config.dedup})
        texts, graph, kept_meta, held = self._similar_texts(sketches, self.config.dedup, shuffle, step)
        return step("verdicts", texts.map_batches(occurrence_verdicts, batch_format="pyarrow",
                                                  fn_kwargs={"graph": graph, "kept_meta": kept_meta})
                    .materialize()), held

    def _near_duplicate_documents(self, unique: Any, shuffle: int, step: _Steps,
                                  run_id: str) -> tuple[Any, dict[str, int]]:
        """Near-duplicate documents with the comments' plan (steps 4-8 over the documents' own
        sketches): the unique documents with every near-duplicate replaced by its reject row."""
        sketches = unique.map_batches(document_sketches, batch_format="pyarrow")
        # Jaccard alone, as in the local engine: the short-comment check is for comments
        texts, graph, kept_meta, held = self._similar_texts(sketches, replace(self.config.doc_dedup, strict_words=0),
                                                            shuffle, step, prefix="doc-")
        drops = texts.map_batches(document_verdicts, batch_format="pyarrow",
                                  fn_kwargs={"graph": graph, "kept_meta": kept_meta})
        judged = group_by(unique.union(drops), "doc_id", drop_near_duplicates, _row_schema(), shuffle, run_id=run_id)
        return step("doc-verdicts", judged.materialize()), held


class _Steps:
    """Times each step of the plan and notes the largest block it materialized (for the manifest:
    a block is what one task holds at a time), and reports each step as progress."""

    def __init__(self, progress: ProgressCallback | None):
        self.progress = progress
        self.seconds: dict[str, float] = {}
        self.largest_block: dict[str, int] = {}
        self._last = time.monotonic()

    def __call__(self, name: str, value: Any) -> Any:
        now = time.monotonic()
        self.seconds[name] = round(now - self._last, 3)
        self._last = now
        try:  # block metadata is Ray-internal API: a measurement, never a reason to fail a run
            sizes = [m.size_bytes for b in value.iter_internal_ref_bundles() for m in b.metadata]
            self.largest_block[name] = max(sizes, default=0)
        except Exception:  # noqa: BLE001
            pass
        if self.progress:
            self.progress(name, len(self.seconds))
        return value


def _start_ray(address: str | None, cpus: int) -> Any:
    """Ray, initialized: joined to the cluster at `address`, or a private one on this machine."""
    if not address:
        # A private Ray listens on loopback only: Ray reads this switch when it is imported
        # (it is what keeps single-machine Ray on 127.0.0.1 on macOS and Windows).
        os.environ.setdefault("RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER", "0")
    import ray
    from ray.data.context import ShuffleStrategy

    if not ray.is_initialized():
        logging.getLogger("ray.data").setLevel(logging.WARNING)
        if address:
            ray.init(address=address, logging_level=logging.WARNING, log_to_driver=False)
        else:
            ray.init(num_cpus=cpus, include_dashboard=False, logging_level=logging.WARNING, log_to_driver=False)
    ctx = ray.data.DataContext.get_current()
    ctx.enable_progress_bars = False
    # pull-based sort shuffles run as plain tasks; hash shuffles start aggregator actors, whose
    # start-up cost (seconds per shuffle) dominated runs below millions of rows here
    ctx.shuffle_strategy = ShuffleStrategy.SORT_SHUFFLE_PULL_BASED
    return ray
