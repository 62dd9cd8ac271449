from __future__ import annotations

import json
import random
from collections import Counter
from pathlib import Path

import pytest
from click.testing import CliRunner

from cleanpipe import Config, Pipeline
from cleanpipe.cli import main
from cleanpipe.config import ConfigError, RepeatsConfig, load_config
from cleanpipe.model import Document, Paragraph, Source
from cleanpipe.stages.lines import line_key
from cleanpipe.stages.repeats import RepeatFilter, SiteStats, _site_mix, site_of

PITCH = "Harbour Gazette journalism is funded by readers like you, and every story stays free to read."
WORDS = ("council ferry tram island harbour residents timetable depot budget night road pier school "
         "market winter storm bridge mayor vote plan").split()


def _doc(url: str | None, paragraphs: list[str], path: str = "raw/x.jsonl") -> Document:
    doc = Document(id=str(random.random()), source=Source(path=path, sha256="0", format="jsonl", url=url),
                   paragraphs=[Paragraph(text=t, source_lines=[i + 1, i + 1]) for i, t in enumerate(paragraphs)])
    doc.line_keys = [line_key(t) for t in paragraphs]
    return doc


def _prose(rng: random.Random, n: int = 28) -> str:
    """A sentence of about n words that reads like prose (function words between the nouns)."""
    words: list[str] = []
    while len(words) < n:
        words += f"the {rng.choice(WORDS)} was on the {rng.choice(WORDS)} and it is".split()
    return " ".join(words[:n]).capitalize() + "."


def _stats(docs: list[Document], config: RepeatsConfig) -> SiteStats:
    stats = SiteStats()
    for doc in docs:
        stats.add_document(doc, config)
    return stats


def test_site_of_url_host_or_folder():
    src = Source(path="raw/news/a.txt", sha256="0", format="text", url="https://WWW.Example.org:8080/a?b=1")
    assert site_of(src) == "example.org"
    assert site_of(src, "folder") == "raw/news"
    assert site_of(Source(path="a.txt", sha256="0", format="text")) is None
    assert site_of(Source(path="a.txt", sha256="0", format="text", url="http://[bad")) is None


def test_lines_on_many_pages_of_a_site_are_removed_and_recorded():
    rng = random.Random(1)
    config = RepeatsConfig()
    site_a = [_doc(f"https://a.org/{i}", [_prose(rng), PITCH, _prose(rng)]) for i in range(6)]
    # the same line on other sites' pages does not count towards a.org
    others = [_doc(f"https://b{i}.org/", [PITCH, _prose(rng)]) for i in range(6)]
    rare = _prose(rng)  # on four pages of a.org only: under min_pages
    for doc in site_a[:4]:
        doc.line_keys.append(line_key(rare))
    flt = RepeatFilter(_stats(site_a + others, config), config)
    variant = "harbour gazette JOURNALISM is  funded by readers like you, and every story stays free to read."
    page = flt.process(_doc("https://a.org/new", [_prose(rng), variant, rare]))
    assert PITCH.lower() not in page.text.lower() and rare in page.text and len(page.paragraphs) == 2
    (record,) = page.stages
    assert record["stage"] == "repeats" and record["site"] == "a.org" and record["site_pages"] == 6
    assert record["removed"] == [{"lines": [2, 2], "reason": "site-repeat", "pages": 6, "preview": variant[:80]}]
    elsewhere = flt.process(_doc("https://b0.org/x", [PITCH, _prose(rng)]))
    assert PITCH in elsewhere.text and not elsewhere.stages  # b0.org has one page: nothing to compare
    no_site = flt.process(_doc(None, [PITCH, _prose(rng)]))
    assert PITCH in no_site.text


def test_bar_grows_with_the_site_and_long_lines_never_count():
    rng = random.Random(2)
    config = RepeatsConfig(min_pages=5, min_share=0.3, max_words=20)
    long_line = _prose(rng, 40)
    pages = [_doc(f"https://a.org/{i}", [_prose(rng), PITCH, long_line]) for i in range(7)]
    pages += [_doc(f"https://a.org/x{i}", [_prose(rng)]) for i in range(23)]  # 30 pages: the bar is 9
    flt = RepeatFilter(_stats(pages, config), config)
    assert flt.bar("a.org") == 9
    page = flt.process(_doc("https://a.org/new", [_prose(rng), PITCH, long_line]))
    assert PITCH in page.text and long_line in page.text and not page.stages


