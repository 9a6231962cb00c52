"""Data diversity: how widely a label's annotations cover the corpus.

The corpus is clustered once (k-means on a random sample of its vectors; the centroids
depend on the corpus, not on the label, so callers cache them). Each annotated clip
falls in the cluster of its nearest centroid. For the positives, the negatives, and all
annotations together:

- ``clusters``: how many of the k clusters hold at least one of those clips;
- ``coverage`` = clusters / min(k, count): the share of the clusters that this many
  clips could at most reach (1.0 = every clip in a different cluster, or every cluster
  reached);
- ``entropy`` = H(share of the clips per cluster) / log(k), in [0, 1]: 0 when all sit
  in one cluster, 1 when they spread evenly over all k.

Positives of a narrow concept are expected to gather in a few clusters; negatives
gathered in a few clusters mean that whole regions of the catalog were never shown to
the annotator, so the model's scores there are guesses - the random feed fixes that.
"""

from __future__ import annotations

import numpy as np

from .classifier import single_thread_blas

__all__ = ["assign", "diversity", "fit_clusters"]

DEFAULT_CLUSTERS = 50
DEFAULT_SAMPLE = 8_000


def _sq_dist_proxy(X: np.ndarray, centroids: np.ndarray, half_norms: np.ndarray) -> np.ndarray:
    """||x - c||^2 / 2 minus ||x||^2 / 2 (the same argmin), as one float32 matmul."""
    return half_norms[None, :] - X @ centroids.T


def assign(X, centroids: np.ndarray, chunk_rows: int = 65_536) -> np.ndarray:
    """Index of the nearest centroid (Euclidean) for each row of X, in row chunks."""
    centroids = np.asarray(centroids, dtype=np.float32)
    half_norms = 0.5 * np.einsum("ij,ij->i", centroids, centroids)
    out = np.empty(X.shape[0], dtype=np.int32)
    for start in range(0, X.shape[0], chunk_rows):
        block = np.asarray(X[start:start + chunk_rows], dtype=np.float32)
        out[start:start + chunk_rows] = np.argmin(_sq_dist_proxy(block, centroids, half_norms), axis=1)
    return out


def fit_clusters(X, k: int = DEFAULT_CLUSTERS, seed: int = 0, sample_size: int = DEFAULT_SAMPLE,
                 n_iter: int = 10) -> np.ndarray:
    """k-means centroids (k, d) float32 from a random sample of X's rows; deterministic per seed.

    k-means++ seeding (on a quarter of the sample), then ``n_iter`` Lloyd iterations in
    float32. A cluster left empty
    is re-seeded at the sample point farthest from its centroid. X may be a memmap: only
    the sampled rows are read (in file order).
    """
    n = X.shape[0]
    if n == 0:
        raise ValueError("cannot cluster an empty corpus")
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(n, size=min(sample_size, n), replace=False))
    S = np.asarray(X[rows], dtype=np.float32)
    k = int(min(k, S.shape[0]))
    with single_thread_blas():
        # k-means++ seeding is k sequential passes; over a quarter of the sample it is
        # as good a start and 4x cheaper (the sample is already in random order).
        centroids = _kmeans_pp(S[rng.permutation(S.shape[0])[: max(k, S.shape[0] // 4)]], k, rng)
        for _ in range(n_iter):
            half_norms = 0.5 * np.einsum("ij,ij->i", centroids, centroids)
            proxy = _sq_dist_proxy(S, centroids, half_norms)
            labels = np.argmin(proxy, axis=1)
            counts = np.bincount(labels, minlength=k)
            sums = _sum_by_label(S, labels, k)
            moved = counts > 0
            new = centroids.copy()
            new[moved] = sums[moved] / counts[moved, None]
            if (~moved).any():
                # Re-seed empty clusters at the worst-fitted points.
                point_cost = proxy[np.arange(S.shape[0]), labels]
                worst = np.argsort(-point_cost, kind="stable")[: int((~moved).sum())]
                new[~moved] = S[worst]
            if np.allclose(new, centroids, atol=1e-6):
                centroids = new
                break
            centroids = new
    return centroids.astype(np.float32)


def _sum_by_label(S, labels, k):
    """Row sums per label: sort rows by label, then one np.add.reduceat (no k x n matmul)."""
    counts = np.bincount(labels, minlength=k)
    present = np.flatnonzero(counts)
    starts = (np.cumsum(counts) - counts)[present]
    sums = np.zeros((k, S.shape[1]), dtype=np.float32)
    sums[present] = np.add.reduceat(S[np.argsort(labels, kind="stable")], starts, axis=0)
    return sums


def _kmeans_pp(S, k, rng):
    """k-means++ seeding (D^2 sampling)."""
    n = S.shape[0]
    sq_norms = np.einsum("ij,ij->i", S, S)
    first = int(rng.integers(n))
    centroids = np.empty((k, S.shape[1]), dtype=np.float32)
    centroids[0] = S[first]
    closest = np.maximum(sq_norms - 2 * S @ S[first] + sq_norms[first], 0)
    for j in range(1, k):
        total = closest.sum()
        if total <= 0:  # fewer distinct points than k: repeat one
            pick = int(rng.integers(n))
        else:
            pick = int(np.searchsorted(np.cumsum(closest), rng.random() * total))
            pick = min(pick, n - 1)
        centroids[j] = S[pick]
        dist = np.maximum(sq_norms - 2 * S @ S[pick] + sq_norms[pick], 0)
        np.minimum(closest, dist, out=closest)
    return centroids


def _spread(cluster_ids: np.ndarray, k: int) -> dict:
    count = int(cluster_ids.size)
    if count == 0:
        return {"count": 0, "clusters": 0, "coverage": None, "entropy": None}
    hist = np.bincount(cluster_ids, minlength=k)
    share = hist[hist > 0] / count
    entropy = float(-(share * np.log(share)).sum() / np.log(k)) if k > 1 else 0.0
    hit = int((hist > 0).sum())
    return {"count": count, "clusters": hit, "coverage": round(hit / min(k, count), 6),
            "entropy": round(entropy, 6) if entropy > 0 else 0.0}


def diversity(X_labeled, labels, centroids: np.ndarray) -> dict:
    """Cluster coverage of the positive, negative and all annotations (see module doc).

    ``X_labeled`` (m, d) are the annotated clips' vectors, ``labels`` their 0/1 values.
    """
    labels = np.asarray(labels) == 1
    k = int(np.asarray(centroids).shape[0])
    cluster_ids = assign(np.asarray(X_labeled), centroids) if len(labels) else np.empty(0, np.int64)
    return {
        "k": k,
        "positive": _spread(cluster_ids[labels], k),
        "negative": _spread(cluster_ids[~labels], k),
        "all": _spread(cluster_ids, k),
    }
