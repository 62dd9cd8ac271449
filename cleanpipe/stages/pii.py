"""PII stage: finds e-mail addresses, phone numbers and IP addresses (and, opt-in, payment-card
numbers and IBANs) in a document's title, byline, text and comments, and replaces each with a
placeholder naming its kind (`<EMAIL>`), or in annotate mode only records where they are.

The provenance entry says which field, which kind and where (character offsets into the
field's final text: the placeholder's span when redacted, the value's span when annotated);
it never holds the value. Detection is tuned for precision on prose: phone numbers come from
libphonenumber's matcher (valid numbers only), IP addresses must be public (the stdlib
`ipaddress` decides), cards must pass Luhn and IBANs the ISO 13616 mod-97 check.
"""

from __future__ import annotations

import ipaddress
import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from phonenumbers import Leniency, PhoneNumberMatcher

from cleanpipe.config import PiiConfig
from cleanpipe.model import Document

PLACEHOLDERS = {"email": "<EMAIL>", "phone": "<PHONE>", "ip": "<IP>", "credit_card": "<CREDIT_CARD>",
                "iban": "<IBAN>"}
# overlapping matches: the kind earlier here wins (an e-mail's digits are not a phone number)
PRIORITY = ("email", "iban", "credit_card", "ip", "phone")

# Local part and dotted domain with a letter TLD; "user@localhost" (no TLD) is not an address.
EMAIL = re.compile(
    r"(?<![\w.%+\-])(?<!\w')[A-Za-z0-9](?:[A-Za-z0-9._%+\-']*[A-Za-z0-9_%+\-])?"
    r"@(?:[A-Za-z0-9](?:[A-Za-z0-9\-]{0,61}[A-Za-z0-9])?\.)+([A-Za-z]{2,24})(?![\w\-]|\.\w)")
AT = re.compile("@")
# "logo@2x.png" is an image name, not an address
FILE_TLDS = frozenset("png jpg jpeg gif svg webp avif bmp ico tif tiff pdf js css html htm mp4 mp3 zip".split())

# Both start with what they consume (a digit, a hex digit or colon), not a lookbehind: the regex engine
# then skips ahead to candidate characters instead of testing every position (3x faster on prose).
IPV4 = re.compile(r"\d(?<![\w.]\d)(?<!\d\d)\d{0,2}\.(?:\d{1,3}\.){2}\d{1,3}(?![\w]|\.\d)")
IPV6 = re.compile(r"[0-9A-Fa-f:](?<![\w:.][0-9A-Fa-f:])(?<![0-9A-Fa-f:]{2})[0-9A-Fa-f:]*:[0-9A-Fa-f:]*"
                  r"(?![\w:])")
# a dotted quad right after one of these words is a version or section number, not an address
NOT_AN_ADDRESS_CUE = re.compile(
    r"(?:\b(?:v|ver|version|versions|release|build|firmware|update|patch|android|ios|macos|windows|chrome|"
    r"firefox|python|section|sections|chapter|clause|article|figure|fig|table|step|item|rule|paragraph|no)"
    r"\.?|§|#)\s*$", re.IGNORECASE)
GLOBAL_UNICAST_V6 = ipaddress.ip_network("2000::/3")
CURRENCY_BEFORE = re.compile(r"[$€£¥₹]\s*$")

# 13-19 digits, optionally in groups split by single spaces or hyphens (one kind per number)
CARD = re.compile(r"(?<![\w\-])\d(?:[ \-]?\d){12,18}(?![\w\-]|[.,]\d)")
IBAN = re.compile(r"(?<![\w\-])[A-Z]{2}\d{2}(?: ?[A-Z0-9]{4}){2,7}(?: ?[A-Z0-9]{1,4})?(?![\w\-])")

