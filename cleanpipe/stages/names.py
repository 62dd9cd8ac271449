"""Names stage: one canonical spelling per person or organisation.

Two sources of variant -> canonical mappings:

* an alias file a person wrote or reviewed (TOML or CSV, see `load_alias_file`);
* variants found in the corpus itself (`NameStats` collects candidate names in
  a first pass, `find_variants` clusters them): first key collision on a
  fingerprint that ignores case, spaces, hyphens and diacritics ("High Flyer" /
  "High-Flyer"), then one-token edit-distance neighbours ("Liang Wenfang" /
  "Liang Wenfeng", "DeekSeek" / "DeepSeek"). A variant is merged only into a
  much more frequent form, and only when no guard refuses it: a common word
  (per wordfreq), capitals, a headline form, an acronym or version, an
  inflection, a compound of words, a name of its own (see `_collision_guard`,
  `_edit_guard`; the README lists them with the real failures behind them).

`NameNormalizer` applies a mapping to a document and records every change
with its character offsets in the output text; a merge found in the corpus
rewrites only the exact spelling it was found as.
"""

from __future__ import annotations

import csv
import re
import sys
import unicodedata
from collections import Counter
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from wordfreq import get_frequency_dict

from cleanpipe.config import ConfigError, NamesConfig
from cleanpipe.engines.memory import give_back_free_memory
from cleanpipe.model import Document
from cleanpipe.stages.lines import STOPWORDS

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

_MAX_SPAN = 4
# Languages whose common words are never a name's variant: those the stop-word lists know (lines.py).
WORD_LANGUAGES = ("en", "de", "fr", "es", "pt", "it", "nl", "id", "ru")
# Zipf frequency (log10 of uses per billion words) from which a word counts as common: "wild" 4.8,
# "thanks" 5.4, "three" 5.8 are; typos ("bridegt") and rare surnames ("vaccaro" 2.1) are not. The
# language of a corpus is not known here, so other languages than English need a higher bar: a
# typo that happens to be a middling word elsewhere ("Caleg" in Indonesian) is still a typo.
COMMON_ZIPF = 3.5
COMMON_ZIPF_OTHER = 4.0
# A variant seen more often than this, and more than OWN_NAME_SHARE of its canonical's count, is a
# name of its own ("USB-A" beside "USB-C"), not a typo: real typos are rare next to the right spelling.
OWN_NAME_COUNT = 2
OWN_NAME_SHARE = 0.1


def _small_lists() -> Iterator[tuple[str, dict[str, float]]]:
    """(language, {word: frequency}) of wordfreq's "small" lists for WORD_LANGUAGES.

    They hold every word from zipf 3 up and ship inside its wheel (no download). wordfreq keeps
    each list it read in caches of its own (about 35 MB of Python objects for these languages),
    which would stay in the run's main process for the whole run (and raise its peak): they are
    emptied after each list, so one list at a time is in memory and only the sets built from them stay."""
    import wordfreq

    for lang in WORD_LANGUAGES:
        try:
            yield lang, get_frequency_dict(lang, "small")
        finally:
            for cached in (wordfreq.get_frequency_dict, wordfreq.get_frequency_list):
                cached.cache_clear()


@lru_cache(maxsize=1)
def _common_words() -> frozenset[str]:
    words: set[str] = set()
    for lang, freqs in _small_lists():
        floor = 10 ** ((COMMON_ZIPF if lang == "en" else COMMON_ZIPF_OTHER) - 9)
        words.update(word for word, freq in freqs.items() if freq >= floor)
    return frozenset(words)  # about 2 MB


@lru_cache(maxsize=1)
def _known_words() -> np.ndarray:
    """Sorted hashes of every word of the small lists (zipf 3 and up, any of WORD_LANGUAGES): a real
    word, if not a common one. Read only when a variant's ending asks (find_variants). As a set of
    strings its 256,000 words took about 30 MB of the main process for the rest of the run; as
    64-bit hashes (str hash: one process builds and asks, so its salt is the same) they take 2 MB,
    with a chance of a false match of about 1 in 10^13 per question."""
    parts = [np.fromiter((hash(word) for word in freqs), dtype=np.int64, count=len(freqs))
             for _, freqs in _small_lists()]
    hashes = np.unique(np.concatenate(parts))
    del parts
    give_back_free_memory()  # what the lists freed stayed resident otherwise (about 10 MB)
    return hashes


