"""Undeclared legacy encodings: does the reader decode real text right, next to the detectors a user would pick?

    python3 benchmarks/charsets.py --sentences /tmp/mlbench/language-testdata/sentences [--trials 8]

Real sentences (the Leipzig-corpora sentences in lingua-py's `language-testdata/sentences`,
one `<iso639-1>.txt` per language, fetched into /tmp as for benchmarks/multilingual.py) of 20
languages are joined to texts of about 60, 200, 600 and 2,000 characters and encoded in the
legacy encodings those languages were written in (windows-125x, ISO-8859-x, KOI8, Shift-JIS,
EUC, GB18030, Big5), with no byte-order mark and no declared charset: what a text dump saved
by an old crawler looks like. A text counts as right when decoding gives it back exactly
(NFC and line ends aside). Texts that encode to plain ASCII are left out.

Columns: cleanpipe's reader (`cleanpipe.io.read.decode_content`), and the detectors alone,
each answer used to decode: chardet (what the reader uses), charset-normalizer (what it used
before), and faust-cchardet (uchardet) when it is installed. CPU ms a text, same run.

Some pairs cannot be told apart from the bytes alone: French in ISO-8859-15 and in
windows-1252 differ only in a few letters (œ, Œ, Ÿ, €) that both decode to something.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
import unicodedata
from collections import Counter
from collections.abc import Callable
from pathlib import Path

CASES = {
    "fr": ["cp1252", "iso8859_15"], "es": ["cp1252"], "de": ["cp1252"], "pt": ["cp1252"], "it": ["cp1252"],
    "nl": ["cp1252"], "pl": ["cp1250", "iso8859_2"], "cs": ["cp1250", "iso8859_2"], "hu": ["cp1250", "iso8859_2"],
    "ru": ["cp1251", "koi8_r"], "uk": ["cp1251", "koi8_u"], "bg": ["cp1251"], "el": ["cp1253", "iso8859_7"],
    "tr": ["cp1254", "iso8859_9"], "he": ["cp1255"], "ar": ["cp1256"], "lt": ["cp1257"],
    "ja": ["shift_jis", "euc_jp"], "zh": ["gb18030", "big5"], "ko": ["euc_kr"],
}
LENGTHS = (60, 200, 600, 2000)


def samples(folder: Path, trials: int, seed: int = 1) -> list[tuple[str, str, int, str, bytes]]:
    rng = random.Random(seed)
    out = []
    for lang, encodings in CASES.items():
        path = folder / f"{lang}.txt"
        if not path.exists():
            continue
        sentences = [line.strip().split("\t")[-1] for line in path.read_text(encoding="utf-8").splitlines()
                     if line.strip()]
        for encoding in encodings:
            for length in LENGTHS:
                for _ in range(trials):
                    text = ""
                    while len(text) < length:
                        text += rng.choice(sentences) + " "
                    try:
                        data = text.encode(encoding)
                    except UnicodeEncodeError:
                        continue
                    if not data.isascii():
                        out.append((lang, encoding, length, text.strip(), data))
    return out


def detector_decoder(detect: Callable[[bytes], str | None]) -> Callable[[bytes], str]:
    def decode(data: bytes) -> str:
        found = detect(data)
        return data.decode(found) if found else ""
    return decode


def decoders() -> dict[str, Callable[[bytes], str]]:
    from cleanpipe.io.read import decode_content

    out: dict[str, Callable[[bytes], str]] = {"cleanpipe reader": lambda data: decode_content(data).text}
    import chardet
    out[f"chardet {chardet.__version__} (all eras)"] = detector_decoder(lambda data: chardet.detect(data)["encoding"])
    try:
        import charset_normalizer
    except ImportError:
        pass
    else:
        def normalizer(data: bytes) -> str | None:
            best = charset_normalizer.from_bytes(data).best()
            return best.encoding if best else None
        out[f"charset-normalizer {charset_normalizer.__version__}"] = detector_decoder(normalizer)
    try:
        import cchardet
    except ImportError:
        pass
    else:
        out[f"faust-cchardet {cchardet.__version__}"] = detector_decoder(lambda data: cchardet.detect(data)["encoding"])
    return out


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--sentences", type=Path, required=True)
    parser.add_argument("--trials", type=int, default=8, help="texts per language, encoding and length")
    args = parser.parse_args()
    texts = samples(args.sentences, args.trials)
    if not texts:
        print(f"no sentence files in {args.sentences}", file=sys.stderr)
        return 2
    print(f"{len(texts)} texts\n")
    print("| decoder | " + " | ".join(f"wrong, ~{n} chars" for n in LENGTHS) + " | wrong, all | ms a text |")
    print("|---|" + "---|" * (len(LENGTHS) + 2))
    worst: dict[str, Counter[tuple[str, str]]] = {}
    for name, decode in decoders().items():
        wrong: Counter[int] = Counter()
        total: Counter[int] = Counter()
        misses: Counter[tuple[str, str]] = Counter()
        started = time.process_time()
        for lang, encoding, length, text, data in texts:
            total[length] += 1
            try:
                got = unicodedata.normalize("NFC", decode(data)).replace("\r\n", "\n").strip()
            except Exception:  # a detector's answer that cannot decode the bytes is a wrong answer
                got = None
            if got != unicodedata.normalize("NFC", text):
                wrong[length] += 1
                misses[(lang, encoding)] += 1
        ms = (time.process_time() - started) / len(texts) * 1000
        cells = " | ".join(f"{wrong[n]}/{total[n]}" for n in LENGTHS)
        print(f"| {name} | {cells} | {sum(wrong.values())}/{len(texts)} | {ms:.2f} |")
        worst[name] = misses
    print()
    for name, misses in worst.items():
        print(f"{name}: most missed (language, encoding): {misses.most_common(6)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
