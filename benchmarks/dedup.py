"""Near-duplicate comment filter: speed, memory, precision and recall on planted duplicates.

    python benchmarks/dedup.py --n 10000 100000 1000000      # table for the closing note
    python benchmarks/dedup.py --n 20000 --sweep             # thresholds x shingle settings
    python benchmarks/dedup.py --signatures                  # bulk signatures vs MinHash.update

Each N runs in a fresh process so peak RSS is its own. Comments are generated
from a Zipf-like vocabulary; a known share are planted near-copies of earlier
ones (a word changed, case, punctuation, truncation, "+1" appended, a typo,
words swapped; content edits only on comments of 8+ words, typos on 4+). A
drop is correct when it points at a comment of the same family; recall is the
share of planted copies dropped.
"""

from __future__ import annotations

import argparse
import json
import random
import resource
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

EDITS = ["word", "case", "punct", "truncate", "plus1", "typo", "swap"]


def make_vocab(rng: random.Random, size: int = 20000) -> list[str]:
    letters = "abcdefghijklmnopqrstuvwxyz"
    words = set()
    while len(words) < size:
        words.add("".join(rng.choice(letters) for _ in range(rng.randint(2, 9))))
    vocab = sorted(words)
    rng.shuffle(vocab)  # frequency rank must not follow spelling, or frequent words share letters
    return vocab


def zipf_word(rng: random.Random, vocab: list[str]) -> str:
    # rank ~ 1/x: common words are common, as in real text
    return vocab[min(len(vocab) - 1, int(len(vocab) ** rng.random()) - 1)]


def edit(rng: random.Random, text: str, vocab: list[str], kind: str) -> str:
    words = text.split()
    if kind == "case":
        return text.upper() if rng.random() < 0.5 else text.lower()
    if kind == "punct":
        return text.rstrip(".!?") + rng.choice(["!!", " !", "...", "?!"])
    if kind == "plus1":
        return text + rng.choice([" +1", " +1!", " Agreed."])
    if kind == "truncate" and len(words) >= 10:
        return " ".join(words[: int(len(words) * rng.uniform(0.85, 0.95))])
    if kind == "typo":
        i = rng.randrange(len(text) - 1) if len(text) > 2 else 0
        return text[:i] + text[i + 1] + text[i] + text[i + 2:] if len(text) > 2 else text + "x"
    if kind == "swap" and len(words) >= 4:
        i = rng.randrange(len(words) - 1)
        words[i], words[i + 1] = words[i + 1], words[i]
        return " ".join(words)
    words[rng.randrange(len(words))] = zipf_word(rng, vocab)
    return " ".join(words)


def generate(n: int, dup_share: float = 0.3, seed: int = 7):
    """[(key, text, family, edit kind or "")] where planted copies share their original's family."""
    rng = random.Random(seed)
    vocab = make_vocab(rng)
    items: list[tuple[str, str, int, str]] = []
    originals: list[tuple[str, int]] = []
    for i in range(n):
        if originals and rng.random() < dup_share:
            text, fam = originals[rng.randrange(len(originals))]
            nwords = len(text.split())
            # changing a word of a 3-word comment makes a different comment, not a copy
            kinds = EDITS if nwords >= 8 else (["case", "punct", "plus1", "typo"] if nwords >= 4
                                               else ["case", "punct", "plus1"])
            kind = rng.choice(kinds)
            items.append((f"c{i}", edit(rng, text, vocab, kind), fam, kind))
            continue
        length = rng.choice([3, 4, 5, 6, 8, 12, 20, 30, 45, 70])
        words = [zipf_word(rng, vocab) for _ in range(length + rng.randint(0, 3))]
        text = " ".join(words).capitalize() + rng.choice([".", "!", "?", ""])
        originals.append((text, i))
        items.append((f"c{i}", text, i, ""))
    return items


