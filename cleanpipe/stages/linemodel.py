"""Second opinion on the text cleaner's line decisions: a small boosted-tree line classifier.

The rules in `strip` find the article as one dense region and read cues line by
line. Some calls need many weak signals at once (a caption between two
paragraphs, a teaser list inside the region, a short paragraph the region cut
off), so a model trained on labelled dumps re-decides each candidate line from
its own features, its neighbours', its window's and what the rules said.

The model is a list of shallow regression trees (gradient boosting, trained by
`benchmarks/train_line_model.py` with scikit-learn, exported to JSON); here it
is evaluated with numpy only, all lines through all trees at once: trees up to
depth 3 by a table lookup on the pattern of their split outcomes, deeper ones
one array step per level.
"""

from __future__ import annotations

import hashlib
import json
import math
from collections import Counter
from dataclasses import dataclass
from functools import lru_cache
from itertools import chain
from pathlib import Path
from typing import Any

import numpy as np

from cleanpipe.stages.lines import END_CUES, LineInfo, code_points, word_char_flags

MODEL_PATH = Path(__file__).with_name("models") / "line_model.json"
# The fast HTML mode's model: trained on pages rendered by its converter, with HTML_FEATURE_NAMES added.
HTML_MODEL_PATH = Path(__file__).with_name("models") / "line_model_html.json"
# Trees up to this depth are evaluated by split-bit patterns (a table of 2**7 leaves a tree at depth 3).
PATTERN_DEPTH = 3


# What the rules concluded about one page, per non-blank line (in page order).
@dataclass
class RuleView:
    weights: list[float]  # the rule score of each line
    prose: list[bool]  # reads as running text on its own
    kept: list[bool]  # the rules keep it as article text
    comment: list[bool]  # the rules put it in the comment section
    region: tuple[int, int] | None  # the densest region, as non-blank line positions


OWN_FEATURES = [
    "log_words", "stop_ratio", "sentence_end", "bullet", "cue", "end_cue", "prose", "rules_keep",
    "in_comments", "weight", "capitals_per_word", "digit_share", "commas_per_word", "repeated_on_page",
    "indent", "truncated", "ends_colon", "has_pipe", "chars_per_word",
]
NEIGHBOUR_FEATURES = 10  # the first ten own features, for each neighbour
NEIGHBOUR_OFFSETS = (-3, -2, -1, 1, 2, 3)
WINDOWS = (5, 15)
FEATURE_NAMES = (
    OWN_FEATURES
    + [f"{name}@{off:+d}" for off in NEIGHBOUR_OFFSETS
       for name in OWN_FEATURES[:NEIGHBOUR_FEATURES] + ["missing"]]
    + [f"{name}~{w}" for w in WINDOWS for name in ("prose_share", "log_prose_words", "cue_share")]
    + ["position", "words_before_share", "in_region", "lines_to_region", "lines_past_region",
       "log_lines", "log_page_words"]
)

# Where a line of the fast HTML mode's rendering came from (html_fast.render): inside a <p>, a heading, a list
# item, a table row; whether the page's first <h1> is above it; whether it is inside the page's <article>.
HTML_OWN_FEATURES = ["html_p", "html_heading", "html_list_item", "html_table", "html_after_h1", "html_in_article"]
_HTML_WINDOWED = ("html_p", "html_list_item", "html_in_article")
HTML_FEATURE_NAMES = (
    HTML_OWN_FEATURES
    + [f"{name}@{off:+d}" for off in (-1, 1) for name in HTML_OWN_FEATURES]
    + [f"{name}~{w}" for w in WINDOWS for name in _HTML_WINDOWED]
)


