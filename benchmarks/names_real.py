"""What the names stage changes on real pages, run with default settings.

    python benchmarks/names_real.py DIR [DIR...] [--workers 4] [--out /tmp/names-real] [--top 0]

Runs `python -m cleanpipe run DIR... --no-state` (the default pipeline, so
`--names auto`) into a scratch folder, then reads every record's provenance and
prints each replacement (from -> to) with its rule and how often it was made
(occurrences and pages), then totals by rule. There is no gold here: every line
it prints is to be read by a person, and each should be a genuine typo fix.

Real pages to run it on (kept outside the repository, e.g. in /tmp): the
scrapinghub article-extraction benchmark's HTML (181 news pages), the
readability test pages, trafilatura's test cache.
"""

from __future__ import annotations

import argparse
import gzip
import json
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def replacements(out: Path) -> tuple[Counter, Counter, int, int]:
    """(from, to, rule) -> occurrences, the same -> pages, the number of records and of records changed."""
    times: Counter = Counter()
    pages: Counter = Counter()
    records = changed = 0
    for path in sorted(out.glob("*.jsonl*")):
        if path.name.startswith("rejects"):
            continue
        opener = gzip.open if path.suffix == ".gz" else open
        with opener(path, "rt", encoding="utf-8") as fh:
            for line in fh:
                rec = json.loads(line)
                records += 1
                seen = set()
                for stage in rec.get("provenance", {}).get("stages", []):
                    if stage.get("stage") != "names":
                        continue
                    for rep in stage.get("replacements", []):
                        key = (rep["from"], rep["to"], rep["rule"])
                        times[key] += rep["count"]
                        seen.add(key)
                pages.update(seen)
                changed += bool(seen)
    return times, pages, records, changed


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("inputs", nargs="+", help="folders or files of real pages")
    ap.add_argument("--out", default="/tmp/names-real-out")
    ap.add_argument("--workers", type=int, default=4)
    ap.add_argument("--top", type=int, default=0, help="print only the N most frequent replacements (0: all)")
    args = ap.parse_args()
    out = Path(args.out)
    shutil.rmtree(out, ignore_errors=True)
    cmd = [sys.executable, "-m", "cleanpipe", "run", *args.inputs, "--out", str(out), "--no-state",
           "--workers", str(args.workers), "--quiet"]
    t = time.perf_counter()
    proc = subprocess.run(cmd, cwd=ROOT, capture_output=True, text=True)
    wall = time.perf_counter() - t
    if proc.returncode not in (0, 3):  # 3: some inputs rejected, records still written
        print(proc.stderr, file=sys.stderr)
        return proc.returncode
    times, pages, records, changed = replacements(out)
    shown = times.most_common(args.top or None)
    print(f"{'times':>6} {'pages':>5}  rule            from -> to")
    for (src, dst, rule), n in shown:
        print(f"{n:>6} {pages[(src, dst, rule)]:>5}  {rule:<15} {src!r} -> {dst!r}")
    if len(shown) < len(times):
        print(f"... and {len(times) - len(shown)} more")
    by_rule: Counter = Counter()
    kinds: Counter = Counter()
    for (_, _, rule), n in times.items():
        by_rule[rule] += n
        kinds[rule] += 1
    summary = {
        "records": records, "records_changed": changed, "wall_s": round(wall, 1),
        "replacements": sum(times.values()), "distinct_replacements": len(times),
        "by_rule": {rule: {"times": n, "distinct": kinds[rule]} for rule, n in by_rule.most_common()},
    }
    print(json.dumps(summary, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
