"""Near-duplicate text filter: exact hash first, then MinHash LSH, confirmed by exact Jaccard.

Used by the comments stage and by `cleanpipe dedup` on any JSONL. Texts are
fed in a stable order; the first of a group is kept, every later copy is
reported with the kept one's key and the exact Jaccard similarity of their
shingle sets. Banded LSH (datasketch's MinHash permutations and banding
parameters) only proposes candidates: nothing is dropped on an estimate alone.

Shingles: texts of at least `short_words` words use word n-grams; shorter ones
use character n-grams of their normalized form, so that "Very nice article !"
and "very nice article!!" are one comment while "Nice article Jordan!" stays.
Signatures are computed in bulk with numpy and are identical to datasketch's
`MinHash.update` with the same 32-bit shingle hashes and permutations.
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np
from datasketch import MinHash, MinHashLSH

from cleanpipe.config import DedupConfig

_ZERO_WIDTH = re.compile("[\u200b-\u200f\u2060-\u2064\ufeff\u00ad]")
_TOKEN = re.compile(r"\w+")
_MERSENNE = np.uint64((1 << 61) - 1)
_MAX32 = np.uint64((1 << 32) - 1)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_WORD_CACHE_LIMIT = 500_000


def normalize(text: str) -> str:
    """Comparison form: NFKC, no zero-width characters, case-folded, words only, single spaces."""
    text = _ZERO_WIDTH.sub("", unicodedata.normalize("NFKC", text)).casefold()
    return " ".join(_TOKEN.findall(text))


def _mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finalizer: spreads polynomial hashes over all 64 bits."""
    x = x ^ (x >> np.uint64(30))
    x = x * _MIX1
    x = x ^ (x >> np.uint64(27))
    x = x * _MIX2
    return x ^ (x >> np.uint64(31))


