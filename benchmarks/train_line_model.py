"""Train the text cleaner's line model and report how it does on held-out pages.

    python3 -m pip install -e '.[train]'
    python3 benchmarks/train_line_model.py --data /tmp/extbench/data/scrapinghub \\
        --dumps /tmp/extbench/textcache/scrapinghub-09ef1d43-inscriptis --halves \\
        --out cleanpipe/stages/models/line_model.json

--data is a scrapinghub-layout dataset (ground-truth.json with articleBody per id),
--dumps a folder of <id>.txt plain-text dumps of the same pages (the extraction
harness writes them to its text cache; see ../shared/bench/extraction/README.md).

Labels: a line is article text when at least half of its 4-word shingles occur in
the ground truth (a line under four words: when its whole word sequence does).
Each line is weighted by its share of its page's words, so every page counts the
same, as in the per-page P/R the benchmark averages.

--halves trains on one half of the pages (split by a hash of the page id) and
scores the other half, both ways, with cleanpipe's own numpy inference: the
figure to trust. The model written to --out is trained on all pages.

--html trains the fast HTML mode's model instead: no dumps; each page's
html/<id>.html(.gz) is rendered by that mode (cleanpipe/stages/html_fast.py) and
its lines get the HTML features too:

    python3 benchmarks/train_line_model.py --data /tmp/extbench/data/scrapinghub --html --halves \
        --version html-1 --out cleanpipe/stages/models/line_model_html.json
"""

from __future__ import annotations

import argparse
import gzip
import hashlib
import json
import re
import sys
import tempfile
from collections import Counter
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
from cleanpipe.config import StripConfig  # noqa: E402
from cleanpipe.io.read import decode_bytes  # noqa: E402
from cleanpipe.stages import html_fast  # noqa: E402
from cleanpipe.stages.linemodel import FEATURE_NAMES, HTML_FEATURE_NAMES, spec_from_sklearn  # noqa: E402
from cleanpipe.stages.strip import clean_dump, clean_html_fast, line_table  # noqa: E402

TOKEN = re.compile(r"\w+")


def shingles(tokens: list[str], n: int = 4) -> Counter:
    return Counter(tuple(tokens[i:i + n]) for i in range(len(tokens) - n + 1))


def labels(lines: list, truth: str) -> tuple[np.ndarray, np.ndarray]:
    """(is article text, tokens) per line."""
    truth_tokens = TOKEN.findall(truth)
    truth_shingles = set(shingles(truth_tokens))
    joined = " " + " ".join(truth_tokens) + " "
    ys, sizes = [], []
    for line in lines:
        tokens = TOKEN.findall(line.text)
        if len(tokens) < 4:
            y = bool(tokens) and (" " + " ".join(tokens) + " ") in joined
        else:
            own = shingles(tokens)
            y = sum(c for s, c in own.items() if s in truth_shingles) >= 0.5 * sum(own.values())
        ys.append(y)
        sizes.append(len(tokens))
    return np.array(ys, dtype=float), np.array(sizes, dtype=float)


def bow_scores(pairs: list[tuple[str, str]]) -> dict[str, float]:
    """Mean per-page token precision and recall (pages with empty output count only in recall), F1 of the means."""
    precisions, recalls = [], []
    for truth, output in pairs:
        t, o = Counter(TOKEN.findall(truth)), Counter(TOKEN.findall(output))
        hit = sum((t & o).values())
        if o:
            precisions.append(hit / sum(o.values()))
        recalls.append(hit / sum(t.values()) if t else 0.0)
    p, r = float(np.mean(precisions or [0.0])), float(np.mean(recalls))
    return {"f1": 2 * p * r / (p + r) if p + r else 0.0, "precision": p, "recall": r, "pages": len(pairs)}


def read_html(data: str, page_id: str) -> str | None:
    for name in (page_id + ".html.gz", page_id + ".html"):
        path = Path(data, "html", name)
        if path.exists():
            raw = path.read_bytes()
            return decode_bytes(gzip.decompress(raw) if name.endswith(".gz") else raw)[0]
    return None


def clean_page(page: dict, config: StripConfig) -> str:
    """The page's article text as the mode being trained gives it."""
    if "html" in page:
        return clean_html_fast(page["html"], config).text()
    return clean_dump(page["text"], config).text()


