from __future__ import annotations

from collections import Counter

import pytest

from cleanpipe.config import ConfigError, NamesConfig
from cleanpipe.model import Document, Paragraph, Source
from cleanpipe.names import (
    Merge,
    NameNormalizer,
    NameStats,
    candidate_names,
    find_variants,
    fingerprint,
    load_alias_file,
)


def stats_of(counts: dict[str, int]) -> NameStats:
    return NameStats(counts=Counter(counts))


def merged(counts):
    return {m.variant: m.canonical for m in find_variants(stats_of(counts), NamesConfig())}


def test_candidate_names():
    text = "When Chinese AI firm DeepSeek hired Liang Wenfeng, the High-Flyer fund and OPENAI noticed. The end."
    got = candidate_names(text)
    assert "DeepSeek" in got and "Liang Wenfeng" in got and "High-Flyer" in got and "OPENAI" in got
    assert "When" not in got and "The" not in got


def test_fingerprint_ignores_case_space_hyphen_diacritics():
    assert fingerprint("High Flyer") == fingerprint("high-flyer") == fingerprint("HIGH FLYER")
    assert fingerprint("Müller") == fingerprint("Muller")


def test_key_collision_and_edit_distance_merges():
    m = merged({"High-Flyer": 5, "High Flyer": 1, "DeepSeek": 50, "DeekSeek": 1,
                "Liang Wenfeng": 7, "Liang Wenfang": 1, "OpenAI": 10, "OPENAI": 1})
    assert m == {"High Flyer": "High-Flyer", "DeekSeek": "DeepSeek", "Liang Wenfang": "Liang Wenfeng",
                 "OPENAI": "OpenAI"}


@pytest.mark.parametrize("counts", [
    {"Wendy Chang": 5, "Marina Zhang": 5},   # different given names
    {"Wendy Zhang": 9, "Wendy Chang": 1, "Chang": 0, "Lee Chang": 3},  # a surname common on its own
    {"GPT-4": 10, "GPT-3": 1},               # versions differ
    {"V3": 10, "R1": 1, "V1": 1},
    {"Anna Berg": 4, "Anna Borg": 3},        # both frequent
    {"Liang Wenfeng": 2, "Liang Wenfang": 1},  # canonical not frequent enough to be sure
])
def test_never_merged(counts):
    assert merged(counts) == {}


def test_alias_file_toml_and_csv(tmp_path):
    toml = tmp_path / "a.toml"
    toml.write_text('[aliases]\n"Liang Wenfeng" = ["Liang Wenfang", "Lian Wenfeng"]\n'
                    '"OpenAI" = { variants = ["Open AI"] }\n')
    assert {(m.variant, m.canonical) for m in load_alias_file(toml)} == {
        ("Liang Wenfang", "Liang Wenfeng"), ("Lian Wenfeng", "Liang Wenfeng"), ("Open AI", "OpenAI")}
    csv = tmp_path / "a.csv"
    csv.write_text("canonical,variant\nHigh-Flyer,High Flyer\n")
    assert [(m.variant, m.canonical) for m in load_alias_file(csv)] == [("High Flyer", "High-Flyer")]
    bad = tmp_path / "bad.toml"
    bad.write_text("x = [")
    with pytest.raises(ConfigError):
        load_alias_file(bad)


def test_normalizer_boundaries_urls_emails_and_offsets():
    norm = NameNormalizer([Merge("High Flyer", "High-Flyer", "alias"), Merge("DeekSeek", "DeepSeek", "alias")])
    doc = Document(id="d", source=Source(path="p", sha256="0", format="text"), paragraphs=[
        Paragraph("DeekSeek and High Flyer, High-Flyer, DeekSeeks, mail deekseek@x.org or www.DeekSeek.com."),
        Paragraph("Again High   Flyer."),
    ])
    norm.process(doc)
    text = doc.text
    assert text.startswith("DeepSeek and High-Flyer, High-Flyer, DeekSeeks, mail deekseek@x.org or www.DeekSeek.com.")
    assert text.endswith("Again High-Flyer.")
    reps = doc.stages[-1]["replacements"]
    for r in reps:
        for a, b in r["offsets"]:
            assert text[a:b] == r["to"]
    assert sum(r["count"] for r in reps) == 3


def test_transliteration_and_initials():
    m = merged({"Jörg Müller": 6, "Joerg Mueller": 1, "James A. Dorn": 4, "J. Dorn": 1, "A. Hayek": 1})
    assert m == {"Joerg Mueller": "Jörg Müller", "J. Dorn": "James A. Dorn"}


def test_initials_stay_when_ambiguous():
    assert merged({"James Dorn": 4, "Jane Dorn": 5, "J. Dorn": 1}) == {}


def test_candidate_names_keep_initials():
    assert "J. Dorn" in candidate_names("As J. Dorn wrote, the fund grew.")
    assert "James A. Dorn" in candidate_names("By James A. Dorn, senior fellow.")


def test_alias_matching_ignores_case_but_not_for_lowercase_words():
    norm = NameNormalizer([Merge("OpenAI", "OpenAI", "alias"), Merge("Open AI", "OpenAI", "alias"),
                           Merge("Apple", "Apple Inc.", "alias")])
    doc = Document(id="d", source=Source(path="p", sha256="0", format="text"), paragraphs=[
        Paragraph("OPEN AI and Open-AI and open ai, an apple a day, APPLE shares.")])
    norm.process(doc)
    assert doc.text == "OpenAI and OpenAI and open ai, an apple a day, Apple Inc. shares."
