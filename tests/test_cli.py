from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys

import pytest
from click.testing import CliRunner

from cleanpipe.cli import main

from .conftest import NEWS_DUMP, RAW, ROOT


def test_help_texts_have_examples():
    runner = CliRunner()
    top = runner.invoke(main, ["--help"])
    assert top.exit_code == 0 and "cleanpipe run" in top.output
    for cmd in (["run"], ["strip"], ["dedup"], ["names"], ["names", "suggest"]):
        res = runner.invoke(main, [*cmd, "--help"])
        assert res.exit_code == 0 and "Examples:" in res.output, cmd


def test_run_default_paths(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # the defaults raw/ and clean/ are relative to the working directory
    shutil.copytree(RAW, "raw")
    res = CliRunner().invoke(main, ["run"])
    assert res.exit_code == 0, res.output
    assert os.path.exists("clean/documents.jsonl")
    assert "5 documents" in res.stderr


def test_run_json_log_and_rejects_exit_code(tmp_path):
    (tmp_path / "bad.txt").write_bytes(b"\x00\x01" * 999)
    (tmp_path / "good.txt").write_text(NEWS_DUMP)
    res = CliRunner().invoke(main, ["run", str(tmp_path), "--out", str(tmp_path / "o"), "--log-format", "json"])
    assert res.exit_code == 3
    summary = json.loads(res.stderr.strip().splitlines()[-1])
    assert summary["event"] == "summary" and summary["documents"] == 1 and summary["rejects"] == {"binary": 1}


def test_usage_errors_exit_2(tmp_path):
    runner = CliRunner()
    assert runner.invoke(main, ["run", str(tmp_path / "missing")]).exit_code == 2
    assert runner.invoke(main, ["run", str(RAW), "--dedup-threshold", "2"]).exit_code == 2
    cfg = tmp_path / "c.toml"
    cfg.write_text("[dedup]\nthreshold = -1\n")
    res = runner.invoke(main, ["run", str(RAW), "--config", str(cfg), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "threshold" in res.output
    assert not (tmp_path / "o").exists()
    # a line model that cannot be loaded stops the run before any page, not page by page
    cfg.write_text(f'[strip]\nline_model_path = "{tmp_path / "nope.json"}"\n')
    res = runner.invoke(main, ["run", str(RAW), "--config", str(cfg), "--out", str(tmp_path / "o")])
    assert res.exit_code == 2 and "cannot load line model" in res.output
    assert not (tmp_path / "o").exists()


def test_strip_stdin_and_dirs(tmp_path):
    runner = CliRunner()
    res = runner.invoke(main, ["strip", "-"], input=NEWS_DUMP)
    assert res.exit_code == 0 and "Volunteers in the village" in res.output and "Subscribe" not in res.output
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "p1.txt").write_text(NEWS_DUMP)
    res = runner.invoke(main, ["strip", "--in", str(tmp_path / "in"), "--out", str(tmp_path / "out")])
    assert res.exit_code == 0
    assert "Volunteers" in (tmp_path / "out" / "p1.txt").read_text()


def test_real_subprocess_end_to_end(tmp_path):
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "cleanpipe", "run", str(RAW), "--out", str(out)],
                          capture_output=True, text=True, cwd=ROOT, stdin=subprocess.DEVNULL, timeout=300)
    assert proc.returncode == 0, proc.stderr
    assert "cleanpipe: 5 documents" in proc.stderr
    lines = (out / "documents.jsonl").read_text(encoding="utf-8").splitlines()
    assert len(lines) == 5 and all(json.loads(line)["provenance"]["stages"] for line in lines)
    piped = subprocess.run([sys.executable, "-m", "cleanpipe", "strip", "-"], input=NEWS_DUMP,
                           capture_output=True, text=True, timeout=120)
    assert piped.returncode == 0 and piped.stdout.startswith("Volunteers in the village")


