"""Fast HTML mode of the strip stage: a compiled HTML-to-text converter feeding the text cleaner.

trafilatura spends most of a crawl's time walking the page in Python. Here the page
is parsed by lexbor (through resiliparse), and what follows happens in C or on a
handful of elements:

1. comment sections are found by the same names as in the trafilatura mode and cut
   out (their text goes to the comments stage, split where one comment ends);
2. elements that HTML itself marks as not the article (`nav`, `footer`, `aside`, a
   page `header` outside any `article`, and the ARIA roles of the same meaning) are
   cut out, each kind the page has recorded as a removed span;
3. the rest is rendered as text by resiliparse's main-content rendering (which also
   leaves out elements whose class or id names a menu, sidebar, share or related box),
   one block a line, with a little markup kept (`<p>`, headings, list items, links),
   from which each line learns where it came from: a paragraph, a heading, a list
   item, a table row, whether the page's <h1> came before it, and how much of it is
   link text.

The text then goes through the text cleaner (rules, then the line model), with a
model trained on pages rendered this way and the HTML features added, so every
line it drops is recorded with its reason as in text mode. Line numbers refer to
the rendered text, not to the raw HTML, so removed spans and paragraphs carry no
line numbers (`lines: null`), as in the trafilatura mode.
"""

from __future__ import annotations

import re
from html import unescape
from itertools import chain
from typing import Any, NamedTuple

import lxml.html
import numpy as np
from resiliparse.extract.html2text import extract_plain_text
from resiliparse.parse.html import HTMLTree

from cleanpipe.model import COMMENT_BREAK, PREVIEW_CHARS, Paragraph
from cleanpipe.stages.linemodel import HTML_OWN_FEATURES
from cleanpipe.stages.lines import COMMENTS_HEADING

# Comment sections, by the trafilatura mode's rules (strip.py: an id or first class "comment..." but not
# "commentary", "article-comments"/"post-comments" in the class, Disqus's container), said in CSS so that
# lexbor finds the outermost ones itself: each element handed to Python costs, and a thread of a hundred
# comments has hundreds of elements of a "comment..." class inside its section.
_COMMENT_TAGS = ":is(div, section, aside, details, ol, ul)"
_COMMENT_NAMES = ":is(" + ", ".join(
    [f"[{attr}^={word}]:not([{attr}^={word}ary])" for attr in ("id", "class") for word in ("comment", "Comment")]
    + ["[class*=article-comments]", "[class*=post-comments]", "[id=disqus_thread]", "[id^=dsq-comments]"]) + ")"
COMMENT_SECTIONS = f"{_COMMENT_TAGS}{_COMMENT_NAMES}:not({_COMMENT_TAGS}{_COMMENT_NAMES} *)"

# What the page's own markup says is not the article: (CSS selector, reason, its tag, its ARIA role, what the
# removed span says). A page header inside an <article> holds its title, byline and date: the cleaner reads
# those; one outside is the site's masthead. An element holding the article (some sites wrap the whole page
# in one) is never cut out. lexbor matches the selectors while it renders: each element handed to Python
# costs a walk up its ancestors, so none is.
_HOLDS_ARTICLE = ":has(article, main, [role=main], [itemprop=articleBody], h1)"
_CHROME = (
    (f"nav:not({_HOLDS_ARTICLE}), [role=navigation]:not({_HOLDS_ARTICLE})", "html-nav", "nav", "navigation",
     "<nav> and role=navigation elements: the site's menus"),
    (f"footer:not({_HOLDS_ARTICLE}), [role=contentinfo]:not({_HOLDS_ARTICLE})", "html-footer", "footer",
     "contentinfo", "<footer> and role=contentinfo elements"),
    (f"aside:not({_HOLDS_ARTICLE}), [role=complementary]:not({_HOLDS_ARTICLE})", "html-aside", "aside",
     "complementary", "<aside> and role=complementary elements: sidebars, boxes of links"),
    (f"header:not(article header):not({_HOLDS_ARTICLE}), [role=banner]:not({_HOLDS_ARTICLE})", "html-header",
     "header", "banner", "<header> elements outside any <article>, and role=banner: the site's masthead"),
)
CHROME_SELECTORS = [selector for selector, *_ in _CHROME]

_TAG = re.compile(r"<[^>]*>")


# What the main-content rendering leaves out is not said element by element (lexbor does not report it):
# one span stands for all of it, as the trafilatura mode's "html-boilerplate" does.
MAIN_CONTENT_SPAN = {"lines": None, "reason": "html-main-content",
                     "preview": "elements resiliparse's main-content rules leave out (menus, sidebars, share, "
                                "related and ad boxes, by their class and id names)"}


class Rendering(NamedTuple):
    text: str
    rows: np.ndarray  # HTML_OWN_FEATURES of each physical line of `text`
    comments: list[str]  # lines of the comment sections, COMMENT_BREAK between comments
    removed: list[dict[str, Any]]  # a span per kind of element left out
    language: str | None  # the page's declared language (`<html lang>`, primary subtag, lowercased)