def _is_known_word(word: str) -> bool:
    hashes = _known_words()
    h = hash(word)
    i = int(np.searchsorted(hashes, h))
    return i < len(hashes) and int(hashes[i]) == h


def release_word_lists() -> None:
    """Lets go of the word sets (up to about 8 MB, built again when next needed): a command that
    is done with names, such as a run before its report, gives the memory to what comes next."""
    _common_words.cache_clear()
    _known_words.cache_clear()


def is_common_word(token: str) -> bool:
    """True when `token` (any case) is a common word of one of WORD_LANGUAGES, per wordfreq."""
    return token.casefold() in _common_words()


def _is_cap(token: str) -> bool:
    return token[0].isupper() or (token[0].isdigit() and any(c.isupper() for c in token))


def _distinctive_single(token: str) -> bool:
    """A lone token counts as a name only when its shape says so: CamelCase, ACRONYM, Hyphen-Name."""
    letters = [c for c in token if c.isalpha()]
    if len(letters) < 2:
        return False
    inner_upper = any(c.isupper() for c in token[1:])
    if "-" in token or "‐" in token or "‑" in token:
        return inner_upper
    if token.isupper():
        return len(token) >= 3
    return inner_upper and any(c.islower() for c in token)


_HYPHENS = "-‐‑"
# an apostrophe inside a word ("Stu-art’h", "O'Neill"), as opposed to a possessive ending ("DeepSeek’s")
_INNER_APOSTROPHE = r"['’](?!s\b)\w"
_INNER_APOSTROPHE_AT = re.compile(_INNER_APOSTROPHE)
_SEP = r"[\s\-‐‑]+"
_UPPER = "".join(c for c in map(chr, range(0x250)) if c.isupper()) + "Α-ΩА-Я"
# A capitalized token or an initial ("J."), then more of them or numbers joined by single spaces.
_CAP = rf"(?:[{_UPPER}]\.(?= )|[{_UPPER}][\w]*(?:[-‐‑][^\W_][\w]*)*)"
_INITIAL = re.compile(r"^[^\W\d_]\.$")
# German and Nordic spellings written without their letters: Müller = Mueller, Ærø = Aeroe
_TRANSLIT = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "æ": "ae", "ø": "oe", "å": "aa",
                           "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "Æ": "Ae", "Ø": "Oe", "Å": "Aa"})
# a number ends on a word character: "Python 3." at a sentence's end is "Python 3"
_SPAN = re.compile(rf"(?<![\w-]){_CAP}(?: (?:{_CAP}|\d(?:[\w.]*\w)?(?![\w-])))*")


def candidate_names(text: str) -> list[str]:
    """Capitalized spans (2-4 tokens), distinctive single tokens and capitalized words inside a sentence."""
    out: list[str] = []
    for m in _SPAN.finditer(text):
        if _INNER_APOSTROPHE_AT.match(text, m.end()):
            continue  # "Stu-art’h" is one name, not "Stu-art" (a possessive "’s" is fine)
        toks = m.group().split(" ")
        distinct = [_distinctive_single(tok) for tok in toks]
        for tok, is_distinct in zip(toks, distinct, strict=True):
            # "AND", "WHAT", "THANK" in menus and buttons are shouted words, not acronyms
            if is_distinct and not (tok.isupper() and is_common_word(tok)):
                out.append(tok)
        while toks and (toks[0].lower() in STOPWORDS or toks[0][0].isdigit()):
            toks.pop(0)
        if all(t.isupper() and is_common_word(t) for t in toks):
            continue  # "THANK YOU", "HOME AND GARDEN": shouted words
        if 2 <= len(toks) <= _MAX_SPAN:
            out.append(" ".join(toks))
        elif (len(toks) == 1 and not distinct[-1] and toks[0][0].isupper()
              and sum(c.isalpha() for c in toks[0]) >= 3 and not _sentence_start(text, m.start())):
            # a capitalized word inside a sentence is a name ("Deepseek" beside "DeepSeek"); at a
            # sentence's start it may be any word ("Thanks", "Well"), so it is not counted there
            out.append(toks[0])
    return out


