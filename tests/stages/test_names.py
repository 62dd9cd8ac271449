from __future__ import annotations

from collections import Counter

import pytest

from cleanpipe.config import ConfigError, NamesConfig
from cleanpipe.model import Document, Paragraph, Source
from cleanpipe.stages.names import (
    Merge,
    NameNormalizer,
    NameStats,
    candidate_names,
    find_variants,
    fingerprint,
    is_common_word,
    load_alias_file,
    render_alias_file,
)


def stats_of(counts: dict[str, int]) -> NameStats:
    return NameStats(counts=Counter(counts))


def merged(counts):
    return {m.variant: m.canonical for m in find_variants(stats_of(counts), NamesConfig())}


def refused(counts):
    out: list = []
    find_variants(stats_of(counts), NamesConfig(), out)
    return {(r.variant, r.canonical): r.guard for r in out}


def doc_of(*paragraphs: str, doc_id: str = "d") -> Document:
    return Document(id=doc_id, source=Source(path=doc_id, sha256="0", format="text"),
                    paragraphs=[Paragraph(p) for p in paragraphs])


def run_auto(docs: list[Document]) -> list[Document]:
    """The default (auto) names stage over a corpus: count, cluster, apply."""
    stats = NameStats()
    for doc in docs:
        stats.add_document(doc)
    normalizer = NameNormalizer(find_variants(stats, NamesConfig()))
    return [normalizer.process(doc) for doc in docs]


def test_candidate_names():
    text = "When Chinese AI firm DeepSeek hired Liang Wenfeng, the High-Flyer fund and OPENAI noticed. The end."
    got = candidate_names(text)
    assert "DeepSeek" in got and "Liang Wenfeng" in got and "High-Flyer" in got and "OPENAI" in got
    assert "When" not in got and "The" not in got


def test_fingerprint_ignores_case_space_hyphen_diacritics():
    assert fingerprint("High Flyer") == fingerprint("high-flyer") == fingerprint("HIGH FLYER")
    assert fingerprint("Müller") == fingerprint("Muller")


def test_key_collision_and_edit_distance_merges():
    # the seed pages' variants
    m = merged({"High-Flyer": 5, "High Flyer": 1, "DeepSeek": 50, "DeekSeek": 1, "Deepseek": 2,
                "Liang Wenfeng": 7, "Liang Wenfang": 1, "OpenAI": 10, "Open AI": 1})
    assert m == {"High Flyer": "High-Flyer", "DeekSeek": "DeepSeek", "Deepseek": "DeepSeek",
                 "Liang Wenfang": "Liang Wenfeng", "Open AI": "OpenAI"}


@pytest.mark.parametrize(("canonical", "variant"), [
    ("Bridget Jones", "Bridegt Jones"),      # transposition
    ("Joe Vaccaro", "Joe Vaccrao"),          # transposition
    ("Matthew Brock", "Matthw Brock"),       # dropped letter
    ("Kyle Brain", "Kye Brain"),             # dropped letter, 3 left
    ("Lachlan Ryan", "Lachlan Rya"),         # dropped last letter (not an ending: "Rya" is no word)
    ("Samus Aran", "Samus Arran"),           # doubled letter
    ("Wellness Gesichtsbehandlung", "Wellness Gesichtsbehanldung"),
    ("SpaceX", "Space X"),                   # split token
    ("Hyland", "Hyla nd"),
    ("Apple AirPods", "Apple Airpods"),      # case
    ("Jörg Müller", "Jorg Muller"),          # diacritics
])
def test_real_typos_merge(canonical, variant):
    assert merged({canonical: 6, variant: 1}) == {variant: canonical}


def test_a_typo_repeated_in_rare_names_is_still_a_typo():
    # "Matthw" in three rare names is no name of its own; "Chang" in a frequent name is
    m = merged({"Matthew Brock": 4, "Matthw Brock": 1, "Matthw Gartz": 1, "Matthew Gartz": 5, "Matthw Lee": 1})
    assert m == {"Matthw Brock": "Matthew Brock", "Matthw Gartz": "Matthew Gartz"}


# Guards, each from a replacement the default run made on real pages (issue 19)