def render(html: str, prune: bool = True) -> Rendering:
    """The page as text for the cleaner, the HTML features of each line, its comment lines, what was left out.

    `prune` leaves out what the page marks as navigation, footer, sidebar or masthead, and what
    resiliparse's main-content rules leave out; a span per kind the page has records it (lexbor
    does not say what it matched, so the preview names the kind, not the text: these are whole
    elements, not lines the cleaner judged). One rendering, the main-content one, fed to the
    cleaner whole: held out it scored as the full rendering did with "the main-content
    rendering has this line" as a line feature (BoW F1 0.952 both), for one rendering
    instead of two and a third of the lines to clean."""
    tree = HTMLTree.parse(html)
    body = tree.body  # each `tree.body` is a look-up of lexbor's (3 us): read once
    removed: list[dict[str, Any]] = []
    if body is None:
        return Rendering("", np.zeros((0, len(HTML_OWN_FEATURES))), [], removed, None)
    root = body.parent
    declared = root.getattr("lang") if root is not None else None
    language = (declared.split("-")[0].strip().lower() or None) if declared else None
    comments = _take_comment_sections(body)
    skip = None
    if prune:  # counted by tag and attribute in C; reading the elements themselves would cost more
        present = [kind for kind in _CHROME
                   if len(body.get_elements_by_tag_name(kind[2])) or len(body.get_elements_by_attr("role", kind[3]))]
        removed = [{"lines": None, "reason": reason, "preview": what} for _, reason, _, _, what in present]
        removed.append(dict(MAIN_CONTENT_SPAN))
        skip = [selector for selector, *_ in present]  # the converter tests each selector on every element
        _keep_embedded_posts(body)
        _unname_title_ancestors(body)
    _mark_articles(tree, body)
    markup = extract_plain_text(tree, preserve_formatting="minimal_html", links=False, list_bullets=True,
                                main_content=prune, comments=False, skip_elements=skip)
    text, rows = _lines_of(markup)
    return Rendering(text, rows, comments, removed, language)


# Posts of social networks an article quotes, embedded by the networks' own markup. Their class names
# ("twitter-...") make the main-content rules take them for share buttons; the article quotes them.
EMBEDDED_POSTS = ("twitter-tweet", "twitter-video", "instagram-media", "tiktok-embed")
_EMBEDDED_SELECTOR = ", ".join(f".{name}" for name in EMBEDDED_POSTS)  # matches classes as the look-up by name does


def _keep_embedded_posts(body: Any) -> None:
    """Renames the class of embedded posts, so the main-content rendering keeps them (the cleaner then
    judges their lines). Held out, this took the dev set's recall from 0.968 to 0.978: four of its
    pages quote tweets, which the main-content rules dropped inside a <div>."""
    if body.query_selector(_EMBEDDED_SELECTOR) is None:  # one walk for the four names: most pages have none
        return
    for name in EMBEDDED_POSTS:
        found = body.get_elements_by_class_name(name)
        for element in [found[i] for i in range(len(found))]:  # a copy: the collection follows the renaming
            element.setattr("class", "embedded-post")


def _unname_title_ancestors(body: Any) -> None:
    """Takes the class and id off every element that holds the page's first <h1> (the story's title).

    The main-content rules drop elements by their class and id names, and a site that names its
    story's container oddly (Gawker's sites: class "post permalink ...") lost the whole story
    to them. The elements around the title hold the story or the whole page; the chrome inside
    them is left to the cleaner. Of the stories the main-content rendering lost on 200 dragnet
    pages (not the dev set), this kept 10 of 12; held out on the dev set (5-fold), F1 the same."""
    h1 = body.query_selector("h1")  # stops at the first; indexing a collection walks the tree again, slowly
    if h1 is None:
        return
    element = h1.parent
    while element is not None and element.tag not in ("body", "html"):
        element.delattr("class")  # a no-op where there is none
        element.delattr("id")
        element = element.parent


# Control characters the converter keeps and no page text has: where an article element begins and ends.
ARTICLE_START, ARTICLE_END = "\x02", "\x03"


def _mark_articles(tree: Any, body: Any) -> None:
    """A text node at the start and the end of the page's first `<article>` and first schema.org
    articleBody element.

    The converter keeps no attributes and no <article> tags, so this is how a line learns that it
    is inside one: the markers come out in the text, on lines of their own where the element is a
    block, and _lines_of takes them out again. Only the first of each: a listing's hundred
    <article> teasers would cost a millisecond (inserting a node costs 20 us), and the story is
    the first article on nearly every page that has one."""
    # The first <article> by a query that stops at it (a page has one on most sites, often near the top;
    # indexing a collection walks the tree again, slowly); articleBody by attribute, which few pages have
    # (a query would walk the whole tree in lexbor's slower selector engine, a collection is empty at once).
    bodies = body.get_elements_by_attr("itemprop", "articleBody")
    for element in (body.query_selector("article"), bodies[0] if len(bodies) else None):
        if element is None:
            continue
        first = element.first_child
        if first is not None:
            element.insert_before(tree.create_text_node(ARTICLE_START), first)
            element.append_child(tree.create_text_node(ARTICLE_END))


