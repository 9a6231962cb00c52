"""The learning core: classifier, feeds, metrics, diversity, build (pure numpy, no I/O but temp memmaps)."""

import numpy as np
import pytest

from videoannotator.errors import InvalidInput, NotReady
from videoannotator.learn import (
    FEEDS,
    LinearProbe,
    ProbeModel,
    average_precision,
    borderline_feed,
    build_model,
    cross_validated_ap,
    diversity,
    fit_clusters,
    random_feed,
    score_corpus,
    top_negative_feed,
    top_positive_feed,
)
from videoannotator.learn.classifier import NotFittedError, cross_fit_decision
from videoannotator.learn.metrics import bootstrap_ap, stratified_folds


def unit_rows(rng, n, d, dtype=np.float32):
    X = rng.standard_normal((n, d)).astype(dtype)
    return X / np.linalg.norm(X, axis=1, keepdims=True)


def planted(rng, n, d, noise=0.3, quantile=0.7):
    """Unit vectors and noisy labels from a random direction (about 30% positive)."""
    X = unit_rows(rng, n, d)
    w = rng.standard_normal(d)
    signal = X @ w + noise * rng.standard_normal(n)
    return X, (signal > np.quantile(signal, quantile)).astype(int)


@pytest.fixture
def rng():
    return np.random.default_rng(7)


# --- classifier -------------------------------------------------------------------------


@pytest.mark.parametrize("C", [0.1, 1.0, 30.0])
@pytest.mark.parametrize("class_weight", ["balanced", None])
def test_probe_agrees_with_sklearn_logistic_regression(rng, C, class_weight):
    """The product's fit (lbfgs, float64, warm-startable) against another sklearn solver
    (newton-cholesky) run to 1e-12: same C, class weights and unpenalised intercept."""
    from sklearn.linear_model import LogisticRegression

    X, y = planted(rng, 600, 64)
    ours = LinearProbe(C=C, class_weight=class_weight).fit(X, y)
    ref = LogisticRegression(C=C, class_weight=class_weight, solver="newton-cholesky", tol=1e-12, max_iter=1000).fit(
        X.astype(np.float64), y
    )
    assert np.abs(ours.predict_proba(X) - ref.predict_proba(X)).max() < 1e-5
    assert np.abs(ours.coef_ - ref.coef_[0]).max() < 1e-4
    assert abs(ours.intercept_ - ref.intercept_[0]) < 1e-4
    assert (ours.predict(X) == ref.predict(X)).mean() > 0.99
    # What a Build stores and scores with gives the same probabilities.
    model = ProbeModel(coef=ours.coef_, intercept=ours.intercept_, C=C)
    proba = 1 / (1 + np.exp(-model.decision_function(X).astype(np.float64)))
    assert np.abs(proba - ref.predict_proba(X)[:, 1]).max() < 1e-5


@pytest.mark.parametrize("class_weight", ["balanced", None, {0: 1.0, 1: 3.0}])
def test_probe_minimises_the_documented_objective(rng, class_weight):
    """C * sum_i s_i log(1 + exp(-t_i z_i)) + ||coef||^2 / 2, intercept not penalised: its
    gradient vanishes at the fit (written out here, independently of any solver)."""
    X, y = planted(rng, 400, 24)
    C = 3.0
    probe = LinearProbe(C=C, class_weight=class_weight).fit(X, y)
    X64 = X.astype(np.float64)
    if class_weight == "balanced":
        s = (len(y) / (2.0 * np.bincount(y)))[y]
    elif class_weight is None:
        s = np.ones(len(y))
    else:
        s = np.array([class_weight[0], class_weight[1]])[y]
    p = 1 / (1 + np.exp(-(X64 @ probe.coef_ + probe.intercept_)))
    residual = C * s * (p - y)
    grad_coef = X64.T @ residual + probe.coef_
    grad_intercept = residual.sum()
    scale = C * s.sum()
    assert np.abs(grad_coef).max() / scale < 1e-6
    assert abs(grad_intercept) / scale < 1e-6


