"""Vector search: exact top-k against a full sort, ANN recall against exact, persistence, auto."""

from __future__ import annotations

import numpy as np
import pytest

from videoannotator.bench.search import ClusteredSource, random_unit_vectors, run
from videoannotator.errors import InvalidInput, NotFound
from videoannotator.search import AUTO_THRESHOLD, load_index, make_index, open_index
from videoannotator.search.ann import AnnIndex, auto_nlist
from videoannotator.search.exact import ExactIndex

DIM = 64


def full_sort_top(matrix, ids, query, k, exclude=()):
    scores = matrix @ query
    order = [i for i in np.argsort(-scores, kind="stable") if ids[i] not in set(exclude)]
    return ids[order[:k]], scores[order[:k]]


@pytest.fixture(scope="module")
def corpus():
    rng = np.random.default_rng(0)
    matrix = random_unit_vectors(3000, DIM, rng)
    ids = rng.permutation(np.arange(10, 10 + 3000 * 7, 7)).astype(np.int64)  # not ascending
    queries = random_unit_vectors(5, DIM, np.random.default_rng(1))
    return ids, matrix, queries


@pytest.fixture(scope="module")
def clustered():
    """20k clips of a clustered corpus (like real embeddings) and 50 queries from it."""
    rng = np.random.default_rng(3)
    source = ClusteredSource(384, rng, centres=200, topics=16)
    matrix = source.sample(20_000, rng)
    queries = source.sample(50, np.random.default_rng(4))
    ids = np.arange(1, 20_001, dtype=np.int64)
    return source, ids, matrix, queries


@pytest.fixture(scope="module")
def ann(clustered):
    _, ids, matrix, _ = clustered
    index = AnnIndex(384)
    index.add(ids, matrix)
    return index


def recall(found, truth):
    return np.mean([len(np.intersect1d(f, t)) / len(t) for f, t in zip(found, truth)])


# -- exact ---------------------------------------------------------------------------------
def test_exact_returns_the_true_top_k(corpus):
    ids, matrix, queries = corpus
    index = ExactIndex.over(ids, matrix, chunk_rows=700)  # several chunks
    for query in queries:
        got_ids, got_scores = index.search(query, 25)
        want_ids, want_scores = full_sort_top(matrix, ids, query, 25)
        assert got_ids.tolist() == want_ids.tolist()
        np.testing.assert_allclose(got_scores, want_scores, rtol=1e-5, atol=1e-6)


def test_exact_batch_matches_single_queries(corpus):
    ids, matrix, queries = corpus
    index = ExactIndex.over(ids, matrix)
    batch_ids, batch_scores = index.search(queries, 10)
    assert batch_ids.shape == batch_scores.shape == (len(queries), 10)
    for row, query in enumerate(queries):
        assert batch_ids[row].tolist() == index.search(query, 10)[0].tolist()


def test_exact_honours_exclude_and_offset(corpus):
    ids, matrix, queries = corpus
    index = ExactIndex.over(ids, matrix, chunk_rows=512)
    query = queries[0]
    top, _ = index.search(query, 60)
    exclude = {int(top[0]), int(top[3]), int(top[17]), 999_999}  # one id not in the index
    want, _ = full_sort_top(matrix, ids, query, 40, exclude)
    pages = [index.search(query, 10, exclude=exclude, offset=o)[0] for o in (0, 10, 20, 30)]
    assert np.concatenate(pages).tolist() == want.tolist()
    assert index.search(query, 10, exclude=np.array(sorted(exclude)))[0].tolist() == pages[0].tolist()


def test_exact_returns_fewer_when_the_corpus_runs_out(corpus):
    ids, matrix, queries = corpus
    index = ExactIndex.over(ids[:8], matrix[:8])
    assert len(index.search(queries[0], 20)[0]) == 8
    assert len(index.search(queries[0], 20, offset=5)[0]) == 3
    assert len(index.search(queries[0], 20, exclude=ids[:8])[0]) == 0


