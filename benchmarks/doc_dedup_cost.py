"""What near-duplicate documents cost: a whole run with and without --doc-dedup, and the stage alone.

    python benchmarks/doc_dedup_cost.py run --pages 10000 [--workers 2]      # end to end, both ways
    python benchmarks/doc_dedup_cost.py run --pages 2000 --engine ray         # the same on a private Ray
    python benchmarks/doc_dedup_cost.py stage --pages 100000                 # the stage's own cost

`run` generates pages with benchmarks/corpus.py (chrome, comments) into /tmp, plus a republished copy
of every 20th page (other masthead, a paragraph added, another file), then times `cleanpipe run` on
them without and with --doc-dedup (wall time; peak RSS of the parent process, polled from
/proc/PID/status VmHWM, and of the largest worker).

`stage` measures only what doc dedup adds, at sizes a whole run on a small machine cannot reach in
reasonable time: article texts like the generator's (no files, no stripping) with every 20th
republished, the sketch (per document, the part the workers do) and the parent's judge, in this
process: ms a document for each and the parent's peak RSS above its starting point.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import paragraph, write_corpus  # noqa: E402

COPY_EVERY = 20


def republished(page: str, rng: random.Random) -> str:
    """A page republished elsewhere: another masthead and menu, a paragraph added after the first."""
    lines = page.splitlines()
    lines[0] = "The Partner Post"
    body = next(i for i, line in enumerate(lines) if len(line.split()) > 20)
    lines[body + 1: body + 1] = ["", paragraph(rng)]
    return "\n".join(lines) + "\n"


def make_corpus(folder: Path, pages: int, seed: int) -> Path:
    if (folder / ".done").exists():
        return folder
    shutil.rmtree(folder, ignore_errors=True)
    write_corpus(folder, pages, seed)
    rng = random.Random(seed + 1)
    for i in range(0, pages, COPY_EVERY):
        page = (folder / f"page-{i:07d}.txt").read_text(encoding="utf-8")
        (folder / f"republished-{i:07d}.txt").write_text(republished(page, rng), encoding="utf-8")
    (folder / ".done").write_text("")
    return folder


def _hwm_kb(pid: int) -> int | None:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    except OSError:
        return None
    return None


def timed_run(cmd: list[str], env: dict[str, str]) -> tuple[float, float, int]:
    """Wall seconds, the parent's peak RSS (MB, polled) and the exit code."""
    started = time.perf_counter()
    proc = subprocess.Popen(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    peak = 0
    while proc.poll() is None:
        peak = max(peak, _hwm_kb(proc.pid) or 0)
        time.sleep(0.2)
    wall = time.perf_counter() - started
    if proc.returncode not in (0, 3):
        print(proc.stderr.read() if proc.stderr else "", file=sys.stderr)
    return wall, peak / 1024, proc.returncode


def run_both(args: argparse.Namespace) -> None:
    work = Path(args.workdir)
    corpus = make_corpus(work / f"corpus-{args.pages}-{args.seed}", args.pages, args.seed)
    files = sum(1 for _ in corpus.glob("*.txt"))
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parent.parent)}
    for label, extra in (("off", ["--no-doc-dedup"]), ("on", ["--doc-dedup"])):
        out = work / f"out-{args.pages}-{args.engine}-{label}"
        shutil.rmtree(out, ignore_errors=True)
        cmd = [sys.executable, "-m", "cleanpipe", "run", str(corpus), "--out", str(out), "--workers",
               str(args.workers), "--quiet", "--engine", args.engine, *extra]
        before = resource.getrusage(resource.RUSAGE_CHILDREN)
        wall, parent_mb, code = timed_run(cmd, env)
        after = resource.getrusage(resource.RUSAGE_CHILDREN)
        summary = json.loads((out / "manifest.json").read_text())["summary"]
        print(json.dumps({
            "engine": args.engine, "doc_dedup": label, "pages": files, "workers": args.workers,
            "wall_s": round(wall, 1),
            "cpu_s": round(after.ru_utime + after.ru_stime - before.ru_utime - before.ru_stime, 1),
            "docs_per_s": round(files / wall, 1), "parent_peak_rss_mb": round(parent_mb, 1),
            "largest_process_peak_rss_mb_so_far": round(after.ru_maxrss / 1024, 1),
            "documents": summary["documents"],
            "near_duplicate_documents": summary["rejects"].get("near-duplicate-document", 0), "exit": code,
        }), flush=True)


def _rss_mb() -> tuple[float, float]:
    status = Path("/proc/self/status").read_text().splitlines()
    values = {line.split(":")[0]: int(line.split()[1]) for line in status if line.startswith(("VmRSS", "VmHWM"))}
    return values["VmRSS"] / 1024, values["VmHWM"] / 1024


def stage_cost(args: argparse.Namespace) -> None:
    from cleanpipe.config import Config
    from cleanpipe.model import Document, Paragraph, Reject, Source
    from cleanpipe.stages.docdedup import DocumentDeduper, DocumentSketcher

    config = Config().doc_dedup
    config.enabled = True
    if args.threshold:
        config.threshold = args.threshold
    sketcher = DocumentSketcher(config)
    rng = random.Random(args.seed)
    sketch_seconds = 0.0
    originals: list[list[str]] = []

    def documents():
        nonlocal sketch_seconds
        for i in range(args.pages):
            if i % COPY_EVERY == COPY_EVERY - 1 and originals:
                paras = list(rng.choice(originals[-200:]))
                paras.insert(1, paragraph(rng))
            else:
                paras = [paragraph(rng) for _ in range(rng.randint(4, 10))]
                originals.append(paras)
                del originals[:-200]
            doc = Document(id=f"d{i}", source=Source(path=f"page-{i}.txt", sha256="", format="text"),
                           paragraphs=[Paragraph(text=p) for p in paras])
            started = time.perf_counter()
            sketcher.process(doc)
            sketch_seconds += time.perf_counter() - started
            yield doc

    rss0, _ = _rss_mb()
    stage = DocumentDeduper(config, spill_dir=args.workdir)
    judge_seconds, dropped = 0.0, 0
    for doc in documents():
        started = time.perf_counter()
        dropped += isinstance(stage.process(doc), Reject)
        judge_seconds += time.perf_counter() - started
    stage.close()
    rss1, hwm = _rss_mb()
    print(json.dumps({
        "pages": args.pages, "threshold": config.threshold, "near_duplicates_dropped": dropped,
        "planted": args.pages // COPY_EVERY, "sketch_ms_per_doc": round(sketch_seconds * 1000 / args.pages, 3),
        "parent_judge_ms_per_doc": round(judge_seconds * 1000 / args.pages, 3),
        "rss_start_mb": round(rss0, 1), "rss_end_mb": round(rss1, 1), "peak_rss_mb": round(hwm, 1),
    }), flush=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("mode", choices=["run", "stage"])
    ap.add_argument("--pages", type=int, default=10_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--engine", choices=["local", "ray"], default="local",
                    help="run: the engine (ray: a private Ray; CPU seconds then miss Ray's worker processes)")
    ap.add_argument("--threshold", type=float, help="stage: the doc_dedup threshold [default: the config's]")
    ap.add_argument("--workdir", default="/tmp/cleanpipe-doc-dedup-cost")
    args = ap.parse_args()
    Path(args.workdir).mkdir(parents=True, exist_ok=True)
    run_both(args) if args.mode == "run" else stage_cost(args)


if __name__ == "__main__":
    main()