def test_near_copies_are_left_alone_but_a_page_of_only_chrome_is_rejected():
    rng = random.Random(3)
    config = RepeatsConfig()
    story = [_prose(rng, 12) for _ in range(4)]
    versions = [_doc(f"https://a.org/v{i}", [*story, _prose(rng, 12)]) for i in range(6)]
    flt = RepeatFilter(_stats(versions, config), config)
    page = flt.process(_doc("https://a.org/v9", [*story, _prose(rng, 12)]))
    assert page.text.startswith(story[0]) and len(page.paragraphs) == 5
    assert page.stages[0]["repeated_paragraphs"] == 4 and "kept" in page.stages[0]
    chrome_only = flt.process(_doc("https://a.org/odd", [story[0]]))
    reject = RepeatFilter.emptied(chrome_only)
    assert reject is not None and reject.reason == "no-content" and reject.extra["removed"][0]["pages"] == 6
    assert RepeatFilter.emptied(page) is None


def _dump(rng: random.Random, pitch_in_article: bool) -> str:
    """A dump whose pitch line sits in the article (kept by the cleaner) or in the footer (dropped)."""
    article = [_prose(rng) for _ in range(3)]
    if pitch_in_article:
        article.insert(2, PITCH)
    footer = ["Share this article", "Facebook", "Home", "About us", "© 2026 Harbour Gazette. All rights reserved.",
              PITCH if not pitch_in_article else "Subscribe"]
    return "\n".join(["Harbour Gazette", "Home", "Local", "", "A story about the harbour", "", *article, "",
                      *footer]) + "\n"


def _crawl(path: Path, n: int, seed: int, host: str = "gazette.example") -> Path:
    rng = random.Random(seed)
    records = [{"url": f"https://{host}/story-{seed}-{i}", "text": _dump(rng, pitch_in_article=i % 3 == 0)}
               for i in range(n)]
    path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    return path


def _texts(out: Path) -> list[str]:
    return [json.loads(line)["text"] for line in (out / "documents.jsonl").read_text().splitlines()]


def test_pipeline_counts_lines_the_cleaner_dropped_elsewhere(tmp_path):
    crawl = _crawl(tmp_path / "crawl.jsonl", 9, seed=4)
    off = Pipeline(Config(workers=1, repeats=RepeatsConfig(enabled=False))).run([str(crawl)], tmp_path / "off")
    assert sum(PITCH in t for t in _texts(tmp_path / "off")) == 3  # the cleaner alone keeps it where it is prose
    summary = Pipeline(Config(workers=1)).run([str(crawl)], tmp_path / "on")
    assert summary.documents == off.documents == 9
    assert not any(PITCH in t for t in _texts(tmp_path / "on"))
    stages = [s for line in (tmp_path / "on" / "documents.jsonl").read_text().splitlines()
              for s in json.loads(line)["provenance"]["stages"] if s["stage"] == "repeats"]
    assert len(stages) == 3 and all(s["spans"][0]["count"] == 9 and s["removed"] == 1 for s in stages)


def test_incremental_runs_count_earlier_pages(tmp_path):
    raw = tmp_path / "raw"
    raw.mkdir()
    _crawl(raw / "night1.jsonl", 3, seed=5)
    Pipeline(Config(workers=1)).run([str(raw)], tmp_path / "out")
    assert sum(PITCH in t for t in _texts(tmp_path / "out")) == 1  # three pages: under the bar
    _crawl(raw / "night2.jsonl", 3, seed=6)
    summary = Pipeline(Config(workers=1)).run([str(raw)], tmp_path / "out")
    assert summary.unchanged_inputs == 1
    # every page is judged on all six, night 1's too (night 1 itself is not stripped again): a full run's records
    records = [json.loads(line) for line in (tmp_path / "out" / "documents.jsonl").read_text().splitlines()]
    assert len(records) == 6
    assert not [r for r in records if PITCH in r["text"]]
    Pipeline(Config(workers=1)).run([str(raw)], tmp_path / "full", use_state=False)
    assert _texts(tmp_path / "full") == _texts(tmp_path / "out")


