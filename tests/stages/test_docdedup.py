from __future__ import annotations

import json
import random

import pytest

from cleanpipe.config import Config, DedupConfig
from cleanpipe.model import Document, Paragraph, Reject, Source
from cleanpipe.stages import docdedup
from cleanpipe.stages.dedup import NearDuplicateFilter
from cleanpipe.stages.docdedup import DocumentDeduper, DocumentSketcher

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


def enabled(threshold: float | None = None) -> DedupConfig:
    config = Config().doc_dedup
    config.enabled = True
    if threshold is not None:
        config.threshold = threshold
    return config


def test_copies_are_rejects_naming_the_kept_one_and_order_is_kept():
    out = list(DocumentDeduper(enabled(0.7)).run(corpus()))
    assert [getattr(x, "id", None) or x.reason for x in out[:31]] == [f"d{i}" for i in range(30)] + ["binary"]
    rejects = {x.doc_id: x for x in out if isinstance(x, Reject) and x.reason == "near-duplicate-document"}
    assert {k: v.extra["duplicate_of"] for k, v in rejects.items()} == {"d100": "d3", "d101": "d5", "d102": "d7"}
    assert rejects["d100"].extra["method"] == "exact" and rejects["d100"].extra["similarity"] == 1.0
    assert rejects["d101"].extra["method"] == "minhash" and rejects["d101"].extra["similarity"] >= 0.7
    assert rejects["d102"].extra["url"] == "https://s102.example/"
    assert rejects["d102"].extra["duplicate_of_url"] == "https://s7.example/"
    assert rejects["d102"].extra["duplicate_of_path"] == "p7"
    assert isinstance(out[-1], Document)


def test_a_sketch_made_in_the_document_stage_survives_the_spool_and_gives_the_same_verdicts():
    config = enabled()
    sketcher = DocumentSketcher(config)
    carried = []
    for item in corpus():
        if isinstance(item, Document):
            item = Document.from_dict(json.loads(json.dumps(sketcher.process(item).to_dict())))
        carried.append(item)
    assert carried[0].doc_sketch is not None and carried[-1].doc_sketch is None  # no text, no sketch
    with_sketch = [(type(x).__name__, getattr(x, "extra", None)) for x in DocumentDeduper(config).run(carried)]
    in_parent = [(type(x).__name__, getattr(x, "extra", None)) for x in DocumentDeduper(config).run(corpus())]
    assert with_sketch == in_parent


def _variants(seed: int, stories: int = 40) -> list[Document]:
    """Stories and edited copies of them (words changed, paragraphs cut, added), shuffled: chains
    of copies whose similarities straddle the threshold."""
    rng = random.Random(seed)
    base = [[" ".join(rng.choice(WORDS) for _ in range(40)) for _ in range(5)] for _ in range(stories)]
    docs = []
    for _ in range(stories * 4):
        paras = list(rng.choice(base))
        for _ in range(rng.randint(0, 3)):
            edit = rng.random()
            if edit < 0.4:
                p = rng.randrange(len(paras))
                words = paras[p].split()
                words[rng.randrange(len(words))] = rng.choice(WORDS)
                paras[p] = " ".join(words)
            elif edit < 0.7 and len(paras) > 2:
                del paras[rng.randrange(len(paras))]
            else:
                paras.insert(rng.randrange(len(paras) + 1), rng.choice(rng.choice(base)))
        docs.append(doc(len(docs), paras))
    return docs


@pytest.mark.parametrize("threshold", [0.5, 0.7, 0.8])
def test_same_rule_as_the_streaming_comment_filter(threshold, monkeypatch):
    monkeypatch.setattr(docdedup, "BUCKET_BITS", 2)  # the bucket index grows several times
    docs = _variants(threshold * 10)
    config = enabled(threshold)
    ours = list(DocumentDeduper(config).run(docs))
    reference = list(NearDuplicateFilter(config).filter([(d.id, d.text) for d in docs]))
    assert sum(isinstance(x, Reject) for x in ours) > 20
    for mine, ref in zip(ours, reference, strict=True):
        if ref.kept:
            assert isinstance(mine, Document)
        else:
            assert isinstance(mine, Reject)
            assert (mine.extra["duplicate_of"], mine.extra["method"]) == (ref.duplicate_of, ref.method)
            assert mine.extra["similarity"] == pytest.approx(ref.similarity, abs=1e-3)


def test_a_chain_keeps_its_end_when_it_is_not_similar_to_the_start():
    words = [f"w{i}" for i in range(400)]
    a = " ".join(words[:300])
    b = " ".join(words[50:350])  # ~0.71 to a and to c
    c = " ".join(words[100:400])  # ~0.5 to a
    out = list(DocumentDeduper(enabled(0.7)).run([doc(1, [a]), doc(2, [b]), doc(3, [c])]))
    assert [type(x).__name__ for x in out] == ["Document", "Reject", "Document"]


def test_off_passes_everything_through():
    config = Config().doc_dedup
    config.enabled = False
    out = list(DocumentDeduper(config).run(corpus()))
    assert sum(isinstance(x, Reject) for x in out) == 1
