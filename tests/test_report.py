"""The run report: built from a real run, opened in headless Chromium (skipped when it is absent)."""

from __future__ import annotations

import gzip
import importlib
import json
import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest
from click.testing import CliRunner

from cleanpipe.cli import main
from cleanpipe.report import REPORT_FILE, build_report, write_report
from cleanpipe.report.collect import collect
from cleanpipe.report.page import script_json

from .conftest import NEWS_DUMP, RAW

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
needs_chromium = pytest.mark.skipif(CHROMIUM is None, reason="needs Debian's chromium (apt-get install -y chromium)")

HOSTILE = "<script>document.body.setAttribute('data-pwned','1')</script>"
HOSTILE_IMG = "<img src=x onerror=\"document.body.setAttribute('data-pwned','1')\">"


def _data(page: str) -> dict:
    m = re.search(r'<script type="application/json" id="cp-data">(.*?)</script>', page, re.S)
    assert m
    return json.loads(m.group(1))


def _run(inputs: list[str], out: Path, *extra: str) -> None:
    res = CliRunner().invoke(main, ["run", *inputs, "--out", str(out), "--no-state", "-q", "--workers", "1", *extra])
    assert res.exit_code in (0, 3), res.output


@pytest.fixture(scope="module")
def raw_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("report") / "out"
    _run([str(RAW)], out)
    return out


@pytest.fixture(scope="module")
def corpus_run(tmp_path_factory) -> Path:
    """Generated pages: a dozen news dumps, one carrying markup that would run if not escaped,
    two blog posts sharing their comments, an unreadable and an empty file, and a JSONL file
    whose URL is hostile too."""
    base = tmp_path_factory.mktemp("corpus")
    src = base / "in"
    src.mkdir()
    for i in range(12):
        page = NEWS_DUMP.replace("Volunteers Rebuild the Old Library Roof", f"Story {i}: Volunteers Rebuild Roof {i}")
        (src / f"page{i:02d}.txt").write_text(page, encoding="utf-8")
    hostile = NEWS_DUMP.replace("The committee now wants", f"{HOSTILE} {HOSTILE_IMG} The committee now wants")
    (src / "hostile.txt").write_text(hostile.replace("Daily Example", f"Daily {HOSTILE}"), encoding="utf-8")
    blog = (RAW / "blog-tidepool-robots.txt").read_text(encoding="utf-8")
    for name in ("blog-a.txt", "blog-b.txt"):  # the same comments on two pages: duplicates across pages
        (src / name).write_text(blog.replace("Why the Tidepool", f"{name}: Why the Tidepool"), encoding="utf-8")
    (src / "binary.txt").write_bytes(b"\x00\x01" * 999)
    (src / "empty.txt").write_text("  \n", encoding="utf-8")
    rec = {"id": "h1", "url": f"https://example.org/?q={HOSTILE_IMG}", "text": NEWS_DUMP}
    (src / "crawl.jsonl").write_text(json.dumps(rec) + "\n", encoding="utf-8")
    out = base / "out"
    _run([str(src)], out)
    return out


def _chromium(url: str, *args: str) -> tuple[str, str]:
    """Headless Chromium with no way out to the network; the DOM after the page's script ran."""
    with tempfile.TemporaryDirectory() as profile:
        proc = subprocess.run(
            [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
             "--disable-component-update", "--disable-sync", "--no-first-run", "--disable-extensions",
             f"--user-data-dir={profile}", "--host-resolver-rules=MAP * ~NOTFOUND", "--enable-logging=stderr",
             "--v=0", *args, url],
            capture_output=True, text=True, timeout=180)
    return proc.stdout, proc.stderr


def _console(stderr: str) -> list[str]:
    # the page's console (errors, CSP violations, failed loads) as Chromium logs it
    return [ln for ln in stderr.splitlines() if "CONSOLE" in ln or "Refused to" in ln or "net::ERR" in ln]


# -- the page as written ----------------------------------------------------------------------
def test_run_writes_report_unless_no_report(raw_run, tmp_path):
    page = (raw_run / REPORT_FILE).read_text(encoding="utf-8")
    assert page.startswith("<!DOCTYPE html>")
    _run([str(RAW / "news-harbour-tram.txt")], tmp_path / "o", "--no-report")
    assert not (tmp_path / "o" / REPORT_FILE).exists()
    assert (tmp_path / "o" / "documents.jsonl").exists()


