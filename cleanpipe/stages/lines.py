"""Line features shared by the text-dump cleaner and the comment finder.

Plain-text dumps have no DOM, so everything here works on one line at a time:
word counts, stop-word density (prose has many function words, menus have
none), sentence endings and keyword cues for site chrome.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache
from itertools import islice

import numpy as np

from cleanpipe.stages.langid import UNKNOWN, identify

WORD = re.compile(r"\w+(?:['’]\w+)*")

# Common English function words; prose is dense in them, navigation is not.
STOPWORDS = frozenset(
    """a about above after again against all also am an and any are as at be because been before being
    below between both but by can could did do does doing down during each few for from further had has
    have having he her here hers herself him himself his how i if in into is it its itself just me more
    most my myself no nor not now of off on once only or other our ours ourselves out over own same she
    should so some such than that the their theirs them themselves then there these they this those
    through to too under until up very was we were what when where which while who whom why will with
    would you your yours yourself yourselves may might must shall one two many much even still yet
    however although though since whether already again ever never who's it's that's there's i'm
    don't didn't can't won't isn't aren't wasn't weren't we're they're you're i've we've""".split()
)

# Function words of other languages common in crawls (our own short lists). A page's stop-word
# ratios use the one list that covers most of its words, so Portuguese prose counts as prose
# and an English menu gets no credit for "de" or "die".
_OTHER_STOPWORDS = {
    "de": """der die das den dem des ein eine einen einem einer eines und oder aber nicht kein keine ist
        sind war waren wird werden wurde wurden hat haben hatte hatten mit von zu zum zur auf aus bei
        nach vor für über unter durch als auch noch nur schon so wie wenn dass es er sie wir ihr ich
        du man sich sein seine ihre ihren im ins an am um bis doch kann können muss mehr sehr hier
        dieser diese dieses bereits sowie gegen ohne""",
    "fr": """le la les un une des du de et ou mais ne pas plus est sont était été être avoir a ont avait
        il elle ils elles nous vous je on se sa son ses leur leurs ce cette ces qui que quoi dont où
        dans sur sous avec pour par en au aux comme aussi très tout tous toute bien sans chez entre""",
    "es": """el la los las un una unos unas y o pero no es son era fue ser estar está están ha han
        había de del al en con por para como más muy sin sobre entre también este esta estos estas
        ese esa su sus se lo le les que quien cual donde cuando yo tu él ella nosotros ellos hay""",
    "pt": """o a os as um uma uns umas e ou mas não é são era foi ser estar está estão tem têm de do da
        dos das no na nos nas em com por para pelo pela como mais muito sem sobre entre também este
        esta esse essa seu sua seus suas se lhe que quem qual onde quando eu você ele ela nós eles""",
    "it": """il lo la i gli le un uno una e o ma non è sono era stato essere ha hanno di del della dei
        delle al alla ai alle nel nella nei con per tra fra come più molto senza su anche questo
        questa quello quella suo sua suoi sue si che chi cui dove quando io tu lui lei noi loro""",
    "nl": """de het een en of maar niet is zijn was waren wordt worden werd heeft hebben had van te tot
        op uit bij naar voor over onder door als ook nog alleen al zo hoe wanneer dat die dit deze
        er hij zij wij ik je u men zich zijn haar hun in aan om met meer zeer hier daar""",
    "id": """yang dan di ke dari ini itu dengan untuk pada adalah dalam tidak akan juga atau ada oleh
        karena saya kita kami mereka dia ia anda bisa sudah telah belum lebih sangat hanya jika
        bahwa seperti saat setelah sebelum agar namun tetapi maka""",
    "ru": """и в во не что он на я с со как а то все она так его но да ты к у же вы за бы по только
        ее мне было вот от меня еще нет о из ему теперь когда даже ну вдруг ли если уже или ни быть
        был была были него до вас нибудь опять уж вам ведь там потом себя ничего ей может они тут
        где есть надо ней для мы тебя их чем была сам чтобы без будто чего раз тоже себе под будет""",
}
STOPWORDS_BY_LANGUAGE: dict[str, frozenset[str]] = {
    "en": STOPWORDS, **{lang: frozenset(words.split()) for lang, words in _OTHER_STOPWORDS.items()}}
# Scripts written without spaces between words: a run of them is one \w+ match, so words are
# estimated from their characters instead (about two characters a word in Chinese and Japanese).
UNSPACED = re.compile(r"[\u3040-\u30ff\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff\u0e00-\u0e7f]")
CHARS_PER_UNSPACED_WORD = 2
# The 256-character blocks UNSPACED's ranges fall in, by code point >> 8 (to the last plane's). Those scripts
# have no case: a page holds one of their characters exactly when its lowercased text does.
_UNSPACED_BLOCKS = np.zeros(0x1100, dtype=bool)
_UNSPACED_BLOCKS[[0x0E, *range(0x30, 0xA0), 0xF9, 0xFA]] = True

BULLET = re.compile(r"^\s*(?:[•·▪►●◦‣∙*\-–—]|\d{1,3}[.)]|[a-z][.)])\s+")
_SENTENCE_CLOSERS = "\"'”’»)]」』）"
# Sentence terminals of the common scripts: Latin/Cyrillic/Greek (Greek's question mark is ";"), CJK full
# and fullwidth forms, Arabic question mark and Urdu full stop, Devanagari danda, Armenian and Ethiopic
# full stops.
_SENTENCE_ENDERS = tuple(".!?…:;。！？．｡؟۔।॥։።")


def ends_sentence(text: str) -> bool:
    """An end mark (. ! ? … : ; 。！？) followed only by closing quotes or brackets."""
    return text.rstrip(_SENTENCE_CLOSERS).endswith(_SENTENCE_ENDERS)


