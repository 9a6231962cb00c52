"""Data diversity: how widely a label's annotations cover the corpus.

The corpus is clustered once (``faiss.Kmeans`` on a random sample of its vectors; the
centroids depend on the corpus, not on the label, so callers cache them). Each annotated clip
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

from typing import Any

import faiss
import numpy as np
import numpy.typing as npt

from .classifier import single_thread_blas

__all__ = ["assign", "diversity", "fit_clusters"]

DEFAULT_CLUSTERS = 50
DEFAULT_SAMPLE = 8_000
_READ_ROWS_FROM = 1_000_000  # vectors.compact.COMPACT_THRESHOLD: where Build scans the int8 copy


def assign(X: npt.NDArray[Any], centroids: npt.ArrayLike, chunk_rows: int = 65_536) -> npt.NDArray[np.int32]:
    """Index of the nearest centroid (Euclidean) for each row of X, in row chunks.

    argmin_c ||x - c||^2 = argmin_c (||c||^2 / 2 - x @ c): one float32 matmul per chunk.
    """
    C = np.asarray(centroids, dtype=np.float32)
    half_norms = 0.5 * np.einsum("ij,ij->i", C, C)
    out = np.empty(X.shape[0], dtype=np.int32)
    for start in range(0, X.shape[0], chunk_rows):
        block = np.asarray(X[start : start + chunk_rows], dtype=np.float32)
        out[start : start + chunk_rows] = np.argmin(half_norms[None, :] - block @ C.T, axis=1)
    return out


def fit_clusters(
    X: npt.NDArray[Any], k: int = DEFAULT_CLUSTERS, seed: int = 0, sample_size: int = DEFAULT_SAMPLE, n_iter: int = 10
) -> npt.NDArray[np.float32]:
    """k-means centroids (k, d) float32 of a random sample of X's rows; deterministic per seed.

    ``faiss.Kmeans`` (``n_iter`` Lloyd iterations from random sample points; an empty
    cluster is re-seeded by splitting a large one) on one thread. X may be a memmap: only
    the sampled rows are read (in file order).
    """
    n = X.shape[0]
    if n == 0:
        raise ValueError("cannot cluster an empty corpus")
    rng = np.random.default_rng(seed)
    rows = np.sort(rng.choice(n, size=min(sample_size, n), replace=False))
    if n >= _READ_ROWS_FROM:  # a large memory-mapped corpus: read exactly the sampled rows
        from ..vectors.compact import read_rows

        S = np.ascontiguousarray(read_rows(X, rows), dtype=np.float32)
    else:
        S = np.ascontiguousarray(X[rows], dtype=np.float32)
    k = int(min(k, S.shape[0]))
    kmeans = faiss.Kmeans(
        S.shape[1],
        k,
        niter=n_iter,
        seed=seed,
        verbose=False,
        min_points_per_centroid=1,
        max_points_per_centroid=S.shape[0],
    )
    with single_thread_blas():  # OpenMP too: faiss's threads stall on busy cores as BLAS's do
        kmeans.train(S)
    centroids: npt.NDArray[np.float32] = np.ascontiguousarray(kmeans.centroids, dtype=np.float32)
    return centroids


def _spread(cluster_ids: npt.NDArray[np.integer[Any]], k: int) -> dict[str, Any]:
    count = int(cluster_ids.size)
    if count == 0:
        return {"count": 0, "clusters": 0, "coverage": None, "entropy": None}
    hist = np.bincount(cluster_ids, minlength=k)
    share = hist[hist > 0] / count
    entropy = float(-(share * np.log(share)).sum() / np.log(k)) if k > 1 else 0.0
    hit = int((hist > 0).sum())
    return {
        "count": count,
        "clusters": hit,
        "coverage": round(hit / min(k, count), 6),
        "entropy": round(entropy, 6) if entropy > 0 else 0.0,
    }


def diversity(X_labeled: npt.ArrayLike, labels: npt.ArrayLike, centroids: npt.ArrayLike) -> dict[str, Any]:
    """Cluster coverage of the positive, negative and all annotations (see module doc).

    ``X_labeled`` (m, d) are the annotated clips' vectors, ``labels`` their 0/1 values.
    """
    positive = np.asarray(labels).reshape(-1) == 1
    k = int(np.asarray(centroids).shape[0])
    cluster_ids = assign(np.asarray(X_labeled), centroids) if positive.size else np.empty(0, np.int32)
    return {
        "k": k,
        "positive": _spread(cluster_ids[positive], k),
        "negative": _spread(cluster_ids[~positive], k),
        "all": _spread(cluster_ids, k),
    }
