"""Lines that recur on many pages of one site are site chrome.

The strip stage sees one page at a time, so a line it cannot tell from prose
("Follow our Opinion section on Facebook and Instagram.", a licence notice, a
newsletter pitch written as a sentence) can stay in. Across a crawl the same
line shows up on a large share of one site's pages, which article text does
not. The strip stage leaves a digest of every line of the page (kept or not:
a line the cleaner dropped on most pages and kept on one is still chrome);
pass 1 counts on how many pages of each site every line occurs (`SiteStats`,
mergeable across workers and runs); pass 2 removes the kept paragraphs above
the bar and records each with its count (`RepeatFilter`).

Documents are grouped by the host of their URL (records of JSONL and WARC
inputs) or, with `site = "folder"`, by the folder of their input file; a page
without a site is left alone, because the same paragraph on pages of different
sites is as likely a syndicated story as chrome.

Memory: 16 bytes per distinct line of the whole crawl (chrome lines repeated on
every page of a site take one entry), plus a buffer of the latest pages.
"""

from __future__ import annotations

import hashlib
import math
from collections import Counter
from dataclasses import dataclass, field
from pathlib import PurePath
from typing import Any
from urllib.parse import urlsplit

import numpy as np

from cleanpipe.arrays import GrowingArray
from cleanpipe.config import RepeatsConfig
from cleanpipe.model import PREVIEW_CHARS, Document, Reject, Source
from cleanpipe.stages.lines import line_key


def site_of(source: Source, by: str = "url") -> str | None:
    """The site a page belongs to: its URL's host (without "www."), or its input's folder."""
    if by == "folder":
        return str(PurePath(source.path).parent) if source.path and source.path != "-" else None
    if not source.url:
        return None
    try:
        host = (urlsplit(source.url.strip()).hostname or "").lower()
    except ValueError:  # a malformed URL (bad port, brackets) names no site
        return None
    return host.removeprefix("www.") or None


def _site_mix(site: str) -> np.int64:
    """XORed into a page's line digests so that equal lines of two sites count apart."""
    return np.frombuffer(hashlib.blake2b(site.encode(), digest_size=8).digest(), dtype=np.int64)[0]


def _add_counts(keys: np.ndarray, counts: np.ndarray, more_keys: np.ndarray,
                more_counts: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Two (sorted unique digests, pages) tables as one.

    Both are sorted and unique, so this is a merge by binary search: the digests already in the
    table add to their counts in place, the new ones are inserted in one pass. np.unique over
    the concatenation sorted both again with four or five temporary arrays of their joint size:
    folding a 200,000-row table raised the run's peak by 10 MB for a moment."""
    if not len(more_keys):
        return keys, counts
    at = np.searchsorted(keys, more_keys)
    present = np.zeros(len(more_keys), dtype=bool)
    inside = at < len(keys)
    present[inside] = keys[at[inside]] == more_keys[inside]
    counts = counts.copy() if not counts.flags.writeable else counts
    counts[at[present]] += more_counts[present]  # unique digests: no index twice
    if present.all():
        return keys, counts
    new = ~present
    return np.insert(keys, at[new], more_keys[new]), np.insert(counts, at[new], more_counts[new])


def _unique_counts(digests: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Sorted distinct digests and how often each occurs; `digests` is sorted in place.

    np.unique(return_counts=True) sorts a copy and builds three more arrays of the input's size."""
    digests.sort()
    if not len(digests):
        return digests.copy(), np.zeros(0, dtype=np.int64)
    starts = np.flatnonzero(np.concatenate(([True], digests[1:] != digests[:-1])))
    return digests[starts], np.diff(np.append(starts, len(digests))).astype(np.int64)


@dataclass
class SiteStats:
    """Per site: how many pages were counted, and on how many of them each line occurs.

    Line digests (site mixed in) are kept as a sorted table of (digest, pages), folded in
    from a buffer once it holds COMPACT_EVERY digests and as many as the table has rows: a
    site's menu and footer lines, repeated on every page, take one row however many pages
    there are.

    The buffer is one GrowingArray that pages' digests are copied into: a small array a
    page, kept for thousands of pages among the parent's short-lived allocations, left holes
    in glibc's heap that it did not reuse (the parent of a 1 GB WARC's run grew 2 KB a page,
    its heap's free space with it, while what it held stayed flat).
    """

    pages: Counter[str] = field(default_factory=Counter)
    keys: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    counts: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=np.int64))
    pending: GrowingArray = field(default_factory=lambda: GrowingArray(np.int64))

    # 1 MB of digests: the buffer's allocation stays for the whole run (at 1 << 20 it was 8 MB of a
    # 1 GB WARC's main process); a fold of this size takes a few milliseconds.
    COMPACT_EVERY = 1 << 17

    def add_document(self, doc: Document, config: RepeatsConfig) -> None:
        site = site_of(doc.source, config.site)
        if site is None:
            return
        self.pages[site] += 1
        if doc.line_keys:
            self.add_digests(np.unique(np.asarray(doc.line_keys, dtype=np.int64)) ^ _site_mix(site))

    def add_digests(self, digests: np.ndarray) -> None:
        """One page's distinct line digests (site already mixed in)."""
        self.pending.extend(digests)
        # fold when the buffer is as large as the table: each digest is re-sorted O(log n) times, not O(n)
        if len(self.pending) >= max(self.COMPACT_EVERY, len(self.keys)):
            self.compact()

    def compact(self) -> None:
        if len(self.pending):
            more_keys, more_counts = _unique_counts(self.pending.view())
            self.keys, self.counts = _add_counts(self.keys, self.counts, more_keys, more_counts)
            self.pending.clear()  # its allocation is kept for the next pages

    def merge(self, other: SiteStats) -> None:
        self.pages.update(other.pages)
        other.compact()
        self.keys, self.counts = _add_counts(self.keys, self.counts, other.keys, other.counts)

    def repeated(self, min_pages: int) -> dict[int, int]:
        """Digest -> pages, for the lines on at least `min_pages` pages of their site."""
        self.compact()
        keep = self.counts >= min_pages
        return dict(zip(self.keys[keep].tolist(), self.counts[keep].tolist(), strict=True))


