from __future__ import annotations

import pytest

from cleanpipe.config import DedupConfig
from cleanpipe.model import PREVIEW_CHARS, Comment, Document, Source
from cleanpipe.stages.comments import CommentDeduper, CommentSplitter, split_comments


def _doc(doc_id, comments):
    return Document(id=doc_id, source=Source(path=f"{doc_id}.txt", sha256="0" * 64, format="text"),
                    comments=[Comment(id=f"{doc_id}-c{i}", text=t) for i, t in enumerate(comments)])


def test_split_wordpress_style_section():
    block = list(enumerate([
        "Ann Lee says:", "March 3, 2026 at 9:14 am", "First comment text here.", "Reply",
        "Bo says:", "March 4, 2026", "Second comment,", "over two lines.", "Reply",
        "Leave a Reply", "Your email address will not be published. Required fields are marked *",
        "Name *", "Post Comment",
    ], start=10))
    r = split_comments("d", block)
    assert [(c.author, c.date, c.text) for c in r.comments] == [
        ("Ann Lee", "March 3, 2026 at 9:14 am", "First comment text here."),
        ("Bo", "March 4, 2026", "Second comment,\nover two lines."),
    ]
    assert r.comments[1].source_lines == [16, 17]
    reasons = {x["reason"] for x in r.removed}
    assert reasons == {"comment-widget", "comment-form"}


def test_split_an_empty_section():
    r = split_comments("d", [])
    assert r.comments == [] and r.removed == []


def test_split_unmarked_thread_one_comment_per_line():
    r = split_comments("d", [(1, "Nice one!"), (2, "I disagree with the second point."), (3, "Thanks!")])
    assert [c.text for c in r.comments] == ["Nice one!", "I disagree with the second point.", "Thanks!"]
    assert [c.id for c in r.comments] == ["d-c0", "d-c1", "d-c2"]


def test_split_bare_author_lines_from_html():
    r = split_comments("d", [(0, "Oskar"), (0, "My grandfather helped refit the boat."), (0, "Lina"),
                             (0, "Keep the open deck, please!")])
    assert [(c.author, c.text) for c in r.comments] == [
        ("Oskar", "My grandfather helped refit the boat."), ("Lina", "Keep the open deck, please!")]


def test_comment_numbers_split_the_thread_and_are_not_comment_text():
    r = split_comments("d", [(0, "1"), (0, "Chris"), (0, "Nov 2nd, 2009 at 5:48 pm"), (0, "Very useful, it works."),
                             (0, "#2"), (0, "Dana"), (0, "It did not work for me.")])
    assert [(c.author, c.text) for c in r.comments] == [
        ("Chris", "Very useful, it works."), ("Dana", "It did not work for me.")]
    assert [x["preview"] for x in r.removed] == ["1", "#2"]


def test_comments_the_markup_delimits_lose_their_opening_particulars():
    # "" is a break from the page's markup (one HTML comment element ends there)
    block = [(0, "tuye"), (0, "Posted October 29, 2012 at 9:26 am | Permalink"), (0, "thats it. no more DX pros."),
             (0, ""), (0, "burgerman"), (0, "Then buy a D4 machine gun, or a used one from the shop."), (0, "Reply"),
             (0, ""), (0, "eya"), (0, "lol")]
    r = split_comments("d", block)
    assert [(c.author, c.date, c.text) for c in r.comments] == [
        ("tuye", "October 29, 2012 at 9:26 am", "thats it. no more DX pros."),
        ("burgerman", None, "Then buy a D4 machine gun, or a used one from the shop."),
        ("eya", None, "lol")]
    # the stamp's line held more than the date: it is recorded whole
    assert [(x["reason"], x["preview"]) for x in r.removed] == [
        ("comment-meta", "Posted October 29, 2012 at 9:26 am | Permalink"), ("comment-widget", "Reply")]


