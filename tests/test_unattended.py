"""Unattended runs: a killed run leaves no partial output, a rerun gives every record exactly once,
and two runs never write the same folder at once."""

from __future__ import annotations

import json
import os
import random
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from cleanpipe import Config, Pipeline
from cleanpipe.io.write import OutputLock, OutputLocked

from .conftest import ROOT

WORDS = "harbour council ferry tram station night residents winter budget engineers bridge village".split()


def make_corpus(path: Path, pages: int) -> Path:
    rng = random.Random(11)
    path.mkdir()
    for i in range(pages):
        paras = ["Home", "News", ""]
        for _ in range(6):
            sentence = " ".join(rng.choice(WORDS) for _ in range(24))
            paras += [sentence.capitalize() + ".", ""]
        paras += ["3 Comments", f"Ann says:\nGreat piece number {i % 7}, thanks for it.\nReply",
                  "© 2026 Example. All rights reserved."]
        (path / f"p{i:04d}.txt").write_text("\n".join(paras))
    return path


def run_cli(src: Path, out: Path, **kw) -> subprocess.Popen:
    cmd = [sys.executable, "-m", "cleanpipe", "run", str(src), "--out", str(out), "--workers", "1", "-q"]
    return subprocess.Popen(cmd, cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, **kw)


def records(out: Path) -> list[tuple[str, str, str]]:
    lines = (out / "documents.jsonl").read_text(encoding="utf-8").splitlines()
    recs = [json.loads(line) for line in lines]  # a partial line would fail here
    return [(r["id"], r["text"], json.dumps(r["comments"], sort_keys=True)) for r in recs]


def test_sigkill_at_several_points_then_rerun(tmp_path):
    src = make_corpus(tmp_path / "src", 400)
    ref = tmp_path / "ref"
    assert run_cli(src, ref).wait(timeout=300) == 0
    expected = records(ref)
    assert len(expected) == 400 and len({r[0] for r in expected}) == 400
    full = time.monotonic()
    run_cli(src, tmp_path / "timing").wait(timeout=300)
    full = time.monotonic() - full

    for n, fraction in enumerate([0.15, 0.4, 0.65, 0.9]):
        out = tmp_path / f"out{n}"
        if n % 2:  # half of the cases start from a complete earlier output
            assert run_cli(src, out).wait(timeout=300) == 0
        proc = run_cli(src, out)
        time.sleep(full * fraction)
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        if (out / "documents.jsonl").exists():  # whatever is there is whole: old or new, never half
            assert sorted(records(out)) == sorted(expected)
        assert run_cli(src, out).wait(timeout=300) == 0
        assert records(out) == expected
        leftovers = [p.name for p in out.iterdir()
                     if p.name.startswith(".") and p.name not in (".cleanpipe.lock", ".cleanpipe-state")]
        assert leftovers == []


