"""Feeds from approximate scores, made exact by re-scoring candidates in float32.

A compact scan (``vectors/compact.py``) gives every clip an approximate logit within a
known ``error`` of its float32 logit. The three score feeds rank by a key that moves by at
most as much as the score does (−s, s, |s − t|), so with ``need = offset + n + |exclude|``:

    K* (the need-th smallest exact key) ≤ kth (the need-th smallest approximate key) + error,

and any clip whose exact key is ≤ K* has an approximate key ≤ K* + error ≤ kth + 2·error.
Re-scoring exactly every clip with approximate key ≤ kth + 2·error (plus the compact copy's
clipped ``outliers``) and ranking those by the exact key therefore gives the same page as
ranking all clips by their float32 scores — ties included, since every clip tied with K*
is a candidate (mode ``bound``).

The bound adds up every dimension's worst case; the actual error is a sum of hundreds of
independent rounding errors, with standard deviation ``sigma`` (``CompactMatrix.error_sigma``)
about 30× smaller. When more than ``cap`` clips fall in the guaranteed window (the
borderline feed of a large corpus: many clips sit near the threshold), the window is
narrowed to ``kth + 2·6·sigma`` (mode ``6 sigma``: a row misses it with probability ~1e-9),
and if that is still too wide, the 2·need best by approximate key are re-scored (mode
``capped``). Only ``bound`` is a guarantee (``guaranteed``); recall against float32 is
measured in ``va bench scale``.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import numpy.typing as npt

from ..vectors.compact import read_rows
from .feeds import FEEDS, Exclude, _as_exclude_array, _select, random_feed, random_keys

__all__ = ["DEFAULT_CAP", "KEYS", "RandomOrder", "exact_scores", "rescored_feed", "rescored_feeds"]

#: Most clips re-scored exactly per feed (random float32 rows: cheap when cached, a page
#: read each when the float32 matrix is not).
DEFAULT_CAP = 5_000

FloatArray = npt.NDArray[np.float32]
ExactFn = Callable[[npt.NDArray[np.int64]], FloatArray]

KEYS: dict[str, Callable[[FloatArray, float], FloatArray]] = {
    "top_positive": lambda s, t: -s,
    "top_negative": lambda s, t: s,
    "borderline": lambda s, t: np.abs(s - np.float32(t)),
}


def exact_scores(X: npt.NDArray[Any], coef: npt.ArrayLike, intercept: float) -> ExactFn:
    """Rows -> float32 logits computed as ``score_corpus`` computes them (same float32 dot,
    same add). BLAS may sum a row in another order inside a differently shaped block, so a
    score can differ from ``score_corpus``'s in the last bit or two (a page can then differ
    only between clips whose scores tie to within that)."""
    d = X.shape[1]
    coef32 = np.asarray(coef, dtype=np.float32).reshape(d)

    def score(rows: npt.NDArray[np.int64]) -> FloatArray:
        block = read_rows(X, rows)  # exactly these rows: no readahead through the map
        out = np.dot(block, coef32)
        out += np.float32(intercept)
        return np.asarray(out, dtype=np.float32)

    return score


class RandomOrder:
    """The random feed's first ``depth`` clips of an append-only corpus, kept between builds.

    The random feed ranks by a hash of (seed, id) that no model changes, so its first pages
    are the same for every Build of every label: hashing 10M ids and partitioning them
    (~0.2–0.7 s on 2 cores) once per process is enough. Rows appended since are hashed
    and merged in; a corpus whose first rows changed (checked on the kept rows) starts over.
    """

    def __init__(self, depth: int = 8192):
        self.depth = depth
        self._kept: dict[int, tuple[int, npt.NDArray[np.int64], npt.NDArray[np.uint64]]] = {}

    def page(self, ids: npt.NDArray[Any], n: int, seed: int, exclude: Exclude = None) -> npt.NDArray[Any]:
        excluded = _as_exclude_array(exclude)
        if n + excluded.size > self.depth:
            return random_feed(None, ids, n, seed, exclude=excluded)
        total = ids.shape[0]
        covered, rows, keys = self._kept.get(seed, (0, np.empty(0, np.int64), np.empty(0, np.uint64)))
        if covered > total or (rows.size and not np.array_equal(random_keys(ids[rows], seed), keys)):
            covered, rows, keys = 0, np.empty(0, np.int64), np.empty(0, np.uint64)
        if covered < total:
            new_keys = random_keys(ids[covered:], seed)
            new_rows = np.arange(covered, total, dtype=np.int64)
            if new_rows.size > self.depth:
                best = np.argpartition(new_keys, self.depth - 1)[: self.depth]
                new_rows, new_keys = new_rows[best], new_keys[best]
            rows, keys = np.concatenate([rows, new_rows]), np.concatenate([keys, new_keys])
            order = np.lexsort((ids[rows], keys))[: self.depth]
            rows, keys = rows[order], keys[order]
            self._kept[seed] = (total, rows, keys)
        return _select(keys, ids[rows], n, excluded, 0)


RANDOM_ORDER = RandomOrder()


def rescored_feed(
    name: str,
    approx: FloatArray,
    error: float,
    exact: ExactFn,
    ids: npt.ArrayLike,
    n: int,
    exclude: Exclude = None,
    offset: int = 0,
    threshold: float = 0.0,
    outliers: npt.ArrayLike | None = None,
    cap: int = DEFAULT_CAP,
    sigma: float | None = None,
) -> tuple[npt.NDArray[Any], npt.NDArray[np.int64], FloatArray, str]:
    """One score feed's page: (ids, candidate rows, their exact scores, mode)."""
    key_of = KEYS[name]
    ids_ = np.asarray(ids)
    total = approx.shape[0]
    excluded = _as_exclude_array(exclude)
    need = min(total, offset + n + excluded.size)
    if n == 0 or total == 0:
        return ids_[:0].copy(), np.empty(0, np.int64), np.empty(0, np.float32), "bound"
    key = key_of(approx, threshold)
    if np.isnan(key).any():
        key = np.where(np.isnan(key), np.inf, key)
    kth = np.partition(key, need - 1)[need - 1]
    mode = "bound"
    rows = np.flatnonzero(key <= (np.float32(kth + 2 * error) if np.isfinite(kth) else kth))
    if rows.size > cap and sigma is not None and 6 * sigma < error:
        mode = "6 sigma"
        rows = np.flatnonzero(key <= (np.float32(kth + 12 * sigma) if np.isfinite(kth) else kth))
    if rows.size > cap:
        # Thousands of clips sit within the int8 error of this key (the borderline feed of
        # a large corpus): re-scoring `cap` of them does not find the float32 page either
        # (measured: 11 of 100 at 10M), so re-score twice the page's depth, enough that the
        # clips shown carry exact scores and are ordered by them.
        mode = "capped"
        take = min(cap, 2 * need)
        rows = np.argpartition(key, take - 1)[:take]
    if outliers is not None and np.size(outliers):
        extra = np.asarray(outliers, np.int64)
        rows = np.union1d(rows, extra[extra < total])
    rows = np.sort(rows).astype(np.int64)
    scores = exact(rows)
    picked = _select(key_of(scores, threshold), ids_[rows], n, excluded, offset)
    return picked, rows, scores, mode