def test_a_name_and_date_on_one_opening_line():
    r = split_comments("d", [(0, "Nadia October 25, 2012 at 12:22 pm"), (0, "Trade dads?"), (0, ""),
                             (0, "Posted by: Carly on October 26, 2012"), (0, "That is what I was thinking.")])
    assert [(c.author, c.date, c.text) for c in r.comments] == [
        ("Nadia", "October 25, 2012 at 12:22 pm", "Trade dads?"),
        ("Carly", "October 26, 2012", "That is what I was thinking.")]
    assert r.removed == []


def test_chrome_above_a_comment_is_not_its_author():
    r = split_comments("d", [(0, "Subscribe"), (0, "Ann"), (0, "Great piece."), (0, ""), (0, "Bo"), (0, "Sure.")])
    assert [(c.author, c.text) for c in r.comments] == [("Ann", "Great piece."), ("Bo", "Sure.")]
    assert [(x["reason"], x["preview"]) for x in r.removed] == [("chrome", "Subscribe")]


def test_particulars_that_are_neither_author_nor_date_are_recorded():
    r = split_comments("d", [(0, "Ann"), (0, "Top commenter"), (0, "Great piece."), (0, ""), (0, "Bo"), (0, "Sure.")])
    assert [(c.author, c.text) for c in r.comments] == [("Ann", "Great piece."), ("Bo", "Sure.")]
    assert [(x["reason"], x["preview"]) for x in r.removed] == [("comment-meta", "Top commenter")]


def test_a_thread_after_a_break_is_still_split_on_its_widgets():
    # two comment sections (a count, then a thread whose comments are not elements of their own)
    block = [(0, "4 responses so far"), (0, ""), (0, "Ann"), (0, "Good points all round."), (0, "Reply"),
             (0, "Bo"), (0, "I liked the second half."), (0, "Reply")]
    r = split_comments("d", block)
    assert [(c.author, c.text) for c in r.comments] == [
        (None, "4 responses so far"), ("Ann", "Good points all round."), ("Bo", "I liked the second half.")]


def test_more_widget_and_form_lines():
    block = [(1, "Ann"), (2, "Nice one, thanks for writing it up."), (3, "[Reply]"), (4, "Bo"), (5, "Not convinced."),
             (6, "| Flag as Inappropriate |"), (7, "Name (required)"), (8, "Mail (will not be published) (Required)")]
    r = split_comments("d", block)
    assert [(c.author, c.text) for c in r.comments] == [("Ann", "Nice one, thanks for writing it up."),
                                                        ("Bo", "Not convinced.")]
    assert [x["reason"] for x in r.removed] == ["comment-widget", "comment-widget", "comment-form", "comment-form"]


def test_splitter_stage_moves_block_to_comments():
    doc = _doc("d", [])
    doc.comment_block = [(5, "Great post!")]
    doc = CommentSplitter().process(doc)
    assert doc.comment_block == [] and doc.comments[0].source_lines == [5, 5]


def test_dedup_within_and_across_pages_keeps_first_and_counts():
    dedup = CommentDeduper(DedupConfig())
    d1, r1 = dedup.process(_doc("a", ["Very nice article !", "very nice article!!", "Nice article Jordan!"]))
    d2, r2 = dedup.process(_doc("b", ["VERY NICE ARTICLE", "Great great article."]))
    assert [c.text for c in d1.comments] == ["Very nice article !", "Nice article Jordan!"]
    assert [c.text for c in d2.comments] == ["Great great article."]
    assert [(r.extra["id"], r.extra["duplicate_of"]) for r in r1 + r2] == [("a-c1", "a-c0"), ("b-c0", "a-c0")]
    assert r2[0].extra["kept_text"] == "Very nice article !"
    assert dedup.absorbed == {"a-c0": 2}
    dropped = d2.stages[-1]["dropped"]
    assert dropped[0]["duplicate_of"] == "a-c0" and dropped[0]["similarity"] == 1.0