NEAR_COPY_PARAGRAPHS = 3  # fewer repeated paragraphs than this are chrome even if they are all the page kept


class RepeatFilter:
    """Pass-2 stage: drops the paragraphs found on many pages of the document's site."""

    name = "repeats"

    def __init__(self, stats: SiteStats, config: RepeatsConfig | None = None):
        self.config = config or RepeatsConfig()
        self.pages = stats.pages
        self.counts = stats.repeated(self.config.min_pages)

    def bar(self, site: str) -> int:
        """Pages a line must occur on to count as chrome of `site`."""
        return max(self.config.min_pages, math.ceil(self.config.min_share * self.pages[site]))

    def process(self, doc: Document) -> Document:
        site = site_of(doc.source, self.config.site)
        if site is None or self.pages[site] < self.config.min_pages:
            return doc
        bar, mix = self.bar(site), int(_site_mix(site))
        words = [len(p.text.split()) for p in doc.paragraphs]
        hits = []
        for index, para in enumerate(doc.paragraphs):
            if words[index] <= self.config.max_words:
                pages = self.counts.get(line_key(para.text) ^ mix, 0)
                if pages >= bar:
                    hits.append((index, pages))
        if not hits:
            return doc
        record: dict[str, Any] = {"stage": self.name, "site": site, "site_pages": self.pages[site], "min_pages": bar}
        total, repeated = sum(words), sum(words[i] for i, _ in hits)
        if len(hits) >= NEAR_COPY_PARAGRAPHS and repeated > self.config.max_removed_share * total:
            # several paragraphs and most of the page recur on other pages of the site: a near-copy
            # of them (an updated story under a new URL), not chrome
            record["kept"] = "most of the page occurs on other pages of the site; nothing removed"
            record["repeated_paragraphs"] = len(hits)
            doc.stages.append(record)
            return doc
        record["removed"] = [{"lines": doc.paragraphs[i].source_lines, "reason": "site-repeat", "pages": pages,
                              "preview": doc.paragraphs[i].text[:PREVIEW_CHARS]} for i, pages in hits]
        dropped = {i for i, _ in hits}
        doc.paragraphs = [p for i, p in enumerate(doc.paragraphs) if i not in dropped]
        doc.stages.append(record)
        return doc

    @staticmethod
    def emptied(doc: Document) -> Reject | None:
        """A reject for a page this stage left without text (what it kept was all site chrome)."""
        last = doc.stages[-1] if doc.stages else {}
        if doc.paragraphs or doc.comments or last.get("stage") != RepeatFilter.name or "removed" not in last:
            return None
        return Reject(kind="document", reason="no-content", path=doc.source.path, record=doc.source.record,
                      doc_id=doc.id, detail="all the text left was lines repeated across the site's pages",
                      extra={"removed": last["removed"]})
