"""Flattened page text: a line too long to judge whole is cut where its sentences end.

Some crawlers and tools write a page's text on one line (BeautifulSoup's
`get_text(" ")`, JSON lines whose "text" lost its newlines): menus, article and
footer together. The text cleaner judges lines, so on such a page it can only keep
or drop everything (on the dev set's pages flattened this way it kept the menus
with the article, token precision 0.49, and dropped six pages whole). Cutting the
overlong lines at sentence ends gives it lines to judge again: a menu is one long
run of words without a full stop, the story a series of sentences.

The cut is undone in what the cleaner returns: its line numbers are those of the
text it was given, and the kept pieces of one line form one paragraph again (the
line itself where nothing of it was dropped), so a page whose long lines are all
prose comes out as it would uncut.
"""

from __future__ import annotations

import re
from itertools import groupby
from typing import Any

from cleanpipe.model import PREVIEW_CHARS, Paragraph

# Longer than this, a line is cut. Paragraphs of a story rarely reach it (and one that is cut comes back
# whole when all of it is kept); a flattened page's single line is hundreds of words long.
MAX_LINE_WORDS = 150
# ... on a page with this share of its words on such lines. Pages written line by line can have their story on
# one long line (two of the dev set's 181 pages: 51% and 61% of their words) beside a hundred lines of menus;
# cut, the story's sentences pulled the menus into the region the cleaner keeps.
FLATTENED_SHARE = 0.8

# A sentence ends at . ! ? or an ellipsis (closing quotes and brackets may follow) before a space, where what
# follows is not a lowercase letter ("e.g. this" goes on); at a CJK full stop, ! or ? whatever follows.
_SENTENCE_END = re.compile(r"[.!?\u2026][\"'\u201d\u2019)\]]?[ \t]+|[\u3002\uff01\uff1f][ \t]*")


class Cut:
    """A text with its overlong lines cut into sentences, and the way back to the text's own lines."""

    def __init__(self, text: str, max_words: int = MAX_LINE_WORDS):
        self.original = text
        pieces: list[str] = []
        self.line_of: list[int] = []  # 1-based line of `text` for each line of `self.text`
        self.cut = False
        lines = text.split("\n")
        flattened = _flattened(lines, max_words)
        for no, line in enumerate(lines, start=1):
            parts = _sentences(line) if no in flattened else [line]
            self.cut |= len(parts) > 1
            pieces.extend(parts)
            self.line_of.extend([no] * len(parts))
        self.text = "\n".join(pieces) if self.cut else text

    def line(self, no: int) -> int:
        """The line of the original text that line `no` (1-based) of the cut text is part of."""
        return self.line_of[no - 1] if self.cut else no

    def lines(self, span: list[int] | None) -> list[int] | None:
        return None if span is None else [self.line(span[0]), self.line(span[1])]

    def restore_sentences(self, paragraphs: list[Paragraph], removed: list[dict[str, Any]],
                          ) -> tuple[list[Paragraph], list[dict[str, Any]]]:
        """Pieces of a cut line that the cleaner dropped by position or by the line model alone, but
        that end a sentence and stand next to a kept piece of the same line, kept again (and then
        their neighbours, and so on); in the cut text's numbering, before `paragraphs` and `lines`
        map it back.

        The cleaner judges a page's lines by their neighbours, and a story cut into its sentences
        has sentences at its ends that it takes for the page's edges: on 1,225 single-line
        paragraphs of over 150 words (the Leipzig corpora's sentences, 75 languages) 139 lost more
        than a tenth of their words; grown back, 2 (1 judged uncut). A menu or footer is not a
        sentence and stops the growth, so the teasers beyond it stay dropped."""
        if not self.cut:
            return paragraphs, removed
        pieces = self.text.split("\n")
        kept = {p.source_lines[0] for p in paragraphs if p.source_lines and p.source_lines[0] == p.source_lines[1]}
        candidates = {no for span in removed if span.get("reason") in RESTORABLE and span.get("lines")
                      for no in range(span["lines"][0], span["lines"][1] + 1) if _is_sentence(pieces[no - 1])}
        # outwards from every kept piece, one step at a time: each piece is looked at once
        restored: set[int] = set()
        frontier = sorted(kept)
        while frontier:
            at = frontier.pop()
            for near in (at - 1, at + 1):
                if near in candidates and near not in restored and self.line_of[near - 1] == self.line_of[at - 1]:
                    restored.add(near)
                    frontier.append(near)
        if not restored:
            return paragraphs, removed
        spans: list[dict[str, Any]] = []
        for span in removed:
            lines = span.get("lines")
            if not lines or not restored & set(range(lines[0], lines[1] + 1)):
                spans.append(span)
                continue
            rest = [no for no in range(lines[0], lines[1] + 1) if no not in restored]
            for _, run in groupby(enumerate(rest), key=lambda pair: pair[1] - pair[0]):
                nos = [no for _, no in run]
                preview = span.get("preview") if nos[0] == lines[0] else pieces[nos[0] - 1].strip()[:PREVIEW_CHARS]
                spans.append({**span, "lines": [nos[0], nos[-1]], "preview": preview})
        back = [Paragraph(pieces[no - 1].strip(), [no, no]) for no in sorted(restored)]
        return (sorted(paragraphs + back, key=lambda p: (p.source_lines or [0])[0]),
                sorted(spans, key=lambda sp: (sp.get("lines") or [0])[0]))

    def paragraphs(self, paragraphs: list[Paragraph]) -> list[Paragraph]:
        """The cleaner's paragraphs in the original's lines; the kept pieces of one line joined again."""
        if not self.cut:
            return paragraphs
        lines = self.original.split("\n")
        out: list[Paragraph] = []
        for span, group in groupby(paragraphs, key=lambda p: tuple(self.lines(p.source_lines) or ())):
            kept = list(group)
            if len(kept) == 1 or not span or span[0] != span[1]:
                out.extend(Paragraph(p.text, self.lines(p.source_lines), p.kind) for p in kept)
                continue
            whole = lines[span[0] - 1].strip()
            text = " ".join(p.text for p in kept)
            # all of the line kept: the line as it was (its own spacing between the sentences)
            same = " ".join(whole.split()) == " ".join(text.split())
            out.append(Paragraph(whole if same else text, list(span), kept[0].kind))
        return out


