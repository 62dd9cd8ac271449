"""Strip stage: remove site chrome, keep the article (and set its comment section aside).

HTML goes through trafilatura (main text and comments separately). Plain-text
dumps go through `clean_dump`, a block cleaner that works on lines:

1. every line gets a weight: prose lines count their words, short lines cost a
   little, chrome cues (subscribe, share, cookie, copyright, related posts,
   previous/next post ...) cost a lot, and end-of-article cues cost most;
2. the article is the densest region, the maximum-sum run of lines;
3. the header zone just above it gives the title, byline and date;
4. a comments heading ("12 Comments", "Leave a Reply" ...) ends the article and
   everything after it is handed to the comments stage as a raw block.

Every removed line span is recorded with its reason.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from html import unescape
from typing import Any

import lxml.etree
import lxml.html
import numpy as np

from cleanpipe.config import StripConfig
from cleanpipe.model import COMMENT_BREAK, PREVIEW_CHARS, Document, Paragraph
from cleanpipe.stages import html_fast, langid
from cleanpipe.stages.flattened import Cut
from cleanpipe.stages.linemodel import (
    FEATURE_NAMES,
    HTML_FEATURE_NAMES,
    LineModel,
    RuleView,
    html_line_features,
    line_features,
    load_model,
)
from cleanpipe.stages.lines import (
    BYLINE,
    COMMENT_STAMP,
    COMMENTS_HEADING,
    DATE_ONLY,
    END_CUES,
    NAME_LIKE,
    LineInfo,
    analyse,
    comment_author,
    ends_sentence,
    is_prose,
    line_key,
    looks_like_comment_thread,
    parse_dateline,
)


@dataclass
class StripResult:
    title: str | None = None
    byline: str | None = None
    date: str | None = None
    paragraphs: list[Paragraph] = field(default_factory=list)
    comment_lines: list[tuple[int, str]] = field(default_factory=list)  # (line no, text) of the comment section
    comment_source: str | None = None  # why comment_lines are comments: heading | markers | thread | html
    removed: list[dict[str, Any]] = field(default_factory=list)
    page_lines: list[str] = field(default_factory=list)  # every non-blank line of the page, kept or not

    def text(self) -> str:
        return "\n\n".join(p.text for p in self.paragraphs)


class _Removals:
    """Collects removed lines and merges neighbours with the same reason into spans."""

    def __init__(self) -> None:
        self.spans: list[dict[str, Any]] = []

    def add(self, line: LineInfo, reason: str) -> None:
        last = self.spans[-1] if self.spans else None
        if last and last["reason"] == reason and last["lines"][1] >= line.no - 2:
            last["lines"][1] = line.end
            return
        self.spans.append({"lines": [line.no, line.end], "reason": reason, "preview": line.text[:PREVIEW_CHARS]})


def _heading_like(line: LineInfo) -> bool:
    return (
        2 <= line.words <= 25
        and not line.cues
        and not line.bullet
        and not (ends_sentence(line.text) and not line.text.endswith(("?", "!", ":")))
        and not line.truncated
    )


HARD_STOP = -1e6  # a line the article never runs across


def _weights(lines: list[LineInfo], config: StripConfig, stopword_language: bool,
             ) -> tuple[list[float], list[bool]]:
    """Each line's score, and whether it reads as prose on its own."""
    weights = []
    nonblank = [i for i, ln in enumerate(lines) if ln.text]
    next_nonblank = {a: b for a, b in zip(nonblank, nonblank[1:], strict=False)}
    prose = [is_prose(ln, config.min_good_words, stopword_language) for ln in lines]
    for i, line in enumerate(lines):
        if not line.text:
            weights.append(0.0)
        elif line.footer_end:
            weights.append(HARD_STOP)
        elif line.cues:
            weights.append(-30.0 if END_CUES.intersection(line.cues) else -8.0)
        elif prose[i]:
            weights.append(float(line.words))
        elif line.truncated:
            weights.append(-3.0)  # a cut-off teaser ("How Many Arrests Were Made? FinCEN...")
        else:
            j = next_nonblank.get(i)
            introduces_prose = j is not None and prose[j]
            if line.sentence_end and line.words >= 5 and (not stopword_language or line.stop_ratio >= 0.2):
                weights.append(line.words / 2)  # a short sentence
            elif introduces_prose or line.text.endswith(":"):
                weights.append(0.0)  # a heading or a list lead-in
            else:
                weights.append(-1.5 if line.bullet else -1.0)
    _penalize_teaser_runs(lines, weights, prose, nonblank)
    return weights, prose


