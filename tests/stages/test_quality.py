"""Quality signals on small hand-written texts (values worked out by hand), the filters, the stage."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cleanpipe.config import Config, ConfigError, QualityConfig, load_config
from cleanpipe.model import Comment, Document, Paragraph, Reject, Source
from cleanpipe.stages.quality import QualityFilter, quality_rejects, rules_for, text_signals, words


def test_words_across_scripts() -> None:
    # punctuation runs are one token; CJK gives one word per character; inner ' and - stay
    assert words("Don't stop... 東京は 3.5 well-known #tag") == [
        "Don't", "stop", "...", "東", "京", "は", "3.5", "well-known", "#", "tag"]
    assert words("") == []


def test_gopher_quality_signals() -> None:
    text = "the cat and the dog\n- a list item...\n#tag"
    # tokens: the cat and the dog - a list item ... # tag = 12; with a letter or digit: 9
    s = text_signals(text, "en")
    assert s["words"] == 9
    assert s["mean_word_length"] == 3.0  # (3+3+3+3+3+1+4+4+3) / 9
    assert s["hash_word_ratio"] == round(1 / 12, 6)
    assert s["ellipsis_word_ratio"] == round(1 / 12, 6)
    assert s["bullet_lines"] == round(1 / 3, 6)
    assert s["ellipsis_lines"] == round(1 / 3, 6)
    assert s["alpha_words"] == 0.75  # 9 of 12 tokens have a letter
    assert text_signals("The of and zebra the giraffe", "en")["stop_words"] == 3  # distinct: the, of, and
    assert text_signals("the of and", "xx")["stop_words"] is None  # no list: the rule cannot fire


def test_gopher_repetition_signals() -> None:
    s = text_signals("alpha beta\nalpha beta\ngamma", "en")
    assert s["dup_lines"] == round(1 / 3, 6)
    assert s["dup_line_chars"] == 0.4  # "alpha beta": 10 of 27 characters less 2 line breaks
    assert s["dup_paragraphs"] == 0.0
    s = text_signals("one\n\none\n\ntwo", "en")
    assert s["dup_paragraphs"] == round(1 / 3, 6)
    assert s["dup_paragraph_chars"] == round(3 / 13, 6)
    # (a, b) three times: 2 chars x 3 over 13 characters
    assert text_signals("a b a b a b c", "en")["top_2gram_chars"] == round(6 / 13, 6)
    # a 2-gram seen once is no repetition ("Great post" is not spam)
    assert text_signals("great post", "en")["top_2gram_chars"] == 0.0
    # the second "one two three four five" repeats the first: 3+3+5+4+4 = 19 of 51 characters
    s = text_signals("one two three four five one two three four five six", "en")
    assert s["dup_5gram_chars"] == round(19 / 51, 6)
    assert s["dup_6gram_chars"] == 0.0


def test_c4_signals() -> None:
    text = ("Hello world this is fine.\nClick here\nEnable javascript to see this page.\n"
            "Read our privacy policy today.\nAnother good line here! It has two sentences.")
    s = text_signals(text, "en")
    assert s["c4_punct_lines"] == 0.8  # "Click here" has no terminal punctuation
    assert s["c4_javascript_lines"] == 1
    assert s["c4_policy_lines"] == 1
    assert s["c4_sentences"] == 3  # in the kept lines 1 and 5
    assert s["c4_lorem_ipsum"] == 0 and s["c4_curly_bracket"] == 0
    s = text_signals("Lorem ipsum dolor sit amet.\nThe code is {a: 1} here.\nvar x = {a: 1};", "en")
    assert s["c4_lorem_ipsum"] == 1 and s["c4_curly_bracket"] == 1
    # only lines C4 keeps count: code without terminal punctuation does not drop the page
    assert text_signals("var x = {a: 1};\nA fine line of prose here.", "en")["c4_curly_bracket"] == 0


def test_fineweb_signals() -> None:
    long1 = "This is a long enough line that ends with a period."
    long2 = "Another line without any ending punctuation at all"
    text = "\n".join([long1, "short", "short", long2])
    s = text_signals(text, "en")
    assert s["punct_lines"] == 0.25
    assert s["short_lines"] == 0.5
    assert s["dup_line_chars"] == round(5 / (len(text) - 3), 6)
    assert s["list_lines"] == round(4 / 21, 6)  # 4 lines, 11 + 1 + 1 + 8 words
    # a closing quote or bracket is not a sentence end for FineWeb; 。 and । are
    assert text_signals('He said "yes."\n(see above)\n東京です。\nयह है।', "en")["punct_lines"] == 0.5


def _doc(text: str, comments: list[str] | None = None) -> Document:
    return Document(id="d1", source=Source(path="p.txt", sha256="0", format="text"),
                    paragraphs=[Paragraph(text=p) for p in text.split("\n\n")],
                    comments=[Comment(id=f"c{i}", text=t) for i, t in enumerate(comments or [])])


PROSE = ("The harbour authority opened the new ferry terminal on Monday after two years of work. "
         "Passengers can now buy tickets at the gate, and the waiting room has space for three hundred people. "
         "The mayor said that the project was finished on time and within its budget. "
         "Local businesses hope that the extra visitors will bring more trade to the old town in summer.")


PROSE2 = ("Ferries will leave every twenty minutes from early morning until late at night, with fewer on Sundays. "
          "A second phase, with a covered bridge to the railway station, is planned for next year. Some residents "
          "of the waterfront complained about noise from the building site, which often began before seven.")


def _english(text: str) -> tuple[str, float]:
    return ("de", 0.99) if "der" in text.split() else ("en", 0.9)


def test_annotate_drops_nothing_and_stores_signals() -> None:
    stage = QualityFilter(QualityConfig(), identify=_english)
    doc = stage.process(_doc("tiny", ["spam spam spam spam"]))
    assert isinstance(doc, Document)
    assert doc.quality is not None and doc.quality["words"] == 1 and doc.quality["language"] == "en"
    assert doc.quality["comments_language"] == "en"
    assert len(doc.comments) == 1


def test_preset_rejects_with_rule_value_and_threshold() -> None:
    stage = QualityFilter(QualityConfig(mode="gopher"), identify=_english)
    rej = stage.process(_doc("Too short to be a page."))
    assert isinstance(rej, Reject)
    assert (rej.kind, rej.reason) == ("document", "quality")
    assert rej.extra == {"rule": "words", "value": 6, "threshold": 50, "bound": "min", "preset": "gopher"}
    assert isinstance(stage.process(_doc(PROSE)), Document)


def test_custom_thresholds_override_the_preset() -> None:
    cfg = QualityConfig(mode="gopher", min={"words": 10.0})
    rules = {(r.signal, r.bound): r.threshold for r in rules_for(cfg)}
    assert rules[("words", "min")] == 10.0 and rules[("words", "max")] == 100_000
    custom = QualityConfig(mode="custom", max={"short_lines": 0.5})
    assert [(r.signal, r.threshold) for r in rules_for(custom)] == [("short_lines", 0.5)]
    assert rules_for(QualityConfig(min={"words": 10.0})) == ()  # annotate never drops


def test_languages_filter_and_score() -> None:
    stage = QualityFilter(QualityConfig(languages=["en"]), identify=_english)
    rej = stage.process(_doc("der " + PROSE))
    assert isinstance(rej, Reject) and rej.reason == "language"
    assert (rej.extra["rule"], rej.extra["value"], rej.extra["threshold"]) == ("languages", "de", ["en"])
    strict = QualityFilter(QualityConfig(languages=["en"], min_language_score=0.95), identify=_english)
    rej = strict.process(_doc(PROSE))
    assert isinstance(rej, Reject) and rej.extra["rule"] == "min_language_score" and rej.extra["value"] == 0.9


def test_comments_judged_one_by_one() -> None:
    stage = QualityFilter(QualityConfig(mode="gopher", languages=["en"]), identify=_english)
    spam = "buy cheap pills buy cheap pills buy cheap pills now"
    german = "der Artikel ist sehr gut und ich habe viel gelernt heute"
    doc = stage.process(_doc(PROSE, ["Great post, thanks!", spam, german]))
    assert isinstance(doc, Document)
    assert [c.text for c in doc.comments] == ["Great post, thanks!"]
    rejects = quality_rejects(doc)
    assert [(r.kind, r.reason, r.extra["id"], r.extra["rule"]) for r in rejects] == [
        ("comment", "quality", "c1", "top_2gram_chars"), ("comment", "language", "c2", "languages")]


def test_config_table_is_checked(tmp_path: Path) -> None:
    good = tmp_path / "q.toml"
    good.write_text('[quality]\nmode = "fineweb"\nlanguages = ["en", "de"]\nmax = { short_lines = 0.5 }\n')
    cfg = load_config(good)
    assert cfg.quality.mode == "fineweb" and cfg.quality.max == {"short_lines": 0.5}
    for body in ('[quality]\nmode = "strict"\n', '[quality]\nmin = { nonsense = 1 }\n',
                 '[quality]\nlanguages = "en"\n', '[quality]\nmin_language_score = "high"\n'):
        good.write_text(body)
        with pytest.raises(ConfigError):
            load_config(good)
    with pytest.raises(ConfigError):
        Config(quality=QualityConfig(mode="nope")).validate()
    with pytest.raises(ConfigError, match="languages"):
        Config(quality=QualityConfig(mode="off", languages=["en"])).validate()


def test_record_carries_quality() -> None:
    doc = _doc(PROSE)
    doc.quality = {"words": 3}
    assert Document.from_dict(json.loads(json.dumps(doc.to_dict()))).quality == {"words": 3}


HTML_LINKS = ("<html><head><title>Archive</title></head><body><main><h1>Archive of stories about the harbour</h1>"
              "<p>Every story we published about the harbour ferries, trams and the town quay over the last ten "
              "years, newest first, with links.</p><ul>{}</ul></main></body></html>")


def test_end_to_end_preset_drops_salad_links_and_german(tmp_path: Path) -> None:
    raw = tmp_path / "raw"
    raw.mkdir()
    (raw / "article.txt").write_text("Harbour ferries\n\n" + PROSE + "\n\n" + PROSE2 + "\n")
    vocab = "purple quantum banana elephant cathedral whisper gravel orbit lantern spoon tundra velvet".split()
    salad = [" ".join(vocab[(i * 7 + j * 5) % len(vocab)] for j in range(30)).capitalize() + "." for i in range(5)]
    (raw / "salad.txt").write_text("Word salad\n\n" + "\n\n".join(salad) + "\n")
    items = "".join(f'<li><a href="/archive/{i}">Harbour ferries and trams, part {i}: the full story from our '
                    f'archive</a></li>' for i in range(30))
    (raw / "links.html").write_text(HTML_LINKS.format(items))
    german = ("Die Hafenbehörde hat am Montag nach zwei Jahren Bauzeit das neue Fährterminal eröffnet. "
              "Fahrgäste können jetzt ihre Karten direkt am Tor kaufen, und der Warteraum bietet Platz für "
              "dreihundert Menschen. Der Bürgermeister sagte, dass das Projekt pünktlich und im Rahmen des "
              "Budgets fertig wurde. Die Geschäfte am Hafen hoffen auf mehr Besucher im Sommer.")
    german2 = ("Die Fähren fahren von früh morgens bis spät in die Nacht alle zwanzig Minuten, sonntags seltener. "
               "Eine zweite Bauphase mit einer überdachten Brücke zum Bahnhof ist für das nächste Jahr geplant.")
    (raw / "german.txt").write_text("Neue Fähren\n\n" + german + "\n\n" + german2 + "\n")
    out = tmp_path / "out"
    proc = subprocess.run([sys.executable, "-m", "cleanpipe", "run", str(raw), "--out", str(out), "--no-state",
                           "-q", "-j", "1", "--quality", "gopher", "--languages", "en"],
                          capture_output=True, text=True)
    assert proc.returncode == 0, proc.stderr
    docs = [json.loads(line) for line in (out / "documents.jsonl").read_text().splitlines()]
    assert [Path(d["source"]["path"]).name for d in docs] == ["article.txt"]
    assert docs[0]["quality"]["language"] == "en" and docs[0]["quality"]["words"] > 50
    rejects = {Path(r["path"]).name: r for r in map(json.loads, (out / "rejects.jsonl").read_text().splitlines())}
    # the schema's reject: the rule, value and threshold under `quality`, as text
    salad, links, german = (rejects[n]["quality"] for n in ("salad.txt", "links.html", "german.txt"))
    assert (rejects["salad.txt"]["reason"], salad["rule"]) == ("quality", "stop_words")
    assert salad["value"] == "0" and salad["threshold"] == "2"
    # bullets, commas, colons and numbers: under 80% of its tokens have a letter (Gopher's first rule to fire)
    assert (rejects["links.html"]["reason"], links["rule"]) == ("quality", "alpha_words")
    assert float(links["value"]) < float(links["threshold"]) == 0.8
    assert (rejects["german.txt"]["reason"], german["value"]) == ("language", "de")
    assert all(r["kind"] == "document" for r in rejects.values())
