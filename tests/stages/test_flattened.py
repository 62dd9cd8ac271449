from cleanpipe.model import Paragraph
from cleanpipe.stages.flattened import MAX_LINE_WORDS, Cut, _sentences
from cleanpipe.stages.strip import clean_dump

MENU = ("Home News World Business Markets Technology Science Health Sports Entertainment Travel Style Food "
        "Video Podcasts Newsletters Subscribe Sign In Search Menu Local Weather Traffic Opinion Editorials "
        "Letters Obituaries Classifieds Jobs Real Estate Cars Deals Events Calendar Contact Us Advertise")
STORY = [
    "The city council voted on Tuesday to close the old bridge over the river for repairs next spring.",
    "Engineers found that two of the steel beams had rusted through after decades of salt on the roads.",
    "The mayor said the closure would last about eight months and that buses would run a longer route.",
    "Shop owners near the bridge worry that their customers will go to the new mall on the other side.",
    "One baker said she had already lost a third of her morning trade when the bridge was narrowed.",
    "The council promised a fund of two million dollars to help the businesses that lose the most.",
    "Work on the bridge is expected to begin in March, weather permitting, and to end before winter.",
    "A public meeting about the detours will be held at the library on the first Monday of next month.",
    "Residents can also send their questions to the council by post or through its website until then.",
    "The last time the bridge was closed, in 1987, the repairs took more than a year and cost twice as much.",
    "Council members said they had learned from that experience and would hire two firms instead of one.",
    "The vote passed by seven votes to two, with both members from the east side voting against it.",
]
FOOTER = ("Privacy Policy Terms of Use Cookie Settings Accessibility Site Map About Us Careers Help Center "
          "Copyright 2024 Example Media Group All rights reserved")


def test_a_menu_run_together_with_a_sentence_is_cut_where_the_sentence_starts():
    assert _sentences("Home News Sport Weather Business Culture Travel Video Police said on Monday that it is over.") == [
        "Home News Sport Weather Business Culture Travel Video", "Police said on Monday that it is over."]
    assert _sentences("The Prime Minister of the United Kingdom said so.") == [
        "The Prime Minister of the United Kingdom said so."]  # capitals, but not eight in a row


def test_sentences_are_cut_at_their_ends_only():
    assert _sentences('He left. "Why?" she asked. See e.g. this one. It costs 3.50 dollars! 东京很大。大阪也是。') == [
        "He left.", '"Why?" she asked.', "See e.g. this one.", "It costs 3.50 dollars!", "东京很大。", "大阪也是。"]
    assert _sentences("no end at all") == ["no end at all"]


def test_a_page_written_line_by_line_is_left_as_it_is():
    long_paragraph = " ".join(STORY * 2)  # over MAX_LINE_WORDS words, beside many short lines
    assert len(long_paragraph.split()) > MAX_LINE_WORDS
    menu = [" ".join(MENU.split()[i:i + 4]) for i in range(0, 40, 4)] * 10  # 100 short lines
    text = "\n".join([*menu, long_paragraph, *FOOTER.split()])
    cut = Cut(text)
    assert not cut.cut and cut.text is text


def test_a_flattened_page_is_judged_sentence_by_sentence():
    page = " ".join([MENU, *STORY, FOOTER])
    result = clean_dump("Bridge to close for repairs\n" + page)
    kept = result.text()
    for sentence in STORY:  # the first one too: no full stop ends the menu before it, its capitals do
        assert sentence in kept
    assert "Newsletters Subscribe" not in kept and "Cookie Settings" not in kept
    # one paragraph of the flattened line, its line number the input's
    body = [p for p in result.paragraphs if "council" in p.text]
    assert len(body) == 1 and body[0].source_lines == [2, 2]
    assert all(span["lines"] is None or span["lines"][1] <= 2 for span in result.removed)
    # what was cut out of line 2 is recorded against line 2: the menu (with the title line above it) and the footer
    assert [span["lines"] for span in result.removed] == [[1, 2], [2, 2]]
    assert result.removed[1]["preview"].startswith("Privacy Policy")


def test_a_flattened_story_kept_whole_is_its_line_unchanged():
    line = "  ".join(STORY * 2)  # two spaces between sentences: the paragraph is the line, not a rejoining
    result = clean_dump(line)
    assert [p.text for p in result.paragraphs] == [line]
    assert result.paragraphs[0].source_lines == [1, 1]


def test_flattened_text_without_sentences_is_one_line_as_before():
    text = " ".join([MENU] * 5)
    cut = Cut(text)
    assert not cut.cut and cut.text == text


def test_dropped_sentences_next_to_kept_ones_of_their_line_come_back():
    menu = "Home News Sport Weather Business Culture Travel Video"
    cut = Cut("Title line\n" + " ".join([menu, *STORY, "Privacy Policy Terms of Use"]))
    pieces = cut.text.split("\n")
    assert pieces[1] == menu and pieces[2:14] == STORY and pieces[14] == "Privacy Policy Terms of Use"
    paragraphs = [Paragraph(STORY[5], [8, 8])]  # the cleaner kept one sentence, dropped the rest by position
    removed = [{"lines": [1, 7], "reason": "outside-article", "preview": "Title line"},
               {"lines": [9, 15], "reason": "line-model", "preview": STORY[6]}]
    kept, spans = cut.restore_sentences(paragraphs, removed)
    # grown from the kept sentence over its neighbours, up to the menu and the footer (not sentences)
    assert [p.source_lines for p in kept] == [[no, no] for no in range(3, 15)]
    assert [(s["lines"], s["reason"], s["preview"]) for s in spans] == [
        ([1, 2], "outside-article", "Title line"), ([15, 15], "line-model", "Privacy Policy Terms of Use")]
    # mapped back: one paragraph of line 2, the story as the line has it
    (para,) = cut.paragraphs(kept)
    assert para.text == " ".join(STORY) and para.source_lines == [2, 2]


def test_chrome_cues_are_not_grown_over():
    line = " ".join(STORY * 2)
    cut = Cut(line)
    removed = [{"lines": [2, 2], "reason": "chrome:subscribe", "preview": STORY[1]}]
    kept, spans = cut.restore_sentences([Paragraph(STORY[0], [1, 1])], removed)
    assert spans == removed and [p.source_lines for p in kept] == [[1, 1]]
