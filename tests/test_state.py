"""The state store: an incremental run writes the records a full run would, and a broken store is
either rebuilt (--force) or refused with a clear word."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from cleanpipe import Config, Pipeline
from cleanpipe.state import STATE_FILE, StateError, StateStore

from .conftest import ROOT


def inline() -> Config:
    return Config(workers=1, doc_timeout=0)


def records(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "documents.jsonl").read_text(encoding="utf-8").splitlines()]


def rejects(out: Path) -> list[dict]:
    return [json.loads(line) for line in (out / "rejects.jsonl").read_text(encoding="utf-8").splitlines()]


def content(out: Path) -> list[tuple]:
    """What a record says, without the run's own id and time."""
    return [(r["id"], r["source"]["path"], r["text"], json.dumps(r["comments"], sort_keys=True),
             json.dumps(r["provenance"]["stages"], sort_keys=True)) for r in records(out)]


def reject_content(out: Path) -> list[tuple]:
    return sorted(json.dumps({k: v for k, v in r.items() if k != "run_id"}, sort_keys=True) for r in rejects(out))


def full_run(src: Path, tmp: Path) -> Path:
    ref = tmp / "full"
    shutil.rmtree(ref, ignore_errors=True)
    Pipeline(inline()).run([str(src)], ref, use_state=False)
    return ref


@pytest.fixture
def src(tmp_path: Path) -> Path:
    folder = tmp_path / "src"
    shutil.copytree(ROOT / "raw", folder)
    return folder


def test_a_changed_input_keeps_its_comments(src, tmp_path):
    """Regression (#18.2): appending a line to the blog page made its 3 comments 1 on the re-run;
    the others were rejected as duplicates of the page's own old comments."""
    out = tmp_path / "out"
    Pipeline(inline()).run([str(src)], out)
    blog = src / "blog-tidepool-robots.txt"
    before = [r for r in records(out) if r["source"]["path"].endswith(blog.name)][0]
    assert len(before["comments"]) == 3
    blog.write_text(blog.read_text(encoding="utf-8") + "\nOne more line at the very end.\n", encoding="utf-8")
    summary = Pipeline(inline()).run([str(src)], out)
    assert summary.unchanged_inputs == 3
    after = [r for r in records(out) if r["source"]["path"].endswith(blog.name)][0]
    kept = [c["text"] for c in after["comments"]]
    assert kept[:3] == [c["text"] for c in before["comments"]]  # the appended line is a 4th comment
    assert content(out) == content(full_run(src, tmp_path))
    assert reject_content(out) == reject_content(tmp_path / "full")


def test_a_copy_under_a_new_name_is_the_duplicate_it_is_in_a_full_run(src, tmp_path):
    """Regression (#18.3): a copied input re-run incrementally gave two records with one id."""
    out = tmp_path / "out"
    Pipeline(inline()).run([str(src)], out)
    shutil.copy(src / "news-harbour-tram.txt", src / "zz-copy.txt")
    Pipeline(inline()).run([str(src)], out)
    ids = [r["id"] for r in records(out)]
    assert len(ids) == len(set(ids))
    assert content(out) == content(full_run(src, tmp_path))
    assert [r["reason"] for r in rejects(out) if r["path"].endswith("zz-copy.txt")] == ["duplicate-document"]


def test_outputs_moved_away_or_edited_never_lose_records(src, tmp_path):
    """Regression (#18.9): documents.jsonl moved away made the next run fail; a record removed
    from it was never restored."""
    out = tmp_path / "out"
    Pipeline(inline()).run([str(src)], out)
    expected = content(out)
    (out / "documents.jsonl").rename(tmp_path / "elsewhere.jsonl")
    assert Pipeline(inline()).run([str(src)], out).unchanged_inputs == 4
    assert content(out) == expected
    lines = (out / "documents.jsonl").read_text(encoding="utf-8").splitlines()
    (out / "documents.jsonl").write_text("\n".join(lines[1:]) + "\n", encoding="utf-8")
    Pipeline(inline()).run([str(src)], out)
    assert content(out) == expected


