"""The local engine and the Ray engine on the same generated corpus: time, memory, equal output.

    python benchmarks/scale.py --pages 100000 [--workers 2] [--workdir /tmp/cleanpipe-scale]

Runs `cleanpipe run` twice on generated text pages with comments (benchmarks/corpus.py):
`--engine local --no-state` and `--engine ray` (a private single-machine Ray with --workers
CPUs). While each runs, every process's peak memory (VmHWM) is read from /proc each second; the report
gives the wall time, the peak resident memory of the driver (the cleanpipe process), of the
largest Ray worker and of Ray's own daemons (raylet, GCS), the largest block a Ray step held
and what the driver held (similar pairs), and whether the two outputs are equal record by
record (run-specific fields aside).
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from corpus import write_corpus  # noqa: E402

RUN_SPECIFIC = ("run_id", "processed_at", "config")


class PeakMemory:
    """Each process's peak resident memory (the kernel's VmHWM), read from /proc every second so
    that processes are caught before they exit; keeps each pid's peak and command."""

    def __init__(self) -> None:
        self.peaks: dict[int, tuple[int, str]] = {}
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, daemon=True)

    def _sample(self) -> None:
        for proc in Path("/proc").iterdir():
            if not proc.name.isdigit():
                continue
            try:
                status = (proc / "status").read_text()
                args = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")[:120]
            except OSError:
                continue
            hwm = next((int(line.split()[1]) for line in status.splitlines() if line.startswith("VmHWM:")), 0)
            if hwm > self.peaks.get(int(proc.name), (0, ""))[0]:
                self.peaks[int(proc.name)] = (hwm, args)

    def _loop(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(1.0)

    def __enter__(self) -> PeakMemory:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()

    def largest(self, match: str) -> float:
        """Peak MB of the largest process whose command contains `match`."""
        return round(max((rss for rss, args in self.peaks.values() if match in args), default=0) / 1024, 1)


def load_records(out: Path) -> list[str]:
    files = sorted((out / "documents").glob("part-*.jsonl")) if (out / "documents").is_dir() \
        else [out / "documents.jsonl"]
    records = []
    for path in files:
        with open(path, encoding="utf-8") as fh:
            for line in fh:
                record = json.loads(line)
                for key in RUN_SPECIFIC:
                    record["provenance"].pop(key, None)
                records.append(json.dumps(record, sort_keys=True))
    return sorted(records)


def run(engine: str, corpus: Path, out: Path, workers: int) -> dict:
    shutil.rmtree(out, ignore_errors=True)
    cmd = [sys.executable, "-m", "cleanpipe", "run", str(corpus), "--out", str(out), "--workers", str(workers),
           "--engine", engine, "--quiet"] + (["--no-state"] if engine == "local" else [])
    env = dict(os.environ, RAY_ENABLE_WINDOWS_OR_OSX_CLUSTER="0")
    with PeakMemory() as mem:
        t = time.perf_counter()
        proc = subprocess.run(cmd, capture_output=True, text=True, env=env)
        wall = time.perf_counter() - t
    if proc.returncode not in (0, 3):
        raise SystemExit(f"{engine} failed ({proc.returncode}):\n{proc.stderr[-3000:]}")
    manifest = json.loads((out / "manifest.json").read_text())
    result = {
        "engine": engine, "wall_s": round(wall, 1), "docs_per_s": round(manifest["summary"]["documents"] / wall, 1),
        "documents": manifest["summary"]["documents"], "comments_kept": manifest["summary"]["comments_kept"],
        "comments_dropped": manifest["summary"]["comments_dropped"],
        "peak_rss_mb": {"driver": mem.largest("cleanpipe run")},
    }
    if engine == "ray":
        result["peak_rss_mb"].update({"largest_ray_worker": mem.largest("ray::"), "raylet": mem.largest("raylet"),
                                      "gcs_server": mem.largest("gcs_server")})
        result["steps"] = manifest["steps"]
    else:
        result["peak_rss_mb"]["largest_pool_worker"] = mem.largest("multiprocessing")
    return result


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", type=int, default=100_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--workdir", default="/tmp/cleanpipe-scale")
    ap.add_argument("--engines", default="local,ray")
    args = ap.parse_args()
    work = Path(args.workdir)
    corpus = work / f"corpus-{args.pages}"
    if not corpus.exists():
        t = time.perf_counter()
        write_corpus(corpus, args.pages)
        print(f"generated {args.pages} pages in {time.perf_counter() - t:.1f}s", file=sys.stderr)
    for engine in args.engines.split(","):
        print(json.dumps(run(engine, corpus, work / f"out-{engine}", args.workers)), flush=True)
    outputs = {engine: work / f"out-{engine}" for engine in ("local", "ray")}
    if all((out / "manifest.json").exists() for out in outputs.values()):  # this run's or an earlier one's
        same = load_records(outputs["local"]) == load_records(outputs["ray"])
        print(json.dumps({"outputs_equal": same}))
        return 0 if same else 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