_OPENERS = " \t\"'“‘«(*•–—-"


def _sentence_start(text: str, at: int) -> bool:
    i = at - 1
    while i >= 0 and text[i] in _OPENERS:
        i -= 1
    return i < 0 or text[i] in ".!?:;|>\n"


def _plain_single(name: str) -> bool:
    """One capitalized word: a name for key collision (case, diacritics), never for an edit."""
    return " " not in name and not _distinctive_single(name)


def fingerprint(name: str, transliterate: bool = False) -> str:
    """Key-collision form: no diacritics, case, spaces or hyphens.

    Other punctuation stays: "Lutz S" / "Lutz S." and "2018" / "2018." are not spellings of one name.

    With `transliterate`, umlauts and the like are first written out ("ü" -> "ue"),
    so that "Müller" and "Mueller" share a key as "Müller" and "Muller" do without it.
    """
    if transliterate:
        name = name.translate(_TRANSLIT)
    decomposed = unicodedata.normalize("NFKD", name)
    base = "".join(c for c in decomposed if not unicodedata.combining(c))
    return "".join(c for c in base.casefold() if not (c.isspace() or c in _HYPHENS))


@dataclass
class NameStats:
    """Counts of candidate names over a corpus; mergeable across workers."""

    counts: Counter[str] = field(default_factory=Counter)
    docs: Counter[str] = field(default_factory=Counter)
    examples: dict[str, str] = field(default_factory=dict)

    def add_text(self, text: str, doc_seen: set[str] | None = None) -> None:
        for name in candidate_names(text):
            self.counts[name] += 1
            if doc_seen is not None and name not in doc_seen:
                doc_seen.add(name)
                self.docs[name] += 1
            if name not in self.examples and len(self.examples) < 200_000:
                i = text.find(name)
                self.examples[name] = text[max(0, i - 60): i + len(name) + 60].replace("\n", " ")

    def add_document(self, doc: Document) -> None:
        seen: set[str] = set()
        for part in [doc.title or "", *(p.text for p in doc.paragraphs), *(c.text for c in doc.comments)]:
            self.add_text(part, seen)

    def merge(self, other: NameStats) -> None:
        self.counts.update(other.counts)
        self.docs.update(other.docs)
        for k, v in other.examples.items():
            self.examples.setdefault(k, v)


@dataclass
class Merge:
    variant: str
    canonical: str
    rule: str  # key-collision | initials | edit-distance | alias
    variant_count: int = 0
    canonical_count: int = 0
    edit: str = ""  # what differs, e.g. "case", "hyphen", "transposition 'eg' -> 'ge' in Bridegt"

    def to_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


@dataclass
class Refusal:
    """A merge the spelling evidence suggested but a guard refused (never applied)."""

    variant: str
    canonical: str
    rule: str
    guard: str  # all-caps | headline | common-word | version | acronym | inflection | short-part | own-name
    variant_count: int = 0
    canonical_count: int = 0


def _damerau1(a: str, b: str) -> bool:
    """True when a and b differ by exactly one insertion, deletion, substitution or transposition."""
    if a == b or abs(len(a) - len(b)) > 1:
        return False
    if len(a) == len(b):
        diff = [i for i in range(len(a)) if a[i] != b[i]]
        if len(diff) == 1:
            return True
        return len(diff) == 2 and diff[1] == diff[0] + 1 and a[diff[0]] == b[diff[1]] and a[diff[1]] == b[diff[0]]
    short, long_ = (a, b) if len(a) < len(b) else (b, a)
    i = 0
    while i < len(short) and short[i] == long_[i]:
        i += 1
    return short[i:] == long_[i + 1:]


def _deletions(token: str) -> set[str]:
    return {token} | {token[:i] + token[i + 1:] for i in range(len(token))}


