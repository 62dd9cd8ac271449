"""Near-duplicate text filter: exact hash first, then MinHash LSH, confirmed by exact Jaccard.

Used by the comments stage and by `cleanpipe dedup` on any JSONL. Texts are
fed in a stable order; the first of a group is kept, every later copy is
reported with the kept one's key and the exact Jaccard similarity of their
shingle sets. LSH (datasketch) only proposes candidates: nothing is dropped on
an estimate alone.

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

from .config import DedupConfig

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

    def __init__(self, word_n: int = 3, char_n: int = 5, short_words: int = 8):
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
    if len(a) == 0 and len(b) == 0:
        return 1.0
    inter = len(np.intersect1d(a, b, assume_unique=True))
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
        x += y  # x mod p lies in [0, p + 7]: one conditional subtraction finishes it
        x[x >= _MERSENNE] -= _MERSENNE
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


class Signature:
    """What datasketch's MinHashLSH reads from a MinHash (`hashvalues`, `len`), without the
    cost of MinHash.__init__, which regenerates all permutations on every construction.
    Used to check BandIndex against MinHashLSH."""

    __slots__ = ("hashvalues",)

    def __init__(self, hashvalues: np.ndarray):
        self.hashvalues = hashvalues

    def __len__(self) -> int:
        return len(self.hashvalues)


class BandIndex:
    """Banded LSH over MinHash signatures with datasketch's banding, vectorized band keys.

    The number of bands and rows comes from datasketch's MinHashLSH for the
    threshold (its false-positive/false-negative optimum), so candidates are
    exactly those MinHashLSH.query would return for the same signatures. Band
    keys for a whole batch are hashed in numpy instead of one Python call per
    band, and a bucket holds a single rank (a list only on collision) instead of
    a set, which is what makes 10^6 comments fit in memory.
    """

    def __init__(self, threshold: float, num_perm: int, params: tuple[int, int] | None = None):
        reference = MinHashLSH(threshold=threshold, num_perm=num_perm, params=params)
        self.bands, self.rows = reference.b, reference.r
        self.hashranges = reference.hashranges
        self._tables: list[dict[int, int | list[int]]] = [{} for _ in range(self.bands)]

    def band_keys(self, sigs: np.ndarray) -> list[list[int]]:
        """(n, num_perm) signatures -> per row, one 64-bit key per band."""
        used = sigs[:, : self.bands * self.rows].reshape(len(sigs), self.bands, self.rows)
        acc = np.zeros((len(sigs), self.bands), dtype=np.uint64)
        with np.errstate(over="ignore"):
            for i in range(self.rows):
                acc = _mix64(acc * np.uint64(0x9E3779B97F4A7C15) + used[:, :, i])
        return acc.tolist()

    def query(self, keys: list[int]) -> set[int]:
        found: set[int] = set()
        for table, key in zip(self._tables, keys, strict=True):
            cur = table.get(key)
            if cur is None:
                continue
            if isinstance(cur, list):
                found.update(cur)
            else:
                found.add(cur)
        return found

    def insert(self, keys: list[int], rank: int) -> None:
        for table, key in zip(self._tables, keys, strict=True):
            cur = table.get(key)
            if cur is None:
                table[key] = rank
            elif isinstance(cur, list):
                cur.append(rank)
            else:
                table[key] = [cur, rank]


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

    def _run_batch(self, items: list[tuple[str, str]]) -> Iterator[Verdict]:
        norms = [normalize(text) for _, text in items]
        digests = [self._digest(n) for n in norms]
        shingle_sets = [self.shingler.shingles(n) for n in norms]
        sigs = self.signer.signatures(shingle_sets)
        band_keys = self._lsh["word"].band_keys(sigs)  # both indexes band the same way
        for (key, _), norm, digest, sh, bkeys in zip(items, norms, digests, shingle_sets, band_keys, strict=True):
            self.seen += 1
            verdict = self._judge(key, norm, digest, sh, bkeys)
            if not verdict.kept:
                self.dropped += 1
                self.absorbed[verdict.duplicate_of] = self.absorbed.get(verdict.duplicate_of, 0) + 1
            yield verdict

    def _judge(self, key: str, norm: str, digest: bytes, sh: np.ndarray, bkeys: list[int]) -> Verdict:
        rank = self._exact.get(digest)
        if rank is not None:
            return Verdict(key, False, self._ids[rank], 1.0, "exact")
        kind = self.shingler.kind(norm)
        best_rank, best_sim = None, -1.0
        if len(sh):
            # ascending rank, strict '>': among equally similar texts the earliest kept one wins
            for cand in sorted(self._lsh[kind].query(bkeys)):
                sim = jaccard(sh, np.frombuffer(self._sets[cand], dtype=np.uint64))
                if sim > best_sim:
                    best_rank, best_sim = cand, sim
        if best_rank is not None and best_sim >= self.config.threshold:
            return Verdict(key, False, self._ids[best_rank], round(best_sim, 4), "minhash")
        rank = len(self._ids)
        self._ids.append(key)
        self._exact[digest] = rank
        self._sets.append(sh.tobytes() if len(sh) else None)
        if len(sh):
            self._lsh[kind].insert(bkeys, rank)
        return Verdict(key, True)