def is_truncated(text: str) -> bool:
    """A line cut off with an ellipsis ("How Many Arrests Were Made? FinCEN...")."""
    return text.rstrip().endswith(("...", "…"))


URL_ONLY = re.compile(r"^(?:https?://|www\.)\S+$", re.I)
EMAIL_ONLY = re.compile(r"^[\w.+-]+@[\w-]+(?:\.[\w-]+)+$")
MONTHS = (r"(?:jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?|"
          r"sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?")
DATE_CORE = (
    rf"(?:\w+day,?\s+)?(?:{MONTHS}\s+\d{{1,2}}(?:st|nd|rd|th)?,?\s+\d{{4}}|\d{{1,2}}(?:st|nd|rd|th)?\s+{MONTHS},?\s+\d{{4}}|"
    rf"\d{{4}}-\d{{2}}-\d{{2}}|\d{{1,2}}[/.]\d{{1,2}}[/.]\d{{2,4}})"
    rf"(?:,?\s*(?:at\s+)?\d{{1,2}}:\d{{2}}(?:\s*[ap]\.?m\.?)?)?"
)
DATE_ONLY = re.compile(
    rf"^(?:(?:posted|published|updated|on)\s*:?\s*)?(?:{DATE_CORE}(?:\s*\w{{2,4}})?|"
    rf"(?:\d+|an?|one)\s+(?:seconds?|minutes?|mins?|hours?|hrs?|days?|weeks?|months?|years?)\s+ago"
    rf"(?:\s+at\s+\d{{1,2}}:\d{{2}}(?:\s*[ap]\.?m\.?)?)?)$",
    re.I,
)
# "Posted on March 3, 2025 by Ann Lee", "By Ann Lee | March 3, 2025", "March 3, 2025 · Ann Lee"
_DATELINE_DATE_FIRST = re.compile(
    rf"^(?:(?:posted|published|updated|written)\s+)?(?:on\s+)?(?P<date>{DATE_CORE})\s*(?:[,|·•—–-]\s*)?"
    rf"(?:by\s+)?(?P<by>[A-Z][^\d|·•]{{1,60}})?$", re.I)
_DATELINE_BY_FIRST = re.compile(
    rf"^(?:(?:posted|published|written)\s+)?by\s+(?P<by>[^\d|·•]{{2,60}}?)\s*(?:[,|·•—–-]|\bon\b)\s*"
    rf"(?P<date>{DATE_CORE})$", re.I)


def parse_dateline(text: str) -> tuple[str | None, str | None] | None:
    """(date, author) of a date/byline line, or None when the line is something else."""
    for pattern in (_DATELINE_BY_FIRST, _DATELINE_DATE_FIRST):
        m = pattern.match(text.strip())
        if m:
            by = (m.group("by") or "").strip(" ,") or None
            return m.group("date").strip(), by
    return None


BYLINE = re.compile(r"^(?:by|written by|words by|author:?)\s+(.{0,80})$", re.I)
NAME_LIKE = re.compile(r"^(?:[A-Z][\w’'-]+|[A-Z]\.)(?:\s+(?:[A-Z][\w’'-]+|[A-Z]\.)){1,3}$")

# Site chrome, by what it is. A short line matching one of these is not article text.
CHROME_CUES: dict[str, re.Pattern[str]] = {
    "copyright": re.compile(r"©|\(c\)\s*\d{4}|\bcopyright\b|all rights reserved", re.I),
    "cookie": re.compile(r"\bcookies?\b|\bconsent\b|\bgdpr\b", re.I),
    "subscribe": re.compile(
        r"\bsubscri(?:be|ption)\b|\bnewsletter\b|\bsign[ -]?up\b|\bopt[ -]?(?:in|out)\b|\bunsubscribe\b|"
        r"\bemail address\b|\binbox\b|\bmembers?[- ]only\b|\bpremium\b|\breceive emails\b|\bspam\b",
        re.I),
    "share": re.compile(r"^(?:share|tweet|pin it|email|print)\b|\bshare (?:this|on)\b|\bfollow us\b|"
                        r"\b(?:facebook|twitter|linkedin|whatsapp|pinterest|reddit|telegram)\b", re.I),
    "navigation": re.compile(r"^(?:home|menu|search|skip to (?:main )?content|back to top|log ?in|sign ?in|"
                             r"register|my account|contact(?: us)?|about(?: us)?|privacy(?: policy)?|"
                             r"terms(?: (?:&|and) conditions| of (?:use|service))?|sitemap|careers|"
                             r"advertise(?: with us)?|faq|help|close|toggle navigation|open menu)$",
                             re.I),
    "ad": re.compile(r"^(?:advertisement|advertising|sponsored(?: content| post)?|ad|ads by \w+|"
                     r"promoted|paid (?:post|content)|partner content)$", re.I),
    "related": re.compile(r"^(?:you (?:may|might) (?:also )?like|related(?: posts| articles| stories| news)?|"
                          r"recent (?:posts|articles|news)|popular (?:posts|articles|now)|most (?:read|popular)|"
                          r"read (?:more|next|also)|more (?:from|stories|news|on)\b.*|recommended(?: for you)?|"
                          r"trending(?: now)?|see also|also read|latest (?:news|posts|articles)|"
                          r"don'?t miss|editor'?s picks?|top stories)\b", re.I),
    "prev-next": re.compile(r"^(?:«\s*)?(?:previous|next|older|newer)(?: post| article| story| entry)?"
                            r"(?:\s*»)?\s*:?$", re.I),
    "tags": re.compile(r"^(?:tags?|filed under|categories|category|topics?)\s*:", re.I),
    "read-time": re.compile(r"^\d+\s*min(?:ute)?s?\s+read$|^\d+\s+views?$", re.I),
    # photo credits: "Photo: Ann Lee/Getty Images", "(Image: Reuters)", "AP Photo/Ann Lee", "Shutterstock"
    "credit": re.compile(r"^(?:(?:main |photo |image )?(?:photo(?:graph)?|image|picture)s?(?: credit| source)?|credit)"
                         r"\s*:|\((?:(?:ap |afp )?photos?|images?|credit|picture)\b[^)]*\)|"
                         r"\b(?:getty images|shutterstock|istock(?:photo)?|ap photo)\b", re.I),
}
# Substrings without which an unanchored cue cannot match: a cheap `in` test saves the regex
# on almost every line. Anchored cues (^...) fail fast and need no prefilter.
_CUE_KEYS: dict[str, tuple[str, ...]] = {
    "copyright": ("©", "(c)", "copyright", "rights reserved"),
    "cookie": ("cookie", "consent", "gdpr"),
    "subscribe": ("subscri", "newsletter", "sign", "opt", "email address", "inbox", "member", "premium",
                  "receive emails", "spam"),
    "share": ("share", "tweet", "pin it", "email", "print", "follow us", "facebook", "twitter", "linkedin",
              "whatsapp", "pinterest", "reddit", "telegram"),
    "credit": ("photo", "image", "picture", "credit", "getty images", "shutterstock", "istock"),
}
_CUE_KEYWORDS = tuple(dict.fromkeys(k for keys in _CUE_KEYS.values() for k in keys))
_KEYWORD_ANY = re.compile("|".join(map(re.escape, _CUE_KEYWORDS)))
# The same test with the keywords that hold another keyword left out ("email address" holds "email"):
# a line holds one of _CUE_KEYWORDS exactly when it holds one of these; one scan of the page each.
_CUE_KEYWORDS_SHORTEST = tuple(k for k in _CUE_KEYWORDS if not any(o != k and o in k for o in _CUE_KEYWORDS))
# The anchored cues (^...) as one pattern: most lines fail it at the first characters. Matched
# against the lowercased line, case-sensitively: in Python's re that is about half the work of re.I.
_ANCHORED_ANY = re.compile("|".join(f"(?:{p.pattern})" for n, p in CHROME_CUES.items() if n not in _CUE_KEYS))
_URL_STARTS = frozenset({"http", "www."})  # URL_ONLY's possible first four characters, lowercased
# Every form DATE_ONLY accepts has a digit or "ago": other lines skip its long alternation.
_MAYBE_DATE = re.compile(r"\d|ago", re.I)
# Cues that also end the article: what follows is teasers, widgets or the footer.
END_CUES = frozenset({"related", "prev-next", "copyright"})

