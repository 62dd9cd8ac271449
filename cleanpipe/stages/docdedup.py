"""Near-duplicate documents: the same story republished under another URL is kept once.

A corpus stage over documents in input order, with the comment filter's own
machinery (`dedup.NearDuplicateFilter`): exact copies of the normalised text by
hash first, then MinHash LSH over word 5-grams proposes earlier kept documents
and the exact Jaccard similarity of the two shingle sets decides. A document at
or above `doc_dedup.threshold` is a reject that names the kept one (id, path,
URL) and the similarity; a document only ever duplicates an earlier *kept* one.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator

from cleanpipe.config import DedupConfig
from cleanpipe.model import Document, Reject
from cleanpipe.stages.dedup import NearDuplicateFilter, Verdict


class DocumentDeduper:
    name = "doc_dedup"

    def __init__(self, config: DedupConfig):
        self.config = config
        self.filter = NearDuplicateFilter(config)
        self._kept: dict[str, tuple[str, str | None]] = {}  # doc id -> (path, url) of kept documents

    def process(self, doc: Document) -> Document | Reject:
        return next(self.run([doc]))

    def run(self, items: Iterable[Document | Reject], batch: int = 64) -> Iterator[Document | Reject]:
        """Items in the same order, a near-duplicate document replaced by its Reject; documents are
        judged in batches (the filter's bulk work is per batch), with the same verdicts as one by one."""
        pending: list[Document | Reject] = []
        docs = 0
        for item in items:
            pending.append(item)
            docs += isinstance(item, Document)
            if docs >= batch:
                yield from self._judge(pending)
                pending, docs = [], 0
        yield from self._judge(pending)

    def _judge(self, items: list[Document | Reject]) -> Iterator[Document | Reject]:
        texts = {id(d): d.text for d in items if isinstance(d, Document)}
        # a page of comments only has no story to compare
        judged = [d for d in items if isinstance(d, Document) and self.config.enabled and texts[id(d)].strip()]
        verdicts = dict(zip((id(d) for d in judged),
                            self.filter.filter([(d.id, texts[id(d)]) for d in judged], batch=max(1, len(judged))),
                            strict=True))
        for item in items:
            verdict = verdicts.get(id(item))
            yield item if verdict is None else self._verdict(item, verdict)  # type: ignore[arg-type]

    def _verdict(self, doc: Document, verdict: Verdict) -> Document | Reject:
        if verdict.kept:
            self._kept[doc.id] = (doc.source.path, doc.source.url)
            return doc
        assert verdict.duplicate_of is not None
        path, url = self._kept[verdict.duplicate_of]
        return Reject(kind="document", reason="near-duplicate-document", path=doc.source.path,
                      record=doc.source.record, doc_id=doc.id,
                      detail=f"{'same text as' if verdict.method == 'exact' else 'near-duplicate of'} "
                             f"{verdict.duplicate_of} ({path}), Jaccard {verdict.similarity}",
                      extra={"duplicate_of": verdict.duplicate_of, "similarity": verdict.similarity,
                             "method": verdict.method, "url": doc.source.url, "duplicate_of_url": url,
                             "duplicate_of_path": path})
