"""Near-duplicate documents on real pages with planted republished copies: precision and recall by kind
of edit, for a sweep of thresholds.

The pages are the article texts cleanpipe extracts from a folder of real HTML pages (the extraction dev
set: ../shared/bench/extraction/README.md says how to fetch it to /tmp). Each page gets one planted copy
of each kind, placed after all originals: the same text (exact), other chrome lines around it
(boilerplate), a paragraph added, a paragraph cut, the last fifth cut (truncated), and every paragraph
kept but one sentence in each reworded (edited). A drop is right only when it is a copy dropped in favour
of its own original.

    python benchmarks/doc_dedup.py --html /tmp/extbench/data/scrapinghub/html
"""

from __future__ import annotations

import argparse
import gzip
import random
import time
from pathlib import Path

from cleanpipe.config import Config, DedupConfig
from cleanpipe.model import Document, Paragraph, Source
from cleanpipe.stages.docdedup import DocumentDeduper
from cleanpipe.stages.strip import clean_html

KINDS = ("exact", "boilerplate", "para-added", "para-cut", "truncated", "edited")


def load_pages(folder: Path, limit: int) -> list[list[str]]:
    pages = []
    for path in sorted(folder.iterdir())[:limit]:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        paras = [p.text for p in clean_html(raw.decode("utf-8", "replace")).paragraphs]
        if sum(len(p.split()) for p in paras) >= 80:  # a story, not a stub
            pages.append(paras)
    return pages


def planted(paras: list[str], kind: str, rng: random.Random, donor: list[str]) -> list[str]:
    out = list(paras)
    if kind == "boilerplate":
        out = ["Republished with permission. Sign up for our morning newsletter."] + out + [
            "Read more stories like this on our partner site.", "Share this article"]
    elif kind == "para-added":
        out.insert(rng.randrange(len(out) + 1), rng.choice(donor))
    elif kind == "para-cut" and len(out) > 2:
        del out[rng.randrange(len(out))]
    elif kind == "truncated":
        words = " ".join(out).split()
        out = [" ".join(words[: int(len(words) * 0.8)])]
    elif kind == "edited":
        out = []
        for p in paras:
            words = p.split()
            if len(words) > 8:
                i = rng.randrange(len(words) - 3)
                words[i:i + 3] = ["(reworded", "here", "today)"]
            out.append(" ".join(words))
    return out


def doc(i: int, paras: list[str], url: str) -> Document:
    return Document(id=f"d{i}", source=Source(path=url, sha256="", format="html", url=url),
                    paragraphs=[Paragraph(text=p) for p in paras])


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--html", type=Path, required=True)
    ap.add_argument("--limit", type=int, default=1000)
    ap.add_argument("--thresholds", type=float, nargs="*", default=[0.6, 0.7, 0.8, 0.9])
    args = ap.parse_args()
    rng = random.Random(7)
    pages = load_pages(args.html, args.limit)
    docs, truth = [], {}  # doc id -> (kind, original id) for planted copies
    story: dict[str, str] = {}  # doc id -> id of the original it is a copy of (itself for originals)
    for i, paras in enumerate(pages):
        docs.append(doc(len(docs), paras, f"https://site{i}.example/story"))
        story[docs[-1].id] = docs[-1].id
    originals = len(docs)
    for i, paras in enumerate(pages):
        for kind in KINDS:
            donor = pages[(i + 1) % len(pages)]
            d = doc(len(docs), planted(paras, kind, rng, donor), f"https://mirror.example/{i}/{kind}")
            truth[d.id] = (kind, f"d{i}")
            story[d.id] = f"d{i}"
            docs.append(d)
    print(f"{originals} real pages, {len(docs) - originals} planted copies ({len(KINDS)} kinds)")
    print("| threshold | precision | recall | " + " | ".join(KINDS) + " | wrong drops | docs/s |")
    print("|---" * (5 + len(KINDS)) + "|")
    base = Config().doc_dedup
    for threshold in args.thresholds:
        cfg = DedupConfig(**{**base.__dict__, "threshold": threshold})
        stage = DocumentDeduper(cfg)
        started = time.perf_counter()
        verdicts = list(stage.run(docs))
        seconds = time.perf_counter() - started
        right = wrong = 0
        found = dict.fromkeys(KINDS, 0)
        for d, v in zip(docs, verdicts, strict=True):
            if isinstance(v, Document):
                continue
            kind, original = truth.get(d.id, (None, None))
            # right: a copy dropped in favour of its original or of another copy of the same story
            if kind is not None and story[v.extra["duplicate_of"]] == original:
                right += 1
                found[kind] += 1
            else:
                wrong += 1
        copies = len(docs) - originals
        precision = right / max(1, right + wrong)
        per_kind = " | ".join(f"{found[k] / len(pages):.3f}" for k in KINDS)
        print(f"| {threshold} | {precision:.4f} | {right / copies:.4f} | {per_kind} | {wrong} | "
              f"{len(docs) / seconds:.0f} |")


if __name__ == "__main__":
    main()