COMMENTS_HEADING = re.compile(
    r"^(?:(?:\d+|no|one|two|three)\s+)?(?:comments?|responses?|replies|reader comments|"
    r"thoughts on\b.*|discussion|join the (?:discussion|conversation)|"
    r"leave a (?:reply|comment)|add (?:a|your) comment|post a comment|what do you think\??)"
    r"(?:\s*\(\d+\))?[\s:»›>→↓]*$|"
    # "34 responses to “Title”", "12 thoughts on “Title”", "Comments (5)"
    r"^\d+\s+(?:comments?|responses?|replies|thoughts)\s+(?:to|on)\b|^comments?\s*\(\d+\)|"
    # "{ 20 comments… read them below or add one }", "100 of 313 comments loaded"
    r"^[{(\[]?\s*\d+\s+(?:of\s+\d+\s+)?(?:comments?|responses?|replies)\b",
    re.I,
)
# "1. James Cannon - October 26, 2012", "Ann Lee | March 3, 2025 at 9:14 am": a name, then when it was
# written. One such line is a byline; several, each followed by a few lines of text, are a comment thread.
COMMENT_STAMP = re.compile(rf"^(?:\d+[.)]\s+)?[^\d\s].{{0,60}}?\s[-–—|·•,]\s*(?:on\s+)?{DATE_CORE}$", re.I)
# "Ann says:", "1. thelastfan says:", "Bob wrote:" -- the first line of a reader comment
COMMENT_AUTHOR = re.compile(
    r"^(?:\d+\.\s+)?(?P<first>[^\s]+).{0,60}?\s+(?:says|said|wrote|writes|commented)\s*:?\s*$", re.I)


_AUTHOR_VERBS = ("says", "said", "wrote", "writes", "commented")  # each COMMENT_AUTHOR match holds one


def comment_author(text: str) -> bool:
    """An "Ann says:" line: a comment's author, named before the verb.

    A name does not begin with a function word: "What the operator says", "Here is what the
    mayor said" and "He said:" are a story's headings and lead-ins to quotes, and two of them
    made the rest of a story a comment thread."""
    if not _may_match(text, _AUTHOR_VERBS):  # the regex's lazy run costs a couple of microseconds a line
        return False
    found = COMMENT_AUTHOR.match(text)
    if found is None:
        return False
    first = found["first"].strip("\"'“‘(").lower().replace("’", "'")
    return first not in STOPWORDS and first.split("'")[0] not in STOPWORDS  # "here's"
# A footer line after which nothing is article text.
FOOTER_END = re.compile(r"all rights reserved|^(?:copyright|©)\s*(?:©\s*)?(?:\d{4}|\w+\s+\d{4})", re.I)


@dataclass(slots=True)
class LineInfo:
    no: int  # first 1-based line number in the decoded content
    end: int  # last line number (a hard-wrapped paragraph spans several)
    text: str  # stripped, wrapped lines joined by a space
    words: int
    stop_ratio: float
    sentence_end: bool
    bullet: bool
    cues: tuple[str, ...]
    truncated: bool  # cut off with an ellipsis (is_truncated)
    footer_end: bool  # a footer line of at most 30 words after which nothing is article text (FOOTER_END)

    @property
    def blank(self) -> bool:  # strip's loops test `not line.text` itself: the property call cost more than the test
        return not self.text