def test_exit_code_reflects_the_output_not_only_this_runs_work(src, tmp_path):
    """Regression (#18.10): a re-run over an input with a bad JSONL line exited 0."""
    (src / "bad.jsonl").write_text('{"text": "A fine record of prose that is long enough to keep, with a full '
                                   'sentence in it and more words after that."}\n{not json\n', encoding="utf-8")
    out = tmp_path / "out"
    first = Pipeline(inline()).run([str(src)], out)
    second = Pipeline(inline()).run([str(src)], out)
    assert first.exit_code == second.exit_code == 3
    assert second.unchanged_inputs == 5 and second.rejects["bad-json"] == 1


def test_a_timed_out_page_is_retried_next_run(tmp_path, monkeypatch):
    """#20: an input whose page timed out must not be remembered as processed."""
    from cleanpipe.engines.pipeline import Pipeline as P

    src = tmp_path / "src"
    shutil.copytree(ROOT / "raw", src)
    out = tmp_path / "out"
    pipe = P(inline())
    real = pipe._mapped

    def one_timeout(*args):
        from cleanpipe.model import Document, Reject
        for item in real(*args):
            if isinstance(item, Document) and item.source.path.endswith("news-harbour-tram.txt"):
                yield Reject(kind="document", reason="timeout", path=item.source.path, doc_id=item.id)
            else:
                yield item

    monkeypatch.setattr(pipe, "_mapped", one_timeout)
    assert pipe.run([str(src)], out).rejects["timeout"] == 1
    again = Pipeline(inline()).run([str(src)], out)
    assert again.unchanged_inputs == 3 and again.rejects["timeout"] == 0
    assert content(out) == content(full_run(src, tmp_path))