def _penalize_teaser_runs(lines: list[LineInfo], weights: list[float], prose: list[bool],
                          nonblank: list[int]) -> None:
    """Runs of (short headline, one summary line) pairs are teaser lists, not an article.

    An article's headings are followed by several paragraphs; a list of links to
    other stories repeats the same two-line shape: title, then a one-line blurb.
    """
    pairs = []  # (headline index, summary index)
    k = 0
    while k + 1 < len(nonblank):
        a, b = nonblank[k], nonblank[k + 1]
        head, body = lines[a], lines[b]
        # a line with a chrome cue ("Share this article") between paragraphs is no teaser's headline
        if (not prose[a] and 3 <= head.words <= 16 and not head.sentence_end and not head.cues and prose[b]
                and body.words <= 45):
            after = nonblank[k + 2] if k + 2 < len(nonblank) else None
            if after is None or not prose[after]:  # exactly one summary line
                pairs.append((a, b))
                k += 2
                continue
        k += 1
    run: list[tuple[int, int]] = []
    for pair in pairs + [(-1, -1)]:
        if run and pair[0] != -1 and _adjacent(run[-1][1], pair[0], nonblank):
            run.append(pair)
            continue
        if len(run) >= 3:
            for a, b in run:
                weights[a] = -2.0
                weights[b] = -float(lines[b].words) / 2
        run = [pair] if pair[0] != -1 else []


_MAX_SHORT_SENTENCE_LINES = 5
_TITLE_WORDS = 12  # the title above such a page: one line, the first


def _only_short_sentences(nonblank: list[LineInfo]) -> bool:
    """A page of one to five short sentences ("Впереди расстилался ровный луг."), perhaps under a
    title: too short to outweigh anything on its own, but with nothing else on the page it is the
    page's text. A menu or a footer never qualifies: its lines do not end sentences, or carry
    chrome cues; a title is one short line, the first."""
    first = nonblank[0] if nonblank else None
    # two words at least: one word above a sentence is as often a menu's ("Startseite") as a title
    if first is not None and len(nonblank) > 1 and 2 <= first.words <= _TITLE_WORDS and not (
            first.cues or first.bullet or first.sentence_end or first.footer_end):
        nonblank = nonblank[1:]
    return len(nonblank) <= _MAX_SHORT_SENTENCE_LINES and all(
        ln.sentence_end and ln.words >= 3 and not ln.cues and not ln.bullet and not ln.footer_end
        for ln in nonblank)


def _adjacent(prev_end: int, next_start: int, nonblank: list[int]) -> bool:
    """True when at most one other non-blank line (a date, a byline) separates the two."""
    between = [i for i in nonblank if prev_end < i < next_start]
    return len(between) <= 1


def _densest_region(weights: list[float]) -> tuple[int, int] | None:
    """Maximum-sum contiguous run (Kadane); None when nothing scores above zero."""
    best, best_span = 0.0, None
    run, start = 0.0, 0
    for i, w in enumerate(weights):
        if run <= 0:
            run, start = w, i
        else:
            run += w
        if run > best:
            best, best_span = run, (start, i)
    return best_span


def _paragraphs(lines: list[LineInfo]) -> list[Paragraph]:
    """Kept logical lines to paragraphs, each with its raw line span."""
    return [
        Paragraph(text=ln.text, source_lines=[ln.no, ln.end],
                  kind="list" if ln.bullet else ("heading" if _heading_like(ln) else "text"))
        for ln in lines
    ]


def _comment_section_start(lines: list[LineInfo], start: int) -> tuple[int, bool] | None:
    """(index, is_heading) of the comments heading, or of the first of several "X says:" lines.

    Also a run of comment stamps (a date line, or a "Name - DATE" line), each followed by
    what the reader wrote: the thread starts at the first stamp, or at the name line just
    above a bare date.
    """
    authors = 0
    first_author = None
    stamps: list[tuple[int, bool]] = []  # (nonblank position, names its author) of each comment stamp
    seen = 0
    for idx in range(start, len(lines)):
        ln = lines[idx]
        if not ln.text:
            continue
        seen += 1
        if idx > start and ("date" in ln.cues or _comment_stamp(ln)) and _sentence_follows(lines, idx):
            stamps.append((seen, "date" not in ln.cues))
            # three timestamps, each opening a block of at most six lines: a thread of comments
            if len(stamps) >= 3 and stamps[-1][0] - stamps[-3][0] <= 12:
                first = _nth_nonblank_after(lines, start, stamps[-3][0])
                return (first if stamps[-3][1] else max(start + 1, _previous_nonblank(lines, first))), False
        elif stamps and seen - stamps[-1][0] > 6:
            stamps = []
        if ln.words <= 15 and COMMENTS_HEADING.match(ln.text):
            return idx, True
        if ln.words <= 12 and comment_author(ln.text):
            authors += 1
            first_author = idx if first_author is None else first_author
            if authors >= 2:
                return first_author, False
    return None


def _comment_stamp(line: LineInfo) -> bool:
    """A "Name - DATE" line; a date ends with a digit, "am"/"pm" or a dot, so other lines skip the regex."""
    last = line.text[-1]
    return (line.words <= 16 and (last.isdecimal() or last in "mM.")
            and COMMENT_STAMP.match(line.text) is not None)


def _sentence_follows(lines: list[LineInfo], idx: int) -> bool:
    """A comment's timestamp is followed by what the reader wrote; a teaser's date by the next title."""
    for j in range(idx + 1, min(idx + 4, len(lines))):
        if lines[j].text:
            return lines[j].sentence_end and lines[j].words >= 3 and not lines[j].cues
    return False


def _byline_follows(lines: list[LineInfo], idx: int, within: int = 3) -> bool:
    """A "By Ann Lee" line among the next `within` non-blank lines: the story starts here."""
    seen = 0
    for ln in lines[idx + 1:]:
        if not ln.text:
            continue
        if ln.words <= 8 and BYLINE.match(ln.text):
            return True
        seen += 1
        if seen == within:
            return False
    return False


