"""Do cleanpipe's quality filters give the verdicts of datatrove's own, and how fast are both?

    # texts: the records of a cleanpipe run over real pages (the text the quality stage sees)
    python3 -m cleanpipe run PAGES/ --out /tmp/q/out --no-state --quality off --names off \\
        --site-repeats off --no-dedup
    # datatrove (and spaCy, its English word tokenizer) only in a separate venv, never a dependency
    python3 -m venv /tmp/dtvenv && /tmp/dtvenv/bin/pip install datatrove spacy
    python3 benchmarks/quality_parity.py /tmp/q/out/documents.jsonl --dtvenv /tmp/dtvenv

For every filter (Gopher quality, Gopher repetition, C4, FineWeb) and every rule inside one,
datatrove's filter is run with only that rule switched on, and cleanpipe's rule of the same
definition is evaluated on its signals; the report gives how often the keep/drop verdicts agree
and lists the disagreeing pages with both values. datatrove is configured to the definitions
cleanpipe follows where it takes them as parameters: the stop-word list (stopwordsiso's English
list, as cleanpipe uses for an English page; datatrove's default eight words are reported too)
and FineWeb's duplicated-line threshold (0.1, the paper's; datatrove's default is 0.01).

Speed: docs/s of the four datatrove filters as they are, and of cleanpipe's whole signal set
(language of the page included), one process each, on the first --timed pages. For the verdicts
on every page, datatrove's word and sentence splitting is memoized per text in the harness (the
one-rule-at-a-time runs would tokenize each page once per rule; the results are the same).
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cleanpipe.stages.quality import PRESETS, Rule, identify_language, stop_words, text_signals  # noqa: E402

# rule name -> (datatrove filter, its keyword arguments with only this rule on), cleanpipe rules
_OFF_GQ = dict(min_doc_words=None, max_doc_words=None, min_avg_word_length=None, max_avg_word_length=None,
               max_symbol_word_ratio=None, max_bullet_lines_ratio=None, max_ellipsis_lines_ratio=None,
               max_non_alpha_words_ratio=None, min_stop_words=None)
_OFF_GR = dict(dup_line_frac=None, dup_para_frac=None, dup_line_char_frac=None, dup_para_char_frac=None,
               top_n_grams=(), dup_n_grams=())
_OFF_C4 = dict(filter_lorem_ipsum=False, filter_curly_bracket=False, min_num_sentences=-1)
_OFF_FW = dict(line_punct_thr=-1.0, short_line_thr=2.0, char_duplicates_ratio=2.0, new_line_ratio=1e9)


def _g(name: str) -> list[Rule]:
    return [r for r in PRESETS["gopher"] if r.signal == name]


def _p(preset: str, name: str) -> list[Rule]:
    return [r for r in PRESETS[preset] if r.signal == name]


RULES: dict[str, tuple[str, str, dict[str, Any], list[Rule]]] = {
    # gopher quality
    "gopher_quality/words": ("gopher_quality", "GopherQualityFilter",
                             {**_OFF_GQ, "min_doc_words": 50, "max_doc_words": 100_000}, _g("words")),
    "gopher_quality/mean_word_length": ("gopher_quality", "GopherQualityFilter",
                                        {**_OFF_GQ, "min_avg_word_length": 3, "max_avg_word_length": 10},
                                        _g("mean_word_length")),
    "gopher_quality/symbol_word_ratio": ("gopher_quality", "GopherQualityFilter",
                                         {**_OFF_GQ, "max_symbol_word_ratio": 0.1},
                                         _g("hash_word_ratio") + _g("ellipsis_word_ratio")),
    "gopher_quality/bullet_lines": ("gopher_quality", "GopherQualityFilter",
                                    {**_OFF_GQ, "max_bullet_lines_ratio": 0.9}, _g("bullet_lines")),
    "gopher_quality/ellipsis_lines": ("gopher_quality", "GopherQualityFilter",
                                      {**_OFF_GQ, "max_ellipsis_lines_ratio": 0.3}, _g("ellipsis_lines")),
    "gopher_quality/alpha_words": ("gopher_quality", "GopherQualityFilter",
                                   {**_OFF_GQ, "max_non_alpha_words_ratio": 0.8}, _g("alpha_words")),
    "gopher_quality/stop_words": ("gopher_quality", "GopherQualityFilter",
                                  {**_OFF_GQ, "min_stop_words": 2, "stop_words": "STOPWORDSISO"}, _g("stop_words")),
    "gopher_quality/stop_words (datatrove's 8 words)": ("gopher_quality", "GopherQualityFilter",
                                                        {**_OFF_GQ, "min_stop_words": 2}, _g("stop_words")),
    # gopher repetition
    "gopher_repetition/dup_lines": ("gopher_repetition", "GopherRepetitionFilter",
                                    {**_OFF_GR, "dup_line_frac": 0.3}, _g("dup_lines")),
    "gopher_repetition/dup_paragraphs": ("gopher_repetition", "GopherRepetitionFilter",
                                         {**_OFF_GR, "dup_para_frac": 0.3}, _g("dup_paragraphs")),
    "gopher_repetition/dup_line_chars": ("gopher_repetition", "GopherRepetitionFilter",
                                         {**_OFF_GR, "dup_line_char_frac": 0.2}, _g("dup_line_chars")),
    "gopher_repetition/dup_paragraph_chars": ("gopher_repetition", "GopherRepetitionFilter",
                                              {**_OFF_GR, "dup_para_char_frac": 0.2}, _g("dup_paragraph_chars")),
    **{f"gopher_repetition/top_{n}gram_chars": ("gopher_repetition", "GopherRepetitionFilter",
                                                {**_OFF_GR, "top_n_grams": ((n, t),)}, _g(f"top_{n}gram_chars"))
       for n, t in ((2, 0.2), (3, 0.18), (4, 0.16))},
    **{f"gopher_repetition/dup_{n}gram_chars": ("gopher_repetition", "GopherRepetitionFilter",
                                                {**_OFF_GR, "dup_n_grams": ((n, t),)}, _g(f"dup_{n}gram_chars"))
       for n, t in ((5, 0.15), (6, 0.14), (7, 0.13), (8, 0.12), (9, 0.11), (10, 0.10))},
    # c4
    "c4/lorem_ipsum": ("c4", "C4QualityFilter", {**_OFF_C4, "filter_lorem_ipsum": True}, _p("c4", "c4_lorem_ipsum")),
    "c4/curly_bracket": ("c4", "C4QualityFilter", {**_OFF_C4, "filter_curly_bracket": True},
                         _p("c4", "c4_curly_bracket")),
    "c4/sentences": ("c4", "C4QualityFilter", {**_OFF_C4, "min_num_sentences": 5}, _p("c4", "c4_sentences")),
    # fineweb
    "fineweb/punct_lines": ("fineweb", "FineWebQualityFilter", {**_OFF_FW, "line_punct_thr": 0.12},
                            _p("fineweb", "punct_lines")),
    "fineweb/short_lines": ("fineweb", "FineWebQualityFilter", {**_OFF_FW, "short_line_thr": 0.67},
                            _p("fineweb", "short_lines")),
    "fineweb/dup_line_chars": ("fineweb", "FineWebQualityFilter", {**_OFF_FW, "char_duplicates_ratio": 0.1},
                               _p("fineweb", "dup_line_chars")),
    "fineweb/list_lines": ("fineweb", "FineWebQualityFilter", {**_OFF_FW, "new_line_ratio": 0.3},
                           _p("fineweb", "list_lines")),
}
# the whole filters, as each recipe runs them (datatrove's defaults except where noted above)
FILTERS: dict[str, tuple[str, dict[str, Any], list[Rule]]] = {
    "gopher_quality": ("GopherQualityFilter", {"stop_words": "STOPWORDSISO"},
                       [r for k, v in RULES.items() if v[0] == "gopher_quality" and "8 words" not in k for r in v[3]]),
    "gopher_repetition": ("GopherRepetitionFilter", {},
                          [r for v in RULES.values() if v[0] == "gopher_repetition" for r in v[3]]),
    "c4": ("C4QualityFilter", {}, list(PRESETS["c4"])),
    "fineweb": ("FineWebQualityFilter", {"char_duplicates_ratio": 0.1}, list(PRESETS["fineweb"])),
}

# run inside the datatrove venv: verdicts per rule and per filter, and the time of the four filters
DT_SCRIPT = r"""
import functools, json, sys, time
from datatrove.data import Document
from datatrove.pipeline import filters as F
from datatrove.pipeline.filters import (c4_filters, fineweb_quality_filter, gopher_quality_filter,
                                        gopher_repetition_filter)