def test_ctrl_c_is_one_line_and_exit_130_then_a_rerun_finishes(tmp_path):
    """Ctrl-C printed a traceback from the parent and from every worker, and exited 1."""
    src = make_corpus(tmp_path / "src", 300)
    ref, out = tmp_path / "ref", tmp_path / "out"
    assert run_cli(src, ref).wait(timeout=300) == 0
    proc = subprocess.Popen(  # the signal's default action restored: a test runner in the background ignores it
        [sys.executable, "-m", "cleanpipe", "run", str(src), "--out", str(out), "--workers", "2",
         "--log-format", "json"], cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True,
        start_new_session=True, preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
    assert proc.stderr is not None
    first = json.loads(proc.stderr.readline())  # the run has begun: its workers are starting
    assert first["event"] == "start"
    os.killpg(proc.pid, signal.SIGINT)  # as a terminal's Ctrl-C does: the whole process group
    rest = proc.stderr.read()
    assert proc.wait(timeout=60) == 130
    assert "Traceback" not in rest
    (last,) = [json.loads(line) for line in rest.splitlines() if '"event": "error"' in line]
    assert last["error"] == "interrupted" and last["exit_code"] == 130
    assert not (out / "documents.jsonl").exists()
    assert run_cli(src, out).wait(timeout=300) == 0
    assert records(out) == records(ref)


def test_second_run_on_the_same_folder_exits_or_waits(tmp_path):
    src = make_corpus(tmp_path / "src", 5)
    out = tmp_path / "out"
    out.mkdir()
    with OutputLock(out):
        with pytest.raises(OutputLocked, match="another cleanpipe run"):
            Pipeline(Config(workers=1, doc_timeout=0)).run([str(src)], out)
        proc = run_cli(src, out)
        assert proc.wait(timeout=120) == 5
        assert b"--wait" in proc.stderr.read()
        waiting = subprocess.Popen([sys.executable, "-m", "cleanpipe", "run", str(src), "--out", str(out),
                                    "--wait", "-q"], cwd=ROOT)
        time.sleep(2)
        assert waiting.poll() is None  # still waiting for the lock
    assert waiting.wait(timeout=120) == 0
    assert len(records(out)) == 5


def test_no_read_outside_given_paths(tmp_path):
    secret = tmp_path / "secret.txt"
    secret.write_text("SECRET " * 50)
    src = tmp_path / "src"
    src.mkdir()
    (src / "link.txt").symlink_to(secret)
    (src / "ok.txt").write_text("A page with one proper sentence of text in it, long enough to be prose here.")
    Pipeline(Config(workers=1, doc_timeout=0)).run([str(src)], tmp_path / "out")
    assert "SECRET" not in (tmp_path / "out" / "documents.jsonl").read_text()
    assert os.listdir(tmp_path / "out")  # and everything it wrote is inside OUT
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out", "secret.txt", "src"]


ARTICLE = ("The council opened the new ferry pier on Monday after two years of building work along the harbour, "
           "and officials said it would carry about four thousand passengers a day by the summer.\n")


def page(comment: str, extra: str = "") -> str:
    return ARTICLE + extra + f"\n2 Comments\nAnn says:\n{comment}\nReply\n"


def inline() -> Config:
    return Config(workers=1, doc_timeout=0)


def docs_of(out: Path) -> list[dict]:
    return [json.loads(x) for x in (out / "documents.jsonl").read_text().splitlines()]


def test_incremental_run_skips_known_inputs_and_dedups_across_runs(tmp_path):
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    (src / "a.txt").write_text(page("I wonder how the new pier copes with the winter storms on this coast."))
    first = Pipeline(inline()).run([str(src)], out)
    assert first.documents == 1 and first.unchanged_inputs == 0
    (a_doc,) = docs_of(out)
    kept_id = a_doc["comments"][0]["id"]

    (src / "b.txt").write_text(page("I wonder how the new pier copes with the winter storms on this coast!!",
                                    extra="A second story about the same pier, with its own words.\n"))
    second = Pipeline(inline()).run([str(src)], out)
    assert second.unchanged_inputs == 1 and second.inputs == 2 and second.documents == 2
    docs = {Path(d["source"]["path"]).name: d for d in docs_of(out)}
    assert docs["b.txt"]["comments"] == []  # last night's comment, seen again tonight
    assert docs["a.txt"]["comments"][0]["duplicates"] == 1
    rejects = [json.loads(x) for x in (out / "rejects.jsonl").read_text().splitlines()]
    assert [r["comment"]["duplicate_of"] for r in rejects if r["reason"] == "duplicate"] == [kept_id]

    third = Pipeline(inline()).run([str(src)], out)  # nothing new: nothing processed, nothing lost
    assert third.unchanged_inputs == 2 and third.documents == 2
    assert sorted(d["text"] for d in docs_of(out)) == sorted(d["text"] for d in docs.values())
    assert len([x for x in (out / "rejects.jsonl").read_text().splitlines()]) == 1

    forced = Pipeline(inline()).run([str(src)], out, force=True)
    assert forced.unchanged_inputs == 0 and forced.comments_kept == 1 and forced.comments_dropped == 1
    assert docs_of(out)[0]["comments"][0]["id"] == kept_id  # not dropped as a duplicate of itself


def test_changed_input_replaces_its_records_and_config_change_redoes_all(tmp_path):
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    (src / "a.txt").write_text(page("First version of the comment, long enough to matter here."))
    (src / "b.txt").write_text(page("Another comment on another page about other things entirely."))
    Pipeline(inline()).run([str(src)], out)
    (src / "a.txt").write_text(page("Second version of the comment, rewritten by its author today."))
    summary = Pipeline(inline()).run([str(src)], out)
    assert summary.unchanged_inputs == 1
    texts = [c["text"] for d in docs_of(out) for c in d["comments"]]
    assert len(docs_of(out)) == 2 and any("Second version" in t for t in texts)
    assert not any("First version" in t for t in texts)

    cfg = inline()
    cfg.dedup.threshold = 0.9
    assert Pipeline(cfg).run([str(src)], out).unchanged_inputs == 0


def test_rerun_of_unchanged_folder_gives_identical_records(tmp_path):
    src = make_corpus(tmp_path / "src", 30)
    out = tmp_path / "out"
    Pipeline(inline()).run([str(src)], out)
    before = records(out)
    summary = Pipeline(inline()).run([str(src)], out)
    assert summary.unchanged_inputs == 30 and records(out) == before


def test_pathological_pages_are_processed_or_rejected_never_stuck(tmp_path):
    src = tmp_path / "src"
    src.mkdir()
    (src / "a-nested.html").write_text("<html><body>" + "<div>" * 100_000 + "deep" + "</div>" * 100_000
                                       + "</body></html>")
    (src / "b-backtrack.txt").write_text(("1 " * 50_000) + "x\n" + ("Aa " * 100_000) + "\n"
                                         + ("x says " * 20_000) + ":\n" + '"' + "a " * 100_000 + "\n")
    (src / "c-fine.txt").write_text(ARTICLE)
    summary = Pipeline(Config(workers=2, doc_timeout=60)).run([str(src)], tmp_path / "out")
    docs = {Path(d["source"]["path"]).name for d in docs_of(tmp_path / "out")}
    rejects = [json.loads(x) for x in (tmp_path / "out" / "rejects.jsonl").read_text().splitlines()]
    assert "c-fine.txt" in docs
    for name in ("a-nested.html", "b-backtrack.txt"):  # each is accounted for, one way or the other
        assert name in docs or any(r["path"].endswith(name) for r in rejects)
    assert summary.rejects["timeout"] == 0