def _nth_nonblank_after(lines: list[LineInfo], start: int, n: int) -> int:
    seen = 0
    for idx in range(start, len(lines)):
        if lines[idx].text:
            seen += 1
            if seen == n:
                return idx
    return len(lines) - 1


def _previous_nonblank(lines: list[LineInfo], idx: int) -> int:
    """The line before a comment's timestamp is usually its author's name."""
    j = idx - 1
    while j >= 0 and not lines[j].text:
        j -= 1
    return j if j >= 0 and lines[j].words <= 4 else idx


def clean_dump(text: str, config: StripConfig | None = None) -> StripResult:
    """Clean a plain-text page dump. Pure function: text in, StripResult out.

    Lines too long to judge whole (a page flattened onto one line) are judged sentence by
    sentence (unless `config.cut_flattened` is off); line numbers in the result are the dump's
    own (flattened.Cut)."""
    config = config or StripConfig()
    if not config.cut_flattened:
        return _clean_text(text, config)
    cut = Cut(text)
    result = _clean_text(cut.text, config)
    if cut.cut:
        result.paragraphs, result.removed = cut.restore_sentences(result.paragraphs, result.removed)
        result.paragraphs = cut.paragraphs(result.paragraphs)
        result.removed = [{**span, "lines": cut.lines(span.get("lines"))} if "lines" in span else span
                          for span in result.removed]
        result.comment_lines = [(cut.line(no) if no > 0 else no, line) for no, line in result.comment_lines]
    return result


# A line the model may not drop when it holds more words than all it keeps (_second_opinion).
_LONE_ARTICLE_WORDS = 100
# Chrome markers inside an article ("Advertisement", "Share this article" between its paragraphs): spans of at
# most this many lines and words, dropped for a chrome cue, with kept paragraphs above and below.
_MARKER_LINES = 2
_MARKER_WORDS = 6
# inline markers only: "Related", "Read more", "Most read" and the like end an article more often than they
# interrupt it (blanking those kept the lists after them on the dev set)
_MARKER_REASONS = ("chrome:ad", "chrome:share")
_PARAGRAPH_WORDS = 12  # the line above a marker: a paragraph of the article, not a heading or a link


def _clean_text(text: str, config: StripConfig) -> StripResult:
    """`_clean`, and again with the chrome markers it found inside the article blanked out.

    The line model reads each line with its neighbours, and a marker line between paragraphs
    makes them look like a list of teasers: on a story with "Advertisement" after every third
    paragraph it dropped all six section headings and the last paragraph; on a short one with
    "Share this article" twice, two of its three paragraphs. Blank lines in their place keep
    every line number; the markers stay recorded as removed, and among the page's lines (a
    marker on every page of a site is what the repeats stage looks for)."""
    result = _clean(text, config, config.line_model)[0]
    # the article as the rules found it: what was kept, and what the line model alone dropped
    article = [p.source_lines for p in result.paragraphs if p.source_lines] + [
        span["lines"] for span in result.removed if span.get("reason") == "line-model" and span.get("lines")]
    if len(article) < 2:
        return result
    in_article = {no for first, last in article for no in range(first, last + 1)}
    lines = text.split("\n")

    def sandwiched(span: dict[str, Any]) -> bool:
        """Right after a paragraph of the article, and right before more of it: any line of it after an
        advertisement, a paragraph after a share line (share bars often end the story, before a list)."""
        first, last = span["lines"]
        above = next((no for no in range(first - 1, 0, -1) if lines[no - 1].strip()), None)
        below = next((no for no in range(last + 1, len(lines) + 1) if lines[no - 1].strip()), None)
        if above not in in_article or below not in in_article or len(lines[above - 1].split()) < _PARAGRAPH_WORDS:
            return False
        return span["reason"] == "chrome:ad" or len(lines[below - 1].split()) >= _PARAGRAPH_WORDS

    markers = [span for span in result.removed
               if span.get("reason") in _MARKER_REASONS and span.get("lines")
               and span["lines"][1] - span["lines"][0] < _MARKER_LINES
               and len(str(span.get("preview", "")).split()) <= _MARKER_WORDS and sandwiched(span)]
    if not markers:
        return result
    for span in markers:
        for no in range(span["lines"][0], span["lines"][1] + 1):
            lines[no - 1] = ""
    again = _clean("\n".join(lines), config, config.line_model)[0]
    again.removed = sorted(again.removed + markers, key=lambda span: (span.get("lines") or [0])[0])
    again.page_lines = result.page_lines
    return again


def line_table(text: str, config: StripConfig | None = None, html_rows: np.ndarray | None = None,
               language: str | None = None) -> tuple[list[LineInfo], np.ndarray]:
    """The non-blank lines of a dump and the line model's features for each (what training reads).

    `html_rows` and `language`: the fast HTML mode's HTML features of each physical line and the
    page's declared language (html_fast.render)."""
    lines, features = _clean(text, config or StripConfig(), use_model=False, want_features=True,
                             html_rows=html_rows, language=language)[1:]
    return lines, features