class Shingler:
    """Text -> sorted unique uint64 shingle hashes (deterministic across processes)."""

    def __init__(self, word_n: int = 3, char_n: int = 5, short_words: int = 25):
        self.word_n, self.char_n, self.short_words = word_n, char_n, short_words
        self._word_hash: dict[str, int] = {}

    def _words(self, words: list[str]) -> np.ndarray:
        cache = self._word_hash
        if len(cache) > _WORD_CACHE_LIMIT:
            cache.clear()
        out = np.empty(len(words), dtype=np.uint64)
        for i, w in enumerate(words):
            h = cache.get(w)
            if h is None:
                h = int.from_bytes(hashlib.blake2b(w.encode(), digest_size=8).digest(), "little")
                cache[w] = h
            out[i] = h
        return out

    @staticmethod
    def _ngrams(values: np.ndarray, n: int) -> np.ndarray:
        if len(values) <= n:
            n = len(values)
        acc = np.zeros(len(values) - n + 1, dtype=np.uint64)
        mult = np.uint64(0x100000001B3)
        with np.errstate(over="ignore"):
            for j in range(n):
                acc = acc * mult + values[j: len(values) - n + 1 + j]
            return np.unique(_mix64(acc))

    @staticmethod
    def _windows(vals: np.ndarray, lengths: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Rolling n-gram hashes over concatenated texts: (text index, hash) for every window
        that lies inside one text. Texts shorter than n get no windows here."""
        total = len(vals)
        if total < n:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.uint64)
        acc = np.zeros(total - n + 1, dtype=np.uint64)
        mult = np.uint64(0x100000001B3)
        with np.errstate(over="ignore"):
            for j in range(n):
                acc = acc * mult + vals[j: total - n + 1 + j]
        owner = np.repeat(np.arange(len(lengths)), lengths)[: total - n + 1]
        offsets = np.concatenate(([0], np.cumsum(lengths)[:-1]))
        valid = (np.arange(total - n + 1) - offsets[owner]) <= (lengths[owner] - n)
        return owner[valid], _mix64(acc[valid])

    def shingle_batch(self, norms: list[str]) -> list[np.ndarray]:
        """The same sets as `shingles` for each text, computed for the whole batch at once."""
        owners, hashes = [], []
        short: list[int] = []
        char_idx = [i for i, t in enumerate(norms) if t and self.kind(t) == "char"]
        word_idx = [i for i, t in enumerate(norms) if t and self.kind(t) == "word"]
        if char_idx:
            texts = [norms[i] for i in char_idx]
            vals = np.frombuffer("".join(texts).encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
            lengths = np.array([len(t) for t in texts])
            own, h = self._windows(vals, lengths, self.char_n)
            owners.append(np.asarray(char_idx)[own])
            hashes.append(h)
            short += [char_idx[k] for k in np.nonzero(lengths < self.char_n)[0].tolist()]
        if word_idx:
            split = [norms[i].split(" ") for i in word_idx]
            vals = self._words([w for ws in split for w in ws])
            lengths = np.array([len(ws) for ws in split])
            own, h = self._windows(vals, lengths, self.word_n)
            owners.append(np.asarray(word_idx)[own])
            hashes.append(h)
            short += [word_idx[k] for k in np.nonzero(lengths < self.word_n)[0].tolist()]
        for i in short:  # shorter than one n-gram: the whole text is its single shingle
            one = self.shingles(norms[i])
            owners.append(np.full(len(one), i))
            hashes.append(one)
        if not owners:
            return [np.empty(0, dtype=np.uint64) for _ in norms]
        own = np.concatenate(owners)
        h = np.concatenate(hashes)
        order = np.lexsort((h, own))
        own, h = own[order], h[order]
        keep = np.ones(len(h), dtype=bool)
        keep[1:] = (own[1:] != own[:-1]) | (h[1:] != h[:-1])
        own, h = own[keep], h[keep]
        counts = np.bincount(own, minlength=len(norms))
        return np.split(h, np.cumsum(counts)[:-1])

    def kind(self, norm: str) -> str:
        return "char" if norm.count(" ") + 1 < self.short_words else "word"

    def shingles(self, norm: str) -> np.ndarray:
        if not norm:
            return np.empty(0, dtype=np.uint64)
        if self.kind(norm) == "char":
            codes = np.frombuffer(norm.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
            return self._ngrams(codes, self.char_n)
        return self._ngrams(self._words(norm.split(" ")), self.word_n)


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Exact Jaccard similarity of two sorted unique arrays."""
    if len(a) == 0 or len(b) == 0:
        return 1.0 if len(a) == len(b) else 0.0
    idx = np.searchsorted(b, a)
    idx[idx == len(b)] = 0
    inter = int(np.count_nonzero(b[idx] == a))
    return inter / (len(a) + len(b) - inter)


class SignatureBuilder:
    """Bulk MinHash signatures equal to datasketch's for the same 32-bit shingle values."""

    def __init__(self, num_perm: int = 128, seed: int = 1):
        self.num_perm = num_perm
        self.seed = seed
        self.a, self.b = MinHash(num_perm=num_perm, seed=seed).permutations

    def _permute_min(self, hv: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        """min over each group of ((a*hv + b) mod p) & max32, exactly as datasketch computes it
        (uint64 arithmetic that wraps), but with the Mersenne identity instead of a division."""
        x = np.multiply(hv[:, None], self.a)  # wraps mod 2**64, as in datasketch
        x += self.b
        y = x >> np.uint64(61)
        x &= _MERSENNE
        x += y  # now in [0, p + 7]; x - p wraps to a huge value unless x >= p, so min() reduces
        np.minimum(x, x - _MERSENNE, out=x)
        x &= _MAX32
        return np.minimum.reduceat(x, offsets, axis=0)

    def signatures(self, shingle_sets: Sequence[np.ndarray], chunk: int = 1024) -> np.ndarray:
        """(len(shingle_sets), num_perm) uint64; an empty set gets the all-max signature."""
        out = np.full((len(shingle_sets), self.num_perm), _MAX32, dtype=np.uint64)
        start = 0
        with np.errstate(over="ignore"):
            while start < len(shingle_sets):
                # group sets so one permutation matrix stays around `chunk` rows (cache-sized)
                end, rows = start, 0
                while end < len(shingle_sets) and (rows == 0 or rows + len(shingle_sets[end]) <= chunk):
                    rows += len(shingle_sets[end])
                    end += 1
                sizes = np.array([len(s) for s in shingle_sets[start:end]])
                nonempty = np.nonzero(sizes)[0]
                if len(nonempty):
                    hv = np.concatenate([shingle_sets[start + i] for i in nonempty]) & _MAX32
                    offsets = np.concatenate([[0], np.cumsum(sizes[nonempty])[:-1]])
                    out[start + nonempty] = self._permute_min(hv, offsets)
                start = end
        return out


class BandIndex:
    """Banded LSH over MinHash signatures with datasketch's banding, in numpy hash tables.

    The number of bands and rows comes from datasketch's MinHashLSH for the
    threshold (its false-positive/false-negative optimum), and two signatures
    are candidates exactly when MinHashLSH.query would pair them (up to 63-bit
    band-key collisions, which only add candidates that exact Jaccard then
    rejects). Each band is an open-addressing table of (band key, rank) pairs:
    12 bytes a slot instead of a Python set and dict entry, which is what makes
    10^6 comments fit in memory; lookups and inserts run for a whole batch at once.
    """

    _EMPTY = np.uint64(0)

    def __init__(self, threshold: float, num_perm: int, params: tuple[int, int] | None = None,
                 capacity: int = 1024):
        reference = MinHashLSH(threshold=threshold, num_perm=num_perm, params=params)
        self.bands, self.rows = reference.b, reference.r
        self.hashranges = reference.hashranges
        self._keys = [np.zeros(capacity, dtype=np.uint64) for _ in range(self.bands)]
        self._vals = [np.zeros(capacity, dtype=np.int32) for _ in range(self.bands)]
        self.size = 0  # entries per band

    def band_keys(self, sigs: np.ndarray) -> np.ndarray:
        """(n, num_perm) signatures -> (n, bands) nonzero 64-bit keys, one per band."""
        used = sigs[:, : self.bands * self.rows].reshape(len(sigs), self.bands, self.rows)
        acc = np.zeros((len(sigs), self.bands), dtype=np.uint64)
        with np.errstate(over="ignore"):
            for i in range(self.rows):
                acc = _mix64(acc * np.uint64(0x9E3779B97F4A7C15) + used[:, :, i])
        return acc | np.uint64(1)  # 0 marks an empty slot

    @staticmethod
    def _start(keys: np.ndarray, mask: int) -> np.ndarray:
        return (keys >> np.uint64(1)) & np.uint64(mask)

    def query(self, bkeys: np.ndarray) -> list[np.ndarray]:
        """For each row of `bkeys`, the sorted ranks stored under any of its band keys."""
        m = len(bkeys)
        if m == 0 or self.size == 0:
            return [np.empty(0, dtype=np.int32) for _ in range(m)]
        hit_q, hit_r = [], []
        for band in range(self.bands):
            tkeys, tvals = self._keys[band], self._vals[band]
            mask = len(tkeys) - 1
            q = np.arange(m)
            k = bkeys[:, band]
            pos = self._start(k, mask)
            while len(q):
                slot = tkeys[pos]
                hit = slot == k
                if hit.any():
                    hit_q.append(q[hit])
                    hit_r.append(tvals[pos[hit]])
                go = slot != self._EMPTY
                q, k, pos = q[go], k[go], (pos[go] + np.uint64(1)) & np.uint64(mask)
        out = [np.empty(0, dtype=np.int32) for _ in range(m)]
        if hit_q:
            qs, rs = np.concatenate(hit_q), np.concatenate(hit_r)
            pairs = np.unique(np.stack([qs, rs.astype(np.int64)], axis=1), axis=0)
            bounds = np.searchsorted(pairs[:, 0], np.arange(m + 1))
            for i in np.nonzero(np.diff(bounds))[0]:
                out[i] = pairs[bounds[i]:bounds[i + 1], 1].astype(np.int32)
        return out

    def insert(self, bkeys: np.ndarray, ranks: np.ndarray) -> None:
        if len(bkeys) == 0:
            return
        if (self.size + len(bkeys)) * 2 > len(self._keys[0]):
            self._grow(2 * (self.size + len(bkeys)))
        for band in range(self.bands):
            self._place(self._keys[band], self._vals[band], bkeys[:, band], ranks.astype(np.int32))
        self.size += len(bkeys)

    def _place(self, tkeys: np.ndarray, tvals: np.ndarray, k: np.ndarray, v: np.ndarray) -> None:
        mask = np.uint64(len(tkeys) - 1)
        pos = self._start(k, int(mask))
        while len(k):
            free = np.nonzero(tkeys[pos] == self._EMPTY)[0]
            placed = np.zeros(len(k), dtype=bool)
            if len(free):
                # write all, then read back: where two items aim at one slot, one write sticks
                tkeys[pos[free]] = k[free]
                tvals[pos[free]] = v[free]
                placed[free] = (tkeys[pos[free]] == k[free]) & (tvals[pos[free]] == v[free])
            keep = ~placed
            k, v, pos = k[keep], v[keep], (pos[keep] + np.uint64(1)) & mask

    def _grow(self, need: int) -> None:
        capacity = len(self._keys[0])
        while capacity < need:
            capacity *= 2
        for band in range(self.bands):
            old_k, old_v = self._keys[band], self._vals[band]
            live = old_k != self._EMPTY
            self._keys[band] = np.zeros(capacity, dtype=np.uint64)
            self._vals[band] = np.zeros(capacity, dtype=np.int32)
            self._place(self._keys[band], self._vals[band], old_k[live], old_v[live])

    @staticmethod
    def pairs_within(bkeys: np.ndarray) -> list[list[int]]:
        """For each row, the earlier rows of the same batch that share a band key with it."""
        earlier: list[list[int]] = [[] for _ in range(len(bkeys))]
        for band in range(bkeys.shape[1]):
            col = bkeys[:, band]
            order = np.argsort(col, kind="stable")
            sorted_keys = col[order]
            change = np.concatenate(([True], sorted_keys[1:] != sorted_keys[:-1], [True]))
            starts = np.flatnonzero(change[:-1])
            ends = np.flatnonzero(change[1:]) + 1
            for a, b in zip(starts[ends - starts > 1].tolist(), ends[ends - starts > 1].tolist(), strict=True):
                members = sorted(order[a:b].tolist())  # runs of equal keys are rare and short
                for pos, later in enumerate(members[1:], start=1):
                    earlier[later].extend(members[:pos])
        return [sorted(set(e)) if len(e) > 1 else e for e in earlier]


def lsh_buckets(band_keys: np.ndarray, word: np.ndarray) -> np.ndarray:
    """(n, bands) band keys -> (n, bands) bucket numbers, one per (shingle kind, band, key): two
    texts share a bucket when MinHashLSH would pair them in that band (64-bit collisions between
    different buckets are possible but at ~1e-19 a pair negligible, and only ever add candidates)."""
    bands = band_keys.shape[1]
    salt = (np.arange(1, bands + 1, dtype=np.uint64)[None, :] * np.uint64(0x9E3779B97F4A7C15)
            + word.astype(np.uint64)[:, None] * np.uint64(0xD6E8FEB86659FD93))
    with np.errstate(over="ignore"):
        return _mix64(band_keys ^ _mix64(salt))


@dataclass
class Sketch:
    digest: bytes
    kind: str  # char | word
    shingles: np.ndarray
    bands: np.ndarray | None  # one 64-bit key per LSH band; None: nothing to shingle


@dataclass
class Verdict:
    key: str
    kept: bool
    duplicate_of: str | None = None
    similarity: float | None = None
    method: str | None = None  # exact | minhash


class NearDuplicateFilter:
    """Streaming filter over (key, text) pairs; state grows with the kept texts only."""

    def __init__(self, config: DedupConfig | None = None):
        self.config = config or DedupConfig()
        c = self.config
        self.shingler = Shingler(c.word_shingle, c.char_shingle, c.short_words)
        self.signer = SignatureBuilder(c.num_perm, c.seed)
        # LSH proposes candidates below the threshold too; exact Jaccard decides.
        lsh_threshold = max(0.2, c.threshold - 0.15)
        params = None
        if c.bands:
            params = (c.bands, c.num_perm // c.bands)
        self._lsh = {kind: BandIndex(lsh_threshold, c.num_perm, params) for kind in ("char", "word")}
        # Kept texts are numbered in input order; the LSH and the stores use that rank.
        self._exact: dict[bytes, int] = {}
        self._ids: list[str] = []
        self._sets: list[bytes | None] = []
        self.absorbed: dict[str, int] = {}  # kept key -> number of dropped copies
        self.seen = 0
        self.dropped = 0

    @staticmethod
    def _digest(norm: str) -> bytes:
        return hashlib.blake2b(norm.encode(), digest_size=12).digest()

    def filter(self, items: Iterable[tuple[str, str]], batch: int = 2048) -> Iterator[Verdict]:
        """Verdicts in input order. Items are processed in batches for bulk signatures."""
        buf: list[tuple[str, str]] = []
        for item in items:
            buf.append(item)
            if len(buf) >= batch:
                yield from self._run_batch(buf)
                buf = []
        if buf:
            yield from self._run_batch(buf)

    def _digests_of(self, norms: list[str], texts: Iterable[str]) -> list[bytes]:
        # a text with no word characters ("👍") is compared on its folded raw form, exactly
        return [self._digest(n or "\0" + " ".join(unicodedata.normalize("NFKC", t).casefold().split()))
                for n, t in zip(norms, texts, strict=True)]

    def sketch(self, texts: list[str]) -> list[Sketch]:
        """What the filter compares, per text, for a plan that runs elsewhere (the Ray engine):
        exact digest, shingle kind, shingle set and LSH band keys (None when there is nothing to
        shingle: such a text only ever matches exactly)."""
        norms = [normalize(t) for t in texts]
        digests = self._digests_of(norms, texts)
        sets = self.shingler.shingle_batch(norms)
        sigs = self.signer.signatures(sets)
        keys = self._lsh["char"].band_keys(sigs)  # both kinds' indexes band alike
        return [Sketch(digests[i], self.shingler.kind(n), sets[i], keys[i] if len(sets[i]) else None)
                for i, n in enumerate(norms)]

    def _run_batch(self, items: list[tuple[str, str]]) -> Iterator[Verdict]:
        norms = [normalize(text) for _, text in items]
        digests = self._digests_of(norms, (t for _, t in items))
        # Shingle and sign each distinct text once; texts kept in earlier batches need nothing.
        first: dict[bytes, int] = {}  # digest -> its slot among the distinct new texts
        reps: list[int] = []
        for i, d in enumerate(digests):
            if d not in self._exact and d not in first:
                first[d] = len(reps)
                reps.append(i)
        rep_sets = self.shingler.shingle_batch([norms[i] for i in reps])
        rep_sigs = self.signer.signatures(rep_sets)
        slot = [first.get(d) for d in digests]  # None: an exact copy of an earlier batch's text
        empty = np.empty(0, dtype=np.uint64)
        shingle_sets = [rep_sets[k] if k is not None else empty for k in slot]
        kinds = [self.shingler.kind(n) for n in norms]
        verdicts: list[Verdict | None] = [None] * len(items)
        for kind, index in self._lsh.items():
            rows = [i for i, k in enumerate(kinds) if k == kind and slot[i] is not None and len(shingle_sets[i])]
            sig_rows = rep_sigs[[slot[i] for i in rows]] if rows else rep_sigs[:0]
            bkeys = index.band_keys(sig_rows) if rows else np.empty((0, index.bands), dtype=np.uint64)
            stored = index.query(bkeys)  # candidates kept in earlier batches
            within = index.pairs_within(bkeys)  # candidates earlier in this batch
            batch_rank: dict[int, int] = {}  # row position -> rank, for rows kept in this batch
            new_rows: list[int] = []
            for pos, i in enumerate(rows):
                cands = stored[pos].tolist() + [batch_rank[j] for j in within[pos] if j in batch_rank]
                verdict, rank = self._judge(items[i][0], digests[i], shingle_sets[i], cands, kind)
                verdicts[i] = verdict
                if rank is not None:
                    batch_rank[pos] = rank
                    new_rows.append(pos)
            index.insert(bkeys[new_rows], np.array([batch_rank[p] for p in new_rows], dtype=np.int64))
        for i, (key, _) in enumerate(items):
            if verdicts[i] is None:  # a copy of a text kept earlier, or nothing to shingle: exact only
                verdicts[i], _ = self._judge(key, digests[i], shingle_sets[i], [], kinds[i])
        for verdict in verdicts:
            assert verdict is not None
            self.seen += 1
            if not verdict.kept:
                self.dropped += 1
                self.absorbed[verdict.duplicate_of] = self.absorbed.get(verdict.duplicate_of, 0) + 1
            yield verdict

    def _judge(self, key: str, digest: bytes, sh: np.ndarray, cands: list[int],
               kind: str) -> tuple[Verdict, int | None]:
        """Verdict for one text given candidate ranks; the new rank when it is kept."""
        rank = self._exact.get(digest)
        if rank is not None:
            return Verdict(key, False, self._ids[rank], 1.0, "exact"), None
        best_rank, best_sim = None, -1.0
        # ascending rank, strict '>': among equally similar texts the earliest kept one wins
        for cand in sorted(set(cands)):
            sim = jaccard(sh, np.frombuffer(self._sets[cand], dtype=np.uint64))
            if sim > best_sim:
                best_rank, best_sim = cand, sim
        if best_rank is not None and best_sim >= self.config.threshold:
            return Verdict(key, False, self._ids[best_rank], round(best_sim, 4), "minhash"), None
        return Verdict(key, True), self._keep(key, digest, kind, sh.tobytes() if len(sh) else None)

    def _keep(self, key: str, digest: bytes, kind: str, shingles: bytes | None) -> int:
        rank = len(self._ids)
        self._ids.append(key)
        self._exact[digest] = rank
        self._sets.append(shingles)
        return rank


class SimilarityGraph:
    """Verdicts from verified similar pairs instead of a stream: the same as NearDuplicateFilter
    fed the texts in order, for a plan that finds the pairs elsewhere (the Ray engine).

    `order` maps each distinct text (its digest) to the position of its first occurrence;
    `edges` are pairs of digests whose exact Jaccard is at least the threshold and that LSH
    proposed. A text is a duplicate only of an earlier *kept* text it is similar to (so a chain
    A~B~C with C not similar to A keeps A and C), the most similar one, the earliest on a tie.
    """

    def __init__(self, order: dict[bytes, tuple], edges: Iterable[tuple[bytes, bytes, float]]):
        self.order = order
        adjacent: dict[bytes, list[tuple[bytes, float]]] = {}
        for a, b, sim in edges:
            adjacent.setdefault(a, []).append((b, sim))
            adjacent.setdefault(b, []).append((a, sim))
        for nbrs in adjacent.values():  # in input order, so the earliest wins a tie and scans can stop
            nbrs.sort(key=lambda x: order[x[0]])
        kept: set[bytes] = set()
        self.first_verdict: dict[bytes, tuple[bytes, float] | None] = {}
        # every node's decision depends on earlier nodes only: one pass in input order
        for node in sorted(adjacent, key=order.__getitem__):
            best = self._best(adjacent[node], kept, order[node])
            self.first_verdict[node] = best
            if best is None:
                kept.add(node)
        self.kept_neighbours = {node: [(n, sim) for n, sim in nbrs if n in kept]
                                for node, nbrs in adjacent.items()}

    def _best(self, neighbours: list[tuple[bytes, float]], kept: set[bytes] | None,
              before: tuple) -> tuple[bytes, float] | None:
        best: tuple[bytes, float] | None = None
        for n, sim in neighbours:
            if self.order[n] >= before:
                break
            if kept is not None and n not in kept:
                continue
            if best is None or sim > best[1]:
                best = (n, sim)
        return best

    def is_kept(self, digest: bytes) -> bool:
        return self.first_verdict.get(digest) is None

    def duplicate_of(self, digest: bytes, position: tuple) -> tuple[bytes, float] | None:
        """For an occurrence of `digest` at `position`: the kept text it duplicates and their
        similarity (1.0 for an exact copy of a kept text), or None when it is kept."""
        if position == self.order[digest]:
            return self.first_verdict.get(digest)
        if self.is_kept(digest):
            return digest, 1.0
        return self._best(self.kept_neighbours.get(digest, []), None, position)
