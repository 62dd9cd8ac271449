"""Time `cleanpipe run` on a generated corpus of text pages with comments.

    python benchmarks/run_corpus.py --pages 10000 [--workers 1] [--rerun] [--workdir /tmp/cleanpipe-bench]
    python benchmarks/run_corpus.py --pages 2000 --quality off        # and annotate: the quality layer's cost

Reports documents/s (wall time of the whole CLI run, process start included)
and the peak resident memory of the largest cleanpipe process. The first run
starts from an empty output folder; with --rerun the same command runs again
on the unchanged folder (incremental: nothing to process, records carried over).
"""

from __future__ import annotations

import argparse
import json
import resource
import shutil
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import write_corpus  # noqa: E402


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", type=int, default=10_000)
    ap.add_argument("--workers", type=int, default=1)
    ap.add_argument("--workdir", default="/tmp/cleanpipe-bench")
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--rerun", action="store_true", help="run again on the unchanged folder and time it")
    ap.add_argument("--quality", help="passed to cleanpipe run --quality (off, annotate, gopher, ...)")
    args = ap.parse_args()
    work = Path(args.workdir)
    corpus = work / f"corpus-{args.pages}-{args.seed}"
    if not corpus.exists():
        t = time.perf_counter()
        write_corpus(corpus, args.pages, args.seed)
        print(f"generated {args.pages} pages in {time.perf_counter() - t:.1f}s -> {corpus}", file=sys.stderr)
    out = work / f"out-{args.pages}-w{args.workers}"
    shutil.rmtree(out, ignore_errors=True)
    cmd = [sys.executable, "-m", "cleanpipe", "run", str(corpus), "--out", str(out),
           "--workers", str(args.workers), "--log-format", "json", "--quiet"]
    if args.quality:
        cmd += ["--quality", args.quality]
    for label in ["first run"] + (["rerun, unchanged folder"] if args.rerun else []):
        t = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True)
        wall = time.perf_counter() - t
        peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
        if proc.returncode != 0:
            print(proc.stderr, file=sys.stderr)
            return proc.returncode
        summary = json.loads((out / "manifest.json").read_text())["summary"]
        print(json.dumps({
            "run": label, "quality": args.quality or "default", "pages": args.pages, "workers": args.workers,
            "wall_s": round(wall, 2),
            "docs_per_s": round(args.pages / wall, 1), "peak_rss_mb_so_far": round(peak_mb, 1),
            "documents": summary["documents"], "unchanged_inputs": summary["unchanged_inputs"],
            "comments_kept": summary["comments_kept"], "comments_dropped": summary["comments_dropped"],
        }), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