# The phone matcher is the slow part; it can only find something in a text with 7+ digits close together.
PHONE_DIGITS = re.compile(r"(?:\d\D{0,4}){7}")
PHONE_CUE = re.compile(
    r"\b(?:call|calls|called|calling|phone|phones|tel|telephone|fax|mobile|cell|cellphone|text|sms|whatsapp|"
    r"ph|contact|hotline|helpline|dial|reach)\b[\s.:#]*(?:no\.?\s*|number\s*)?[:\-]?\s*$|[☎📞]\s*$",
    re.IGNORECASE)


@dataclass(frozen=True)
class Span:
    """A found item: its kind and [start, end) in the text it was found in (or, after
    `redact_text`, the placeholder's span in the new text)."""

    kind: str
    start: int
    end: int


def luhn_ok(digits: str) -> bool:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch)
        if i % 2 == 1:
            d = d * 2 - 9 if d > 4 else d * 2
        total += d
    return total % 10 == 0


def _card_prefix_ok(digits: str) -> bool:
    # issuer ranges of the major schemes; a Luhn-valid run outside them is far more likely an ID
    n2, n4 = int(digits[:2]), int(digits[:4])
    return (digits[0] == "4" or 51 <= n2 <= 55 or 2221 <= n4 <= 2720 or n2 in (34, 37, 36, 38, 62, 65)
            or 300 <= int(digits[:3]) <= 305 or digits.startswith("6011") or 644 <= int(digits[:3]) <= 649
            or 3528 <= n4 <= 3589 or n2 in (50, 56, 57, 58, 63, 67))


def iban_ok(iban: str) -> bool:
    """ISO 13616: move the first four characters to the end, letters to 10..35, mod 97 == 1."""
    iban = iban.replace(" ", "").upper()
    if not 15 <= len(iban) <= 34 or not iban[:2].isalpha() or not iban[2:4].isdigit() or not iban.isalnum():
        return False
    rearranged = iban[4:] + iban[:4]
    return int("".join(str(int(ch, 36)) for ch in rearranged)) % 97 == 1


def _public_ip(value: str) -> bool:
    try:
        addr = ipaddress.ip_address(value)
    except ValueError:
        return False
    # private, loopback, link-local, documentation, shared (CGN), reserved and multicast: not a person's;
    # IPv6 outside 2000::/3 (all of global unicast) is unassigned, and "a::b" or "dead::beef" are words
    return addr.is_global and not addr.is_multicast and (addr.version == 4 or addr in GLOBAL_UNICAST_V6)


def _emails(text: str) -> Iterable[Span]:
    # the pattern is tried only around each "@" (a local part has at most 64 characters, a domain 253):
    # scanning whole pages with it costs more than everything else in the stage
    end = 0
    for at in AT.finditer(text):
        if at.start() < end:
            continue
        m = EMAIL.search(text, max(end, at.start() - 65), at.start() + 256)
        if m is None or m.start() > at.start():
            continue
        end = m.end()
        if m.group(1).lower() not in FILE_TLDS:
            yield Span("email", m.start(), m.end())


def _ips(text: str) -> Iterable[Span]:
    for m in IPV4.finditer(text):
        before = text[max(0, m.start() - 20):m.start()]
        if m.group().endswith((".0", ".255")):  # a network or broadcast address, or 1.200.000.0-like numbers
            continue
        if NOT_AN_ADDRESS_CUE.search(before) or CURRENCY_BEFORE.search(before):
            continue
        if _public_ip(m.group()):
            yield Span("ip", m.start(), m.end())
    if ":" in text:
        for m in IPV6.finditer(text):
            if m.group().count(":") >= 2 and _public_ip(m.group()):
                yield Span("ip", m.start(), m.end())


def _cards(text: str) -> Iterable[Span]:
    for m in CARD.finditer(text):
        raw = m.group()
        if " " in raw and "-" in raw:
            continue
        digits = raw.replace(" ", "").replace("-", "")
        if 13 <= len(digits) <= 19 and _card_prefix_ok(digits) and luhn_ok(digits):
            yield Span("credit_card", m.start(), m.end())


