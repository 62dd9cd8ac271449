"""Near-duplicate text filter: exact hash first, then MinHash LSH, confirmed by exact Jaccard.

Used by the comments stage, by `cleanpipe dedup` on any JSONL and (through
`NearDuplicateFilter.sketch`, `sketch_buckets` and `pair_similarity`) by the Ray
engine's plan, so both give the same verdicts. Texts are fed in a stable order;
the first of a group is kept, every later copy is reported with the kept one's
key and the exact Jaccard similarity of their shingle sets. Banded LSH
(datasketch's banding parameters) only proposes candidates: nothing is dropped
on an estimate alone.

Shingles: texts of at least `short_words` words use word n-grams; shorter ones
use character n-grams of their normalized form, so that "Very nice article !"
and "very nice article!!" are one comment while "Nice article Jordan!" stays;
texts near that length get both, so a copy across it is still compared
(`cutover_margin`). Everything per text is computed for a whole batch with
numpy: word hashes, n-grams, signatures (a 32-bit multiply family, or
datasketch's permutations with `signatures = "datasketch"`), LSH lookups and
the exact Jaccard of all candidate pairs. Short texts must also pass
`texts_agree` (numbers, and words within an edit).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

import numpy as np

from cleanpipe.arrays import GrowingArray
from cleanpipe.config import DedupConfig

_ZERO_WIDTH = re.compile("[\u200b-\u200f\u2060-\u2064\ufeff\u00ad]")
_TOKEN = re.compile(r"\w+")
_ASCII_TOKEN = re.compile(r"[A-Za-z0-9_]+")
_ANY_DIGIT = re.compile(r"\d")
# the tokens holding a digit, and a time's am/pm (parts of a number), found in a whole text; anchored
# at a token's start, so that each token is scanned once
_DIGIT_TOKENS = re.compile(r"(?<![^ ])(?:[^ \d]*\d[^ ]*|[ap]m(?![^ ]))")
_MERSENNE = np.uint64((1 << 61) - 1)
_MAX32 = np.uint64((1 << 32) - 1)
_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_POLY = np.uint64(0x100000001B3)
_SPACE = 32
SPACES = ("char", "word")


def normalize(text: str) -> str:
    """Comparison form: NFKC, no zero-width characters, case-folded, words only, single spaces."""
    if text.isascii():  # most comments: NFKC, zero-width removal and casefold change nothing but case here
        return " ".join(_ASCII_TOKEN.findall(text)).lower()
    text = _ZERO_WIDTH.sub("", unicodedata.normalize("NFKC", text)).casefold()
    return " ".join(_TOKEN.findall(text))


_NON_ASCII_WORD = re.compile(r"[^\W\x00-\x7f]")
# bytes -> bytes: ASCII word characters lowercased, NUL kept (it separates texts), everything else a space
_WORD_BYTES = bytes(c + 32 if 65 <= c <= 90 else c if c == 0 or chr(c).isascii() and _ASCII_TOKEN.fullmatch(chr(c))
                    else 32 for c in range(256))


def normalize_batch(texts: Sequence[str]) -> list[str]:
    """`normalize` of every text, equal to it text by text, in bulk: texts whose characters outside
    ASCII are none of them word characters (after NFKC and case folding: most comments, whose only
    such characters are curly quotes, dashes and emoji) are joined and mapped to words in one
    bytes.translate, their UTF-8 bytes above 127 all becoming separators; the regex tokenizer runs
    on the rest only."""
    out = [""] * len(texts)
    fast: list[int] = []
    folded: list[str] = []
    for i, text in enumerate(texts):
        if not text.isascii():
            text = _ZERO_WIDTH.sub("", unicodedata.normalize("NFKC", text)).casefold()
            if not text.isascii() and _NON_ASCII_WORD.search(text):
                out[i] = " ".join(_TOKEN.findall(text))
                continue
        fast.append(i)
        folded.append(text)
    joined = "\0".join(folded)
    if joined.count("\0") != len(folded) - 1:  # a text holds NUL itself: one by one
        for i, text in zip(fast, folded, strict=True):
            out[i] = normalize(text)
        return out
    pieces = joined.encode("utf-8", "surrogatepass").translate(_WORD_BYTES).split(b"\0")
    for i, piece in zip(fast, pieces, strict=True):
        out[i] = b" ".join(piece.split()).decode("ascii")
    return out


def _mix64(x: np.ndarray) -> np.ndarray:
    """splitmix64 finalizer: spreads polynomial hashes over all 64 bits."""
    x = x ^ (x >> np.uint64(30))
    x = x * _MIX1
    x = x ^ (x >> np.uint64(27))
    x = x * _MIX2
    return x ^ (x >> np.uint64(31))


def _codes(texts: list[str]) -> np.ndarray:
    joined = "".join(texts)
    if joined.isascii():  # a byte a character: a quarter of the encoding work
        return np.frombuffer(joined.encode("ascii"), dtype=np.uint8).astype(np.uint64)
    return np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)


def _powers(base: int, n: int) -> np.ndarray:
    """base**0 .. base**(n-1) mod 2**64."""
    out = np.full(n, base, dtype=np.uint64)
    out[0] = 1
    with np.errstate(over="ignore"):
        return np.cumprod(out, dtype=np.uint64)


# Word hashes are polynomial (sum of c_i * POLY^(len-1-i) mod 2**64). POLY is odd, so it has an inverse
# mod 2**64: with prefix sums S of c_k * POLY^-k over the whole batch a word [s, e) hashes to
# POLY^(e-1) * (S[e-1] - S[s-1]), the same value in a few passes over the characters. Exponents are
# split into block and offset so the power tables stay small whatever the batch's length.
_BLOCK_BITS = 16
_BLOCK = 1 << _BLOCK_BITS
_POLY_INV = pow(int(_POLY), -1, 1 << 64)
_P_OFFSET, _Q_OFFSET = _powers(int(_POLY), _BLOCK), _powers(_POLY_INV, _BLOCK)
_P_PER_BLOCK, _Q_PER_BLOCK = pow(int(_POLY), _BLOCK, 1 << 64), pow(_POLY_INV, _BLOCK, 1 << 64)


def _word_hashes(texts: list[str]) -> tuple[np.ndarray, np.ndarray]:
    """Every word of every normalized text as a 64-bit hash, computed for all texts at once, and the
    number of words per text (texts are words separated by single spaces)."""
    sizes = np.fromiter(map(len, texts), dtype=np.int64, count=len(texts))
    counts = np.zeros(len(texts), dtype=np.int64)
    joined = "\n".join([t for t in texts if t])  # a newline between texts: no normalized text holds one
    if not joined:
        return np.empty(0, dtype=np.uint64), counts
    codes = (np.frombuffer(joined.encode("ascii"), dtype=np.uint8) if joined.isascii()
             else np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32))
    n = len(codes)
    newlines = np.flatnonzero(codes == 10)
    seps = np.flatnonzero((codes == _SPACE) | (codes == 10))
    starts = np.concatenate(([0], seps + 1))
    ends = np.concatenate((seps, [n]))
    # words per text: separators between its newlines, plus one
    counts[sizes > 0] = np.diff(np.concatenate(([-1], np.searchsorted(seps, newlines), [len(seps)])))
    blocks = -(-n // _BLOCK)
    x = np.zeros(blocks * _BLOCK, dtype=np.uint64)
    x[:n] = codes
    with np.errstate(over="ignore"):
        x2 = x.reshape(blocks, _BLOCK)
        x2 *= _Q_OFFSET[None, :]
        x2 *= _powers(_Q_PER_BLOCK, blocks)[:, None]
        prefix = np.cumsum(x, dtype=np.uint64)
        last = ends - 1
        seg = prefix[last] - np.where(starts > 0, prefix[np.maximum(starts - 1, 0)], np.uint64(0))
        h = seg * _P_OFFSET[last & (_BLOCK - 1)] * _powers(_P_PER_BLOCK, blocks)[last >> _BLOCK_BITS]
        return _mix64(h ^ (ends - starts).astype(np.uint64)), counts


def _rolling(vals: np.ndarray, lengths: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """Rolling n-gram hashes over concatenated sequences: (sequence index, hash) for every window
    that lies inside one sequence; a sequence shorter than n is one window of its own length."""
    owners, hashes = [], []
    full = lengths >= n
    if full.any():
        total = len(vals)
        if total >= n:
            windows = total - n + 1
            acc = vals[:windows].astype(np.uint64)  # a copy: updated in place, no temporaries
            with np.errstate(over="ignore"):
                for j in range(1, n):
                    acc *= _POLY
                    acc += vals[j: windows + j]
            owner = np.repeat(np.arange(len(lengths)), lengths)[:windows]
            # a window starting in the last n - 1 units of a sequence runs into the next one
            ends = np.cumsum(lengths)
            crossing = (ends[:, None] - np.arange(1, n)[None, :]).ravel()
            valid = np.ones(windows, dtype=bool)
            valid[crossing[(crossing >= 0) & (crossing < windows)]] = False
            owners.append(owner[valid])
            hashes.append(_mix64(acc[valid]))
    offsets = np.concatenate(([0], np.cumsum(lengths)[:-1]))
    for i in np.flatnonzero((lengths < n) & (lengths > 0)).tolist():  # rare: fewer units than one n-gram
        acc = np.zeros(1, dtype=np.uint64)
        with np.errstate(over="ignore"):
            for v in vals[offsets[i]: offsets[i] + lengths[i]]:
                acc = acc * _POLY + v
        owners.append(np.array([i]))
        hashes.append(_mix64(acc))
    if not owners:
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.uint64)
    return np.concatenate(owners), np.concatenate(hashes)


_VALUE_BITS = 40  # shingle values keep 40 bits, so (owner or pair number, value) packs into one uint64
_VALUE_MASK = np.uint64((1 << _VALUE_BITS) - 1)


def _group_flat(owner: np.ndarray, h: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    """(owner, hash) pairs -> every owner's sorted unique 40-bit values, concatenated, and offsets
    (n + 1). One sort of packed (owner, value) keys instead of a two-key lexsort."""
    key = _sorted_unique((owner.astype(np.uint64) << np.uint64(_VALUE_BITS)) | (h >> np.uint64(64 - _VALUE_BITS)))
    counts = np.bincount((key >> np.uint64(_VALUE_BITS)).astype(np.int64), minlength=n)
    return key & _VALUE_MASK, np.concatenate(([0], np.cumsum(counts)))


def _sorted_unique(x: np.ndarray) -> np.ndarray:
    # np.unique of numpy 2.3+ hashes first, many times slower than a sort for uint64 keys
    x = np.sort(x)
    if len(x) < 2:
        return x
    return x[np.concatenate(([True], x[1:] != x[:-1]))]


def _segments(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """Indices of the concatenated ranges [start, start + length)."""
    total = int(lengths.sum())
    if not total:
        return np.empty(0, dtype=np.int64)
    shift = np.repeat(starts - np.concatenate(([0], np.cumsum(lengths)[:-1])), lengths)
    return shift + np.arange(total)


def cutover_margin(short_words: int, word_n: int, threshold: float) -> int:
    """Texts within this many words of `short_words` are shingled both ways, so that no copy is lost
    at the boundary: the smallest m for which a text of short_words - m - 1 words and one of
    short_words + m words cannot reach `threshold` on word n-grams (a shorter text has fewer of them)."""
    if short_words <= 0:
        return 0
    m = 0
    while m < short_words:
        shorter, longer = short_words - m - 1 - word_n + 1, short_words + m - word_n + 1
        if shorter <= 0 or shorter / longer < threshold:
            return m
        m += 1
    return m


class Shingler:
    """Text -> sorted unique uint64 shingle hashes (deterministic across processes).

    Texts of fewer than `short_words` words use character `char_n`-grams, longer ones word
    `word_n`-grams; texts within `margin` words of that boundary get both sets, so a pair that
    crosses it is compared in one space (see `spaces` and `pair_similarity`)."""

    def __init__(self, word_n: int = 3, char_n: int = 5, short_words: int = 25, margin: int = 0):
        self.word_n, self.char_n, self.short_words, self.margin = word_n, char_n, short_words, margin

    def spaces(self, words: int) -> tuple[bool, bool]:
        """(has character shingles, has word shingles) for a text of `words` words."""
        return words < self.short_words + self.margin, words >= self.short_words - self.margin

    def shingle_flat(self, norms: list[str]) -> tuple[tuple[np.ndarray, np.ndarray], tuple[np.ndarray, np.ndarray],
                                                      np.ndarray]:
        """For a batch of normalized texts, all in bulk: (values, offsets) of the character sets and
        of the word sets (an empty range where a text has no such space), and the word counts."""
        n = len(norms)
        whash, counts = _word_hashes(norms)
        long_enough = counts > 0
        has_char = long_enough & (counts < self.short_words + self.margin)
        has_word = long_enough & (counts >= self.short_words - self.margin)
        out = []
        char_idx = np.flatnonzero(has_char)
        texts = [norms[i] for i in char_idx.tolist()]
        own, h = _rolling(_codes(texts), np.array([len(t) for t in texts], dtype=np.int64), self.char_n) \
            if texts else (np.empty(0, dtype=np.int64), np.empty(0, dtype=np.uint64))
        out.append(_group_flat(char_idx[own], h, n))
        word_idx = np.flatnonzero(has_word)
        offsets = np.concatenate(([0], np.cumsum(counts)))
        sel = _segments(offsets[word_idx], counts[word_idx])
        own, h = _rolling(whash[sel], counts[word_idx], self.word_n) if len(word_idx) \
            else (np.empty(0, dtype=np.int64), np.empty(0, dtype=np.uint64))
        out.append(_group_flat(word_idx[own], h, n))
        return out[0], out[1], counts

    def shingle_spaces(self, norms: list[str]) -> tuple[list[np.ndarray], list[np.ndarray], np.ndarray]:
        """As `shingle_flat`, with one array per text."""
        (cv, co), (wv, wo), counts = self.shingle_flat(norms)
        if not norms:
            return [], [], counts
        return np.split(cv, co[1:-1]), np.split(wv, wo[1:-1]), counts

    def shingle_batch(self, norms: list[str]) -> list[np.ndarray]:
        """Each text's set in its primary space (`kind`), computed for the whole batch at once."""
        char_sets, word_sets, _ = Shingler(self.word_n, self.char_n, self.short_words).shingle_spaces(norms)
        return [c if len(c) else w for c, w in zip(char_sets, word_sets, strict=True)]

    def kind(self, norm: str) -> str:
        """The space of a text alone (by its own length)."""
        return "char" if norm.count(" ") + 1 < self.short_words else "word"

    def shingles(self, norm: str) -> np.ndarray:
        return self.shingle_batch([norm])[0]