_MAX_CUE_WORDS = 45  # a longer line is prose whatever words it uses (line_cues)


def line_cues(text: str, words: int, keyed: bool | None = None, date_possible: bool | None = None,
              ) -> tuple[str, ...]:
    """Chrome categories a line matches; long prose lines only count when cue-dense.

    `keyed` (the lowercased line holds a cue keyword) and `date_possible` (it holds a
    digit or "ago") are facts a caller may have found for the whole page at once;
    None finds them here.
    """
    if text[:4].lower() in _URL_STARTS and URL_ONLY.match(text):
        return ("url",)
    if "@" in text and EMAIL_ONLY.match(text):
        return ("email",)
    if date_possible is None:
        date_possible = _MAYBE_DATE.search(text) is not None
    if date_possible and DATE_ONLY.match(text):
        return ("date",)
    if words > _MAX_CUE_WORDS:
        return ()  # a line this long is prose whatever words it uses (see the rule below)
    low = text.lower()
    anchored = _ANCHORED_ANY.match(low) is not None
    if keyed is None:
        keyed = _KEYWORD_ANY.search(low) is not None
    if not anchored and not keyed:
        return ()
    hits = {}
    for name, pat in CHROME_CUES.items():
        keys = _CUE_KEYS.get(name)
        if keys is None:
            hits[name] = len(pat.findall(text)) if anchored else 0
        else:
            hits[name] = len(pat.findall(text)) if keyed and any(k in low for k in keys) else 0
    found = tuple(name for name, n in hits.items() if n)
    if not found:
        return ()
    if words <= 12 or (sum(hits.values()) >= 2 and words <= 45) or ("copyright" in found and words <= 25):
        return found
    return ()


def _continues(prev: str, nxt: str) -> bool:
    """True when `nxt` carries on a hard-wrapped sentence from `prev`."""
    return (
        bool(prev) and bool(nxt)
        and nxt[0].islower()
        and not ends_sentence(prev)
        and len(prev.split()) >= 6
        and not BULLET.match(nxt)
        and parse_dateline(prev) is None  # "March 3, 2026 at 9:14 am" then a lowercase comment
    )


_BULLET_MARKS = frozenset("•·▪►●◦‣∙*-–—")


def _bullet(raw: str, stripped: str) -> bool:
    first = stripped[:1]
    if not (first in _BULLET_MARKS or first.isdecimal() or ("a" <= first <= "z" and stripped[1:2] in (".", ")"))):
        return False  # no bullet can start here: skip the regex
    return BULLET.match(raw) is not None


def _most_covering(covers: list[int]) -> int:
    """Which language of STOPWORDS_BY_LANGUAGE covers most words (the first of equals; English for none)."""
    best, best_cover = 0, 0
    for language, cover in enumerate(covers):
        if cover > best_cover:
            best, best_cover = language, cover
    return best




@lru_cache(maxsize=1)
def _word_chars() -> np.ndarray:
    """Which code points of the Basic Multilingual Plane are \\w in a str regex (alphanumeric or _)."""
    table = np.fromiter(map(str.isalnum, map(chr, range(0x10000))), bool, 0x10000)
    table[ord("_")] = True
    return table


@lru_cache(maxsize=1)
def _decimal_chars() -> np.ndarray:
    """Which code points of the Basic Multilingual Plane are \\d in a str regex (Unicode decimal digits)."""
    return np.fromiter(map(str.isdecimal, map(chr, range(0x10000))), bool, 0x10000)


def word_char_flags(codes: np.ndarray) -> np.ndarray:
    """For an array of code points: which are \\w in a str regex."""
    return _lookup(_word_chars(), codes, lambda c: c.isalnum() or c == "_")


def code_points(text: str) -> np.ndarray:
    """The code points of `text`: 16-bit when all are in the Basic Multilingual Plane (nearly every page),
    else 32-bit. Tables of the plane (_word_chars ...) are then indexed without clipping."""
    utf16 = text.encode("utf-16-le")
    if len(utf16) == 2 * len(text):  # no surrogate pair: every character is one 16-bit unit
        return np.frombuffer(utf16, dtype=np.uint16)
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)


def _in_plane(codes: np.ndarray) -> np.ndarray:
    """`codes` as indexes of a table of the Basic Multilingual Plane, code points beyond it clipped to its last."""
    return codes if codes.dtype == np.uint16 else np.minimum(codes, 0xFFFF)


def _lookup(table: np.ndarray, codes: np.ndarray, test: Callable[[str], bool]) -> np.ndarray:
    """table[codes], with code points beyond the table (emoji, rare CJK) asked of `test`."""
    if codes.dtype == np.uint16 and len(table) == 0x10000:
        return table[codes]  # a new array: callers may write to it
    flags = table[np.minimum(codes, len(table) - 1)]
    beyond = np.flatnonzero(codes >= len(table))
    if len(beyond):
        flags[beyond] = [test(chr(c)) for c in codes[beyond].tolist()]
    return flags


_STOPWORD_CHARS_MAX = 10  # the longest stop word
_LETTER_BASE = 65  # digits 1..63 for the stop words' letters, 64 for any other character, 0 past the end
_PLACE_VALUES = _LETTER_BASE ** np.arange(_STOPWORD_CHARS_MAX - 1, -1, -1, dtype=np.int64)