def _flattened(lines: list[str], max_words: int) -> set[int]:
    """Lines (1-based) to cut: those over `max_words` words, on a page that has nearly all of its words on
    such lines (FLATTENED_SHARE). A page written line by line keeps its long lines whole."""
    if all(len(line) <= max_words for line in lines):  # a word takes at least a character and a space
        return set()
    words = [len(line.split()) for line in lines]
    long = {no for no, count in enumerate(words, start=1) if count > max_words}
    in_long = sum(words[no - 1] for no in long)
    return long if long and in_long >= FLATTENED_SHARE * sum(words) else set()


def _sentences(line: str) -> list[str]:
    parts, start = [], 0
    for end in _SENTENCE_END.finditer(line):
        after = line[end.end():end.end() + 1]
        if after and not after.islower():
            parts.extend(_menu_first(line[start:end.end()].rstrip(" \t")))
            start = end.end()
    parts.extend(_menu_first(line[start:]))
    parts = [part for part in parts if part.strip()]
    return parts or [line]


# Dropped pieces of a cut line that are kept again when they are whole sentences (restore_sentences): those the
# cleaner dropped for where they stand or by the line model's say alone, not for a chrome cue.
RESTORABLE = ("outside-article", "line-model")
_ENDS_SENTENCE = re.compile(r"[.!?\u2026\u3002\uff01\uff1f][\"'\u201d\u2019)\]]?$")


def _is_sentence(piece: str) -> bool:
    return _ENDS_SENTENCE.search(piece.rstrip()) is not None


# A piece that opens with this many capitalised words in a row opens with a menu: a sentence has its verbs and
# function words in lower case within a few words.
MENU_RUN = 8


def _menu_first(piece: str) -> list[str]:
    """A menu run together with the sentence after it (nothing ends a menu item with a full stop) as two
    pieces: the run of capitalised words, then the sentence from the last of them on."""
    words = piece.split(" ")
    run = 0
    for word in words:
        if word and not word[0].isupper() and word[0].isalpha():
            break
        run += 1
    if run < MENU_RUN or run >= len(words):
        return [piece]
    cut = run - 1  # the capital that starts the sentence
    return [" ".join(words[:cut]), " ".join(words[cut:])]