def _clean(text: str, config: StripConfig, use_model: bool, want_features: bool = False,
           html_rows: np.ndarray | None = None, language: str | None = None,
           ) -> tuple[StripResult, list[LineInfo], np.ndarray]:
    """The rules, then (when asked) the line model's second opinion on the article lines.

    With `html_rows` (text rendered from HTML by the fast HTML mode), the model is that mode's
    and reads the HTML features too; `language` is the language the page declares (analyse)."""
    lines = analyse(text, language)
    result = StripResult(page_lines=[ln.text for ln in lines if ln.text])
    removals = _Removals()
    positions = [idx for idx, ln in enumerate(lines) if ln.text]
    nonblank = [lines[idx] for idx in positions]
    width = len(FEATURE_NAMES) + (len(HTML_FEATURE_NAMES) if html_rows is not None else 0)
    no_features = np.zeros((0, width))
    if not nonblank:
        return result, [], no_features

    # A page that is nothing but reader comments goes to the comments stage whole.
    if looks_like_comment_thread([ln.text for ln in nonblank]):
        result.comment_lines = [(ln.no, ln.text) for ln in nonblank]
        result.comment_source = "thread"
        return result, [], no_features

    # Languages without our stop-word list: judge prose by length and punctuation only.
    total_words = sum(ln.words for ln in nonblank)
    stopword_language = sum(ln.stop_ratio * ln.words for ln in nonblank) / max(1, total_words) >= 0.08

    weights, prose = _weights(lines, config, stopword_language)
    region = _densest_region(weights)
    if region is None and _only_short_sentences(nonblank):
        region = (positions[0], positions[-1])
    if region is None:
        for ln in nonblank:
            removals.add(ln, "no-article-text")
        result.removed = removals.spans
        return result, [], no_features
    start, end = region

    # A comments heading inside or after the article ends it -- unless no prose comes before
    # it or a byline follows it: then it is a comment-count link above the story.
    found = _comment_section_start(lines, start)
    while found and found[1] and (not any(prose[start:found[0]]) or _byline_follows(lines, found[0])):
        found = _comment_section_start(lines, found[0] + 1)
    comments_at = found[0] if found else None
    if found:
        end = min(end, comments_at - 1)
        first = comments_at + 1 if found[1] else comments_at
        section = [ln for ln in lines[first:] if ln.text]
        if found[1]:
            removals.add(lines[comments_at], "comments-heading")
        result.comment_lines = [(ln.no, ln.text) for ln in section]
        result.comment_source = "heading" if found[1] else "markers"

    # Header zone: contiguous heading/byline/date lines just above the article.
    header: list[LineInfo] = []
    i = start - 1
    while i >= 0 and len(header) < 12:
        ln = lines[i]
        if ln.text:
            if ln.bullet or (ln.cues and "date" not in ln.cues):
                break
            if not (_heading_like(ln) or parse_dateline(ln.text) or BYLINE.match(ln.text)):
                break
            header.append(ln)
        i -= 1
    header.reverse()
    header_nos = {ln.no for ln in header}
    titles = [ln for ln in header
              if _heading_like(ln) and not NAME_LIKE.match(ln.text) and not parse_dateline(ln.text)]
    title_line = max(titles, key=lambda ln: (ln.words, -ln.no)) if titles else None
    kept_header: list[LineInfo] = []
    for ln in header:
        if ln is title_line:
            result.title = ln.text
        elif title_line is not None and ln.no < title_line.no:
            removals.add(ln, "above-title")
        elif title_line is not None and ln.text == title_line.text:
            removals.add(ln, "repeated-title")
        elif dateline := parse_dateline(ln.text):
            result.date = result.date or dateline[0]
            result.byline = result.byline or dateline[1]
            removals.add(ln, "dateline")
        elif (m := BYLINE.match(ln.text)) and not DATE_ONLY.match(m.group(1)):
            result.byline = result.byline or m.group(1).strip()
            removals.add(ln, "byline")
        elif m and DATE_ONLY.match(m.group(1)):
            result.date = result.date or m.group(1)
            removals.add(ln, "date")
        elif NAME_LIKE.match(ln.text) and ln.words <= 4 and result.byline is None:
            result.byline = ln.text
            removals.add(ln, "byline")
        else:
            kept_header.append(ln)

    # The rules' verdict on every line before the comment section: None keeps it, else the reason.
    verdicts: dict[int, str | None] = {}
    for idx, ln in enumerate(lines):
        if not ln.text or ln.no in header_nos:
            continue
        if comments_at is not None and idx >= comments_at:
            break  # the comment section is accounted for by the comments stage
        if idx < start or idx > end:
            verdicts[idx] = "outside-article"
        elif ln.cues:
            verdicts[idx] = "chrome:" + ",".join(ln.cues)
        elif result.title and ln.text == result.title:
            verdicts[idx] = "repeated-title"
        else:
            verdicts[idx] = None
    features = no_features
    if use_model or want_features:
        kept_nos = {ln.no for ln in kept_header} | {lines[i].no for i, r in verdicts.items() if r is None}
        comment_nos = {no for no, _ in result.comment_lines}
        inside = [k for k, idx in enumerate(positions) if start <= idx <= end]
        rules = RuleView(
            weights=[weights[idx] for idx in positions],
            prose=[prose[idx] for idx in positions],
            kept=[lines[idx].no in kept_nos for idx in positions],
            comment=[lines[idx].no in comment_nos for idx in positions],
            region=(inside[0], inside[-1]) if inside else None,
        )
        features = line_features(nonblank, text, rules, extra_columns=width - len(FEATURE_NAMES))
        if html_rows is not None:
            html_line_features(html_rows[[ln.no - 1 for ln in nonblank]], out=features[:, len(FEATURE_NAMES):])
    if use_model:
        model = (load_model(config.html_line_model_path, html=True) if html_rows is not None
                 else load_model(config.line_model_path))
        verdicts = _second_opinion(verdicts, positions, model, features, lines)
    kept: list[LineInfo] = list(kept_header)
    for idx, reason in verdicts.items():
        if reason is None:
            kept.append(lines[idx])
        else:
            removals.add(lines[idx], reason)
    kept.sort(key=lambda ln: ln.no)
    result.paragraphs = _paragraphs(kept)
    result.removed = sorted(removals.spans, key=lambda s: s["lines"][0])
    return result, nonblank, features