def jaccard(a: np.ndarray, b: np.ndarray) -> float:
    """Exact Jaccard similarity of two sorted unique arrays."""
    if len(a) == 0 or len(b) == 0:
        return 1.0 if len(a) == len(b) else 0.0
    idx = np.searchsorted(b, a)
    idx[idx == len(b)] = 0
    inter = int(np.count_nonzero(b[idx] == a))
    return inter / (len(a) + len(b) - inter)


class SignatureBuilder:
    """Bulk MinHash signatures for many shingle sets at once.

    family "datasketch": equal to datasketch's `MinHash.update` for the same 32-bit shingle values
    (its permutations, uint64 arithmetic). family "fast": 32-bit multiply-add permutations
    (a*x mod 2**32, a odd: each one a bijection of the 32-bit shingle values, which are already
    well-mixed hashes), one multiplication and one min per shingle and permutation instead of
    eight operations, in half the memory traffic. Both estimate Jaccard similarity; only candidates come from them."""

    def __init__(self, num_perm: int = 128, seed: int = 1, family: str = "datasketch"):
        if family not in ("fast", "datasketch"):
            raise ValueError(f"unknown signature family {family!r}")
        self.num_perm, self.seed, self.family = num_perm, seed, family
        if family == "datasketch":
            from datasketch import MinHash  # only for this family: datasketch imports scipy, ~0.7 s

            self.a, self.b = MinHash(num_perm=num_perm, seed=seed).permutations
        else:
            rng = np.random.RandomState(seed)
            self.a = (rng.randint(0, 1 << 31, size=num_perm, dtype=np.uint64) * 2 + 1).astype(np.uint32)
            self.b = rng.randint(0, 1 << 32, size=num_perm, dtype=np.uint64).astype(np.uint32)

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

    def _fast_min(self, hv: np.ndarray, offsets: np.ndarray) -> np.ndarray:
        # x -> a*x mod 2**32 with a odd is a bijection of the (already hashed) 32-bit values; an added
        # constant would not change which shingle is the minimum often enough to be worth a pass
        # permutations x shingles, so each min runs along contiguous memory
        x = np.multiply(self.a[:, None], hv.astype(np.uint32)[None, :])  # wraps mod 2**32
        return np.minimum.reduceat(x, offsets, axis=1).T

    def signatures(self, shingle_sets: Sequence[np.ndarray], chunk: int | None = None) -> np.ndarray:
        """(len(shingle_sets), num_perm) uint64; an empty set gets the all-max signature."""
        sizes = np.fromiter((len(s) for s in shingle_sets), dtype=np.int64, count=len(shingle_sets))
        values = np.concatenate(list(shingle_sets)) if len(shingle_sets) else np.empty(0, dtype=np.uint64)
        return self.signatures_flat(values, np.concatenate(([0], np.cumsum(sizes))), chunk)

    def signatures_flat(self, values: np.ndarray, offsets: np.ndarray, chunk: int | None = None) -> np.ndarray:
        """As `signatures`, for sets given as one array and their offsets (len(sets) + 1)."""
        n = len(offsets) - 1
        out = np.full((n, self.num_perm), _MAX32, dtype=np.uint64 if self.family == "datasketch" else np.uint32)
        sizes = np.diff(offsets)
        nonempty = np.flatnonzero(sizes)
        if not len(nonempty):
            return out
        step = self._permute_min if self.family == "datasketch" else self._fast_min
        chunk = chunk or (1024 if self.family == "datasketch" else 4096)  # measured: cache-sized blocks
        hv_all = values & _MAX32  # empty sets take no room, so nonempty ones are contiguous in order
        starts = offsets[nonempty]
        ends = starts + sizes[nonempty]
        first = 0
        with np.errstate(over="ignore"):
            while first < len(nonempty):
                # group sets so one permutation matrix stays around `chunk` rows (cache-sized)
                last = max(first + 1, int(np.searchsorted(ends, starts[first] + chunk, side="right")))
                lo, hi = starts[first], ends[last - 1]
                out[nonempty[first:last]] = step(hv_all[lo:hi], starts[first:last] - lo)
                first = last
        return out


