"""Near-duplicate documents on real pages with planted republished copies: precision and recall by kind
of edit, for a sweep of thresholds (and word shingle sizes).

The pages are the article texts cleanpipe extracts from a folder of real HTML pages (the extraction dev
set: ../shared/bench/extraction/README.md says how to fetch it to /tmp). Each page gets one planted copy
of each kind, placed after all originals: the same text (exact), other chrome lines around it
(boilerplate), a paragraph added, a paragraph cut, the last fifth cut (truncated), and every paragraph
kept but one phrase in each reworded (edited). A drop is right only when it is a copy dropped in favour
of its own original (or of another copy of the same story).

`--negatives DIR...` adds more real pages with no planted copy (several pages per site, which share
chrome the cleaner may keep: CleanPortalEval, dragnet): any of them dropped is printed with what it was
matched to, for a person to judge (such sets hold a few real republished pages), and counted apart.

    python benchmarks/doc_dedup.py --html /tmp/extbench/data/scrapinghub/html \
        --negatives /tmp/extbench/data/CleanPortalEval-master/input /tmp/extbench/data/dragnet_data/input

Extracted texts are cached in --cache (default /tmp/cleanpipe-doc-dedup-cache).
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import random
import time
from pathlib import Path

from cleanpipe.config import Config, DedupConfig
from cleanpipe.model import Document, Paragraph, Reject, Source
from cleanpipe.stages.docdedup import DocumentDeduper, DocumentSketcher
from cleanpipe.stages.strip import clean_html

KINDS = ("exact", "boilerplate", "para-added", "para-cut", "truncated", "edited")


def load_pages(folder: Path, limit: int, cache: Path) -> list[tuple[str, list[str]]]:
    """(file name, article paragraphs) of the pages with at least 80 words, through a cache."""
    cache.mkdir(parents=True, exist_ok=True)
    key = cache / (hashlib.sha1(f"{folder.resolve()}:{limit}".encode()).hexdigest()[:16] + ".json")
    if key.exists():
        return [tuple(x) for x in json.loads(key.read_text())]  # type: ignore[misc]
    pages = []
    for path in sorted(folder.iterdir())[:limit]:
        raw = gzip.decompress(path.read_bytes()) if path.suffix == ".gz" else path.read_bytes()
        try:
            paras = [p.text for p in clean_html(raw.decode("utf-8", "replace")).paragraphs]
        except Exception:  # noqa: BLE001 - a page the extractor cannot read is no story
            continue
        if sum(len(p.split()) for p in paras) >= 80:  # a story, not a stub
            pages.append((path.name, paras))
    key.write_text(json.dumps(pages))
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
    ap.add_argument("--negatives", type=Path, nargs="*", default=[])
    ap.add_argument("--limit", type=int, default=2000)
    ap.add_argument("--thresholds", type=float, nargs="*", default=[0.6, 0.7, 0.75, 0.8, 0.85, 0.9])
    ap.add_argument("--shingles", type=int, nargs="*", default=[5], help="word n-gram sizes to try")
    ap.add_argument("--bands", type=int, help="LSH bands [default: the config's]")
    ap.add_argument("--cache", type=Path, default=Path("/tmp/cleanpipe-doc-dedup-cache"))
    args = ap.parse_args()
    rng = random.Random(7)
    pages = [paras for _, paras in load_pages(args.html, args.limit, args.cache)]
    negatives = [(f"{folder.name}/{name}", paras) for folder in args.negatives
                 for name, paras in load_pages(folder, args.limit, args.cache)]
    docs, truth = [], {}  # doc id -> (kind, original id) for planted copies
    story: dict[str, str] = {}  # doc id -> id of the original it is a copy of (itself for originals)
    for i, paras in enumerate(pages):
        docs.append(doc(len(docs), paras, f"https://site{i}.example/story"))
        story[docs[-1].id] = docs[-1].id
    originals = len(docs)
    unplanted: dict[str, str] = {}  # doc id -> page name, for the negatives
    for name, paras in negatives:
        docs.append(doc(len(docs), paras, f"https://negatives.example/{name}"))
        unplanted[docs[-1].id] = name
    for i, paras in enumerate(pages):
        for kind in KINDS:
            donor = pages[(i + 1) % len(pages)]
            d = doc(len(docs), planted(paras, kind, rng, donor), f"https://mirror.example/{i}/{kind}")
            truth[d.id] = (kind, f"d{i}")
            story[d.id] = f"d{i}"
            docs.append(d)
    copies = len(docs) - originals - len(unplanted)
    print(f"{originals} real pages with {copies} planted copies ({len(KINDS)} kinds); "
          f"{len(unplanted)} more real pages with none (negatives)")
    print("| shingle | threshold | precision | recall | " + " | ".join(KINDS) +
          " | wrong drops | negatives dropped | sketch ms/doc | judge ms/doc |")
    print("|---" * (8 + len(KINDS)) + "|")
    texts = {d.id: d.text for d in docs}
    for n in args.shingles:
        base = Config().doc_dedup
        sketch_cfg = DedupConfig(**{**base.__dict__, "enabled": True, "word_shingle": n,
                                    **({"bands": args.bands} if args.bands else {})})
        started = time.perf_counter()
        sketcher = DocumentSketcher(sketch_cfg)
        sketches = {d.id: sketcher.sketch(d.text) for d in docs}
        sketch_ms = (time.perf_counter() - started) * 1000 / len(docs)
        for threshold in args.thresholds:
            cfg = DedupConfig(**{**sketch_cfg.__dict__, "threshold": threshold})
            # band keys depend on the threshold: sketch again unless it is the one sketched for
            if threshold != sketch_cfg.threshold:
                sketcher = DocumentSketcher(cfg)
                sketches = {d.id: sketcher.sketch(d.text) for d in docs}
            for d in docs:
                d.doc_sketch = sketches[d.id]
            stage = DocumentDeduper(cfg)
            started = time.perf_counter()
            verdicts = list(stage.run(docs))
            judge_ms = (time.perf_counter() - started) * 1000 / len(docs)
            right = wrong = 0
            found = dict.fromkeys(KINDS, 0)
            negative_drops = []
            for d, v in zip(docs, verdicts, strict=True):
                if not isinstance(v, Reject):
                    continue
                if d.id in unplanted:
                    negative_drops.append((d.id, v.extra["duplicate_of"], v.extra["similarity"]))
                    continue
                kind, original = truth.get(d.id, (None, None))
                if kind is not None and story.get(v.extra["duplicate_of"]) == original:
                    right += 1
                    found[kind] += 1
                else:
                    wrong += 1
            precision = right / max(1, right + wrong)
            per_kind = " | ".join(f"{found[k] / len(pages):.3f}" for k in KINDS)
            print(f"| {n} | {threshold} | {precision:.4f} | {right / copies:.4f} | {per_kind} | {wrong} | "
                  f"{len(negative_drops)} | {sketch_ms:.2f} | {judge_ms:.3f} |", flush=True)
            for dropped, kept, sim in negative_drops:
                kept_name = unplanted.get(kept, kept)
                print(f"    negative dropped: {unplanted[dropped]} ~ {kept_name} (Jaccard {sim}): "
                      f"{texts[dropped][:70]!r} / {texts[kept][:70]!r}")


if __name__ == "__main__":
    main()