def test_probe_speaks_sklearn(rng):
    from sklearn.base import clone

    probe = LinearProbe(C=2.0, class_weight=None, max_iter=7, random_state=3)
    assert probe.get_params()["C"] == 2.0 and probe.get_params()["random_state"] == 3
    copy = clone(probe)
    assert copy.get_params() == probe.get_params() and not hasattr(copy, "coef_")
    with pytest.raises(NotFittedError, match="not fitted yet"):
        probe.decision_function(np.zeros((1, 3)))
    X, y = planted(rng, 200, 16)
    names = np.where(y == 1, "smoking", "other")
    assert probe.fit(X, names) is probe
    assert list(probe.classes_) == ["other", "smoking"]
    proba = probe.predict_proba(X)
    assert proba.shape == (200, 2) and np.allclose(proba.sum(axis=1), 1)
    # Column 1 follows classes_[1]: high where the decision function is positive.
    assert np.array_equal(proba[:, 1] > 0.5, probe.decision_function(X) > 0)
    assert set(probe.predict(X)) <= {"other", "smoking"}
    with pytest.raises(ValueError, match="exactly 2 classes"):
        LinearProbe().fit(X, np.zeros(200))
    with pytest.raises(ValueError, match="Invalid parameter"):
        probe.set_params(alpha=1)


def test_warm_start_reaches_the_same_optimum_in_fewer_steps(rng):
    X, y = planted(rng, 1000, 128)
    first = LinearProbe().fit(X[:975], y[:975])
    cold = LinearProbe().fit(X, y)
    warm = LinearProbe().fit(X, y, coef_init=first.coef_, intercept_init=first.intercept_)
    assert np.abs(cold.coef_ - warm.coef_).max() < 1e-4
    assert warm.n_iter_ < cold.n_iter_
    # warm_start=True starts from the estimator's own previous fit.
    again = LinearProbe(warm_start=True).fit(X[:975], y[:975])
    again.fit(X, y)
    assert again.n_iter_ < cold.n_iter_ and np.abs(again.coef_ - cold.coef_).max() < 1e-4
    # A previous model of another dimension is ignored, not an error.
    other = LinearProbe().fit(X, y, coef_init=np.ones(5))
    assert np.abs(other.coef_ - cold.coef_).max() < 1e-4


def test_separable_data_is_fitted_without_blowing_up(rng):
    X = unit_rows(rng, 300, 20)
    y = (X[:, 0] > 0).astype(int)
    probe = LinearProbe(C=1000.0).fit(X, y)
    assert np.all(np.isfinite(probe.coef_))
    assert probe.score(X, y) == 1.0


def test_score_corpus_chunks_a_memmap(tmp_path, rng):
    X = unit_rows(rng, 1000, 24)
    path = tmp_path / "v.f32"
    X.tofile(path)
    mm = np.memmap(path, dtype=np.float32, mode="r", shape=X.shape)
    coef = rng.standard_normal(24)
    scores = score_corpus(mm, coef, 0.25, chunk_bytes=24 * 4 * 7)  # 7 rows per chunk
    assert scores.dtype == np.float32 and scores.shape == (1000,)
    assert np.allclose(scores, X @ coef + 0.25, atol=1e-5)


# --- feeds ------------------------------------------------------------------------------


@pytest.fixture
def corpus(rng):
    n = 5000
    ids = np.arange(100, 100 + n) * 3  # sorted, not positions
    scores = rng.standard_normal(n).astype(np.float32) * 3
    return scores, ids


def test_top_feeds_are_the_true_top_minus_excluded(corpus):
    scores, ids = corpus
    order = np.argsort(-scores, kind="stable")
    exclude = set(ids[order[[0, 2, 5]]].tolist())
    top = top_positive_feed(scores, ids, 20, seed=0, exclude=exclude)
    expected = [i for i in ids[order] if i not in exclude][:20]
    assert top.tolist() == expected
    bottom = top_negative_feed(scores, ids, 20, seed=0, exclude=exclude)
    assert bottom.tolist() == [i for i in ids[order[::-1]] if i not in exclude][:20]


