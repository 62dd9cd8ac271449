import json

import numpy as np
import pytest

from cleanpipe.config import StripConfig
from cleanpipe.stages.linemodel import FEATURE_NAMES, MODEL_PATH, LineModel, load_model, spec_from_sklearn
from cleanpipe.stages.lines import analyse
from cleanpipe.stages.strip import _second_opinion, clean_dump, line_table

ARTICLE = (
    "Home\nNews\nSport\n\n"
    "Bridge reopens after two years of repairs\n\n"
    "The old river bridge reopened to traffic on Monday after two years of repairs that cost the city "
    "far more than the council had planned when the work began.\n\n"
    "Engineers said the new deck uses less steel than the old one and should last for at least a century "
    "if it is looked after as the plan sets out.\n\n"
    "Traffic on the ring road is expected to fall by about a fifth during the morning peak, the council said "
    "in a statement on its website.\n\n"
    "Share this article\nFacebook\nTwitter\n© 2026 Example News\n"
)


def one_tree(depth: int, feature: list[int], split: list[float], left: list[int], right: list[int],
             value: list[float], baseline: float = 0.0) -> LineModel:
    """A hand-written model of one tree rooted at node 0."""
    return LineModel({"version": "test", "features": FEATURE_NAMES, "threshold": 0.5, "baseline": baseline,
                      "depth": depth, "roots": [0], "feature": feature, "split": split, "left": left,
                      "right": right, "value": value})


def constant_model(value: float) -> LineModel:
    """One tree that is a single leaf: every line gets sigmoid(value)."""
    return one_tree(1, [0], [np.inf], [0], [0], [value])


def test_features_have_one_row_per_nonblank_line_and_one_column_per_name():
    lines, features = line_table(ARTICLE)
    assert [ln.text for ln in lines] == [ln for ln in ARTICLE.splitlines() if ln.strip()]
    assert features.shape == (len(lines), len(FEATURE_NAMES))
    assert np.isfinite(features).all()
    words = FEATURE_NAMES.index("log_words")
    assert features[0, words] == pytest.approx(np.log1p(1))  # "Home"
    assert line_table("")[1].shape == (0, len(FEATURE_NAMES))


def test_tree_walk_follows_splits_to_the_leaves():
    # depth-2 tree on log_words: <= 1.0 -> leaf -2; else split on stop_ratio <= 0.2 -> leaf 1 / leaf 3
    model = one_tree(2, feature=[0, 0, 1, 0, 0], split=[1.0, np.inf, 0.2, np.inf, np.inf],
                     left=[1, 1, 3, 3, 4], right=[2, 1, 4, 3, 4], value=[0, -2.0, 0, 1.0, 3.0], baseline=0.5)
    x = np.zeros((3, len(FEATURE_NAMES)))
    x[:, 0] = [0.5, 2.0, 2.0]
    x[:, 1] = [0.9, 0.1, 0.5]
    raw = np.log(model.probabilities(x) / (1 - model.probabilities(x)))
    assert raw == pytest.approx([-1.5, 1.5, 3.5])


@pytest.mark.parametrize("depth", [3, 4])  # split-bit pattern tables up to depth 3, the level walk beyond
def test_export_matches_sklearn_predictions(depth):
    from sklearn.ensemble import HistGradientBoostingClassifier

    rng = np.random.default_rng(0)
    x = rng.normal(size=(600, 5))
    y = (x[:, 0] + x[:, 1] * x[:, 2] > 0.3).astype(int)
    clf = HistGradientBoostingClassifier(max_iter=20, max_depth=depth, early_stopping=False, random_state=0).fit(x, y)
    names = [f"f{i}" for i in range(5)]
    model = LineModel(spec_from_sklearn(clf, features=names), features=names)
    assert (model.patterns is not None) == (model.depth <= 3)
    assert model.probabilities(x) == pytest.approx(clf.predict_proba(x)[:, 1], abs=1e-9)


def test_pattern_tables_and_level_walk_agree_exactly():
    model = load_model()
    features = line_table(ARTICLE * 3)[1]
    assert np.array_equal(model._by_patterns(features), model._by_walk(features))


def test_model_trained_on_other_features_is_refused():
    spec = json.loads(MODEL_PATH.read_text())
    spec["features"] = spec["features"][:-1]
    with pytest.raises(ValueError, match="other features"):
        LineModel(spec)


def test_bundled_model_loads_and_scores_lines():
    model = load_model()
    lines, features = line_table(ARTICLE)
    p = model.probabilities(features)
    assert p.shape == (len(lines),) and ((p >= 0) & (p <= 1)).all()
    by_text = dict(zip([ln.text for ln in lines], p, strict=True))
    assert by_text["Share this article"] < 0.5 < by_text[lines[5].text]