def _ibans(text: str) -> Iterable[Span]:
    for m in IBAN.finditer(text):
        value = m.group()
        # the pattern may run on into a following word ("... 9556 ISBN"): drop groups until it checks
        while len(value.replace(" ", "")) >= 15:
            if iban_ok(value):
                yield Span("iban", m.start(), m.start() + len(value))
                break
            if " " not in value:
                break
            value = value.rsplit(" ", 1)[0]


def _phones(text: str, region: str | None) -> Iterable[Span]:
    if not PHONE_DIGITS.search(text):
        return
    # VALID: the number must be a real, assigned range (kills dates, prices, scores); the matcher also
    # skips slash dates and time stamps itself
    grouped = None
    for m in PhoneNumberMatcher(text, region, leniency=Leniency.VALID):
        raw = m.raw_string
        cue = PHONE_CUE.search(text[max(0, m.start - 30):m.start]) is not None
        if raw.isdigit() and not cue:
            # a bare digit run (order number, ID, count) is a phone number only when the text says so
            continue
        if not (cue or raw.lstrip("(").startswith("+")):
            # Digits grouped as the region never writes its numbers are a calendar row, a table's
            # scores or an ID ("permit 2024-0317-22"), unless a cue or an international "+" says
            # phone: libphonenumber's STRICT_GROUPING decides. On the text of 3,085 real pages of four
            # extraction sets this dropped 13 finds, all calendar rows, score tables, dates or versions;
            # alone, without the "+" exception, it also dropped 8 real numbers grouped oddly.
            if grouped is None:
                grouped = {(g.start, g.end) for g in PhoneNumberMatcher(text, region,
                                                                       leniency=Leniency.STRICT_GROUPING)}
            if (m.start, m.end) not in grouped:
                continue
        yield Span("phone", m.start, m.end)


class PiiFinder:
    """The detectors of a config's kinds; `find` returns non-overlapping spans in text order."""

    def __init__(self, config: PiiConfig | None = None):
        self.config = config or PiiConfig()
        self.kinds = [k for k in PRIORITY if k in self.config.kinds]
        self.region = self.config.region.upper() or None

    def find(self, text: str) -> list[Span]:
        if not text:
            return []
        found: list[Span] = []
        for kind in self.kinds:
            if kind == "email":
                if "@" not in text:
                    continue
                spans: Iterable[Span] = _emails(text)
            elif kind == "ip":
                spans = _ips(text)
            elif kind == "credit_card":
                spans = _cards(text)
            elif kind == "iban":
                spans = _ibans(text)
            else:
                spans = _phones(text, self.region)
            for span in spans:
                if not any(span.start < f.end and f.start < span.end for f in found):
                    found.append(span)
        return sorted(found, key=lambda s: s.start)

    def redact(self, text: str, annotate: bool = False) -> tuple[str, list[Span]]:
        spans = self.find(text)
        if annotate or not spans:
            return text, spans
        return replace_spans(text, spans)


def replace_spans(text: str, spans: list[Span]) -> tuple[str, list[Span]]:
    """`text` with each (sorted, non-overlapping) span replaced by its placeholder, and the
    placeholders' spans in the new text."""
    out, out_spans, last, length = [], [], 0, 0
    for span in spans:
        out.append(text[last:span.start])
        length += span.start - last
        placeholder = PLACEHOLDERS[span.kind]
        out.append(placeholder)
        out_spans.append(Span(span.kind, length, length + len(placeholder)))
        length += len(placeholder)
        last = span.end
    out.append(text[last:])
    return "".join(out), out_spans


def _moved(pos: int, edits: list[tuple[int, int, int]], is_end: bool) -> int:
    """Where `pos` of a text lands after the edits (old start, old end, new length), sorted by start."""
    shift = 0
    for start, end, length in edits:
        if end <= pos:
            shift += length - (end - start)
        elif start < pos:
            return start + shift + (length if is_end else 0)  # inside a replaced value: its placeholder
        else:
            break
    return pos + shift


