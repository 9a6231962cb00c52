"""Scale: the int8 scan copy (vectors/compact.py), exact re-scoring of feed candidates
(learn/rescore.py), Build on it, per-version score pruning (loop/scores.py), and the
shard merges of the plan past 10M (learn/shards.py, search/shards.py)."""

import numpy as np
import pytest

from videoannotator.bench.synthetic import commit_random_video
from videoannotator.learn.build import build_model
from videoannotator.learn.classifier import score_corpus
from videoannotator.learn.feeds import FEEDS
from videoannotator.learn.rescore import exact_scores, rescored_feed
from videoannotator.learn.shards import sharded_feed
from videoannotator.search.exact import ExactIndex
from videoannotator.search.shards import search_shards
from videoannotator.vectors.compact import CompactMatrix, fit_scale, padded_width
from videoannotator.workspace import Workspace

N, D = 20_000, 430


@pytest.fixture(scope="module")
def corpus(tmp_path_factory):
    """Features shaped like the product's: a unit 384-d block and 46 fixed-scale columns."""
    folder = tmp_path_factory.mktemp("scale")
    rng = np.random.default_rng(3)
    X = np.empty((N, D), np.float32)
    semantic = rng.standard_normal((N, 384)).astype(np.float32)
    X[:, :384] = semantic / np.linalg.norm(semantic, axis=1, keepdims=True)
    X[:, 384:] = np.tanh(rng.standard_normal((N, D - 384))).astype(np.float32) / np.sqrt(D - 384)
    X.tofile(folder / "features.f32")
    matrix = np.memmap(folder / "features.f32", dtype=np.float32, mode="r", shape=(N, D))
    compact = CompactMatrix(folder / "features.i8", D)
    assert compact.sync(matrix[: N // 2]) == N // 2  # in two steps, as ingests append
    assert compact.sync(matrix) == N - N // 2
    return matrix, compact, rng


def test_compact_copy_round_trips_within_half_a_step(corpus, tmp_path):
    matrix, compact, _ = corpus
    assert compact.rows_on_disk() == N and compact.width == padded_width(D) == 448
    assert compact.path.stat().st_size == N * 448
    # The scale was fitted on the first half: the few later rows beyond it are the outliers,
    # and every other row is within half a step of its float32 value.
    beyond = np.flatnonzero((np.abs(matrix / compact.scale) > 127.5).any(axis=1))
    assert beyond.size and np.array_equal(compact.outliers, beyond) and beyond.min() >= N // 2
    rows = np.setdiff1d(np.arange(0, N, 7), beyond)
    error = np.abs(compact.dequantised(rows) - matrix[rows])
    assert np.all(error <= compact.scale / 2 + 1e-7)
    again = CompactMatrix(compact.path, D)  # reopened from its files: the same copy
    assert np.array_equal(again.scale, compact.scale) and np.array_equal(again.outliers, compact.outliers)
    whole = CompactMatrix(tmp_path / "whole.i8", D)  # written at once: fitted on every row
    whole.sync(matrix)
    assert whole.outliers.size == 0
    assert np.all(np.abs(whole.dequantised(np.arange(N)) - matrix) <= whole.scale / 2 + 1e-7)
    # Too many clipped rows: the copy is written again with a scale fitted on all of them.
    grown = np.vstack([matrix[:2000], 3 * matrix[2000:4000]]).astype(np.float32)
    small = CompactMatrix(tmp_path / "small.i8", D)
    small.sync(grown[:2000])
    small.sync(grown)
    assert small.outliers.size == 0 and np.array_equal(small.scale, fit_scale(grown))
    with pytest.raises(ValueError):
        small.sync(np.zeros((5, 12), np.float32))


def test_approximate_scores_stay_within_the_bound(corpus):
    matrix, compact, rng = corpus
    coef, intercept = rng.standard_normal(D) * 3, -0.4
    exact = score_corpus(matrix, coef, intercept)
    approx = compact.scores(N, coef, intercept)
    bound, sigma = compact.error_bound(coef), compact.error_sigma(coef)
    worst = float(np.abs(approx - exact).max())
    assert 0 < worst <= bound
    assert sigma < bound / 10 and worst < 8 * sigma  # the bound is loose; the errors are not


def test_rescored_rows_get_exact_scores(corpus):
    matrix, compact, rng = corpus
    coef = rng.standard_normal(D)
    exact = score_corpus(matrix, coef, 0.2)
    approx = compact.scores(N, coef, 0.2)
    rows = np.sort(rng.choice(N, 500, replace=False))
    # The same float32 dot as score_corpus; BLAS may sum a row in another order inside a
    # differently shaped block, so equal to the last bit or two.
    assert np.allclose(exact_scores(matrix, coef, 0.2)(rows), exact[rows], rtol=1e-6, atol=1e-6)
    ids = np.arange(N)
    picked, cand, scores, mode = rescored_feed(
        "top_positive", approx, compact.error_bound(coef), exact_scores(matrix, coef, 0.2), ids, 50
    )
    assert mode == "bound" and np.allclose(scores, exact[cand], rtol=1e-6, atol=1e-6)
    assert np.array_equal(picked, FEEDS["top_positive"](exact, ids, 50))
    # Forced past the cap, it says so (and still returns a full page).
    picked, cand, _, mode = rescored_feed(
        "borderline", approx, compact.error_bound(coef), exact_scores(matrix, coef, 0.2), ids, 50, cap=60
    )
    assert mode == "capped" and cand.size == 60 and picked.size == 50


def test_build_on_the_compact_copy_gives_the_float32_feeds(corpus):
    matrix, compact, rng = corpus
    planted = rng.standard_normal(D)
    labeled = rng.choice(N, 400, replace=False)
    y = (matrix[labeled] @ planted > 0).astype(int)
    skipped = rng.choice(N, 50, replace=False)
    plain = build_model(matrix, np.arange(N), labeled, y, n_feed=100, exclude_ids=skipped, n_bootstrap=50)
    small = build_model(
        matrix, np.arange(N), labeled, y, n_feed=100, exclude_ids=skipped, n_bootstrap=50, compact=compact
    )
    modes = small.metrics["scan"]["modes"]
    assert modes["top_positive"] == modes["top_negative"] == "bound"  # guaranteed; borderline: 6 sigma
    assert modes["borderline"] in ("bound", "6 sigma")
    for name in FEEDS:
        assert np.array_equal(plain.feeds[name], small.feeds[name]), name
    assert plain.model.threshold == small.model.threshold
    rescored = np.isin(
        np.arange(N), np.concatenate([small.feeds[f] for f in ("top_positive", "top_negative", "borderline")])
    )
    assert np.allclose(small.scores[rescored], plain.scores[rescored], rtol=1e-6, atol=1e-6)  # exact for shown clips
    assert np.abs(small.scores - plain.scores).max() <= small.metrics["scan"]["error_bound"]


def test_sharded_feeds_and_search_equal_the_unsharded_answer(corpus):
    matrix, _, rng = corpus
    scores = score_corpus(matrix, rng.standard_normal(D), 0.1)
    ids = np.arange(N)
    cuts = np.sort(rng.choice(np.arange(1, N), 7, replace=False))  # 8 shards of uneven size
    shards = list(zip(np.split(scores, cuts), np.split(ids, cuts)))
    exclude = rng.choice(N, 300, replace=False)
    for name, feed in FEEDS.items():
        for offset in (0, 40):
            whole = feed(scores, ids, 40, 7, exclude=exclude, offset=offset, threshold=0.3)
            merged = sharded_feed(name, shards, 40, 7, exclude=exclude, offset=offset, threshold=0.3)
            assert np.array_equal(whole, merged), (name, offset)
    vectors = np.ascontiguousarray(matrix[:, :384])
    indexes = [ExactIndex.over(part_ids, part) for part_ids, part in zip(np.split(ids, cuts), np.split(vectors, cuts))]
    single = ExactIndex.over(ids, vectors)
    for query in rng.standard_normal((3, 384)).astype(np.float32):
        want_ids, want_scores = single.search(query, 50, exclude=exclude, offset=10)
        got_ids, got_scores = search_shards(indexes, query, 50, exclude=exclude, offset=10)
        assert np.array_equal(want_ids, got_ids) and np.allclose(want_scores, got_scores)


def test_workspace_build_scans_the_copy_and_prunes_old_scores(tmp_path, monkeypatch):
    import videoannotator.loop.scores as loop_scores
    from videoannotator.vectors import matrices

    ws = Workspace(tmp_path / "home", embedder="conse-effnet-minilm")
    commit_random_video(ws, np.random.default_rng(5), "corpus", 3000, 16)
    ws.create_label("red")
    ws.annotate("red", list(range(40)), "positive", "ann")
    ws.annotate("red", list(range(40, 100)), "negative", "ann")
    first = ws.build("red")
    assert "scan" not in first["metrics"]  # below the threshold: the float32 scan, as before
    assert ws.matrices.compact("vectors", 3000) is None

    monkeypatch.setattr(matrices, "COMPACT_THRESHOLD", 1000)
    monkeypatch.setattr(loop_scores, "KEEP_ALL_BELOW", 1000)
    ws.annotate("red", [100, 101], "negative", "ann")
    second = ws.build("red")
    assert second["metrics"]["scan"]["kind"] == "int8"
    assert ws.matrices.compact_path("vectors").exists()
    page = ws.feed("red", "top_positive", n=20, version=second["version"])
    assert [c["clip_id"] for c in page["clips"]] == second["feeds"]["top_positive"][:20]
    ws.annotate("red", [102], "negative", "ann")
    third = ws.build("red")
    label_id = ws.label("red")["id"]
    assert not ws.models.scores_path(label_id, first["version"]).exists()  # neither latest nor deployed
    assert ws.models.scores_path(label_id, third["version"]).exists()
    # A pruned version's feed is recomputed from its weights: the float32 scores.
    page = ws.feed("red", "top_positive", n=20, version=first["version"])
    assert [c["clip_id"] for c in page["clips"]] == first["feeds"]["top_positive"][:20]


def test_kept_random_order_pages_as_the_random_feed():
    from videoannotator.learn.rescore import RandomOrder

    order = RandomOrder(depth=300)
    ids = np.arange(50_000, dtype=np.int64)
    exclude = np.arange(0, 50_000, 97)[:150]
    for n_rows in (20_000, 20_000, 50_000):  # first, again (kept), grown (merged)
        got = order.page(ids[:n_rows], 100, 4, exclude)
        assert np.array_equal(got, FEEDS["random"](None, ids[:n_rows], 100, 4, exclude=exclude))
    other = ids[::-1].copy()  # another corpus: starts over
    assert np.array_equal(order.page(other, 100, 4), FEEDS["random"](None, other, 100, 4))
    assert np.array_equal(order.page(ids, 200, 4, exclude), FEEDS["random"](None, ids, 200, 4, exclude=exclude))


def test_read_rows_reads_exactly_the_rows_asked(corpus):
    from videoannotator.vectors.compact import read_rows

    matrix, _, rng = corpus
    rows = rng.choice(N, 300, replace=False)  # unsorted, as feeds hand them over
    assert np.array_equal(read_rows(matrix, rows), matrix[rows])
    plain = np.asarray(matrix[:50])  # not a memory map: indexed as usual
    assert np.array_equal(read_rows(plain, [3, 1]), plain[[3, 1]])
    assert np.array_equal(read_rows(matrix[10:], [0, 5]), matrix[[10, 15]])  # a view: indexed as usual
