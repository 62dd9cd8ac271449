"""Writing outputs: atomic, never through symlinks planted in OUT, and failures end in one clear line."""

from __future__ import annotations

import json
import os
import resource
import shutil
import subprocess
import sys

import pytest

from cleanpipe import Config, Pipeline
from cleanpipe.io.write import OutputError
from tests.conftest import ROOT


def inline() -> Config:
    return Config(workers=1, doc_timeout=0)


def test_a_planted_lock_symlink_is_refused_and_its_target_untouched(tmp_path):
    """Regression (#18.11): `.cleanpipe.lock` pointing at a file truncated that file."""
    out = tmp_path / "out"
    out.mkdir()
    victim = tmp_path / "precious.txt"
    victim.write_text("keep me")
    (out / ".cleanpipe.lock").symlink_to(victim)
    with pytest.raises(OutputError, match="symlink"):
        Pipeline(inline()).run([str(ROOT / "raw")], out, use_state=False)
    assert victim.read_text() == "keep me"


def test_planted_temporary_file_symlinks_never_write_outside_out(tmp_path):
    """Regression (#18.11): a dangling `.manifest.json.tmp` symlink created a file outside OUT."""
    out = tmp_path / "out"
    out.mkdir()
    outside = tmp_path / "outside"
    for name in (".manifest.json.tmp", ".documents.jsonl.x.tmp"):
        (out / name).symlink_to(outside / name)
    (out / ".cleanpipe-work-old").symlink_to(tmp_path)
    summary = Pipeline(inline()).run([str(ROOT / "raw")], out, use_state=False)
    assert summary.documents > 0
    assert not outside.exists()
    assert (tmp_path / "out").is_dir() and json.loads((out / "manifest.json").read_text())["run_id"]


def _limit_file_size() -> None:
    # as a full disk would: writes past 64 KB fail (Python ignores SIGXFSZ, so they raise EFBIG)
    resource.setrlimit(resource.RLIMIT_FSIZE, (64_000, 64_000))


def test_a_write_failure_is_one_clear_line_and_a_documented_code(tmp_path):
    """Regression (#18.12): disk full ended in a traceback with rc 1."""
    src = tmp_path / "src"
    shutil.copytree(ROOT / "raw", src)
    for i in range(40):  # enough output to pass the limit
        shutil.copy(src / "news-harbour-tram.txt", src / f"copy{i:02d}.txt")
        with open(src / f"copy{i:02d}.txt", "a") as fh:
            fh.write(f"\nA closing sentence that makes page number {i} different from the others.\n")
    out = tmp_path / "out"
    ok = subprocess.run([sys.executable, "-m", "cleanpipe", "run", str(ROOT / "raw"), "--out", str(out),
                         "--no-state", "-j", "1"], cwd=ROOT, capture_output=True, text=True)
    assert ok.returncode == 0
    before = (out / "documents.jsonl").read_bytes()
    proc = subprocess.run([sys.executable, "-m", "cleanpipe", "run", str(src), "--out", str(out), "--no-state",
                           "-j", "1"], cwd=ROOT, capture_output=True, text=True, preexec_fn=_limit_file_size)
    assert proc.returncode == 6, proc.stderr
    assert "Traceback" not in proc.stderr
    assert proc.stderr.strip().splitlines()[-1].startswith("cleanpipe: cannot write the output")
    assert (out / "documents.jsonl").read_bytes() == before  # the previous output is whole
    json_proc = subprocess.run([sys.executable, "-m", "cleanpipe", "run", str(src), "--out", str(out),
                                "--no-state", "-j", "1", "--log-format", "json"], cwd=ROOT, capture_output=True,
                               text=True, preexec_fn=_limit_file_size)
    event = json.loads(json_proc.stderr.strip().splitlines()[-1])
    assert json_proc.returncode == 6 and event["event"] == "error" and event["exit_code"] == 6


@pytest.mark.skipif(os.geteuid() != 0, reason="mounting a read-only folder needs root")
def test_a_read_only_output_folder_is_one_clear_line(tmp_path):
    out = tmp_path / "ro"
    out.mkdir()
    if subprocess.run(["mount", "-t", "tmpfs", "-o", "ro,size=1m", "tmpfs", str(out)],
                      capture_output=True).returncode != 0:
        pytest.skip("this machine does not allow mounting")
    try:
        proc = subprocess.run([sys.executable, "-m", "cleanpipe", "run", str(ROOT / "raw"), "--out", str(out)],
                              cwd=ROOT, capture_output=True, text=True)
    finally:
        subprocess.run(["umount", str(out)], check=True)
    assert proc.returncode == 6, proc.stderr
    assert "Traceback" not in proc.stderr and "Read-only file system" in proc.stderr


def test_a_broken_state_store_exits_2_with_what_to_do(tmp_path):
    out = tmp_path / "out"
    cmd = [sys.executable, "-m", "cleanpipe", "run", str(ROOT / "raw"), "--out", str(out), "-j", "1"]
    assert subprocess.run(cmd, cwd=ROOT, capture_output=True).returncode == 0
    (out / ".cleanpipe-state" / "state.sqlite").write_bytes(b"garbage" * 1000)
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    assert proc.returncode == 2 and "--force" in proc.stderr and "Traceback" not in proc.stderr
    assert subprocess.run(cmd + ["--force"], cwd=ROOT, capture_output=True).returncode == 0


def test_manifest_with_a_non_utf8_file_name_is_written_and_reads_back(tmp_path):
    import json

    from cleanpipe.io.write import write_json_atomic

    name = b"in/caf\xe9.txt".decode("utf-8", "surrogateescape")  # as os.fsdecode gives such a name
    write_json_atomic(tmp_path / "manifest.json", {"inputs": [name, "in/café.txt"]})
    assert json.loads((tmp_path / "manifest.json").read_text(encoding="utf-8")) == {"inputs": [name, "in/café.txt"]}
