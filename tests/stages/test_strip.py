from __future__ import annotations

import hashlib

import lxml.html
import numpy as np
import pytest

from cleanpipe.config import StripConfig
from cleanpipe.model import Document, Source
from cleanpipe.stages.linemodel import MODEL_PATH
from cleanpipe.stages.lines import looks_like_comment_thread, parse_dateline
from cleanpipe.stages.strip import Stripper, _take_comment_sections, clean_dump, clean_html, html_metadata, strip_text


def test_news_dump_keeps_article_and_fields(news_dump):
    r = clean_dump(news_dump)
    assert r.title == "Volunteers Rebuild the Old Library Roof Before Winter"
    assert r.byline == "Ada Lovell" and r.date == "March 3, 2026"
    text = r.text()
    assert text.startswith("Volunteers in the village spent four weekends")
    assert "What comes next" in text  # a heading inside the article stays
    assert text.endswith("families are in town.")


def test_news_dump_removes_every_kind_of_chrome(news_dump):
    text = strip_text(news_dump)
    for chrome in ["Home", "Advertisement", "Share this article", "Facebook", "You may also like",
                   "Bakery wins", "Newsletter", "Sign up", "Subscribe", "About us", "Privacy Policy",
                   "All rights reserved", "Back to top", "Daily Example"]:
        assert chrome not in text, chrome


def test_every_removed_line_is_accounted_for(news_dump):
    r = clean_dump(news_dump)
    kept = {n for p in r.paragraphs for n in range(p.source_lines[0], p.source_lines[1] + 1)}
    removed = {n for s in r.removed for n in range(s["lines"][0], s["lines"][1] + 1)}
    title_zone = {i + 1 for i, ln in enumerate(news_dump.split("\n")) if ln.strip() == r.title}
    nonblank = {i + 1 for i, ln in enumerate(news_dump.split("\n")) if ln.strip()}
    assert nonblank <= kept | removed | title_zone
    assert not kept & removed
    assert all(s["reason"] for s in r.removed)


def test_paragraph_source_lines_point_at_raw_lines(news_dump):
    raw = news_dump.split("\n")
    for p in clean_dump(news_dump).paragraphs:
        a, b = p.source_lines
        assert p.text == " ".join(line.strip() for line in raw[a - 1:b])


def test_hard_wrapped_prose_is_joined():
    dump = ("A Title For The Wrapped Story\n\n"
            "This paragraph was wrapped by an old mail client at a fixed width and so it\n"
            "continues on the next line where the sentence goes on for a while longer.\n\n"
            "A second paragraph starts here, and it is a complete sentence with enough words.\n")
    paras = clean_dump(dump).paragraphs
    assert len(paras) == 2 and paras[0].source_lines == [3, 4]
    assert "fixed width and so it continues on the next line" in paras[0].text


def test_comments_heading_splits_off_comment_section():
    dump = ("The council voted on Tuesday to keep the swimming pool open through the winter months, "
            "after hundreds of residents signed a petition asking it to reconsider the closure.\n"
            "The decision will cost the town about forty thousand pounds in heating, officials said on Tuesday.\n"
            "3 Comments\n"
            "Ann says:\n"
            "Good news for the swimming club.\n"
            "Reply\n")
    r = clean_dump(dump)
    assert "Good news" not in r.text() and "Comments" not in r.text()
    assert [t for _, t in r.comment_lines] == ["Ann says:", "Good news for the swimming club.", "Reply"]
    assert r.comment_source == "heading"


def test_a_comment_count_link_above_the_byline_is_not_the_comment_section():
    body = ("The council voted on Tuesday to keep the swimming pool open through the winter months, "
            "after hundreds of residents signed a petition asking it to reconsider the closure.\n"
            "The decision will cost the town about forty thousand pounds in heating, officials said on Tuesday.\n")
    dump = ("Sign in\nRegister now for free, or sign in with any of these services:\n"
            "comments\nPool stays open for the winter\nBy Ann Lee/The Courier\n" + body +
            "3 Comments\nBob says:\nGood news for the swimming club.\n")
    r = clean_dump(dump)
    assert "The decision will cost" in r.text() and "Good news" not in r.text()
    assert [t for _, t in r.comment_lines] == ["Bob says:", "Good news for the swimming club."]