def _second_opinion(verdicts: dict[int, str | None], positions: list[int], model: LineModel,
                    features: np.ndarray, lines: list[LineInfo]) -> dict[int, str | None]:
    """The line model's verdicts on the rules' candidate lines (header and comment lines are not candidates).

    Where the model would keep no line at all, the rules' verdicts stand: an empty
    article from a page the rules found text in is the costlier mistake. A short line the
    rules dropped for a chrome cue ("Share this article", "Advertisement") stays dropped:
    between paragraphs the model kept such markers (and the same F1 without, dev set and
    dragnet).
    """
    revised = dict(verdicts)
    for idx, p in zip(positions, model.probabilities(features).tolist(), strict=True):  # floats: cheaper to compare
        if idx not in revised:
            continue
        if p >= model.threshold:
            reason = revised[idx]
            marker = reason is not None and reason.startswith("chrome:") and lines[idx].words <= _MARKER_WORDS
            if reason != "repeated-title" and not marker:
                revised[idx] = None
        elif revised[idx] is None:
            revised[idx] = "line-model"
    if not any(reason is None for reason in revised.values()):
        return verdicts
    # The model reads a line by its neighbours too, and a whole article on one line among a
    # site's menus (a crawler's flattened text) read as one more menu entry: it may not drop
    # a prose line that holds more words than everything it keeps.
    dropped = [idx for idx, reason in revised.items() if reason == "line-model" and verdicts[idx] is None
               and lines[idx].words >= _LONE_ARTICLE_WORDS and lines[idx].sentence_end]
    if dropped:
        longest = max(dropped, key=lambda idx: lines[idx].words)
        if lines[longest].words > sum(lines[idx].words for idx, reason in revised.items() if reason is None):
            revised[longest] = None
    return revised


def strip_text(text: str, config: StripConfig | None = None) -> str:
    """Article text of a plain-text dump, paragraphs split by blank lines."""
    return clean_dump(text, config).text()


# --- HTML --------------------------------------------------------------------------------------

_TAG = re.compile(r"<[^>]+>")
_META_TAG = re.compile(r"<meta\s[^>]*>", re.I)
_ATTR = re.compile(r"""([\w:-]+)\s*=\s*(?:"([^"]*)"|'([^']*)'|([^\s>]+))""")
_TITLE = re.compile(r"<title[^>]*>(.*?)</title>", re.I | re.S)
_TIME = re.compile(r"<time\s[^>]*datetime\s*=\s*[\"']?(\d{4}-\d{2}-\d{2})", re.I)
_ISO_DATE = re.compile(r"\d{4}-\d{2}-\d{2}")
# The <meta> names read below: a tag naming none of them is skipped before its attributes are parsed
# (a page has dozens of <meta> tags).
_META_NAMES = ("og:title", "twitter:title", "author", "article:author", "dc.creator", "article:published_time",
               "datepublished", "date", "dc.date")


def html_metadata(html: str) -> tuple[str | None, str | None, str | None]:
    """(title, author, date) from the page's <meta> tags, <title> and <time>: regexes, no parse.

    The cheap stand-in for trafilatura's metadata search when `html_fast` is set, where that
    search would take about a quarter of the time."""
    meta: dict[str, str] = {}
    for tag in _META_TAG.findall(html, 0, 200_000):  # as html[:200_000], without copying it
        low = tag.lower()
        if "content" not in low or not any(name in low for name in _META_NAMES):
            continue
        attrs = {m.group(1).lower(): m.group(2) or m.group(3) or m.group(4) or "" for m in _ATTR.finditer(tag)}
        name = (attrs.get("property") or attrs.get("name") or attrs.get("itemprop") or "").lower()
        if name and attrs.get("content") and name not in meta:
            meta[name] = unescape(" ".join(attrs["content"].split()))
    title = meta.get("og:title") or meta.get("twitter:title")
    if not title:  # <title> and <time> are searched for only when <meta> did not say: a search reads the whole page
        title_tag = _TITLE.search(html)
        title = (unescape(" ".join(_TAG.sub(" ", title_tag.group(1)).split())) if title_tag else None) or None
    author = meta.get("author") or meta.get("article:author") or meta.get("dc.creator") or None
    if author and author.startswith(("http://", "https://")):
        author = None  # article:author is often a profile URL
    found = _ISO_DATE.search(meta.get("article:published_time") or meta.get("datepublished")
                             or meta.get("date") or meta.get("dc.date") or "")
    if found:
        date = found.group(0)
    else:
        time_tag = _TIME.search(html)
        date = time_tag.group(1) if time_tag else None
    return title, author, date


