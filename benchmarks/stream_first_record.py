"""Time to the first record of the in-memory streaming API (`cleanpipe.clean`) against the whole stream,
on generated pages (benchmarks/corpus.py; made in memory first).

    python benchmarks/stream_first_record.py --pages 10000 [--workers 2]
"""

from __future__ import annotations

import argparse
import random
import time

from corpus import page, sentence

from cleanpipe import Config, clean


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--pages", type=int, default=10000)
    ap.add_argument("--workers", type=int, default=1)
    args = ap.parse_args()
    rng = random.Random(1)
    spam = [sentence(rng, rng.randint(5, 15)) for _ in range(20)]
    pages = [page(rng, i, spam) for i in range(args.pages)]
    config = Config(workers=args.workers, doc_timeout=0 if args.workers == 1 else 120)
    started = time.perf_counter()
    first = None
    count = 0
    for _ in clean(iter(pages), config):
        count += 1
        if first is None:
            first = time.perf_counter() - started
    total = time.perf_counter() - started
    print(f"clean(): {count} records from {args.pages} pages (workers {args.workers}): first record after "
          f"{first:.2f} s, all after {total:.1f} s ({count / total:.0f} records/s)")


if __name__ == "__main__":
    main()
