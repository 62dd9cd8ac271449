"""Run configuration: one options object for every stage, loadable from TOML.

Every field has a default; a TOML file may set any of them (top-level keys or
grouped under tables named after the dataclass sections), and CLI options win
over the file. The config hash written into each record covers everything that
can change the output.
"""

from __future__ import annotations

import hashlib
import json
import os
import sys
from dataclasses import asdict, dataclass, field, fields, is_dataclass
from pathlib import Path
from typing import Any

from pydantic import ConfigDict, TypeAdapter, ValidationError

if sys.version_info >= (3, 11):
    import tomllib
else:  # pragma: no cover
    import tomli as tomllib


class ConfigError(ValueError):
    """A config file or option value that cannot be used."""


@dataclass
class ReadConfig:
    max_bytes: int = 50_000_000  # a larger record or plain file (after decompression) is rejected, not truncated
    input_format: str = "auto"  # auto | text | html | jsonl | warc


HTML_MODES = ("trafilatura", "fast")


@dataclass
class StripConfig:
    html_favor_precision: bool = True
    html_fast: bool = False  # trafilatura without its fallback extractors: ~2.5x faster, a little less exact
    min_good_words: int = 12  # a line with fewer words is not prose by itself
    line_model: bool = True  # text dumps: the trained line classifier re-decides the rules' article lines
    line_model_path: str = ""  # a model trained by benchmarks/train_line_model.py; "": the bundled one
    cut_flattened: bool = True  # text dumps: a page flattened onto one line is judged sentence by sentence
    # HTML pages: trafilatura | fast (lexbor renders the page, the text cleaner cleans it: about 3x faster than
    # trafilatura fast=True, the same BoW F1 on held-out news pages; README "strip (HTML, fast mode)")
    html_mode: str = "trafilatura"
    html_line_model_path: str = ""  # the fast HTML mode's line model (train_line_model.py --html); "": bundled


@dataclass
class DedupConfig:
    enabled: bool = True
    threshold: float = 0.6  # exact Jaccard of shingle sets at or above which a comment is a duplicate
    num_perm: int = 128
    bands: int | None = None  # None: chosen from threshold and num_perm
    word_shingle: int = 3
    char_shingle: int = 5
    short_words: int = 25  # comments with fewer words are compared on character shingles
    seed: int = 1
    # "fast": one multiply-add hash family in 32 bits (exact Jaccard confirms every drop, so the
    # estimate need not be datasketch's); "datasketch": signatures equal to datasketch.MinHash's
    signatures: str = "fast"
    # two texts both under strict_words words are copies only if, beside the Jaccard test, their
    # numbers agree and their words are within strict_edits character edits (benchmarks/dedup_peers.py);
    # numbers must agree on any pair compared on character shingles; 0: Jaccard alone
    strict_words: int = 10
    strict_edits: int = 1


def _document_dedup() -> DedupConfig:
    # From benchmarks/doc_dedup.py (real pages with planted republished copies, 1,319 more real pages as
    # negatives): word 3-grams at 0.6 keep every kind of edit at recall >= 0.98 with no wrong drop, and
    # sit between the real republished pairs found (Jaccard >= 0.61) and the closest different pages
    # (<= 0.51). 32 bands of 4 rows: LSH proposes a pair at the threshold 99% of the time (the default
    # banding for 0.6, 25 x 5, 87%); unrelated pages share almost no 3-grams, so few extra candidates.
    return DedupConfig(enabled=False, threshold=0.6, word_shingle=3, short_words=0, bands=32)


@dataclass
class NamesConfig:
    mode: str = "auto"  # auto | aliases | off
    aliases: str | None = None  # path to an alias file (TOML or CSV)
    min_canonical_count: int = 3
    max_variant_ratio: float = 0.34  # a variant may be at most this share of its canonical's count


@dataclass
class RepeatsConfig:
    enabled: bool = True  # drop kept lines that recur on many pages of the same site
    site: str = "url"  # url: pages grouped by their URL's host | folder: by their input file's folder
    min_pages: int = 5  # a line must occur on at least this many pages of its site...
    min_share: float = 0.3  # ...and on at least this share of the site's pages
    max_words: int = 60  # longer kept paragraphs are never removed (chrome lines are short)
    max_removed_share: float = 0.5  # 3+ repeated paragraphs covering more of a page: a near-copy, left alone


PII_KINDS = ("email", "phone", "ip", "credit_card", "iban")


@dataclass
class PiiConfig:
    mode: str = "redact"  # redact: replace with <KIND> | annotate: only record the spans | off
    # card numbers and IBANs are opt-in: long digit runs in news text are rarely either
    kinds: list[str] = field(default_factory=lambda: ["email", "phone", "ip"])
    region: str = "US"  # phone numbers written without +country code are read as this country's; "": only +CC


