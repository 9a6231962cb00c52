"""Search over a corpus split in shards: every shard's index answers top-(offset + k), one merge.

Each shard holds its own index (exact, or an ANN index trained on that shard), searched
where the shard lives; the global result is the union of the shard results sorted by
score (descending, ties by id) — with exact shard indexes, the same as one exact index
over all clips. ``exclude`` is passed to every shard (ids not in a shard cost nothing).
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

from .base import Exclude, SearchResult, VectorIndex

__all__ = ["merge_results", "search_shards"]


def merge_results(results: Sequence[SearchResult], k: int, offset: int = 0) -> SearchResult:
    """Merge single-query shard results (ids, scores): best first, ranks [offset, offset + k)."""
    ids = np.concatenate([np.asarray(r[0], np.int64) for r in results]) if results else np.empty(0, np.int64)
    scores = np.concatenate([np.asarray(r[1], np.float32) for r in results]) if results else np.empty(0, np.float32)
    valid = ids >= 0
    ids, scores = ids[valid], scores[valid]
    order = np.lexsort((ids, -scores))[offset : offset + k]
    return ids[order], scores[order]


def search_shards(
    indexes: Sequence[VectorIndex], query: npt.ArrayLike, k: int = 10, *, exclude: Exclude = None, offset: int = 0
) -> SearchResult:
    """One query against every shard's index, merged."""
    depth = int(k) + int(offset)
    return merge_results([index.search(query, depth, exclude=exclude) for index in indexes], int(k), int(offset))
