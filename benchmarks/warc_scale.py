"""Real crawl inputs at real size: the read stage and the whole run on a 10 MB and a ~1 GB WARC.gz.

    python benchmarks/warc_scale.py [--big-mb 1000] [--small-mb 10] [--runs small,big] [--run-limit S]
                                    [--resume small,big] [--kill-after S] [--html-mode M]
                                    [--workdir /tmp/cleanpipe-readbench] [--keep] [--reuse] [--only LABELS]

Builds, in --workdir (never in the repo), WARC files as a crawler writes them from the dev set's
real news pages (/tmp/extbench/data/scrapinghub/html/*.html.gz, or --pages DIR): per page a
`request`, a `response` and a `metadata` record, plus per round an image, a PDF and a 404, and at
the end one record cut short. The pages are repeated with varied URLs up to the target size. Also a
WET file (`conversion` records) and Dolma-like JSON lines ({"id", "text", "metadata": {"url"}}) that
are fed on standard input.

Reports, per input: the reader alone (records/s, peak RSS of the process) beside the loops a user
would write with warcio's ArchiveIterator and with FastWARC (resiliparse), and the whole
`cleanpipe run --no-state` (pages/s, peak RSS of the main process and of the largest worker, the
summary counts; with --run-limit a run still going after S seconds is stopped and its pages mapped
so far are counted). The big WARC is deleted afterwards unless --keep.

--resume: the run with its state store, killed (SIGKILL to the run and its workers) after
--kill-after seconds, then run again to the end: how many records the second run took from the
killed one (`resumed_records`), its time, and whether its documents equal a full run's.
"""

from __future__ import annotations

import argparse
import gzip
import io
import json
import os
import re
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DEV_PAGES = Path("/tmp/extbench/data/scrapinghub/html")
_TAG = re.compile(r"<script.*?</script>|<style.*?</style>|<[^>]+>", re.S | re.I)

READER_ALONE = """
import resource, sys, time, io
sys.path.insert(0, {root!r})
from cleanpipe.config import ReadConfig
from cleanpipe.model import Document
from cleanpipe.io.read import Reader
stdin = open({path!r}, "rb") if {stdin!r} else None
reader = Reader(ReadConfig(), stdin=stdin)
t = time.perf_counter()
docs = other = 0
for item in reader.run(["-" if {stdin!r} else {path!r}]):
    if isinstance(item, Document):
        docs += 1
    else:
        other += 1
wall = time.perf_counter() - t
print(docs, other, sum(reader.skipped.values()), wall, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""

WARCIO_LOOP = """
import resource, sys, time
from warcio.archiveiterator import ArchiveIterator
t = time.perf_counter()
docs = other = 0
with open({path!r}, "rb") as fh:
    for rec in ArchiveIterator(fh):
        if rec.rec_type in ("response", "conversion", "resource"):
            ctype = (rec.http_headers.get_header("Content-Type") if rec.http_headers else
                     rec.rec_headers.get_header("Content-Type")) or ""
            if "html" in ctype or "text/plain" in ctype:
                body = rec.content_stream().read()
                body.decode("utf-8", "replace")
                docs += 1
                continue
        other += 1
