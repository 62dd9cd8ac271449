"""Fuzzing: whatever the bytes, every input is either read or rejected, and nothing raises."""

from __future__ import annotations

import gzip
import io
import json

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cleanpipe.config import Config, ReadConfig
from cleanpipe.engines.pipeline import DocumentStages
from cleanpipe.io.read import Reader
from cleanpipe.model import Document, Reject

SUFFIXES = ["page.txt", "page.html", "records.jsonl", "records.json", "records.jsonl.zst", "crawl.warc", "crawl.warc.gz",
            "crawl.warc.wet.gz", "page.txt.gz", "noext"]
FUZZ = settings(max_examples=1200, deadline=None, suppress_health_check=[HealthCheck.too_slow])

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=40),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12)
records = st.dictionaries(st.sampled_from(["text", "html", "url", "id", "x"]), json_values, max_size=5)


def read_bytes(tmp_path, name: str, data: bytes) -> list:
    path = tmp_path / name
    path.write_bytes(data)
    return list(Reader(ReadConfig(max_bytes=200_000)).run([str(path)]))


@FUZZ
@given(data=st.binary(max_size=3000), name=st.sampled_from(SUFFIXES), gz=st.booleans())
def test_arbitrary_bytes_are_read_or_rejected(tmp_path_factory, data, name, gz):
    tmp = tmp_path_factory.mktemp("fuzz")
    out = read_bytes(tmp, name, gzip.compress(data) if gz else data)
    assert all(isinstance(o, Document | Reject) for o in out)
    assert out, "an input must produce at least a document or a reject"
    stages = DocumentStages(Config())
    for doc in out:
        if isinstance(doc, Document):
            assert isinstance(stages.process(doc), Document | Reject)


@FUZZ
@given(st.lists(records | json_values, max_size=8), st.lists(st.binary(max_size=30), max_size=3))
def test_arbitrary_jsonl_lines(tmp_path_factory, values, junk):
    lines = [json.dumps(v).encode() for v in values] + junk
    out = read_bytes(tmp_path_factory.mktemp("fuzz"), "r.jsonl", b"\n".join(lines))
    assert all(isinstance(o, Document | Reject) for o in out)
    docs = [o for o in out if isinstance(o, Document)]
    assert len({d.id for d in docs}) == len(docs)


@settings(max_examples=600, deadline=None)
@given(st.text(max_size=2000))
def test_arbitrary_text_through_the_stages(text):
    (doc,) = Reader(stdin=io.BytesIO(text.encode("utf-8", "surrogatepass"))).run(["-"]) or [None]
    if isinstance(doc, Document):
        assert isinstance(DocumentStages(Config()).process(doc), Document | Reject)
