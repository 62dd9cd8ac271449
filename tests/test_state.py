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
    store.close()
    store = StateStore(tmp_path)  # r1 never committed: as after a kill
    store.clear_staged()
    store.commit_run("r2")
    assert store.inputs() == {} and list(store.items("a.txt")) == []