def test_dedup_command_on_any_jsonl(tmp_path):
    src = tmp_path / "c.jsonl"
    rows = [{"id": "a", "body": {"text": "Very nice article !"}},
            {"id": "b", "body": {"text": "very nice article!!"}},
            {"id": "c", "body": {"text": "Nice article Jordan!"}},
            {"id": "d", "other": 1},
            {"id": "e", "body": {"text": "VERY NICE ARTICLE"}}]
    src.write_text("\n".join(json.dumps(r) for r in rows) + "\n{broken\n")
    out = tmp_path / "u.jsonl"
    res = CliRunner().invoke(main, ["dedup", str(src), "--field", "body.text", "--out", str(out)])
    assert res.exit_code == 3, res.output  # the broken line is reported
    kept = [json.loads(x) for x in out.read_text().splitlines()]
    assert [r["id"] for r in kept] == ["a", "c", "d"]
    assert kept[0]["duplicates"] == 2 and kept[1]["duplicates"] == 0 and "duplicates" not in kept[2]
    rejects = [json.loads(x) for x in (tmp_path / "u.rejects.jsonl").read_text().splitlines()]
    assert [(r["reason"], r.get("id"), r.get("duplicate_of")) for r in rejects] == [
        ("duplicate", "b", "a"), ("duplicate", "e", "a"), ("bad-json", None, None)]
    assert rejects[0]["kept_text"] == "Very nice article !" and rejects[0]["similarity"] == 1.0


def test_dedup_command_to_stdout(tmp_path, monkeypatch):
    src = tmp_path / "c.jsonl"
    src.write_text('{"text": "same words here"}\n{"text": "Same words here!"}\n')
    monkeypatch.chdir(tmp_path)  # rejects.jsonl goes to the working directory
    res = CliRunner().invoke(main, ["dedup", str(src)])
    assert res.exit_code == 0
    assert [json.loads(x)["duplicates"] for x in res.stdout.splitlines()] == [1]
    with open("rejects.jsonl") as fh:
        assert json.loads(fh.read())["duplicate_of"] == f"{src}:1"


def test_names_suggest_then_apply_reviewed_file(tmp_path):
    runner = CliRunner()
    res = runner.invoke(main, ["names", "suggest", str(RAW)])
    assert res.exit_code == 0, res.output
    assert '"Ingrid Solberg" = ["Ingrid Solbreg"]' in res.output
    aliases = tmp_path / "aliases.toml"
    # the reviewer rejects the suggestion: the reviewed file maps nothing for that name
    aliases.write_text(res.output.replace('"Ingrid Solberg" = ["Ingrid Solbreg"]', ""))
    out = tmp_path / "o"
    res = runner.invoke(main, ["run", str(RAW), "--out", str(out), "--names", "aliases", "--aliases", str(aliases)])
    assert res.exit_code == 0, res.output
    text = " ".join(json.loads(x)["text"] for x in (out / "documents.jsonl").read_text().splitlines())
    assert "Ingrid Solbreg" in text


def test_run_on_an_html_page_keeps_each_comment_with_its_author_and_date(tmp_path):
    story = "".join(f"<p>The ferry service resumed on Monday after a long refit, paragraph {n} of the story, "
                    "and the council said the new engines would halve its running costs next year.</p>"
                    for n in range(4))
    thread = "".join(f"<li class='comment'><div class='meta'>{who} March {day}, 2026 at 9:1{day} am</div>"
                     f"<p>{said}</p><a>Reply</a></li>"
                     for who, day, said in [("Oskar", 3, "My grandfather helped refit the boat."),
                                            ("lina", 4, "Keep the open deck, please!")])
    (tmp_path / "page.html").write_text(
        f"<html><head><title>Ferry back</title></head><body><article><h1>Ferry back</h1>{story}</article>"
        f"<section id='comments'><h3>2 Comments</h3><ol>{thread}</ol></section></body></html>")
    res = CliRunner().invoke(main, ["run", str(tmp_path), "--out", str(tmp_path / "o")])
    assert res.exit_code == 0, res.output
    record = json.loads((tmp_path / "o" / "documents.jsonl").read_text(encoding="utf-8"))
    assert [(c["author"], c["date"], c["date_text"], c["text"]) for c in record["comments"]] == [
        ("Oskar", "2026-03-03", "March 3, 2026 at 9:13 am", "My grandfather helped refit the boat."),
        ("lina", "2026-03-04", "March 4, 2026 at 9:14 am", "Keep the open deck, please!")]
    assert "grandfather" not in record["text"]
    split = next(s for s in record["provenance"]["stages"] if s["stage"] == "comments.split")
    assert [r["reason"] for r in split["spans"]] == ["comment-widget", "comment-widget"]