def test_exact_add_in_pieces_equals_one_view(corpus):
    ids, matrix, queries = corpus
    pieces = ExactIndex(DIM)
    for start in range(0, len(ids), 250):  # 12 adds: small segments get merged
        pieces.add(ids[start : start + 250], matrix[start : start + 250])
    whole = ExactIndex.over(ids, matrix)
    assert len(pieces) == len(whole) == len(ids)
    assert pieces.search(queries, 30)[0].tolist() == whole.search(queries, 30)[0].tolist()
    np.testing.assert_array_equal(pieces.vectors_for(ids[[5, 2000]]), matrix[[5, 2000]])
    with pytest.raises(NotFound):
        pieces.vectors_for([123_456_789])


def test_sync_adds_only_new_rows_and_checks_it_is_in_step(corpus):
    ids, matrix, _queries = corpus
    index = ExactIndex.over(ids[:1000], matrix[:1000])
    assert index.sync(ids[:2000], matrix[:2000]) == 1000
    assert len(index) == 2000
    assert index.sync(ids[:2000], matrix[:2000]) == 0
    other = ids.copy()
    other[1999] = -5
    with pytest.raises(ValueError, match="rebuild"):
        index.sync(other, matrix)


def test_bad_queries_say_what_is_wrong(corpus):
    ids, matrix, _ = corpus
    index = ExactIndex.over(ids, matrix)
    with pytest.raises(InvalidInput, match="shape"):
        index.search(np.ones(DIM + 1, np.float32), 5)
    with pytest.raises(InvalidInput, match="k must be"):
        index.search(matrix[0], 0)
    with pytest.raises(InvalidInput, match="non-zero"):
        index.search(np.zeros(DIM, np.float32), 5)
    with pytest.raises(InvalidInput, match="Unknown index kind"):
        make_index("hnsw", DIM)


# -- ANN -----------------------------------------------------------------------------------
def test_ann_recall_against_exact_on_clustered_data(clustered, ann):
    _, ids, matrix, queries = clustered
    exact = ExactIndex.over(ids, matrix)
    truth, truth_scores = exact.search(queries, 100)
    found, _ = ann.search(queries, 100)
    assert recall(found, truth) >= 0.95

    ann.exact = exact  # re-scoring against the float32 matrix: true cosines
    try:
        found, scores = ann.search(queries, 100)
    finally:
        ann.exact = None
    assert recall(found, truth) >= 0.95
    same = found == truth
    np.testing.assert_allclose(scores[same], truth_scores[same], rtol=1e-5, atol=1e-6)


def test_ann_incremental_add_finds_new_clips(clustered):
    _, ids, matrix, _ = clustered
    index = AnnIndex(384)
    index.add(ids[:10_000], matrix[:10_000])
    rng = np.random.default_rng(9)
    theme = random_unit_vectors(1, 384, rng)[0]  # a kind of shot the corpus never had
    new = theme + 0.05 * random_unit_vectors(300, 384, rng)
    new /= np.linalg.norm(new, axis=1, keepdims=True)
    new_ids = np.arange(50_001, 50_301, dtype=np.int64)
    index.add(new_ids, new)
    assert len(index) == 10_300 and index.last_id == 50_300
    found, _ = index.search(theme, 100)
    assert set(found.tolist()) <= set(new_ids.tolist()) and len(found) == 100


def test_ann_exclude_offset_and_exact_fallback(clustered, ann):
    _, ids, matrix, queries = clustered
    exact = ExactIndex.over(ids, matrix)
    ann.exact = exact
    try:
        query = queries[0]
        top, _ = ann.search(query, 50)
        annotated = top[::2]
        found, _ = ann.search(query, 50, exclude=annotated)
        assert not np.isin(found, annotated).any() and len(found) == 50
        pages = [ann.search(query, 10, offset=o)[0] for o in (0, 10, 20)]
        assert np.concatenate(pages).tolist() == ann.search(query, 30)[0].tolist()

        # All but 40 clips annotated: the probed lists run dry, exact answers instead.
        keep = ids[-40:]
        found, _ = ann.search(query, 100, exclude=ids[:-40])
        assert sorted(found.tolist()) == sorted(keep.tolist())
        assert found.tolist() == exact.search(query, 100, exclude=ids[:-40])[0].tolist()

        deep, _ = ann.search(query, 100, offset=ann.max_depth)  # past max_depth: exact
        assert deep.tolist() == exact.search(query, 100, offset=ann.max_depth)[0].tolist()
    finally:
        ann.exact = None


