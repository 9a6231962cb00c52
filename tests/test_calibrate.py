"""Calibrated scores (Platt), thresholds from a target, and the model card's verdict."""

import math

import numpy as np
import pytest
from scipy.special import expit

from videoannotator.errors import InvalidInput
from videoannotator.learn import build_model
from videoannotator.learn.calibrate import Calibration, fit_platt
from videoannotator.learn.card import verdict
from videoannotator.learn.decision import is_positive
from videoannotator.learn.threshold import choose_threshold, parse_rule


def brier(p, y):
    return float(np.mean((np.asarray(p, dtype=np.float64) - y) ** 2))


# --- Platt scaling ----------------------------------------------------------------------


def draw(rng, n, a, b):
    """Logits z and labels drawn with P(y=1 | z) = sigmoid(a z + b)."""
    z = rng.normal(0.0, 1.5, n)
    y = (rng.random(n) < expit(a * z + b)).astype(int)
    return z, y


def test_platt_recovers_a_known_calibration():
    rng = np.random.default_rng(0)
    z, y = draw(rng, 20_000, 2.5, -1.0)
    cal = fit_platt(z, y)
    assert cal.method == "platt" and cal.note is None and cal.n == 20_000
    assert abs(cal.a - 2.5) < 0.12
    assert abs(cal.b + 1.0) < 0.08


def test_calibrated_scores_beat_sigmoid_of_the_logit_on_held_out_data():
    """A squashed, shifted classifier (like a regularised, balanced fit): sigmoid(logit) is
    badly calibrated, Platt fitted on one sample is better on another by Brier score."""
    rng = np.random.default_rng(1)
    z_fit, y_fit = draw(rng, 2_000, 4.0, -2.0)
    z_new, y_new = draw(rng, 5_000, 4.0, -2.0)
    cal = fit_platt(z_fit, y_fit)
    calibrated = brier(cal.probability(z_new), y_new)
    raw = brier(expit(z_new), y_new)
    assert calibrated < raw - 0.01
    assert cal.probability(z_new).dtype == np.float32


@pytest.mark.parametrize(
    ("z", "y", "why"),
    [
        ([0.1, 0.2, 0.3], [0, 1, 0], "at least 4"),
        ([0.1, 0.2, 0.3, 0.4, 0.5], [1, 1, 1, 1, 1], "positive and negative"),
        ([], [], "at least 4"),
        # Positives score *lower*: the fitted slope would be negative.
        ([3.0, 2.0, 1.0, -1.0, -2.0, -3.0] * 5, [0, 0, 0, 1, 1, 1] * 5, "slope was not positive"),
    ],
)
def test_platt_falls_back_to_the_identity_and_says_why(z, y, why):
    cal = fit_platt(z, y)
    assert (cal.a, cal.b, cal.method) == (1.0, 0.0, "identity")
    assert why in cal.note
    np.testing.assert_allclose(cal.probability([0.0, 2.0]), expit([0.0, 2.0]), rtol=1e-6)


def test_platt_on_separable_scores_stays_finite():
    z = np.array([-3.0, -2.0, -1.5, -1.0, 1.0, 1.5, 2.0, 3.0])
    y = np.array([0, 0, 0, 0, 1, 1, 1, 1])
    cal = fit_platt(z, y)
    assert cal.method == "platt" and 0 < cal.a < 50 and math.isfinite(cal.b)
    # Platt's smoothed targets: a positive is (n+ + 1) / (n+ + 2), not 1.
    assert cal.probability([3.0])[0] < 0.99


def test_logit_for_inverts_probability_and_the_dict_round_trips():
    cal = Calibration(a=1.7, b=-0.4, method="platt", n=100, n_positive=30, n_negative=70)
    for p in (0.05, 0.5, 0.62, 0.99):
        assert cal.probability([cal.logit_for(p)])[0] == pytest.approx(p, abs=1e-6)
    assert Calibration.from_dict(cal.to_dict()) == cal
    with pytest.raises(InvalidInput):
        cal.logit_for(1.0)
    with pytest.raises(InvalidInput, match="positive slope"):
        Calibration.from_dict({**cal.to_dict(), "a": -1.0})
    assert Calibration.from_dict(None).method == "identity"


# --- thresholds -------------------------------------------------------------------------