def test_shouted_common_words_are_not_names():
    # menus and buttons in capitals made "AND" / "WHAT" the frequent spelling of the word
    assert candidate_names("HOME AND GARDEN | WHAT WE DO | THANK YOU | OPENAI") == ["OPENAI"]
    assert refused({"And": 600, "AND": 300}) == {("AND", "And"): "capitals"}
    # "And" is the canonical whenever both are seen: capitals never win, but "And" is not twice "AND"
    assert merged({"AND": 600, "And": 300}) == merged({"And": 600, "AND": 300}) == {}
    assert merged({"AND": 60, "And": 300, "WHAT": 40, "What": 300}) == {}


def test_auto_merges_never_turn_words_into_capitals():
    menu = "HOME | WHAT WE DO | AND MORE | THANK YOU | WELL BEING | BACK | WILL"
    docs = [doc_of(menu, f"And then {i} people came. What a day. Thanks to all. Well, Black Friday.",
                   doc_id=str(i)) for i in range(30)]
    before = [d.text for d in docs]
    out = run_auto(docs)
    assert [d.text for d in out] == before
    assert all(d.stages[-1]["replacements"] == [] for d in out)


@pytest.mark.parametrize(("counts", "pair", "guard"), [
    ({"Will Smith": 40, "Well Smith": 1}, ("Well Smith", "Will Smith"), "common-word"),   # "Well" -> "WILL"
    ({"Tom Back": 40, "Tom Black": 1}, ("Tom Black", "Tom Back"), "common-word"),       # "Black" -> "BACK"
    ({"Lee Thank": 40, "Lee Thanks": 1}, ("Lee Thanks", "Lee Thank"), "common-word"),   # "Thanks" -> "THANK"
    ({"WILL": 50, "WELL": 2}, ("WELL", "WILL"), "common-word"),
    ({"USB-C": 100, "USB-A": 1}, ("USB-A", "USB-C"), "acronym"),                     # "USB-A" -> "USB-C"
    ({"ISBN": 100, "ISSN": 1}, ("ISSN", "ISBN"), "acronym"),
    ({"Type-C": 100, "Type-A": 1}, ("Type-A", "Type-C"), "first-letter"),
    ({"Type-Cx": 100, "Type-Cy": 1}, ("Type-Cy", "Type-Cx"), "short-part"),
    ({"McFee": 30, "McBee": 1}, ("McBee", "McFee"), "first-letter"),
    ({"MacBook": 30, "MacBooks": 1}, ("MacBooks", "MacBook"), "inflection"),
    ({"Die Beklagte": 30, "Die Beklagten": 1}, ("Die Beklagten", "Die Beklagte"), "inflection"),
    ({"Anna Berg": 40, "Anna Borg": 5}, ("Anna Borg", "Anna Berg"), "own-name"),      # both occur as names
    ({"NEW YORK": 20, "New York": 5}, ("New York", "NEW YORK"), ""),  # capitals never become canonical
    ({"New York": 20, "NEW YORK": 5}, ("NEW YORK", "New York"), "capitals"),
    ({"Van Beethoven": 20, "van Beethoven": 2}, ("van Beethoven", "Van Beethoven"), "headline"),
    ({"Wall Street": 20, "Wall-street": 2}, ("Wall-street", "Wall Street"), "headline"),
    ({"WiFi": 20, "Wifi": 2}, ("Wifi", "WiFi"), "common-word"),
    ({"Online-Shops": 20, "OnlineShops": 1}, ("OnlineShops", "Online-Shops"), "compound"),
    ({"RS-25": 20, "Rs 25": 1}, ("Rs 25", "RS-25"), ""),
    ({"Rs-25": 20, "Rs 25": 1}, ("Rs 25", "Rs-25"), "version"),
    ({"DeepSeek R1": 20, "DeepSeek-R1": 2}, ("DeepSeek-R1", "DeepSeek R1"), "version"),
    ({"Sagen": 20, "Sägen": 1}, ("Sägen", "Sagen"), "single-word"),      # German nouns, from a real page
    ({"Wählerin": 20, "WählerIn": 1}, ("WählerIn", "Wählerin"), "single-word"),
    ({"Space X": 20, "SpaceX": 1}, None, None),  # control: a split name merges (no refusal)
    ({"DeepSeek": 20, "Deepseek": 1}, None, None),  # control: a lone word becomes a CamelCase brand
])
def test_each_guard_refuses_its_real_failure(counts, pair, guard):
    got = refused(counts)
    if pair is None:
        assert got == {} and merged(counts)
    else:
        assert got == ({pair: guard} if guard else {})
        assert pair[0] not in merged(counts) and pair[1] not in merged(counts)