def _words(name: str) -> list[str]:
    return [w for w in re.split(_SEP, name) if w]


def _diff_span(a: str, b: str) -> tuple[int, int, int]:
    """Common prefix length, and where the differing middle ends in a and in b."""
    i = 0
    while i < min(len(a), len(b)) and a[i] == b[i]:
        i += 1
    ja, jb = len(a), len(b)
    while ja > i and jb > i and a[ja - 1] == b[jb - 1]:
        ja, jb = ja - 1, jb - 1
    return i, ja, jb


def _letters(name: str, transliterate: bool) -> str:
    name = re.sub(_SEP, "", name)
    if transliterate:
        name = name.translate(_TRANSLIT)
    return "".join(c for c in unicodedata.normalize("NFKD", name) if not unicodedata.combining(c))


def describe_edit(variant: str, canonical: str) -> str:
    """What a merge changes, in words: the evidence `names suggest` shows for it."""
    if fingerprint(variant, True) == fingerprint(canonical, True):
        parts = []
        if re.findall(_SEP, variant) != re.findall(_SEP, canonical):
            parts.append("spacing/hyphens")
        lv, lc = re.sub(_SEP, "", variant), re.sub(_SEP, "", canonical)
        if lv != lc:
            translit = fingerprint(variant) != fingerprint(canonical)
            if translit:
                parts.append("transliteration")
            elif lv.casefold() != lc.casefold():
                parts.append("diacritics")
            if _letters(variant, translit) != _letters(canonical, translit):
                parts.append("case")
        return ", ".join(parts) or "spelling"
    vw, cw = _words(variant), _words(canonical)
    if len(vw) == len(cw):
        pairs = [(v, c) for v, c in zip(vw, cw, strict=True) if v != c]
        if len(pairs) == 1:
            v, c = pairs[0]
            i, jv, jc = _diff_span(v, c)
            if jv - i == 2 and jc - i == 2 and v[i:jv] == c[i:jc][::-1]:
                kind = f"transposition {v[i:jv]!r} -> {c[i:jc]!r}"
            elif jv - i == 1 and jc - i == 1:
                kind = f"substitution {v[i:jv]!r} -> {c[i:jc]!r}"
            elif jv - i == 1 and jc == i:
                kind = f"deletion of {v[i:jv]!r}"
            elif jc - i == 1 and jv == i:
                kind = f"insertion of {c[i:jc]!r}"
            else:
                kind = "edit"
            return f"{kind} in {v} -> {c}"
    return "initials" if any(_INITIAL.match(w) for w in vw) else "spelling"


def _collision_guard(variant: str, canonical: str) -> str | None:
    """Why a same-letters merge would damage text (a guard's name), or None."""
    if canonical.isupper() and not variant.isupper():
        return "all-caps"  # menus and headlines shout; capitals are never a mixed-case name's spelling
    if variant.isupper() and not canonical.isupper():
        # the other way round it is a style, not a typo: a headline, a credit line, a reference key "[OAUTH]"
        return "capitals"
    if _plain_single(canonical) and len(_words(variant)) == 1:
        # a lone capitalized word is a name only to become a CamelCase brand ("Deepseek" -> "DeepSeek"):
        # German capitalizes every noun, and "Sägen" / "Sagen", "WählerIn" / "Wählerin" are different words
        return "single-word"
    if any(c.isdigit() for c in variant + canonical) and variant.casefold() != canonical.casefold():
        return "version"  # "Rs 25" / "RS-25", "MP 1" / "MP1": spacing beside a number tells models apart
    vw, cw = _words(variant), _words(canonical)
    if len(vw) == len(cw):
        changed = [(v, c) for v, c in zip(vw, cw, strict=True) if v != c]
        for v, c in changed:
            if v[0].islower() and c[0].isupper() and v[1:] == c[1:]:
                return "headline"  # "van Beethoven" is not a typo of a headline's "Van Beethoven"
        if changed and all(is_common_word(v) for v, _ in changed):
            return "common-word"  # "And" / "AND", "Wall-street" / "Wall Street": words, not a name's spelling
    else:
        split, joined = (vw, cw) if len(vw) > len(cw) else (cw, vw)
        pieces = [w for w in split if w not in joined]
        # "Online Shops" / "OnlineShops": words written apart are not a split name; "Space X",
        # "Hyla nd" and "Open AI" (a letter, a fragment, an acronym) are
        if all(len(w) > 1 and not w.isupper() and is_common_word(w) for w in pieces):
            return "compound"
    return None