# Comment sections of an HTML page, by how sites name them: an id or first class "comment..." (not
# "commentary"), "article-comments"/"post-comments", or Disqus's container.
_COMMENT_SECTION_TAGS = ("div", "section", "aside", "details", "ol", "ul")
_COMMENT_SECTION_ID = re.compile(r"^(?:[Cc]omment(?!ary)|disqus_thread$|dsq-comments)")
_COMMENT_SECTION_CLASS = re.compile(r"^[Cc]omment(?!ary)|(?:article|post)-comments")
# Elements whose text starts a new line; and the ones no comment's text is in (the reply form, code).
_BLOCK_TAGS = frozenset("p div li dt dd blockquote pre h1 h2 h3 h4 h5 h6 tr article section header footer br".split())
_NOT_TEXT_TAGS = frozenset("script style noscript form button textarea select svg iframe template".split())


def _take_comment_sections(tree: Any) -> list[str]:
    """Lines of text of the page's comment sections, which are cut out of `tree` (tail text stays).

    Taken from the parsed page before trafilatura sees it, so its main text is
    extracted with comments off (its more precise setting) and no comment can be in
    both the text and the comments. Where the page marks up single comments (repeated
    elements of a "comment" class or id, `_comment_items`), an empty line, COMMENT_BREAK,
    stands where one ends and the next begins; so it does between two sections."""
    lines: list[str] = []

    def add_break() -> None:  # never first, last or twice in a row
        if lines and lines[-1] != COMMENT_BREAK:
            lines.append(COMMENT_BREAK)

    for section in _comment_sections(tree):
        pieces: list[str] = []
        _element_text(section, pieces, frozenset(_comment_items(section)))
        add_break()
        for line in "".join(pieces).split("\n"):
            if line == _ITEM_EDGE:
                add_break()
            elif line := " ".join(line.split()):
                lines.append(line)
        if section.getparent() is not None:
            section.drop_tree()  # lxml.html: its tail text joins the element before it
    if lines and lines[-1] == COMMENT_BREAK:
        lines.pop()
    return lines


_ITEM_EDGE = "\x00"  # stands for COMMENT_BREAK while the text is pieced together (no page text has it)
_COMMENT_ITEM_TAGS = ("li", "div", "article")


def _comment_items(section: Any) -> list[Any]:
    """The elements of `section` that are single comments, nested replies included; [] when none are marked up.

    Sites mark a thread up as sibling elements that share a tag and first class, with
    "comment" in a class or id (li.comment, div.comment-body, article#comment-12). The
    siblings holding most of the section's text (at least half) are the comments; every
    element of the same tag and first class in the section is then one too (a reply
    sits inside its parent)."""
    sizes: dict[Any, int] = {}
    total = _text_size(section, sizes)
    best: tuple[float, tuple[str, str]] | None = None
    for parent in section.iter():
        groups: dict[tuple[str, str], list[Any]] = {}
        for child in parent:
            if child.tag in _COMMENT_ITEM_TAGS and _names_a_comment(child):
                groups.setdefault(_item_signature(child), []).append(child)
        for signature, siblings in groups.items():
            if len(siblings) >= 2:
                share = sum(sizes.get(sibling, 0) for sibling in siblings) / max(1, total)
                if share >= 0.5 and (best is None or share > best[0]):
                    best = (share, signature)
    if best is None:
        return []
    tag, _ = best[1]
    return [element for element in section.iter(tag) if _item_signature(element) == best[1]]


def _text_size(element: Any, sizes: dict[Any, int]) -> int:
    """Characters of text under `element` (as _element_text reads it, whitespace aside); each element's in `sizes`."""
    if not isinstance(element.tag, str) or element.tag in _NOT_TEXT_TAGS:
        return 0
    size = len((element.text or "").strip())
    for child in element:
        size += _text_size(child, sizes) + len((child.tail or "").strip())
    sizes[element] = size
    return size


def _item_signature(element: Any) -> tuple[str, str]:
    classes = (element.get("class") or "").split()
    return element.tag, classes[0] if classes else ""


def _names_a_comment(element: Any) -> bool:
    return "comment" in (element.get("class") or "").lower() or "comment" in (element.get("id") or "").lower()


def _comment_sections(tree: Any) -> list[Any]:
    """The outermost comment sections, in page order."""
    sections: list[Any] = []
    for element in tree.iter(_COMMENT_SECTION_TAGS):
        element_id, element_class = element.get("id") or "", element.get("class") or ""
        if not (_COMMENT_SECTION_ID.match(element_id) or _COMMENT_SECTION_CLASS.search(element_class)):
            continue
        if sections and any(ancestor is sections[-1] for ancestor in element.iterancestors()):
            continue  # inside the section before it (document order: an enclosing section comes first)
        sections.append(element)
    return sections