def test_a_comment_count_above_the_first_paragraph_is_not_the_comment_section():
    # the question title scores as a sentence, so the densest region starts above the count
    dump = ("Home\nNews\nWill the town pool stay open all winter?\n* Ann Lee |\n* November 9th 2026\n1 Comment\n"
            "The council voted on Tuesday to keep the swimming pool open through the winter months, "
            "after hundreds of residents signed a petition asking it to reconsider the closure.\n"
            "The decision will cost the town about forty thousand pounds in heating, officials said on Tuesday.\n"
            "1 Comment\nBob says:\nGood news for the swimming club.\n")
    r = clean_dump(dump)
    assert "The council voted" in r.text() and "Good news" not in r.text()
    assert [t for _, t in r.comment_lines] == ["Bob says:", "Good news for the swimming club."]


def test_a_page_of_reader_comments_goes_to_comments_whole():
    thread = [
        "Great article, thanks for sharing it with us.",
        "I agree with most of this, but you didn't mention the cost of the new trains.",
        "Very interesting read!",
        "Nice post Sam!",
        "I think the council should have asked residents first.",
    ]
    r = clean_dump("\n".join(thread))
    assert r.comment_source == "thread" and r.paragraphs == []
    assert looks_like_comment_thread(thread)


def test_an_article_with_quotes_is_not_a_thread():
    article = [
        "The mayor opened the new bridge on Friday after two years of building work and delays.",
        "“I think this bridge will change how people move around the city,” she said at the ceremony.",
        "Engineers said the design uses less steel than the old bridge and should last a century.",
        "Traffic is expected to fall on the ring road by about a fifth during the morning peak.",
    ]
    assert not looks_like_comment_thread(article)


@pytest.mark.parametrize("dump, kept, removed", [
    # German: prose by its own function words; menu and imprint lines are not prose
    ("Menü\nStart\nKontakt\n\n"
     "Die Stadtverwaltung hat heute beschlossen, das alte Schwimmbad im Winter geöffnet zu halten, "
     "nachdem viele Anwohner eine Petition unterschrieben hatten.\n"
     "Die Entscheidung kostet die Stadt rund vierzigtausend Euro für Heizung und Personal im Jahr.\n"
     "Impressum\n",
     ("Schwimmbad", "Personal im Jahr"), ("Menü", "Impressum")),
    # Japanese has no spaces: a paragraph is a handful of \w+ runs, so words come from characters
    ("ホーム\nブログ\nお問い合わせ\n\n"
     "先日、不正に改造したスマートフォンを販売したとして、二十代の男性が逮捕されたというニュースを耳にしました。\n"
     "報道によると、今回販売されたのは機能制限を解除した端末で、公式ストアにないアプリも使えるとのことです。\n"
     "では、なぜ改造した端末を販売すると商標権の侵害になるのでしょうか。\n"
     "関連記事\n",
     ("逮捕", "商標権"), ("ホーム", "関連記事")),
])
def test_articles_in_other_languages_are_found(dump, kept, removed):
    text = strip_text(dump)
    assert all(part in text for part in kept)
    assert not any(part in text for part in removed)


def test_empty_and_chrome_only_dumps():
    assert strip_text("") == ""
    r = clean_dump("Home\nAbout us\nPrivacy Policy\n© 2026 Example")
    assert r.paragraphs == [] and r.removed


def test_parse_dateline():
    assert parse_dateline("Posted on October 30, 2026 by Jonas Ekberg") == ("October 30, 2026", "Jonas Ekberg")
    assert parse_dateline("By Ann Lee | March 3, 2025") == ("March 3, 2025", "Ann Lee")
    assert parse_dateline("2025-03-03") == ("2025-03-03", None)
    assert parse_dateline("The council met on Tuesday") is None