def test_config_command_checks_and_shows_the_effective_config(tmp_path):
    path = tmp_path / "c.toml"
    path.write_text("workers = 3\n[dedup]\nthreshold = 0.8\n")
    shown = CliRunner().invoke(main, ["config", "--config", str(path), "--show"])
    assert shown.exit_code == 0
    data = json.loads(shown.output)
    assert data["workers"] == 3 and data["dedup"]["threshold"] == 0.8 and data["dedup"]["num_perm"] == 128
    path.write_text("[dedup]\nenabled = 'false'\n")
    bad = CliRunner().invoke(main, ["config", "--config", str(path)])
    assert bad.exit_code == 2 and "dedup.enabled" in bad.output


def test_json_log_is_one_object_per_line_with_start_rejects_inputs_and_summary(tmp_path):
    src = tmp_path / "src"
    shutil.copytree(RAW, src)
    (src / "bad.txt").write_bytes(b"\x00\x01" * 999)
    cmd = [sys.executable, "-W", "always", "-m", "cleanpipe", "run", str(src), "--out", str(tmp_path / "o"),
           "--log-format", "json", "--verbose", "-j", "1"]
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    assert proc.returncode == 3
    events = [json.loads(line) for line in proc.stderr.splitlines()]  # every line is a JSON object
    assert all({"ts", "level", "event", "message"} <= set(e) for e in events)
    names = [e["event"] for e in events]
    assert names[0] == "start" and names[-1] == "summary"
    (bad,) = [e for e in events if e["event"] == "reject" and e["level"] == "warning"]
    assert bad["reason"] == "binary" and bad["path"].endswith("bad.txt")
    assert len([e for e in events if e["event"] == "input"]) == 5  # --verbose: a line per input
    summary = events[-1]
    assert summary["inputs"] == 5 and summary["processed_inputs"] == 5 and summary["unchanged_inputs"] == 0
    again = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True, timeout=300)
    summary = json.loads(again.stderr.splitlines()[-1])
    # the same counts mean the same in an incremental run: seen, processed, carried over
    assert summary["inputs"] == 5 and summary["processed_inputs"] == 1 and summary["unchanged_inputs"] == 4


def test_a_held_lock_is_a_json_error_line(tmp_path):
    from cleanpipe.io.write import OutputLock

    out = tmp_path / "o"
    out.mkdir()
    with OutputLock(out):
        res = CliRunner().invoke(main, ["run", str(RAW), "--out", str(out), "--log-format", "json"])
    assert res.exit_code == 5
    line = json.loads(res.stderr.strip().splitlines()[-1])
    assert line["event"] == "error" and line["error"] == "locked" and line["exit_code"] == 5


def test_crawler_jsonl_with_flattened_text_on_stdin(tmp_path):
    from tests.stages.test_flattened import FOOTER, MENU, STORY

    records = [{"id": f"p{i}", "url": f"https://news.example/{i}",
                "text": " ".join([MENU, *STORY[i:], *STORY[:i], FOOTER])} for i in range(3)]
    stdin = "".join(json.dumps(r) + "\n" for r in records)
    res = CliRunner().invoke(main, ["run", "-", "--out", str(tmp_path / "o"), "--no-state"], input=stdin)
    assert res.exit_code == 0, res.output
    docs = [json.loads(line) for line in (tmp_path / "o" / "documents.jsonl").read_text().splitlines()]
    assert len(docs) == 3
    for doc in docs:
        assert "Newsletters Subscribe" not in doc["text"] and "Cookie Settings" not in doc["text"]
        assert STORY[5] in doc["text"] and doc["paragraphs"][0]["source_lines"] == [1, 1]