# Eight clips, highest probability first, hand-checked: cutting after the k-th clip gives
#   k:          1     2     3     4     5     6     7     8
#   precision:  1     1    .67   .75   .60   .67   .57   .50
#   recall:    .25   .50   .50   .75   .75    1     1     1
#   F1:        .40   .67   .57   .75   .67   .80   .73   .67
# and the threshold between the k-th and (k+1)-th probabilities is their midpoint.
P = np.array([0.9, 0.8, 0.7, 0.6, 0.4, 0.3, 0.2, 0.1])
Y = np.array([1, 1, 0, 1, 0, 1, 0, 0])


@pytest.mark.parametrize(
    ("rule", "threshold", "precision", "recall"),
    [
        ("f1", 0.25, 4 / 6, 1.0),
        ("precision>=0.9", 0.75, 1.0, 0.5),  # the lowest threshold with precision >= .9
        ("precision>=0.7", 0.5, 0.75, 0.75),  # k = 4, not k = 2: more recall at that precision
        ("recall>=0.7", 0.5, 0.75, 0.75),  # the highest threshold keeping recall >= .7
        ("recall>=0.8", 0.25, 4 / 6, 1.0),
        ("recall>=0.5", 0.75, 1.0, 0.5),
    ],
)
def test_threshold_rules_pick_what_they_promise(rule, threshold, precision, recall):
    choice = choose_threshold(P, Y, rule, n_bootstrap=300, seed=3)
    assert choice.probability == pytest.approx(threshold)
    assert choice.precision == pytest.approx(precision)
    assert choice.recall == pytest.approx(recall)
    assert (choice.n_positive, choice.n_negative) == (4, 4)
    # The decision rule at that threshold reproduces the counted precision and recall.
    yes = is_positive(P, choice.probability)
    assert Y[yes].mean() == pytest.approx(precision)
    assert yes[Y == 1].mean() == pytest.approx(recall)
    assert choice.precision_low <= choice.precision <= choice.precision_high
    assert choice.recall_low <= choice.recall <= choice.recall_high
    assert choice.note is None
    assert choice.to_dict()["rule"] == rule


def test_threshold_intervals_are_real_intervals_on_a_larger_sample():
    rng = np.random.default_rng(5)
    z, y = draw(rng, 600, 2.0, -0.5)
    choice = choose_threshold(expit(z), y, "f1", n_bootstrap=400, seed=0)
    assert choice.precision_low < choice.precision < choice.precision_high
    assert choice.recall_low < choice.recall < choice.recall_high
    assert choice.precision_high - choice.precision_low < 0.2
    assert choice.n_bootstrap == 400


def test_unreachable_precision_takes_the_best_and_says_so():
    choice = choose_threshold([0.9, 0.8, 0.7, 0.6], [0, 1, 0, 1], "precision>=0.9")
    # precision by cut: 0, .5, .33, .5 -> the best is .5, and the lowest such threshold.
    assert choice.precision == pytest.approx(0.5) and choice.recall == 1.0
    assert choice.probability == pytest.approx(0.3)
    assert "no threshold reaches precision 0.9" in choice.note


@pytest.mark.parametrize("y", [[1, 1, 1], [0, 0, 0], []])
def test_without_both_classes_the_threshold_is_one_half(y):
    choice = choose_threshold([0.2, 0.5, 0.9][: len(y)], y, "recall>=0.8")
    assert choice.probability == 0.5 and choice.precision is None
    assert "positive and negative" in choice.note
    assert choice.rule == "recall>=0.8"


@pytest.mark.parametrize("rule", ["f2", "precision>0.9", "precision>=1.5", "recall>=0", "accuracy>=0.9", "", None])
def test_a_bad_rule_is_one_clear_error(rule):
    with pytest.raises(InvalidInput) as caught:
        choose_threshold(P, Y, rule)
    message = str(caught.value)
    assert '"f1"' in message and "precision>=P" in message and "recall>=R" in message
    assert "\n" not in message


def test_rule_parsing_is_forgiving_about_case_and_spaces():
    assert parse_rule(" F1 ") == ("f1", None)
    assert parse_rule("Precision >= .9") == ("precision", 0.9)
    assert parse_rule("recall>=1") == ("recall", 1.0)


# --- the Build --------------------------------------------------------------------------