HTML_PAGE = ("<html><head><title>Page</title></head><body><nav><a href='/'>Home</a><a href='/x'>News</a></nav>"
            "<article><h1>Harbour Ferry Gets a New Engine</h1>"
            "<p>The harbour ferry returned to service on Monday with a new electric engine that the operator "
            "says will halve its running costs over the next ten years of service.</p>"
            "<p>Passengers said the crossing was quieter, and the crew said the boat was easier to handle.</p>"
            "</article><div id='comments' class='comments'><h2>Comments</h2>"
            "<div class='comment'><p>About time they replaced that old engine, honestly.</p></div></div>"
            "<footer>© 2026 Example News. All rights reserved.</footer></body></html>")


@pytest.mark.parametrize("fast", [False, True])
def test_html_main_text_and_comments_are_separate(fast):
    r = clean_html(HTML_PAGE, StripConfig(html_fast=fast, html_favor_precision=not fast))
    assert "halve its running costs" in r.text()
    assert "About time" not in r.text() and "All rights reserved" not in r.text()
    assert [t for _, t in r.comment_lines] == ["About time they replaced that old engine, honestly."]


def _html_article(after_article: str) -> str:
    return ("<html><head><title>Page</title></head><body><main><article><h1>Harbour Ferry Gets a New Engine</h1>"
            "<p>The harbour ferry returned to service on Monday with a new electric engine that the operator "
            "says will halve its running costs over the next ten years of service on the crossing.</p>"
            "<p>Passengers said the crossing was quieter, and the crew said the boat was easier to handle "
            "in the strong winds that the harbour is known for in the winter months.</p></article>"
            + after_article + "</main></body></html>")


def test_html_comment_sections_are_taken_whole_before_extraction():
    html = _html_article(
        "<section class='comments-area'><h3>2 Comments</h3><ol class='comment-list'>"
        "<li class='comment'><cite>Oskar</cite><div class='comment-body'><p>My grandfather helped refit the boat "
        "in the seventies.</p></div></li>"
        "<li class='comment'><cite>Lina</cite><!-- spam check --><p>Keep the open deck, please!</p></li></ol>"
        "<form><label>Name *</label><textarea></textarea></form></section>"
        "<div class='commentary'><p>Our commentary: the council should buy two more of these ferries for the "
        "other crossings in the bay, and soon, before the old boats fail for good.</p></div>")
    for fast in (False, True):
        r = clean_html(html, StripConfig(html_fast=fast, html_favor_precision=not fast))
        assert [t for _, t in r.comment_lines] == [  # "": where one comment element ends and the next begins
            "Oskar", "My grandfather helped refit the boat in the seventies.", "", "Lina", "Keep the open deck, please!"]
        assert "seventies" not in r.text() and "halve its running costs" in r.text()
        assert any(x["reason"] == "comments-heading" and x["preview"] == "2 Comments" for x in r.removed)


def test_comment_sections_are_cut_out_and_the_text_after_them_stays():
    tree = lxml.html.fromstring("<div><p>Story.</p><div id='comments'><p>Nice.</p><div class='comment'>"
                                "<p>Agreed.</p></div></div>Photo: Ann Lee<div><div class='comment-list'>Late."
                                "</div>Caption two</div></div>")
    assert _take_comment_sections(tree) == ["Nice.", "Agreed.", "", "Late."]  # "": between two sections
    assert tree.text_content() == "Story.Photo: Ann LeeCaption two"


def test_each_comment_element_is_one_comment_and_a_reply_its_own():
    tree = lxml.html.fromstring(
        "<div><div id='comments'><h3>Discussion</h3><ol>"
        "<li class='comment depth-1'><b>ann</b> <i>May 2, 2024</i><p>First point.</p><p>Second point.</p>"
        "<ul class='children'><li class='comment depth-2'><b>bo</b><p>A reply.</p></li></ul></li>"
        "<li class='comment depth-1'><b>cy</b><p>Last word.</p></li></ol><p>Closed for comments.</p></div></div>")
    assert _take_comment_sections(tree) == [
        "Discussion", "", "ann May 2, 2024", "First point.", "Second point.", "", "bo", "A reply.", "",
        "cy", "Last word.", "", "Closed for comments."]