@pytest.mark.parametrize("flag, kept", [("off", 3), ("url", 0), ("folder", 0)])
def test_cli_site_repeats_option(tmp_path, flag, kept):
    crawl = _crawl(tmp_path / "crawl.jsonl", 9, seed=7)
    result = CliRunner().invoke(main, ["run", str(crawl), "--out", str(tmp_path / "out"), "-j", "1",
                                       "--site-repeats", flag, "--quiet"])
    assert result.exit_code == 0, result.output
    assert sum(PITCH in t for t in _texts(tmp_path / "out")) == kept


def test_counts_are_the_same_however_they_are_folded_and_merged(monkeypatch):
    rng = random.Random(8)
    lines = [f"line {i}" for i in range(40)]
    docs = [_doc(f"https://{rng.choice('ab')}.org/{i}", rng.sample(lines, 12)) for i in range(60)]
    config = RepeatsConfig()
    whole = _stats(docs, config)
    monkeypatch.setattr(SiteStats, "COMPACT_EVERY", 7)  # fold the buffer after every page or so
    folded = _stats(docs, config)
    left, right = _stats(docs[:25], config), _stats(docs[25:], config)
    left.merge(right)
    expected = whole.repeated(2)
    assert expected and folded.repeated(2) == expected and left.repeated(2) == expected
    assert left.pages == whole.pages and sum(whole.pages.values()) == 60
    # a line on 12 of 40 lines of every page: each count is the number of pages of its site that have it
    site_a = [d for d in docs if d.source.url.startswith("https://a.org")]
    first = line_key(lines[0]) ^ int(_site_mix("a.org"))
    assert whole.repeated(1).get(first, 0) == sum(any(p.text == lines[0] for p in d.paragraphs) for d in site_a)


@pytest.mark.parametrize("key, value", [("repeats.site", "domain"), ("repeats.min_pages", 1),
                                        ("repeats.min_share", 1.5), ("repeats.max_removed_share", 0)])
def test_bad_repeats_config_is_refused(key, value):
    with pytest.raises(ConfigError):
        load_config(overrides={key: value})


@pytest.mark.parametrize("site, url, digested", [("url", None, False), ("url", "https://a.org/1", True),
                                                 ("folder", None, True)])
def test_only_pages_with_a_site_digest_their_lines(site, url, digested):
    from cleanpipe.engines.pipeline import DocumentStages

    config = Config(repeats=RepeatsConfig(site=site))
    doc = Document(id="d", source=Source(path="raw/a.txt", sha256="0", format="text", url=url, content_type="text"),
                   content=_dump(random.Random(10), pitch_in_article=True))
    out = DocumentStages(config).process(doc)
    assert bool(out.line_keys) is digested
    assert out.paragraphs  # the page itself is cleaned the same either way


def test_folding_digests_counts_each_as_a_counter_does():
    """The table's merge (binary search, insert) and the buffer's count (sort in place) against a Counter."""
    import numpy as np

    from cleanpipe.stages.repeats import _add_counts, _unique_counts

    rng = np.random.default_rng(3)
    keys, counts = np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
    expected: Counter[int] = Counter()
    for size in (0, 1, 50, 400, 3000):
        digests = rng.integers(-2**63, 2**63 - 1, size=size, dtype=np.int64)
        digests = np.concatenate([digests, digests[: size // 3], keys[:7]])  # repeats, and digests already counted
        expected.update(digests.tolist())
        more_keys, more_counts = _unique_counts(digests.copy())
        assert more_keys.tolist() == sorted(set(digests.tolist()))
        keys, counts = _add_counts(keys, counts, more_keys, more_counts)
        assert keys.tolist() == sorted(expected) and counts.tolist() == [expected[k] for k in sorted(expected)]
