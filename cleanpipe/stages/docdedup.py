"""Near-duplicate documents: the same story republished under another URL is kept once.

Split in two so that the expensive part runs where the pages are stripped:

* `DocumentSketcher` (per document, in the worker processes of the local engine
  and the map step of the Ray engine): the exact digest of the normalised text,
  the LSH band keys of its MinHash signature and its word-shingle set, as 32-bit
  hashes, sorted. They travel on the document (`Document.doc_sketch`), so the
  state store keeps them with the item and a re-run does not compute them again.
* The corpus-wide decision, in input order: an exact copy (same digest) of an
  earlier kept document first; otherwise LSH buckets (`dedup.lsh_buckets`)
  propose earlier kept documents, their exact Jaccard similarity confirms, and
  `dedup.SimilarityGraph` picks which one it duplicates (the most similar kept
  one at or above the threshold, the earliest on a tie). The local engine
  streams (`DocumentDeduper`); the Ray engine finds the similar pairs with the
  banded plan it uses for comments and asks the same graph, so both engines
  give the same verdicts, and `near_duplicate_reject` writes the reject in both.

The parent of the local engine holds, per kept document, its digest, its LSH
bucket numbers and where its record is in a spill file (shingles, id, path,
URL: read back only for the few candidates LSH proposes and for duplicates).
"""

from __future__ import annotations

import base64
import json
import tempfile
from array import array
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import BinaryIO

import numpy as np

from cleanpipe.config import DedupConfig
from cleanpipe.model import Document, Reject
from cleanpipe.stages.dedup import (
    BucketIndex,
    NearDuplicateFilter,
    SimilarityGraph,
    jaccard,
    lsh_buckets,
    sketch_shingles,
)

REASON = "near-duplicate-document"

BUCKET_BITS = 12  # the LSH bucket index starts with 2**12 slots and grows with the kept documents


class DocumentSketcher:
    """What the corpus-wide decision compares, computed per document (picklable by config)."""

    name = "doc_sketch"

    def __init__(self, config: DedupConfig):
        self.config = config
        self._filter = NearDuplicateFilter(config)  # only its sketch(): the comment filter's shingles and bands

    def sketch(self, text: str) -> dict[str, str] | None:
        """{digest, bands, shingles} as base64 (JSON-safe, for spools, the state store and Ray rows);
        None for a document with no text (a page of comments only has no story to compare)."""
        if not text.strip():
            return None
        (found,) = self._filter.sketch([text])
        # 32-bit shingle hashes: the MinHash signature uses only these bits too; half the bytes
        chars, words = sketch_shingles(found.shingles)
        shingles = np.unique((words if len(words) else chars).astype(np.uint32))
        bands = found.bands if found.bands is not None else np.empty(0, dtype=np.uint64)
        return {"digest": _b64(found.digest), "bands": _b64(bands.astype("<u8").tobytes()),
                "shingles": _b64(shingles.astype("<u4").tobytes())}

    def process(self, doc: Document) -> Document:
        doc.doc_sketch = self.sketch(doc.text)
        return doc


def _b64(data: bytes) -> str:
    return base64.b64encode(data).decode("ascii")


def sketch_parts(sketch: dict[str, str]) -> tuple[bytes, np.ndarray, np.ndarray]:
    """(digest, band keys as uint64, sorted shingle hashes as uint32) of a document's sketch."""
    return (base64.b64decode(sketch["digest"]),
            np.frombuffer(base64.b64decode(sketch["bands"]), dtype="<u8").astype(np.uint64),
            np.frombuffer(base64.b64decode(sketch["shingles"]), dtype="<u4").astype(np.uint32))


def document_buckets(bands: np.ndarray) -> np.ndarray:
    """A document's LSH bucket numbers (documents are all word-shingled), as the Ray plan numbers them."""
    if not len(bands):
        return np.empty(0, dtype=np.uint64)
    return lsh_buckets(bands.reshape(1, -1), np.array([True]))[0]


def near_duplicate_reject(doc: Document, duplicate_of: str, similarity: float, method: str,
                          kept_path: str | None, kept_url: str | None) -> Reject:
    """The reject of a document that duplicates the kept document `duplicate_of` (both engines)."""
    what = "same text as" if method == "exact" else "near-duplicate of"
    similarity = round(similarity, 4)
    return Reject(kind="document", reason=REASON, path=doc.source.path, record=doc.source.record, doc_id=doc.id,
                  detail=f"{what} {duplicate_of} ({kept_path}), Jaccard {similarity}",
                  extra={"duplicate_of": duplicate_of, "similarity": similarity, "method": method,
                         "url": doc.source.url, "duplicate_of_url": kept_url, "duplicate_of_path": kept_path})