def test_repeated_elements_without_comment_in_their_names_are_not_comments():
    tree = lxml.html.fromstring("<div><div id='comments'><div class='row'><p>One.</p></div>"
                                "<div class='row'><p>Two.</p></div></div></div>")
    assert _take_comment_sections(tree) == ["One.", "Two."]


def test_html_metadata_from_meta_tags_title_and_time():
    html = ("<html><head><title>Ferry &amp; Tram | Example News</title>"
            "<meta property='og:title' content='Ferry &amp; Tram back in service'>"
            '<meta name="author" content="Ann  Lee"><meta property="article:author" content="https://x.org/ann">'
            '<meta property="article:published_time" content="2026-03-02T10:00:00Z"></head><body></body></html>')
    assert html_metadata(html) == ("Ferry & Tram back in service", "Ann Lee", "2026-03-02")
    plain = "<html><head><TITLE>Harbour\n news</TITLE></head><body><time datetime='2025-01-09'>Jan 9</time></body>"
    assert html_metadata(plain) == ("Harbour news", None, "2025-01-09")
    profile_only = '<meta property="article:author" content="https://x.org/ann"><p>text</p>'
    assert html_metadata(profile_only) == (None, None, None)


def test_stripper_stage_records_what_it_removed(news_dump):
    doc = Document(id="d", source=Source(path="p", sha256="0" * 64, format="text", content_type="text"),
                   content=news_dump)
    doc = Stripper().process(doc)
    (log,) = doc.stages
    assert log["stage"] == "strip" and log["mode"] == "text" and log["removed"]
    assert doc.content == "" and doc.title
    assert log["line_model"]["sha256"] == hashlib.sha256(MODEL_PATH.read_bytes()).hexdigest()


def test_a_date_line_does_not_swallow_a_lowercase_line_after_it():
    from cleanpipe.stages.lines import analyse

    lines = [ln.text for ln in analyse("November 3, 2026 at 10:05 am\ngreat article!")]
    assert lines == ["November 3, 2026 at 10:05 am", "great article!"]


ARTICLE = ("The county opened its new flood barrier on Friday after three years of work along the river bank, "
           "and officials said it should protect about two thousand homes from the kind of floods seen in 2019.\n\n"
           "Engineers tested the gates twice during the autumn storms, and both times the barrier held the water back "
           "without any of the leaks that had worried residents during the planning meetings last year.\n\n")


def test_teaser_list_after_article_is_removed():
    teasers = "".join(
        f"Story number {n} about something else entirely\n"
        f"A one-line summary of story {n} that reads like prose and ends with a full stop as blurbs do.\n\n"
        for n in range(4))
    text = strip_text(ARTICLE + "More stories\n\n" + teasers)
    assert "flood barrier" in text and "Story number" not in text and "summary of story" not in text


@pytest.mark.parametrize("credit", [
    "Photo: Ann Lee/Getty Images", "(Image: Reuters)", "Photograph: Tim Roberts/Getty Images",
    "AP Photo/John Doe", "Image credit: NASA", "Shutterstock",
])
def test_photo_credits_between_paragraphs_are_removed(credit):
    first, second = ARTICLE.split("\n\n")[:2]
    r = clean_dump(f"{first}\n\n{credit}\n\n{second}\n", StripConfig(line_model=False))
    assert [p.text for p in r.paragraphs] == [first, second]
    assert [s["reason"] for s in r.removed] == ["chrome:credit"]


def test_copyright_footer_ends_the_article():
    tail = ("© 2026 Example Media. All rights reserved.\n\n"
            "Why farmers may want to paint their cows with stripes, and what the science behind it says about flies.\n")
    text = strip_text(ARTICLE + tail)
    assert "flood barrier" in text and "cows" not in text


def test_comment_thread_found_by_author_lines_without_heading():
    thread = ("1. riverfan says:\nMarch 2, 2026 at 6:34 am\nAbout time this was finished, it took far too long.\n\n"
              "2. oldtown says:\nMarch 2, 2026 at 6:44 am\nThe barrier looks great from the bridge.\n")
    r = clean_dump(ARTICLE + thread)
    assert "About time" not in r.text() and r.comment_source == "markers"
    assert any("About time" in t for _, t in r.comment_lines)