@dataclass
class OutputConfig:
    format: str = "jsonl"  # jsonl | jsonl.gz | jsonl.zst | parquet
    shard_size: int | str = 256 * 1024 * 1024  # bytes per shard (about; "256MB" in TOML works too)
    provenance: str = "compact"  # full | compact | off: how much of what each stage did a record keeps


@dataclass
class QualityConfig:
    mode: str = "annotate"  # off | annotate (signals only) | gopher | c4 | fineweb | custom (min/max alone)
    min: dict[str, float] = field(default_factory=dict)  # signal -> lowest kept value, on top of the preset
    max: dict[str, float] = field(default_factory=dict)  # signal -> highest kept value, on top of the preset
    languages: list[str] = field(default_factory=list)  # keep only these (ISO codes); empty: any language
    min_language_score: float = 0.65  # ...identified with at least this score
    comment_language_min_words: int = 8  # shorter comments are not judged on their language


@dataclass
class Config:
    read: ReadConfig = field(default_factory=ReadConfig)
    strip: StripConfig = field(default_factory=StripConfig)
    dedup: DedupConfig = field(default_factory=DedupConfig)  # comments
    doc_dedup: DedupConfig = field(default_factory=_document_dedup)  # whole documents (their text)
    names: NamesConfig = field(default_factory=NamesConfig)
    repeats: RepeatsConfig = field(default_factory=RepeatsConfig)
    pii: PiiConfig = field(default_factory=PiiConfig)
    output: OutputConfig = field(default_factory=OutputConfig)
    quality: QualityConfig = field(default_factory=QualityConfig)
    workers: int = field(default_factory=lambda: os.cpu_count() or 1)
    doc_timeout: float = 120.0  # seconds a page may take in strip/split before it is rejected; 0: no limit

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    def sha256(self, extra: bytes = b"") -> str:
        """Hash of everything that shapes the output (plus e.g. the alias file's bytes)."""
        data = self.to_dict()
        data.pop("workers")  # parallelism never changes the output
        # nor does the time limit a page: a page that ran out of time is a reject the next run retries anyway
        data.pop("doc_timeout", None)
        # nor does the file format or shard size (the records are the same); the provenance level does
        data["output"] = {"provenance": data["output"]["provenance"]}
        blob = json.dumps(data, sort_keys=True).encode() + extra
        return hashlib.sha256(blob).hexdigest()

    def validate(self) -> None:
        """Types first (a config built in Python is checked like a file), then ranges."""
        try:
            _ADAPTER.validate_json(json.dumps(self.to_dict(), default=repr), strict=True)
        except ValidationError as exc:
            raise ConfigError(_describe(exc, "config")) from None
        for name, dd in (("dedup", self.dedup), ("doc_dedup", self.doc_dedup)):
            if not 0.0 < dd.threshold <= 1.0:
                raise ConfigError(f"{name}.threshold must be in (0, 1], got {dd.threshold}")
            if dd.num_perm < 16:
                raise ConfigError(f"{name}.num_perm must be >= 16, got {dd.num_perm}")
            if dd.signatures not in ("fast", "datasketch"):
                raise ConfigError(f"{name}.signatures must be fast or datasketch, got {dd.signatures!r}")
        if self.names.mode not in ("auto", "aliases", "off"):
            raise ConfigError(f"names.mode must be auto, aliases or off, got {self.names.mode!r}")
        if self.read.input_format not in ("auto", "text", "html", "jsonl", "warc"):
            raise ConfigError(f"read.input_format unknown: {self.read.input_format!r}")
        if self.strip.html_mode not in HTML_MODES:
            raise ConfigError(f"strip.html_mode must be {', '.join(HTML_MODES)}, got {self.strip.html_mode!r}")
        if self.repeats.site not in ("url", "folder"):
            raise ConfigError(f"repeats.site must be url or folder, got {self.repeats.site!r}")
        if self.repeats.min_pages < 2:
            raise ConfigError(f"repeats.min_pages must be >= 2, got {self.repeats.min_pages}")
        if not 0.0 <= self.repeats.min_share <= 1.0 or not 0.0 < self.repeats.max_removed_share <= 1.0:
            raise ConfigError("repeats.min_share must be in [0, 1] and repeats.max_removed_share in (0, 1]")
        if self.pii.mode not in ("redact", "annotate", "off"):
            raise ConfigError(f"pii.mode must be redact, annotate or off, got {self.pii.mode!r}")
        if not isinstance(self.pii.kinds, list) or not set(self.pii.kinds) <= set(PII_KINDS):
            raise ConfigError(f"pii.kinds must be a list of {', '.join(PII_KINDS)}, got {self.pii.kinds!r}")
        if self.pii.mode != "off" and self.pii.region:
            import phonenumbers  # only needed when the stage runs

            if self.pii.region.upper() not in phonenumbers.SUPPORTED_REGIONS:
                raise ConfigError(f"pii.region must be a two-letter region phonenumbers knows, "
                                  f"got {self.pii.region!r}")
        _validate_quality(self.quality)
        if self.workers < 1:
            raise ConfigError(f"workers must be >= 1, got {self.workers}")
        if self.doc_timeout < 0:
            raise ConfigError(f"doc_timeout must be >= 0, got {self.doc_timeout}")
        if self.output.format not in ("jsonl", "jsonl.gz", "jsonl.zst", "parquet"):
            raise ConfigError(f"output.format must be jsonl, jsonl.gz, jsonl.zst or parquet, got {self.output.format!r}"
                              )
        if self.output.provenance not in ("full", "compact", "off"):
            raise ConfigError(f"output.provenance must be full, compact or off, got {self.output.provenance!r}")
        try:
            from cleanpipe.io.writers import parse_size

            self.output.shard_size = parse_size(self.output.shard_size)
        except ValueError as exc:
            raise ConfigError(f"output.shard_size: {exc}") from exc
        if self.output.shard_size < 1:
            raise ConfigError("output.shard_size must be at least 1 byte")
        if self.names.aliases and not Path(self.names.aliases).is_file():
            raise ConfigError(f"alias file not found: {self.names.aliases}")