def rescored_feeds(
    approx: FloatArray,
    error: float,
    exact: ExactFn,
    ids: npt.ArrayLike,
    n: int,
    seed: int = 0,
    exclude: Exclude = None,
    threshold: float = 0.0,
    outliers: npt.ArrayLike | None = None,
    cap: int = DEFAULT_CAP,
    sigma: float | None = None,
) -> tuple[dict[str, npt.NDArray[Any]], npt.NDArray[np.int64], FloatArray, dict[str, Any]]:
    """The four feeds; the rows re-scored and their exact scores (to patch into ``approx``);
    a report: candidates per feed and whether every feed is guaranteed exact."""
    feeds: dict[str, npt.NDArray[Any]] = {}
    all_rows, all_scores = [], []
    report: dict[str, Any] = {
        "error_bound": float(error),
        "error_sigma": None if sigma is None else float(sigma),
        "candidates": {},
        "modes": {},
        "guaranteed": True,
    }
    for name, feed in FEEDS.items():
        if name == "random":
            feeds[name] = RANDOM_ORDER.page(np.asarray(ids), n, seed, exclude)
            continue
        if name not in KEYS:
            feeds[name] = feed(approx, ids, n, seed, exclude=exclude, threshold=threshold)
            continue
        picked, rows, scores, mode = rescored_feed(
            name, approx, error, exact, ids, n, exclude, 0, threshold, outliers, cap, sigma
        )
        feeds[name] = picked
        all_rows.append(rows)
        all_scores.append(scores)
        report["candidates"][name] = int(rows.size)
        report["modes"][name] = mode
        report["guaranteed"] = bool(report["guaranteed"] and mode == "bound")
    rows = np.concatenate(all_rows) if all_rows else np.empty(0, np.int64)
    scores = np.concatenate(all_scores) if all_scores else np.empty(0, np.float32)
    rows, first = np.unique(rows, return_index=True)
    return feeds, rows, scores[first], report