def html_line_features(rows: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
    """HTML_FEATURE_NAMES for each line, from the HTML_OWN_FEATURES `rows` of the non-blank lines in order.

    `out`: a table of zeros to write them into (line_features' extra columns), else a new one."""
    n = len(rows)
    table = np.zeros((n, len(HTML_FEATURE_NAMES)), order="F") if out is None else out
    k = len(HTML_OWN_FEATURES)
    table[:, :k] = rows
    if n > 1:
        table[1:, k:2 * k] = rows[:-1]
        table[:-1, 2 * k:3 * k] = rows[1:]
    column = 3 * k
    windowed = rows[:, _HTML_WINDOWED_COLUMNS]
    for w, sums in zip(WINDOWS, _window_sums(windowed, WINDOWS), strict=True):
        table[:, column:column + len(_HTML_WINDOWED)] = sums / (2 * w + 1)
        column += len(_HTML_WINDOWED)
    return table


_HTML_WINDOWED_COLUMNS = [HTML_OWN_FEATURES.index(name) for name in _HTML_WINDOWED]


def _window_sums(values: np.ndarray, half_widths: tuple[int, ...]) -> list[np.ndarray]:
    """For each w of `half_widths`: the sum of values[i - w .. i + w] for every i (clipped at the ends), of
    each column of a 2-D `values`.

    One running sum serves all widths; a window's sum is the difference of two of its rows,
    read by slices (numpy's fancy indexing would cost twice as much on a page's few lines)."""
    n = len(values)
    cumulative = np.zeros((n + 1, *values.shape[1:]))
    np.cumsum(values, axis=0, out=cumulative[1:])
    sums = []
    for w in half_widths:
        # line i: cumulative[min(n, i + w + 1)] - cumulative[max(0, i - w)]
        upper, lower = np.empty(cumulative[1:].shape), np.zeros(cumulative[1:].shape)
        inside = max(0, n - w)  # lines whose window ends before the page does
        upper[:inside] = cumulative[w + 1:w + 1 + inside]
        upper[inside:] = cumulative[n]
        lower[w + 1:] = cumulative[1:max(1, n - w)]  # lines whose window starts after the page's first line
        sums.append(upper - lower)
    return sums


def _counts_by_span(text: str, first: np.ndarray, last: np.ndarray) -> np.ndarray:
    """Capitals that start a word (\\b[A-Z]), ASCII digits, commas and pipes in physical lines first..last of `text`.

    Counted as the flagged characters' offsets that fall between the two lines' start offsets
    (binary searches, both ends of every line in one call a kind), not per character."""
    codes = code_points(text)
    line_starts = np.concatenate([[0], np.flatnonzero(codes == 10) + 1, [len(codes) + 1]])
    bounds = np.concatenate([line_starts[first], line_starts[last + 1]])
    n = len(first)
    capitals = np.flatnonzero((codes >= 65) & (codes <= 90))
    # a capital starts a word unless a word character is before it (only the capitals' neighbours are looked up)
    capitals = capitals[(capitals == 0) | ~word_char_flags(codes[np.maximum(capitals - 1, 0)])]
    counts = []
    for at in (capitals, np.flatnonzero((codes >= 48) & (codes <= 57)), np.flatnonzero(codes == 44),
               np.flatnonzero(codes == 124)):
        found = np.searchsorted(at, bounds)
        counts.append(found[n:] - found[:n])
    return np.stack(counts)


def line_features(lines: list[LineInfo], text: str, rules: RuleView, extra_columns: int = 0) -> np.ndarray:
    """One row of FEATURE_NAMES per line; `lines` are the non-blank logical lines of `text`, in order.

    Written into one preallocated table a block of columns at a time: character counts
    come from one numpy pass over the page (by physical line, summed over the span of
    each logical line), the line records are read in one pass, neighbours and windows
    are shifted copies and running sums of the line's own columns. `extra_columns` of
    zeros follow, for the caller's features (the HTML ones: no copy to join them).
    """
    n = len(lines)
    # column-major: filled a column at a time, and the model reads it a feature (column) at a time
    table = np.zeros((n, len(FEATURE_NAMES) + extra_columns), order="F")
    if n == 0:
        return table
    texts = [line.text for line in lines]
    seen = Counter(texts)
    physical = text.split("\n")
    raw = [physical[line.no - 1] for line in lines]
    records = np.fromiter(chain.from_iterable([
        (line.words, line.stop_ratio, line.sentence_end, line.bullet, bool(line.cues),
         not END_CUES.isdisjoint(line.cues), line.truncated, line.no - 1, line.end - 1, len(line.text),
         seen[line.text] > 1, line.text.endswith(":"), len(raw_line) - len(raw_line.lstrip()))
        for line, raw_line in zip(lines, raw, strict=True)]), np.float64, 13 * n).reshape(n, 13)
    words, chars = records[:, 0], records[:, 9]
    first, last = records[:, 7].astype(np.int64), records[:, 8].astype(np.int64)  # 0-based physical lines
    capitals, digits, commas, pipes = _counts_by_span(text, first, last)
    per_word = np.maximum(words, 1)  # a line of no words counts as one
    own = table[:, :len(OWN_FEATURES)]
    own[:, 0] = np.log1p(words)
    own[:, 1:6] = records[:, 1:6]  # stop_ratio, sentence_end, bullet, cue, end_cue
    own[:, 6] = rules.prose
    own[:, 7] = rules.kept
    own[:, 8] = rules.comment
    own[:, 9] = np.clip(np.asarray(rules.weights, dtype=np.float64), -30.0, 60.0) / 10
    own[:, 10] = np.minimum(1.5, capitals / per_word)
    own[:, 11] = digits / chars
    own[:, 12] = commas / per_word
    own[:, 13] = records[:, 10]  # repeated on the page
    own[:, 14] = np.minimum(20, records[:, 12]) / 4
    own[:, 15] = records[:, 6]  # truncated
    own[:, 16] = records[:, 11]  # ends with a colon
    own[:, 17] = pipes > 0
    own[:, 18] = chars / per_word / 10
    # each neighbour's first NEIGHBOUR_FEATURES own features, then whether it is missing (off the page)
    column = len(OWN_FEATURES)
    head = own[:, :NEIGHBOUR_FEATURES]
    for off in NEIGHBOUR_OFFSETS:
        block = table[:, column:column + NEIGHBOUR_FEATURES + 1]
        if off < 0:
            block[-off:, :-1] = head[:off]
            block[:-off, -1] = 1
        else:
            block[:-off, :-1] = head[off:]
            block[-off:, -1] = 1
        column += NEIGHBOUR_FEATURES + 1
    prose = own[:, 6]
    words = np.expm1(own[:, 0])  # as the model was trained: a round trip through log1p, not the exact counts
    windowed = np.stack([prose, words * prose, own[:, 4]], axis=1)  # the three columns' windows at once
    for w, sums in zip(WINDOWS, _window_sums(windowed, WINDOWS), strict=True):
        table[:, column] = sums[:, 0] / (2 * w + 1)
        table[:, column + 1] = np.log1p(sums[:, 1])
        table[:, column + 2] = sums[:, 2] / (2 * w + 1)
        column += 3
    position = np.arange(n)
    start, end = rules.region if rules.region else (n, -1)
    total_words = max(1.0, float(words.sum()))
    page = table[:, column:len(FEATURE_NAMES)]
    page[:, 0] = position / n
    page[:, 1] = np.cumsum(words) / total_words
    page[:, 2] = (position >= start) & (position <= end)
    page[:, 3] = np.clip((start - position) / 10, -5, 5)
    page[:, 4] = np.clip((position - end) / 10, -5, 5)
    page[:, 5] = math.log1p(n)
    page[:, 6] = math.log(total_words)
    return table


class LineModel:
    """Boosted trees as flat node arrays; leaves point at themselves so every walk takes `depth` steps."""

    digest = ""  # sha256 of the file it was loaded from, for provenance

    def __init__(self, spec: dict, features: list[str] | None = None):
        if spec.get("features") != (FEATURE_NAMES if features is None else features):
            raise ValueError("line model was trained on other features than this version computes")
        self.version: str = spec["version"]
        self.threshold: float = spec["threshold"]
        self.baseline: float = spec["baseline"]
        self.depth: int = spec["depth"]
        self.roots = np.asarray(spec["roots"], dtype=np.int64)
        self.feature = np.asarray(spec["feature"], dtype=np.int64)
        self.split = np.asarray(spec["split"], dtype=np.float64)
        self.left = np.asarray(spec["left"], dtype=np.int64)
        self.right = np.asarray(spec["right"], dtype=np.int64)
        self.value = np.asarray(spec["value"], dtype=np.float64)
        self.patterns = self._pattern_tables() if self.depth <= PATTERN_DEPTH else None

    def _pattern_tables(self) -> tuple[np.ndarray, ...]:
        """Each tree as a complete tree of `depth` levels, its leaf read off the bits of all its splits.

        Slot s has children 2s+1 and 2s+2; a leaf above the last level fills the slots below
        it (its split is always true). All splits of all trees are then one gather and one
        comparison, and a tree's outcome is a table lookup by the pattern of its split bits:
        no walk level by level, which costs numpy a fancy-index per level and tree. Trees share
        splits (and leaves fill slots with the same always-true one): each distinct (feature,
        threshold) pair is compared once, a third of the slots, and the slots read its outcome."""
        inner = 2 ** self.depth - 1
        feature, split, leaf_of_pattern = [], [], []
        for root in self.roots.tolist():
            slots = [root]
            for k in range(inner):
                slots += [int(self.left[slots[k]]), int(self.right[slots[k]])]
            feature += [int(self.feature[node]) for node in slots[:inner]]
            split += [float(self.split[node]) for node in slots[:inner]]
            for pattern in range(2 ** inner):  # bit (inner - 1 - s) says slot s goes left
                slot = 0
                while slot < inner:
                    slot = 2 * slot + (1 if pattern >> (inner - 1 - slot) & 1 else 2)
                leaf_of_pattern.append(self.value[slots[slot]])
        bit_weights = (1 << np.arange(inner - 1, -1, -1)).astype(np.uint8)
        table_start = np.arange(len(self.roots)) << inner  # where each tree's patterns begin
        slot_pairs = list(zip(feature, split, strict=True))
        pairs = sorted(set(slot_pairs))
        pair_index = {pair: k for k, pair in enumerate(pairs)}
        return (np.asarray([f for f, _ in pairs], dtype=np.int64), np.asarray([t for _, t in pairs])[:, None],
                np.asarray([pair_index[pair] for pair in slot_pairs], dtype=np.int64), bit_weights, table_start,
                np.asarray(leaf_of_pattern))

    @classmethod
    def load(cls, path: str | Path = MODEL_PATH, features: list[str] | None = None) -> LineModel:
        data = Path(path).read_bytes()
        model = cls(json.loads(data), features)
        model.digest = hashlib.sha256(data).hexdigest()
        return model

    def probabilities(self, features: np.ndarray) -> np.ndarray:
        if len(features) == 0:
            return np.zeros(0)
        raw = self.baseline + (self._by_patterns(features) if self.patterns else self._by_walk(features))
        return 1.0 / (1.0 + np.exp(-raw))

    def _by_patterns(self, features: np.ndarray) -> np.ndarray:
        pair_feature, pair_split, pair_of_slot, bit_weights, table_start, leaf_of_pattern = self.patterns
        goes_left = (np.ascontiguousarray(features.T)[pair_feature] <= pair_split)[pair_of_slot]
        bits = goes_left.reshape(len(table_start), len(bit_weights), len(features)).view(np.uint8)
        pattern = np.einsum("s,tsn->nt", bit_weights, bits)  # (lines, trees)
        return np.take(leaf_of_pattern, table_start + pattern).sum(axis=1)

    def _by_walk(self, features: np.ndarray) -> np.ndarray:
        """Deeper trees (pattern tables of 2**(2**depth - 1) leaves would be too big): one step a level."""
        n, width = features.shape
        flat = features.ravel()
        row_start = (np.arange(n) * width)[:, None]
        node = np.broadcast_to(self.roots, (n, len(self.roots)))
        for _ in range(self.depth):
            goes_left = flat[row_start + self.feature[node]] <= self.split[node]
            node = np.where(goes_left, self.left[node], self.right[node])
        return self.value[node].sum(axis=1)


def spec_from_sklearn(clf: Any, threshold: float = 0.5, version: str = "lines-1",
                      features: list[str] | None = None) -> dict:
    """A LineModel spec from a fitted binary sklearn HistGradientBoostingClassifier.

    Leaves point at themselves with an always-true split, so every walk takes `depth`
    steps whatever the depth of the leaf it ends in.
    """
    roots, feature, split, left, right, value = [], [], [], [], [], []
    depth = 1
    for (tree,) in clf._predictors:  # one tree per boosting round for a binary classifier
        base = len(feature)
        roots.append(base)
        depth = max(depth, int(tree.nodes["depth"].max()))
        for k, node in enumerate(tree.nodes):
            leaf = bool(node["is_leaf"])
            feature.append(0 if leaf else int(node["feature_idx"]))
            split.append(math.inf if leaf else float(node["num_threshold"]))
            left.append(base + (k if leaf else int(node["left"])))
            right.append(base + (k if leaf else int(node["right"])))
            value.append(float(node["value"]) if leaf else 0.0)
    return {
        "version": version, "features": FEATURE_NAMES if features is None else features,
        "threshold": threshold, "baseline": float(np.ravel(clf._baseline_prediction)[0]), "depth": depth,
        "roots": roots, "feature": feature, "split": split, "left": left, "right": right, "value": value,
    }


@lru_cache(maxsize=4)
def load_model(path: str = "", html: bool = False) -> LineModel:
    """The model at `path`, or the one bundled with cleanpipe for ""; read once per process.

    `html`: a model of the fast HTML mode, whose features are FEATURE_NAMES + HTML_FEATURE_NAMES."""
    if html:
        return LineModel.load(path or HTML_MODEL_PATH, FEATURE_NAMES + HTML_FEATURE_NAMES)
    return LineModel.load(path or MODEL_PATH)
