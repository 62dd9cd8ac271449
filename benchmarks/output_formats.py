"""Output size and write speed per format and provenance level (README: Outputs).

    python3 benchmarks/output_formats.py                      # both parts
    python3 benchmarks/output_formats.py --real-only
    python3 benchmarks/output_formats.py --pages 2000          # a quicker speed run

1. Size: the pipeline runs once over the real pages (the dev set's HTML pages and the seed
   text dumps); their documents are then written as records of each provenance level in
   each format. Prints bytes per record and MB per 10,000 pages, and the same records in
   the shape before the contract (config and raw stage logs in every record) for comparison.
   Then the loader table: the compact records of each format loaded with HF datasets, pandas,
   duckdb and polars with their default arguments, compared value for value (as the tests do).
2. Speed: `--pages` generated pages (benchmarks/corpus.py) run through the pipeline once;
   then the time to assemble and write their records in each format (compact provenance),
   best of `--repeat`, as records per second.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

from corpus import write_corpus  # noqa: E402

from cleanpipe import __version__  # noqa: E402
from cleanpipe.config import Config  # noqa: E402
from cleanpipe.engines.pipeline import Pipeline, RunSummary  # noqa: E402
from cleanpipe.io.write import document_record, dumps  # noqa: E402
from cleanpipe.io.writers import FORMATS, ShardedWriter  # noqa: E402
from cleanpipe.model import Document  # noqa: E402

REAL_HTML = Path("/tmp/extbench/data/scrapinghub/html")
SEEDS = Path("/work/shared/seeds")


def documents(inputs: list[str], workers: int) -> tuple[Pipeline, list[Document]]:
    pipeline = Pipeline(Config(workers=workers))
    docs = []
    with tempfile.TemporaryDirectory(prefix="cleanpipe-bench-") as tmp:
        summary = RunSummary(run_id="bench")
        for kind, obj in pipeline._execute(inputs, Path(tmp), summary, None):
            if kind == "document":
                docs.append(obj)
    return pipeline, docs


def write_all(records: list[dict], fmt: str, folder: Path) -> int:
    """Bytes of the written shards."""
    writer = ShardedWriter(folder, "documents", fmt, "document", "bench")
    for record in records:
        writer.write(record)
    return sum(entry["bytes"] for entry in writer.commit())


def old_record(doc: Document, pipeline: Pipeline, record: dict) -> dict:
    """The record as it was before the contract: config and raw stage logs in every record."""
    old = {k: v for k, v in record.items() if k != "date_text"}
    old["date"] = doc.date
    old["provenance"] = {"cleanpipe_version": __version__, "config_sha256": pipeline.config_sha256,
                         "config": pipeline.config.to_dict(), "run_id": "20261130T000000Z-000000",
                         "processed_at": "2026-11-30T00:00:00Z", "stages": doc.stages}
    return old


def size_table(workers: int) -> None:
    inputs = [str(p) for p in sorted(REAL_HTML.glob("*.html.gz"))] + [str(p) for p in sorted(SEEDS.glob("*.txt"))]
    pipeline, docs = documents(inputs, workers)
    n = len(docs)
    prov = pipeline.provenance("20261130T000000Z-000000")
    print(f"size: {len(inputs)} real inputs -> {n} documents "
          f"(text: {sum(len(d.text.encode()) for d in docs) / n:,.0f} bytes a record)")
    print("| provenance | " + " | ".join(FORMATS) + " |")
    print("|---|" + "---|" * len(FORMATS))
    with tempfile.TemporaryDirectory(prefix="cleanpipe-bench-") as tmp:
        levels = {level: [document_record(d, prov, level) for d in docs] for level in ("full", "compact", "off")}
        levels["before #21 (jsonl only)"] = [old_record(d, pipeline, r) for d, r in zip(docs, levels["full"],
                                                                                        strict=True)]
        for level, records in levels.items():
            cells = []
            for fmt in FORMATS:
                if level.startswith("before") and fmt != "jsonl":
                    cells.append("")
                    continue
                if level.startswith("before"):
                    size = sum(len(dumps(r).encode()) + 1 for r in records)
                else:
                    folder = Path(tmp) / f"{level}-{fmt}"
                    folder.mkdir()
                    size = write_all(records, fmt, folder)
                cells.append(f"{size / n:,.0f} B ({size / n * 10_000 / 1e6:,.1f} MB)")
            print(f"| {level} | " + " | ".join(cells) + " |")
        print("cells: bytes per record (MB per 10,000 pages)")
        loader_table(levels["compact"], Path(tmp))


def loader_table(records: list[dict], tmp: Path) -> None:
    from tests.test_output_contract import LOADERS, _rows, load_with

    os.environ.setdefault("HF_DATASETS_CACHE", str(tmp / "hf-cache"))
    print(f"loaders, default arguments, {len(records)} real records, one shard per format:")
    print("| loader | " + " | ".join(FORMATS) + " |")
    print("|---|" + "---|" * len(FORMATS))
    expected = _rows(records)
    rows = {loader: [] for loader in LOADERS}
    for fmt in FORMATS:
        folder = tmp / f"load-{fmt}"
        folder.mkdir()
        writer = ShardedWriter(folder, "documents", fmt, "document", "bench")
        for record in records:
            writer.write(record)
        files = [folder / e["file"] for e in writer.commit()]
        for loader in LOADERS:
            try:
                got = load_with(loader, files)
                rows[loader].append("ok" if got == expected else "values differ")
            except Exception as exc:  # the table reports it
                rows[loader].append(f"fails: {type(exc).__name__}")
    for loader, cells in rows.items():
        print(f"| {loader} | " + " | ".join(cells) + " |")


def speed_table(pages: int, workers: int, repeat: int) -> None:
    with tempfile.TemporaryDirectory(prefix="cleanpipe-bench-") as tmp:
        corpus = write_corpus(Path(tmp) / "pages", pages)
        started = time.perf_counter()
        pipeline, docs = documents([str(corpus)], workers)
        print(f"speed: {pages} generated pages -> {len(docs)} documents "
              f"(pipeline {time.perf_counter() - started:.0f} s, not counted below)")
        prov = pipeline.provenance("20261130T000000Z-000000")
        print("| format | records/s (assemble + write) | bytes/record |")
        print("|---|---|---|")
        for fmt in FORMATS:
            best, size = float("inf"), 0
            for attempt in range(repeat):
                folder = Path(tmp) / f"{fmt}-{attempt}"
                folder.mkdir()
                started = time.perf_counter()
                size = write_all([document_record(d, prov, "compact") for d in docs], fmt, folder)
                best = min(best, time.perf_counter() - started)
            print(f"| {fmt} | {len(docs) / best:,.0f} | {size / len(docs):,.0f} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--pages", type=int, default=10_000)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--repeat", type=int, default=2)
    ap.add_argument("--real-only", action="store_true")
    ap.add_argument("--speed-only", action="store_true")
    args = ap.parse_args()
    if not args.speed_only:
        size_table(args.workers)
    if not args.real_only:
        speed_table(args.pages, args.workers, args.repeat)


if __name__ == "__main__":
    main()
