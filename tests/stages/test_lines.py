import pytest

from cleanpipe.stages.lines import (
    COMMENTS_HEADING,
    STOPWORDS_BY_LANGUAGE,
    WORD,
    _PageScan,
    analyse,
    code_points,
    line_cues,
)

PORTUGUESE = """Início
Notícias
A equipe do serviço de atendimento registrou nesta manhã o arrombamento de dois dos cinco automóveis da unidade.
Os pacientes agendados para o período da manhã estão sendo reagendados pela secretaria.
"""


def test_page_stop_words_follow_the_page_language():
    lines = analyse(PORTUGUESE)
    prose = [ln for ln in lines if ln.words > 10]
    assert prose and all(ln.stop_ratio >= 0.3 for ln in prose)
    assert lines[0].stop_ratio == 0.0  # a menu word is no function word in any list


def test_english_stays_the_default_list():
    (line,) = analyse("The cat is on the mat")
    assert line.stop_ratio == 4 / 6
    (line,) = analyse("Zorbl quax frim")  # no function word of any list: English, ratio 0
    assert line.stop_ratio == 0.0


def test_stop_words_are_found_by_code_as_by_string():
    text = ("The cat is on the mat; don't, don’t, themselves, yourselves, thé, «о», ещё, и, über, sowie, "
            "themselvesx, a_b, 42, L'été, nosotros, você, Ιστορία, 日本 dann die de\nund Das été")
    low = text.lower()
    page = _PageScan(low)
    starts, ends, _ = page.words()
    tokens = [low[a:b] for a, b in zip(starts.tolist(), ends.tolist(), strict=True)]
    assert tokens == WORD.findall(low)
    expected = [sum(1 << bit for bit, words in enumerate(STOPWORDS_BY_LANGUAGE.values()) if token in words)
                for token in tokens]
    assert page.stopword_languages(starts, ends).tolist() == expected
    assert any(expected) and any(not e for e in expected)


@pytest.mark.parametrize("text", [
    "Plain text, don't stop: 42 words\nand a second line of it",
    "An emoji 🎉 beyond the plane, then words: don’t 𝔘nicode 42\nnext line 7",  # 32-bit code points
])
def test_page_scan_finds_words_and_digits_as_the_regexes_do(text):
    low = text.lower()
    assert code_points(low).tolist() == [ord(c) for c in low]
    assert code_points(low).dtype.itemsize == (4 if max(low) > "\uffff" else 2)
    page = _PageScan(low)
    starts, ends, token_line = page.words()
    assert [low[a:b] for a, b in zip(starts.tolist(), ends.tolist(), strict=True)] == WORD.findall(low)
    assert token_line.tolist() == [low.count("\n", 0, a) for a in starts.tolist()]
    assert page.lines_with_digits().tolist() == [any(c.isdecimal() for c in line) for line in low.split("\n")]


def test_unspaced_scripts_count_words_by_characters():
    japanese = "先日、不正に改造したスマートフォンを販売したとして、二十代の男性が逮捕されたというニュースを耳にしました。"
    (line,) = analyse(japanese)
    assert line.words >= 20  # 47 characters are about 23 words, not the 3 runs between commas
    assert line.sentence_end  # "。" ends a sentence
    (latin,) = analyse("Prices rose again.")
    assert latin.words == 3


@pytest.mark.parametrize("line, heading", [
    ("12 Comments", True), ("Leave a Reply", True), ("34 responses to “Pool stays open”", True),
    ("{ 20 comments… read them below or add one }", True), ("100 of 313 comments loaded twitter facebook", True),
    ("Comments (5)", True),
    ("Readers left 20 comments", False), ("The council received 200 replies to its survey", False),
])
def test_comment_section_headings(line, heading):
    assert (COMMENTS_HEADING.match(line) is not None) == heading


def test_remembered_line_facts_match_a_fresh_look(monkeypatch):
    import cleanpipe.stages.lines as lines

    page = ("Home\nShare on Facebook\n\n© 2026 Example News. All rights reserved.\n"
            "  • Ferry timetable\nHow Many Arrests Were Made? FinCEN...\n"
            "The ferry returned to service on Monday after a long refit.\nHome\n")
    monkeypatch.setattr(lines, "_LINE_FACTS", {})
    first = analyse(page)
    again = analyse(page)  # every line now comes from what was remembered
    monkeypatch.setattr(lines, "_LINE_FACTS", {})
    monkeypatch.setattr(lines, "_LINE_FACTS_MAX", 0)  # nothing can be looked up: each line judged afresh
    fresh = analyse(page)
    assert first == again == fresh
    facts = {ln.text: (ln.cues, ln.bullet, ln.truncated, ln.footer_end) for ln in fresh if ln.text}
    assert facts["Share on Facebook"][0] == ("share",)
    assert facts["• Ferry timetable"][1] and facts["How Many Arrests Were Made? FinCEN..."][2]
    assert facts["© 2026 Example News. All rights reserved."][3]


def test_remembered_line_facts_stay_bounded(monkeypatch):
    import cleanpipe.stages.lines as lines

    monkeypatch.setattr(lines, "_LINE_FACTS", {})
    monkeypatch.setattr(lines, "_LINE_FACTS_MAX", 8)
    analyse("\n".join(f"Menu item number {i}" for i in range(50)))
    assert 0 < len(lines._LINE_FACTS) <= 8


@pytest.mark.parametrize("line, cue, footer", [
    ("COPYRIGHT 2024 ACME MEDIA", "copyright", True),
    ("Acme Media. ALL RIGHTS RESERVED.", "copyright", True),
    ("© Acme 2024", "copyright", True),
    ("RELATED POSTS", "related", False),
    ("Previous Post »", "prev-next", False),
    ("SKIP TO CONTENT", "navigation", False),
])
def test_cues_and_footers_are_found_whatever_the_case(line, cue, footer):
    # analyse takes the keyword hint from its page-wide scan; line_cues alone looks at the line itself
    own, = [ln for ln in analyse(f"Menu\n{line}\n") if ln.text == line]
    assert cue in own.cues and own.footer_end == footer
    assert line_cues(line, len(line.split())) == own.cues


@pytest.mark.parametrize("line, credit", [
    ("Photo: Damian Dovarganes, AP", True),
    ("Protesters marched on Sunday (Image: GETTY )", True),
    ("Alex Wong | Getty Images", True),
    ("(Credit: Screen shot by Greg Sandoval/CNET)", True),
    ("The photo shows the old bridge.", False),  # a sentence about a photo is no credit
    ("Credits roll after a long final scene.", False),
])
def test_photo_credit_cue(line, credit):
    assert ("credit" in line_cues(line, len(line.split()))) == credit