@lru_cache(maxsize=1)
def _stopword_codes() -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Our own lists (STOPWORDS_BY_LANGUAGE) as exact integer codes, a bit per language; see _codes_for."""
    codes = _codes_for(tuple(STOPWORDS_BY_LANGUAGE.values()))
    if codes is None:
        raise ValueError("stop words do not fit 64-bit codes")
    return codes


def _codes_for(lists: tuple[frozenset[str], ...]) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    """Stop words as exact integer codes, so a page's words are looked up without making strings.

    A word of at most ten characters is coded as ten base-65 digits: its characters' letter
    indexes (1..63 for the letters stop words use, 64 for any other), then zeros. Different
    words of that length get different codes (65**10 < 2**63), and a word with a character no
    stop word has gets a code no stop word has. Returns (digit of each BMP code point; sorted
    stop-word codes; for each code, a bit per list that has it), or None when the lists use
    more than 63 letters. Longer words are left out (function words are short).
    """
    words = {w for words in lists for w in words if len(w) <= _STOPWORD_CHARS_MAX}
    letters = sorted(set("".join(words)))
    if len(letters) >= _LETTER_BASE - 1 or any(ord(c) > 0xFFFF for c in letters):
        return None
    digit = np.full(0x10000, _LETTER_BASE - 1, dtype=np.uint8)
    digit[[ord(c) for c in letters]] = np.arange(1, len(letters) + 1)
    languages: dict[int, int] = {}
    for bit, stopwords in enumerate(lists):
        for word in stopwords:
            if len(word) > _STOPWORD_CHARS_MAX:
                continue
            code = sum(int(digit[ord(c)]) * int(place) for c, place in zip(word, _PLACE_VALUES.tolist(), strict=False))
            languages[code] = languages.get(code, 0) | 1 << bit
    known = np.asarray(sorted(languages), dtype=np.int64)
    return digit, known, np.asarray([languages[c] for c in known.tolist()], dtype=np.int64)


# A page's language is identified from its longest lines (chrome is short), up to this many characters.
_LANGUAGE_SAMPLE_CHARS = 600
_LONG_LINE_WORDS = 8  # lines this long make up the page's prose (language sample, function-word shares)
_LANGUAGE_LINE_CHARS = 200
# Below this probability the identification is not trusted: the page keeps the old choice, our list
# that covers most of its words (short or mixed pages, text of no language).
MIN_LANGUAGE_SCORE = 0.5


@lru_cache(maxsize=256)
def packaged_stopwords(language: str) -> frozenset[str] | None:
    """The stopwords-iso list of a language (maintained, 50+ languages), one-word entries lowercased.

    None when the package has no list for it, and for scripts written without spaces (a run
    of their characters is one token, never a listed word).
    """
    import stopwordsiso

    if language in ("zh", "ja", "th", "lo", "km", "my") or not stopwordsiso.has_lang(language):
        return None
    words = frozenset(w.lower() for w in stopwordsiso.stopwords(language) if WORD.fullmatch(w.lower()))
    return words or None


@lru_cache(maxsize=256)
def _packaged_codes(language: str) -> tuple[np.ndarray, np.ndarray, np.ndarray] | None:
    words = packaged_stopwords(language)
    return _codes_for((words,)) if words else None


def page_language(lines: list[str], words: np.ndarray) -> tuple[str, float]:
    """(code, probability) of a page from a sample of its prose-like lines.

    Lines of 8+ words that end a sentence come first, the wordiest first, then other lines
    of 8+ words, then any; each gives at most _LANGUAGE_LINE_CHARS, so one huge line of
    author names or script does not decide alone.
    """
    long = np.flatnonzero(words >= _LONG_LINE_WORDS)
    long = long[np.argsort(-words[long], kind="stable")].tolist()
    sample: list[str] = []
    size = 0
    held: list[int] = []  # long lines without a sentence end, in case the others do not fill the sample
    for group in (long, held, np.flatnonzero((words > 0) & (words < _LONG_LINE_WORDS)).tolist()):
        for i in group:
            if size >= _LANGUAGE_SAMPLE_CHARS:
                break
            if group is long and not ends_sentence(lines[i]):
                held.append(i)
                continue
            sample.append(lines[i][:_LANGUAGE_LINE_CHARS])
            size += len(sample[-1]) + 1
    return identify(" ".join(sample)) if sample else (UNKNOWN, 0.0)


class _PageScan:
    """One lowercased page as an array of code points: words, digits and keywords by physical line.

    The regex equivalents (WORD.findall, \\d, `key in line`) cost one Python call per
    line or per match; here they are numpy passes over the whole page.
    """

    def __init__(self, low: str):
        self.low = low
        self.codes = code_points(low)
        self.newlines = np.flatnonzero(self.codes == 10)
        self.lines = len(self.newlines) + 1

    def line_of(self, positions: np.ndarray | list[int]) -> np.ndarray:
        return np.searchsorted(self.newlines, positions)

    def words(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The page's WORD tokens as (start, end) offsets, and the physical line of each."""
        codes = self.codes
        in_word = word_char_flags(codes)
        # an apostrophe between two word characters joins them ("don't"), as WORD's (?:['’]\\w+)* does
        joins = ((codes[1:-1] == 39) | (codes[1:-1] == 0x2019)) & in_word[:-2] & in_word[2:]
        in_word[1:-1] |= joins
        padded = np.zeros(len(in_word) + 2, dtype=np.int8)  # np.diff's prepend/append cost more than this
        padded[1:-1] = in_word
        edges = padded[1:] - padded[:-1]
        starts, ends = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
        return starts, ends, self.line_of(starts)

    def stopword_languages(self, starts: np.ndarray, ends: np.ndarray,
                           codes: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None) -> np.ndarray:
        """For each token: a bit per language whose stop-word list has it (0 for no stop word).

        `codes` (from _codes_for) gives the lists; by default our own, STOPWORDS_BY_LANGUAGE.
        """
        digit, known, languages = codes or _stopword_codes()
        digits = digit[_in_plane(self.codes)]
        lengths = ends - starts
        candidates = np.flatnonzero((lengths <= _STOPWORD_CHARS_MAX) & (digits[starts] < _LETTER_BASE - 1))
        first, lengths = starts[candidates], lengths[candidates]
        # (token, j): the digit of the token's j-th character, 0 past its end
        at = np.minimum(first[:, None] + np.arange(_STOPWORD_CHARS_MAX), len(digits) - 1)
        spelled = digits[at] * (np.arange(_STOPWORD_CHARS_MAX) < lengths[:, None])
        code = spelled.astype(np.int64) @ _PLACE_VALUES
        # searched in sorted order: numpy's binary search starts each where the last ended (twice as fast here)
        order = np.argsort(code)
        found = np.empty(len(code), dtype=np.intp)
        found[order] = np.searchsorted(known, code[order])
        found = np.minimum(found, len(known) - 1)
        hit = known[found] == code
        bits = np.zeros(len(starts), dtype=np.int64)
        bits[candidates[hit]] = languages[found[hit]]
        return bits

    def lines_with_digits(self) -> np.ndarray:
        found = np.flatnonzero(_lookup(_decimal_chars(), self.codes, str.isdecimal))
        flags = np.zeros(self.lines, dtype=bool)
        flags[self.line_of(found)] = True
        return flags

    def lines_containing(self, keys: tuple[str, ...]) -> np.ndarray:
        """Physical lines whose lowercased text holds any of `keys` (none of which holds a newline)."""
        low, found = self.low, []
        for key in keys:
            at = low.find(key)
            while at >= 0:
                found.append(at)
                at = low.find(key, at + 1)
        flags = np.zeros(self.lines, dtype=bool)
        if found:
            flags[self.line_of(found)] = True
        return flags


