"""Names stage: one canonical spelling per person or organisation.

Two sources of variant -> canonical mappings:

* an alias file a person wrote or reviewed (TOML or CSV, see `load_alias_file`);
* variants found in the corpus itself (`NameStats` collects candidate names in
  a first pass, `find_variants` clusters them): first key collision on a
  fingerprint that ignores case, spaces, hyphens and diacritics ("High Flyer" /
  "High-Flyer"), then one-token edit-distance neighbours ("Liang Wenfang" /
  "Liang Wenfeng", "DeekSeek" / "DeepSeek"). A variant is merged only into a
  much more frequent form; tokens with digits ("V3", "GPT-4"), tokens whose
  first letter differs ("Zhang" / "Chang") and variants that are frequent
  themselves are never merged.

`NameNormalizer` applies a mapping to a document and records every change
with its character offsets in the output text.
"""

from __future__ import annotations

import csv
import re
import sys
import unicodedata
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .config import ConfigError, NamesConfig
from .lines import STOPWORDS
from .model import Document

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib

_MAX_SPAN = 4


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


_UPPER = "".join(c for c in map(chr, range(0x250)) if c.isupper()) + "Α-ΩА-Я"
# A capitalized token or an initial ("J."), then more of them or numbers joined by single spaces.
_CAP = rf"(?:[{_UPPER}]\.(?= )|[{_UPPER}][\w]*(?:[-‐‑][^\W_][\w]*)*)"
_INITIAL = re.compile(r"^[^\W\d_]\.$")
# German and Nordic spellings written without their letters: Müller = Mueller, Ærø = Aeroe
_TRANSLIT = str.maketrans({"ä": "ae", "ö": "oe", "ü": "ue", "ß": "ss", "æ": "ae", "ø": "oe", "å": "aa",
                           "Ä": "Ae", "Ö": "Oe", "Ü": "Ue", "Æ": "Ae", "Ø": "Oe", "Å": "Aa"})
_SPAN = re.compile(rf"(?<![\w-]){_CAP}(?: (?:{_CAP}|\d[\w.]*(?![\w-])))*")


def candidate_names(text: str) -> list[str]:
    """Capitalized spans (2-4 tokens) and distinctive single tokens, in order of appearance."""
    out: list[str] = []
    for m in _SPAN.finditer(text):
        toks = m.group().split(" ")
        for tok in toks:
            if _distinctive_single(tok):
                out.append(tok)
        while toks and (toks[0].lower() in STOPWORDS or toks[0][0].isdigit()):
            toks.pop(0)
        if 2 <= len(toks) <= _MAX_SPAN:
            out.append(" ".join(toks))
    return out


def fingerprint(name: str, transliterate: bool = False) -> str:
    """Key-collision form: no diacritics, case, spaces, hyphens or punctuation.

    With `transliterate`, umlauts and the like are first written out ("ü" -> "ue"),
    so that "Müller" and "Mueller" share a key as "Müller" and "Muller" do without it.
    """
    if transliterate:
        name = name.translate(_TRANSLIT)
    decomposed = unicodedata.normalize("NFKD", name)
    base = "".join(c for c in decomposed if not unicodedata.combining(c))
    return "".join(c for c in base.casefold() if c.isalnum())


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
    rule: str  # key-collision | edit-distance | alias
    variant_count: int = 0
    canonical_count: int = 0

    def to_dict(self) -> dict[str, Any]:
        return self.__dict__.copy()


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