def score(items, verdicts):
    family = {k: f for k, _, f, _ in items}
    kind_of = {k: kind for k, _, _, kind in items}
    seen_families: set[int] = set()
    planted: dict[str, int] = {}
    for _, _, f, kind in items:
        if f in seen_families:
            planted[kind] = planted.get(kind, 0) + 1
        seen_families.add(f)
    drops = [v for v in verdicts if not v.kept]
    correct = [v for v in drops if family[v.key] == family[v.duplicate_of]]
    caught: dict[str, int] = {}
    for v in correct:
        caught[kind_of[v.key]] = caught.get(kind_of[v.key], 0) + 1
    total = sum(planted.values())
    return {
        "drops": len(drops),
        "planted": total,
        "precision": round(len(correct) / len(drops), 4) if drops else 1.0,
        "recall": round(len(correct) / total, 4) if total else 1.0,
        "recall_by_edit": {k: round(caught.get(k, 0) / n, 3) for k, n in sorted(planted.items())},
    }


def run_one(n: int, overrides: dict) -> dict:
    from cleanpipe.config import DedupConfig
    from cleanpipe.dedup import NearDuplicateFilter

    items = generate(n)
    config = DedupConfig(**overrides)
    t = time.perf_counter()
    flt = NearDuplicateFilter(config)
    verdicts = list(flt.filter((k, text) for k, text, _, _ in items))
    secs = time.perf_counter() - t
    lsh = flt._lsh["word"]
    out = {"n": n, "bands_rows": [lsh.bands, lsh.rows], "seconds": round(secs, 2), "comments_per_s": round(n / secs),
           "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
           **overrides, **score(items, verdicts)}
    return out


def signatures_vs_datasketch(n: int = 5000) -> dict:
    import numpy as np
    from datasketch import MinHash

    from cleanpipe.dedup import Shingler, SignatureBuilder, normalize

    items = generate(n, dup_share=0.0)
    sh = Shingler(short_words=1)
    sets = [sh.shingles(normalize(t)) for _, t, _, _ in items]
    vals = [(s & np.uint64(0xFFFFFFFF)).tolist() for s in sets]
    t = time.perf_counter()
    ref = []
    for v in vals:
        m = MinHash(num_perm=128, hashfunc=lambda x: x)
        for h in v:
            m.update(h)
        ref.append(m.hashvalues)
    loop = time.perf_counter() - t
    t = time.perf_counter()
    bulk = SignatureBuilder(128).signatures(sets)
    fast = time.perf_counter() - t
    same = all((a == b).all() for a, b in zip(ref, bulk, strict=True))
    return {"comments": n, "shingles": int(sum(len(s) for s in sets)), "datasketch_update_s": round(loop, 3),
            "bulk_numpy_s": round(fast, 3), "speedup": round(loop / fast, 1), "identical": same}


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--n", type=int, nargs="*", default=[10_000, 100_000])
    ap.add_argument("--sweep", action="store_true", help="try thresholds and shingle settings")
    ap.add_argument("--signatures", action="store_true", help="bulk signatures vs datasketch update loop")
    ap.add_argument("--one", help=argparse.SUPPRESS)  # internal: N and overrides as JSON, in a child
    args = ap.parse_args()
    if args.one:
        spec = json.loads(args.one)
        print(json.dumps(run_one(spec["n"], spec["overrides"])))
        return 0
    if args.signatures:
        print(json.dumps(signatures_vs_datasketch()))
        return 0
    grid = [{}]
    if args.sweep:
        grid = [{"threshold": t, "short_words": s, "word_shingle": w}
                for t in (0.6, 0.7, 0.8) for s in (8, 25) for w in (2, 3)]
    for n in args.n:
        for overrides in grid:
            spec = json.dumps({"n": n, "overrides": overrides})
            proc = subprocess.run([sys.executable, __file__, "--one", spec], capture_output=True, text=True)
            print(proc.stdout.strip() or proc.stderr.strip()[-500:], flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