def test_second_opinion_overrules_the_rules_but_never_empties_the_article():
    verdicts = {0: "outside-article", 1: None, 2: None, 3: "repeated-title", 4: "chrome:share", 5: "chrome:share"}
    lines = analyse("Read on\nOne\nTwo\nTitle\nShare this article\nShare this story on every network you use today")
    features = np.zeros((6, len(FEATURE_NAMES)))
    # a model that keeps everything restores removed lines, but a repeated title and a short chrome marker
    # stay removed (a longer line with a chrome cue may be prose)
    assert _second_opinion(verdicts, [0, 1, 2, 3, 4, 5], constant_model(5.0), features, lines) == {
        0: None, 1: None, 2: None, 3: "repeated-title", 4: "chrome:share", 5: None}
    # a model that keeps nothing would empty the article: the rules' verdicts stand
    assert _second_opinion(verdicts, [0, 1, 2, 3, 4, 5], constant_model(-5.0), features, lines) == verdicts
    # lines the model drops are recorded as its removals
    mixed = {0: None, 1: None}
    x = np.zeros((2, len(FEATURE_NAMES)))
    x[0, 0] = 5.0
    split_model = one_tree(1, feature=[0, 0, 0], split=[1.0, np.inf, np.inf], left=[1, 1, 2], right=[2, 1, 2],
                           value=[0.0, -3.0, 3.0])
    assert _second_opinion(mixed, [0, 1], split_model, x, lines) == {0: None, 1: "line-model"}


def test_rules_only_when_the_model_is_switched_off():
    with_model = clean_dump(ARTICLE)
    rules_only = clean_dump(ARTICLE, StripConfig(line_model=False))
    assert "Engineers said" in with_model.text() and "Engineers said" in rules_only.text()
    assert all(span["reason"] != "line-model" for span in rules_only.removed)


def test_training_script_writes_a_model_cleanpipe_can_load(tmp_path):
    import subprocess
    import sys
    from pathlib import Path

    body = "\n".join(ln for ln in ARTICLE.splitlines() if len(ln.split()) > 12)
    (tmp_path / "dumps").mkdir()
    truth = {}
    for k in range(6):
        (tmp_path / "dumps" / f"p{k}.txt").write_text(ARTICLE.replace("Monday", f"day {k}"), encoding="utf-8")
        truth[f"p{k}"] = {"articleBody": body.replace("Monday", f"day {k}")}
    (tmp_path / "ground-truth.json").write_text(json.dumps(truth), encoding="utf-8")
    out = tmp_path / "model.json"
    script = Path(__file__).resolve().parents[2] / "benchmarks" / "train_line_model.py"
    run = subprocess.run([sys.executable, str(script), "--data", str(tmp_path), "--dumps", str(tmp_path / "dumps"),
                          "--out", str(out), "--trees", "5", "--halves"], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert "held-out half 0" in run.stdout and "6 pages" in run.stdout
    model = LineModel.load(out)
    assert len(model.roots) == 5
    # a model this small decides little; what matters is that the strip stage runs on it
    assert "Engineers said" in clean_dump(ARTICLE, StripConfig(line_model_path=str(out))).text()


def test_a_retrained_model_changes_the_config_fingerprint(tmp_path):
    from cleanpipe.config import Config
    from cleanpipe.engines.pipeline import Pipeline

    spec = json.loads(MODEL_PATH.read_text())
    spec["threshold"] = 0.6
    other = tmp_path / "model.json"
    other.write_text(json.dumps(spec))
    bundled = Pipeline(Config()).config_sha256
    assert Pipeline(Config(strip=StripConfig(line_model_path=str(MODEL_PATH)))).config_sha256 == \
        Pipeline(Config(strip=StripConfig(line_model_path=str(MODEL_PATH)))).config_sha256
    assert Pipeline(Config(strip=StripConfig(line_model_path=str(other)))).config_sha256 != bundled


@pytest.mark.parametrize("text", ["Ann Lee, 42 | McDonald\nsecond Line 7, x|y\n\nEnd", "🎉 Ann 𝔘X, 42 | Lee\nnext 7, A|B"])
def test_character_counts_by_span_match_the_regexes(text):
    import re

    from cleanpipe.stages.linemodel import _counts_by_span

    physical = text.split("\n")
    spans = [(0, 0), (0, 1), (1, len(physical) - 1)]
    counts = _counts_by_span(text, np.array([a for a, _ in spans]), np.array([b for _, b in spans]))
    for k, (a, b) in enumerate(spans):
        chunk = "\n".join(physical[a:b + 1])
        expected = [len(re.findall(r"(?<!\w)[A-Z]", chunk)), len(re.findall("[0-9]", chunk)), chunk.count(","),
                    chunk.count("|")]
        assert counts[:, k].tolist() == expected


@pytest.mark.parametrize("n", [0, 1, 2, 5, 6, 7, 16, 17, 40])
def test_window_sums_add_up_each_lines_window_clipped_at_the_page_ends(n):
    from cleanpipe.stages.linemodel import WINDOWS, _window_sums

    values = np.arange(3 * n, dtype=np.float64).reshape(n, 3) % 7
    for w, sums in zip(WINDOWS, _window_sums(values, WINDOWS), strict=True):
        expected = [values[max(0, i - w):i + w + 1].sum(axis=0).tolist() for i in range(n)]
        assert sums.tolist() == expected