def analyse(text: str, declared_language: str | None = None) -> list[LineInfo]:
    """Logical lines with features; hard-wrapped prose lines are joined, keeping their span.

    `declared_language`: the language the page says it is in (an HTML page's `<html lang>`),
    taken without identifying it when our list for it fits the page (see _stop_words).

    Words, function words, digits and cue keywords are found over the whole lowercased
    page at once and counted per line with numpy; per-line Python work is left to what
    only some lines need. (A word never spans a line break, so counts per physical
    line add up to those of the joined logical line.)
    """
    physical = text.split("\n")
    stripped = [line.strip() for line in physical]
    n = len(physical)
    # physical line i carries on the sentence of line i - 1 (a hard wrap)
    continues = [i for i in range(1, n) if stripped[i][:1].islower() and _continues(stripped[i - 1], stripped[i])]

    low = text.lower()  # lowercasing keeps every newline where it was
    page = _PageScan(low)
    starts, ends, token_line = page.words()
    words = np.bincount(token_line, minlength=n)
    is_stop, relative = _stop_words(page, stripped, words, starts, ends, token_line, declared_language)
    stops = np.bincount(token_line[is_stop], minlength=n)
    scale = _relative_scale(words, stops) if relative else 1.0

    # logical lines: (first, last) physical index
    spans: list[tuple[int, int]] = []
    if continues:
        joined_to_previous = set(continues)
        for i in range(n):
            if i in joined_to_previous:
                spans[-1] = (spans[-1][0], i)
            else:
                spans.append((i, i))
    # Cue keywords and "ago" only matter on lines of up to _MAX_CUE_WORDS words (line_cues, _line_facts) whose
    # facts are computed here: the page's prose paragraphs, most of its characters, and the lines _LINE_FACTS
    # has seen (site chrome repeats from page to page) are left out of those searches, all of them when no line
    # needs them. A cache too full for the page is emptied before it, never during it (a line it held when
    # searched stays until its turn); a page longer than the cache fills it and keeps the rest to itself.
    if len(_LINE_FACTS) + n > _LINE_FACTS_MAX:
        _LINE_FACTS.clear()
    short = (words <= _MAX_CUE_WORDS).tolist()
    # a blank line holds no keyword nor digit: searched or not, whichever spares a copy of the page
    searched = [is_short and (not line or raw not in _LINE_FACTS)
                for is_short, line, raw in zip(short, stripped, physical, strict=True)]
    for first, last in spans if continues else ():
        if first != last:  # a joined line's facts are not kept: each of its lines is searched
            searched[first:last + 1] = short[first:last + 1]
    keyed = maybe_date = [False] * n  # lines not searched
    if any(wanted and line for wanted, line in zip(searched, stripped, strict=True)):
        scan = _PageScan("\n".join(line if wanted else "" for line, wanted in zip(
            low.split("\n"), searched, strict=True))) if not all(searched) else page
        keyed = scan.lines_containing(_CUE_KEYWORDS_SHORTEST).tolist()
        maybe_date = (scan.lines_with_digits() | scan.lines_containing(("ago",))).tolist()
    if continues:
        span_starts = np.asarray([a for a, _ in spans])
        words, stops = np.add.reduceat(words, span_starts), np.add.reduceat(stops, span_starts)
    # the regex only where a character of its blocks is (a look-up by each character's block costs a third)
    unspaced = bool(_UNSPACED_BLOCKS[page.codes >> 8].any()) and UNSPACED.search(text) is not None
    result = []
    for k, (word_count, stop_count) in enumerate(zip(words.tolist(), stops.tolist(), strict=True)):
        first, last = spans[k] if continues else (k, k)
        line = stripped[first] if first == last else " ".join(stripped[first:last + 1])
        if not line:
            result.append(LineInfo(first + 1, last + 1, line, 0, 0.0, False, False, (), False, False))
            continue
        stop_ratio = min(1.0, stop_count / word_count * scale) if word_count else 0.0
        if unspaced:
            word_count += len(UNSPACED.findall(line)) // CHARS_PER_UNSPACED_WORD
        if first == last:
            raw = physical[first]
            facts = _LINE_FACTS.get(raw)
            if facts is None:
                facts = _line_facts(raw, line, line, word_count, keyed[first], maybe_date[first])
                if len(_LINE_FACTS) < _LINE_FACTS_MAX:
                    _LINE_FACTS[raw] = facts
        else:  # a key may span the join
            facts = _line_facts(physical[first], stripped[first], line, word_count, None,
                                any(maybe_date[first:last + 1]))
        result.append(LineInfo(first + 1, last + 1, line, word_count, stop_ratio, *facts))
    return result


