"""The four active-learning feeds: pure functions of (scores, ids, n, seed) -> ids.

Every feed has the signature::

    feed(scores, ids, n, seed, exclude=None, offset=0, threshold=0.0) -> np.ndarray of ids

- ``scores``: one model score per clip (logits from ``score_corpus``; probabilities work
  too with a probability threshold), aligned with ``ids``.
- ``threshold``: the model version's decision threshold (``decision.is_positive``: a clip
  is positive when its score is above it). The borderline feed is the clips closest to
  it; the top positive and top negative feeds rank by score alone and the random feed
  ignores scores, so they accept it only to keep one signature.
- ``exclude``: ids never to show (the label's annotated clips).
- ``offset``: paging; ``offset=n`` returns the page after ``offset=0`` for the same seed
  and scores, with no overlap and no gap.

Each feed ranks clips by a key (lower is first) with ties broken by id, so a page is
deterministic. Only the best ``offset + n + len(exclude)`` keys are selected, with
``np.argpartition`` (O(N)) instead of a full sort, so a feed over 10M clips costs a
few passes over the scores. The random feed ranks by a hash of (seed, id): the same seed
gives the same order, paging continues it, and clips added later slot in without
reshuffling the clips already shown.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, Protocol

import numpy as np
import numpy.typing as npt

__all__ = [
    "FEEDS",
    "borderline_feed",
    "random_feed",
    "random_keys",
    "top_negative_feed",
    "top_positive_feed",
]


Exclude = npt.ArrayLike | Iterable[Any] | None


class Feed(Protocol):
    def __call__(
        self,
        scores: npt.ArrayLike,
        ids: npt.ArrayLike,
        n: int,
        seed: int = 0,
        exclude: Exclude = None,
        offset: int = 0,
        threshold: float = 0.0,
    ) -> npt.NDArray[Any]: ...


def _as_exclude_array(exclude: Exclude) -> npt.NDArray[Any]:
    if exclude is None:
        return np.empty(0)
    if isinstance(exclude, (set, frozenset)):
        exclude = list(exclude)
    return np.unique(np.asarray(exclude).ravel())


def _select(key: npt.NDArray[Any], ids: npt.ArrayLike, n: int, exclude: Exclude, offset: int) -> npt.NDArray[Any]:
    """Ids of the clips ranked [offset, offset + n) by (key, id) ascending, skipping exclude."""
    ids_: npt.NDArray[Any] = np.asarray(ids)
    if key.shape != ids_.shape or key.ndim != 1:
        raise ValueError(f"scores and ids must be 1-D and aligned; got {key.shape} and {ids_.shape}")
    if n < 0 or offset < 0:
        raise ValueError(f"n and offset must be >= 0; got n={n}, offset={offset}")
    excluded = _as_exclude_array(exclude)
    total = key.shape[0]
    if n == 0 or total == 0:
        none: npt.NDArray[Any] = ids_[:0].copy()
        return none
    # NaN scores (a broken vector) rank last instead of poisoning the partition.
    if key.dtype.kind == "f" and np.isnan(key).any():
        key = np.where(np.isnan(key), np.inf, key)
    # Enough candidates that, after dropping excluded ids, the page is still full.
    need = min(total, offset + n + excluded.size)
    if need < total:
        # The need-th smallest key (np.partition moves values only: ~3x faster than
        # argpartition), then everything up to it: ties with it compete too, so they
        # resolve by id, not by the partition's internal order.
        kth = np.partition(key, need - 1)[need - 1]
        candidates = np.flatnonzero(key <= kth)
    else:
        candidates = np.arange(total)
    candidates = candidates[np.lexsort((ids_[candidates], key[candidates]))]
    if excluded.size:
        candidates = candidates[~np.isin(ids_[candidates], excluded)]
    return ids_[candidates[offset : offset + n]]


def top_positive_feed(
    scores: npt.ArrayLike,
    ids: npt.ArrayLike,
    n: int,
    seed: int = 0,
    exclude: Exclude = None,
    offset: int = 0,
    threshold: float = 0.0,
) -> npt.NDArray[Any]:
    """The clips the model is most sure are positive (highest score first)."""
    scores = np.asarray(scores)
    return _select(-scores, ids, n, exclude, offset)


def top_negative_feed(
    scores: npt.ArrayLike,
    ids: npt.ArrayLike,
    n: int,
    seed: int = 0,
    exclude: Exclude = None,
    offset: int = 0,
    threshold: float = 0.0,
) -> npt.NDArray[Any]:
    """The clips the model is most sure are negative (lowest score first)."""
    return _select(np.asarray(scores), ids, n, exclude, offset)


def borderline_feed(
    scores: npt.ArrayLike,
    ids: npt.ArrayLike,
    n: int,
    seed: int = 0,
    exclude: Exclude = None,
    offset: int = 0,
    threshold: float = 0.0,
) -> npt.NDArray[Any]:
    """Least confident clips: closest to the decision threshold (smallest |score - threshold|) first.

    ``threshold`` is the version's decision threshold (``is_positive``): 0 for the logits of
    a plain fit (the default), e.g. 0.5 for probabilities.
    """
    scores = np.asarray(scores)
    return _select(np.abs(scores - np.asarray(threshold, dtype=scores.dtype)), ids, n, exclude, offset)


_MIX1 = np.uint64(0xBF58476D1CE4E5B9)
_MIX2 = np.uint64(0x94D049BB133111EB)
_GOLDEN = np.uint64(0x9E3779B97F4A7C15)


def random_keys(ids: npt.ArrayLike, seed: int) -> npt.NDArray[np.uint64]:
    """A uniform-looking uint64 key per id for a seed (splitmix64 of id and seed).

    Keys depend only on (seed, id), not on the position or the corpus size.
    Integer ids are hashed directly; other ids (strings) by their position.
    """
    ids = np.asarray(ids)
    n = ids.shape[0]
    source: npt.NDArray[Any] = ids if ids.dtype.kind in "iu" else np.arange(n)
    out = np.empty(n, dtype=np.uint64)
    # In blocks that stay in cache, in place with one scratch block: a fresh 8-byte-per-clip
    # temporary per step would cost more in page faults than the arithmetic.
    block = 1 << 15
    tmp = np.empty(min(n, block), dtype=np.uint64)
    with np.errstate(over="ignore"):  # uint64 arithmetic wraps mod 2^64 on purpose
        seed_mix = (np.uint64(int(seed) & 0xFFFFFFFFFFFFFFFF) ^ _MIX2) * _GOLDEN
        for start in range(0, n, block):
            z = out[start : start + block]
            scratch = tmp[: z.shape[0]]
            z[...] = source[start : start + block]  # wraps negative ids as astype(np.uint64) does
            z *= _GOLDEN
            z += seed_mix
            for shift, mix in ((30, _MIX1), (27, _MIX2), (31, None)):
                np.right_shift(z, np.uint64(shift), out=scratch)
                z ^= scratch
                if mix is not None:
                    z *= mix
    return out


def random_feed(
    scores: npt.ArrayLike | None,
    ids: npt.ArrayLike,
    n: int,
    seed: int = 0,
    exclude: Exclude = None,
    offset: int = 0,
    threshold: float = 0.0,
) -> npt.NDArray[Any]:
    """A uniform random sample of clips, independent of the scores; fixed order per seed."""
    ids = np.asarray(ids)
    return _select(random_keys(ids, seed), ids, n, exclude, offset)


FEEDS: dict[str, Feed] = {
    "top_positive": top_positive_feed,
    "top_negative": top_negative_feed,
    "borderline": borderline_feed,
    "random": random_feed,
}