def test_ann_nlist_follows_corpus_size():
    assert auto_nlist(20_000) == 256
    assert auto_nlist(500_000) == 1024
    assert auto_nlist(10) == 16
    small = AnnIndex(DIM)
    small.add(np.arange(100), random_unit_vectors(100, DIM, np.random.default_rng(0)))
    assert small.nlist == 2  # ≥ 39 training clips per list
    assert len(small.search(np.ones(DIM, np.float32), 10)[0]) == 10


# -- persistence -----------------------------------------------------------------------------
def test_save_load_round_trip(tmp_path, clustered, ann, corpus):
    _, _, _, queries = clustered
    ann.save(tmp_path / "clips.ann")
    again = load_index(tmp_path / "clips.ann")
    assert isinstance(again, AnnIndex) and len(again) == len(ann) and again.last_id == ann.last_id
    assert again.nlist == ann.nlist and again.trained_on == ann.trained_on
    assert again.search(queries, 20)[0].tolist() == ann.search(queries, 20)[0].tolist()

    ids, matrix, corpus_queries = corpus
    exact = ExactIndex.over(ids, matrix)
    exact.save(tmp_path / "clips.exact")
    loaded = ExactIndex.load(tmp_path / "clips.exact")
    assert loaded.search(corpus_queries, 20)[0].tolist() == exact.search(corpus_queries, 20)[0].tolist()
    with pytest.raises(InvalidInput, match="not 'ann'"):
        AnnIndex.load(tmp_path / "clips.exact")
    (tmp_path / "junk").write_bytes(b"not an index")
    with pytest.raises(InvalidInput, match="not a Video Annotator index"):
        load_index(tmp_path / "junk")


# -- auto and open_index ------------------------------------------------------------------
def test_auto_picks_exact_for_small_corpora():
    assert isinstance(make_index("auto", DIM, size=10), ExactIndex)
    assert isinstance(make_index("auto", DIM, size=AUTO_THRESHOLD), AnnIndex)
    assert isinstance(make_index("exact", DIM, size=10 * AUTO_THRESHOLD), ExactIndex)
    assert isinstance(make_index("ann", DIM, size=10, nprobe=4), AnnIndex)


@pytest.mark.slow
def test_open_index_builds_persists_and_adds_only_new_rows(tmp_path, clustered):
    _, ids, matrix, queries = clustered
    path = tmp_path / "clips.ann"
    small = open_index(path, ids[:500], matrix[:500])
    assert isinstance(small, ExactIndex) and not path.exists()

    first = open_index(path, ids[:15_000], matrix[:15_000], threshold=1000)
    assert isinstance(first, AnnIndex) and path.exists() and len(first) == 15_000
    trained = first.nlist
    assert first.sync(ids[:15_100], matrix[:15_100]) == 100  # in-process growth, e.g. the server
    assert len(first.exact) == 15_100
    found, scores = first.search(matrix[15_050], 1)  # a new clip finds itself, scored exactly
    assert found.tolist() == [ids[15_050]] and abs(scores[0] - 1) < 1e-5

    grown = open_index(path, ids, matrix, threshold=1000)  # loaded, 5,000 rows added, saved
    assert len(grown) == 20_000 and grown.nlist == trained and grown.trained_on == 15_000
    assert len(load_index(path)) == 20_000
    exact_top = ExactIndex.over(ids, matrix).search(queries, 100)[0]
    assert recall(grown.search(queries, 100)[0], exact_top) >= 0.95

    path.write_bytes(b"VAINDEX1 {broken")  # unreadable: rebuilt from the matrix
    rebuilt = open_index(path, ids, matrix, threshold=1000)
    assert len(rebuilt) == 20_000 and rebuilt.trained_on == 20_000


@pytest.mark.bench  # a benchmark's smoke run: `make bench`, not `make test`
def test_bench_runs_small():
    result = run(clips=3000, dim=32, queries=5, k=10, data=("clustered",))
    figures = result["datasets"]["clustered"]
    for key in ("exact_median_ms", "ann_median_ms", "recall_at_10", "ann_build_s", "ann_index_mb"):
        assert key in figures
    assert figures["exclude_respected"]