def _element_text(element: Any, pieces: list[str], items: frozenset[Any]) -> None:
    """The text under `element`, a newline around each block element (the tail of `element` is the caller's).

    An element of `items` (a single comment) has an _ITEM_EDGE line before and after it."""
    tag = element.tag
    if not isinstance(tag, str) or tag in _NOT_TEXT_TAGS:
        return  # an HTML <!-- comment --> or processing instruction has no text of the page
    edge = element in items
    block = tag in _BLOCK_TAGS
    if edge:
        pieces.append(f"\n{_ITEM_EDGE}\n")
    elif block:
        pieces.append("\n")
    if element.text:
        pieces.append(element.text)
    for child in element:
        _element_text(child, pieces, items)
        if child.tail:
            pieces.append(child.tail)
    if edge:
        pieces.append(f"\n{_ITEM_EDGE}\n")
    elif block:
        pieces.append("\n")


# libxml2 stops at 256 levels of nesting unless huge_tree is set: a deeper page lost all its text,
# reported as "nothing left after removing site chrome". The other options are trafilatura's own.
_HTML_PARSER = lxml.html.HTMLParser(collect_ids=False, default_doctype=False, encoding="utf-8",
                                    remove_comments=True, remove_pis=True, huge_tree=True)


MAX_HTML_DEPTH = 1000  # deeper pages defeat the extractor; said so instead of "no content"


def _depth(tree: Any) -> int:
    """Deepest nesting of elements (without recursion: the tree may be very deep)."""
    deepest, stack = 0, [(tree, 1)]
    while stack:
        node, depth = stack.pop()
        deepest = max(deepest, depth)
        stack.extend((child, depth + 1) for child in node)
    return deepest


def _parse_html(html: str) -> Any:
    try:
        tree = lxml.html.fromstring(html.encode("utf-8", "surrogatepass"), parser=_HTML_PARSER)
    except (ValueError, lxml.etree.ParserError, lxml.etree.XMLSyntaxError):
        return None
    return tree if tree is not None and len(tree) else None


# January 1 as pages write it: ISO and numeric forms, and the month's name (English, German, French, Spanish,
# Italian, Portuguese, Dutch) next to a 1
_JANUARY_FIRST = (
    r"(?<!\d)(?:{y}[-/.]0?1[-/.]0?1|0?1[-/.]0?1[-/.]{y})(?!\d)"
    r"|\b(?:jan(?:uary|\.)?|januar|janvier|enero|gennaio|janeiro|januari)\s+0?1(?:st)?\b,?\s*{y}"
    r"|\b0?1(?:st|er|º)?\.?\s+(?:de\s+)?(?:jan(?:uary|\.)?|januar|janvier|enero|gennaio|janeiro|januari)"
    r"(?:\s+de)?,?\s+{y}")


def _not_from_a_year_alone(date: str | None, html: str) -> str | None:
    """trafilatura's date, unless it is January 1 of a year the page never writes as a whole date.

    Its date search falls back on a bare year ("Copyright 2024", "/uploads/2012/", "(c) 2005-2012")
    and gives it as YYYY-01-01: a day the page does not say (5 of 61 dragnet pages had one)."""
    if not date or not date.endswith("-01-01") or len(date) != 10:
        return date
    year = date[:4]
    pattern = re.compile(_JANUARY_FIRST.replace("{y}", year), re.I)
    return date if pattern.search(html) else None


def clean_html(html: str, config: StripConfig | None = None, url: str | None = None) -> StripResult:
    """Main text of an HTML page via trafilatura; its comment sections apart, for the comments stage."""
    import trafilatura

    config = config or StripConfig()
    result = StripResult()
    tree = _parse_html(html)
    if tree is None:  # what our parser refuses, trafilatura's own loader may still read
        tree = trafilatura.load_html(html)
    comments = _take_comment_sections(tree) if tree is not None else []
    extracted = None if tree is None else trafilatura.bare_extraction(
        tree,
        url=url,
        include_comments=False,
        with_metadata=not config.html_fast,
        favor_precision=config.html_favor_precision,
        fast=config.html_fast,
        include_tables=True,
    )
    if extracted is None:
        result.removed.append({"lines": None, "reason": "no-article-text", "preview": ""})
    else:
        data = extracted.as_dict() if hasattr(extracted, "as_dict") else dict(extracted)
        if config.html_fast:
            result.title, result.byline, result.date = html_metadata(html)
        else:
            result.title = data.get("title") or None
            result.byline = data.get("author") or None
            result.date = _not_from_a_year_alone(data.get("date") or None, html)
        for para in (data.get("text") or "").split("\n"):
            para = para.strip()
            if para and para != result.title:
                result.paragraphs.append(Paragraph(text=para, source_lines=None))
        result.removed.append({"lines": None, "reason": "html-boilerplate",
                               "preview": "everything trafilatura did not keep as main text or comments"})
    if tree is not None and not result.paragraphs and not comments and (depth := _depth(tree)) > MAX_HTML_DEPTH:
        result.removed.append({"lines": None, "reason": "html-too-deep",
                               "preview": f"the page's HTML is nested at least {depth} levels deep; its text could not "
                                          f"be extracted (over {MAX_HTML_DEPTH} levels)"})
    for line in comments:
        if line and COMMENTS_HEADING.match(line):  # "12 Comments", "Leave a Reply": the section's own heading
            result.removed.append({"lines": None, "reason": "comments-heading", "preview": line[:PREVIEW_CHARS]})
        elif line != COMMENT_BREAK or (result.comment_lines and result.comment_lines[-1][1] != COMMENT_BREAK):
            result.comment_lines.append((0, line))  # a break never comes first nor twice in a row
    while result.comment_lines and result.comment_lines[-1][1] == COMMENT_BREAK:
        result.comment_lines.pop()
    if result.comment_lines:
        result.comment_source = "html"
    result.page_lines = [p.text for p in result.paragraphs]  # the rest of the page has no lines to count
    return result


