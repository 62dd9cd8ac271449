from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

from cleanpipe import Config, Pipeline
from cleanpipe.engines.pipeline import EXIT_NOTHING_READ, EXIT_OK, EXIT_REJECTS
from cleanpipe.io.schema import SCHEMA_VERSION
from tests.conftest import RAW


def read_jsonl(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def test_bundled_raw_end_to_end(tmp_path):
    summary = Pipeline().run([str(RAW)], tmp_path)
    assert summary.exit_code == EXIT_OK
    docs = read_jsonl(tmp_path / "documents.jsonl")
    rejects = read_jsonl(tmp_path / "rejects.jsonl")
    assert len(docs) == summary.documents == 5
    by_name = {Path(d["source"]["path"]).name + str(d["source"]["record"] or ""): d for d in docs}
    blog = by_name["blog-tidepool-robots.txt"]
    assert "Ingrid Solbreg" not in blog["text"] and "Ingrid Solberg" in blog["text"]
    assert blog["byline"] == "Jonas Ekberg"
    assert [c["author"] for c in blog["comments"]] == ["Maria Costa", "Pete Lund", "Lee Park"]
    assert [c["duplicates"] for c in blog["comments"]] == [1, 1, 1]
    dropped = {r["comment"]["id"]: r["comment"] for r in rejects if r["reason"] == "duplicate"}
    assert len(dropped) == 3
    kept_ids = {c["id"] for d in docs for c in d["comments"]}
    assert all(r["duplicate_of"] in kept_ids for r in dropped.values())
    html = by_name["feature-harbour-ferries.html"]
    assert [c["author"] for c in html["comments"]] == ["Oskar", "Lina"]
    manifest = json.loads((tmp_path / "manifest.json").read_text())
    assert manifest["summary"]["documents"] == 5 and manifest["summary"]["exit_code"] == 0


def test_record_contract(tmp_path):
    Pipeline().run([str(RAW / "news-harbour-tram.txt")], tmp_path)
    (doc,) = read_jsonl(tmp_path / "documents.jsonl")
    assert set(doc) >= {"id", "title", "text", "comments", "source", "provenance", "paragraphs"}
    assert set(doc["source"]) >= {"path", "sha256", "format", "url", "record"}
    prov = doc["provenance"]
    assert prov["cleanpipe_version"] and len(prov["config_sha256"]) == 64 and prov["run_id"]
    assert prov["schema_version"] == SCHEMA_VERSION and prov["level"] == "compact" and "config" not in prov
    assert [s["stage"] for s in prov["stages"]] == ["strip", "comments", "names", "pii"]
    raw_lines = (RAW / "news-harbour-tram.txt").read_text(encoding="utf-8").split("\n")
    for para in doc["paragraphs"]:
        a, b = para["source_lines"]
        assert doc["text"][para["start"]:para["end"]] == " ".join(x.strip() for x in raw_lines[a - 1:b])


def test_broken_inputs_are_rejected_and_the_run_goes_on(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    (src / "a-good.txt").write_text((RAW / "news-harbour-tram.txt").read_text())
    (src / "b-binary.txt").write_bytes(bytes(range(256)) * 20)
    (src / "c-empty.txt").write_bytes(b"")
    (src / "d-cut.txt.gz").write_bytes(b"\x1f\x8b\x08\x00garbage")
    (src / "e-records.jsonl").write_text('{"text": "Fine record with a full sentence of text in it for sure."}\n{oops\n')
    summary = Pipeline().run([str(src)], tmp_path / "out")
    assert summary.exit_code == EXIT_REJECTS
    rejects = read_jsonl(tmp_path / "out" / "rejects.jsonl")
    got = {(Path(r["path"]).name, r["reason"]) for r in rejects}
    assert {("b-binary.txt", "binary"), ("c-empty.txt", "empty"), ("e-records.jsonl", "bad-json")} <= got
    assert any(name == "d-cut.txt.gz" for name, _ in got)
    docs = read_jsonl(tmp_path / "out" / "documents.jsonl")
    assert [Path(d["source"]["path"]).name for d in docs] == ["a-good.txt", "e-records.jsonl"]


def test_nothing_readable_exit_code(tmp_path):
    (tmp_path / "x.txt").write_bytes(b"")
    assert Pipeline().run([str(tmp_path / "x.txt")], tmp_path / "out").exit_code == EXIT_NOTHING_READ


def test_same_input_same_output_and_no_leftovers(tmp_path):
    Pipeline().run([str(RAW)], tmp_path / "a")
    Pipeline().run([str(RAW)], tmp_path / "a")  # a rerun replaces, never appends
    Pipeline().run([str(RAW)], tmp_path / "b")

    def stable(p):
        return [(d["id"], d["text"], d["comments"]) for d in read_jsonl(p / "documents.jsonl")]

    assert stable(tmp_path / "a") == stable(tmp_path / "b")
    assert sorted(p.name for p in (tmp_path / "a").iterdir()) == [
        ".cleanpipe-state", ".cleanpipe.lock", "documents.jsonl", "manifest.json", "rejects.jsonl"]


def test_workers_give_the_same_output(tmp_path):
    one = Pipeline(Config(workers=1)).run([str(RAW)], tmp_path / "one")
    two = Pipeline(Config(workers=2)).run([str(RAW)], tmp_path / "two")
    assert one.documents == two.documents
    strip = [{k: v for k, v in d.items() if k != "provenance"} for d in read_jsonl(tmp_path / "one/documents.jsonl")]
    strip2 = [{k: v for k, v in d.items() if k != "provenance"} for d in read_jsonl(tmp_path / "two/documents.jsonl")]
    assert strip == strip2


def test_duplicate_document_is_rejected_not_repeated(tmp_path):
    for name in ("one.txt", "two.txt"):
        (tmp_path / name).write_text((RAW / "news-harbour-tram.txt").read_text())
    summary = Pipeline().run([str(tmp_path)], tmp_path / "out")
    assert summary.documents == 1 and summary.rejects["duplicate-document"] == 1


def test_alias_file_and_names_off(tmp_path):
    aliases = tmp_path / "aliases.toml"
    aliases.write_text('"Coastline Courier Media" = ["Nordvik Transit"]\n')
    cfg = Config()
    cfg.names.aliases = str(aliases)
    Pipeline(cfg).run([str(RAW / "news-harbour-tram.txt")], tmp_path / "a")
    (doc,) = read_jsonl(tmp_path / "a" / "documents.jsonl")
    assert "Nordvik Transit" not in doc["text"] and "Coastline Courier Media" in doc["text"]
    cfg = Config()
    cfg.names.mode = "off"
    Pipeline(cfg).run([str(RAW)], tmp_path / "b")
    texts = " ".join(d["text"] for d in read_jsonl(tmp_path / "b" / "documents.jsonl"))
    assert "Ingrid Solbreg" in texts


def test_iter_records_python_api():
    records = list(Pipeline().iter_records([str(RAW / "blog-tidepool-robots.txt")]))
    docs = [r for r in records if "reject" not in r]
    assert len(docs) == 1 and docs[0]["title"].startswith("Why the Tidepool")
    assert sum("reject" in r for r in records) == 3


def test_doc_timeout_rejects_a_slow_page_and_keeps_the_rest(tmp_path):
    src = tmp_path / "in"
    src.mkdir()
    (src / "a.txt").write_text((RAW / "news-harbour-tram.txt").read_text())
    # a huge menu-like dump: real work for the strip stage, far beyond a 0.3 s budget
    (src / "b-huge.txt").write_text("".join(f"Menu item number {i}\n" for i in range(400_000)))
    (src / "c.txt").write_text((RAW / "blog-tidepool-robots.txt").read_text())
    cfg = Config(workers=1, doc_timeout=0.3)
    summary = Pipeline(cfg).run([str(src)], tmp_path / "out")
    assert summary.rejects["timeout"] == 1 and summary.exit_code == EXIT_REJECTS
    docs = read_jsonl(tmp_path / "out" / "documents.jsonl")
    assert [Path(d["source"]["path"]).name for d in docs] == ["a.txt", "c.txt"]
    (rej,) = [r for r in read_jsonl(tmp_path / "out" / "rejects.jsonl") if r["reason"] == "timeout"]
    assert rej["path"].endswith("b-huge.txt") and "doc-timeout" in rej["detail"]


def test_a_bare_string_or_path_is_one_input(tmp_path):
    """#22: a str was iterated character by character ('/' walked the filesystem); Path objects raised."""
    page = RAW / "news-harbour-tram.txt"
    for given in (str(page), page, [page]):
        out = tmp_path / f"o{type(given).__name__}"
        summary = Pipeline(Config(workers=1, doc_timeout=0)).run(given, out, use_state=False)
        assert summary.inputs == 1 and summary.documents == 1
        assert json.loads((out / "manifest.json").read_text())["inputs"] == [str(page)]
    assert len(list(Pipeline(Config(workers=1, doc_timeout=0)).iter_records(page))) == 1


def test_a_script_without_a_main_guard_runs_with_worker_processes(tmp_path):
    """#22: the README's example run as a plain script (no `if __name__ == "__main__":`) failed in
    the spawned workers, which re-ran the script."""
    script = tmp_path / "script.py"
    script.write_text(
        "from cleanpipe import Config, Pipeline\n"
        "print('body')\n"
        f"summary = Pipeline(Config(workers=2)).run([{str(RAW)!r}], {str(tmp_path / 'out')!r})\n"
        "print(summary.documents, summary.exit_code)\n")
    proc = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.split() == ["body", "5", "0"]


def test_a_republished_story_is_a_near_duplicate_document_with_both_urls(tmp_path):
    story = (RAW / "news-harbour-tram.txt").read_text(encoding="utf-8")
    lines = story.splitlines()
    copy = "\n".join(["Republished with permission from the Harbour Courier.", ""] + lines[:-2] +
                      ["", "Read more stories like this on our partner site."])
    crawl = tmp_path / "crawl.jsonl"
    crawl.write_text("\n".join(json.dumps(r) for r in [
        {"text": story, "url": "https://courier.example/tram"},
        {"text": copy, "url": "https://partner.example/2026/tram"}]) + "\n", encoding="utf-8")
    off = Pipeline(Config(workers=1, doc_timeout=0)).run([str(crawl)], tmp_path / "off", use_state=False)
    assert off.documents == 2  # off by default
    config = Config(workers=1, doc_timeout=0)
    config.doc_dedup.enabled = True
    summary = Pipeline(config).run([str(crawl)], tmp_path / "on", use_state=False)
    assert summary.documents == 1 and summary.rejects["near-duplicate-document"] == 1
    (rej,) = [r for r in read_jsonl(tmp_path / "on" / "rejects.jsonl") if r["reason"] == "near-duplicate-document"]
    dup = rej["document"]
    assert dup["url"] == "https://partner.example/2026/tram"
    assert dup["duplicate_of_url"] == "https://courier.example/tram" and dup["similarity"] >= 0.6
    assert summary.exit_code == EXIT_OK  # a duplicate is a result, not an error


def test_near_duplicate_documents_across_runs_use_the_stored_sketches(tmp_path, monkeypatch):
    """A story stored by an earlier run is what a republished copy in a later run duplicates; the
    sketches of unchanged inputs come from the state store, not computed again."""
    from cleanpipe.stages.docdedup import DocumentSketcher

    story = (RAW / "news-harbour-tram.txt").read_text(encoding="utf-8")
    lines = story.splitlines()
    src = tmp_path / "src"
    src.mkdir()
    (src / "a-story.jsonl").write_text(json.dumps({"text": story, "url": "https://courier.example/tram"}) + "\n",
                                       encoding="utf-8")
    (src / "blog.txt").write_text((RAW / "blog-tidepool-robots.txt").read_text(encoding="utf-8"), encoding="utf-8")
    config = Config(workers=1, doc_timeout=0)
    config.doc_dedup.enabled = True
    first = Pipeline(config).run([str(src)], tmp_path / "out")
    assert first.documents == 2 and "near-duplicate-document" not in first.rejects
    copy = "\n".join(["The Partner Post", ""] + lines[8:] + ["", "Republished with permission."])
    (src / "b-partner.jsonl").write_text(json.dumps({"text": copy, "url": "https://partner.example/tram"}) + "\n",
                                         encoding="utf-8")
    sketched: list[str] = []
    original = DocumentSketcher.process

    def counting(self, doc):
        sketched.append(doc.source.path)
        return original(self, doc)

    monkeypatch.setattr(DocumentSketcher, "process", counting)
    second = Pipeline(config).run([str(src)], tmp_path / "out")
    assert second.unchanged_inputs == 2 and sketched == [str(src / "b-partner.jsonl")]
    assert second.documents == 2 and second.rejects["near-duplicate-document"] == 1
    (rej,) = [r for r in read_jsonl(tmp_path / "out" / "rejects.jsonl") if r["reason"] == "near-duplicate-document"]
    assert rej["document"]["duplicate_of_url"] == "https://courier.example/tram"
    assert rej["document"]["url"] == "https://partner.example/tram"
    full = Pipeline(config).run([str(src)], tmp_path / "full", use_state=False)
    assert full.to_dict()["rejects"] == second.to_dict()["rejects"] and full.documents == second.documents


def test_out_inside_the_inputs_is_never_read_back(tmp_path):
    """Regression (#18.4): `cleanpipe run d --out d/clean` three times gave 5, 10, ... documents."""
    import shutil

    src = tmp_path / "d"
    shutil.copytree(RAW, src)
    counts = [Pipeline(Config(workers=1, doc_timeout=0)).run([str(src)], src / "clean").documents for _ in range(3)]
    assert counts == [5, 5, 5]
    other = tmp_path / "e"
    shutil.copytree(RAW, other)
    counts = [Pipeline(Config(workers=1, doc_timeout=0)).run([str(other)], other / "o", state_dir=other / "s")
              .documents for _ in range(2)]
    assert counts == [5, 5]  # a --state folder inside the inputs is not read either


def test_a_comment_dropped_for_its_language_is_a_reject_in_a_run(tmp_path):
    """Regression (merge of the quality stage): pass 1 yielded a comment reject in the wrong form
    and the run failed as soon as the quality stage dropped a comment."""
    blog = (RAW / "blog-tidepool-robots.txt").read_text(encoding="utf-8")
    german = ("Ich finde diesen Artikel wirklich sehr interessant und habe ihn mit großer Freude "
              "gelesen, vielen Dank dafür.")
    lines = blog.splitlines()
    at = next(i for i, line in enumerate(lines) if line.strip().startswith("Great article"))
    src = tmp_path / "src"
    src.mkdir()
    (src / "blog.txt").write_text("\n".join(lines[:at] + [german] + lines[at:]) + "\n", encoding="utf-8")
    config = Config(workers=1, doc_timeout=0)
    config.quality.languages = ["en"]
    for _ in range(2):  # the second run takes the page from the state store
        summary = Pipeline(config).run([str(src)], tmp_path / "out")
        assert summary.documents == 1 and summary.rejects["language"] == 1
        rejects = read_jsonl(tmp_path / "out" / "rejects.jsonl")
        (dropped,) = [r for r in rejects if r["reason"] == "language"]
        assert dropped["kind"] == "comment" and dropped["quality"]["value"] == "de"
        assert german not in (tmp_path / "out" / "documents.jsonl").read_text(encoding="utf-8")


def test_progress_counts_pages_inside_one_container(tmp_path):
    """One 1 GB WARC is one input: progress counted inputs, so a half-hour run said "1" at its end only."""
    lines = [json.dumps({"id": f"r{i}", "url": f"https://e.org/{i}", "text": f"Page {i}. " + "Prose of the page. " * 30})
             for i in range(7)]
    (tmp_path / "crawl.jsonl").write_text("\n".join(lines) + "\n")
    calls = []
    Pipeline(Config(workers=1, doc_timeout=0)).run([str(tmp_path / "crawl.jsonl")], tmp_path / "out",
                                                  progress=lambda phase, n: calls.append((phase, n)))
    assert [n for phase, n in calls if phase == "map"] == [1, 2, 3, 4, 5, 6, 7]