def test_headings_that_end_in_says_are_not_comment_authors():
    """Regression: two headings such as "What the operator says" matched the "Ann says:" author
    pattern, and every paragraph after the first went to the comments stage as a thread."""
    story = ARTICLE + "\n\n".join([
        "What the operator says",
        "The operator told reporters that the gates had been tested twice and worked as they should every time.",
        "Here's what the mayor said:",
        "The mayor said the barrier would protect more than two thousand homes from the floods of recent years.",
        "He said:",
        "The work cost more than planned, and the council will pay for the barrier's upkeep from next year.",
        "Residents said they were glad the work was done and that the noise of the building had stopped at last.",
    ])
    r = clean_dump(story)
    assert r.comment_source is None and r.comment_lines == []
    assert "The mayor said the barrier" in r.text() and "the noise of the building" in r.text()


class _Verdicts:
    """A line model's interface with fixed probabilities: the guard below is about what the
    strip stage does with a model's verdicts, whatever the model."""

    threshold = 0.5

    def __init__(self, probabilities):
        self._probabilities = np.asarray(probabilities)

    def probabilities(self, features):
        return self._probabilities


def test_model_may_not_drop_a_prose_line_longer_than_all_it_keeps():
    """Regression: a crawler's flattened page with its whole 1,056-word article on one line among
    180 menu lines lost the article to the line model, which kept a 21-word author bio."""
    from cleanpipe.stages.lines import analyse
    from cleanpipe.stages.strip import _second_opinion

    article = " ".join(f"The flood barrier was tested for the {n}th time this autumn, and it held." for n in range(20))
    lines = analyse("\n".join(["Markets", article, "Ann Lee writes about the county, its rivers and its people."]))
    verdicts = {0: "chrome:nav", 1: None, 2: None}
    revised = _second_opinion(verdicts, [0, 1, 2], _Verdicts([0.1, 0.2, 0.9]), np.zeros((3, 1)), lines)
    assert revised == {0: "chrome:nav", 1: None, 2: None}
    # the model's drop stands where the line is not longer than what it keeps
    short = analyse("\n".join(["Markets", article, article + " " + article]))
    revised = _second_opinion(verdicts, [0, 1, 2], _Verdicts([0.1, 0.2, 0.9]), np.zeros((3, 1)), short)
    assert revised == {0: "chrome:nav", 1: "line-model", 2: None}


def test_comment_thread_found_by_timestamps():
    thread = "".join(f"user{n}\n{n + 1} days ago\nI think the barrier was worth every penny, honestly.\n\n"
                     for n in range(3))
    r = clean_dump(ARTICLE + thread)
    assert "worth every penny" not in r.text()
    assert [t for _, t in r.comment_lines][:3] == ["user0", "1 days ago", "I think the barrier was worth every penny, honestly."]


def test_comment_thread_found_by_name_and_date_lines():
    thread = "".join(f"{n + 1}. {name} - October 26, 2012\nI think the barrier was worth every penny, honestly.\n\n"
                     for n, name in enumerate(["James Cannon - Runcorn UK", "The Keeper", "CmdrR"]))
    r = clean_dump(ARTICLE + "Good luck.\n\n" + thread)
    assert "worth every penny" not in r.text() and r.comment_source == "markers"
    assert "Good luck." in r.text()  # the line above a named stamp is not its author
    assert [t for _, t in r.comment_lines][:2] == ["1. James Cannon - Runcorn UK - October 26, 2012",
                                                   "I think the barrier was worth every penny, honestly."]


def test_one_name_and_date_line_is_a_byline_not_a_thread():
    r = clean_dump(ARTICLE + "Ann Lee - October 26, 2012\nShe covers the county for the paper and lives by the river.\n")
    assert r.comment_source is None and "flood barrier" in r.text()


@pytest.mark.parametrize("heading", ["Comments »", "Comments»", "Comments ↓", "12 Comments ›"])
def test_comments_heading_with_a_trailing_arrow(heading):
    r = clean_dump(ARTICLE + heading + "\nAnn says:\nGood news for the river towns.\n")
    assert r.comment_source == "heading" and "Good news" not in r.text()


