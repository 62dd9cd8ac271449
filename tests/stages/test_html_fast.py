"""The fast HTML mode (strip.html_mode = "fast"): lexbor renders the page, the text cleaner cleans it."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from cleanpipe.cli import main
from cleanpipe.config import ConfigError, StripConfig, load_config
from cleanpipe.model import Document, Source
from cleanpipe.stages import html_fast
from cleanpipe.stages.strip import Stripper, clean_html, clean_html_fast, strip_html

FAST = StripConfig(html_mode="fast")

STORY = [
    "The harbour ferry returned to service on Monday with a new electric engine that the operator says will "
    "halve its running costs over the next ten years of service on the crossing.",
    "Passengers said the crossing was quieter than they remembered, and the crew said the boat was easier to "
    "handle in the strong winds that the harbour is known for in the winter months.",
    "The council paid for most of the refit from its transport budget, and a regional grant covered the rest, "
    "according to the figures it published with the minutes of its last meeting.",
    "A second ferry is due for the same work next spring, when the timetable is thinner and the yard has room "
    "for a boat of its size, the operator said in a statement on its website.",
]
RELATED = ["Bakery wins regional prize", "New bus timetable from May", "Library roof repaired at last",
           "Swimming pool opens early"]
COMMENTS = [("Oskar", "My grandfather helped refit the boat in the seventies."),
            ("Lina", "Keep the open deck, please!")]


def _page(aside_tag: str = "aside", comments: bool = True) -> str:
    links = "".join(f"<li><a href='/s/{n}'>{title}</a></li>" for n, title in enumerate(RELATED))
    thread = "".join(f"<li class='comment'><cite>{who}</cite><p>{said}</p></li>" for who, said in COMMENTS)
    return (
        "<html><head><title>Ferry back | Harbour News</title>"
        "<meta property='og:title' content='Harbour Ferry Gets a New Engine'><meta name='author' content='Ada Lovell'><meta property='article:published_time' content='2026-03-03'>"
        "</head><body>"
        "<header><a href='/'>Harbour News</a> <a href='/login'>Sign in</a></header>"
        "<nav><ul><li><a href='/world'>World</a></li><li><a href='/sport'>Sport</a></li>"
        "<li><a href='/weather'>Weather</a></li></ul></nav>"
        "<main><article><h1>Harbour Ferry Gets a New Engine</h1>"
        + "".join(f"<p>{para}</p>" for para in STORY)
        + "</article>"
        + (f"<section class='comments-area'><h3>2 Comments</h3><ol class='comment-list'>{thread}</ol></section>"
           if comments else "")
        + f"<{aside_tag} class='related'><h3>More from the harbour</h3><ul>{links}</ul></{aside_tag}>"
        "</main><footer><p>© 2026 Harbour News. All rights reserved.</p>"
        "<a href='/privacy'>Privacy</a> <a href='/contact'>Contact us</a></footer></body></html>")


def test_fast_mode_keeps_the_article_and_leaves_the_chrome():
    r = clean_html_fast(_page(), FAST)
    text = r.text()
    for para in STORY:
        assert para in text
    for chrome in ["Sign in", "Sport", "Weather", "Bakery wins", "All rights reserved", "Contact us",
                   "More from the harbour"]:
        assert chrome not in text, chrome
    assert r.title == "Harbour Ferry Gets a New Engine"
    assert r.byline == "Ada Lovell" and r.date == "2026-03-03"  # from <meta>, as the trafilatura fast setting


def test_fast_mode_gives_the_comments_stage_what_the_trafilatura_mode_gives_it():
    fast, slow = clean_html_fast(_page(), FAST), clean_html(_page())
    assert fast.comment_lines == slow.comment_lines == [
        (0, "Oskar"), (0, COMMENTS[0][1]), (0, ""), (0, "Lina"), (0, COMMENTS[1][1])]
    assert fast.comment_source == "html"
    assert "seventies" not in fast.text()
    assert any(s["reason"] == "comments-heading" and s["preview"] == "2 Comments" for s in fast.removed)


def test_what_the_markup_marks_as_chrome_is_recorded_by_kind():
    r = clean_html_fast(_page(), FAST)
    reasons = {s["reason"] for s in r.removed}
    assert {"html-nav", "html-footer", "html-aside", "html-header"} <= reasons
    assert all(s["lines"] is None and s["preview"] for s in r.removed)  # rendered-text lines are no raw lines
    assert all(p.source_lines is None for p in r.paragraphs)
    # a page without those elements records none of them
    bare = "<html><body><div>" + "".join(f"<p>{para}</p>" for para in STORY) + "</div></body></html>"
    assert not {"html-nav", "html-footer", "html-aside", "html-header"} & {
        s["reason"] for s in clean_html_fast(bare, FAST).removed}


def test_a_box_of_links_without_html5_markup_is_dropped_and_recorded():
    r = clean_html_fast(_page(aside_tag="div"), FAST)
    text = r.text()
    assert "Bakery wins" not in text and "More from the harbour" not in text
    assert STORY[-1] in text
    assert "html-main-content" in {s["reason"] for s in r.removed}  # its class names it: main-content rules
    assert all(s["reason"] for s in r.removed)
    # a box no class names: dropped by a line rule or the line model, with its reason
    plain = _page(aside_tag="div").replace("class='related'", "")
    r = clean_html_fast(plain, FAST)
    assert "Bakery wins" not in r.text() and "More from the harbour" not in r.text()
    assert "More from the harbour" in " ".join(s["preview"] for s in r.removed)


def test_an_article_inside_an_element_marked_as_chrome_is_still_read():
    # a site that wraps everything in one <header> with the article's <h1>: that header is not the masthead
    wrapped = ("<html><body><header><h1>Harbour Ferry Gets a New Engine</h1>"
               + "".join(f"<p>{para}</p>" for para in STORY) + "</header></body></html>")
    assert STORY[0] in clean_html_fast(wrapped, FAST).text()
    # an article in an <aside> and nothing else: cut out, nothing is left, so the page is read again whole
    aside_only = "<html><body><aside>" + "".join(f"<p>{para}</p>" for para in STORY) + "</aside></body></html>"
    assert STORY[1] in clean_html_fast(aside_only, FAST).text()


def test_rendered_lines_know_paragraphs_headings_and_list_items():
    text, rows, comments, removed, _ = html_fast.render(
        "<html><body><h2>Title</h2><p>Some words with <a href='/x'>a link</a> inside.</p>"
        "<ul><li><a href='/a'>Only a link</a></li></ul></body></html>", prune=False)
    lines = text.split("\n")
    features = {line.strip(): rows[i] for i, line in enumerate(lines) if line.strip()}
    assert features["Title"][1] == 1  # heading
    assert features["Some words with a link inside."][0] == 1  # in a <p>, the link's text kept in the line
    assert features["\u2022 Only a link"][2] == 1  # a list item
    assert not any(row[4] for row in rows)  # no <h1> on the page
    assert comments == [] and removed == []


def test_empty_and_broken_html_do_not_fail():
    for html in ["", "<html></html>", "<p>unclosed <b>bold", "\x00\x01 not html at all"]:
        r = clean_html_fast(html, FAST)
        assert r.paragraphs or r.removed  # an empty result says why


def test_strip_html_follows_the_configured_mode():
    assert STORY[0] in strip_html(_page(), FAST)
    assert STORY[0] in strip_html(_page())


def test_stripper_records_the_fast_mode_and_its_model():
    doc = Document(id="d", source=Source(path="p.html", sha256="0" * 64, format="html", content_type="html"),
                   content=_page())
    stage = Stripper(FAST).process(doc).stages[-1]
    assert stage["mode"] == "html-fast" and stage["line_model"]["version"].startswith("html")
    assert stage["comment_section"] == "html" and stage["kept_paragraphs"] == len(STORY)
    doc = Document(id="d", source=Source(path="p.html", sha256="0" * 64, format="warc", content_type="html"),
                   content=_page())
    assert Stripper(StripConfig()).process(doc).stages[-1]["mode"] == "html"  # trafilatura stays the default


def test_html_mode_is_validated(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("[strip]\nhtml-mode = 'fast'\n")
    assert load_config(path).strip.html_mode == "fast"
    path.write_text("[strip]\nhtml-mode = 'quick'\n")
    with pytest.raises(ConfigError, match="html_mode"):
        load_config(path).validate()


def test_cli_run_with_html_mode_fast(tmp_path):
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "ferry.html").write_text(_page(), encoding="utf-8")
    res = CliRunner().invoke(main, ["run", str(tmp_path / "in"), "--out", str(tmp_path / "o"), "--html-mode", "fast",
                                    "--no-state", "--provenance", "full"])
    assert res.exit_code == 0, res.output
    record = json.loads((tmp_path / "o" / "documents.jsonl").read_text(encoding="utf-8"))
    assert all(para in record["text"] for para in STORY)
    assert "Weather" not in record["text"] and "seventies" not in record["text"]
    assert [c["text"] for c in record["comments"]] == [said for _, said in COMMENTS]
    strip = next(s for s in record["provenance"]["stages"] if s["stage"] == "strip")
    assert strip["mode"] == "html-fast"
    assert {"html-nav", "comments-heading"} <= {s["reason"] for s in strip["spans"]}
    res = CliRunner().invoke(main, ["run", str(tmp_path / "in"), "--out", str(tmp_path / "o2"), "--html-mode", "x"])
    assert res.exit_code == 2


def test_cli_strip_with_html_mode_fast(tmp_path):
    (tmp_path / "ferry.html").write_text(_page(), encoding="utf-8")
    res = CliRunner().invoke(main, ["strip", str(tmp_path / "ferry.html"), "--html-mode", "fast"])
    assert res.exit_code == 0, res.output
    assert STORY[0] in res.output and "Weather" not in res.output


def test_rendered_lines_know_table_rows_and_what_comes_after_the_first_h1():
    text, rows, _, _, _ = html_fast.render(
        "<html><body><p>Above the title.</p><h1>Title</h1><p>Below it.</p>"
        "<table><tr><td>Pos.</td><td>Driver</td></tr><tr><td>1</td><td>Kyle</td></tr></table></body></html>",
        prune=False)
    features = {line.strip(): rows[i] for i, line in enumerate(text.split("\n")) if line.strip()}
    assert features["Above the title."][4] == 0 and features["Title"][4] == 1 and features["Below it."][4] == 1
    table = [row for line, row in features.items() if "Kyle" in line or "Driver" in line]
    assert len(table) == 2 and all(row[3] == 1 for row in table)
    assert features["Below it."][3] == 0


def test_comment_sections_are_the_outermost_elements_so_named_and_commentary_is_not_one():
    page = ("<html><body><article>" + "".join(f"<p>{para}</p>" for para in STORY)
            + "<div class='commentary'><p>An expert's commentary stays with the article.</p></div></article>"
            + "<div id='comments'><div class='comment'><p>First reader.</p>"
            + "<div class='comment-reply'><p>A reply.</p></div></div></div>"
            + "<section class='post-comments'><p>Second section.</p></section></body></html>")
    text, _, comments, _, _ = html_fast.render(page)
    assert "commentary stays" in text and "First reader" not in text and "Second section" not in text
    assert [line for line in comments if line] == ["First reader.", "A reply.", "Second section."]


def test_the_declared_language_is_read_and_used_only_where_its_function_words_fit():
    english = "<html lang='en-GB'><body>" + "".join(f"<p>{para}</p>" for para in STORY) + "</body></html>"
    assert html_fast.render(english).language == "en"
    assert html_fast.render("<html><body><p>No lang.</p></body></html>").language is None
    # a template's lang="de" on an English page: the German list finds few function words, the page is
    # identified as English, and its prose still reads as prose
    mislabelled = english.replace("lang='en-GB'", "lang='de'")
    assert clean_html_fast(mislabelled, FAST).text() == clean_html_fast(english, FAST).text()
    from cleanpipe.stages.lines import analyse
    text = "\n".join(STORY)
    assert [ln.stop_ratio for ln in analyse(text, "de")] == [ln.stop_ratio for ln in analyse(text)]
    assert [ln.stop_ratio for ln in analyse(text, "en")] == [ln.stop_ratio for ln in analyse(text)]


def test_rendered_lines_know_whether_they_are_inside_an_article_element():
    text, rows, _, _, _ = html_fast.render(
        "<html><body><div><p>Before the article.</p></div><article><p>Inside it.</p>"
        "<div>Loose text inside it too.</div></article><p>After it.</p></body></html>", prune=False)
    lines = text.split("\n")
    assert "\x02" not in text and "\x03" not in text  # the markers are taken out again
    assert len(rows) == len(lines)
    features = {line.strip(): rows[i] for i, line in enumerate(lines) if line.strip()}
    assert features["Before the article."][5] == 0 and features["After it."][5] == 0
    assert features["Inside it."][5] == 1 and features["Loose text inside it too."][5] == 1


def test_an_embedded_post_the_article_quotes_is_rendered():
    tweet = ("<blockquote class='twitter-tweet'><p lang='en'>The ferry is back and it is quiet!</p>"
             "&mdash; Harbour Watch (@harbourwatch) <a href='https://twitter.com/x/status/1'>March 3, 2026</a>"
             "</blockquote>")
    page = ("<html><body><article><h1>Harbour Ferry Gets a New Engine</h1>" + f"<p>{STORY[0]}</p>"
            + f"<div class='media'>{tweet}</div>"
            + "".join(f"<p>{para}</p>" for para in STORY[1:]) + "</article></body></html>")
    text = html_fast.render(page).text
    assert "The ferry is back and it is quiet!" in text and "(@harbourwatch)" in text


@pytest.mark.parametrize("doctype, name, renamed", [
    ("<!doctype html>", "twitter-tweet", True), ("<!doctype html>", "Twitter-Tweet", False),
    ("", "Twitter-Tweet", True),  # a quirks-mode page: class names match without case
    ("", "twitter-tweets", False),
])
def test_embedded_posts_are_found_by_class_name_as_lexbor_matches_it(doctype, name, renamed):
    from resiliparse.parse.html import HTMLTree

    tree = HTMLTree.parse(f"{doctype}<html><body><div><blockquote class='x {name}'>Hi</blockquote></div></body></html>")
    html_fast._keep_embedded_posts(tree.body)
    assert (tree.body.query_selector("blockquote").getattr("class") == "embedded-post") == renamed


def test_a_story_in_a_container_the_main_content_rules_misread_is_still_rendered():
    # the main-content rules drop an element classed "permalink"; this one holds the story's title and text
    page = ("<html><body><div class='menu'><a href='/'>Home</a></div><div class='post permalink'>"
            "<h1>Harbour Ferry Gets a New Engine</h1>" + "".join(f"<p>{para}</p>" for para in STORY)
            + "</div></body></html>")
    assert STORY[0] in html_fast.render(page).text
    assert STORY[0] in clean_html_fast(page, FAST).text()