def fit(pages: list[dict], args: argparse.Namespace) -> dict:
    from sklearn.ensemble import HistGradientBoostingClassifier

    x = np.vstack([p["x"] for p in pages])
    y = np.concatenate([p["y"] for p in pages])
    w = np.concatenate([np.maximum(p["size"], 1) / max(1.0, p["size"].sum()) for p in pages])
    clf = HistGradientBoostingClassifier(
        max_iter=args.trees, learning_rate=args.learning_rate, max_depth=args.depth, min_samples_leaf=40,
        l2_regularization=1.0, early_stopping=False, random_state=0)
    clf.fit(x, y, sample_weight=w)
    features = FEATURE_NAMES + HTML_FEATURE_NAMES if args.html else None
    return spec_from_sklearn(clf, threshold=args.threshold, version=args.version, features=features)


def score_with(spec: dict, pages: list[dict]) -> dict[str, float]:
    with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
        json.dump(spec, fh)
    config = StripConfig(line_model=True, line_model_path=fh.name, html_line_model_path=fh.name)
    out = bow_scores([(p["truth"], clean_page(p, config)) for p in pages])
    Path(fh.name).unlink()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--dumps", help="folder of <id>.txt dumps (text mode)")
    ap.add_argument("--html", action="store_true", help="train the fast HTML mode's model on html/<id>.html.gz")
    ap.add_argument("--out", default="")
    ap.add_argument("--halves", action="store_true")
    ap.add_argument("--trees", type=int, default=100)
    ap.add_argument("--depth", type=int, default=3)
    ap.add_argument("--learning-rate", type=float, default=0.1)
    ap.add_argument("--threshold", type=float, default=0.5)
    ap.add_argument("--version", default="lines-1")
    args = ap.parse_args()

    truth = json.loads(Path(args.data, "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    if not args.html and not args.dumps:
        ap.error("--dumps is required unless --html is given")
    for page_id in sorted(truth):
        body = truth[page_id].get("articleBody") or ""
        if not TOKEN.search(body):
            continue
        page: dict = {"id": page_id, "truth": body}
        if args.html:
            html = read_html(args.data, page_id)
            if html is None:
                continue
            # the text the cleaner sees after the markup's chrome and comment sections are cut out
            rendering = html_fast.render(html)
            lines, x = line_table(rendering.text, html_rows=rendering.rows, language=rendering.language)
            page["html"] = html
        else:
            dump = Path(args.dumps, page_id + ".txt")
            if not dump.exists():
                continue
            text = dump.read_text(encoding="utf-8")
            lines, x = line_table(text)
            page["text"] = text
        y, size = labels(lines, body)
        pages.append({**page, "x": x, "y": y, "size": size})
    print(f"{len(pages)} pages, {sum(len(p['y']) for p in pages)} lines, {pages[0]['x'].shape[1]} features")

    rules_only = StripConfig(line_model=False)
    if args.halves:
        half = {p["id"]: int(hashlib.sha1(p["id"].encode()).hexdigest(), 16) % 2 for p in pages}
        for held in (0, 1):
            train = [p for p in pages if half[p["id"]] != held]
            test = [p for p in pages if half[p["id"]] == held]
            rules = bow_scores([(p["truth"], clean_page(p, rules_only)) for p in test])
            model = score_with(fit(train, args), test)
            print(f"held-out half {held} ({len(test)} pages): rules F1 {rules['f1']:.3f} "
                  f"(P {rules['precision']:.3f} R {rules['recall']:.3f}) -> rules + model F1 {model['f1']:.3f} "
                  f"(P {model['precision']:.3f} R {model['recall']:.3f})")
    if args.out:
        spec = fit(pages, args)
        spec["trained_on"] = {"pages": len(pages), "lines": int(sum(len(p["y"]) for p in pages))}
        Path(args.out).parent.mkdir(parents=True, exist_ok=True)
        Path(args.out).write_text(json.dumps(spec, separators=(",", ":")) + "\n", encoding="utf-8")
        print(f"wrote {args.out} ({len(spec['roots'])} trees, depth {spec['depth']})")


if __name__ == "__main__":
    main()