def redact_text(text: str, config: PiiConfig | None = None) -> tuple[str, list[Span]]:
    """`text` with its PII replaced by placeholders (or unchanged in annotate mode), and the spans:
    offsets into the returned text. Mode "off" returns the text and no spans."""
    config = config or PiiConfig()
    if config.mode == "off":
        return text, []
    return PiiFinder(config).redact(text, annotate=config.mode == "annotate")


class PiiRedactor:
    """Last pass-2 stage: redacts (or annotates) PII in title, byline, paragraphs and comments.

    Runs after names, so its offsets point into the record's final `text`; each paragraph is
    redacted on its own, so the record's paragraph spans (computed at write time) stay right.
    In redact mode the previews of removed lines that earlier stages quote are redacted too."""

    name = "pii"

    def __init__(self, config: PiiConfig | None = None):
        self.config = config or PiiConfig()
        self.finder = PiiFinder(self.config)
        self.annotate = self.config.mode == "annotate"

    def _field(self, text: str | None, field_name: str, log: dict[tuple[str, str], list],
               edits: dict[str, list[tuple[int, int, int]]], base: int = 0, old_base: int = 0) -> str | None:
        """`base`/`old_base`: where this text starts in its field after/before this stage (a paragraph
        inside `text`)."""
        if not text:
            return text
        spans = self.finder.find(text)
        if self.annotate or not spans:
            for span in spans:
                log.setdefault((field_name, span.kind), []).append([base + span.start, base + span.end])
            return text
        new, placed = replace_spans(text, spans)
        for span, place in zip(spans, placed, strict=True):
            log.setdefault((field_name, span.kind), []).append([base + place.start, base + place.end])
            edits.setdefault(field_name, []).append((old_base + span.start, old_base + span.end,
                                                     place.end - place.start))
        return new

    def process(self, doc: Document) -> Document:
        if self.config.mode == "off":
            return doc
        log: dict[tuple[str, str], list] = {}
        edits: dict[str, list[tuple[int, int, int]]] = {}
        doc.title = self._field(doc.title, "title", log, edits)
        doc.byline = self._field(doc.byline, "byline", log, edits)
        offset = old_offset = 0
        for para in doc.paragraphs:
            old_length = len(para.text)
            para.text = self._field(para.text, "text", log, edits, offset, old_offset) or ""
            offset += len(para.text) + 2  # paragraphs are joined by a blank line
            old_offset += old_length + 2
        for comment in doc.comments:
            comment.text = self._field(comment.text, f"comments/{comment.id}", log, edits) or ""
        if edits:
            _remap_offsets(doc.stages, edits)
        entry: dict[str, Any] = {"stage": self.name, "mode": self.config.mode, "redactions": [
            {"field": f, "kind": k, "offsets": offsets} for (f, k), offsets in log.items()]}
        if not self.annotate and (previews := self._redact_previews(doc.stages)):
            entry["previews"] = previews
        doc.stages.append(entry)
        return doc

    def _redact_previews(self, stages: list[dict[str, Any]]) -> int:
        """Earlier stages quote the start of what they removed; those quotes must not carry PII
        either. Returns how many previews changed (they have no offsets to record)."""
        changed = 0
        for stage in stages:
            for item in stage.get("removed") or ():
                preview = item.get("preview") if isinstance(item, dict) else None
                if preview:
                    new, spans = self.finder.redact(preview)
                    if spans:
                        item["preview"] = new
                        changed += 1
        return changed



def _remap_offsets(stages: list[dict[str, Any]], edits: dict[str, list[tuple[int, int, int]]]) -> None:
    """Earlier stages' offsets (names: `replacements` with `field` and `offsets`) point into the text
    before placeholders changed its length; move them so they point into the final text too."""
    for stage in stages:
        for item in stage.get("replacements") or ():
            moves = edits.get(item.get("field")) if isinstance(item, dict) else None
            if moves and item.get("offsets"):
                item["offsets"] = [[_moved(s, moves, False), _moved(e, moves, True)] for s, e in item["offsets"]]