def lsh_params(threshold: float, num_perm: int, params: tuple[int, int] | None = None) -> tuple[int, int]:
    """(bands, rows) as datasketch's `MinHashLSH` chooses them: the pair with b * r <= num_perm that
    minimizes the false-positive probability mass below `threshold` plus the false-negative mass
    above it (equal weights), the first such pair in (b, r) order on a tie. Computed here, without
    datasketch (whose import takes scipy along: most of the start-up of `cleanpipe dedup`): the
    integrands are polynomials of degree b * r, which Gauss-Legendre quadrature with
    num_perm // 2 + 1 nodes integrates exactly (tests compare with datasketch over a grid)."""
    if not 0.0 <= threshold <= 1.0:
        raise ValueError("threshold must be in [0.0, 1.0]")
    if num_perm < 2:
        raise ValueError("Too few permutation functions")
    if params is not None:
        b, r = params
        if b * r > num_perm:
            raise ValueError(f"bands * rows = {b} * {r} exceeds num_perm {num_perm}")
    else:
        nodes, weights = np.polynomial.legendre.leggauss(num_perm // 2 + 1)
        pairs = [(b, r) for b in range(1, num_perm + 1) for r in range(1, num_perm // b + 1)]
        bs = np.array([p[0] for p in pairs], dtype=np.float64)[:, None]
        rs = np.array([p[1] for p in pairs], dtype=np.float64)[:, None]
        # nodes mapped from [-1, 1] onto [0, threshold] and [threshold, 1]
        low = (nodes + 1) * threshold / 2
        high = threshold + (nodes + 1) * (1 - threshold) / 2
        false_pos = (1 - (1 - low[None, :] ** rs) ** bs) @ weights * threshold / 2
        false_neg = ((1 - high[None, :] ** rs) ** bs) @ weights * (1 - threshold) / 2
        b, r = pairs[int(np.argmin(false_pos * 0.5 + false_neg * 0.5))]
    if b < 2:
        raise ValueError("The number of bands are too small (b < 2)")
    return b, r


class Banding:
    """How MinHash signatures are cut into LSH bands: datasketch's MinHashLSH's bands and rows for the
    threshold (`lsh_params`: its false-positive/false-negative optimum), and one 64-bit key a band.

    Two signatures are LSH candidates exactly when MinHashLSH.query would pair them: when they
    share a band key (up to 64-bit collisions, which only add candidates that exact Jaccard then
    rejects). The keys become bucket numbers (`lsh_buckets`) stored in a `BucketIndex`."""

    def __init__(self, threshold: float, num_perm: int, params: tuple[int, int] | None = None):
        self.bands, self.rows = lsh_params(threshold, num_perm, params)

    def band_keys(self, sigs: np.ndarray) -> np.ndarray:
        """(n, num_perm) signatures -> (n, bands) nonzero 64-bit keys, one per band."""
        used = sigs[:, : self.bands * self.rows].reshape(len(sigs), self.bands, self.rows)
        acc = np.zeros((len(sigs), self.bands), dtype=np.uint64)
        with np.errstate(over="ignore"):
            for i in range(self.rows):
                acc = _mix64(acc * np.uint64(0x9E3779B97F4A7C15) + used[:, :, i])
        return acc | np.uint64(1)  # kept nonzero, as the keys always were (bucket numbers depend on them)


def lsh_buckets(band_keys: np.ndarray, word: np.ndarray) -> np.ndarray:
    """(n, bands) band keys -> (n, bands) bucket numbers, one per (shingle kind, band, key): two
    texts share a bucket when MinHashLSH would pair them in that band (64-bit collisions between
    different buckets are possible but at ~1e-19 a pair negligible, and only ever add candidates)."""
    bands = band_keys.shape[1]
    salt = (np.arange(1, bands + 1, dtype=np.uint64)[None, :] * np.uint64(0x9E3779B97F4A7C15)
            + word.astype(np.uint64)[:, None] * np.uint64(0xD6E8FEB86659FD93))
    with np.errstate(over="ignore"):
        return _mix64(band_keys ^ _mix64(salt))


def sketch_buckets(bands: Sequence[np.ndarray], kinds: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
    """LSH buckets of many sketches (`Sketch.bands`, `Sketch.kind`): (bucket numbers, the index of
    the sketch each belongs to). A text shingled both ways has buckets in both spaces."""
    rows, word, owner = [], [], []
    for i, (keys, kind) in enumerate(zip(bands, kinds, strict=True)):
        if keys is None:
            continue
        spaces = SPACES if kind == "both" else (kind,)
        for space, part in zip(spaces, np.split(keys, len(spaces)), strict=True):
            rows.append(part)
            word.append(space == "word")
            owner.append(i)
    if not rows:
        return np.empty(0, dtype=np.uint64), np.empty(0, dtype=np.int64)
    keys = np.stack(rows)
    return lsh_buckets(keys, np.array(word)).ravel(), np.repeat(np.array(owner), keys.shape[1])


# A packed sketch is one uint64 array: [char count | word count << 32, text bytes | words << 32,
# char shingles..., word shingles..., the normalized text (UTF-8, zero-padded) for short texts].
_HEADER = 2


def pack_sketch(char_set: np.ndarray, word_set: np.ndarray, words: int, text: str | None) -> np.ndarray:
    """What `pair_similarity` needs of one text, in one array (stored per kept text, and shipped
    between Ray workers as bytes)."""
    raw = text.encode() if text else b""
    pad = raw + b"\0" * (-len(raw) % 8)
    head = np.array([len(char_set) | (len(word_set) << 32), len(raw) | (words << 32)], dtype=np.uint64)
    return np.concatenate((head, char_set, word_set, np.frombuffer(pad, dtype=np.uint64)))


def sketch_shingles(packed: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(character shingles, word shingles) of a packed sketch (`Sketch.shingles`)."""
    chars, words, _, _ = _unpack(packed)
    return chars, words


def _unpack(p: np.ndarray) -> tuple[np.ndarray, np.ndarray, int, bytes]:
    h0, h1 = int(p[0]), int(p[1])
    nc, nw, nb = h0 & 0xFFFFFFFF, h0 >> 32, h1 & 0xFFFFFFFF
    end = _HEADER + nc + nw
    return p[_HEADER:_HEADER + nc], p[_HEADER + nc:end], h1 >> 32, p[end:].tobytes()[:nb]


def _within_edits(a: str, b: str, k: int) -> bool:
    """Optimal-string-alignment distance (edits and adjacent swaps) of a and b is at most k."""
    if a == b:  # most pairs that get here: copies up to case, punctuation or an added number
        return True
    # a common prefix and suffix cost nothing (found by index: slicing a char at a time is quadratic)
    n = min(len(a), len(b))
    i = 0
    while i < n and a[i] == b[i]:
        i += 1
    j = 0
    while j < n - i and a[-1 - j] == b[-1 - j]:
        j += 1
    a, b = a[i:len(a) - j], b[i:len(b) - j]
    if abs(len(a) - len(b)) > k:
        return False
    if not a or not b:
        return max(len(a), len(b)) <= k
    big = k + 1
    prev2: list[int] = []
    prev = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [big] * len(b)
        for j in range(max(1, i - k), min(len(b), i + k) + 1):
            cost = a[i - 1] != b[j - 1]
            v = min(prev[j] + 1, cur[j - 1] + 1, prev[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                v = min(v, prev2[j - 2] + 1)
            cur[j] = v
        if min(cur) > k:
            return False
        prev2, prev = prev, cur
    return prev[len(b)] <= k


_EDIT_MIN_CHARS = 12


def short_texts_match(a: str, b: str, max_edits: int) -> bool:
    """The check for two short normalized texts beside their Jaccard similarity: the tokens holding
    digits (numbers, times, "10th", "user418") of one are all among the other's (so "+1" may be
    added, but "10:55 pm" is not "11:01 pm" and "(1363)" is not "(1200)"), and the rest of the words
    are within `max_edits` character edits ("thanks for your help" is not "... note")."""
    if a == b:
        return True
    if not numbers_agree(a, b):
        return False
    wa, wb = _words_without_digits(a), _words_without_digits(b)
    # below a dozen letters one edit is as often another name or word ("Martin", "Martina") as a typo
    return _within_edits(wa, wb, max_edits if min(len(wa), len(wb)) >= _EDIT_MIN_CHARS else 0)


def _digit_tokens(text: str) -> list[str]:
    """The tokens of a normalized text that hold a digit, and its "am"/"pm" tokens, in order."""
    if not _ANY_DIGIT.search(text) and "am" not in text and "pm" not in text:  # most texts: no regex scan
        return []
    return _DIGIT_TOKENS.findall(text)


def _words_without_digits(text: str) -> str:
    """A normalized text without the tokens `_digit_tokens` finds (whole tokens: no words are joined)."""
    if not _ANY_DIGIT.search(text) and "am" not in text and "pm" not in text:
        return text
    return " ".join(_DIGIT_TOKENS.sub("", text).split())


def numbers_agree(a: str, b: str) -> bool:
    """The tokens holding digits (and a time's am/pm) of one normalized text are all among the
    other's, which may have one more: a "+1", a reply's "@7", but not a time the other lacks."""
    na, nb = _digit_tokens(a), _digit_tokens(b)
    small, rest = (na, nb) if len(na) <= len(nb) else (nb, na)
    if len(rest) - len(small) > 1:
        return False
    for t in small:
        if t not in rest:
            return False
        rest.remove(t)
    return True


def strict_counts(norms: Sequence[str], counts: np.ndarray, has_char: np.ndarray,
                  strict_words: int = 10) -> np.ndarray:
    """Words per text as the short-text check counts them: for texts compared on character shingles,
    the tokens without digits, so that an author and date line ("Mary Jane On Thursday, November 1
    at 2:58 pm", 10 tokens, 6 without digits) counts as the short text it is. Only texts of
    `strict_words` tokens or more can change."""
    out = counts.copy()
    check = np.flatnonzero(has_char & (counts >= strict_words))
    check = check[_may_hold_digits([norms[i] for i in check.tolist()])]
    for i in check.tolist():
        if _ANY_DIGIT.search(norms[i]):
            out[i] = counts[i] - len(_DIGIT_TOKENS.findall(norms[i]))
    return out


def _may_hold_digits(texts: list[str]) -> np.ndarray:
    """Per text, in bulk: whether it holds an ASCII digit or any character beyond ASCII (where only
    the regex's Unicode digits can tell); the others certainly hold no digit."""
    out = np.zeros(len(texts), dtype=bool)
    joined = "\n".join(texts)
    if not joined:
        return out
    if joined.isascii():
        codes = np.frombuffer(joined.encode("ascii"), dtype=np.uint8)
        flag = (codes >= 48) & (codes <= 57)
    else:
        codes = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32)
        flag = ((codes >= 48) & (codes <= 57)) | (codes > 127)
    ends = np.cumsum(np.fromiter(map(len, texts), dtype=np.int64, count=len(texts)) + 1)  # each text and its newline
    out[np.searchsorted(ends, np.flatnonzero(flag), side="right")] = True
    return out


def payload(norm: str, words: int, has_char: bool, strict_words: int) -> str:
    """What the pair check needs of a text's words: all of them under `strict_words` words, its
    digit tokens when it is compared on character shingles, else nothing."""
    if words < strict_words:
        return norm
    if has_char and _ANY_DIGIT.search(norm):
        return " ".join(_DIGIT_TOKENS.findall(norm))
    return ""


def texts_agree(a: str, b: str, words_a: int, words_b: int, char_space: bool, strict_words: int,
                strict_edits: int) -> bool:
    """The check beside Jaccard for a pair at or above the threshold (`payload`s a and b): both
    under `strict_words` words, `short_texts_match`; compared on character shingles (short texts,
    where a time or a count is much of the text), the numbers must agree; else nothing more.
    strict_words 0 turns both checks off (Jaccard alone)."""
    if strict_words <= 0:
        return True
    if max(words_a, words_b) < strict_words:
        return short_texts_match(a, b, strict_edits)
    if char_space:
        return numbers_agree(a, b)
    return True


def pair_similarity(a: np.ndarray, b: np.ndarray, threshold: float, strict_words: int = 10,
                    strict_edits: int = 1) -> float:
    """Similarity of two packed sketches as the filter judges it, or 0.0 when they are not copies:
    the exact Jaccard of their character shingles when both have them (both short), else of their
    word shingles; a pair at or above `threshold` must also pass `texts_agree`."""
    ca, wa, na, ta = _unpack(a)
    cb, wb, nb, tb = _unpack(b)
    char_space = bool(len(ca) and len(cb))
    if char_space:
        sim = jaccard(ca, cb)
    elif len(wa) and len(wb):
        sim = jaccard(wa, wb)
    else:  # one is too short for the other's word space: it cannot reach any sensible threshold
        return 0.0
    if sim < threshold:
        return sim
    if not texts_agree(ta.decode(), tb.decode(), na, nb, char_space, strict_words, strict_edits):
        return 0.0
    return sim


@dataclass
class Sketch:
    digest: bytes
    kind: str  # char | word | both (a text near the boundary, shingled both ways)
    shingles: np.ndarray  # the packed sketch (`pack_sketch`)
    bands: np.ndarray | None  # 64-bit keys per LSH band (char keys, then word keys); None: nothing to shingle


@dataclass
class Verdict:
    key: str
    kept: bool
    duplicate_of: str | None = None
    similarity: float | None = None
    method: str | None = None  # exact | minhash


class BucketIndex:
    """LSH buckets of the kept texts (`lsh_buckets` numbers: kind, band and band key in one uint64)
    as a chained hash table in numpy arrays: per slot (the top bits of a bucket number, which are
    well mixed) the last entry linked there, and per entry its bucket, rank and the next entry of
    its slot. A batch is inserted and queried in bulk, each touching only its own entries: nothing
    stored is re-sorted (the sorted arrays this replaces merged a growing delta every batch, about a
    sixth of the filter's time at 10^6 texts). When there are more than twice as many entries as
    slots the table grows fourfold and its entries are linked again. 16 bytes an entry and
    0.5-2 bytes of slot; entries are numbered in int32, so up to 2^31 (some 75 million kept texts)."""

    _MAX_LOAD = 2
    _STEP = 1 << 18  # entries linked per pass: their slot numbers stay small next to the table

    def __init__(self, bits: int = 12) -> None:
        self.bits = bits
        self.head = np.full(1 << bits, -1, dtype=np.int32)
        self.keys = GrowingArray(np.uint64)
        self.ranks = GrowingArray(np.int32)
        self.next = GrowingArray(np.int32)

    def __len__(self) -> int:
        return self.keys.size

    def _slots(self, buckets: np.ndarray) -> np.ndarray:
        return (buckets >> np.uint64(64 - self.bits)).astype(np.intp)

    def query(self, buckets: np.ndarray, owners: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(owner, rank) for every stored entry sharing a bucket with a query, each once per query
        entry (so a rank may repeat for an owner that queries several buckets)."""
        if not len(self) or not len(buckets):
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        keys, nxt, ranks = self.keys.view(), self.next.view(), self.ranks.view()
        cur = self.head[self._slots(buckets)]
        live = np.flatnonzero(cur >= 0)
        cur = cur[live]
        out_o, out_r = [], []
        while len(live):  # one step along every chain at once; chains are short but for popular buckets
            hit = keys[cur] == buckets[live]
            if hit.any():
                out_o.append(owners[live[hit]])
                out_r.append(ranks[cur[hit]])
            cur = nxt[cur]
            go = cur >= 0
            live, cur = live[go], cur[go]
        if not out_o:
            return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
        return np.concatenate(out_o).astype(np.int64), np.concatenate(out_r).astype(np.int64)

    def insert(self, buckets: np.ndarray, ranks: np.ndarray) -> None:
        if not len(buckets):
            return
        if len(self) + len(buckets) >= 1 << 31:
            raise OverflowError("the LSH bucket index holds at most 2**31 entries")
        start = self.keys.extend(buckets)
        self.ranks.extend(ranks.astype(np.int32))
        self.next.extend(np.empty(len(buckets), dtype=np.int32))
        if len(self) > self._MAX_LOAD << self.bits:
            while len(self) > self._MAX_LOAD << self.bits:
                self.bits += 2
            self.head = np.full(1 << self.bits, -1, dtype=np.int32)
            start = 0
        self._link(start, len(self))

    def _link(self, lo: int, hi: int) -> None:
        """Link entries lo..hi-1 at the front of their slots' chains: all of a pass write their slot
        at once, those whose write stuck are linked, the rest (a slot shared in the pass) go again."""
        keys, nxt, head = self.keys.view(), self.next.view(), self.head
        for a in range(lo, hi, self._STEP):
            b = min(hi, a + self._STEP)
            slots = self._slots(keys[a:b])
            ids = np.arange(a, b, dtype=np.int32)
            while len(ids):
                s = slots[ids - a]
                before = head[s]
                head[s] = ids
                won = head[s] == ids
                nxt[ids[won]] = before[won]
                ids = ids[~won]


def _pairs_in_runs(buckets: np.ndarray, owners: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(earlier owner, later owner) for owners that share a bucket, each pair once per shared bucket."""
    # an unstable sort (a fourth of the time of a stable one on random keys): members of a run come
    # in any order, so each pair is put in order afterwards
    order = np.argsort(buckets)
    b, o = buckets[order], owners[order]
    same = np.flatnonzero(b[1:] == b[:-1])
    if not len(same):
        return np.empty(0, dtype=np.int64), np.empty(0, dtype=np.int64)
    starts = np.flatnonzero(np.concatenate(([True], b[1:] != b[:-1])))
    run_of = np.searchsorted(starts, same + 1, side="right") - 1  # the run of each later member
    # every member pairs with every member before it in its run
    firsts = starts[run_of]
    counts = same + 1 - firsts
    x = np.repeat(o[same + 1], counts)
    y = o[_segments(firsts, counts)]
    keep = x != y
    x, y = x[keep], y[keep]
    return np.minimum(x, y), np.maximum(x, y)


def _intersections(a_vals: np.ndarray, a_start: np.ndarray, a_len: np.ndarray,
                   b_vals: np.ndarray, b_start: np.ndarray, b_len: np.ndarray) -> np.ndarray:
    """|A_i & B_i| for many pairs of sorted unique 40-bit sets given as ranges of two arrays:
    (pair number, value) keys are sorted on both sides already, so one searchsorted counts them."""
    out = np.zeros(len(a_start), dtype=np.int64)
    step = 1 << 22
    for lo in range(0, len(a_start), step):
        hi = min(len(a_start), lo + step)
        pid = np.arange(hi - lo, dtype=np.uint64) << np.uint64(_VALUE_BITS)
        ka = np.repeat(pid, a_len[lo:hi]) | a_vals[_segments(a_start[lo:hi], a_len[lo:hi])]
        kb = np.repeat(pid, b_len[lo:hi]) | b_vals[_segments(b_start[lo:hi], b_len[lo:hi])]
        if not len(ka) or not len(kb):
            continue
        pos = np.searchsorted(kb, ka)
        pos[pos == len(kb)] = 0
        hit = kb[pos] == ka
        out[lo:hi] = np.bincount((ka[hit] >> np.uint64(_VALUE_BITS)).astype(np.int64), minlength=hi - lo)
    return out


class NearDuplicateFilter:
    """Streaming filter over (key, text) pairs; state grows with the kept texts only."""

    def __init__(self, config: DedupConfig | None = None):
        self.config = config or DedupConfig()
        c = self.config
        self.margin = cutover_margin(c.short_words, c.word_shingle, c.threshold)
        self.shingler = Shingler(c.word_shingle, c.char_shingle, c.short_words, self.margin)
        self.signer = SignatureBuilder(c.num_perm, c.seed, getattr(c, "signatures", "fast"))
        self._strict = (getattr(c, "strict_words", 10), getattr(c, "strict_edits", 1))
        # LSH proposes candidates below the threshold too; exact Jaccard decides.
        lsh_threshold = max(0.2, c.threshold - 0.15)
        params = None
        if c.bands:
            params = (c.bands, c.num_perm // c.bands)
        self._banding = Banding(lsh_threshold, c.num_perm, params)  # the same for both shingle spaces
        self._buckets = BucketIndex()
        # Kept texts are numbered in input order; the stores below are indexed by that rank.
        self._exact: dict[bytes, int] = {}
        self._ids: list[str] = []
        self._values = GrowingArray()
        self._ranges = GrowingArray(np.int64)  # per rank: char start, char count, word start, word count, words
        self._short: dict[int, str] = {}  # rank -> its `payload` where not empty
        self.absorbed: dict[str, int] = {}  # kept key -> number of dropped copies
        self.seen = 0
        self.dropped = 0

    @property
    def kept_keys(self) -> list[str]:
        """The keys of the kept texts, in input order."""
        return self._ids

    @staticmethod
    def _digest(norm: str) -> bytes:
        return hashlib.blake2b(norm.encode(), digest_size=12).digest()

    def filter(self, items: Iterable[tuple[str, str]], batch: int = 8192) -> Iterator[Verdict]:
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
        digest = self._digest
        return [digest(n) if n else digest("\0" + " ".join(unicodedata.normalize("NFKC", t).casefold().split()))
                for n, t in zip(norms, texts, strict=True)]

    def _shingle(self, norms: list[str]) -> tuple:
        """`Shingler.shingle_flat`, with the word counts the short-text check uses (`strict_counts`)."""
        chars, words, counts = self.shingler.shingle_flat(norms)
        return chars, words, strict_counts(norms, counts, np.diff(chars[1]) > 0, self._strict[0])

    def _prepare(self, norms: list[str]) -> tuple[tuple, dict[str, tuple[np.ndarray, np.ndarray]]]:
        """Shingles of normalized texts in bulk ((char values, offsets), (word values, offsets), word
        counts), and per shingle space the texts that have it with their LSH bucket numbers."""
        flat = self._shingle(norms)
        spaces = {}
        for space, (vals, offs) in zip(SPACES, flat[:2], strict=True):
            rows = np.flatnonzero(np.diff(offs))
            sigs = self.signer.signatures_flat(vals, offs) if len(rows) else None
            if sigs is not None:
                sigs = sigs[rows]
                keys = self._banding.band_keys(sigs)
                spaces[space] = (rows, lsh_buckets(keys, np.full(len(rows), space == "word")))
            else:
                spaces[space] = (rows, np.empty((0, self._banding.bands), dtype=np.uint64))
        return flat, spaces

    def sketch(self, texts: list[str]) -> list[Sketch]:
        """What the filter compares, per text, for a plan that runs elsewhere (the Ray engine):
        exact digest, shingle spaces, packed sketch and LSH band keys (None when there is nothing
        to shingle: such a text only ever matches exactly)."""
        norms = normalize_batch(texts)
        digests = self._digests_of(norms, texts)
        (cv, co), (wv, wo), counts = self._shingle(norms)
        strict_words = self._strict[0]
        keys: list[list[np.ndarray]] = [[] for _ in texts]
        names: list[list[str]] = [[] for _ in texts]
        for space, (vals, offs) in zip(SPACES, ((cv, co), (wv, wo)), strict=True):
            rows = np.flatnonzero(np.diff(offs)).tolist()
            if rows:
                sets = np.split(vals, offs[1:-1])
                bkeys = self._banding.band_keys(self.signer.signatures([sets[i] for i in rows]))
                for r, i in enumerate(rows):
                    keys[i].append(bkeys[r])
                    names[i].append(space)
        out = []
        for i, norm in enumerate(norms):
            n = int(counts[i])
            has_char = co[i + 1] > co[i]
            packed = pack_sketch(cv[co[i]:co[i + 1]], wv[wo[i]:wo[i + 1]], n,
                                 payload(norm, n, has_char, strict_words))
            kind = "both" if len(names[i]) == 2 else (names[i] or [self.shingler.kind(norm)])[0]
            out.append(Sketch(digests[i], kind, packed, np.concatenate(keys[i]) if keys[i] else None))
        return out

    def _similar_pairs(self, norms: list[str], flat: tuple, spaces: dict, reps: list[int]
                       ) -> tuple[dict[int, list[tuple[int, float]]], dict[int, list[tuple[int, float]]]]:
        """Per distinct new text (slot): the kept texts of earlier batches (by rank) and the other
        slots of this batch that LSH proposes and that are copies by `pair_similarity`, with it. A
        later slot counts for a text's repeats: a text dropped here and repeated after a similar
        text was kept is judged against that one too, as it would be in a later batch."""
        (cv, co), (wv, wo), counts = flat
        threshold, (strict_words, strict_edits) = self.config.threshold, self._strict
        q_o, q_r, w_e, w_l = [], [], [], []
        for rows, buckets in spaces.values():
            if not len(rows):
                continue
            owners = np.repeat(rows, buckets.shape[1])
            flat_b = buckets.ravel()
            o, r = self._buckets.query(flat_b, owners)
            q_o.append(o)
            q_r.append(r)
            e, la = _pairs_in_runs(flat_b, owners)
            w_e.append(e)
            w_l.append(la)
        stored: dict[int, list[tuple[int, float]]] = {}
        within: dict[int, list[tuple[int, float]]] = {}
        ranges = self._ranges.view().reshape(-1, 5)
        for target, parts_a, parts_b, kept_side in ((stored, q_o, q_r, True), (within, w_l, w_e, False)):
            if not parts_a:
                continue
            pa = np.concatenate(parts_a)
            pb = np.concatenate(parts_b)
            if not len(pa):
                continue
            uniq = _sorted_unique((pa.astype(np.uint64) << np.uint64(32)) | pb.astype(np.uint64))
            pa = (uniq >> np.uint64(32)).astype(np.int64)
            pb = (uniq & np.uint64(0xFFFFFFFF)).astype(np.int64)
            a_cs, a_cn = co[pa], co[pa + 1] - co[pa]
            a_ws, a_wn = wo[pa], wo[pa + 1] - wo[pa]
            if kept_side:
                rr = ranges[pb]
                b_cs, b_cn, b_ws, b_wn, b_words = rr[:, 0], rr[:, 1], rr[:, 2], rr[:, 3], rr[:, 4]
                b_vals = self._values.view()
                b_cvals = b_wvals = b_vals
            else:
                b_cs, b_cn = co[pb], co[pb + 1] - co[pb]
                b_ws, b_wn = wo[pb], wo[pb + 1] - wo[pb]
                b_words = counts[pb]
                b_cvals, b_wvals = cv, wv
            char = (a_cn > 0) & (b_cn > 0)
            word = ~char & (a_wn > 0) & (b_wn > 0)
            inter = np.zeros(len(pa), dtype=np.int64)
            la, lb = np.where(char, a_cn, a_wn), np.where(char, b_cn, b_wn)
            c, w = np.flatnonzero(char), np.flatnonzero(word)
            inter[c] = _intersections(cv, a_cs[c], a_cn[c], b_cvals, b_cs[c], b_cn[c])
            inter[w] = _intersections(wv, a_ws[w], a_wn[w], b_wvals, b_ws[w], b_wn[w])
            union = la + lb - inter
            sim = np.where((char | word) & (union > 0), inter / np.maximum(union, 1), 0.0)
            hits = np.flatnonzero(sim >= threshold)
            short = self._short
            # plain Python values, one conversion for all the pairs rather than one per value
            for a, b, s, words_a, words_b, in_chars in zip(
                    pa[hits].tolist(), pb[hits].tolist(), sim[hits].tolist(), counts[pa[hits]].tolist(),
                    b_words[hits].tolist(), char[hits].tolist(), strict=True):
                other = short.get(b, "") if kept_side else norms[reps[b]]
                # a full text carries its digit tokens too, so either kind of payload serves here
                if not texts_agree(norms[reps[a]], other, words_a, words_b, in_chars, strict_words, strict_edits):
                    continue
                target.setdefault(a, []).append((b, s))
                if not kept_side:
                    target.setdefault(b, []).append((a, s))
        return stored, within

    def _run_batch(self, items: list[tuple[str, str]]) -> Iterator[Verdict]:
        norms = normalize_batch([text for _, text in items])
        digests = self._digests_of(norms, (t for _, t in items))
        # Shingle and sign each distinct text once; texts kept in earlier batches need nothing.
        first: dict[bytes, int] = {}  # digest -> its slot among the distinct new texts
        reps: list[int] = []
        exact = self._exact
        for i, d in enumerate(digests):
            if d not in exact and d not in first:
                first[d] = len(reps)
                reps.append(i)
        rep_norms = [norms[i] for i in reps]
        flat, spaces = self._prepare(rep_norms)
        stored, within = self._similar_pairs(norms, flat, spaces, reps)
        slot_rank: dict[int, int] = {}  # slot -> rank, for slots kept in this batch
        kept_slots: list[int] = []
        out: list[Verdict] = []
        ids, absorbed = self._ids, self.absorbed
        for (key, _), d in zip(items, digests, strict=True):
            rank = exact.get(d)
            if rank is None:
                slot = first[d]
                best_rank, best_sim = None, -1.0
                # highest similarity, the earliest kept text (lowest rank) on a tie
                for cand, sim in stored.get(slot, ()):
                    if sim > best_sim or (sim == best_sim and cand < best_rank):
                        best_rank, best_sim = cand, sim
                for e, sim in within.get(slot, ()):
                    cand = slot_rank.get(e)
                    if cand is not None and (sim > best_sim or (sim == best_sim and cand < best_rank)):
                        best_rank, best_sim = cand, sim
                if best_rank is None:
                    rank = len(ids)
                    ids.append(key)
                    exact[d] = rank
                    slot_rank[slot] = rank
                    kept_slots.append(slot)
                    out.append(Verdict(key, True))
                    continue
                kept_key = ids[best_rank]
                out.append(Verdict(key, False, kept_key, round(best_sim, 4), "minhash"))
            else:
                kept_key = ids[rank]
                out.append(Verdict(key, False, kept_key, 1.0, "exact"))
            absorbed[kept_key] = absorbed.get(kept_key, 0) + 1
        self._store(kept_slots, slot_rank, rep_norms, flat, spaces)
        self.seen += len(items)
        self.dropped += sum(not v.kept for v in out)
        yield from out

    def _store(self, kept_slots: list[int], slot_rank: dict[int, int], norms: list[str], flat: tuple,
               spaces: dict) -> None:
        """Keep the shingles, word counts and LSH buckets of the texts kept in a batch."""
        if not kept_slots:
            return
        (cv, co), (wv, wo), counts = flat
        slots = np.array(kept_slots, dtype=np.int64)
        cn, wn = co[slots + 1] - co[slots], wo[slots + 1] - wo[slots]
        base = self._values.extend(np.concatenate((cv[_segments(co[slots], cn)], wv[_segments(wo[slots], wn)])))
        c_start = base + np.concatenate(([0], np.cumsum(cn)[:-1]))
        w_start = base + int(cn.sum()) + np.concatenate(([0], np.cumsum(wn)[:-1]))
        self._ranges.extend(np.stack([c_start, cn, w_start, wn, counts[slots]], axis=1).ravel())
        strict_words = self._strict[0]
        words, has_char = counts.tolist(), (np.diff(co) > 0).tolist()
        for slot in kept_slots:
            text = norms[slot] if words[slot] < strict_words else (
                payload(norms[slot], words[slot], has_char[slot], strict_words) if has_char[slot] else "")
            if text:
                self._short[slot_rank[slot]] = text
        is_kept = np.zeros(len(norms), dtype=bool)
        is_kept[slots] = True
        rank_of = np.zeros(len(norms), dtype=np.int64)
        rank_of[slots] = [slot_rank[s] for s in kept_slots]
        for rows, buckets in spaces.values():
            sel = is_kept[rows]
            if sel.any():
                self._buckets.insert(buckets[sel].ravel(), np.repeat(rank_of[rows[sel]], buckets.shape[1]))


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