def test_common_words_come_from_wordfreq():
    for word in ("And", "WELL", "thanks", "Black", "three", "wild"):
        assert is_common_word(word)
    for word in ("Bridegt", "Vaccaro", "DeekSeek", "Wenfang", "Caleg"):
        assert not is_common_word(word)


def test_versions_and_models_never_merge():
    assert merged({"iPhone 15": 30, "iPhone 14": 1, "V3": 20, "V2": 1, "GPT-4": 20, "GPT-3": 1,
                   "Python 3": 10, "Python 3.": 1}) == {}
    assert "Python 3" in candidate_names("It runs on Python 3.") and "Python 3." not in candidate_names(
        "It runs on Python 3.")


def test_a_name_inside_a_longer_word_is_left_alone():
    # a real page's "Stu-art’h" (a name) became "Stuart’h" through the merge "Stu-art" -> "Stuart"
    assert candidate_names("He has a name. Stu-art’h sat down; the DeepSeek’s model") == ["DeepSeek"]
    norm = NameNormalizer([Merge("Stu-art", "Stuart", "key-collision"), Merge("DeekSeek", "DeepSeek", "edit-distance")])
    doc = doc_of("Stu-art’h sat down. Stu-art's hat. DeekSeek’s model, O'DeekSeek.")
    norm.process(doc)
    assert doc.text == "Stu-art’h sat down. Stuart's hat. DeepSeek’s model, O'DeekSeek."


def test_auto_merge_rewrites_only_the_spelling_it_was_found_as():
    # were "WELL" -> "WILL" ever found, it must not reach "Well" or "well"
    norm = NameNormalizer([Merge("WELL", "WILL", "edit-distance"), Merge("DeekSeek", "DeepSeek", "edit-distance")])
    doc = doc_of("Well, WELL and well. DeekSeek, DEEKSEEK, Deekseek.")
    norm.process(doc)
    assert doc.text == "Well, WILL and well. DeepSeek, DEEKSEEK, Deekseek."


def test_suggest_shows_the_evidence_and_the_refusals():
    stats = stats_of({"Liang Wenfeng": 7, "Liang Wenfang": 1, "USB-C": 100, "USB-A": 1})
    out: list = []
    merges = find_variants(stats, NamesConfig(), out)
    text = render_alias_file(merges, stats, "", out)
    assert "Liang Wenfang: 1 times vs 7 (edit-distance: substitution 'a' -> 'e' in Wenfang -> Wenfeng)" in text
    assert "USB-A (1 times) -> USB-C (100 times): edit-distance, refused by acronym" in text
    assert '"USB-C"' not in text


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


def test_a_capitalized_word_is_a_name_inside_a_sentence_only():
    got = candidate_names("Thanks for reading. Well, the firm Deepseek said so. Black cars. “Vaccaro agreed.")
    assert got == ["Deepseek"]
    assert candidate_names("It was Black who said so.") == ["Black"]


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


def test_word_lists_are_let_go_and_come_back():
    from cleanpipe.stages import names

    assert names.is_common_word("Well")
    assert names._common_words.cache_info().currsize == 1
    names.release_word_lists()
    assert names._common_words.cache_info().currsize == 0 and names._known_words.cache_info().currsize == 0
    assert names.is_common_word("Well") and not names.is_common_word("Solberg")  # loaded again when needed


def test_known_words_by_hash_answer_as_the_lists_do():
    """The known words are kept as hashes (2 MB, not 25): every word of the lists is known, a made-up one is not."""
    from wordfreq import get_frequency_dict

    from cleanpipe.stages import names

    for lang in ("en", "de", "ru"):
        words = list(get_frequency_dict(lang, "small"))
        assert all(names._is_known_word(word) for word in words[::50])
    made_up = [f"zq{n}xv" for n in range(2000)] + ["rya", "solbergx"]
    assert not any(names._is_known_word(word) for word in made_up)