def clean_html_fast(html: str, config: StripConfig | None = None) -> StripResult:
    """The fast HTML mode (`strip.html_mode = "fast"`): resiliparse renders the page, the text cleaner cleans it.

    Comment sections are cut out by the trafilatura mode's rules and go to the comments
    stage; navigation, footers, sidebars and the masthead are cut out as the markup marks
    them (html_fast.render), each recorded; the text cleaner then decides line by line
    with the fast HTML mode's line model, recording every line it drops. Where the page
    kept its whole text inside such an element (nothing left), it is read again uncut."""
    config = config or StripConfig()
    page = html_fast.render(html)
    result = _clean(page.text, config, config.line_model, html_rows=page.rows, language=page.language)[0]
    if not result.paragraphs and not result.comment_lines and page.removed:
        page = html_fast.render(html, prune=False)
        result = _clean(page.text, config, config.line_model, html_rows=page.rows, language=page.language)[0]
    comments, removed = page.comments, page.removed
    result.paragraphs, own_removed = html_fast.without_line_numbers(result.paragraphs, result.removed)
    result.removed = removed + own_removed
    # <meta> first, as the trafilatura fast setting: the header zone above the text is sometimes a dateline or
    # a kicker ("Published Tue, Nov 19 2019"), the page's own og:title and published time rarely are.
    # Regexes: walking lexbor's elements from Python would cost more.
    title, byline, date = html_metadata(html)
    result.title = title or result.title
    result.byline = byline or result.byline
    result.date = date or result.date
    text_comments = [(0, line) for _, line in result.comment_lines]
    result.comment_lines = html_fast.comment_lines(comments, result.removed)
    if result.comment_lines:
        result.comment_source = "html"
        if text_comments:  # the cleaner found a thread the markup did not name: one more section
            result.comment_lines += [(0, COMMENT_BREAK)] + text_comments
    else:
        result.comment_lines = text_comments
    if not result.paragraphs and not result.removed:
        result.removed.append({"lines": None, "reason": "no-article-text", "preview": ""})
    return result


def strip_html(html: str, config: StripConfig | None = None) -> str:
    """Article text of an HTML page, by the mode `config.html_mode` names."""
    config = config or StripConfig()
    if config.html_mode == "fast":
        return clean_html_fast(html, config).text()
    return clean_html(html, config).text()


class Stripper:
    """Pipeline stage: fills title/byline/date/paragraphs and the raw comment block."""

    name = "strip"

    def __init__(self, config: StripConfig | None = None,
                 wants_line_keys: Callable[[Document], bool] | None = None):
        self.config = config or StripConfig()
        # which pages leave digests of their lines for the repeats pass (None: every page)
        self.wants_line_keys = wants_line_keys
        # The language model and the line analysis's character tables are built with the stage, not
        # within the first page's time budget (a worker builds its stage before the budget starts).
        langid.load()
        analyse("Ready.")

    def process(self, doc: Document) -> Document:
        if doc.source.content_type == "html" and self.config.html_mode == "fast":
            result = clean_html_fast(doc.content, self.config)
            mode = "html-fast"
        elif doc.source.content_type == "html":
            result = clean_html(doc.content, self.config, doc.source.url)
            mode = "html"
        else:
            result = clean_dump(doc.content, self.config)
            mode = "text"
        doc.title, doc.byline, doc.date = result.title, result.byline, result.date
        doc.paragraphs = result.paragraphs
        doc.comment_block = result.comment_lines
        if self.wants_line_keys is None or self.wants_line_keys(doc):
            doc.line_keys = sorted({line_key(line) for line in result.page_lines})
        record: dict[str, Any] = {"stage": "strip", "mode": mode}
        if mode in ("text", "html-fast") and self.config.line_model:
            model = (load_model(self.config.html_line_model_path, html=True) if mode == "html-fast"
                     else load_model(self.config.line_model_path))
            record["line_model"] = {"version": model.version, "sha256": model.digest}
        doc.stages.append({
            **record,
            "kept_paragraphs": len(result.paragraphs),
            "comment_section": result.comment_source,
            "comment_lines": len(result.comment_lines),
            "removed": result.removed,
        })
        doc.content = ""  # the raw content stays addressable by source path and sha256
        return doc
