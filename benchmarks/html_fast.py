"""The fast HTML mode beside trafilatura on the same pages, in the same run, on one core.

    python3 benchmarks/html_fast.py --data /tmp/extbench/data/scrapinghub [--bench ../shared/bench/extraction]
        [--repeats 3] [--cross-fit [--folds 5]]

Prints BoW F1, P, R and docs/s for trafilatura's defaults, trafilatura `fast=True`
and cleanpipe's fast HTML mode (`strip.html_mode = "fast"`), scored by the
extraction harness's own code (imported from its folder, not copied). docs/s is
the extraction call alone, one process, best of --repeats passes; run it under
`taskset -c 0` (or on an idle machine) for one core, and compare ratios: a
shared VM's speed moves by 10-30% between runs.

The bundled fast-mode model was trained on these very pages, so its row is
in-sample. --cross-fit adds the honest row (needs scikit-learn, `pip install -e
'.[train]'`): the pages are split in two halves by a hash of their id (as
train_line_model.py --halves splits them), a model is trained on each half, and
every page is cleaned by the model that did not see it; the rows per half follow.
--folds 5 adds the same with five folds, for two splits (less noisy: a model
trained on a half flips a few brittle pages between kept and dropped).
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def half_of(page_id: str) -> int:
    return int(hashlib.sha1(page_id.encode()).hexdigest(), 16) % 2  # as train_line_model.py --halves


def timed(fn: Callable[[str], str], pages: list[str], repeats: int) -> tuple[list[str], float, float]:
    """Outputs, docs/s of wall time and docs/s of CPU time (best of `repeats` passes, after one warm-up call).

    CPU time is what the process itself used: on a machine others share, it moves less than wall time."""
    fn(pages[0])
    best_wall, best_cpu, outputs = float("inf"), float("inf"), []
    for _ in range(repeats):
        wall, cpu = time.perf_counter(), time.process_time()
        outputs = [fn(page) for page in pages]
        best_cpu = min(best_cpu, time.process_time() - cpu)
        best_wall = min(best_wall, time.perf_counter() - wall)
    return outputs, len(pages) / best_wall, len(pages) / best_cpu


def fold_of(page_id: str, folds: int, seed: int) -> int:
    return int(hashlib.sha1(f"{seed}{page_id}".encode()).hexdigest(), 16) % folds


def cross_fit_models(data: str, ids: list[str], fold: Callable[[str], int] = half_of, folds: int = 2,
                     ) -> dict[int, str]:
    """{fold: path of a fast-mode model trained on the other folds' pages}; by default the two halves."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    import train_line_model as trainer

    from cleanpipe.stages import html_fast
    from cleanpipe.stages.strip import line_table

    truth = json.loads(Path(data, "ground-truth.json").read_text(encoding="utf-8"))
    pages = []
    for page_id in ids:
        html = trainer.read_html(data, page_id)
        body = truth[page_id].get("articleBody") or ""
        if html is None or not trainer.TOKEN.search(body):
            continue
        rendering = html_fast.render(html)
        lines, x = line_table(rendering.text, html_rows=rendering.rows, language=rendering.language)
        y, size = trainer.labels(lines, body)
        pages.append({"id": page_id, "x": x, "y": y, "size": size})
    args = argparse.Namespace(trees=100, depth=3, learning_rate=0.1, threshold=0.5, version="html-cross", html=True)
    models = {}
    for held in range(folds):
        spec = trainer.fit([p for p in pages if fold(p["id"]) != held], args)
        with tempfile.NamedTemporaryFile("w", suffix=".json", delete=False) as fh:
            json.dump(spec, fh)
        models[held] = fh.name
    return models


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", required=True)
    ap.add_argument("--bench", default=str(ROOT.parent / "shared" / "bench" / "extraction"))
    ap.add_argument("--repeats", type=int, default=1)
    ap.add_argument("--cross-fit", action="store_true", help="add the held-out row (models trained on the other half)")
    ap.add_argument("--folds", type=int, default=0,
                    help="with --cross-fit, also a row held out by K folds (a model trained on the other K-1 folds; "
                         "the mean over two splits): less noisy than halves, each model seeing more pages")
    args = ap.parse_args()
    sys.path.insert(0, args.bench)
    sys.path.insert(0, str(ROOT))
    import trafilatura
    from common import aggregate, load_docs, tokenize, tp_fp_fn

    from cleanpipe.config import StripConfig
    from cleanpipe.stages.strip import clean_html_fast

    _, docs = load_docs(args.data)
    pages = [d.html for d in docs]
    fast = StripConfig(html_mode="fast")
    systems: dict[str, Callable[[str], str]] = {
        "trafilatura default": lambda html: trafilatura.extract(html) or "",
        "trafilatura fast=True": lambda html: trafilatura.extract(html, fast=True) or "",
        "cleanpipe html_mode=fast (bundled model: in-sample)": lambda html: clean_html_fast(html, fast).text(),
    }
    results: dict[str, tuple[list[str], float | None, float | None]] = {}
    for name, fn in systems.items():
        results[name] = timed(fn, pages, args.repeats)
    if args.cross_fit:
        models = cross_fit_models(args.data, [d.id for d in docs])
        configs = {held: StripConfig(html_mode="fast", html_line_model_path=path) for held, path in models.items()}
        outputs = [clean_html_fast(d.html, configs[half_of(d.id)]).text() for d in docs]
        results["cleanpipe html_mode=fast, held out (model of the other half)"] = (outputs, None, None)
        for path in models.values():
            Path(path).unlink()
    if args.cross_fit and args.folds > 2:
        for seed in (0, 1):
            def fold(page_id: str, seed: int = seed) -> int:
                return fold_of(page_id, args.folds, seed)
            models = cross_fit_models(args.data, [d.id for d in docs], fold, args.folds)
            configs = {k: StripConfig(html_mode="fast", html_line_model_path=path) for k, path in models.items()}
            outputs = [clean_html_fast(d.html, configs[fold(d.id)]).text() for d in docs]
            results[f"cleanpipe html_mode=fast, held out ({args.folds} folds, split {seed})"] = (outputs, None, None)
            for path in models.values():
                Path(path).unlink()

    def score(pairs: list[tuple[str, str]]) -> dict[str, float]:
        return aggregate([tp_fp_fn(tokenize(truth), tokenize(out), 1) for truth, out in pairs])

    _, base_wall, base_cpu = results["trafilatura fast=True"]
    print("| system | BoW F1 | P | R | docs/s (wall) | docs/s (CPU) | x trafilatura fast (CPU) "
          "| F1 half 0 | F1 half 1 |")
    print("|---|---|---|---|---|---|---|---|---|")
    for name, (outputs, wall, cpu) in results.items():
        s = score([(d.truth, o) for d, o in zip(docs, outputs, strict=True)])
        halves = [score([(d.truth, o) for d, o in zip(docs, outputs, strict=True) if half_of(d.id) == h])["f1"]
                  for h in (0, 1)]
        rate = f"{wall:.0f} | {cpu:.0f} | {cpu / base_cpu:.1f}x" if wall and cpu else "- | - | -"
        print(f"| {name} | {s['f1']:.3f} | {s['precision']:.3f} | {s['recall']:.3f} | {rate} "
              f"| {halves[0]:.3f} | {halves[1]:.3f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