def test_borderline_is_nearest_the_threshold(corpus):
    scores, ids = corpus
    got = borderline_feed(scores, ids, 30, seed=0)
    distance = np.abs(scores - 0)
    assert distance[np.isin(ids, got)].max() <= np.sort(distance)[29]
    assert np.all(np.diff(distance[np.searchsorted(ids, got)]) >= 0)
    probs = 1 / (1 + np.exp(-scores.astype(np.float64)))
    assert set(borderline_feed(probs, ids, 30, seed=0, threshold=0.5)) == set(got)


@pytest.mark.parametrize("name", sorted(FEEDS))
def test_every_feed_excludes_is_deterministic_and_pages(corpus, name):
    scores, ids = corpus
    feed = FEEDS[name]
    labeled = ids[::7]
    page1 = feed(scores, ids, 50, seed=11, exclude=labeled)
    assert len(page1) == 50 and len(set(page1.tolist())) == 50
    assert not np.isin(page1, labeled).any()
    assert np.array_equal(page1, feed(scores, ids, 50, seed=11, exclude=list(labeled)))
    page2 = feed(scores, ids, 50, seed=11, exclude=set(labeled.tolist()), offset=50)
    assert not set(page1.tolist()) & set(page2.tolist())
    both = feed(scores, ids, 100, seed=11, exclude=labeled)
    assert np.concatenate([page1, page2]).tolist() == both.tolist()
    # Asking for more than there is returns everything not excluded, once.
    everything = feed(scores, ids, 10**6, seed=11, exclude=labeled)
    assert len(everything) == len(ids) - len(labeled)


def test_random_feed_depends_on_seed_not_scores(corpus):
    scores, ids = corpus
    a = random_feed(scores, ids, 100, seed=1)
    assert np.array_equal(a, random_feed(-scores, ids, 100, seed=1))
    assert not np.array_equal(a, random_feed(scores, ids, 100, seed=2))
    # Roughly uniform: the sample is not concentrated at either end of the id range.
    assert 0.3 < np.mean(a < np.median(ids)) < 0.7
    # Clips appended later do not reshuffle the order of the clips already there.
    more_ids = np.concatenate([ids, ids[-1] + 3 * np.arange(1, 1001)])
    grown = random_feed(np.zeros(len(more_ids)), more_ids, 2000, seed=1)
    assert grown[np.isin(grown, ids)][:100].tolist() == a.tolist()


def test_ties_break_by_id(rng):
    ids = rng.permutation(1000)
    scores = np.zeros(1000, dtype=np.float32)
    assert top_positive_feed(scores, ids, 5, seed=0).tolist() == [0, 1, 2, 3, 4]
    assert top_positive_feed(scores, ids, 5, seed=0, offset=5).tolist() == [5, 6, 7, 8, 9]


# --- metrics ----------------------------------------------------------------------------


def test_average_precision_by_definition(rng):
    """AP = mean over the positives of the precision at their score (a tie group counts whole)."""
    y = rng.integers(0, 2, 400)
    for scores in (rng.standard_normal(400), rng.integers(0, 5, 400).astype(float)):  # with ties
        at_or_above = scores[None, :] >= scores[y == 1][:, None]
        precision = (at_or_above & (y == 1)[None, :]).sum(axis=1) / at_or_above.sum(axis=1)
        assert average_precision(y, scores) == pytest.approx(precision.mean(), abs=1e-12)
    assert average_precision([True, False, False], [0.1, 0.9, 0.5]) == pytest.approx(1 / 3)
    assert np.isnan(average_precision(np.zeros(5), np.arange(5.0)))  # no positive: undefined


def test_vectorised_bootstrap_equals_resampling_one_by_one(rng):
    y = rng.integers(0, 2, 60)
    scores = np.round(rng.standard_normal(60), 1)  # ties too
    fast = bootstrap_ap(y, scores, n_bootstrap=40, seed=5)
    # Re-draw the same resamples (the same generator calls) and score each one plainly.
    order = np.argsort(-scores, kind="stable")
    ys, ss = y[order], scores[order]
    draws = np.random.default_rng(5).integers(0, 60, size=(40, 60))
    slow = np.array([average_precision(ys[d], ss[d]) for d in draws])
    assert np.allclose(fast, slow, equal_nan=True)


