"""Pages flattened onto one line through the text cleaner, cut into sentences or judged whole.

    python3 benchmarks/flattened.py --data /tmp/extbench/data/scrapinghub [--data /tmp/extbench/data/dragnet_data]
        [--sentences /tmp/mlbench/language-testdata/sentences] [--bench ../shared/bench/extraction] [--limit 300]

Part 1, per --data set of the extraction harness (its loader and BoW scorer, imported from its
folder, not copied): each page's full text (resiliparse, no main-content rules) goes through
`clean_dump` as lines, and flattened onto one line (all whitespace one space, as JSON lines that
lost their newlines or BeautifulSoup's get_text(" ") give it), with `strip.cut_flattened` on and
off. Prints BoW F1, P, R and how many pages came out empty.

Part 2 (--sentences: the Leipzig-corpora sentences of lingua-py's language-testdata, one file a
language): clean text that must not be damaged. Per language, 20 paragraphs of 12 sentences on
one line (those of over 150 words, the ones cut) go through `clean_dump` both ways; prints how
many lost more than a tenth of their words (`\\w+` tokens, as a multiset).
"""

from __future__ import annotations

import argparse
import random
import re
import sys
from collections import Counter
from pathlib import Path

from resiliparse.extract.html2text import extract_plain_text
from resiliparse.parse.html import HTMLTree

from cleanpipe.config import StripConfig
from cleanpipe.stages.flattened import MAX_LINE_WORDS
from cleanpipe.stages.strip import clean_dump

ROOT = Path(__file__).resolve().parent.parent
CUT, WHOLE = StripConfig(), StripConfig(cut_flattened=False)
TOKEN = re.compile(r"\w+")


def kept_share(source: str, output: str) -> float:
    want = Counter(TOKEN.findall(source))
    return sum((want & Counter(TOKEN.findall(output))).values()) / max(1, sum(want.values()))


def extraction(data: str, bench: Path, limit: int) -> None:
    sys.path.insert(0, str(bench))
    from common import aggregate, load_docs, tokenize, tp_fp_fn

    _, docs = load_docs(data, limit=limit)
    print(f"\n{data}: {len(docs)} pages\n")
    print("| input | strip.cut_flattened | BoW F1 | P | R | empty pages |\n|---|---|---|---|---|---|")
    for name, shape in (("as lines", lambda t: t), ("flattened", lambda t: " ".join(t.split()))):
        for label, config in (("off", WHOLE), ("on", CUT)):
            counts, empty = [], 0
            for doc in docs:
                text = shape(extract_plain_text(HTMLTree.parse(doc.html), main_content=False))
                out = clean_dump(text, config).text()
                empty += not out.strip()
                counts.append(tp_fp_fn(tokenize(doc.truth), tokenize(out), 1))
            score = aggregate(counts)
            print(f"| {name} | {label} | {score['f1']:.3f} | {score['precision']:.3f} | {score['recall']:.3f} "
                  f"| {empty} |")


def clean_paragraphs(folder: Path) -> None:
    pages = lost_whole = lost_cut = 0
    by_language: Counter[str] = Counter()
    for path in sorted(folder.glob("*.txt")):
        lines = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
        random.Random(f"long-{path.stem}").shuffle(lines)
        for k in range(20):
            paragraph = " ".join(lines[k * 12:(k + 1) * 12])
            if len(paragraph.split()) <= MAX_LINE_WORDS:
                continue
            pages += 1
            whole = kept_share(paragraph, clean_dump(paragraph, WHOLE).text()) < 0.9
            cut = kept_share(paragraph, clean_dump(paragraph, CUT).text()) < 0.9
            lost_whole += whole
            lost_cut += cut
            if cut and not whole:
                by_language[path.stem] += 1
    print(f"\nclean one-line paragraphs of over {MAX_LINE_WORDS} words, {folder}: {pages}; losing >10% of their "
          f"words: judged whole {lost_whole}, cut {lost_cut}; lost only when cut: {dict(by_language) or 'none'}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", action="append", default=[], help="an extraction-harness data set (repeatable)")
    ap.add_argument("--bench", type=Path, default=ROOT.parent / "shared" / "bench" / "extraction")
    ap.add_argument("--limit", type=int, default=300, help="pages per data set")
    ap.add_argument("--sentences", type=Path, help="Leipzig sentences, one <lang>.txt per language")
    args = ap.parse_args()
    for data in args.data:
        extraction(data, args.bench, args.limit)
    if args.sentences:
        clean_paragraphs(args.sentences)


if __name__ == "__main__":
    main()
