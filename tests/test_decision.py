"""The one decision rule (learn.decision.is_positive) and the places in learn/ that use it."""

import numpy as np
import pytest

from videoannotator.learn import FEEDS, LinearProbe, ProbeModel, borderline_feed
from videoannotator.learn.decision import is_positive


def test_positive_means_strictly_above_the_threshold():
    assert is_positive(0.3, 0.0) is True
    assert is_positive(0.0, 0.0) is False  # on the threshold: negative
    assert is_positive(-1e-9, 0.0) is False
    assert is_positive(0.6, 0.5) is True and is_positive(0.4, 0.5) is False
    assert is_positive(np.float32(2.0), 1.5) is True
    assert is_positive(float("nan"), 0.0) is False


def test_is_positive_on_arrays_is_elementwise():
    scores = np.array([-2.0, 0.0, 0.5, 1.0, np.nan], dtype=np.float32)
    got = is_positive(scores, 0.5)
    assert got.dtype == np.bool_ and got.tolist() == [False, False, False, True, False]
    assert is_positive(scores, -3.0).tolist() == [True, True, True, True, False]


def test_models_decide_with_the_rule():
    rng = np.random.default_rng(3)
    X = rng.standard_normal((300, 8)).astype(np.float32)
    y = (X[:, 0] + 0.2 * rng.standard_normal(300) > 0).astype(int)
    probe = LinearProbe().fit(X, y)
    assert np.array_equal(probe.predict(X), is_positive(probe.decision_function(X), 0.0).astype(int))
    model = ProbeModel(coef=probe.coef_, intercept=probe.intercept_, threshold=1.0)
    scores = model.decision_function(X)
    assert np.array_equal(model.predict(X), scores > 1.0)
    assert model.predict(X).sum() < is_positive(scores, 0.0).sum()  # a higher bar: fewer positives


@pytest.mark.parametrize("name", sorted(FEEDS))
def test_every_feed_takes_the_threshold(name):
    rng = np.random.default_rng(4)
    scores = rng.standard_normal(2000).astype(np.float32)
    ids = np.arange(2000)
    page = FEEDS[name](scores, ids, 20, 0, exclude=None, offset=0, threshold=0.7)
    assert len(page) == 20
    if name != "borderline":  # only the borderline feed depends on where the boundary is
        assert np.array_equal(page, FEEDS[name](scores, ids, 20, 0))


def test_borderline_is_closest_to_the_given_threshold():
    rng = np.random.default_rng(5)
    scores = rng.standard_normal(5000).astype(np.float32) * 3
    ids = np.arange(5000)
    got = borderline_feed(scores, ids, 50, threshold=2.0)
    distance = np.abs(scores - 2.0)
    assert distance[got].max() <= np.sort(distance)[49]
    assert not set(got.tolist()) & set(borderline_feed(scores, ids, 50).tolist())
