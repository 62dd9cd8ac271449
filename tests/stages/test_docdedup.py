from __future__ import annotations

import random

from cleanpipe.config import Config
from cleanpipe.model import Document, Paragraph, Reject, Source
from cleanpipe.stages.docdedup import DocumentDeduper

WORDS = "harbour council ferry tram station night residents winter budget engineers bridge village".split()


def doc(i: int, paras: list[str]) -> Document:
    return Document(id=f"d{i}", source=Source(path=f"p{i}", sha256="", format="text", url=f"https://s{i}.example/"),
                    paragraphs=[Paragraph(text=p) for p in paras])


def corpus() -> list[Document | Reject]:
    rng = random.Random(3)
    stories = [[" ".join(rng.choice(WORDS) for _ in range(60)) for _ in range(4)] for _ in range(30)]
    items: list[Document | Reject] = [doc(i, s) for i, s in enumerate(stories)]
    items.append(Reject(kind="input", reason="binary", path="x"))
    items.append(doc(100, stories[3]))  # exact
    items.append(doc(101, stories[5][:3]))  # a paragraph cut
    items.append(doc(102, ["Republished with permission."] + stories[7]))
    items.append(doc(103, []))  # no text: never compared
    return items


def test_copies_are_rejects_naming_the_kept_one_and_order_is_kept():
    config = Config().doc_dedup
    config.enabled = True
    out = list(DocumentDeduper(config).run(corpus(), batch=7))
    assert [getattr(x, "id", None) or x.reason for x in out[:31]] == [f"d{i}" for i in range(30)] + ["binary"]
    rejects = {x.doc_id: x for x in out if isinstance(x, Reject) and x.reason == "near-duplicate-document"}
    assert {k: v.extra["duplicate_of"] for k, v in rejects.items()} == {"d100": "d3", "d101": "d5", "d102": "d7"}
    assert rejects["d100"].extra["method"] == "exact" and rejects["d101"].extra["similarity"] >= 0.7
    assert isinstance(out[-1], Document)


def test_batches_give_the_verdicts_of_one_by_one():
    config = Config().doc_dedup
    config.enabled = True
    batched = [type(x).__name__ for x in DocumentDeduper(config).run(corpus(), batch=64)]
    single = DocumentDeduper(config)
    one_by_one = [type(single.process(x)).__name__ if isinstance(x, Document) else "Reject" for x in corpus()]
    assert batched == one_by_one
