"""PII stage: each kind found and redacted, the look-alikes left alone, provenance without values."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from cleanpipe.config import ConfigError, PiiConfig, load_config
from cleanpipe.io.write import document_record
from cleanpipe.model import Comment, Document, Paragraph, Source
from cleanpipe.stages.pii import PiiFinder, PiiRedactor, iban_ok, luhn_ok, redact_text
from tests.conftest import NEWS_DUMP, ROOT

ALL_KINDS = PiiConfig(kinds=["email", "phone", "ip", "credit_card", "iban"])

FOUND = [  # (text, kind, value)
    ("Write to jane.doe@example.org with tips.", "email", "jane.doe@example.org"),
    ("Contact: <m.o'neil+news@mail.example.co.uk>.", "email", "m.o'neil+news@mail.example.co.uk"),
    ("'quoted@example.com' is still an address", "email", "quoted@example.com"),
    ("Call the desk at (415) 555-2671 before noon.", "phone", "(415) 555-2671"),
    ("Our London office: +44 20 7946 0958, weekdays.", "phone", "+44 20 7946 0958"),
    ("Toll free 1-800-273-8255 any time.", "phone", "1-800-273-8255"),
    ("Phone: 2024561111", "phone", "2024561111"),
    ("Reach the embassy on +971 50 55 23215 (mobile).", "phone", "+971 50 55 23215"),  # grouped oddly, with "+"
    ("The requests came from 93.184.216.34 overnight.", "ip", "93.184.216.34"),
    ("Resolver 2606:4700:4700::1111 answered.", "ip", "2606:4700:4700::1111"),
    ("Card 4111 1111 1111 1111 was charged.", "credit_card", "4111 1111 1111 1111"),
    ("Card 5500-0000-0000-0004 was charged.", "credit_card", "5500-0000-0000-0004"),
    ("Pay to GB82 WEST 1234 5698 7654 32 by Friday.", "iban", "GB82 WEST 1234 5698 7654 32"),
    ("IBAN DE89370400440532013000.", "iban", "DE89370400440532013000"),
    ("IBAN ES91 2100 0418 4502 0005 1332 ISBN 978-3-16-148410-0.", "iban", "ES91 2100 0418 4502 0005 1332"),
]

PLACEHOLDER = {"email": "<EMAIL>", "phone": "<PHONE>", "ip": "<IP>", "credit_card": "<CREDIT_CARD>",
               "iban": "<IBAN>"}

NOT_PII = [
    "The deadline is 2024-11-30, or 11/30/2024 in American style, or 30.11.2024 in German.",
    "Doors open at 10:30 and the count ended at 23:59:59 UTC.",
    "It costs $1,234.56 now, € 1.234,56 in Berlin and ¥123,456,789 in Tokyo.",
    "Upgrade to version 1.2.3.4 of the app; v2.10.3.1 fixed the bug; see section 4.1.2.3.",
    "ISBN 978-3-16-148410-0 and ISBN-13: 9783161484100 and ISSN 2283-5474.",
    "Beverly Hills, CA 90210 and 90210-1234.",
    "The square sits at 48.8566, 2.3522 (or 48.856614, 2.352222).",
    "Routers answer on 192.168.1.1, 10.0.0.1 or 127.0.0.1; the docs use 203.0.113.5 and 198.51.100.7 and 2001:db8::1.",
    "Ping ::1 or 0.0.0.0, broadcast 255.255.255.255; in C++ a::b and dead::beef are not addresses.",
    "In code: ssh user@localhost, then open logo@2x.png; follow @cleanpipe.",
    "The city has 8,336,817 people; the fund holds 1,234,567,890 dollars.",
    "Order no. 12345678901 shipped; the score was 24-17 and then 3-2.",
    "Seasons 2015, 2016 and 2017 and 2018-2019 were the best.",
    "Card-like 4111 1111 1111 1112 fails Luhn; GB83 WEST 1234 5698 7654 32 fails mod-97.",
    "The lottery numbers were 14 11 6 15 and 18 22 13 17.",
    # digits a US number is never grouped as: an ID, a calendar's row, a table's scores
    "The permit, numbered 2024-0317-22, was approved in March.",
    "Mo Tu We Th Fr\n27  28  29  30  31",
    "Won 51  59  .463  14.5 behind the leaders.",
]


@pytest.mark.parametrize(("text", "kind", "value"), FOUND)
def test_each_kind_is_found_and_redacted(text, kind, value):
    spans = PiiFinder(ALL_KINDS).find(text)
    assert [(s.kind, text[s.start:s.end]) for s in spans] == [(kind, value)]
    new, out = redact_text(text, ALL_KINDS)
    assert value not in new and PLACEHOLDER[kind] in new
    assert [new[s.start:s.end] for s in out] == [PLACEHOLDER[kind]]
    assert new == text.replace(value, PLACEHOLDER[kind])


@pytest.mark.parametrize("text", NOT_PII)
def test_look_alikes_are_left_alone(text):
    assert PiiFinder(ALL_KINDS).find(text) == []
    assert redact_text(text, ALL_KINDS) == (text, [])


def test_cards_and_ibans_are_opt_in():
    text = "Card 4111 1111 1111 1111, IBAN DE89370400440532013000, mail a.b@example.com."
    new, spans = redact_text(text)  # default kinds
    assert new == "Card 4111 1111 1111 1111, IBAN DE89370400440532013000, mail <EMAIL>."
    assert [s.kind for s in spans] == ["email"]


def test_checksums():
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")
    assert iban_ok("GB82 WEST 1234 5698 7654 32") and iban_ok("DE89370400440532013000")
    assert not iban_ok("GB83WEST12345698765432") and not iban_ok("GB82WEST1234")


def test_phone_region_decides_national_numbers():
    text = "Ring the office on 020 7946 0958 today."
    assert redact_text(text, PiiConfig(region="US"))[1] == []
    new, spans = redact_text(text, PiiConfig(region="GB"))
    assert new == "Ring the office on <PHONE> today." and [s.kind for s in spans] == ["phone"]
    # with no region only numbers written with their country code count
    assert redact_text("Call (415) 555-2671 or +1 415 555 2671.", PiiConfig(region=""))[0] == \
        "Call (415) 555-2671 or <PHONE>."


def test_several_matches_and_offsets_in_both_modes():
    text = "Mail x@example.com or call (415) 555-2671; server 93.184.216.34."
    new, spans = redact_text(text)
    assert new == "Mail <EMAIL> or call <PHONE>; server <IP>."
    assert [(s.kind, new[s.start:s.end]) for s in spans] == [("email", "<EMAIL>"), ("phone", "<PHONE>"),
                                                             ("ip", "<IP>")]
    same, found = redact_text(text, PiiConfig(mode="annotate"))
    assert same == text
    assert [text[s.start:s.end] for s in found] == ["x@example.com", "(415) 555-2671", "93.184.216.34"]
    assert redact_text(text, PiiConfig(mode="off")) == (text, [])


def _doc() -> Document:
    return Document(
        id="d1", source=Source(path="p.txt", sha256="0" * 64, format="text"),
        title="Reach us at desk@example.org", byline="Ann Lee (ann@example.org)",
        paragraphs=[Paragraph("First paragraph, nothing personal in it."),
                    Paragraph("Call (415) 555-2671 or mail tips@example.org for more."),
                    Paragraph("The log showed 93.184.216.34 and also 10.0.0.1.")],
        comments=[Comment(id="d1-c0", text="my number is +44 20 7946 0958 call me"),
                  Comment(id="d1-c1", text="great piece")])


VALUES = ["desk@example.org", "ann@example.org", "(415) 555-2671", "tips@example.org", "93.184.216.34",
          "+44 20 7946 0958"]


def test_stage_redacts_every_field_and_records_offsets_into_the_final_text():
    doc = PiiRedactor(PiiConfig()).process(_doc())
    assert doc.title == "Reach us at <EMAIL>" and doc.byline == "Ann Lee (<EMAIL>)"
    assert doc.paragraphs[1].text == "Call <PHONE> or mail <EMAIL> for more."
    assert doc.paragraphs[2].text == "The log showed <IP> and also 10.0.0.1."
    assert doc.comments[0].text == "my number is <PHONE> call me" and doc.comments[1].text == "great piece"
    entry = doc.stages[-1]
    assert entry["stage"] == "pii" and entry["mode"] == "redact"
    record = document_record(doc, {})
    fields = {"text": record["text"], "title": record["title"], "byline": record["byline"],
              "comments/d1-c0": record["comments"][0]["text"]}
    seen = []
    for red in entry["redactions"]:
        for start, end in red["offsets"]:
            seen.append((red["field"], red["kind"], fields[red["field"]][start:end]))
    assert sorted(seen) == sorted([("title", "email", "<EMAIL>"), ("byline", "email", "<EMAIL>"),
                                   ("text", "phone", "<PHONE>"), ("text", "email", "<EMAIL>"),
                                   ("text", "ip", "<IP>"), ("comments/d1-c0", "phone", "<PHONE>")])
    # paragraph spans are computed from the redacted paragraphs, so they still cut `text` right
    for para, span in zip(doc.paragraphs, record["paragraphs"], strict=True):
        assert record["text"][span["start"]:span["end"]] == para.text
    dumped = json.dumps(record)
    assert not any(value in dumped for value in VALUES)


def test_names_offsets_still_point_at_the_names_after_redaction():
    from cleanpipe.stages.names import Merge, NameNormalizer

    doc = Document(id="d2", source=Source(path="p.txt", sha256="0" * 64, format="text"), title=None,
                   paragraphs=[Paragraph("Mail liang.w@example.org or call (415) 555-2671 to reach Liang Wenfang."),
                               Paragraph("Later Liang Wenfang wrote from 93.184.216.34 again, said Liang Wenfang.")],
                   comments=[Comment(id="d2-c0", text="x@example.com says Liang Wenfang is right")])
    doc = NameNormalizer([Merge("Liang Wenfang", "Liang Wenfeng", "edit-distance")]).process(doc)
    doc = PiiRedactor(PiiConfig()).process(doc)
    record = document_record(doc, {})
    names = doc.stages[0]["replacements"]
    texts = {"text": record["text"], "comments/d2-c0": record["comments"][0]["text"]}
    found = [texts[r["field"]][s:e] for r in names for s, e in r["offsets"]]
    assert found == ["Liang Wenfeng"] * 4
    assert record["text"].count("<EMAIL>") == 1 and record["text"].count("<IP>") == 1


def test_previews_of_removed_lines_are_redacted_too():
    doc = _doc()
    doc.stages.append({"stage": "strip", "removed": [
        {"lines": [3, 4], "reason": "outside-article", "preview": "Subscribe: write to news@example.org"},
        {"lines": [9, 9], "reason": "outside-article", "preview": "Share this article"}]})
    out = PiiRedactor(PiiConfig()).process(doc)
    assert [r["preview"] for r in out.stages[0]["removed"]] == ["Subscribe: write to <EMAIL>", "Share this article"]
    assert out.stages[-1]["previews"] == 1
    kept = PiiRedactor(PiiConfig(mode="annotate")).process(_doc_with_preview())
    assert kept.stages[0]["removed"][0]["preview"] == "Subscribe: write to news@example.org"


def _doc_with_preview() -> Document:
    doc = _doc()
    doc.stages.append({"stage": "strip", "removed": [{"preview": "Subscribe: write to news@example.org"}]})
    return doc


def test_annotate_leaves_the_text_and_points_at_the_values():
    original = _doc()
    doc = PiiRedactor(PiiConfig(mode="annotate")).process(_doc())
    assert doc.text == original.text and doc.title == original.title and doc.comments[0].text == original.comments[0].text
    entry = doc.stages[-1]
    assert entry["mode"] == "annotate"
    text_spans = [doc.text[s:e] for r in entry["redactions"] if r["field"] == "text" for s, e in r["offsets"]]
    assert sorted(text_spans) == sorted(["(415) 555-2671", "tips@example.org", "93.184.216.34"])
    assert not any(value in json.dumps(entry) for value in VALUES)


def test_off_does_nothing():
    doc = PiiRedactor(PiiConfig(mode="off")).process(_doc())
    assert doc.title == "Reach us at desk@example.org" and not doc.stages


def test_config_checks():
    with pytest.raises(ConfigError):
        load_config(None, {"pii.mode": "mask"})
    with pytest.raises(ConfigError):
        load_config(None, {"pii.kinds": ["email", "ssn"]})
    with pytest.raises(ConfigError):
        load_config(None, {"pii.region": "XX"})
    assert load_config(None, {"pii.region": ""}).pii.region == ""


def _run(tmp_path: Path, name: str, *args: str) -> dict:
    out = tmp_path / name
    proc = subprocess.run([sys.executable, "-m", "cleanpipe", "run", str(tmp_path / "in"), "--out", str(out),
                           "--no-state", "-q", *args],
                          capture_output=True, text=True, cwd=ROOT, stdin=subprocess.DEVNULL, timeout=300)
    assert proc.returncode == 0, proc.stderr
    (record,) = [json.loads(line) for line in (out / "documents.jsonl").read_text(encoding="utf-8").splitlines()]
    return record


def test_end_to_end_through_the_command(tmp_path):
    contact = ("Readers who saw the work can write to the committee at roof.fund@example.org or call the "
               "library on (415) 555-2671 any weekday before the windows are repaired next spring.")
    page = NEWS_DUMP.replace("What comes next\n", f"{contact}\n\nWhat comes next\n")
    (tmp_path / "in").mkdir()
    (tmp_path / "in" / "page.txt").write_text(page, encoding="utf-8")
    (tmp_path / "cards.toml").write_text('[pii]\nkinds = ["email"]\n', encoding="utf-8")

    record = _run(tmp_path, "redact")
    assert "committee at <EMAIL> or call the library on <PHONE> any" in record["text"]
    assert "roof.fund@example.org" not in json.dumps(record) and "555-2671" not in json.dumps(record)
    entry = record["provenance"]["stages"][-1]
    # the record's stage log: one span per field and kind, the kind as its reason
    assert entry["stage"] == "pii" and {r["reason"] for r in entry["spans"]} == {"email", "phone"}
    for red in entry["spans"]:
        (start, end), = red["offsets"]
        assert red["field"] == "text" and record["text"][start:end] == PLACEHOLDER[red["reason"]]

    annotated = _run(tmp_path, "annotate", "--pii", "annotate")
    assert contact in annotated["text"]
    spans = [annotated["text"][s:e] for r in annotated["provenance"]["stages"][-1]["spans"] for s, e in r["offsets"]]
    assert sorted(spans) == ["(415) 555-2671", "roof.fund@example.org"]

    only_email = _run(tmp_path, "email", "--config", str(tmp_path / "cards.toml"))
    assert "committee at <EMAIL> or call the library on (415) 555-2671 any" in only_email["text"]

    off = _run(tmp_path, "off", "--pii", "off")
    assert contact in off["text"] and all(s["stage"] != "pii" for s in off["provenance"]["stages"])