def test_deeply_nested_html_keeps_its_text_or_says_why():
    """Regression (#18): HTML nested deeper than ~256 levels lost its text with the reason
    'nothing left after removing site chrome'."""
    from cleanpipe.stages.strip import clean_html

    para = "<p>" + "The council met on Tuesday to discuss the new harbour tram line and its budget. " * 3 + "</p>"
    deep = "<html><body>" + "<div>" * 400 + para * 4 + "</div>" * 400 + "</body></html>"
    assert len(clean_html(deep).paragraphs) == 4
    deeper = "<html><body>" + "<div>" * 5000 + para * 4 + "</div>" * 5000 + "</body></html>"
    result = clean_html(deeper)
    if not result.paragraphs:
        assert any(r["reason"] == "html-too-deep" and "levels deep" in r["preview"] for r in result.removed)


TRAM = [
    "The city council voted on Monday to approve the new harbour tram line after a long debate, and officials "
    "said construction would begin in the spring. The project has been discussed for more than a decade.",
    "Residents of the old warehouse district said they welcomed the decision but worried about noise during the "
    "night work. The council promised to publish a schedule of the work and to set up a hotline for complaints.",
    "The operator, Nordvik Transit, said the line would carry about four thousand people a day in its first year. "
    "Its chief executive said the company would publish punctuality figures every month once the trams were running.",
]


@pytest.mark.parametrize("marker", ["Share this article", "Advertisement"])
def test_markers_between_paragraphs_cost_no_paragraph(marker):
    # a short clean story with a marker after each paragraph: it lost two paragraphs to the line model,
    # and with "Share this article" the rules took paragraph and marker for a list of teasers
    page = "Harbour tram approved\n\nBy Tessa Marlow\n\n" + f"\n\n{marker}\n\n".join(TRAM) + "\n"
    result = clean_dump(page)
    assert result.text() == "\n\n".join(TRAM)
    lines = page.split("\n")
    markers = [span for span in result.removed if span["reason"].startswith("chrome:")]
    assert [lines[span["lines"][0] - 1] for span in markers] == [marker, marker]


def test_advertisements_inside_a_story_with_headings_keep_its_headings():
    sections = [("A slow start", TRAM[0]), ("Worries in the district", TRAM[1]), ("The operator looks ahead", TRAM[2])]
    body = []
    for k, (heading, paragraph) in enumerate(sections * 2):
        body += [heading, paragraph, paragraph.replace("council", "city"), "Advertisement" if k < 5 else ""]
    page = "Harbour tram approved\n\n" + "\n\n".join(line for line in body if line) + "\n"
    result = clean_dump(page)
    kept = [p.text for p in result.paragraphs]
    assert [h for h, _ in sections * 2] == [t for t in kept if t in dict(sections)]
    assert "Advertisement" not in kept
    assert sum(span["reason"] == "chrome:ad" for span in result.removed) == 5


LIBRARY = ("<html><head><title>Library opens in town</title></head><body><article><h1>Library opens in town</h1>"
           "<p>The town council opened a new public library on Main Street this week, with thirty thousand books "
           "and a reading room for children. The mayor said the building had been planned for ten years.</p>"
           "<p>Many residents visited on the first day and the staff said they had issued more than four hundred "
           "library cards by the evening. The library will be open every day except Sunday.</p>{when}</article>"
           "<footer>Copyright 2024 Town News. All rights reserved.</footer></body></html>")


@pytest.mark.parametrize(("when", "date"), [
    ("", None),  # trafilatura reads the footer's year as 2024-01-01: no day the page says
    ("<p>Published January 1, 2024</p>", "2024-01-01"),
    ('<time datetime="2024-01-01T09:00">New Year\'s Day</time>', "2024-01-01"),
    ("<p>Published March 5, 2024</p>", "2024-03-05"),
])
def test_no_date_is_made_from_a_year_alone(when, date):
    assert clean_html(LIBRARY.format(when=when)).date == date