@pytest.mark.parametrize("stdin", ["", " \n\n"])
def test_an_empty_stdin_leaves_the_previous_output_whole(tmp_path, stdin):
    # `crawler | cleanpipe run - --out OUT` nightly, the crawler failed: the run must fail, not empty OUT
    out = tmp_path / "out"
    first = CliRunner().invoke(main, ["run", "-", "--out", str(out)], input=(RAW / "blog-tidepool-robots.txt").read_text())
    assert first.exit_code == 0, first.output
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    res = CliRunner().invoke(main, ["run", "-", "--out", str(out), "--log-format", "json"], input=stdin)
    assert res.exit_code == 4
    error = json.loads(res.stderr.strip().splitlines()[-1])
    assert error["error"] == "no-input" and "standard input was empty" in error["message"]
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before


def test_an_empty_stdin_beside_other_inputs_is_a_reject(tmp_path):
    out = tmp_path / "out"
    res = CliRunner().invoke(main, ["run", "-", str(RAW / "blog-tidepool-robots.txt"), "--out", str(out)], input="")
    assert res.exit_code == 3, res.output
    rejects = [json.loads(line) for line in (out / "rejects.jsonl").read_text().splitlines()]
    assert [r["reason"] for r in rejects if r["kind"] == "input"] == ["empty"]
    assert [r["path"] for r in rejects if r["kind"] == "input"] == ["-"]


@pytest.mark.parametrize("args", [["run", "--bogus"], ["run", "--workers", "many"], ["run", "--html-mode", "x"]])
def test_usage_errors_are_json_with_log_format_json(args):
    # a scheduler parsing the JSON log got click's plain "Usage: ... Error: ..." for these
    res = CliRunner().invoke(main, [*args, "--log-format", "json"])
    assert res.exit_code == 2
    (line,) = res.stderr.strip().splitlines()
    error = json.loads(line)
    assert error["event"] == "error" and error["error"] == "usage" and error["exit_code"] == 2
    plain = CliRunner().invoke(main, args)
    assert plain.exit_code == 2 and "Usage: " in plain.stderr and "Error:" in plain.stderr


def test_strip_reads_compressed_pages_and_refuses_containers(tmp_path):
    import gzip

    page = (RAW / "feature-harbour-ferries.html").read_bytes()
    (tmp_path / "page.html.gz").write_bytes(gzip.compress(page))
    plain = CliRunner().invoke(main, ["strip", str(RAW / "feature-harbour-ferries.html")])
    packed = CliRunner().invoke(main, ["strip", str(tmp_path / "page.html.gz")])
    assert plain.exit_code == packed.exit_code == 0 and packed.stdout == plain.stdout
    assert "For forty-one years the ferry Marta" in packed.stdout
    # JSONL printed as one page of raw records before
    jsonl = (RAW / "crawl-2026-11-20.jsonl").read_text()
    for args, stdin in ([str(RAW / "crawl-2026-11-20.jsonl")], None), (["-"], jsonl):
        res = CliRunner().invoke(main, ["strip", *args], input=stdin)
        assert res.exit_code == 4 and res.stdout == ""
        assert "JSONL holds many pages" in res.stderr and "cleanpipe run" in res.stderr


def test_an_empty_input_folder_leaves_the_previous_output_whole(tmp_path):
    # a nightly job whose crawl share was not mounted: the run must fail, not write an empty output
    inputs, out = tmp_path / "in", tmp_path / "out"
    shutil.copytree(RAW, inputs)
    first = CliRunner().invoke(main, ["run", str(inputs), "--out", str(out)])
    assert first.exit_code == 0, first.output
    before = {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()}
    for path in inputs.iterdir():
        path.unlink()
    res = CliRunner().invoke(main, ["run", str(inputs), "--out", str(out), "--log-format", "json"])
    assert res.exit_code == 4
    error = json.loads(res.stderr.strip().splitlines()[-1])
    assert error["event"] == "error" and error["error"] == "no-input" and str(inputs) in error["message"]
    assert {p.name: p.read_bytes() for p in out.iterdir() if p.is_file()} == before