def test_report_command_and_help(raw_run, tmp_path):
    res = CliRunner().invoke(main, ["report", str(raw_run), "--to", str(tmp_path / "r.html")])
    assert res.exit_code == 0, res.output
    assert (tmp_path / "r.html").stat().st_size > 10_000
    res = CliRunner().invoke(main, ["report", "--help"])
    assert res.exit_code == 0 and "Examples:" in res.output


def test_report_is_self_contained(raw_run):
    page = (raw_run / REPORT_FILE).read_text(encoding="utf-8")
    # nothing loaded from anywhere: no src/href to a URL, no stylesheet links, and a CSP forbidding it
    assert not re.search(r"""(src|href)\s*=\s*["']?\s*(https?:)?//""", page, re.I)
    assert "<link" not in page and "@import" not in page and "url(" not in page
    assert "default-src 'none'" in page


def test_report_numbers_match_the_run(raw_run):
    c = collect(raw_run)
    manifest = json.loads((raw_run / "manifest.json").read_text())
    assert c.documents == manifest["summary"]["documents"] == 5
    assert c.comments_dropped == 3 and c.comments_kept == 5
    assert c.rejects == {("comment", "duplicate"): 3}
    assert c.removed[("strip", "outside-article")].lines > 0
    assert [k[:2] for k in c.merges] == [("Ingrid Solbreg", "Ingrid Solberg")]
    assert len(c.views) == 5 and all(v["raw"]["status"] == "ok" for v in c.views)
    page = (raw_run / REPORT_FILE).read_text(encoding="utf-8")
    assert '<span id="sum-documents">5</span>' in page
    assert 'data-label="comment: duplicate" data-value="3"' in page
    # the quality stage's numbers are charted once, as numbers: no empty "per value" chart beside each
    assert "nothing to show" not in page


def test_hostile_text_is_escaped(corpus_run):
    page = (corpus_run / REPORT_FILE).read_text(encoding="utf-8")
    # our two script elements (the data and the code) and no other; the payload only as data
    assert page.count("<script") == 2 and "<img" not in page
    data = _data(page)
    assert any(HOSTILE in line for v in data["views"] for line in v["raw"]["lines"])
    assert "</script" not in script_json({"x": "</script><!--"})