@pytest.mark.parametrize("damage", ["garbage", "truncated", "file-for-folder"])
def test_a_broken_store_is_refused_clearly_and_rebuilt_with_force(src, tmp_path, damage):
    """Regression (#18.8): a corrupt store was a traceback even with --force."""
    out = tmp_path / "out"
    Pipeline(inline()).run([str(src)], out)
    expected = content(out)
    state_dir = out / ".cleanpipe-state"
    db = state_dir / STATE_FILE
    if damage == "garbage":
        db.write_bytes(b"this is not a database" * 100)
    elif damage == "truncated":
        data = db.read_bytes()
        db.write_bytes(data[: len(data) // 2])
    else:
        shutil.rmtree(state_dir)
        state_dir.write_text("a file where the folder should be")
    with pytest.raises(StateError, match="--force"):
        Pipeline(inline()).run([str(src)], out)
    summary = Pipeline(inline()).run([str(src)], out, force=True)
    assert summary.unchanged_inputs == 0 and content(out) == expected
    # what stood there was moved aside, not deleted
    assert list(out.glob(".cleanpipe-state*broken-1")) or list(state_dir.glob("*.broken-1"))
    assert Pipeline(inline()).run([str(src)], out).unchanged_inputs == 4


def test_a_killed_run_leaves_nothing_staged_that_a_later_run_trusts(tmp_path):
    store = StateStore(tmp_path)
    store.reset("cfg")
    from cleanpipe.model import Reject
    store.stage("r1", "a.txt", 0, Reject(kind="input", reason="x", path="a.txt"))
    store.finish_input("r1", "a.txt", "sha")
    store.flush()  # on disk, as a long run's marks are, and still never committed
    store.close()
    store = StateStore(tmp_path)  # r1 never committed: as after a kill
    store.clear_staged()
    store.commit_run("r2")
    assert store.inputs() == {} and list(store.items("a.txt")) == []


def _crawl_jsonl(path: Path, n: int) -> Path:
    """`n` distinct pages as a crawler writes them, one JSON object per line."""
    words = "harbour tram council budget river bridge market school library station".split()
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(n):
            body = " ".join(words[(i + k) % len(words)] for k in range(12))
            text = (f"Page {i}: the {words[i % 10]} story\n\nThis is article number {i} about the {body}. "
                    f"It has a sentence of its own, number {i * 7}, so that no two pages are the same.\n")
            fh.write(json.dumps({"url": f"https://example.org/{i}", "text": text}) + "\n")
    return path


def _batches(monkeypatch, size: int) -> None:
    """Staged items reach the store in batches of `size` (never on a timer, so counts are exact)."""
    import cleanpipe.state
    monkeypatch.setattr(cleanpipe.state, "STAGE_BATCH", size)
    monkeypatch.setattr(cleanpipe.state, "STAGE_SECONDS", 1e9)


class _Killed(BaseException):
    """Stands for SIGKILL / Ctrl-C in the middle of a run (not an Exception: nothing may catch it)."""


def _kill_after(monkeypatch, calls: int) -> list[int]:
    """The per-document stages raise _Killed on call `calls`; returns the live call counter."""
    from cleanpipe.engines.pipeline import DocumentStages
    real, count = DocumentStages.process, [0]

    def process(self, doc):
        count[0] += 1
        if count[0] == calls:
            raise _Killed
        return real(self, doc)

    monkeypatch.setattr(DocumentStages, "process", process)
    return count


def test_a_run_killed_inside_a_large_input_redoes_only_what_was_not_staged(tmp_path, monkeypatch):
    """#20: a run killed inside a crawl file redid the whole file; now the records it had finished
    (staged in the store) are passed on, and the output equals a full run's."""
    _batches(monkeypatch, 16)
    src = tmp_path / "src"
    src.mkdir()
    _crawl_jsonl(src / "crawl.jsonl", 120)
    (src / "note.txt").write_text((ROOT / "raw" / "news-harbour-tram.txt").read_text(encoding="utf-8"))
    out = tmp_path / "out"
    count = _kill_after(monkeypatch, 70)
    with pytest.raises(_Killed):
        Pipeline(inline()).run([str(src)], out)
    assert not list(out.glob("documents*"))  # nothing half-written
    monkeypatch.undo()
    _batches(monkeypatch, 16)
    count = _kill_after(monkeypatch, 10**9)
    again = Pipeline(inline()).run([str(src)], out)
    assert again.resumed_records == 64  # four full batches of 16 were staged before the kill
    assert count[0] == 121 - 64  # the rest of the crawl and the text file, nothing twice
    assert again.exit_code == 0 and content(out) == content(full_run(src, tmp_path))
    third = Pipeline(inline()).run([str(src)], out)  # the crawl's 120 items read back 16 at a time
    assert third.unchanged_inputs == 2 and third.resumed_records == 0
    assert content(out) == content(tmp_path / "full")


def test_progress_survives_a_second_kill_while_it_is_being_passed_on(tmp_path, monkeypatch):
    from cleanpipe.state import StateStore as Store
    _batches(monkeypatch, 8)
    src = _crawl_jsonl(tmp_path / "crawl.jsonl", 60)
    out = tmp_path / "out"
    _kill_after(monkeypatch, 45)
    with pytest.raises(_Killed):
        Pipeline(inline()).run([str(src)], out)
    monkeypatch.undo()
    _batches(monkeypatch, 8)
    real_stage, staged = Store.stage, [0]

    def stage(self, *args):  # killed again after 10 of the 40 earlier items were staged anew
        staged[0] += 1
        if staged[0] == 11:
            raise _Killed
        return real_stage(self, *args)

    monkeypatch.setattr(Store, "stage", stage)
    with pytest.raises(_Killed):
        Pipeline(inline()).run([str(src)], out)
    monkeypatch.setattr(Store, "stage", real_stage)
    last = Pipeline(inline()).run([str(src)], out)
    assert last.resumed_records == 40  # not 8: the second run's few staged items did not replace them
    assert content(out) == content(full_run(src, tmp_path))


def test_only_the_timed_out_record_of_a_crawl_file_is_processed_again(tmp_path, monkeypatch):
    """#20: an input with a page that timed out is not done; the next run processes that page only."""
    from cleanpipe.model import Document, Reject
    src = _crawl_jsonl(tmp_path / "crawl.jsonl", 30)
    out = tmp_path / "out"
    pipe = Pipeline(inline())
    real = pipe._mapped

    def one_timeout(*args):
        for item in real(*args):
            if isinstance(item, Document) and item.source.record == 7:
                yield Reject(kind="document", reason="timeout", path=item.source.path, record=7, doc_id=item.id)
            else:
                yield item

    monkeypatch.setattr(pipe, "_mapped", one_timeout)
    assert pipe.run([str(src)], out).rejects["timeout"] == 1
    count = _kill_after(monkeypatch, 10**9)
    again = Pipeline(inline()).run([str(src)], out)
    assert again.rejects["timeout"] == 0 and again.resumed_records == 29 and count[0] == 1
    assert content(out) == content(full_run(src, tmp_path))
    assert Pipeline(inline()).run([str(src)], out).unchanged_inputs == 1


def test_a_killed_run_inside_a_warc_resumes_with_the_same_counts(tmp_path, monkeypatch):
    """Pages of a WARC the killed run finished are passed on; its other records are still counted."""
    import io

    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    _batches(monkeypatch, 8)
    path = tmp_path / "crawl.warc.gz"
    with open(path, "wb") as fh:
        w = WARCWriter(fh, gzip=True)
        for i in range(40):
            html = (f"<html><head><title>Story {i}</title></head><body><article><h1>Story {i}</h1>"
                    f"<p>The council met on day {i} to talk about the harbour tram, line {i * 3}.</p>"
                    f"<p>Residents asked about the budget of project {i}; the answer was long.</p>"
                    "</article></body></html>")
            http = StatusAndHeaders("200 OK", [("Content-Type", "text/html; charset=utf-8")], protocol="HTTP/1.1")
            w.write_record(w.create_warc_record(f"https://e.org/{i}", "response", payload=io.BytesIO(html.encode()),
                                                http_headers=http))
            if i % 4 == 0:
                w.write_record(w.create_warc_record(f"https://e.org/{i}", "request", payload=io.BytesIO(b"GET /")))
    out = tmp_path / "out"
    _kill_after(monkeypatch, 30)
    with pytest.raises(_Killed):
        Pipeline(inline()).run([str(path)], out)
    monkeypatch.undo()
    count = _kill_after(monkeypatch, 10**9)
    again = Pipeline(inline()).run([str(path)], out)
    assert again.resumed_records == 24 and count[0] == 40 - 24
    full = Pipeline(inline()).run([str(path)], tmp_path / "full", use_state=False)
    assert again.skipped_records == full.skipped_records == {"record:request": 10}
    assert content(out) == content(tmp_path / "full") and again.documents == 40


def test_staged_items_reach_the_store_on_a_timer_too(tmp_path, monkeypatch):
    """On slow pages a batch of 256 takes minutes: a kill before it fills must not lose them all."""
    import cleanpipe.state
    monkeypatch.setattr(cleanpipe.state, "STAGE_SECONDS", 0.0)
    src = _crawl_jsonl(tmp_path / "crawl.jsonl", 20)
    out = tmp_path / "out"
    _kill_after(monkeypatch, 12)
    with pytest.raises(_Killed):
        Pipeline(inline()).run([str(src)], out)
    monkeypatch.setattr(cleanpipe.state, "STAGE_SECONDS", 1e9)
    assert Pipeline(inline()).run([str(src)], tmp_path / "out").resumed_records == 11
