"""Ways of spending an annotation budget: VA's loop and the paper's baselines.

Each strategy sees a ``Pool`` - the clips it may pick from, their vectors, the label's
text vector and an ``annotate`` function (the simulated annotator) - and nothing of the
held-out split, which is not in the pool. It returns, for each budget b, the pool
positions of the b clips it had annotated: the training set of the model measured at b.

- ``va``: the product's loop, through the product's own code: text search
  (``search.exact.ExactIndex``) for the label's description and keywords until there is
  a positive and a negative, then rounds of ``learn.build.build_model`` (fit, score, the
  four feeds) and k annotations from the feeds, in batches whose feed a policy from
  ``bandits`` picks;
- ``random``: b random clips; ``zs-top``: the b best text-search matches;
  ``zs+random``: half of each (the paper's "zero-shot-50-random-50");
- ``zero-shot`` trains nothing: ``simulate`` scores the held-out clips by text similarity.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..errors import InvalidInput
from ..learn.build import build_model
from ..learn.decision import is_positive
from ..learn.feeds import random_feed
from ..learn.next_feed import MIN_POSITIVES, RARE_SHARE
from ..search.exact import ExactIndex
from .bandits import make_policy

BASELINES = ("random", "zero-shot", "zs-top", "zs+random")
DEFAULT_K = 10
# The product's rule (learn/next_feed.py): hunt in the top-positive feed while a label has
# fewer than 10 positives and they are under a quarter of its annotations, else borderline.
DEFAULT_MIX = f"hunt-top_positive:{MIN_POSITIVES}:{RARE_SHARE:g}"
DEFAULT_REWARD = "surprise"
BATCHES_PER_ROUND = 4  # a round's k annotations come in this many feed picks
REWARDS = ("surprise", "cv-gain")


@dataclass
class Pool:
    """What a strategy may use: pool vectors, the text query, the simulated annotator.

    Positions 0..n-1 index the pool. ``X_train``: what the classifier trains on;
    ``X_search``: the joint space text search runs in; ``annotate(positions)`` -> 0/1.
    """

    X_train: np.ndarray
    X_search: np.ndarray
    text_vector: np.ndarray
    annotate: Callable[[np.ndarray], np.ndarray]
    C: float = 1.0

    @property
    def n(self) -> int:
        return int(self.X_train.shape[0])

    def zero_shot_scores(self) -> np.ndarray:
        return self.X_search @ self.text_vector


@dataclass
class Selection:
    """Training sets per budget (pool positions) and, for va, what the loop did."""

    sets: dict[int, np.ndarray]
    trace: dict = field(default_factory=dict)


def _budgets_within(budgets, n: int) -> list[int]:
    return sorted({int(b) for b in budgets if 0 < int(b) <= n})


# -- baselines -----------------------------------------------------------------------------
def random_selection(pool: Pool, budgets, seed: int) -> Selection:
    order = np.random.default_rng([seed, 1]).permutation(pool.n)
    return Selection({b: order[:b] for b in _budgets_within(budgets, pool.n)})


def zs_top_selection(pool: Pool, budgets, seed: int) -> Selection:
    order = np.argsort(-pool.zero_shot_scores(), kind="stable")
    return Selection({b: order[:b] for b in _budgets_within(budgets, pool.n)})


def zs_random_selection(pool: Pool, budgets, seed: int) -> Selection:
    top = np.argsort(-pool.zero_shot_scores(), kind="stable")
    shuffled = np.random.default_rng([seed, 1]).permutation(pool.n)
    sets = {}
    for b in _budgets_within(budgets, pool.n):
        head = top[: (b + 1) // 2]
        rest = shuffled[~np.isin(shuffled, head)][: b - head.size]
        sets[b] = np.concatenate([head, rest])
    return Selection(sets)


# -- VA's loop -----------------------------------------------------------------------------
def _split(size: int, parts: int) -> list[int]:
    parts = max(1, min(parts, size))
    return [size // parts + (1 if i < size % parts else 0) for i in range(parts)]


def _cv_reward(before, after) -> float | None:
    """Cross-validated AP change between two builds, mapped to [0, 1] (0.5 = no change;
    +-0.1 AP saturates). The user sees this number after every build."""
    a = (before.metrics.get("cv") or {}).get("ap") if before is not None else None
    b = (after.metrics.get("cv") or {}).get("ap")
    if a is None or b is None:
        return None
    return float(np.clip(0.5 + 5 * (b - a), 0, 1))


def va_selection(
    pool: Pool,
    budgets,
    seed: int,
    *,
    k: int = DEFAULT_K,
    mix: str = DEFAULT_MIX,
    reward: str = DEFAULT_REWARD,
    batches: int = BATCHES_PER_ROUND,
) -> Selection:
    """The product's loop with a simulated annotator; training sets at every budget.

    Rounds are cut short where needed so that the loop stops at each budget exactly.
    """
    if k < 1:
        raise InvalidInput(f"k (annotations per round) must be at least 1, got {k}")
    if reward not in REWARDS:
        raise InvalidInput(f"reward must be one of {', '.join(REWARDS)}; got {reward!r}")
    checkpoints = _budgets_within(budgets, pool.n)
    if not checkpoints:
        return Selection({})
    policy = make_policy(mix, seed)
    ids = np.arange(pool.n, dtype=np.int64)
    annotated = np.zeros(pool.n, dtype=bool)
    order: list[int] = []
    answers: list[int] = []
    sets: dict[int, np.ndarray] = {}
    trace: dict[str, Any] = {"before_first_build": 0, "rounds": 0, "feed_clips": {}, "rewards": {}}

    def take(positions) -> np.ndarray:
        positions = np.asarray(positions, dtype=np.int64)
        y = np.asarray(pool.annotate(positions), dtype=np.int64)
        annotated[positions] = True
        order.extend(positions.tolist())
        answers.extend(y.tolist())
        if len(order) in checkpoints:
            sets[len(order)] = np.asarray(order, dtype=np.int64)
        return y

    def room() -> int:
        nxt = next(b for b in checkpoints if b > len(order))
        return min(k, nxt - len(order))

    # 1. Text search for the description and keywords, page after page, until the
    #    annotations hold a positive and a negative (Build needs both). Search finds
    #    positives; when it has found only positives, negatives are anywhere: the user
    #    marks a page of random clips (the random feed needs no model).
    index = ExactIndex.over(ids, np.ascontiguousarray(pool.X_search, dtype=np.float32))
    while len(order) < checkpoints[-1] and len(set(answers)) < 2 and not annotated.all():
        if answers and answers[0] == 1:
            found = random_feed(None, ids, room(), seed, exclude=ids[annotated])
        else:
            found, _ = index.search(pool.text_vector.astype(np.float32), room(), exclude=ids[annotated])
        take(found)
        trace["before_first_build"] = len(order)

    # 2. Build -> feeds -> annotate, round after round. Besides the four feeds, a batch may
    #    come from text search (the next unannotated matches): the hunt rule's other source.
    search_order = np.argsort(-pool.zero_shot_scores(), kind="stable")
    found_by: dict[str, tuple[int, int]] = {}  # source -> (positives, clips) annotated from it
    previous, clusters = None, None
    pending: list[str] = []
    build_ms: list[float] = []
    while len(order) < checkpoints[-1] and not annotated.all():
        # The build's cross-validation changes no model, score or feed; only the cv-gain
        # reward reads it, so otherwise the cheapest one (2 folds) saves most of its time.
        result = build_model(
            pool.X_train,
            ids,
            np.asarray(order),
            np.asarray(answers),
            seed=seed,
            previous=previous,
            n_feed=2 * k,
            clusters=clusters,
            C=pool.C,
            n_bootstrap=20,
            cv_splits=5 if reward == "cv-gain" else 2,
        )
        if reward == "cv-gain" and pending:
            r = _cv_reward(previous, result)
            for arm in pending:
                if r is not None:
                    policy.update(arm, r)
                    trace["rewards"].setdefault(arm, []).append(round(r, 4))
            pending = []
        previous, clusters = result, result.clusters
        trace["rounds"] += 1
        build_ms.append(result.timings_ms["total"])
        for size in _split(room(), batches):
            positives = int(np.sum(answers))
            policy.observe(positives, len(answers) - positives, found_by)
            arm = policy.choose()
            feed = search_order if arm == "search" else result.feeds[arm]
            pick = feed[~annotated[feed]][:size]
            if pick.size < size:  # the feed ran dry: fill from the random feed
                extra = random_feed(
                    result.scores, ids, size - pick.size, seed, exclude=np.concatenate([ids[annotated], pick])
                )
                pick = np.concatenate([pick, extra])
            if not pick.size:
                break
            y = take(pick)
            trace["feed_clips"][arm] = trace["feed_clips"].get(arm, 0) + int(pick.size)
            pos, n = found_by.get(arm, (0, 0))
            found_by[arm] = (pos + int(y.sum()), n + int(pick.size))
            if reward == "surprise":
                # The share of these clips the model had on the wrong side: what the user
                # sees when an annotation disagrees with the model's guess.
                guess = is_positive(result.scores[pick], result.model.threshold)
                r = float(np.mean(guess.astype(np.int64) != y))
                policy.update(arm, r)
                trace["rewards"].setdefault(arm, []).append(round(r, 4))
            else:
                pending.append(arm)
    trace["build_ms_median"] = round(float(np.median(build_ms)), 1) if build_ms else None
    trace["reward_means"] = {arm: round(float(np.mean(v)), 4) for arm, v in trace["rewards"].items()}
    del trace["rewards"]
    return Selection(sets, trace)


STRATEGIES = {"random": random_selection, "zs-top": zs_top_selection, "zs+random": zs_random_selection}