def test_the_streamed_page_is_the_built_page_and_placeholders_in_a_document_stay_text(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    trap = "Templates write {{sections}} and {{data}} where the page goes, the editor said."
    (src / "a.txt").write_text(NEWS_DUMP.replace("The committee now wants", trap + " The committee now wants"),
                               encoding="utf-8")
    out = tmp_path / "out"
    _run([str(src)], out, "--no-report")
    written = write_report(out).read_text(encoding="utf-8")
    built = build_report(out)
    generated = re.compile(r"generated \d{4}-\d\d-\d\d \d\d:\d\d UTC")
    assert generated.sub("", written) == generated.sub("", built)
    assert written.count('id="cp-data"') == 1 and written.count("<section id=\"summary\"") <= 1
    data = _data(written)
    assert any(trap in line for v in data["views"] for line in v["raw"]["lines"])
    assert data["palette"] and len(data["views"]) == 1


def test_gone_and_changed_inputs_are_said(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.txt").write_text(NEWS_DUMP, encoding="utf-8")
    (src / "b.txt").write_text(NEWS_DUMP.replace("Volunteers", "Neighbours"), encoding="utf-8")
    _run([str(src)], tmp_path / "out", "--no-report")
    (src / "a.txt").unlink()
    (src / "b.txt").write_text(NEWS_DUMP + "\nmore\n", encoding="utf-8")
    views = {Path(v["path"]).name: v["raw"] for v in collect(tmp_path / "out").views}
    assert views["a.txt"]["status"] == "gone" and "gone" in views["a.txt"]["note"]
    assert views["b.txt"]["status"] == "changed" and "changed since the run" in views["b.txt"]["note"]


def test_an_input_with_a_non_utf8_name_is_read_again(tmp_path):
    import os

    src = tmp_path / "in"
    src.mkdir()
    with open(os.path.join(os.fsencode(src), b"caf\xe9.txt"), "wb") as fh:  # a name that is not UTF-8
        fh.write(NEWS_DUMP.encode())
    _run([str(src)], tmp_path / "out", "--no-report")
    (view,) = collect(tmp_path / "out").views
    assert view["path"].endswith("caf\\xe9.txt") and view["raw"]["status"] == "ok"


def test_sample_keeps_interesting_documents(corpus_run, raw_run, tmp_path):
    c = collect(corpus_run, max_docs=4)
    assert len(c.views) == 4 and c.documents == 16
    page = write_report(raw_run, to=tmp_path / "r.html", max_docs=1).read_text(encoding="utf-8")
    views = _data(page)["views"]
    # the blog post (dropped comments, a merged name) wins the one place over plain pages
    assert [v["id"] for v in views] == ["7a1d0de83948261b"]
    assert "1 of 5 documents are in this report" in page
    forced = collect(raw_run, max_docs=1, include=frozenset({"https://example.org/letters/tram-noise"}))
    assert [v["url"] for v in forced.views] == ["https://example.org/letters/tram-noise"]


def test_loader_reads_schema_shaped_and_sharded_output(tmp_path):
    """The output contract under way (compact provenance, typed spans, nested reject fields,
    gzip shards listed in the manifest) reads through the same loader."""
    doc = {"id": "d1", "text": "Ann Lee spoke.", "source": {"path": "gone.txt", "sha256": "0"},
           "comments": [{"id": "d1-c0", "text": "hi"}],
           "quality": {"score": 0.5, "label": "ok"}, "language": "en",
           "provenance": {"level": "compact", "stages": [
               {"stage": "strip", "spans": [{"lines": [1, 2], "reason": "chrome", "preview": None}]},
               {"stage": "names", "spans": [{"lines": None, "reason": "edit-distance", "count": 1,
                                             "ref": "Ann Leee -> Ann Lee", "field": "text", "offsets": [[0, 7]]}]},
               {"stage": "pii", "mode": "redact", "redactions": [{"field": "text", "kind": "email", "offsets": [[0, 3], [5, 7]]}]}]}}
    rej = {"kind": "comment", "reason": "duplicate", "doc_id": "d1",
           "comment": {"id": "d1-c1", "text": "hi", "duplicate_of": "d1-c0", "kept_text": "hi"}}
    with gzip.open(tmp_path / "documents-00000.jsonl.gz", "wt") as fh:
        fh.write(json.dumps(doc) + "\n")
    (tmp_path / "rejects.jsonl").write_text(json.dumps(rej) + "\nnot json\n")
    (tmp_path / "manifest.json").write_text(json.dumps({"files": [
        {"kind": "documents", "file": "documents-00000.jsonl.gz"}, {"kind": "rejects", "file": "rejects.jsonl"}]}))
    c = collect(tmp_path)
    assert c.documents == 1 and c.removed[("strip", "chrome")].lines == 2
    assert c.clusters == {"d1-c0": 1} and c.comments_dropped == 1
    assert c.merges[("Ann Leee", "Ann Lee", "edit-distance")]["context"][1] == "Ann Lee"
    assert c.extra_fields["language"] == {"en": 1} and list(c.extra_numbers["quality.score"]) == [0.5]
    assert c.extra_stages["pii"]["redactions: email"] == 2 and c.extra_stages["pii"]["mode = redact"] == 1
    assert c.views[0]["raw"]["status"] == "gone"
    page = write_report(tmp_path).read_text(encoding="utf-8")
    assert "stage pii" in page and "quality.score" in page


# -- the page in a browser --------------------------------------------------------------------
@needs_chromium
def test_browser_before_after_view(raw_run):
    url = (raw_run / REPORT_FILE).as_uri() + "#doc=7a1d0de83948261b"
    dom, log = _chromium(url, "--dump-dom")
    assert 'data-ready="1"' in dom, log[-2000:]
    assert _console(log) == []
    assert re.search(r'<div id="js-errors" hidden(="")?></div>', dom)
    view = dom[dom.index('id="doc-view"'):]
    assert 'data-doc="7a1d0de83948261b"' in view
    # lines 1-3 of the raw dump were removed as outside the article: struck, coloured, tagged
    for n in (1, 2, 3):
        assert re.search(rf'<div class="ln removed" data-line="{n}"[^>]*data-reason="outside-article"', view)
    assert re.search(r'<div class="ln kept" data-line="9"', view)
    # the dropped duplicate on raw line 33 links to the comment it duplicates
    assert re.search(r'data-line="33"[^>]*data-reason="duplicate".*?<a class="dup-link"[^>]*>7a1d0de83948261b-c0</a>',
                     view)
    assert 'id="c-7a1d0de83948261b-c2"' in view and 'class="comment dropped"' in view
    # the variant name in the raw text, the canonical one in the record
    assert '<mark class="old" title="becomes Ingrid Solberg (edit-distance)">Ingrid Solbreg</mark>' in view
    assert '<mark class="name" title="was: Ingrid Solbreg (edit-distance)">Ingrid Solberg</mark>' in view


@needs_chromium
def test_browser_html_page_and_search_list(raw_run):
    dom, log = _chromium((raw_run / REPORT_FILE).as_uri() + "#doc=d9420fd68d9f2923", "--dump-dom")
    assert 'data-ready="1"' in dom and _console(log) == []
    view = dom[dom.index('id="doc-view"'):]
    assert "An HTML page" in view
    assert re.search(r'class="ln removed"[^>]*data-reason="html-boilerplate"', view)
    assert re.search(r'class="ln kept"', view)
    results = dom[dom.index('id="doc-results"'):dom.index('id="doc-view"')]
    assert results.count("<li>") == 5 and "5 found" in results


@needs_chromium
def test_browser_hostile_corpus_no_script_runs_no_network(corpus_run, tmp_path):
    page = corpus_run / REPORT_FILE
    hostile_id = next(v["id"] for v in _data(page.read_text())["views"] if v["path"].endswith("hostile.txt"))
    dom, log = _chromium(page.as_uri() + f"#doc={hostile_id}", "--dump-dom")
    assert 'data-ready="1"' in dom and _console(log) == []
    assert 'data-pwned="1"' not in dom
    assert "&lt;script&gt;document.body.setAttribute" in dom[dom.index('id="doc-view"'):]
    # the rejects table has the unreadable file, and the filter options count by reason
    assert re.search(r'<option value="binary">binary \(1\)</option>', dom)
    # a reason in the URL filters the rejects table: the other reasons' rows are hidden, binary's not
    dom, log = _chromium(page.as_uri() + "#reason=binary", "--dump-dom")
    table = dom[dom.index('id="reject-table"'):]
    rows = re.findall(r'<tr data-reason="([^"]+)"( hidden(?:="")?)?>', table)
    assert {r for r, _ in rows} == {"binary", "duplicate", "empty"}
    assert all(bool(h) == (r != "binary") for r, h in rows)
    shot = tmp_path / "shot.png"
    _chromium(page.as_uri(), f"--screenshot={shot}", "--window-size=1200,900")
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n" and shot.stat().st_size > 20_000


@needs_chromium
def test_browser_duplicate_of_a_comment_on_another_page(corpus_run):
    page = corpus_run / REPORT_FILE
    views = {Path(v["path"]).name: v for v in _data(page.read_text())["views"]}
    first, second = views["blog-a.txt"]["id"], views["blog-b.txt"]["id"]
    assert {d["duplicate_of"] for d in views["blog-b.txt"]["dropped"]} >= {f"{first}-c0"}
    dom, log = _chromium(page.as_uri() + f"#doc={second}", "--dump-dom")
    assert _console(log) == []
    # a dropped comment of the second page links to the kept one on the first page's view
    assert f'<a class="dup-link" href="#doc={first}&amp;c={first}-c0">{first}-c0</a>' in dom
    dom, log = _chromium(page.as_uri() + f"#doc={first}&c={first}-c0", "--dump-dom")
    assert f'data-doc="{first}"' in dom and f'<div class="comment target" id="c-{first}-c0">' in dom


def test_loader_reads_the_ray_engines_part_files(raw_run, tmp_path):
    """--engine ray writes documents/part-*.jsonl and rejects/part-*.jsonl, listed in the manifest."""
    out = tmp_path / "ray"
    (out / "documents").mkdir(parents=True)
    (out / "rejects").mkdir()
    docs = (raw_run / "documents.jsonl").read_text().splitlines(keepends=True)
    (out / "documents" / "part-00000.jsonl").write_text("".join(docs[:2]))
    (out / "documents" / "part-00001.jsonl").write_text("".join(docs[2:]))
    shutil.copy(raw_run / "rejects.jsonl", out / "rejects" / "part-00000.jsonl")
    manifest = json.loads((raw_run / "manifest.json").read_text())
    manifest["engine"] = "ray"
    manifest["summary"]["files"] = [{"file": f"documents/part-0000{i}.jsonl"} for i in (0, 1)] + [
        {"file": "rejects/part-00000.jsonl"}]
    (out / "manifest.json").write_text(json.dumps(manifest))
    c = collect(out)
    assert c.documents == 5 and c.comments_dropped == 3
    assert "<td>ray</td>" in write_report(out).read_text(encoding="utf-8")
    (out / "manifest.json").unlink()  # no manifest: the files are found by name
    assert collect(out).documents == 5


def test_a_crawl_file_is_read_again_in_forward_passes_not_held_whole(tmp_path, monkeypatch):
    """#20: the report re-read a WARC or JSONL input whole (bytes and every page) for each document's
    before/after view; a 1 GB crawl file would have been held in memory. Now it is streamed."""
    from cleanpipe.io.read import Reader
    from cleanpipe.report.raw import RawReader

    crawl = tmp_path / "crawl.jsonl"
    words = "harbour tram council budget river bridge market school library station".split()
    with open(crawl, "w", encoding="utf-8") as fh:
        for i in range(40):
            body = " ".join(words[(i + k) % 10] for k in range(14))
            fh.write(json.dumps({"url": f"https://e.org/{i}",
                                 "text": f"Story {i}\n\nThe {body}, number {i}. A sentence of its own.\n"}) + "\n")
    out = tmp_path / "out"
    _run([str(crawl)], out, "--no-report")
    opened, real = [], Reader.read_path

    def counting(self, path):
        opened.append(path)
        return real(self, path)

    monkeypatch.setattr(Reader, "read_path", counting)
    got = collect(out, max_docs=10)
    assert got.raw_read == got.documents == 40
    assert len(opened) == 2  # one pass for the counts, one for the sampled views
    assert all(v["raw"]["status"] == "ok" for v in got.views)
    # asked out of order, it opens the input again rather than keeping every page
    reader = RawReader([tmp_path])
    assert reader.page({"path": str(crawl), "record": 30, "format": "jsonl"}).lines[0] == "Story 30"
    assert reader.page({"path": str(crawl), "record": 3, "format": "jsonl"}).lines[0] == "Story 3"
    assert reader.page({"path": str(crawl), "record": 99, "format": "jsonl"}).status == "gone"


def test_raw_inputs_read_again_are_an_even_sample_of_a_large_run(tmp_path, monkeypatch):
    crawl = tmp_path / "crawl.jsonl"
    with open(crawl, "w", encoding="utf-8") as fh:
        for i in range(30):
            fh.write(json.dumps({"text": f"Story {i}\n\nA page about the harbour tram, number {i}, and more.\n"}) + "\n")
    out = tmp_path / "out"
    _run([str(crawl)], out, "--no-report")
    from cleanpipe.report.raw import RawReader
    asked, real = [], RawReader.page

    def page(self, src):
        asked.append(src.get("record"))
        return real(self, src)

    monkeypatch.setattr(RawReader, "page", page)
    got = collect(out, max_docs=0, max_raw_reads=10)
    assert got.documents == 30 and got.raw_read == 10
    assert asked == list(range(0, 30, 3))  # every third document, not the first ten


def test_numeric_fields_are_charted_from_a_bounded_even_sample(raw_run, monkeypatch):
    collect_module = importlib.import_module("cleanpipe.report.collect")  # the package's `collect` is the function
    full = collect(raw_run)
    numeric = [k for k, n in full.extra_seen.items() if n == 5]
    assert numeric, "the quality stage gives every document numbers"
    monkeypatch.setattr(collect_module, "MAX_NUMBERS", 3)
    sampled = collect(raw_run)
    for key in numeric:
        assert len(sampled.extra_numbers[key]) == 3 and sampled.extra_seen[key] == 5
        assert set(sampled.extra_numbers[key]) <= set(full.extra_numbers[key])
    assert f"{numeric[0]} (documents per bin, a uniform sample of 3 of 5)" in build_report(raw_run)