def _validate_quality(q: QualityConfig) -> None:
    from cleanpipe.stages.quality import MODES, SIGNALS  # the signal names live with their definitions

    if q.mode not in MODES:
        raise ConfigError(f"quality.mode must be one of {', '.join(MODES)}, got {q.mode!r}")
    unknown = sorted(set(q.min) - SIGNALS) + sorted(set(q.max) - SIGNALS)
    if unknown:
        raise ConfigError(f"quality.min/max: unknown signal(s) {', '.join(unknown)}; "
                          f"known: {', '.join(sorted(SIGNALS))}")
    if q.mode == "off" and q.languages:  # the stage that knows the language would not run
        raise ConfigError("quality.languages needs the quality stage: mode must not be off")
    if not 0.0 <= q.min_language_score <= 1.0:
        raise ConfigError(f"quality.min_language_score must be in [0, 1], got {q.min_language_score}")


def _strict_sections(cls: type) -> None:
    """Every section refuses unknown keys and values of the wrong type ("false" is not a boolean,
    "two" is not a number), checked by pydantic against the dataclass annotations."""
    cls.__pydantic_config__ = ConfigDict(strict=True, extra="forbid")  # type: ignore[attr-defined]
    for f in fields(cls):
        if isinstance(f.default_factory, type) and is_dataclass(f.default_factory):
            _strict_sections(f.default_factory)


_strict_sections(Config)
# JSON mode: strict about scalars, while sections may still be given as tables
_ADAPTER = TypeAdapter(Config)


def _describe(exc: ValidationError, where: str) -> str:
    problems = []
    for err in exc.errors():
        key = ".".join(str(part) for part in err["loc"]) or "(top level)"
        if err["type"] == "unexpected_keyword_argument":
            problems.append(f"unknown key {key!r}")
        else:
            problems.append(f"{key}: {err['msg'].lower()} (got {err.get('input')!r})")
    return f"{where}: " + "; ".join(problems)


def _dashes_to_underscores(data: Any) -> Any:
    if isinstance(data, dict):
        return {str(k).replace("-", "_"): _dashes_to_underscores(v) for k, v in data.items()}
    return data


def load_config(path: str | Path | None = None, overrides: dict[str, Any] | None = None) -> Config:
    """Defaults, then the TOML file at `path`, then `overrides` ({"dedup.threshold": 0.8})."""
    config = Config()
    if path is not None:
        try:
            with open(path, "rb") as fh:
                data = tomllib.load(fh)
        except OSError as exc:
            raise ConfigError(f"cannot read config file {path}: {exc.strerror}") from exc
        except tomllib.TOMLDecodeError as exc:
            raise ConfigError(f"config file {path} is not valid TOML: {exc}") from exc
        try:
            blob = json.dumps(_dashes_to_underscores(data))
        except TypeError as exc:  # a TOML date or time: no option takes one
            raise ConfigError(f"config file {path}: {exc}") from None
        try:
            config = _ADAPTER.validate_json(blob, strict=True)
        except ValidationError as exc:
            raise ConfigError(_describe(exc, f"config file {path}")) from None
    for dotted, value in (overrides or {}).items():
        if value is None:
            continue
        *parents, leaf = dotted.split(".")
        target: Any = config
        for part in parents:
            target = getattr(target, part)
        setattr(target, leaf, value)
    config.validate()
    return config