def test_cross_fit_equals_refitting_each_fold(rng):
    X, y = planted(rng, 500, 48)
    fold = stratified_folds(y, 5, seed=0)
    full = LinearProbe().fit(X, y)
    oof = cross_fit_decision(X, y, fold, coef_init=full.coef_, intercept_init=full.intercept_)
    ref = np.empty(500)
    for f in range(5):
        model = LinearProbe().fit(X[fold != f], y[fold != f])
        ref[fold == f] = model.decision_function(X[fold == f])
    assert np.abs(oof - ref).max() < 1e-3


def test_stratified_folds_keep_both_classes_everywhere():
    y = np.array([1] * 6 + [0] * 40)
    fold = stratified_folds(y, 5, seed=3)
    for f in range(5):
        assert (y[fold == f] == 1).sum() >= 1 and (y[fold == f] == 0).sum() >= 7


def test_cv_ap_reports_counts_only_with_few_labels(rng):
    X = unit_rows(rng, 30, 16)
    y = np.array([1] * 4 + [0] * 26)
    result = cross_validated_ap(X, y, seed=0)
    assert result["ap"] is None and result["n_positive"] == 4 and result["n_negative"] == 26
    assert "at least 5 positive" in result["reason"]


def test_cv_ap_is_high_on_separable_data_with_an_interval(rng):
    X = unit_rows(rng, 400, 32)
    y = (X[:, 0] > 0.1).astype(int)
    result = cross_validated_ap(X, y, seed=0)
    assert result["ap"] > 0.9
    assert result["ap_low"] <= result["ap"] <= result["ap_high"]
    assert result["reason"] is None and result["n_splits"] == 5


def test_cv_ap_interval_contains_estimate_and_random_labels_score_low(rng):
    X = unit_rows(rng, 400, 32)
    y = rng.integers(0, 2, 400)
    result = cross_validated_ap(X, y, seed=0)
    assert result["ap_low"] <= result["ap"] <= result["ap_high"]
    assert result["ap_high"] - result["ap_low"] > 0.02
    assert abs(result["ap"] - result["prevalence"]) < 0.15  # no signal: near chance


# --- diversity --------------------------------------------------------------------------


def test_spread_annotations_score_higher_than_clumped(rng):
    centres = unit_rows(rng, 10, 32) * 4
    X = (centres[rng.integers(0, 10, 4000)] + 0.1 * rng.standard_normal((4000, 32))).astype(np.float32)
    centroids = fit_clusters(X, k=10, seed=0, sample_size=2000)
    assert centroids.shape == (10, 32) and centroids.dtype == np.float32
    anchor = X[0]
    near = X[np.argsort(((X - anchor) ** 2).sum(axis=1))[:40]]  # one clump
    spread = X[rng.choice(4000, 40, replace=False)]
    labels = np.array([1, 0] * 20)
    clumped_score = diversity(near, labels, centroids)
    spread_score = diversity(spread, labels, centroids)
    for part in ("positive", "negative", "all"):
        assert spread_score[part]["entropy"] > clumped_score[part]["entropy"] + 0.3
        assert spread_score[part]["clusters"] > clumped_score[part]["clusters"]
    assert clumped_score["all"]["clusters"] == 1 and clumped_score["all"]["entropy"] == 0
    assert fit_clusters(X, k=10, seed=0, sample_size=2000).tolist() == centroids.tolist()


# --- build ------------------------------------------------------------------------------


@pytest.fixture
def store(tmp_path, rng):
    """A small float32 memmap like the product's vector store, ids 1..N."""
    X, y = planted(rng, 3000, 32, noise=0.1)
    path = tmp_path / "vectors.f32"
    X.tofile(path)
    mm = np.memmap(path, dtype=np.float32, mode="r", shape=X.shape)
    return mm, np.arange(1, 3001), y


