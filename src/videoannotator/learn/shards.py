"""The four feeds over a corpus split in shards: each shard answers alone, one merge.

The plan past 10M clips (docs/scale.md) keeps one vector store per shard, scored where it
lives (a Ray task per shard); only small per-shard answers travel. A feed page
``[offset, offset + n)`` ranks clips by a key (lower first, ties by id) after dropping
``exclude``; every clip of the global page is among its own shard's first ``offset + n``
after the same exclusion, so each shard sends those (ids and keys) and the merge sorts
the union by (key, id): the same page as over the unsharded corpus. The random feed's key
is a hash of (seed, id) (``feeds.random_keys``), not of a position, so it shards the same
way — a uniform sample over the union with each shard contributing in proportion to its
size, without any weighting step.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import numpy.typing as npt

from .feeds import Exclude, _as_exclude_array, random_keys

__all__ = ["feed_keys", "merge_pages", "shard_page", "sharded_feed"]


def feed_keys(name: str, scores: npt.NDArray[Any] | None, ids: npt.NDArray[Any], seed: int, threshold: float) -> Any:
    """The key a feed ranks by (lower first), as ``learn.feeds`` ranks."""
    if name == "random":
        return random_keys(ids, seed)
    assert scores is not None
    scores = np.asarray(scores)
    if name == "top_positive":
        return -scores
    if name == "top_negative":
        return scores
    if name == "borderline":
        return np.abs(scores - np.asarray(threshold, dtype=scores.dtype))
    raise ValueError(f"unknown feed {name!r}")


def shard_page(
    name: str,
    scores: npt.NDArray[Any] | None,
    ids: npt.NDArray[Any],
    depth: int,
    seed: int = 0,
    exclude: Exclude = None,
    threshold: float = 0.0,
) -> tuple[npt.NDArray[Any], npt.NDArray[Any]]:
    """One shard's answer: its first ``depth`` (= offset + n) clips by (key, id) after
    dropping ``exclude`` — (ids, keys)."""
    ids = np.asarray(ids)
    key = feed_keys(name, scores, ids, seed, threshold)
    if key.dtype.kind == "f" and np.isnan(key).any():
        key = np.where(np.isnan(key), np.inf, key)
    keep = ~np.isin(ids, _as_exclude_array(exclude)) if exclude is not None else np.ones(ids.size, bool)
    ids, key = ids[keep], key[keep]
    if depth < ids.size:
        kth = np.partition(key, depth - 1)[depth - 1]
        inside = np.flatnonzero(key <= kth)  # ties with the depth-th compete by id below
        ids, key = ids[inside], key[inside]
    order = np.lexsort((ids, key))[:depth]
    return ids[order], key[order]


def merge_pages(
    pages: Sequence[tuple[npt.NDArray[Any], npt.NDArray[Any]]], n: int, offset: int = 0
) -> npt.NDArray[Any]:
    """Merge the shards' answers: the union sorted by (key, id), ranks [offset, offset + n)."""
    if not pages:
        return np.empty(0, np.int64)
    ids = np.concatenate([p[0] for p in pages])
    keys = np.concatenate([p[1] for p in pages])
    order = np.lexsort((ids, keys))
    return ids[order[offset : offset + n]]


def sharded_feed(
    name: str,
    shards: Sequence[tuple[npt.NDArray[Any] | None, npt.NDArray[Any]]],
    n: int,
    seed: int = 0,
    exclude: Exclude = None,
    offset: int = 0,
    threshold: float = 0.0,
) -> npt.NDArray[Any]:
    """A feed page over shards given as (scores, ids) pairs; equals the unsharded feed."""
    depth = offset + n
    if n <= 0:
        return np.empty(0, np.int64)
    pages = [shard_page(name, scores, ids, depth, seed, exclude, threshold) for scores, ids in shards]
    return merge_pages(pages, n, offset)