def find_variants(stats: NameStats, config: NamesConfig | None = None) -> list[Merge]:
    """Variant -> canonical merges the evidence supports, deterministic for given stats."""
    config = config or NamesConfig()
    counts = stats.counts
    merges: dict[str, Merge] = {}

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
            # most frequent wins; on a tie prefer mixed case over ALL CAPS, then the sorted-first form
            canonical = max(forms, key=lambda f: (counts[f], not f.isupper(), [-ord(c) for c in f]))
            for form in forms:
                if form != canonical and form not in merges and counts[canonical] >= 2 * counts[form]:
                    merges[form] = Merge(form, canonical, "key-collision", counts[form], counts[canonical])

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
            merges[name] = Merge(name, fits[0], "initials", counts[name], counts[fits[0]])

    # 3. one token one edit away from a much more frequent name of the same shape
    token_freq: Counter[str] = Counter()
    for name, n in counts.items():
        for tok in name.split(" "):
            token_freq[tok] += n
    index: dict[tuple, list[str]] = {}
    for name in sorted(counts):
        if counts[name] < config.min_canonical_count:
            continue
        toks = name.split(" ")
        for pos, tok in enumerate(toks):
            if len(tok) < 4 or any(c.isdigit() for c in tok):
                continue
            others = tuple(toks[:pos] + toks[pos + 1:])
            for d in _deletions(tok):
                index.setdefault((len(toks), pos, others, d), []).append(name)
    for name in sorted(counts):
        if name in merges:
            continue
        toks = name.split(" ")
        found: set[str] = set()
        for pos, tok in enumerate(toks):
            if len(tok) < 4 or any(c.isdigit() for c in tok):
                continue
            # a variant token that is common on its own is a different name, not a typo
            if token_freq[tok] > counts[name] + 1:
                continue
            others = tuple(toks[:pos] + toks[pos + 1:])
            for d in _deletions(tok):
                for cand in index.get((len(toks), pos, others, d), ()):
                    ctok = cand.split(" ")[pos]
                    if cand != name and ctok[0].lower() == tok[0].lower() and _damerau1(tok, ctok):
                        found.add(cand)
        found = {c for c in found if frequent_enough(c, name)}
        if found:
            canonical = max(sorted(found), key=lambda c: counts[c])
            if len(found) == 1 or counts[canonical] >= 3 * max(counts[c] for c in found if c != canonical):
                merges[name] = Merge(name, canonical, "edit-distance", counts[name], counts[canonical])

    # a canonical form that is itself a variant points to the final form
    for m in merges.values():
        seen = {m.variant}
        while m.canonical in merges and m.canonical not in seen:
            seen.add(m.canonical)
            m.canonical = merges[m.canonical].canonical
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


def render_alias_file(merges: list[Merge], stats: NameStats, header: str = "") -> str:
    """Merges as an alias file (TOML) for review: one canonical per entry, with counts and contexts."""
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
            lines.append(f"#   {m.variant}: {stats.counts[m.variant]} times ({m.rule})"
                         + (f": ...{stats.examples[m.variant]}..." if m.variant in stats.examples else ""))
        lines.append(f"{_toml_str(canonical)} = [{', '.join(_toml_str(m.variant) for m in group)}]")
        lines.append("")
    return "\n".join(lines) + "\n"


_SEP = r"[\s\-‐‑]+"


def _variant_pattern(variant: str) -> str:
    # spacing and hyphens between tokens may vary; nothing may touch the name on either side
    return _SEP.join(re.escape(t) for t in re.split(_SEP, variant.strip()))


def _fold(name: str) -> str:
    return re.sub(_SEP, " ", name).casefold()


class NameNormalizer:
    """Applies merges to a document's title, paragraphs and comments.

    Matching ignores case and the spacing or hyphens between words, respects
    word boundaries, and skips e-mail addresses and URLs. An all-lowercase
    occurrence matches only an all-lowercase variant: an alias for "Apple"
    must not rewrite the fruit, and "openai" in running text is usually a handle.
    """

    name = "names"

    def __init__(self, merges: Iterable[Merge]):
        self.merges = {m.variant: m for m in merges}
        self._lookup = {_fold(v): m for v, m in self.merges.items()}
        if self.merges:
            alternatives = sorted(self.merges, key=len, reverse=True)
            body = "|".join(_variant_pattern(v) for v in alternatives)
            self._pattern: re.Pattern[str] | None = re.compile(
                rf"(?<![\w@/.\-])(?:{body})(?![\w@\-]|\.\w)", re.IGNORECASE)
        else:
            self._pattern = None

    def _replace(self, text: str, base: int, field_name: str, log: dict) -> str:
        if self._pattern is None or not text:
            return text
        out, last, shift = [], 0, 0
        for m in self._pattern.finditer(text):
            found = m.group()
            merge = self._lookup.get(_fold(found))
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
