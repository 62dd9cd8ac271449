"""Comments stage: split a page's comment section into single comments, drop near-duplicates.

The strip stage hands over the comment section as raw (line, text) pairs: the
part after a comments heading, a whole page that is a reader thread, or
an HTML page's comment sections. `split_comments` turns it into comments, taking
out widget lines (Reply, Like, Report), the comment form and author/date
lines. `CommentDeduper` runs the near-duplicate filter over all comments of a
run in input order, so a comment is dropped when it repeats one kept on the
same page or on any page before it.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from typing import Any

from cleanpipe.config import DedupConfig
from cleanpipe.model import COMMENT_BREAK, PREVIEW_CHARS, Comment, Document, Reject
from cleanpipe.stages.dedup import NearDuplicateFilter, Verdict
from cleanpipe.stages.lines import DATE_CORE, DATE_ONLY, WORD, ends_sentence, line_cues

WIDGET = re.compile(r"^[|·•\s]*(?:\[?reply\]?|reply ↓|reply to this (?:comment|parent\b.*)|report|like|"
                    r"likes?\s*\(\d+\)|\d+\s+likes?|share|flag(?: as inappropriate)?|"
                    r"(?:click here to )?cancel reply\.?|"
                    r"(?:show|load|view)\s+(?:more|all|\d+)\s*(?:comments|replies)?|"
                    r"permalink|edit|upvote|downvote|\d+\s+points?|"
                    r"#?\d{1,4}\.?)[|·•\s]*$", re.I)  # a comment's number in the thread: "3", "#3"
AUTHOR_LINE = re.compile(r"^(?P<author>[^\n]{1,60}?)\s+(?:says|said|wrote|writes|commented)\s*:?\s*$", re.I)
# A bare name on its own line (as HTML comment widgets give it), e.g. "Oskar", "Ann Lee".
BARE_AUTHOR = re.compile(r"^[A-Z][\w'’.-]{1,20}(?: [A-Z][\w'’.-]{0,20}){0,2}$")
DATE_IN_LINE = re.compile(DATE_CORE, re.I)  # "Posted October 29, 2012 at 9:26 am | Permalink"
FORM = re.compile(r"your email address will not be published|\(will not be published\)|required fields are marked|"
                  r"^(?:name|e-?mail|mail|website)\s*\((?:required|optional)\)$|"
                  r"^(?:name|email|website|comment)\s*\*?$|^post comment$|^submit$|"
                  r"save my name, email|notify me of (?:follow-up|new) (?:comments|posts)|"
                  r"^you must be logged in|^log in to (?:reply|comment)|^leave a (?:reply|comment)|"
                  # the same notices as comment templates translate them (it, de, es, pt, fr, nl, pl)
                  r"(?:e-?mail|indirizzo|adresse|correo|endereço|adres)[^.]{0,40}(?:non sarà pubblicat|"
                  r"nicht veröffentlicht|no será publicad|no se publicará|não será publicad|ne sera pas publiée?|"
                  r"niet gepubliceerd|nie zostanie opublikowany)|"
                  r"(?:campi obbligatori|pflichtfelder|erforderliche felder|campos obligatorios|campos obrigatórios|"
                  r"champs obligatoires|verplichte velden|wymagane pola)[^.]{0,40}\*|"
                  r"^(?:devi essere connesso|devi (?:fare il )?login|du musst (?:dich )?angemeldet|"
                  r"sie müssen angemeldet|"
                  r"debes (?:iniciar sesión|estar registrado|acceder)|(?:você )?precisa (?:fazer o login|estar logado)|"
                  r"vous devez (?:être connecté|vous connecter)|je moet ingelogd|musisz się zalogować)"
                  r".{0,40}(?:comment|kommentar|comentar|reageren|reactie|komentarz)", re.I)  # "... to comment"

# The comment section's own furniture, in the languages CMS comment templates are translated into:
# its heading ("Comments", "2 Comentários", "Комментарии"), the form's "Leave a Reply / Cancel reply"
# pair, "Loading comments...", "Comments are closed." and the like. Only whole short lines match.
_COMMENT_WORD = (r"(?:comments?|comentários?|comentarios?|commenti|commento|kommentare?|kommentarer|commentaires?|"
                 r"reacties|reactie|komentar\w*|коммент\w*|kommentit|yorum(?:lar)?|σχόλια|评论|評論|コメント|"
                 r"responses?|respuestas?|risposte|réponses?|antworten|replies|reply)")
# "Leave a Reply Cancel reply", "Deixe uma resposta Cancelar resposta", "Antworten abbrechen"
_REPLY_WORD = (r"(?:reply|repl|respost|respuest|rispost|réponse|antwort|balasan|ответ|odpowied|antwoord|svar|"
               r"yanıt|comment|kommentar|commento)")
_CANCEL_WORD = r"(?:cancel|cancelar|annulla|annuler|abbrechen|batalkan|отменить|anuluj|annuleren|avbryt|iptal|zrušit)"
SECTION_CHROME = re.compile(
    rf"^[(\[]?\s*(?:\d+\s+)?(?:\w+\s+)?{_COMMENT_WORD}\s*(?:[(\[]?\d+[)\]]?)?\s*[:)\]]?$|"  # headings, counts
    rf"^.{{0,60}}\b(?:{_CANCEL_WORD}\w*\s+(?:la\s+)?{_REPLY_WORD}|{_REPLY_WORD}\w*\s+{_CANCEL_WORD})\w*\.?$|"
    r"^loading(?:\s+comments)?\s*(?:\.{3}|…)?$|^(?:the\s+)?comments\s+(?:are|is)\s+closed\.?$|"
    r"^comments?\s+(?:powered\s+by|by)\s+\w+$|^(?:view|show|hide|read|see)\s+(?:all\s+)?comments?$|"
    r"^\(?(?:view|show)\s+all\)?$|^comment\s+on\s+this\s+\w+$|^this site uses akismet\b|"
    r"^want to join the discussion\??$|^feel free to contribute!?$", re.I)


@dataclass
class SplitResult:
    comments: list[Comment] = field(default_factory=list)
    removed: list[dict[str, Any]] = field(default_factory=list)


def split_comments(doc_id: str, block: list[tuple[int, str]]) -> SplitResult:
    """Comment section lines -> single comments.

    A COMMENT_BREAK line is a break the page's markup gave (HTML: one comment
    element ends there); the short lines that open such a comment, before its first
    sentence, are its author, date and other particulars. Elsewhere, where author
    lines ("Ann says:") or widget lines ("Reply") mark where a comment starts or
    ends, they split the block; otherwise every paragraph (one line of the dump)
    is one comment.
    """
    result = SplitResult()
    nexts = [t for _, t in block[1:]] + [""] * bool(block)
    bare_author = [bool(BARE_AUTHOR.match(t)) and len(nxt) > len(t) and not BARE_AUTHOR.match(nxt)
                   for (_, t), nxt in zip(block, nexts, strict=True)]
    header = _header_lines(block)
    marked = (any(t == COMMENT_BREAK or AUTHOR_LINE.match(t) or WIDGET.match(t) for _, t in block)
              or any(bare_author))
    current: list[tuple[int, str]] = []
    author: str | None = None
    date: str | None = None

    def flush() -> None:
        nonlocal current, author, date
        if current:
            text = "\n".join(t for _, t in current)
            result.comments.append(Comment(
                id=f"{doc_id}-c{len(result.comments)}", text=text,
                source_lines=[current[0][0], current[-1][0]] if current[0][0] else None,
                author=author, date=date))
        current, author, date = [], None, None

    for k, ((no, text), is_bare_author) in enumerate(zip(block, bare_author, strict=True)):
        if text == COMMENT_BREAK:
            flush()
            continue
        words = len(WORD.findall(text))
        if FORM.search(text):
            result.removed.append({"lines": [no, no], "reason": "comment-form", "preview": text[:PREVIEW_CHARS]})
            continue
        if WIDGET.match(text) or SECTION_CHROME.match(text):
            result.removed.append({"lines": [no, no], "reason": "comment-widget", "preview": text[:PREVIEW_CHARS]})
            if marked:
                flush()
            continue
        # an opening line with a cue (a bare date, "Subscribe") is judged below as in any comment section
        if k in header and not line_cues(text, words):
            # "tuye", "Nadia October 25, 2012 at 12:22 pm", "Posted October 29, 2012 | Permalink"
            stamp = DATE_IN_LINE.search(text)
            name = _name_in(text[:stamp.start()] if stamp else text)
            if stamp and date is None:
                date = stamp.group(0)
            if name and author is None and len(name.split()) <= 6:
                author = name
            if (name and author != name) or (stamp and (date != stamp.group(0) or _name_in(text[stamp.end():]))):
                # what did not go into the comment's author and date is recorded whole
                result.removed.append({"lines": [no, no], "reason": "comment-meta",
                                       "preview": text[:PREVIEW_CHARS]})
            continue
        m = AUTHOR_LINE.match(text)
        if m or is_bare_author:
            flush()
            author = m.group("author").strip() if m else text
            continue
        if DATE_ONLY.match(text):
            if current and marked:
                flush()
            date = text
            continue
        if line_cues(text, words):
            result.removed.append({"lines": [no, no], "reason": "chrome", "preview": text[:PREVIEW_CHARS]})
            continue
        current.append((no, text))
        if not marked:
            flush()
    flush()
    return result


# What stands around a commenter's name in a comment's opening line: "Posted by", "on", "says:", "|".
_NAME_AFFIXES = re.compile(r"^(?:\s*(?:posted|written|by|on|at)\b|[\s|·•,:\-–—])+|"
                           r"(?:\s*(?:\bon|\bat|\bsays|\bsaid|\bwrote|\bposted)\b|[\s|·•,:\-–—])+$", re.I)


def _name_in(text: str) -> str:
    return _NAME_AFFIXES.sub("", text)


def _reads_as_text(line: str) -> bool:
    return ends_sentence(line) or (len(line.split()) >= 8 and DATE_IN_LINE.search(line) is None)


def _header_lines(block: list[tuple[int, str]]) -> set[int]:
    """Positions of a markup-delimited comment's particulars (the comment is the lines between breaks).

    They are the lines before its text and the lines with a date after it. Its text
    starts at its first line that ends a sentence or runs to eight words with no date
    in them (with no such line, at its last line) and ends at its last such line.
    Empty when the block has no breaks."""
    breaks = [k for k, (_, text) in enumerate(block) if text == COMMENT_BREAK]
    if not breaks:
        return set()
    header: set[int] = set()
    start = 0
    for end in breaks + [len(block)]:
        segment = range(start, end)
        body = next((k for k in segment if _reads_as_text(block[k][1])), end - 1)
        header.update(range(start, body))
        # and the stamp some sites put under the text: "Comment #59 - Posted by: luke at November 11, 2012"
        last = next((k for k in reversed(segment) if _reads_as_text(block[k][1])), body)
        header.update(k for k in range(last + 1, end) if DATE_IN_LINE.search(block[k][1]))
        start = end + 1
    return header


class CommentSplitter:
    """Per-document stage: doc.comment_block -> doc.comments."""

    name = "comments.split"

    def process(self, doc: Document) -> Document:
        block, doc.comment_block = doc.comment_block, []
        if not block:
            return doc
        result = split_comments(doc.id, block)
        doc.comments = result.comments
        doc.stages.append({"stage": "comments.split", "comments": len(result.comments),
                           "removed": result.removed})
        return doc


class CommentDeduper:
    """Corpus stage: drops comments that repeat an earlier kept one (this page or any before)."""

    name = "comments"

    def __init__(self, config: DedupConfig | None = None):
        self.config = config or DedupConfig()
        self.filter = NearDuplicateFilter(self.config)
        self._kept_text: dict[str, str] = {}

    def run(self, docs: Iterable[Document], batch_comments: int = 2048,
            batch_documents: int = 128) -> Iterator[tuple[Document, list[Reject]]]:
        """Like `process` for each document, but comments of many pages share one filter batch
        (the filter's bulk work is per batch); verdicts are the same as page by page.

        A batch closes at `batch_comments` comments or `batch_documents` pages, whichever
        comes first: a crawl of pages with few comments would otherwise hold thousands of
        whole pages in memory waiting for the batch to fill."""
        pending: list[Document] = []
        count = 0
        for doc in docs:
            pending.append(doc)
            count += len(doc.comments)
            if count >= batch_comments or len(pending) >= batch_documents:
                yield from self._process_many(pending)
                pending, count = [], 0
        if pending:
            yield from self._process_many(pending)

    def process(self, doc: Document) -> tuple[Document, list[Reject]]:
        return next(iter(self._process_many([doc])))

    def _process_many(self, docs: list[Document]) -> Iterator[tuple[Document, list[Reject]]]:
        if not self.config.enabled:
            for doc in docs:
                yield doc, apply_verdicts(doc, [Verdict(c.id, True) for c in doc.comments], {})
            return
        items = [(c.id, c.text) for doc in docs for c in doc.comments]
        verdicts = iter(list(self.filter.filter(items, batch=max(1, len(items)))))
        for doc in docs:
            doc_verdicts = [next(verdicts) for _ in doc.comments]
            for comment, verdict in zip(doc.comments, doc_verdicts, strict=True):
                if verdict.kept:
                    self._kept_text[comment.id] = comment.text[:500]
            yield doc, apply_verdicts(doc, doc_verdicts, self._kept_text)

    @property
    def absorbed(self) -> dict[str, int]:
        """kept comment id -> how many dropped copies point at it."""
        return self.filter.absorbed


def comment_doc_id(comment_id: str) -> str:
    """The id of the document a comment belongs to (comment ids are '<doc id>-c<n>')."""
    return comment_id.rsplit("-c", 1)[0]


def apply_verdicts(doc: Document, verdicts: list[Verdict], kept_text: Mapping[str, str]) -> list[Reject]:
    """Drop the comments judged duplicates (one verdict per comment, in order), log the stage,
    and return a reject per dropped comment; `kept_text` gives the start of each kept comment."""
    kept, dropped, rejects = [], [], []
    for comment, verdict in zip(doc.comments, verdicts, strict=True):
        if verdict.kept:
            kept.append(comment)
            continue
        dropped.append({"id": comment.id, "duplicate_of": verdict.duplicate_of,
                        "similarity": verdict.similarity, "method": verdict.method,
                        "source_lines": comment.source_lines})
        rejects.append(Reject(
            kind="comment", reason="duplicate", doc_id=doc.id, path=doc.source.path,
            record=doc.source.record,
            detail=f"near-duplicate of {verdict.duplicate_of} (Jaccard {verdict.similarity})",
            extra={"id": comment.id, "text": comment.text, "duplicate_of": verdict.duplicate_of,
                   "similarity": verdict.similarity, "method": verdict.method,
                   "kept_text": kept_text.get(verdict.duplicate_of or "", "")}))
    doc.comments = kept
    doc.stages.append({"stage": "comments", "kept": len(kept), "dropped": dropped})
    return rejects