def test_build_fits_scores_and_feeds_exclude_annotations(store, rng):
    X, ids, truth = store
    rows = rng.choice(3000, 200, replace=False)
    result = build_model(X, ids, ids[rows], truth[rows], seed=1, n_feed=25)
    assert result.scores.dtype == np.float32 and result.scores.shape == (3000,)
    assert np.allclose(result.scores, np.asarray(X) @ result.model.coef + result.model.intercept, atol=1e-4)
    assert set(result.feeds) == {"top_positive", "top_negative", "borderline", "random"}
    for name, feed_ids in result.feeds.items():
        assert len(feed_ids) == 25, name
        assert not np.isin(feed_ids, ids[rows]).any(), name
    metrics = result.metrics
    assert metrics["n_positive"] + metrics["n_negative"] == 200
    assert metrics["cv"]["ap"] > 0.8  # a learnable concept
    assert metrics["diversity"]["k"] == result.clusters.shape[0]
    assert {"gather", "fit", "score", "cv", "clusters", "diversity", "feeds", "total"} <= set(result.timings_ms)
    # The top positive feed's clips are mostly true positives.
    assert truth[np.searchsorted(ids, result.feeds["top_positive"])].mean() > 0.8
    # Cached clusters are not recomputed; a warm start lands on the same model.
    again = build_model(
        X, ids, ids[rows], truth[rows], seed=1, n_feed=25, previous=result.model, clusters=result.clusters
    )
    assert "clusters" not in again.timings_ms
    assert np.abs(again.model.coef - result.model.coef).max() < 1e-4
    assert again.metrics["warm_start"] is True
    model = ProbeModel.from_dict(result.model.to_dict())
    assert np.allclose(model.decision_function(X), result.scores, atol=1e-4)


def test_build_needs_both_classes(store):
    X, ids, _ = store
    with pytest.raises(NotReady, match="at least one positive and one negative") as info:
        build_model(X, ids, ids[:5], np.ones(5, int))
    assert info.value.status == 409


def test_build_rejects_unknown_ids_and_bad_labels(store):
    X, ids, _ = store
    with pytest.raises(InvalidInput, match="not in the corpus"):
        build_model(X, ids, np.array([1, 2, 999_999]), np.array([1, 0, 1]))
    with pytest.raises(InvalidInput, match="0 .negative. or 1"):
        build_model(X, ids, np.array([1, 2]), np.array([1, 2]))


def test_build_with_unsorted_ids_and_extra_exclusions(store, rng):
    X, ids, truth = store
    shuffled = rng.permutation(ids)  # row i holds clip shuffled[i]
    rows = np.arange(0, 3000, 20)
    skipped = shuffled[1:3000:20]
    result = build_model(X, shuffled, shuffled[rows], truth[rows], n_feed=40, exclude_ids=skipped)
    for feed_ids in result.feeds.values():
        assert not np.isin(feed_ids, shuffled[rows]).any()
        assert not np.isin(feed_ids, skipped).any()


@pytest.mark.bench  # a benchmark's smoke run: `make bench`, not `make test`
def test_bench_loop_runs_small():
    from videoannotator.bench.loop import run

    figures = run(clips=20_000, dim=32, annotations=200, repeats=2)
    assert figures["median_ms"] > 0 and figures["min_ms"] <= figures["median_ms"]
    assert set(figures["stages_median_ms"]) >= {"fit", "score", "cv", "feeds"}
    assert figures["peak_rss_over_matrix"] > 0


def test_single_thread_blas_limits_every_pool_and_restores():
    from threadpoolctl import threadpool_info

    from videoannotator.learn.classifier import single_thread_blas

    before = [pool["num_threads"] for pool in threadpool_info()]
    with single_thread_blas():
        with single_thread_blas():  # nested: shares the outer limit
            assert all(pool["num_threads"] == 1 for pool in threadpool_info())
        assert all(pool["num_threads"] == 1 for pool in threadpool_info())
    assert [pool["num_threads"] for pool in threadpool_info()] == before