def _stop_words(page: _PageScan, stripped: list[str], words: np.ndarray, starts: np.ndarray, ends: np.ndarray,
                token_line: np.ndarray, declared: str | None = None) -> tuple[np.ndarray, bool]:
    """Which tokens are function words of the page's language, and whether the list is a packaged one.

    The language is identified from the page's longest lines. Ours (STOPWORDS_BY_LANGUAGE)
    are used for the languages they cover; any other language the stopwords-iso package has
    a list for uses that list, its shares measured relative to the page (_relative_scale);
    a language with neither gets no function words at all, so the cleaner judges its prose
    by length and punctuation (see strip.py) instead of finding none of our function words
    in it. So does a list whose words use more than 63 letters (Greek with its accents,
    Vietnamese, Korean syllables): it cannot be looked up by code, and a look-up per token
    in Python would cost more than the rest of the line analysis. When the identification is unsure, the list
    of ours that covers most of the page's words is used, as before languages were identified.

    A `declared` language with a list of ours is taken without identifying the page (the
    identification is a quarter of the analysis of a short page) when that list finds at
    least _MIN_UNSURE_RATIO function words in the page's longer lines, the share that tells
    a list's own language from look-alike words: a template's wrong `lang="en"` on a page in
    another language finds few English function words, and the page is identified as usual.
    """
    own = list(STOPWORDS_BY_LANGUAGE)
    bits = None
    if declared in OWN_LIST_LANGUAGES:
        bits = page.stopword_languages(starts, ends)
        is_stop = (bits & (1 << own.index(declared))) != 0
        long = words[token_line] >= _LONG_LINE_WORDS
        if long.any() and _share(is_stop[long]) >= _MIN_UNSURE_RATIO:
            return is_stop, False
    language, score = page_language(stripped, words)
    if score >= MIN_LANGUAGE_SCORE and language not in OWN_LIST_LANGUAGES:
        codes = _packaged_codes(language)
        if codes is None:
            return np.zeros(len(starts), dtype=bool), False
        return page.stopword_languages(starts, ends, codes) != 0, True
    if bits is None:
        bits = page.stopword_languages(starts, ends)
    if score >= MIN_LANGUAGE_SCORE:
        # the thresholds and the line model were tuned on these lists' shares (the dev set has English,
        # German, Portuguese, Italian and Russian pages): they stay as they are
        return (bits & (1 << own.index(language))) != 0, False
    chosen = _most_covering([int(np.count_nonzero(bits & (1 << bit))) for bit in range(len(own))])
    is_stop = (bits & (1 << chosen)) != 0
    # An unsure identification that is not the best list's language, and few of that list's words in the
    # page's longer lines: a language none of the lists is for (the share of a few look-alike words
    # would make its prose look like chrome).
    long = words[token_line] >= _LONG_LINE_WORDS
    if own[chosen] != language and long.any() and _share(is_stop[long]) < _MIN_UNSURE_RATIO:
        return np.zeros(len(starts), dtype=bool), False
    return is_stop, False


# The languages whose identified pages use our own list: each puts nine of ten prose samples (100
# Leipzig-corpora paragraphs) above the 0.18 prose bar of is_prose (10th percentile: en 0.36, nl 0.35,
# fr 0.33, es 0.32, de 0.31, pt 0.30, it 0.24, ru 0.23). Our Indonesian list (0.17) does not: Indonesian
# and Malay pages use the packaged list. (All nine still serve pages whose language is unsure.)
OWN_LIST_LANGUAGES = frozenset(STOPWORDS_BY_LANGUAGE) - {"id"}

# The share of function words in prose with our lists (median over 500-sentence samples of the nine
# languages: 0.31-0.43). Packaged lists range from 26 words (Hindi) to 1,298 (English), so their raw
# shares are not comparable with ours or each other; see _relative_scale.
TYPICAL_PROSE_STOP_RATIO = 0.38
_MIN_PACKAGED_RATIO = 0.05  # below this a packaged list does not describe the page's words at all
# Prose in most of our languages has 0.3+ function words in nine samples of ten (see above); text in a
# language none of our lists is for still finds 0.15-0.18 of look-alikes ("a", "i", "e", "te", "le")
_MIN_UNSURE_RATIO = 0.25


def _share(flags: np.ndarray) -> float:
    """flags.mean() (the same float) without numpy's Python-level mean."""
    return np.count_nonzero(flags) / len(flags)


def _relative_scale(words: np.ndarray, stops: np.ndarray) -> float:
    """The factor that puts a packaged list's function-word shares on our lists' scale.

    The page's longer lines are mostly its prose: their share is taken as the language's
    prose share, and lines are measured against it (a menu with no function words stays
    at 0, prose comes out near TYPICAL_PROSE_STOP_RATIO). 0 when the list hardly matches
    any word of the page: it is then no evidence either way, as for a language with no list.
    """
    long = words >= _LONG_LINE_WORDS
    total, found = (int(words[long].sum()), int(stops[long].sum())) if long.any() else (
        int(words.sum()), int(stops.sum()))
    ratio = found / total if total else 0.0
    return TYPICAL_PROSE_STOP_RATIO / ratio if ratio >= _MIN_PACKAGED_RATIO else 0.0