_PART = re.compile(rf"[{_HYPHENS}]|(?<=[^\W\d_])(?=[A-Z])")


def _capital_run(token: str) -> bool:
    return any(a.isupper() and b.isupper() for a, b in zip(token, token[1:], strict=False))


def _edit_guard(tok: str, ctok: str) -> str | None:
    """Why replacing token `tok` by `ctok` (one edit apart) would damage text, or None."""
    if is_common_word(tok):
        return "common-word"  # "Well" / "Will", "Black" / "Back": both are words
    if _capital_run(tok) or _capital_run(ctok):
        return "acronym"  # "ISSN" / "ISBN", "USB-A" / "USB-C", "APKs" / "APIs": different things
    short, long_ = sorted((tok.casefold(), ctok.casefold()), key=len)
    ending = long_[len(short):] if long_.startswith(short) else None
    # "MacBooks" / "MacBook" is a plural; "Beklagten" / "Beklagte" too, as "Beklagte" is a word,
    # whereas "Rya" / "Ryan" (not a word) is a dropped letter
    if ending in ("s", "'s", "’s") or (ending in ("n", "e") and _is_known_word(re.split(_SEP, short)[-1])):
        return "inflection"
    i = _diff_span(tok, ctok)[0]
    if 0 < i < len(tok) and (tok[i].isupper() or ctok[i:i + 1].isupper()) and (
            tok[i - 1].isalpha() or tok[i - 1] in _HYPHENS):
        return "first-letter"  # "McBee" / "McFee": each part of a name keeps its first letter, as a name does
    # the part of the token the edit falls in must be a word, not a label: "Type-A", "X-Men"
    bounds = [0] + [m.start() for m in _PART.finditer(tok)] + [len(tok)]
    for a, b in zip(bounds, bounds[1:], strict=False):
        if a <= i < b or b == len(tok):
            if sum(c.isalpha() for c in tok[a:b]) < 3:
                return "short-part"
            break
    return None