class _KeptSpill:
    """Kept documents' shingle sets and what a reject names of them (id, path, URL), in an anonymous
    temporary file: read back only for LSH candidates and duplicates; memory keeps 16 bytes a document."""

    def __init__(self, folder: str | Path | None = None):
        self._file: BinaryIO = tempfile.TemporaryFile(dir=folder, prefix="doc-dedup-")  # noqa: SIM115
        self._starts = array("q")  # rank -> where its record starts; the next rank's start ends it
        self._labels = array("q")  # rank -> where its label (after its shingles) starts
        self._end = 0

    def append(self, shingles: np.ndarray, digest: bytes, label: tuple[str, str | None, str | None]) -> None:
        data = shingles.astype("<u4").tobytes()
        tail = json.dumps([digest.hex(), *label]).encode()
        self._file.seek(self._end)
        self._file.write(data + tail)
        self._starts.append(self._end)
        self._labels.append(self._end + len(data))
        self._end += len(data) + len(tail)

    def _read(self, start: int, end: int) -> bytes:
        self._file.seek(start)
        return self._file.read(end - start)

    def shingles(self, rank: int) -> np.ndarray:
        return np.frombuffer(self._read(self._starts[rank], self._labels[rank]), dtype="<u4").astype(np.uint32)

    def digest_and_label(self, rank: int) -> tuple[bytes, tuple[str, str | None, str | None]]:
        end = self._starts[rank + 1] if rank + 1 < len(self._starts) else self._end
        digest, *label = json.loads(self._read(self._labels[rank], end))
        return bytes.fromhex(digest), tuple(label)  # type: ignore[return-value]

    def __len__(self) -> int:
        return len(self._starts)

    def close(self) -> None:
        self._file.close()


class DocumentDeduper:
    """The local engine's corpus stage: documents in input order, a near-duplicate replaced by its
    Reject. Documents carry their sketch from the per-document stage; one without (built outside
    a run's worker stage) is sketched here. `spill_dir`: where the shingle spill file goes."""

    name = "doc_dedup"

    def __init__(self, config: DedupConfig, spill_dir: str | Path | None = None):
        self.config = config
        self._sketcher = DocumentSketcher(config)
        self._spill_dir = spill_dir
        self._spill: _KeptSpill | None = None
        self._exact: dict[bytes, int] = {}  # digest -> rank of the kept document
        self._buckets = BucketIndex(BUCKET_BITS)  # the comment filter's index of kept texts' buckets

    def run(self, items: Iterable[Document | Reject]) -> Iterator[Document | Reject]:
        """Items in the same order, a near-duplicate document replaced by its Reject."""
        try:
            for item in items:
                yield self.process(item) if isinstance(item, Document) else item
        finally:
            self.close()

    def close(self) -> None:
        if self._spill is not None:
            self._spill.close()
            self._spill = None

    def process(self, doc: Document) -> Document | Reject:
        if not self.config.enabled:
            return doc
        sketch = doc.doc_sketch if doc.doc_sketch is not None else self._sketcher.sketch(doc.text)
        if sketch is None:  # no text: never compared
            return doc
        digest, bands, shingles = sketch_parts(sketch)
        kept = self._kept()
        rank = self._exact.get(digest)
        if rank is not None:
            return self._reject(doc, rank, 1.0, "exact")
        buckets = document_buckets(bands)
        here = (len(kept),)  # after every kept document so far
        order: dict[bytes, tuple] = {digest: here}
        edges = []
        _, found = self._buckets.query(buckets, np.zeros(len(buckets), dtype=np.int64))
        for cand in sorted(set(found.tolist())):
            similarity = jaccard(shingles, kept.shingles(cand))
            if similarity >= self.config.threshold:
                cand_digest, _ = kept.digest_and_label(cand)
                order[cand_digest] = (cand,)
                edges.append((cand_digest, digest, similarity))
        if edges:  # the rule of both engines: the most similar earlier kept document, earliest on a tie
            best = SimilarityGraph(order, edges).duplicate_of(digest, here)
            if best is not None:
                return self._reject(doc, order[best[0]][0], best[1], "minhash")
        rank = len(kept)
        kept.append(shingles, digest, (doc.id, doc.source.path, doc.source.url))
        self._exact[digest] = rank
        self._buckets.insert(buckets, np.full(len(buckets), rank, dtype=np.int32))
        return doc

    def _kept(self) -> _KeptSpill:
        if self._spill is None:
            self._spill = _KeptSpill(self._spill_dir)
        return self._spill

    def _reject(self, doc: Document, rank: int, similarity: float, method: str) -> Reject:
        _, (kept_id, kept_path, kept_url) = self._kept().digest_and_label(rank)
        return near_duplicate_reject(doc, kept_id, similarity, method, kept_path, kept_url)