# What a line's own text decides (sentence end, bullet, cues, truncation, footer), by raw line:
# menus, share rows and footers repeat within a page and across a site's pages, so most of a
# crawl's chrome lines are judged once. Cleared when full; each worker process keeps its own.
_LINE_FACTS: dict[str, tuple[bool, bool, tuple[str, ...], bool, bool]] = {}
_LINE_FACTS_MAX = 1 << 16


def _line_facts(raw: str, first: str, line: str, words: int, keyed: bool | None, date_possible: bool,
                ) -> tuple[bool, bool, tuple[str, ...], bool, bool]:
    """`raw` and `first`: the logical line's first physical line as read and stripped; `line`: all of it."""
    truncated = is_truncated(line)
    if keyed is None:
        keyed = _KEYWORD_ANY.search(line.lower()) is not None
    # every FOOTER_END match holds a cue keyword ("rights reserved", "copyright" or "©")
    return (ends_sentence(line) and not truncated, _bullet(raw, first),
            line_cues(line, words, keyed, date_possible), truncated,
            keyed and words <= 30 and FOOTER_END.search(line) is not None)


def line_key(text: str) -> int:
    """A signed 64-bit digest of a line's words, case and spacing ignored: lines compared across pages."""
    digest = hashlib.blake2b(" ".join(text.casefold().split()).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big", signed=True)


def is_prose(line: LineInfo, min_words: int = 12, stopword_language: bool = True) -> bool:
    """A line that reads as running text on its own."""
    if line.cues or line.words < min_words or line.truncated:
        return False
    if stopword_language and line.stop_ratio < 0.18:
        return False
    return line.sentence_end or line.words >= 2 * min_words


# --- reader-comment cues -----------------------------------------------------------------------

_QUOTED = re.compile(r"[\"“][^\"”]{0,2000}[\"”]")
REACTION = re.compile(
    r"\b(?:great|nice|good|excellent|interesting|super|awesome|fantastic|wonderful|brilliant|"
    r"thoughtful|insightful|informative|well[- ]written|helpful|terrible|bad|poor|silly)\s+"
    r"(?:\w+\s+)?(?:article|post|piece|read|write-?up|work|job|points?|summary|analysis|story)\b|"
    r"\bthanks?(?: you)? (?:for|so much)\b|\bi (?:agree|disagree|think|would|wonder|love|hate|doubt)\b|"
    r"\bi['’]m (?:surprised|not sure|curious)\b|\byou (?:didn['’]t|did not|forgot|missed|should|could)\b|"
    r"^\+1\b|^@\w+|^(?:agreed|exactly|so true|well said|this)[.!]*$|\bi['’]ve (?:not|never)\b",
    re.I,
)


# What every REACTION match holds, lowercased: a word of its first alternative's adjectives or a literal of
# the others; or what it starts with (its ^ alternatives). The search of the long alternation costs about
# 300 ns a character (30 us for a line of a hundred), these tests a few: most lines have none of them.
_REACTION_KEYS = ("great", "nice", "good", "excellent", "interesting", "super", "awesome", "fantastic", "wonderful",
                  "brilliant", "thoughtful", "insightful", "informative", "well", "helpful", "terrible", "bad", "poor",
                  "silly", "thank", "i agree", "i disagree", "i think", "i would", "i wonder", "i love", "i hate",
                  "i doubt", "i'm ", "i’m ", "you ", "i've ", "i’ve ")
_REACTION_STARTS = ("+1", "@", "agreed", "exactly", "so true", "well said", "this")
# Characters re.I matches with a letter above that str.lower() does not turn into it ("İ" lowers to two
# characters; "ı" and "ſ" match i and s in re.I): a line with one is searched as it is.
CASE_ODD = ("\u0130", "\u0131", "\u017f")


def _may_match(text: str, keys: tuple[str, ...], starts: tuple[str, ...] = ()) -> bool:
    """False only where a case-blind regex whose every match holds one of `keys` (or begins the text with
    one of `starts`), all lowercase, cannot match: a few substring tests in C before a costly search.
    A text with a character re.I matches with a letter that str.lower() does not give (CASE_ODD) is
    left to the regex."""
    if not text.isascii() and any(odd in text for odd in CASE_ODD):
        return True
    low = text.lower()
    return low.startswith(starts) or any(key in low for key in keys)


def reads_as_reaction(text: str) -> bool:
    """A paragraph that addresses the author or the article, as reader comments do."""
    unquoted = _QUOTED.sub(" ", text)
    return _may_match(unquoted, _REACTION_KEYS, _REACTION_STARTS) and bool(REACTION.search(unquoted))


def looks_like_comment_thread(paragraphs: list[str]) -> bool:
    """True for a page that is a thread of reader comments rather than an article.

    Evidence: most distinct paragraphs react to the article or its author, and
    there are no headings; pasted repeats (the same long paragraph twice)
    strengthen the case, as threads collect re-posts and articles do not.
    """
    distinct = list(dict.fromkeys(p.strip() for p in paragraphs if p.strip()))
    if len(distinct) < 3:
        return False
    headings = 0
    for p in distinct:
        if not ends_sentence(p) and next(islice(WORD.finditer(p), 2, None), None):  # 3+ words: stops at the third
            headings += 1
            if headings >= 5:  # the score below cannot reach the bar any more
                return False
    long_repeats = len([p for p in paragraphs if p.strip()]) - len(distinct)

    def passes(reactions: int) -> bool:
        score = reactions / len(distinct) + min(0.2, 0.05 * long_repeats) - 0.15 * headings
        return reactions >= 3 and score >= 0.5

    # The reaction test is the costly part (a long regex over every paragraph): stop as soon as the
    # paragraphs left could not lift the score to the bar even if all of them were reactions.
    reactions = 0
    for k, p in enumerate(distinct):
        if not passes(reactions + len(distinct) - k):
            return False
        reactions += reads_as_reaction(p)
    return passes(reactions)
