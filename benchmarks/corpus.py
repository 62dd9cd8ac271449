"""Deterministic generator of synthetic scraped text pages with chrome and comments.

Used by the benchmarks only. Pages look like the seeds: a menu, a title,
byline and date, article paragraphs, related posts, a subscribe box, a footer,
and a comment section in which some comments are pasted under many pages and
some are near copies (case, punctuation, a word changed, "+1" added).
"""

from __future__ import annotations

import random
from pathlib import Path

WORDS = ("harbour council ferry tram station night shift residents winter timetable budget engineers "
         "bridge repairs volunteers library roof village school market weather storm coast trains "
         "project company operator passengers report figures month year city street river island "
         "museum boat captain crew deck museum plan grant committee review noise pavement shop").split()
FUNCTION = "the a of to and in that for on with as by at from is was were has had will would".split()
NAMES = ["Ingrid Solberg", "Henrik Aalto", "Tessa Marlow", "Amir Haddad", "Marit Berge", "Jonas Ekberg"]
MENU = ["Home", "Local", "Business", "Transport", "Opinion", "Weather", "Sport"]


def sentence(rng: random.Random, n: int) -> str:
    words = []
    for i in range(n):
        words.append(rng.choice(FUNCTION) if i % 3 == 1 else rng.choice(WORDS))
    if rng.random() < 0.3:
        words.insert(rng.randrange(len(words)), rng.choice(NAMES))
    s = " ".join(words)
    return s[0].upper() + s[1:] + "."


def paragraph(rng: random.Random) -> str:
    return " ".join(sentence(rng, rng.randint(10, 22)) for _ in range(rng.randint(2, 5)))


def near_copy(rng: random.Random, text: str) -> str:
    kind = rng.choice(["case", "punct", "word", "plus1"])
    if kind == "case":
        return text.upper() if len(text) < 60 else text.lower()
    if kind == "punct":
        return text.rstrip(".!") + "!!"
    if kind == "plus1":
        return text + " +1"
    words = text.split()
    words[rng.randrange(len(words))] = rng.choice(WORDS)
    return " ".join(words)


def page(rng: random.Random, i: int, spam: list[str]) -> str:
    lines = ["Coastline Courier"] + [f"  • {m}" for m in MENU] + [""]
    lines += [sentence(rng, rng.randint(5, 9)).rstrip("."), ""]
    lines += [f"By {rng.choice(NAMES)}", f"November {rng.randint(1, 28)}, 2026", ""]
    for _ in range(rng.randint(4, 10)):
        lines += [paragraph(rng), ""]
    lines += ["Share this article", "Facebook", "Twitter", "", "You may also like", ""]
    for _ in range(4):
        lines += [sentence(rng, 6).rstrip(".") + "...", f"November {rng.randint(1, 28)}, 2026", ""]
    lines += ["Newsletter", "Sign up for our newsletter and never miss a story. Unsubscribe at any time.",
              "Subscribe", "", f"{rng.randint(3, 9)} Comments", ""]
    own: list[str] = []
    for _ in range(rng.randint(3, 9)):
        r = rng.random()
        if r < 0.15:
            text = rng.choice(spam)
        elif r < 0.3 and own:
            text = near_copy(rng, rng.choice(own))
        else:
            text = sentence(rng, rng.randint(4, 30))
            own.append(text)
        stamp = f"November {rng.randint(1, 28)}, 2026 at 9:{rng.randint(10, 59)} am"
        lines += [f"{rng.choice(NAMES).split()[0]} says:", stamp, text, "Reply", ""]
    lines += ["Leave a Reply", "Your email address will not be published.", "",
              "  • About us", "  • Privacy Policy", "", "© 2026 Coastline Courier Media. All rights reserved."]
    return "\n".join(lines) + "\n"


def write_corpus(out: Path, n: int, seed: int = 1) -> Path:
    rng = random.Random(seed)
    spam = [sentence(rng, rng.randint(5, 15)) for _ in range(20)]
    out.mkdir(parents=True, exist_ok=True)
    for i in range(n):
        (out / f"page-{i:07d}.txt").write_text(page(rng, i, spam), encoding="utf-8")
    return out