spec = json.load(open(sys.argv[1]))
texts = [json.loads(line)["text"] for line in open(spec["texts"])]
def build(name, kwargs):
    kwargs = {k: (set(spec["stop_words"]) if v == "STOPWORDSISO" else v) for k, v in kwargs.items()}
    return getattr(F, name)(**kwargs)
def verdicts(flt, docs):
    out = []
    for i, t in enumerate(docs):
        r = flt.filter(Document(text=t, id=str(i)))
        out.append(True if r is True else (r if isinstance(r, bool) else r[1]))
    return out
result = {"rules": {}, "filters": {}}
# timed: the four filters as they are, on the first `timed` pages
full = {key: build(name, kwargs) for key, (name, kwargs) in spec["filters"].items()}
for f in full.values():  # warm-up: spaCy's tokenizer is built on first use
    f.filter(Document(text="Warm up the tokenizer. Twice.", id="w"))
start = time.perf_counter()
for key, flt in full.items():
    verdicts(flt, texts[: spec["timed"]])
result["seconds"] = time.perf_counter() - start
result["timed"] = min(spec["timed"], len(texts))
# verdicts on every page: the same functions with their results remembered per text (the
# one-rule-at-a-time runs would otherwise tokenize every page once per rule)
for mod in (gopher_quality_filter, gopher_repetition_filter, fineweb_quality_filter, c4_filters):
    for fn in ("split_into_words", "split_into_sentences"):
        if hasattr(mod, fn):
            cached = functools.lru_cache(maxsize=None)(getattr(mod, fn))
            setattr(mod, fn, lambda text, language="eng_Latn", _c=cached: list(_c(text, language)))