def planted(rng, n, d, noise=0.3, quantile=0.7):
    X = rng.standard_normal((n, d)).astype(np.float32)
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    signal = X @ rng.standard_normal(d) + noise * rng.standard_normal(n)
    return X, (signal > np.quantile(signal, quantile)).astype(int)


@pytest.mark.parametrize("rule", ["f1", "precision>=0.8", "recall>=0.9"])
def test_build_stores_calibration_and_threshold_and_decides_consistently(rule):
    rng = np.random.default_rng(11)
    X, truth = planted(rng, 3_000, 32)
    ids = np.arange(X.shape[0], dtype=np.int64) * 3 + 5
    rows = rng.choice(X.shape[0], 300, replace=False)
    result = build_model(X, ids, ids[rows], truth[rows], seed=2, n_feed=20, threshold_rule=rule)

    cal, choice = result.calibration, result.threshold
    assert cal.method == "platt" and cal.a > 0 and cal.n == 300
    assert choice.rule == rule and choice.note is None
    assert 0 < choice.probability < 1
    assert result.model.threshold == pytest.approx(cal.logit_for(choice.probability))
    assert choice.logit == pytest.approx(result.model.threshold)
    assert result.metrics["calibration"] == cal.to_dict()
    assert result.metrics["threshold"] == choice.to_dict()
    assert result.metrics["threshold"]["logit"] == pytest.approx(result.model.threshold, abs=1e-6)

    # The one decision rule on logits agrees with "calibrated probability above p", except
    # for float32 rounding of clips sitting on the threshold.
    by_logit = is_positive(result.scores, result.model.threshold)
    prob = cal.probability(result.scores)
    by_prob = is_positive(prob, choice.probability)
    on_the_edge = np.abs(prob.astype(np.float64) - choice.probability) < 1e-6
    assert np.array_equal(by_logit[~on_the_edge], by_prob[~on_the_edge])
    assert np.array_equal(result.model.predict(X), by_logit)

    # The calibrated probabilities spread well beyond sigmoid(logit)'s narrow band, and are
    # closer to the truth on the clips nobody annotated.
    rest = np.setdiff1d(np.arange(X.shape[0]), rows)
    assert brier(prob[rest], truth[rest]) < brier(expit(result.scores[rest]), truth[rest])
    # The borderline feed is the clips nearest the chosen threshold, not nearest logit 0.
    border = np.searchsorted(ids, result.feeds["borderline"])
    distance = np.abs(result.scores[border] - result.model.threshold)
    unannotated = np.setdiff1d(np.arange(ids.size), rows)
    assert distance.max() <= np.sort(np.abs(result.scores[unannotated] - result.model.threshold))[19] + 1e-6


def test_precision_target_moves_the_threshold_up_from_recall_target():
    rng = np.random.default_rng(12)
    X, truth = planted(rng, 2_000, 32, noise=0.6)
    ids = np.arange(X.shape[0], dtype=np.int64)
    rows = rng.choice(X.shape[0], 300, replace=False)
    strict = build_model(X, ids, ids[rows], truth[rows], threshold_rule="precision>=0.95")
    lenient = build_model(X, ids, ids[rows], truth[rows], threshold_rule="recall>=0.95")
    assert strict.model.threshold > lenient.model.threshold
    assert strict.threshold.recall < lenient.threshold.recall
    assert lenient.threshold.recall >= 0.95


def test_build_without_cross_validation_keeps_logit_zero_and_says_why():
    rng = np.random.default_rng(13)
    X, truth = planted(rng, 500, 16)
    ids = np.arange(X.shape[0], dtype=np.int64)
    rows = np.concatenate([np.flatnonzero(truth == 1)[:3], np.flatnonzero(truth == 0)[:10]])
    result = build_model(X, ids, ids[rows], truth[rows])
    assert result.metrics["cv"]["ap"] is None
    assert result.calibration.method == "identity" and "no out-of-fold scores" in result.calibration.note
    assert result.threshold.probability == 0.5 and "threshold p = 0.5" in result.threshold.note
    assert result.model.threshold == 0.0
    assert result.metrics["threshold"]["precision"] is None


def test_build_rejects_a_bad_rule_before_any_work():
    X = np.eye(4, dtype=np.float32)
    with pytest.raises(InvalidInput, match="unknown threshold rule"):
        build_model(X, np.arange(4), np.arange(4), np.array([1, 0, 1, 0]), threshold_rule="best")