def find_variants(stats: NameStats, config: NamesConfig | None = None,
                  refused: list[Refusal] | None = None) -> list[Merge]:
    """Variant -> canonical merges the evidence supports and no guard refuses, deterministic for given stats.

    Merges a guard refused are appended to `refused` (when given), for review; they are never returned.
    """
    config = config or NamesConfig()
    counts = stats.counts
    merges: dict[str, Merge] = {}
    refusals: dict[tuple[str, str], Refusal] = {}

    def refuse(variant: str, canonical: str, rule: str, guard: str) -> None:
        refusals.setdefault((variant, canonical), Refusal(variant, canonical, rule, guard, counts[variant],
                                                          counts[canonical]))

    def frequent_enough(canonical: str, variant: str) -> bool:
        c, v = counts[canonical], counts[variant]
        return c >= config.min_canonical_count and v <= config.max_variant_ratio * c

    # 1. key collision: same letters, different case/spacing/hyphens/diacritics (then transliteration)
    for transliterate in (False, True):
        groups: dict[str, list[str]] = {}
        for name in sorted(counts):
            groups.setdefault(fingerprint(name, transliterate), []).append(name)
        for forms in groups.values():
            if len(forms) < 2:
                continue
            # the most frequent form that is not in capitals wins (then the sorted-first form)
            canonical = max(forms, key=lambda f: (not f.isupper(), counts[f], [-ord(c) for c in f]))
            for form in forms:
                if form == canonical or form in merges or counts[canonical] < 2 * counts[form]:
                    continue
                guard = _collision_guard(form, canonical)
                if guard is None and len(_words(form)) != len(_words(canonical)) and (
                        counts[canonical] < config.min_canonical_count
                        or counts[form] > max(OWN_NAME_COUNT, OWN_NAME_SHARE * counts[canonical])):
                    guard = "own-name"  # joining or splitting words needs the evidence a typo needs
                if guard:
                    refuse(form, canonical, "key-collision", guard)
                    continue
                merges[form] = Merge(form, canonical, "key-collision", counts[form], counts[canonical],
                                     describe_edit(form, canonical))

    # 2. initials: "J. Dorn" -> "James A. Dorn" when exactly one frequent full name fits
    by_surname: dict[str, list[str]] = {}
    for name in counts:
        toks = name.split(" ")
        if len(toks) >= 2 and not _INITIAL.match(toks[0]) and counts[name] >= config.min_canonical_count:
            by_surname.setdefault(toks[-1], []).append(name)
    for name in sorted(counts):
        toks = name.split(" ")
        if name in merges or len(toks) < 2 or not all(_INITIAL.match(t) for t in toks[:-1]):
            continue
        initials = [t[0].casefold() for t in toks[:-1]]
        fits = [c for c in by_surname.get(toks[-1], [])
                if len(c.split(" ")) > len(initials)
                and [t[0].casefold() for t in c.split(" ")[: len(initials)]] == initials]
        if len(fits) == 1 and counts[fits[0]] >= counts[name]:
            merges[name] = Merge(name, fits[0], "initials", counts[name], counts[fits[0]], "initials")

    # 3. one token one edit away from a much more frequent name of the same shape
    # for each token, the counts of the two most frequent names it is part of
    token_top: dict[str, list[int]] = {}
    for name, n in counts.items():
        for tok in set(name.split(" ")):
            top = token_top.setdefault(tok, [0, 0])
            if n > top[0]:
                top[:] = [n, top[0]]
            elif n > top[1]:
                top[1] = n
    # (shape, the other tokens, a deletion of this one) -> the frequent names that have it (one name, as
    # nearly always, or a list), keyed by the tuple's hash: tuples and one-name lists, tens of thousands for
    # a few thousand names, took 12 MB for a moment. A hash that collides brings a name of another shape,
    # which the look-up below rejects.
    index: dict[int, str | list[str]] = {}
    for name in sorted(counts):
        if counts[name] < config.min_canonical_count or _plain_single(name):
            continue
        toks = name.split(" ")
        for pos, tok in enumerate(toks):
            if len(tok) < 4 or any(c.isdigit() for c in tok):
                continue
            others = tuple(toks[:pos] + toks[pos + 1:])
            for d in _deletions(tok):
                key = hash((len(toks), pos, others, d))
                held = index.setdefault(key, name)
                if held is not name:
                    if isinstance(held, str):
                        index[key] = held = [held]
                    held.append(name)
    for name in sorted(counts):
        # a lone surname one letter from another ("Cohn" / "Cohen", "Meyer" / "Mayer") is too often
        # another person: without a second token to agree on, an edit is never trusted
        if name in merges or _plain_single(name):
            continue
        toks = name.split(" ")
        found: dict[str, int] = {}
        for pos, tok in enumerate(toks):
            # 3 letters may be a 4-letter name with one dropped ("Kyle" / "Kye"); the canonical has 4 or more
            if len(tok) < 3 or any(c.isdigit() for c in tok):
                continue
            # a variant token that is part of another frequent name is a name of its own ("Lee Chang"),
            # not a typo; a typo repeated in rare names ("Matthw Brock", "Matthw Gartz") still is one
            top = token_top[tok]
            if (top[1] if top[0] == counts[name] else top[0]) >= config.min_canonical_count:
                continue
            others = tuple(toks[:pos] + toks[pos + 1:])
            for d in _deletions(tok):
                held = index.get(hash((len(toks), pos, others, d)), ())
                for cand in (held,) if isinstance(held, str) else held:
                    ctoks = cand.split(" ")
                    if len(ctoks) != len(toks) or tuple(ctoks[:pos] + ctoks[pos + 1:]) != others:
                        continue  # another shape, under a hash that collided
                    ctok = ctoks[pos]
                    if cand != name and ctok[0].lower() == tok[0].lower() and _damerau1(tok, ctok):
                        found[cand] = pos
        found = {c: pos for c, pos in found.items() if frequent_enough(c, name)}
        if not found:
            continue
        canonical = max(sorted(found), key=lambda c: counts[c])
        if len(found) > 1 and counts[canonical] < 3 * max(counts[c] for c in found if c != canonical):
            continue
        pos = found[canonical]
        guard = _edit_guard(toks[pos], canonical.split(" ")[pos])
        if guard is None and counts[name] > max(OWN_NAME_COUNT, OWN_NAME_SHARE * counts[canonical]):
            guard = "own-name"
        if guard:
            refuse(name, canonical, "edit-distance", guard)
            continue
        merges[name] = Merge(name, canonical, "edit-distance", counts[name], counts[canonical],
                             describe_edit(name, canonical))

    # a canonical form that is itself a variant points to the final form
    for m in merges.values():
        seen = {m.variant}
        while m.canonical in merges and m.canonical not in seen:
            seen.add(m.canonical)
            m.canonical = merges[m.canonical].canonical
    if refused is not None:
        refused.extend(refusals[k] for k in sorted(refusals))
    return [merges[k] for k in sorted(merges)]