for key, flt in full.items():
    result["filters"][key] = verdicts(flt, texts)
for key, (name, kwargs) in spec["rules"].items():
    result["rules"][key] = verdicts(build(name, kwargs), texts)
json.dump(result, sys.stdout)
"""


def _keeps(rules: list[Rule], signals: dict[str, Any]) -> bool:
    return not any(r.fails(signals.get(r.signal)) for r in rules)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("documents", help="documents.jsonl of a cleanpipe run (its 'text' fields are judged)")
    ap.add_argument("--dtvenv", default="/tmp/dtvenv", help="venv with datatrove and spacy")
    ap.add_argument("--json", help="write the full report (disagreements included) here")
    ap.add_argument("--show", type=int, default=3, help="disagreeing pages listed per rule")
    ap.add_argument("--timed", type=int, default=300, help="pages the speed is measured on (the first N)")
    args = ap.parse_args()

    work = Path(args.json or "/tmp/quality_parity.json").with_suffix(".work")
    work.mkdir(parents=True, exist_ok=True)
    texts = [r["text"] for r in map(json.loads, Path(args.documents).read_text().splitlines()) if r["text"].strip()]
    (work / "texts.jsonl").write_text("".join(json.dumps({"text": t}) + "\n" for t in texts))
    spec = {"texts": str(work / "texts.jsonl"), "stop_words": sorted(stop_words("en")), "timed": args.timed,
            "rules": {k: [v[1], v[2]] for k, v in RULES.items()},
            "filters": {k: [v[0], v[1]] for k, v in FILTERS.items()}}
    (work / "spec.json").write_text(json.dumps(spec))
    (work / "dt.py").write_text(DT_SCRIPT)
    proc = subprocess.run([f"{args.dtvenv}/bin/python", str(work / "dt.py"), str(work / "spec.json")],
                          capture_output=True, text=True, check=True)
    dt = json.loads(proc.stdout)

    identify_language("warm up the model")
    stop_words("en")
    timed = min(args.timed, len(texts))
    signals = []
    start = time.perf_counter()
    for i, text in enumerate(texts):
        language, score = identify_language(text)
        signals.append({"language": language, "language_score": score, **text_signals(text, language)})
        if i + 1 == timed:
            ours_seconds = time.perf_counter() - start

    report: dict[str, Any] = {"documents": len(texts), "rules": {}, "filters": {}}
    rows = []
    for kind, table, dt_table in (("rule", RULES, dt["rules"]), ("filter", FILTERS, dt["filters"])):
        for key, spec_row in table.items():
            rules = spec_row[3] if kind == "rule" else spec_row[2]
            theirs = dt_table[key]
            disagree = []
            for i, (text, sig) in enumerate(zip(texts, signals, strict=True)):
                ours_keep, their_keep = _keeps(rules, sig), theirs[i] is True
                if ours_keep != their_keep:
                    disagree.append({"doc": i, "cleanpipe": "keep" if ours_keep else "drop",
                                     "datatrove": "keep" if their_keep else theirs[i],
                                     "language": sig["language"],
                                     "values": {r.signal: sig.get(r.signal) for r in rules},
                                     "text": text[:160]})
            agree = 1 - len(disagree) / len(texts)
            dropped = sum(v is not True for v in theirs)
            report["rules" if kind == "rule" else "filters"][key] = {
                "agreement": agree, "datatrove_drops": dropped, "disagreements": disagree}
            rows.append((kind, key, agree, dropped, len(disagree)))

    print(f"{len(texts)} documents\n")
    print(f"| {'rule / filter':52} | agree | datatrove drops | disagreements |")
    print(f"|{'-' * 54}|-------|-----------------|---------------|")
    for kind, key, agree, dropped, n in rows:
        name = key if kind == "rule" else f"**{key} (whole filter)**"
        print(f"| {name:52} | {agree:6.1%} | {dropped:15d} | {n:13d} |")
    dt_rate, our_rate = timed / dt["seconds"], timed / ours_seconds
    report["speed"] = {"datatrove_docs_per_s": dt_rate, "cleanpipe_docs_per_s": our_rate}
    print(f"\nspeed on the first {timed} pages, one process each: datatrove's 4 filters {dt_rate:.0f} docs/s; "
          f"cleanpipe's signals (language id included) {our_rate:.0f} docs/s ({our_rate / dt_rate:.1f}x)")
    for key, entry in report["rules"].items():
        for d in entry["disagreements"][: args.show]:
            print(f"\n{key}: doc {d['doc']} ({d['language']}) cleanpipe {d['cleanpipe']}, datatrove "
                  f"{d['datatrove']}, values {d['values']}\n    {d['text']!r}")
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1, ensure_ascii=False))


if __name__ == "__main__":
    main()
