"""HTML pages' comments through the strip and comments.split stages, on a set whose gold keeps comments apart.

    python benchmarks/comments_html.py --data /tmp/extbench/data/dragnet_data --pages 400 [--seed 1]

The dragnet set (see ../shared/bench/extraction/README.md) has, after the article in
each gold file, a separator line and the page's reader comments. Pages are loaded
with the harness's own loader (a seeded sample of --pages), cleaned with
`strip.html_fast`, and the comment section split into comments. Reported: pages
with comments, comments, the share of comments whose text still holds a date or a
"Reply"/"Posted"/"Permalink" (particulars that belong in `author`/`date` or were
widgets), how many have `author` and `date` filled, and the share of the comments'
words that are words of the gold comments.
"""

from __future__ import annotations

import argparse
import re
import sys
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PARTICULARS = re.compile(r"\b(?:permalink|reply|posted)\b", re.I)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True, help="the dragnet_data folder (input/, GoldStandard/)")
    ap.add_argument("--pages", type=int, default=400)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--bench", default=str(ROOT.parent / "shared" / "bench" / "extraction"))
    args = ap.parse_args()
    sys.path.insert(0, args.bench)
    sys.path.insert(0, str(ROOT))
    from common import _DRAGNET_SEP as GOLD_COMMENTS  # the harness's own reading of the gold's separator line
    from common import decode_bytes, load_docs, tokenize

    from cleanpipe.config import StripConfig
    from cleanpipe.stages.comments import DATE_IN_LINE, split_comments
    from cleanpipe.stages.strip import clean_html

    config = StripConfig(html_fast=True, html_favor_precision=False)
    _, docs = load_docs(args.data, limit=args.pages, seed=args.seed)
    pages = comments = with_date = with_particulars = with_author = with_stamp = words = gold_words = 0
    for doc in docs:
        block = clean_html(doc.html, config).comment_lines
        if not block:
            continue
        pages += 1
        gold = decode_bytes(Path(args.data, "GoldStandard", doc.id + ".txt").read_bytes()).replace("\r\n", "\n")
        split = GOLD_COMMENTS.search(gold)
        gold_tokens = Counter(tokenize(gold[split.end():] if split else ""))
        found = split_comments(doc.id, block).comments
        for comment in found:
            comments += 1
            with_date += DATE_IN_LINE.search(comment.text) is not None
            with_particulars += PARTICULARS.search(comment.text) is not None
            with_author += comment.author is not None
            with_stamp += comment.date is not None
        tokens = Counter(tokenize(" ".join(c.text for c in found)))
        words += sum(tokens.values())
        gold_words += sum((tokens & gold_tokens).values())
    share = max(1, comments)
    print(f"{pages} of {len(docs)} pages have comments; {comments} comments")
    print(f"text holds a date: {with_date / share:.3f}; holds Reply/Posted/Permalink: {with_particulars / share:.3f}")
    print(f"author filled: {with_author / share:.3f}; date filled: {with_stamp / share:.3f}")
    print(f"comment words that are gold comment words: {gold_words / max(1, words):.3f}")


if __name__ == "__main__":
    main()