def test_run_batches_hold_few_pages_and_keep_the_page_by_page_verdicts():
    texts = ["Very nice article !", "very nice article!!", "Nice article Jordan!", "VERY NICE ARTICLE"]

    def pages():  # fresh ones for each run: the stage edits what it is given
        return [_doc(f"p{i}", [texts[i % 4]] if i % 3 == 0 else []) for i in range(40)]

    held: list[int] = []

    def counted(items):
        for n, doc in enumerate(items, start=1):
            held.append(n)
            yield doc

    batched = CommentDeduper(DedupConfig())
    out = []
    for doc, rejects in batched.run(counted(pages()), batch_documents=8):
        out.append((doc.id, [c.text for c in doc.comments], [r.extra["duplicate_of"] for r in rejects]))
        assert held[-1] - len(out) < 8  # at most one batch of pages read ahead of what was given back
    single = CommentDeduper(DedupConfig())
    one_by_one = []
    for doc in pages():
        d, rejects = single.process(doc)
        one_by_one.append((d.id, [c.text for c in d.comments], [r.extra["duplicate_of"] for r in rejects]))
    assert out == one_by_one and len(out) == 40


def test_dedup_disabled_keeps_everything():
    doc, rejects = CommentDeduper(DedupConfig(enabled=False)).process(_doc("a", ["x y", "x y"]))
    assert len(doc.comments) == 2 and rejects == []


@pytest.mark.parametrize("line", [
    "View Comments", "Loading comments...", "Comments are closed.", "comments powered by Disqus", "(View all)",
    "12 Comments", "Comments (12)", "User comments", "Comment on this article", "2 Comentários", "Комментарии",
    "Leave a Reply Cancel reply", "Deixe uma resposta Cancelar resposta", "Lascia un commento Annulla risposta",
    "Tinggalkan Balasan Batalkan balasan", "Добавить комментарий Отменить ответ",
    "Schreibe einen Kommentar Antworten abbrechen", "Laisser un commentaire Annuler la réponse",
    "This site uses Akismet to reduce spam. Learn how your comment data is processed.",
    "Devi essere connesso per inviare un commento.", "Du musst angemeldet sein, um einen Kommentar abzugeben.",
    "Vous devez être connecté pour publier un commentaire.", "Debes iniciar sesión para publicar un comentario.",
    "Il tuo indirizzo email non sarà pubblicato. I campi obbligatori sono contrassegnati *",
    "Deine E-Mail-Adresse wird nicht veröffentlicht. Erforderliche Felder sind mit * markiert",
    "O seu endereço de email não será publicado. Campos obrigatórios são marcados com *"])
def test_comment_section_furniture_is_not_a_comment(line):
    """Real pages of the dev set gave these as comments (a heading, the form's Cancel reply, a
    loader), in the languages comment templates are translated into."""
    block = [(1, "I liked the part about the tram, thanks for writing it."), (2, line), (3, "Great post, Ann.")]
    result = split_comments("d", block)
    assert [c.text for c in result.comments] == [block[0][1], block[2][1]]
    [removed] = result.removed
    assert removed["lines"] == [2, 2] and removed["preview"] == line[:PREVIEW_CHARS]
    assert removed["reason"] in ("comment-widget", "comment-form")


@pytest.mark.parametrize("line", [
    "Thanks for your reply.", "No comment.", "Cancel culture is out of hand", "I canceled.", "mike...",
    "Reply to Ann: I disagree with you about the tram line.", "Great comments here, thanks",
    "Loading the truck took us three hours.", "They will cancel the reply deadline",
    "Devi essere connesso con la realtà per capire questo articolo, complimenti!",
    "Les champs de blé sont magnifiques cette année.", "Esto no se publicará nunca en España, ojalá sí.",
    "Die Pflichtfelder im Formular der Behörde sind absurd."])
def test_short_real_comments_that_mention_comments_or_cancelling_stay(line):
    assert [c.text for c in split_comments("d", [(1, line)]).comments] == [line]
