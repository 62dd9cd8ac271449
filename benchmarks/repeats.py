"""Site repeats on a multi-page-per-site set: the whole pipeline with the repeats pass on and off.

    python3 benchmarks/repeats.py --data /tmp/extbench/data/CleanPortalEval-master \\
        --dumps /tmp/extbench/textcache/CleanPortalEval-master-e1206ca1-inscriptis

--data is a harness dataset (loaded and scored by ../shared/bench/extraction's own code),
--dumps the harness's text dumps of its pages (<id>.txt). Pages are grouped into sites by
their id without the trailing page number (CleanPortalEval names its pages
`<site>_<n>.html`), written one folder per site and run through `cleanpipe run` with
`repeats.site = "folder"`; names are left alone so that only the text is compared.
Prints BoW F1/P/R (harness aggregation) of the records' text, both ways, and how many
paragraphs the repeats pass removed.

    python3 benchmarks/repeats.py --synthetic 1000000 [--sites 200]

measures the counting alone at scale: pages of --sites sites, each page 120 chrome lines
drawn from its site's 300 and 50 lines of its own; prints pages/s of `SiteStats.add_document`,
the seconds of `RepeatFilter`'s count table, its rows and the peak RSS.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
from cleanpipe.config import load_config  # noqa: E402
from cleanpipe.engines.pipeline import Pipeline  # noqa: E402


def run(folder: Path, out: Path, enabled: bool) -> dict[str, dict]:
    config = load_config(overrides={"repeats.enabled": enabled, "repeats.site": "folder", "names.mode": "off",
                                    "workers": 1})
    Pipeline(config).run([str(folder)], out, use_state=False)
    records = [json.loads(line) for line in (out / "documents.jsonl").read_text(encoding="utf-8").splitlines()]
    return {Path(r["source"]["path"]).stem: r for r in records}


def synthetic(pages: int, sites: int) -> None:
    import resource
    import time

    import numpy as np

    from cleanpipe.config import RepeatsConfig
    from cleanpipe.model import Document, Source
    from cleanpipe.stages.repeats import RepeatFilter, SiteStats

    rng = np.random.default_rng(0)
    chrome = rng.integers(-(2**63), 2**63 - 1, size=(sites, 300), dtype=np.int64)
    config, stats = RepeatsConfig(), SiteStats()
    started = time.perf_counter()
    for i in range(pages):
        site = i % sites
        keys = np.concatenate([rng.choice(chrome[site], 120, replace=False),
                               rng.integers(-(2**63), 2**63 - 1, size=50, dtype=np.int64)])
        doc = Document(id=str(i), source=Source(path="-", sha256="", format="jsonl", url=f"https://s{site}.org/{i}"))
        doc.line_keys = keys.tolist()
        stats.add_document(doc, config)
    counted = time.perf_counter() - started
    started = time.perf_counter()
    repeats = RepeatFilter(stats, config)
    table = time.perf_counter() - started
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"{pages} pages, {sites} sites: counting {pages / counted:,.0f} pages/s, count table {table:.1f} s, "
          f"{len(stats.keys):,} distinct lines, {len(repeats.counts):,} repeated, peak RSS {peak:,.0f} MB")


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data")
    ap.add_argument("--dumps")
    ap.add_argument("--bench", default=str(ROOT.parent / "shared" / "bench" / "extraction"))
    ap.add_argument("--synthetic", type=int, default=0, metavar="PAGES")
    ap.add_argument("--sites", type=int, default=200)
    args = ap.parse_args()
    if args.synthetic:
        synthetic(args.synthetic, args.sites)
        return 0
    if not (args.data and args.dumps):
        ap.error("--data and --dumps (or --synthetic PAGES)")
    sys.path.insert(0, args.bench)
    from common import aggregate, load_docs, tokenize, tp_fp_fn

    _, docs = load_docs(args.data)
    with tempfile.TemporaryDirectory() as tmp:
        pages = Path(tmp, "pages")
        for doc in docs:
            site = re.sub(r"_\d+$", "", doc.id)
            (pages / site).mkdir(parents=True, exist_ok=True)
            (pages / site / f"{doc.id}.txt").write_text(Path(args.dumps, f"{doc.id}.txt").read_text(encoding="utf-8"),
                                                       encoding="utf-8")
        sites = len({p.parent for p in pages.glob("*/*.txt")})
        print(f"{len(docs)} pages, {sites} sites\n")
        print("| repeats pass | BoW F1 | P | R | paragraphs removed |\n|---|---|---|---|---|")
        for enabled in (False, True):
            records = run(pages, Path(tmp, f"out-{enabled}"), enabled)
            outputs = [records[d.id]["text"] if d.id in records else "" for d in docs]
            pairs = zip(docs, outputs, strict=True)
            scores = aggregate([tp_fp_fn(tokenize(d.truth), tokenize(o), 1) for d, o in pairs])
            removed = sum(len(stage.get("removed", [])) for r in records.values()
                          for stage in r["provenance"]["stages"] if stage["stage"] == "repeats")
            print(f"| {'on' if enabled else 'off'} | {scores['f1']:.3f} | {scores['precision']:.3f} "
                  f"| {scores['recall']:.3f} | {removed} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