# A line's first three HTML features (html_p, html_heading, html_list_item) by the block it is inside.
_NO_BLOCK, _P, _HEADING, _LI = (False, False, False), (True, False, False), (False, True, False), (False, False, True)


def _lines_of(markup: str) -> tuple[str, np.ndarray]:
    """Plain text of the converter's minimal markup, and what each line's markup said about it.

    The converter writes each block on its own line(s); a block keeps its tag until it closes
    (a <p> with <br> spans lines). List items get the bullet the text cleaner reads lists by.
    Tags are taken out of the whole text at once (one regex pass), so the per-line work is a
    few string tests. Links are not rendered: with the main-content rendering, the share of a
    line's text in links added nothing held out (BoW F1 0.960 with and without)."""
    text = unescape(_TAG.sub("", markup.replace("<li>", "\u2022 ")))
    marked = ARTICLE_START in markup
    if marked:
        text = text.replace(ARTICLE_START, "").replace(ARTICLE_END, "")
    plain = text.split("\n")
    rows: list[tuple[bool, ...]] = []
    after_h1 = False
    block = _NO_BLOCK  # (p, heading, list item): the block element the current line is inside
    articles = 0  # how many article elements the current line is inside
    markers_only: list[int] = []  # lines that only held article markers
    for i, (raw, left) in enumerate(zip(markup.split("\n"), plain, strict=True)):
        in_article = articles > 0
        if not raw:  # a blank line (every other line of most renderings) opens and closes nothing
            rows.append((*block, False, after_h1, in_article))
            continue
        if marked and (ARTICLE_START in raw or ARTICLE_END in raw):
            opened = raw.count(ARTICLE_START)
            in_article = in_article or opened > 0
            articles = max(0, articles + opened - raw.count(ARTICLE_END))
            if not left.strip():
                markers_only.append(i)
        line = raw.lstrip()
        if line[:1] == "<":  # only a tag opens a block
            if line.startswith("<p>"):
                block = _P
            elif line.startswith("<li>"):
                block = _LI
            elif line.startswith("<h") and line[2:3].isdigit():
                block = _HEADING
                after_h1 = after_h1 or line[2] == "1"  # the article's title is usually the page's first <h1>
        # the converter separates table cells by tabs
        rows.append((*block, "\t" in raw, after_h1, in_article))
        if line.endswith(("</p>", "</li>")) or line[-5:-2] == "</h":
            block = _NO_BLOCK
    # fromiter over the flattened rows: np.array reads nested tuples an element at a time, several times slower
    table = np.fromiter(chain.from_iterable(rows), np.float64, len(rows) * len(HTML_OWN_FEATURES)).reshape(
        len(rows), len(HTML_OWN_FEATURES))
    if markers_only:
        keep = np.ones(len(plain), dtype=bool)
        keep[markers_only] = False
        text = "\n".join(line for line, kept in zip(plain, keep.tolist(), strict=True) if kept)
        table = table[keep]
    return text, table


def _take_comment_sections(body: Any) -> list[str]:
    """Lines of the page's comment sections, which are cut out of the tree; COMMENT_BREAK between comments.

    lexbor finds the outermost sections (COMMENT_SECTIONS); they are handed, as HTML, to the
    trafilatura mode's splitter (lxml, on the sections only), so both modes give the comments
    stage the same lines."""
    from cleanpipe.stages.strip import _take_comment_sections as split

    found = body.query_selector_all(COMMENT_SECTIONS)
    if not len(found):
        return []
    sections = [found[i] for i in range(len(found))]  # indexing: iterating the collection costs more
    wrapper = lxml.html.fragment_fromstring("".join(s.html for s in sections), create_parent="div")
    for section in sections:
        section.decompose()
    return split(wrapper)


def comment_lines(lines: list[str], removed: list[dict[str, Any]]) -> list[tuple[int, str]]:
    """The comment section's lines for the comments stage; its own heading is recorded as removed."""
    out: list[tuple[int, str]] = []
    for line in lines:
        if line and COMMENTS_HEADING.match(line):
            removed.append({"lines": None, "reason": "comments-heading", "preview": line[:PREVIEW_CHARS]})
        elif line != COMMENT_BREAK or (out and out[-1][1] != COMMENT_BREAK):
            out.append((0, line))
    while out and out[-1][1] == COMMENT_BREAK:
        out.pop()
    return out


def without_line_numbers(paragraphs: list[Paragraph], removed: list[dict[str, Any]],
                         ) -> tuple[list[Paragraph], list[dict[str, Any]]]:
    """Line numbers of the rendered text mean nothing in the raw HTML: drop them, keep the rest."""
    return ([Paragraph(text=p.text, source_lines=None, kind=p.kind) for p in paragraphs],
            [{**span, "lines": None} for span in removed])

