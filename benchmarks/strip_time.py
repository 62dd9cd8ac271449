"""Where a text dump's time goes in the strip stage: one cold pass over a folder of dumps per part.

    python3 benchmarks/strip_time.py --dumps /tmp/extbench/textcache/scrapinghub-09ef1d43-inscriptis

Each part is timed as one pass over every `*.txt` in --dumps with nothing remembered
from before (the per-process memory of line facts is emptied first), --rounds times,
and the fastest pass is kept (ms per page, and the docs/s it comes to):

  analyse     lines.analyse: words, function words, cues, logical lines
  rules       strip_text with the line model off (analyse + the rules)
  line_table  analyse + the rules + the model's feature table
  model       the model's probabilities for those tables (features given)
  full        strip_text as shipped (rules + model)

The dumps come from the extraction harness's text cache (../shared/bench/extraction).
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from cleanpipe.config import StripConfig  # noqa: E402
from cleanpipe.stages import lines  # noqa: E402
from cleanpipe.stages.linemodel import load_model  # noqa: E402
from cleanpipe.stages.strip import line_table, strip_text  # noqa: E402


def one_pass(run, items: list) -> float:
    """ms per item of one pass, cold: line facts remembered by earlier passes are forgotten first."""
    lines._LINE_FACTS.clear()  # noqa: SLF001 (the benchmark measures a first look at every line)
    start = time.perf_counter()
    for item in items:
        run(item)
    return (time.perf_counter() - start) / len(items) * 1000


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dumps", required=True, help="folder of <id>.txt plain-text dumps")
    ap.add_argument("--rounds", type=int, default=5)
    args = ap.parse_args()

    texts = [p.read_text(encoding="utf-8") for p in sorted(Path(args.dumps).glob("*.txt"))]
    if not texts:
        sys.exit(f"no *.txt dumps in {args.dumps}")
    rules_only = StripConfig(line_model=False)
    model = load_model("")
    tables = [line_table(t)[1] for t in texts]
    parts = {
        "analyse": (lines.analyse, texts),
        "rules": (lambda t: strip_text(t, rules_only), texts),
        "line_table": (line_table, texts),
        "model": (model.probabilities, tables),
        "full": (strip_text, texts),
    }
    strip_text(texts[0])  # imports and the model file are loaded once, outside the timing
    best = {name: float("inf") for name in parts}
    for _ in range(args.rounds):
        for name, (run, items) in parts.items():
            best[name] = min(best[name], one_pass(run, items))
    print(f"{len(texts)} dumps from {args.dumps}, fastest of {args.rounds} cold passes")
    print("| part | ms/page | docs/s |\n|---|---|---|")
    for name, ms in best.items():
        print(f"| {name} | {ms:.2f} | {1000 / ms:.0f} |")


if __name__ == "__main__":
    main()
