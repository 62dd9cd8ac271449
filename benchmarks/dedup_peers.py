"""Comment near-duplicate filtering: cleanpipe next to datasketch and rensa, on real comments.

    python benchmarks/dedup_peers.py --dragnet /tmp/extbench/data/dragnet_data --work /tmp/dedup25 \
        --sizes 22000 300000 1000000
    python benchmarks/dedup_peers.py --dragnet ... --work /tmp/dedup25 --short   # short-comment precision

Data (built at run time under --work, never in the repository): the reader comments of the dragnet
set's gold files (the lines after their COMMENTS separator; blog and news comments, author and
date lines included, as text dumps keep them). The first table uses the distinct real comments
as originals and plants near-copies of 30% (case, punctuation, "+1", a typo, an emoji; on
comments of 10+ words also a word changed or the end cut); the larger ones are made by sampling
real comments and replacing a third of their words with words of the real vocabulary (so they
are distinct), then planting copies the same way. A drop is right when it points at the same
family (an original and its planted copies); a drop between two originals counts as wrong.

Every system runs in its own process, one at a time: wall and CPU seconds (user + system) and
peak RSS of that process. Systems: the `cleanpipe dedup` command over the JSONL; the filter class
in-process; datasketch `MinHash.update` per shingle and `MinHash.bulk`, with `MinHashLSH` (query the
kept ones, drop when the MinHash estimate reaches the threshold, else insert); rensa's `RMinHash` and
`RMinHashLSH` the same way. The peers get cleanpipe's normalization and its two shingle kinds (character
5-grams under 25 words, word 3-grams from 25), threshold 0.6, LSH at 0.45, 128 permutations.

--short: runs the filter with and without the short-comment check over all the real comment lines
and writes every pair it drops where both texts have fewer than ten words to --work; precision is
computed from a labels file (--labels, JSONL of {"a", "b", "copy"}: written by reading the pairs;
kept out of the repository since it quotes the comments). Exact copies (same normalized text) are
right by definition; pairs without a label are counted and reported.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

SEP = re.compile(r"^[ \t]*[!@#$%^&*() \t]{5,}COMMENTS[ \t]*$", re.M)  # the dragnet gold files' separator
THRESHOLD, LSH_THRESHOLD, NUM_PERM = 0.6, 0.45, 128
SHORT_KINDS = ["case", "punct", "plus1", "typo", "emoji"]
LONG_KINDS = SHORT_KINDS + ["word", "truncate"]
EMOJI = ["😀", "👍", "❤️", "😂"]


def real_comments(dragnet: Path) -> list[str]:
    """Every non-blank line after the comments separator of every gold file, in file order."""
    out = []
    for path in sorted((dragnet / "GoldStandard").glob("*.txt")):
        raw = path.read_bytes()
        try:
            text = raw.decode("utf-8")
        except UnicodeDecodeError:
            text = raw.decode("latin-1")
        text = text.replace("\r\n", "\n")
        m = SEP.search(text)
        if m:
            out += [line.strip() for line in text[m.end():].split("\n") if line.strip()]
    return out


def plant(rng: random.Random, text: str, vocab: list[str]) -> tuple[str, str]:
    words = text.split()
    kind = rng.choice(LONG_KINDS if len(words) >= 10 else SHORT_KINDS)
    if kind == "case":
        return (text.upper() if rng.random() < 0.5 else text.lower()), kind
    if kind == "punct":
        return text.rstrip(".!?") + rng.choice(["!!", " !", "...", "?!", " :)"]), kind
    if kind == "plus1":
        return text + rng.choice([" +1", " +1!"]), kind
    if kind == "emoji":
        return text + " " + rng.choice(EMOJI), kind
    if kind == "typo":  # two neighbouring letters of one word swapped
        spots = [i for i in range(len(text) - 1) if text[i].isalpha() and text[i + 1].isalpha()]
        if not spots:
            return text + " +1", "plus1"
        i = rng.choice(spots)
        return text[:i] + text[i + 1] + text[i] + text[i + 2:], kind
    if kind == "truncate":
        return " ".join(words[: int(len(words) * rng.uniform(0.85, 0.95))]), kind
    words[rng.randrange(len(words))] = rng.choice(vocab)
    return " ".join(words), kind


def build(dragnet: Path, n: int, path: Path, seed: int = 7) -> None:
    """JSONL of {id, text, fam, kind}: originals, and 30% planted copies of earlier originals."""
    from cleanpipe.stages.dedup import normalize

    rng = random.Random(seed)
    pool, seen = [], set()
    for text in real_comments(dragnet):
        norm = normalize(text)
        if norm and norm not in seen:
            seen.add(norm)
            pool.append(text)
    vocab = sorted({w for t in pool for w in t.split() if w.isalpha()})
    n_orig = int(n * 0.7)
    synthetic = n_orig > len(pool)
    originals: list[str] = []
    with path.open("w", encoding="utf-8") as fh:
        i = 0
        while i < n:
            if originals and (rng.random() < 0.3 or len(originals) >= n_orig):
                fam = rng.randrange(len(originals))
                text, kind = plant(rng, originals[fam], vocab)
                fh.write(json.dumps({"id": f"c{i}", "text": text, "fam": fam, "kind": kind}) + "\n")
                i += 1
                continue
            if len(originals) >= n_orig:
                continue
            if synthetic:  # a real comment with a third of its words replaced: a new, distinct text
                words = rng.choice(pool).split()
                text = " ".join(rng.choice(vocab) if rng.random() < 0.34 else w for w in words)
                norm = normalize(text)
                if not norm or norm in seen:
                    continue
                seen.add(norm)
            else:
                text = pool[len(originals)]
            fh.write(json.dumps({"id": f"c{i}", "text": text, "fam": len(originals), "kind": ""}) + "\n")
            originals.append(text)
            i += 1


# -- the systems, each run in a child process ------------------------------------------------------
def _read(path: str) -> list[tuple[str, str]]:
    with open(path, encoding="utf-8") as fh:
        return [(r["id"], r["text"]) for r in map(json.loads, fh)]


def _shingles(norm: str) -> list[str]:
    words = norm.split(" ")
    if len(words) < 25:
        return [norm[i:i + 5] for i in range(max(1, len(norm) - 4))]
    return [" ".join(words[i:i + 3]) for i in range(len(words) - 2)]


def run_cleanpipe_class(path: str, out: str) -> None:
    from cleanpipe.stages.dedup import NearDuplicateFilter

    drops = [(v.key, v.duplicate_of) for v in NearDuplicateFilter().filter(_read(path)) if not v.kept]
    Path(out).write_text(json.dumps(drops))


def run_datasketch(path: str, out: str, bulk: bool) -> None:
    from datasketch import MinHash, MinHashLSH

    from cleanpipe.stages.dedup import normalize

    items = _read(path)
    lsh = MinHashLSH(threshold=LSH_THRESHOLD, num_perm=NUM_PERM)
    kept: dict[str, MinHash] = {}
    drops = []
    step = 2048 if bulk else 1
    for start in range(0, len(items), step):
        chunk = items[start:start + step]
        sets = [[s.encode() for s in _shingles(normalize(t))] for _, t in chunk]
        if bulk:
            mins = MinHash.bulk(sets, num_perm=NUM_PERM)
        else:
            mins = []
            for s in sets:
                m = MinHash(num_perm=NUM_PERM)
                for sh in s:
                    m.update(sh)
                mins.append(m)
        for (key, _), m in zip(chunk, mins, strict=True):
            best = max(((m.jaccard(kept[c]), c) for c in lsh.query(m)), default=(0.0, None))
            if best[0] >= THRESHOLD:
                drops.append((key, best[1]))
            elif key not in kept:
                lsh.insert(key, m)
                kept[key] = m
    Path(out).write_text(json.dumps(drops))


def run_rensa(path: str, out: str) -> None:
    from rensa import RMinHash, RMinHashLSH

    from cleanpipe.stages.dedup import normalize

    lsh = RMinHashLSH(threshold=LSH_THRESHOLD, num_perm=NUM_PERM, num_bands=32)  # bands must divide 128
    kept: list[RMinHash] = []
    ids: list[str] = []
    drops = []
    for key, text in _read(path):
        m = RMinHash(num_perm=NUM_PERM, seed=1)
        m.update(_shingles(normalize(text)))
        best = max(((m.jaccard(kept[c]), c) for c in lsh.query(m)), default=(0.0, None))
        if best[0] >= THRESHOLD:
            drops.append((key, ids[best[1]]))
        else:
            lsh.insert(len(kept), m)
            kept.append(m)
            ids.append(key)
    Path(out).write_text(json.dumps(drops))


def run_system(system: str, data: Path, work: Path) -> dict:
    """One system in a fresh process: its drops, wall and CPU seconds and peak RSS."""
    out = work / f"drops-{system}.json"
    if system == "cleanpipe-cli":
        cmd = [sys.executable, "-m", "cleanpipe", "dedup", str(data), "--field", "text", "--quiet",
               "--out", str(work / "cli-kept.jsonl"), "--rejects", str(work / "cli-rejects.jsonl")]
    else:
        cmd = [sys.executable, __file__, "--child", system, "--data", str(data), "--out", str(out)]
    t = time.perf_counter()
    proc = subprocess.Popen(cmd, cwd=ROOT)
    _, status, usage = os.wait4(proc.pid, 0)
    wall = time.perf_counter() - t
    if status:
        return {"system": system, "error": status}
    if system == "cleanpipe-cli":
        with open(work / "cli-rejects.jsonl", encoding="utf-8") as fh:
            drops = [(r["id"], r["duplicate_of"]) for r in map(json.loads, fh) if r.get("reason") == "duplicate"]
    else:
        drops = json.loads(out.read_text())
    return {"system": system, "wall_s": round(wall, 1), "cpu_s": round(usage.ru_utime + usage.ru_stime, 1),
            "peak_rss_mb": round(usage.ru_maxrss / 1024), "drops": drops}


def score(data: Path, drops: list) -> dict:
    fam, kind = {}, {}
    with data.open(encoding="utf-8") as fh:
        for r in map(json.loads, fh):
            fam[r["id"]], kind[r["id"]] = r["fam"], r["kind"]
    right = [a for a, b in drops if fam[a] == fam[b]]
    planted: dict[str, int] = {}
    for k in kind.values():
        if k:
            planted[k] = planted.get(k, 0) + 1
    caught: dict[str, int] = {}
    for a in right:
        caught[kind[a]] = caught.get(kind[a], 0) + 1
    return {"precision": round(len(right) / max(1, len(drops)), 4),
            "recall": round(sum(caught.values()) / max(1, sum(planted.values())), 4),
            "recall_by_kind": {k: round(caught.get(k, 0) / v, 3) for k, v in sorted(planted.items())}}


def short_pairs(dragnet: Path, work: Path, labels: Path | None) -> None:
    from cleanpipe.config import DedupConfig
    from cleanpipe.stages.dedup import NearDuplicateFilter, normalize

    lines = real_comments(dragnet)
    items = [(f"r{i}", t) for i, t in enumerate(lines)]
    text = dict(items)
    known: dict[tuple[str, str], bool] = {}
    if labels and labels.exists():
        with labels.open(encoding="utf-8") as fh:
            for r in map(json.loads, fh):
                known[(r["a"], r["b"])] = bool(r["copy"])
    print(f"{len(lines)} real comment lines, {sum(len(t.split()) < 10 for t in lines)} of under ten words")
    for name, config in (("before", DedupConfig(strict_words=0)), ("after", DedupConfig())):
        pairs, exact = [], 0
        for v in NearDuplicateFilter(config).filter(items):
            if v.kept or len(text[v.key].split()) >= 10 or len(text[v.duplicate_of].split()) >= 10:
                continue
            if normalize(text[v.key]) == normalize(text[v.duplicate_of]) or v.method == "exact":
                exact += 1
                continue
            pairs.append({"a": text[v.duplicate_of], "b": text[v.key], "similarity": v.similarity})
        with (work / f"short-pairs-{name}.jsonl").open("w", encoding="utf-8") as fh:
            fh.writelines(json.dumps(p, ensure_ascii=False) + "\n" for p in pairs)
        labelled = [known[(p["a"], p["b"])] for p in pairs if (p["a"], p["b"]) in known]
        wrong = labelled.count(False)
        drops = exact + len(pairs)
        print(json.dumps({"config": name, "short_drops": drops, "exact": exact, "near": len(pairs),
                          "labelled": len(labelled), "unlabelled": len(pairs) - len(labelled),
                          "wrong": wrong, "precision": round((drops - wrong - (len(pairs) - len(labelled)))
                                                             / max(1, drops), 4),
                          "precision_if_unlabelled_right": round((drops - wrong) / max(1, drops), 4)}))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dragnet", type=Path, default=Path("/tmp/extbench/data/dragnet_data"))
    ap.add_argument("--work", type=Path, default=Path("/tmp/dedup25"))
    ap.add_argument("--sizes", type=int, nargs="*", default=[22000])
    ap.add_argument("--systems", nargs="*", default=None,
                    help="default: all at 22000; cleanpipe, datasketch bulk and rensa above 100000; "
                         "cleanpipe (command and class) and rensa at 10^6")
    ap.add_argument("--short", action="store_true")
    ap.add_argument("--labels", type=Path, default=None)
    ap.add_argument("--child", help=argparse.SUPPRESS)
    ap.add_argument("--data", help=argparse.SUPPRESS)
    ap.add_argument("--out", help=argparse.SUPPRESS)
    args = ap.parse_args()
    if args.child:
        {"cleanpipe-class": lambda: run_cleanpipe_class(args.data, args.out),
         "datasketch-update": lambda: run_datasketch(args.data, args.out, bulk=False),
         "datasketch-bulk": lambda: run_datasketch(args.data, args.out, bulk=True),
         "rensa": lambda: run_rensa(args.data, args.out)}[args.child]()
        return 0
    args.work.mkdir(parents=True, exist_ok=True)
    if args.short:
        short_pairs(args.dragnet, args.work, args.labels or args.work / "short-labels.jsonl")
        return 0
    for n in args.sizes:
        data = args.work / f"comments-{n}.jsonl"
        if not data.exists():
            build(args.dragnet, n, data)
        systems = args.systems or (
            ["cleanpipe-cli", "cleanpipe-class", "datasketch-update", "datasketch-bulk", "rensa"] if n <= 100_000
            else ["cleanpipe-cli", "cleanpipe-class", "datasketch-bulk", "rensa"] if n <= 300_000
            else ["cleanpipe-cli", "cleanpipe-class", "rensa"])
        for system in systems:
            result = run_system(system, data, args.work)
            drops = result.pop("drops", [])
            if "error" not in result:
                result.update(score(data, drops), n=n, comments_per_s=round(n / result["wall_s"]),
                              comments_per_cpu_s=round(n / max(result["cpu_s"], 1e-9)))
            print(json.dumps(result), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