wall = time.perf_counter() - t
print(docs, 0, other, wall, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""

FASTWARC_LOOP = """
import resource, sys, time
from fastwarc.warc import ArchiveIterator, WarcRecordType
t = time.perf_counter()
docs = other = 0
types = WarcRecordType.response | WarcRecordType.conversion | WarcRecordType.resource
with open({path!r}, "rb") as fh:
    for rec in ArchiveIterator(fh, parse_http=True):
        if rec.record_type & types:
            ctype = (rec.http_headers.get("Content-Type") if rec.http_headers else
                     rec.headers.get("Content-Type")) or ""
            if "html" in ctype or "text/plain" in ctype:
                body = rec.reader.read()
                body.decode("utf-8", "replace")
                docs += 1
                continue
        other += 1
wall = time.perf_counter() - t
print(docs, 0, other, wall, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


class TreePeak:
    """Peak resident memory (VmHWM) of a process and each of its descendants, read from /proc twice a
    second; only that tree, so other programs on the machine never count."""

    def __init__(self, root: int):
        self.root = root
        self.peaks: dict[int, int] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)
        self._thread.start()

    def _tree(self) -> set[int]:
        parents = {}
        for proc in Path("/proc").iterdir():
            if proc.name.isdigit():
                try:
                    parents[int(proc.name)] = int((proc / "stat").read_text().rsplit(")", 1)[1].split()[1])
                except (OSError, IndexError, ValueError):
                    continue
        tree, grew = {self.root}, True
        while grew:
            new = {pid for pid, ppid in parents.items() if ppid in tree} - tree
            tree |= new
            grew = bool(new)
        return tree

    def _loop(self) -> None:
        while not self._stop.is_set():
            for pid in self._tree():
                try:
                    status = Path(f"/proc/{pid}/status").read_text()
                except OSError:
                    continue
                hwm = next((int(x.split()[1]) for x in status.splitlines() if x.startswith("VmHWM:")), 0)
                self.peaks[pid] = max(hwm, self.peaks.get(pid, 0))
            self._stop.wait(0.5)

    def stop(self) -> dict[str, float]:
        self._stop.set()
        self._thread.join()
        others = [kb for pid, kb in self.peaks.items() if pid != self.root]
        return {"main": round(self.peaks.get(self.root, 0) / 1024),
                "largest_worker": round(max(others, default=0) / 1024), "processes": len(self.peaks)}


def load_pages(folder: Path) -> list[bytes]:
    pages = [gzip.decompress(p.read_bytes()) if p.suffix == ".gz" else p.read_bytes()
             for p in sorted(folder.iterdir()) if ".htm" in p.name]
    if not pages:
        raise SystemExit(f"no pages in {folder}")
    return pages


def page_text(html: bytes) -> str:
    text = _TAG.sub(" ", html.decode("utf-8", "replace"))
    return "\n".join(" ".join(line.split()) for line in text.splitlines() if line.strip())


def write_warc(path: Path, pages: list[bytes], target_bytes: int) -> dict[str, int]:
    """A crawler's WARC.gz of about `target_bytes`; returns what it holds by record kind."""
    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    counts = {"responses_html": 0, "requests": 0, "metadata": 0, "non_html": 0, "non_200": 0, "truncated": 0}

    def http(status: str, ctype: str) -> StatusAndHeaders:
        return StatusAndHeaders(status, [("Content-Type", ctype)], protocol="HTTP/1.1")

    with open(path, "wb") as fh:
        w = WARCWriter(fh, gzip=True)
        w.write_record(w.create_warcinfo_record(path.name, {"software": "cleanpipe benchmarks/warc_scale.py"}))
        rnd = 0
        while fh.tell() < target_bytes:
            host = f"https://site{rnd % 40}.example"
            for i, body in enumerate(pages):
                url = f"{host}/r{rnd}/p{i}"
                req = StatusAndHeaders(f"GET /r{rnd}/p{i} HTTP/1.1", [("Host", host[8:])], is_http_request=True)
                w.write_record(w.create_warc_record(url, "request", http_headers=req))
                w.write_record(w.create_warc_record(url, "response", payload=io.BytesIO(body),
                                                    http_headers=http("200 OK", "text/html; charset=utf-8")))
                w.write_record(w.create_warc_record(url, "metadata", payload=io.BytesIO(b"fetchTimeMs: 120\r\n"),
                                                    warc_content_type="application/warc-fields"))
                counts["responses_html"] += 1
                counts["requests"] += 1
                counts["metadata"] += 1
                if fh.tell() >= target_bytes:
                    break
            w.write_record(w.create_warc_record(f"{host}/r{rnd}/logo.png", "response",
                                                payload=io.BytesIO(b"\x89PNG\r\n\x1a\n" + os.urandom(3000)),
                                                http_headers=http("200 OK", "image/png")))
            w.write_record(w.create_warc_record(f"{host}/r{rnd}/paper.pdf", "response",
                                                payload=io.BytesIO(b"%PDF-1.4\n" + os.urandom(5000)),
                                                http_headers=http("200 OK", "application/pdf")))
            w.write_record(w.create_warc_record(f"{host}/r{rnd}/gone", "response",
                                                payload=io.BytesIO(b"<html><body>Not found</body></html>"),
                                                http_headers=http("404 Not Found", "text/html")))
            counts["non_html"] += 2
            counts["non_200"] += 1
            rnd += 1
        # one record cut short, as a crawl killed mid-write leaves it
        buf = io.BytesIO()
        w2 = WARCWriter(buf, gzip=True)
        w2.write_record(w2.create_warc_record(f"https://site0.example/cut{rnd}", "response",
                                              payload=io.BytesIO(pages[0]), http_headers=http("200 OK", "text/html")))
        fh.write(buf.getvalue()[: len(buf.getvalue()) // 2])
        counts["truncated"] += 1
    return counts


def write_wet(path: Path, pages: list[bytes], target_bytes: int) -> int:
    from warcio.warcwriter import WARCWriter

    texts, n = [page_text(p).encode() for p in pages], 0
    with open(path, "wb") as fh:
        w = WARCWriter(fh, gzip=True)
        w.write_record(w.create_warcinfo_record(path.name, {"software": "cleanpipe benchmarks/warc_scale.py"}))
        while fh.tell() < target_bytes:
            for i, text in enumerate(texts):
                w.write_record(w.create_warc_record(f"https://site{n % 40}.example/w{n}/p{i}", "conversion",
                                                    payload=io.BytesIO(text), warc_content_type="text/plain"))
                n += 1
    return n


def write_jsonl(path: Path, pages: list[bytes], target_bytes: int) -> int:
    texts, n = [page_text(p) for p in pages], 0
    with open(path, "w", encoding="utf-8") as fh:
        while fh.tell() < target_bytes:
            for text in texts:
                fh.write(json.dumps({"id": f"doc-{n}", "text": text,
                                     "metadata": {"url": f"https://site{n % 40}.example/j/{n}"}}) + "\n")
                n += 1
    return n


def measure_loop(script: str, path: Path, stdin: bool = False) -> dict:
    code = script.format(root=str(ROOT), path=str(path), stdin=stdin)
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    if proc.returncode:
        return {"error": proc.stderr.strip().splitlines()[-1] if proc.stderr.strip() else f"rc {proc.returncode}"}
    docs, other, skipped, wall, rss_kb = proc.stdout.split()
    return {"pages": int(docs), "rejects": int(other), "skipped": int(skipped), "seconds": round(float(wall), 2),
            "pages_per_s": round(int(docs) / float(wall)),
            "mb_per_s": round(path.stat().st_size / 1e6 / float(wall), 1),
            "peak_rss_mb": round(int(rss_kb) / 1024)}


def measure_run(path: Path, out: Path, workers: int, stdin: bool = False, limit: float = 0,
                html_mode: str | None = None) -> dict:
    """The whole `cleanpipe run`; with `limit`, stopped after that many seconds (its pages mapped so far
    are counted in its spool) so that a 1 GB input can be measured without waiting hours."""
    shutil.rmtree(out, ignore_errors=True)
    cmd = _run_cmd(Path("-") if stdin else path, out, workers, html_mode, state=False)
    t = time.perf_counter()
    stopped = False
    with open(path, "rb") if stdin else open(os.devnull, "rb") as src:
        child = subprocess.Popen(cmd, stdin=src, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, cwd=ROOT,
                                 start_new_session=True)
        mem = TreePeak(child.pid)
        try:
            _, stderr = child.communicate(timeout=limit or None)
        except subprocess.TimeoutExpired:
            spools = list(out.glob(".cleanpipe-work-*/pass1.jsonl"))
            mapped = sum(spool.read_bytes().count(b"\n") for spool in spools)
            os.killpg(child.pid, 15)  # this run's own process group: the run and its workers
            _, stderr = child.communicate()
            stopped = True
    wall = time.perf_counter() - t
    peaks = mem.stop()
    if stopped:
        return {"stopped_after_s": round(wall), "pages_mapped": mapped, "pages_per_s": round(mapped / wall, 1),
                "peak_rss_mb": peaks}
    if child.returncode not in (0, 3):
        return {"error": f"rc {child.returncode}: {stderr[-500:]}"}
    summary = json.loads((out / "manifest.json").read_text())["summary"]
    return {"rc": child.returncode, "seconds": round(wall, 1), "documents": summary["documents"],
            "pages_per_s": round(summary["documents"] / wall, 1), "rejects": summary["rejects"],
            "peak_rss_mb": peaks}


def _run_cmd(path: Path, out: Path, workers: int, html_mode: str | None, state: bool) -> list[str]:
    cmd = [sys.executable, "-m", "cleanpipe", "run", str(path), "--out", str(out), "--quiet", "--workers", str(workers)]
    cmd += [] if state else ["--no-state"]
    return cmd + (["--html-mode", html_mode] if html_mode else [])


def measure_resume(path: Path, out: Path, workers: int, kill_after: float, html_mode: str | None,
                   full: dict | None) -> dict:
    """Kill a run with its state store after `kill_after` seconds, run it again, compare."""
    shutil.rmtree(out, ignore_errors=True)
    cmd = _run_cmd(path, out, workers, html_mode, state=True)
    child = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, cwd=ROOT, start_new_session=True)
    try:
        child.wait(timeout=kill_after)
        return {"error": f"the run ended (rc {child.returncode}) before the kill at {kill_after}s"}
    except subprocess.TimeoutExpired:
        os.killpg(child.pid, 9)
        child.wait()
    t = time.perf_counter()
    again = subprocess.run(cmd, capture_output=True, text=True, cwd=ROOT)
    wall = time.perf_counter() - t
    if again.returncode not in (0, 3):
        return {"error": f"rc {again.returncode}: {again.stderr[-500:]}"}
    summary = json.loads((out / "manifest.json").read_text())["summary"]
    row = {"killed_after_s": kill_after, "resumed_records": summary["resumed_records"],
           "rerun_seconds": round(wall, 1), "documents": summary["documents"], "rc": again.returncode}
    if full and "documents" in full:
        row["documents_equal_full_run"] = summary["documents"] == full["documents"]
    return row


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", type=Path, default=DEV_PAGES, help="folder of real HTML pages (.html or .html.gz)")
    ap.add_argument("--small-mb", type=float, default=10)
    ap.add_argument("--big-mb", type=float, default=1000)
    ap.add_argument("--runs", default="small,big", help="inputs given to the whole run: small, big (or none)")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--workdir", type=Path, default=Path("/tmp/cleanpipe-readbench"))
    ap.add_argument("--keep", action="store_true", help="keep the big WARC")
    ap.add_argument("--reuse", action="store_true", help="use WARCs a --keep run left in --workdir")
    ap.add_argument("--only", default="", help="measure only these inputs (e.g. 'big warc.gz')")
    ap.add_argument("--run-limit", type=float, default=0, help="stop a whole run after this many seconds (0: never)")
    ap.add_argument("--resume", default="", help="inputs whose run is killed and resumed: small, big")
    ap.add_argument("--kill-after", type=float, default=60, help="seconds before the resumed run is killed")
    ap.add_argument("--html-mode", default=None, help="passed to cleanpipe run --html-mode")
    args = ap.parse_args()
    work = args.workdir
    work.mkdir(parents=True, exist_ok=True)
    pages = load_pages(args.pages)
    inputs = {}
    for name, mb in (("small", args.small_mb), ("big", args.big_mb)):
        path = work / f"{name}.warc.gz"
        t = time.perf_counter()
        held = path.with_name(path.name + ".counts.json")
        if args.reuse and path.exists() and held.exists():
            counts = json.loads(held.read_text())
        else:
            counts = write_warc(path, pages, int(mb * 1e6))
            held.write_text(json.dumps(counts))
        print(f"built {path} ({path.stat().st_size / 1e6:.0f} MB, {time.perf_counter() - t:.0f}s): {counts}",
              file=sys.stderr)
        inputs[f"{name} warc.gz"] = (path, counts, False)
    wet = work / "small.warc.wet.gz"
    inputs["small wet.gz"] = (wet, {"conversion": write_wet(wet, pages, int(args.small_mb * 1e6))}, False)
    jsonl = work / "small.jsonl"
    inputs["small jsonl (stdin)"] = (jsonl, {"records": write_jsonl(jsonl, pages, int(args.small_mb * 1e6))}, True)

    results = []
    runs = {r.strip() for r in args.runs.split(",")}
    for label, (path, counts, stdin) in inputs.items():
        if args.only and label not in args.only.split(","):
            continue
        row = {"input": label, "mb": round(path.stat().st_size / 1e6, 1), "holds": counts,
               "reader": measure_loop(READER_ALONE, path, stdin)}
        if not stdin:
            row["warcio_loop"] = measure_loop(WARCIO_LOOP, path)
            row["fastwarc_loop"] = measure_loop(FASTWARC_LOOP, path)
        if label.split()[0] in runs:
            row["run"] = measure_run(path, work / "out", args.workers, stdin, args.run_limit, args.html_mode)
        if label.split()[0] in set(args.resume.split(",")) and not stdin and "warc" in label:
            row["resume"] = measure_resume(path, work / "out", args.workers, args.kill_after, args.html_mode,
                                           row.get("run"))
        print(json.dumps(row), flush=True)
        results.append(row)
    if not args.keep:
        (work / "big.warc.gz").unlink(missing_ok=True)
    shutil.rmtree(work / "out", ignore_errors=True)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