def load_alias_file(path: str | Path) -> list[Merge]:
    """Read canonical -> variants from TOML or CSV.

    TOML:  "Liang Wenfeng" = ["Liang Wenfang", "Lian Wenfeng"]   (top level or under [aliases])
    CSV:   canonical,variant   (one pair a row; a header row is allowed)
    """
    path = Path(path)
    merges: list[Merge] = []
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise ConfigError(f"cannot read alias file {path}: {exc.strerror}") from exc
    if path.suffix.lower() == ".csv":
        rows = csv.reader(raw.decode("utf-8-sig").splitlines())
        for i, row in enumerate(rows):
            if len(row) < 2 or not row[0].strip() or (i == 0 and row[0].strip().lower() == "canonical"):
                continue
            merges.append(Merge(row[1].strip(), row[0].strip(), "alias"))
    else:
        try:
            data = tomllib.loads(raw.decode("utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise ConfigError(f"alias file {path} is not valid TOML: {exc}") from exc
        table = data.get("aliases", data)
        for canonical, entry in table.items():
            variants = entry.get("variants", []) if isinstance(entry, dict) else entry
            if isinstance(variants, str):
                variants = [variants]
            if not isinstance(variants, list) or not all(isinstance(v, str) for v in variants):
                raise ConfigError(f"alias file {path}: {canonical!r} must map to a list of strings")
            merges.extend(Merge(v, canonical, "alias") for v in variants if v != canonical)
    return merges


def _toml_str(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


def render_alias_file(merges: list[Merge], stats: NameStats, header: str = "",
                      refused: list[Refusal] | None = None) -> str:
    """Merges as an alias file (TOML) for review, each with its evidence: rule, counts of both forms,
    the edit and example contexts. Refused merges, if given, are listed as comments at the end."""
    by_canonical: dict[str, list[Merge]] = {}
    for m in merges:
        by_canonical.setdefault(m.canonical, []).append(m)
    lines = [f"# {line}" if line else "#" for line in header.splitlines()]
    lines += ["# Review each entry: delete variants that are different names, then apply with",
              "#   cleanpipe run INPUT... --names aliases --aliases THIS_FILE", "", "[aliases]"]
    for canonical in sorted(by_canonical, key=lambda c: (-stats.counts[c], c)):
        group = sorted(by_canonical[canonical], key=lambda m: (-stats.counts[m.variant], m.variant))
        lines.append(f"# {canonical}: {stats.counts[canonical]} times in {stats.docs[canonical]} documents")
        if canonical in stats.examples:
            lines.append(f"#   e.g. ...{stats.examples[canonical]}...")
        for m in group:
            why = f"{m.rule}: {m.edit}" if m.edit else m.rule
            lines.append(f"#   {m.variant}: {stats.counts[m.variant]} times vs {stats.counts[canonical]} ({why})"
                         + (f": ...{stats.examples[m.variant]}..." if m.variant in stats.examples else ""))
        lines.append(f"{_toml_str(canonical)} = [{', '.join(_toml_str(m.variant) for m in group)}]")
        lines.append("")
    if refused:
        lines.append("# Not merged: the spelling looked like a variant, but a guard refused it (README, names)")
        for r in sorted(refused, key=lambda r: (-r.canonical_count, r.variant)):
            lines.append(f"#   {r.variant} ({r.variant_count} times) -> {r.canonical} ({r.canonical_count} times): "
                         f"{r.rule}, refused by {r.guard}")
        lines.append("")
    return "\n".join(lines) + "\n"


def _variant_pattern(variant: str) -> str:
    # spacing and hyphens between tokens may vary; nothing may touch the name on either side
    return _SEP.join(re.escape(t) for t in re.split(_SEP, variant.strip()))


def _fold(name: str) -> str:
    return re.sub(_SEP, " ", name).casefold()


class NameNormalizer:
    """Applies merges to a document's title, paragraphs and comments.

    Matching ignores the spacing or hyphens between words, respects word
    boundaries, and skips e-mail addresses and URLs. A merge found in the corpus
    rewrites only the spelling it was found as, case included: "WELL" -> "WILL"
    (were it ever allowed) must not reach "Well". An alias file's entries, which
    a person reviewed, also match other cases, except that an all-lowercase
    occurrence matches only an all-lowercase variant: an alias for "Apple"
    must not rewrite the fruit, and "openai" in running text is usually a handle.
    """

    name = "names"

    def __init__(self, merges: Iterable[Merge]):
        self.merges = {m.variant: m for m in merges}
        self._exact = {re.sub(_SEP, " ", v): m for v, m in self.merges.items()}
        self._lookup = {_fold(v): m for v, m in self.merges.items() if m.rule == "alias"}
        if self.merges:
            alternatives = sorted(self.merges, key=len, reverse=True)
            body = "|".join(_variant_pattern(v) for v in alternatives)
            self._pattern: re.Pattern[str] | None = re.compile(
                rf"(?<![\w@/.\-])(?<!\w['’])(?:{body})(?![\w@\-]|\.\w|{_INNER_APOSTROPHE})", re.IGNORECASE)
        else:
            self._pattern = None

    def _replace(self, text: str, base: int, field_name: str, log: dict) -> str:
        if self._pattern is None or not text:
            return text
        out, last, shift = [], 0, 0
        for m in self._pattern.finditer(text):
            found = m.group()
            merge = self._exact.get(re.sub(_SEP, " ", found)) or self._lookup.get(_fold(found))
            if merge is None or found == merge.canonical:
                continue
            if found.islower() and not merge.variant.islower():
                continue
            # leave names inside URLs and e-mail addresses alone
            ws_start = max(text.rfind(" ", 0, m.start()), text.rfind("\n", 0, m.start())) + 1
            ws_end = len(text) if (e := text.find(" ", m.end())) < 0 else e
            chunk = text[ws_start:ws_end]
            if "@" in chunk or "://" in chunk or chunk.startswith("www."):
                continue
            out.append(text[last:m.start()])
            start = base + m.start() + shift
            out.append(merge.canonical)
            shift += len(merge.canonical) - len(found)
            last = m.end()
            entry = log.setdefault((field_name, found, merge.canonical), {
                "field": field_name, "from": found, "to": merge.canonical, "rule": merge.rule,
                "count": 0, "offsets": []})
            entry["count"] += 1
            entry["offsets"].append([start, start + len(merge.canonical)])
        out.append(text[last:])
        return "".join(out)

    def process(self, doc: Document) -> Document:
        log: dict = {}
        if doc.title:
            doc.title = self._replace(doc.title, 0, "title", log)
        offset = 0
        for para in doc.paragraphs:
            para.text = self._replace(para.text, offset, "text", log)
            offset += len(para.text) + 2  # paragraphs are joined by a blank line
        for comment in doc.comments:
            comment.text = self._replace(comment.text, 0, f"comments/{comment.id}", log)
        doc.stages.append({"stage": "names", "replacements": list(log.values())})
        return doc
