"""The in-memory streaming API, and the README's Python examples run as plain scripts."""

from __future__ import annotations

import re
import subprocess
import sys

from cleanpipe import Config, clean
from cleanpipe.api import MEMORY_PATH

from .conftest import RAW, ROOT


def test_clean_yields_the_first_record_before_the_input_is_exhausted():
    page = (RAW / "news-harbour-tram.txt").read_text(encoding="utf-8")
    pulled = []

    def records():
        for i in range(50):
            pulled.append(i)
            yield page + f"\nA closing line of prose that makes page {i} a page of its own here.\n"

    stream = clean(records())
    first = next(stream)
    assert first["text"] and len(pulled) == 1  # nothing read ahead in one process
    assert len(list(stream)) == 49


def test_clean_with_workers_streams_with_bounded_read_ahead():
    page = (RAW / "news-harbour-tram.txt").read_text(encoding="utf-8")
    pulled = []

    def records():
        for i in range(40):
            pulled.append(i)
            yield {"text": page + f"\nA closing line of prose for page number {i} of this run.\n", "n": i}

    stream = clean(records(), Config(workers=2))
    first = next(stream)
    assert first["extra"] == {"n": 0} and len(pulled) < 40
    assert [r["extra"]["n"] for r in stream] == list(range(1, 40))


def test_clean_rejects_go_to_their_own_channel_and_duplicates_are_dropped():
    page = (RAW / "blog-tidepool-robots.txt").read_text(encoding="utf-8")
    rejects: list[dict] = []
    out = list(clean([page, {"nothing": "here"}, 42, {"html": "<p>x</p>", "url": 5}], on_reject=rejects.append))
    assert len(out) == 1 and out[0]["source"]["path"] == MEMORY_PATH
    reasons = sorted(r["reason"] for r in rejects)
    assert reasons == sorted(["duplicate"] * 3 + ["no-content", "bad-record", "no-content"])
    assert all("reject" not in r for r in out)


def readme_python_blocks() -> list[str]:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    section = readme.split("## Using cleanpipe from Python", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```python\n(.*?)```", section, re.S)


def test_readme_python_examples_run_as_plain_scripts(tmp_path):
    blocks = readme_python_blocks()
    assert len(blocks) >= 3
    for n, code in enumerate(blocks):
        script = tmp_path / f"example{n}.py"
        script.write_text(code, encoding="utf-8")
        proc = subprocess.run([sys.executable, str(script)], cwd=ROOT, capture_output=True, text=True, timeout=300)
        assert proc.returncode == 0, f"README example {n} failed:\n{code}\n{proc.stderr}"
        assert proc.stdout.strip()


def test_clean_redacts_personal_data_and_follows_the_published_schema():
    """A stream is no back door: PII is redacted as in a run, and records and rejects have the
    shape of documents.jsonl and rejects.jsonl (extra fields aside)."""
    import pytest

    jsonschema = pytest.importorskip("jsonschema")
    from cleanpipe.io.schema import record_schema

    page = (RAW / "blog-tidepool-robots.txt").read_text(encoding="utf-8")
    page = page.replace("\n\n", "\n\nWrite to the lab at tidepool.team@example.org with questions.\n\n", 1)
    rejects: list[dict] = []
    (record,) = list(clean([page, {"url": "https://x.example/"}], on_reject=rejects.append))
    assert "tidepool.team@example.org" not in str(record) and "<EMAIL>" in record["text"]
    extra = record.pop("extra")
    assert extra == {}
    jsonschema.Draft202012Validator(record_schema("document")).validate(record)
    validator = jsonschema.Draft202012Validator(record_schema("reject"))
    for rej in rejects:
        validator.validate(rej)
    assert sorted(r["reason"] for r in rejects) == ["duplicate"] * 3 + ["no-content"]
