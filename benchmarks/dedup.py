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
from collections.abc import Iterator
from pathlib import Path

import numpy as np

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


def generate(n: int, dup_share: float = 0.3, seed: int = 7) -> Iterator[tuple[str, str, int, str]]:
    """(key, text, family, edit kind or "") in order; planted copies share their original's family.

    A generator, so that the benchmark's own memory stays small next to the filter's.
    """
    rng = random.Random(seed)
    vocab = make_vocab(rng)
    originals: list[tuple[str, int]] = []
    for i in range(n):
        if originals and rng.random() < dup_share:
            text, fam = originals[rng.randrange(len(originals))]
            nwords = len(text.split())
            # changing a word of a 3-word comment makes a different comment, not a copy
            kinds = EDITS if nwords >= 8 else (["case", "punct", "plus1", "typo"] if nwords >= 4
                                               else ["case", "punct", "plus1"])
            kind = rng.choice(kinds)
            yield f"c{i}", edit(rng, text, vocab, kind), fam, kind
            continue
        length = rng.choice([3, 4, 5, 6, 8, 12, 20, 30, 45, 70])
        words = [zipf_word(rng, vocab) for _ in range(length + rng.randint(0, 3))]
        text = " ".join(words).capitalize() + rng.choice([".", "!", "?", ""])
        originals.append((text, i))
        yield f"c{i}", text, i, ""


def run_one(n: int, overrides: dict) -> dict:
    from cleanpipe.config import DedupConfig
    from cleanpipe.stages.dedup import NearDuplicateFilter

    family = np.zeros(n, dtype=np.int64)
    kind_of = np.zeros(n, dtype=np.int8)  # 0: an original, else 1 + EDITS.index(kind)

    def stream():
        for k, text, fam, kind in generate(n):
            i = int(k[1:])
            family[i] = fam
            kind_of[i] = EDITS.index(kind) + 1 if kind else 0
            yield k, text

    t = time.perf_counter()
    for _ in generate(n):  # the generator alone, to subtract from the timed run
        pass
    gen_secs = time.perf_counter() - t
    config = DedupConfig(**overrides)
    flt = NearDuplicateFilter(config)
    t = time.perf_counter()
    drops = [(int(v.key[1:]), int(v.duplicate_of[1:])) for v in flt.filter(stream()) if not v.kept]
    secs = time.perf_counter() - t - gen_secs
    correct = [a for a, b in drops if family[a] == family[b]]
    planted = np.bincount(kind_of, minlength=len(EDITS) + 1)[1:]
    caught = np.bincount(kind_of[correct], minlength=len(EDITS) + 1)[1:] if correct else np.zeros(len(EDITS))
    lsh = flt._banding
    return {"n": n, "bands_rows": [lsh.bands, lsh.rows], "seconds": round(secs, 2),
            "generator_seconds": round(gen_secs, 2),
            "comments_per_s": round(n / secs),
            "peak_rss_mb": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024),
            **overrides, "drops": len(drops), "planted": int(planted.sum()),
            "precision": round(len(correct) / len(drops), 4) if drops else 1.0,
            "recall": round(len(correct) / planted.sum(), 4),
            "recall_by_edit": {e: round(float(caught[j] / planted[j]), 3) for j, e in enumerate(EDITS) if planted[j]}}


def signatures_vs_datasketch(n: int = 5000) -> dict:
    import numpy as np
    from datasketch import MinHash

    from cleanpipe.stages.dedup import Shingler, SignatureBuilder, normalize

    items = list(generate(n, dup_share=0.0))
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