# --- the model card ---------------------------------------------------------------------


def version(n, ap, pos, neg, *, delta=None, flipped=None, new=None, threshold=None):
    metrics = {
        "cv": {"ap": ap, "n_positive": pos, "n_negative": neg},
        "counts": {"positive": pos, "negative": neg, "skip": 0, "unresolved": 0},
        "change": None
        if delta is None and flipped is None
        else {"ap_delta": delta, "clips_flipped": flipped, "new_annotations": new},
    }
    if threshold is not None:
        metrics["threshold"] = threshold
    return {"version": n, "metrics": metrics}


EXPECTED_THRESHOLD = {
    "probability": 0.62,
    "precision": 0.81,
    "precision_low": 0.70,
    "precision_high": 0.90,
    "recall": 0.55,
    "recall_low": 0.41,
    "recall_high": 0.68,
}


def test_card_with_no_versions():
    card = verdict([])
    assert card["verdict"] == "no model yet" and card["ap_trend"] == [] and card["expect"] is None


def test_card_not_enough_positives_then_negatives():
    card = verdict([version(1, None, 3, 20)])
    assert card["verdict"] == "not enough positives yet"
    assert "3 positives" in card["why"] and "annotate 2 more positive" in card["why"]
    assert card["ap_trend"] == [None]
    assert "first version" in card["since_last"] and "23 annotations" in card["since_last"]
    card = verdict([version(1, None, 12, 4)])
    assert card["verdict"] == "not enough negatives yet" and "1 more negative" in card["why"]


def test_card_first_measured_version_is_too_early_and_shows_what_to_expect():
    card = verdict([version(1, None, 3, 3), version(2, 0.64, 10, 12, threshold=EXPECTED_THRESHOLD)])
    assert card["verdict"] == "too early to tell"
    assert card["ap_trend"] == [None, 0.64]
    assert card["expect"] == "at threshold p=0.62 expect precision 0.81 (0.70–0.90) and recall 0.55 (0.41–0.68)"


def test_card_improving_and_getting_worse():
    history = [version(1, 0.50, 10, 10), version(2, 0.61, 15, 20, delta=0.11, flipped=340, new=15)]
    card = verdict(history)
    assert card["verdict"] == "improving" and "0.50" in card["why"] and "0.61" in card["why"]
    assert card["since_last"] == (
        "v2 since v1: 15 annotations added (+5 positive, +10 negative), AP 0.50 → 0.61 (+0.11), 340 clips changed side."
    )
    worse = verdict([*history, version(3, 0.55, 18, 30, delta=-0.06, flipped=12, new=13)])
    assert worse["verdict"] == "getting worse" and "-0.06" in worse["why"]
    assert worse["ap_trend"] == [0.50, 0.61, 0.55]


def test_card_stable_needs_two_small_deltas_and_enough_new_annotations():
    base = [version(1, 0.70, 20, 20), version(2, 0.71, 26, 26, delta=0.01, new=12)]
    stable = verdict([*base, version(3, 0.715, 32, 32, delta=0.005, new=12)])
    assert stable["verdict"] == "stable" and "24 annotations" in stable["why"]
    # The same AP but only 4 annotations over the last two builds: not evidence enough.
    few = [version(1, 0.70, 20, 20), version(2, 0.71, 21, 21, delta=0.01, new=2)]
    assert verdict([*few, version(3, 0.715, 22, 22, delta=0.005, new=2)])["verdict"] == "too early to tell"
    # One small delta only (two measured versions): one more build needed.
    assert verdict(base)["verdict"] == "too early to tell"
    # A jump the build before: the last small delta alone is not stability.
    jumpy = [version(1, 0.55, 20, 20), version(2, 0.70, 26, 26), version(3, 0.705, 32, 32)]
    assert verdict(jumpy)["verdict"] == "too early to tell"


def test_card_tolerates_old_versions_without_cv_or_change():
    card = verdict([{"version": 1, "metrics": {"n_positive": 7, "n_negative": 9}}, version(2, 0.8, 12, 14)])
    assert card["ap_trend"] == [None, 0.8]
    assert card["verdict"] == "too early to tell"
    assert "AP 0.80 (not measured before)" in card["since_last"]
