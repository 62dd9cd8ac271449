import pytest

from cleanpipe.lines import COMMENTS_HEADING, STOPWORDS, STOPWORDS_BY_LANGUAGE, analyse, page_stopwords

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
    assert page_stopwords([["the", "cat", "is", "on", "the", "mat"]]) is STOPWORDS
    assert page_stopwords([]) is STOPWORDS
    assert page_stopwords([["o", "gato", "está", "em", "cima", "da", "mesa", "com", "a", "bola"]]) \
        is STOPWORDS_BY_LANGUAGE["pt"]


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
