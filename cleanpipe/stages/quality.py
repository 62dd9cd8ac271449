"""Quality signals and the filters that use them: is what the stripper kept prose, and in which language?

Every signal is a number (or a language code) stored under `quality` in the record, so a
user can filter later without re-running. The definitions follow the papers they come from:

* Gopher quality and repetition: Rae et al. 2021, "Scaling Language Models: Methods,
  Analysis & Insights from Training Gopher", appendix A.1.1 and table A1.
* C4: Raffel et al. 2020, "Exploring the Limits of Transfer Learning with a Unified
  Text-to-Text Transformer", section 2.2.
* FineWeb: Penedo et al. 2024, "The FineWeb Datasets", section 3.5 (custom filters).

A preset is a set of thresholds over these signals; a document (or a comment, for the
signals that mean something on short text) that falls outside one is rejected with the rule,
the value and the threshold. `annotate` computes the signals and rejects nothing.

Words: `words()` below. Scripts written with spaces are split on runs of letters and digits
(with inner apostrophes, hyphens and digit separators kept in the word) and runs of
punctuation (each run one token, as Gopher's symbol ratios need them counted); scripts written
without spaces (Han, kana, Thai, Lao, Khmer, Myanmar) give one word per character, a
character-based fallback that needs no dictionary.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import numpy as np

from cleanpipe.config import QualityConfig
from cleanpipe.model import Document, Reject
from cleanpipe.stages.langid import identify

# -- words and stop words -----------------------------------------------------------------------
# scripts written without spaces between words: one character is one word
_NO_SPACE = ("\u0e00-\u0e7f\u0e80-\u0eff\u1000-\u109f\u1780-\u17ff"  # Thai, Lao, Myanmar, Khmer
             "\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\U00020000-\U0002fa1f")  # kana, Han
_WORD_RE = re.compile(
    rf"[{_NO_SPACE}]"                                   # one character of an unspaced script
    r"|\d+(?:[.,:]\d+)+"                                # 3.5, 1,000, 10:30
    rf"|[^\W{_NO_SPACE}]+(?:['’\-][^\W{_NO_SPACE}]+)*"  # don't, well-known
    r"|[^\w\s]+"                                        # a run of punctuation or symbols
)
_ALNUM_RE = re.compile(r"\w")
_ALPHA_RE = re.compile(r"[^\W\d_]")  # a letter


def words(text: str) -> list[str]:
    """The word tokens of `text` in any script (see the module docstring)."""
    return _WORD_RE.findall(text)


@lru_cache(maxsize=64)
def stop_words(language: str) -> frozenset[str]:
    """The stop-word list of `language` (ISO 639-1) from stopwordsiso; empty when it has none."""
    import stopwordsiso  # lists for 58 languages, shipped inside the wheel

    if not language or not stopwordsiso.has_lang(language):
        return frozenset()
    return frozenset(w.lower() for w in stopwordsiso.stopwords(language))


def identify_language(text: str) -> tuple[str, float]:
    """(ISO code, score) of `text`; the one place the quality layer asks for a language."""
    return identify(text)


# -- signals -------------------------------------------------------------------------------------
BULLETS = ("•", "-", "*", "·", "‣", "◦", "–", "—", "→", "►", "▪")  # Gopher: "lines starting with a bullet point"
ELLIPSES = ("...", "…")
# FineWeb's "lines ending with punctuation": marks that end a sentence, in many scripts (Latin,
# Armenian, Arabic, Syriac, Devanagari, Myanmar, Ethiopic, Khmer, Mongolian, CJK); as in the FineWeb
# release, a closing quote, bracket or "…" is not one
TERMINAL = tuple(".!?։؝؞؟۔܀܁܂।॥၊။።፧፨។៕᠃᠉‼‽⁇⁈⁉。！？｡")
C4_END = (".", "?", "!", '"', "'")  # C4 keeps lines that end in "a terminal punctuation mark"
C4_POLICY = ("terms of use", "privacy policy", "cookie policy", "uses cookies", "use of cookies", "use cookies")
_CITATION = re.compile(r"\[\d*\]|\[edit\]|\[citation needed\]", re.IGNORECASE)
_SENTENCE_END = re.compile(r"[.!?…。！？]+[\"'”’)\]]*(?=\s|$)")
SHORT_LINE = 30  # FineWeb: a line of at most this many characters is short
TOP_NGRAMS = (2, 3, 4)
DUP_NGRAMS = (5, 6, 7, 8, 9, 10)


def _duplicates(items: list[str]) -> tuple[int, int]:
    """(how many items repeat an earlier one, their characters)."""
    seen: set[str] = set()
    count = chars = 0
    for item in items:
        if item in seen:
            count += 1
            chars += len(item)
        else:
            seen.add(item)
    return count, chars


def _top_ngram_chars(tokens: list[str], n: int) -> int:
    """Characters (of its words) times occurrences of the most frequent n-gram, if it repeats."""
    if len(tokens) < n:
        return 0
    grams = Counter(zip(*(tokens[i:] for i in range(n)), strict=False))
    gram, count = grams.most_common(1)[0]
    return sum(map(len, gram)) * count if count > 1 else 0


def _dup_ngram_chars(tokens: list[str], lengths: np.ndarray, n: int) -> int:
    """Characters of the words covered by an n-gram that already occurred earlier (each word once)."""
    if len(tokens) < 2 * n:
        return 0
    grams = list(zip(*(tokens[i:] for i in range(n)), strict=False))
    last = len(grams) - 1
    first = dict(zip(reversed(grams), range(last, -1, -1), strict=True))  # earliest start of each n-gram
    if len(first) == len(grams):  # nothing repeats (the usual case for prose)
        return 0
    starts = np.fromiter(map(first.__getitem__, grams), dtype=np.int64, count=len(grams))
    repeated = np.flatnonzero(starts != np.arange(len(grams)))
    # words covered by a repeated n-gram: +1 where one starts, -1 n words later, then a running sum
    edges = np.zeros(len(tokens) + 1, dtype=np.int64)
    np.add.at(edges, repeated, 1)
    np.add.at(edges, repeated + n, -1)
    return int(lengths[np.cumsum(edges[:-1]) > 0].sum())


def _ratio(num: float, den: float) -> float:
    return round(num / den, 6) if den else 0.0


def text_signals(text: str, language: str) -> dict[str, Any]:
    """Every per-text signal of `text`, whose language is `language` (see README for each)."""
    toks = words(text)
    n_words = len(toks)
    lines = [ln for ln in text.split("\n") if ln.strip()]
    n_lines = len(lines)
    paragraphs = [p for p in re.split(r"\n\s*\n", text.strip()) if p.strip()]
    # tokens that are not only punctuation: every other kind of token starts with a letter or digit
    wordlike = [t for t in toks if _ALNUM_RE.match(t)]
    stops = stop_words(language)
    total = len(text)
    s: dict[str, Any] = {}
    # Gopher quality
    s["words"] = len(wordlike)
    s["mean_word_length"] = round(sum(map(len, wordlike)) / len(wordlike), 4) if wordlike else 0.0
    s["hash_word_ratio"] = _ratio(text.count("#"), n_words)
    s["ellipsis_word_ratio"] = _ratio(text.count("...") + text.count("…"), n_words)
    s["bullet_lines"] = _ratio(sum(ln.lstrip().startswith(BULLETS) for ln in lines), n_lines)
    s["ellipsis_lines"] = _ratio(sum(ln.rstrip().endswith(ELLIPSES) for ln in lines), n_lines)
    s["alpha_words"] = _ratio(sum(1 for t in wordlike if t.isalpha() or _ALPHA_RE.search(t)), n_words)
    # Gopher: "at least two of" the stop words, so distinct ones are counted
    s["stop_words"] = len(stops.intersection(map(str.lower, wordlike))) if stops else None
    # Gopher repetition
    dup_p, dup_p_chars = _duplicates(paragraphs)
    dup_l, dup_l_chars = _duplicates(lines)
    s["dup_paragraphs"] = _ratio(dup_p, len(paragraphs))
    s["dup_paragraph_chars"] = _ratio(dup_p_chars, total)
    s["dup_lines"] = _ratio(dup_l, n_lines)
    s["dup_line_chars"] = _ratio(dup_l_chars, total - text.count("\n"))
    for n in TOP_NGRAMS:
        s[f"top_{n}gram_chars"] = _ratio(_top_ngram_chars(wordlike, n), total)
    lengths = np.fromiter(map(len, wordlike), dtype=np.int64, count=len(wordlike))
    chars = 1
    for n in DUP_NGRAMS:  # no repeated n-gram: no repeated longer one either
        chars = _dup_ngram_chars(wordlike, lengths, n) if chars else 0
        s[f"dup_{n}gram_chars"] = _ratio(chars, total)
    # C4 as released: its line filter keeps lines that end in terminal punctuation (not an
    # ellipsis), have 3+ words and no word over 1,000 characters; of those, lines naming javascript
    # or a policy are dropped, and lorem ipsum or "{" in one drops the page. The text is left as is.
    js = policy = punct = sentences = 0
    lorem = curly = 0
    for raw in lines:
        line = raw.strip()
        parts = line.split()
        if any(len(w) > 1000 for w in parts):
            continue
        line = _CITATION.sub("", line)
        if not line.endswith(C4_END) or line.endswith("..."):
            continue
        punct += 1
        if len(parts) < 3:
            continue
        low = line.lower()
        lorem |= "lorem ipsum" in low
        if "javascript" in low:
            js += 1
            continue
        curly |= "{" in line
        if any(p in low for p in C4_POLICY):
            policy += 1
            continue
        sentences += max(1, len(_SENTENCE_END.findall(line)))  # a kept line is at least one sentence
    s["c4_punct_lines"] = _ratio(punct, n_lines)
    s["c4_javascript_lines"] = js
    s["c4_policy_lines"] = policy
    s["c4_lorem_ipsum"] = int(lorem)
    s["c4_curly_bracket"] = int(curly)
    s["c4_sentences"] = sentences
    # FineWeb
    s["punct_lines"] = _ratio(sum(ln.rstrip().endswith(TERMINAL) for ln in lines), n_lines)
    s["short_lines"] = _ratio(sum(len(ln.strip()) <= SHORT_LINE for ln in lines), n_lines)
    s["list_lines"] = _ratio(n_lines, len(wordlike))
    return s


# -- presets --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Rule:
    signal: str
    # kept while: min value >= t | max value <= t | above value > t | below value < t
    bound: str
    threshold: float

    def fails(self, value: Any) -> bool:
        if value is None:  # a signal that does not apply (no stop-word list for this language)
            return False
        return not _KEEPS[self.bound](value, self.threshold)


_KEEPS: dict[str, Callable[[float, float], bool]] = {
    "min": lambda v, t: v >= t, "max": lambda v, t: v <= t,
    "above": lambda v, t: v > t, "below": lambda v, t: v < t,
}


def _rules(mins: dict[str, float], maxes: dict[str, float], above: dict[str, float] | None = None,
           below: dict[str, float] | None = None) -> tuple[Rule, ...]:
    groups = {"min": mins, "max": maxes, "above": above or {}, "below": below or {}}
    return tuple(Rule(k, bound, v) for bound, table in groups.items() for k, v in table.items())


PRESETS: dict[str, tuple[Rule, ...]] = {
    # Gopher, table A1 and A.1.1 (the paper's inequalities: a doc is removed *above* a max)
    "gopher": _rules(
        {"words": 50, "mean_word_length": 3, "alpha_words": 0.8, "stop_words": 2},
        {"words": 100_000, "mean_word_length": 10, "hash_word_ratio": 0.1, "ellipsis_word_ratio": 0.1,
         "bullet_lines": 0.9, "ellipsis_lines": 0.3,
         "dup_lines": 0.3, "dup_paragraphs": 0.3, "dup_line_chars": 0.2, "dup_paragraph_chars": 0.2,
         "top_2gram_chars": 0.2, "top_3gram_chars": 0.18, "top_4gram_chars": 0.16,
         "dup_5gram_chars": 0.15, "dup_6gram_chars": 0.14, "dup_7gram_chars": 0.13,
         "dup_8gram_chars": 0.12, "dup_9gram_chars": 0.11, "dup_10gram_chars": 0.10}),
    # C4, section 2.2 and its released code: pages with lorem ipsum or a curly bracket in a line
    # it keeps go, and pages with fewer than 5 sentences in the lines it keeps
    "c4": _rules({"c4_sentences": 5}, {"c4_lorem_ipsum": 0, "c4_curly_bracket": 0}),
    # FineWeb, section 3.5: removed when <= 12% of lines end in punctuation, >= 67% of lines
    # are short, >= 10% of characters are in duplicated lines; list-like pages (more than 0.3
    # lines per word) as in the FineWeb release's filter
    "fineweb": _rules({}, {"list_lines": 0.3}, above={"punct_lines": 0.12},
                      below={"short_lines": 0.67, "dup_line_chars": 0.1}),
}
# signals that mean something on a comment of a few words
COMMENT_SIGNALS = frozenset({"hash_word_ratio", "ellipsis_word_ratio", "dup_lines", "dup_line_chars",
                             "top_2gram_chars", "top_3gram_chars", "top_4gram_chars"} |
                            {f"dup_{n}gram_chars" for n in DUP_NGRAMS})
SIGNALS = frozenset(text_signals("a b. c", "en"))
MODES = ("off", "annotate", "custom", *PRESETS)


def rules_for(config: QualityConfig) -> tuple[Rule, ...]:
    """The preset's rules with the config's own thresholds on top ("custom": the config's alone)."""
    if config.mode in ("off", "annotate"):
        return ()
    base = {(r.signal, r.bound): r for r in PRESETS.get(config.mode, ())}
    for rule in _rules(config.min, config.max):
        base[(rule.signal, rule.bound)] = rule
    return tuple(base.values())


# -- the stage -----------------------------------------------------------------------------------
@dataclass
class QualityFilter:
    """Per-document stage: signals under doc.quality; documents and comments outside the rules rejected."""

    config: QualityConfig
    identify: Callable[[str], tuple[str, float]] = identify_language
    name: str = "quality"
    rules: tuple[Rule, ...] = field(init=False)

    def __post_init__(self) -> None:
        self.rules = rules_for(self.config)
        self.languages = frozenset(self.config.languages)
        # load the language model and a stop-word list now: a worker builds its stages before its
        # --doc-timeout budget starts, so the first page is not charged for the loading
        self.identify("warm up")
        stop_words("en")

    def _reject(self, doc: Document, kind: str, reason: str, detail: str, **extra: Any) -> Reject:
        return Reject(kind=kind, reason=reason, detail=detail, path=doc.source.path,
                      record=doc.source.record, doc_id=doc.id, extra=extra)

    def _language_fails(self, language: str, score: float) -> tuple[str, Any, Any] | None:
        """(rule, value, threshold) of the language filter, or None when it passes."""
        if not self.languages:
            return None
        if language not in self.languages:
            return "languages", language, sorted(self.languages)
        if score < self.config.min_language_score:
            return "min_language_score", round(score, 4), self.config.min_language_score
        return None

    def process(self, doc: Document) -> Document | Reject:
        text = doc.text
        language, score = self.identify(text) if text.strip() else ("und", 0.0)
        signals: dict[str, Any] = {"language": language, "language_score": round(score, 4)}
        if doc.comments:
            c_lang, c_score = self.identify("\n".join(c.text for c in doc.comments))
            signals.update(comments_language=c_lang, comments_language_score=round(c_score, 4))
        signals.update(text_signals(text, language))
        doc.quality = signals
        if text.strip():  # a page of comments only is judged by its comments
            # is it prose first: word salad often also gets a low language score, and "quality" says more
            for rule in self.rules:
                if rule.fails(signals.get(rule.signal)):
                    return self._reject(
                        doc, "document", "quality",
                        f"{rule.signal} = {signals[rule.signal]} ({rule.bound} {rule.threshold}, {self.config.mode})",
                        rule=rule.signal, value=signals[rule.signal], threshold=rule.threshold,
                        bound=rule.bound, preset=self.config.mode)
            if (fail := self._language_fails(language, score)) is not None:
                rule_name, value, threshold = fail
                return self._reject(doc, "document", "language", f"{rule_name}: {value} (wanted {threshold})",
                                    rule=rule_name, value=value, threshold=threshold, score=round(score, 4))
        if doc.comments and (self.rules or self.languages):
            self._judge_comments(doc)
        return doc

    def _judge_comments(self, doc: Document) -> None:
        """Drop comments outside the comment-sized rules; each goes to the stage log for its reject."""
        kept, dropped = [], []
        comment_rules = [r for r in self.rules if r.signal in COMMENT_SIGNALS]
        for comment in doc.comments:
            verdict = None
            if self.languages and len(words(comment.text)) >= self.config.comment_language_min_words:
                lang, sc = self.identify(comment.text)
                if (fail := self._language_fails(lang, sc)) is not None:
                    verdict = {"reason": "language", "rule": fail[0], "value": fail[1], "threshold": fail[2]}
            if verdict is None and comment_rules:
                sig = text_signals(comment.text, doc.quality.get("comments_language", "und") if doc.quality else "und")
                for rule in comment_rules:
                    if rule.fails(sig[rule.signal]):
                        verdict = {"reason": "quality", "rule": rule.signal, "value": sig[rule.signal],
                                   "threshold": rule.threshold, "bound": rule.bound}
                        break
            if verdict is None:
                kept.append(comment)
            else:
                dropped.append({"id": comment.id, "text": comment.text, **verdict})
        if dropped:
            doc.comments = kept
            doc.stages.append({"stage": "quality", "dropped_comments": dropped})


def quality_rejects(doc: Document) -> list[Reject]:
    """The comments the quality stage dropped from `doc`, as rejects (kind "comment")."""
    out = []
    for entry in doc.stages:
        if entry.get("stage") != "quality":
            continue
        for d in entry.get("dropped_comments", []):
            extra = {k: v for k, v in d.items() if k != "reason"}
            out.append(Reject(kind="comment", reason=d["reason"], path=doc.source.path, record=doc.source.record,
                              doc_id=doc.id, detail=f"{d['rule']}: {d['value']} (threshold {d['threshold']})",
                              extra=extra))
    return out
