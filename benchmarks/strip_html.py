"""HTML mode of the strip stage on the extraction dev set, scored by the shared harness.

    python benchmarks/strip_html.py --data /tmp/extbench/data/scrapinghub [--bench ../shared/bench/extraction]

Uses the harness's own loading and scoring (imported from its folder, not
copied): BoW P/R/F1 with the scrapinghub aggregation, docs/s in-process, best
of --repeats passes. Compares cleanpipe's HTML cleaner (trafilatura with
favor_precision, comment sections cut out first; and its fast setting) with trafilatura's
defaults and trafilatura's fast mode.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--bench", default=str(ROOT.parent / "shared" / "bench" / "extraction"))
    ap.add_argument("--repeats", type=int, default=1)
    args = ap.parse_args()
    sys.path.insert(0, args.bench)
    sys.path.insert(0, str(ROOT))
    import trafilatura
    from common import aggregate, load_docs, tokenize, tp_fp_fn

    from cleanpipe.config import StripConfig
    from cleanpipe.stages.strip import strip_html

    _, docs = load_docs(args.data)
    fast = StripConfig(html_favor_precision=False, html_fast=True)
    systems = {
        "cleanpipe-html": strip_html,
        "cleanpipe-html, strip.html_fast (and html_favor_precision = false)": lambda html: strip_html(html, fast),
        "trafilatura-default": lambda html: trafilatura.extract(html) or "",
        "trafilatura fast=True": lambda html: trafilatura.extract(html, fast=True) or "",
    }
    print("| system | BoW F1 | P | R | docs/s |\n|---|---|---|---|---|")
    for name, fn in systems.items():
        best, outputs = float("inf"), []
        for _ in range(args.repeats):
            t = time.perf_counter()
            outputs = [fn(d.html) for d in docs]
            best = min(best, time.perf_counter() - t)
        scores = aggregate([tp_fp_fn(tokenize(d.truth), tokenize(o), 1) for d, o in zip(docs, outputs, strict=True)])
        print(f"| {name} | {scores['f1']:.3f} | {scores['precision']:.3f} | {scores['recall']:.3f} "
              f"| {len(docs) / best:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
