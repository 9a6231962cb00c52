"""Feed mixes: which of the four feeds the next batch of annotations comes from.

A policy is a small object with ``choose() -> feed name`` and ``update(feed, reward)``,
reward in [0, 1]. Rewards use only what the annotating user has (see
``strategies.REWARDS``), never the held-out set.

- ``round-robin``: the feeds in turn;
- ``only:<feed>``: one feed always (e.g. ``only:borderline`` is uncertainty sampling);
- ``epsilon-greedy``: the best mean reward so far, a random feed with probability epsilon;
- ``ucb``: UCB1, mean + sqrt(2 ln t / n);
- ``exp3``: exponential weights for adversarial (changing) rewards, exploration gamma;
- ``thompson``: a Beta posterior per feed, sampled; a reward r counts as r successes
  and 1 - r failures;
- ``hunt:N:SHARE``: hunt for positives in text search or the top-positive feed (whichever has
  found more) while the label has fewer than N positives and they are under SHARE of its
  annotations, else the borderline feed; ``hunt-top_positive:N:SHARE`` hunts in the top-positive
  feed alone - the product's rule (``learn.next_feed``) and the default mix with N = 10 and
  SHARE = 0.25 (docs/evaluation-decisions.md, decision 4); ``hunt-search:N:SHARE`` in search alone.

Rewards drift as the model learns (the borderline feed stops surprising once the
boundary settles), which is why Exp3 and discounting are worth measuring.
"""

from __future__ import annotations

import math

import numpy as np

from ..errors import InvalidInput
from ..learn.feeds import FEEDS
from ..learn.next_feed import ALL_HUNT_SOURCES, MIN_POSITIVES, RARE_SHARE, hunting, suggest

ARMS = tuple(FEEDS)  # top_positive, top_negative, borderline, random


class Policy:
    name = "policy"

    def __init__(self, seed: int = 0):
        self.rng = np.random.default_rng(seed)
        self.pulls = {arm: 0 for arm in ARMS}
        self.reward_sum = {arm: 0.0 for arm in ARMS}

    def observe(self, positives: int, negatives: int, found: dict[str, tuple[int, int]]) -> None:
        """The label's counts before a pick, and per source (positives, clips) found so far;
        the bandits ignore them (they learn from rewards), the hunt rule reads them."""

    def choose(self) -> str:
        raise NotImplementedError

    def update(self, arm: str, reward: float) -> None:
        self.pulls[arm] += 1
        self.reward_sum[arm] += float(reward)

    def mean(self, arm: str) -> float:
        return self.reward_sum[arm] / self.pulls[arm] if self.pulls[arm] else 0.0

    def _untried(self) -> str | None:
        for arm in ARMS:
            if self.pulls[arm] == 0:
                return arm
        return None


class RoundRobin(Policy):
    name = "round-robin"

    def __init__(self, seed: int = 0):
        super().__init__(seed)
        self._next = 0

    def choose(self) -> str:
        arm = ARMS[self._next % len(ARMS)]
        self._next += 1
        return arm


class Only(Policy):
    def __init__(self, arm: str, seed: int = 0):
        super().__init__(seed)
        if arm not in ARMS:
            raise InvalidInput(f"unknown feed {arm!r} in only:<feed>; choose one of {', '.join(ARMS)}")
        self.arm = arm
        self.name = f"only:{arm}"

    def choose(self) -> str:
        return self.arm


class EpsilonGreedy(Policy):
    name = "epsilon-greedy"

    def __init__(self, seed: int = 0, epsilon: float = 0.2):
        super().__init__(seed)
        self.epsilon = epsilon

    def choose(self) -> str:
        untried = self._untried()
        if untried:
            return untried
        if self.rng.random() < self.epsilon:
            return ARMS[int(self.rng.integers(len(ARMS)))]
        return max(ARMS, key=self.mean)


class UCB(Policy):
    name = "ucb"

    def choose(self) -> str:
        untried = self._untried()
        if untried:
            return untried
        t = sum(self.pulls.values())
        return max(ARMS, key=lambda a: self.mean(a) + math.sqrt(2 * math.log(t) / self.pulls[a]))


class Exp3(Policy):
    name = "exp3"

    def __init__(self, seed: int = 0, gamma: float = 0.2):
        super().__init__(seed)
        self.gamma = gamma
        self.log_weights = np.zeros(len(ARMS))
        self._probs = np.full(len(ARMS), 1 / len(ARMS))

    def choose(self) -> str:
        w = np.exp(self.log_weights - self.log_weights.max())
        self._probs = (1 - self.gamma) * w / w.sum() + self.gamma / len(ARMS)
        return ARMS[int(self.rng.choice(len(ARMS), p=self._probs))]

    def update(self, arm: str, reward: float) -> None:
        super().update(arm, reward)
        i = ARMS.index(arm)
        self.log_weights[i] += self.gamma * float(reward) / self._probs[i] / len(ARMS)


class Thompson(Policy):
    name = "thompson"

    def __init__(self, seed: int = 0, discount: float = 1.0):
        super().__init__(seed)
        self.discount = discount
        self.alpha = np.ones(len(ARMS))
        self.beta = np.ones(len(ARMS))

    def choose(self) -> str:
        return ARMS[int(np.argmax(self.rng.beta(self.alpha, self.beta)))]

    def update(self, arm: str, reward: float) -> None:
        super().update(arm, reward)
        i = ARMS.index(arm)
        if self.discount < 1:  # forget old evidence: rewards drift as the model learns
            self.alpha = 1 + (self.alpha - 1) * self.discount
            self.beta = 1 + (self.beta - 1) * self.discount
        self.alpha[i] += float(reward)
        self.beta[i] += 1 - float(reward)


class Hunt(Policy):
    """The hunt rule (``learn.next_feed.suggest``): while a label's positives are few and rare,
    hunt in ``sources`` (the one that has found more positives); then the borderline feed.
    The product hunts in the top-positive feed alone (``next_feed.HUNT_SOURCES``)."""

    def __init__(
        self,
        seed: int = 0,
        min_positives: int = MIN_POSITIVES,
        sources: tuple[str, ...] = ALL_HUNT_SOURCES,
        rare_share: float = RARE_SHARE,
    ):
        super().__init__(seed)
        self.min_positives = min_positives
        self.rare_share = rare_share
        self.sources = sources
        head = "hunt" if sources == ALL_HUNT_SOURCES else f"hunt-{'+'.join(sources)}"
        self.name = f"{head}:{min_positives}:{rare_share:g}"
        self._state: tuple[int, int, dict[str, tuple[int, int]]] = (0, 0, {})

    def observe(self, positives: int, negatives: int, found: dict[str, tuple[int, int]]) -> None:
        self._state = (positives, negatives, {s: v for s, v in found.items() if s in self.sources})

    def choose(self) -> str:
        positives, negatives, found = self._state
        if len(self.sources) == 1 and hunting(positives, negatives, self.min_positives, self.rare_share):
            return self.sources[0]
        return suggest(
            positives,
            negatives,
            min_positives=self.min_positives,
            rare_share=self.rare_share,
            found=found,
            sources=self.sources,
        ).feed

    def update(self, arm: str, reward: float) -> None:
        pass  # the rule reads counts (observe), not rewards


MIXES = (
    ("round-robin", "epsilon-greedy", "ucb", "exp3", "thompson")
    + tuple(f"only:{a}" for a in ARMS)
    + tuple(f"{head}:{MIN_POSITIVES}:{RARE_SHARE:g}" for head in ("hunt", "hunt-search", "hunt-top_positive"))
)
#: Where a batch may come from: the four feeds, and text search (the hunt's other source).
SOURCES = ARMS + ("search",)


def _hunt(mix: str, seed: int) -> Hunt:
    """``hunt[-SOURCE][:N[:SHARE]]``: hunt while fewer than N positives and under SHARE of the annotations."""
    head, _, rest = mix.partition(":")
    count, _, share = rest.partition(":")
    try:
        n = int(count) if count else MIN_POSITIVES
        rare = float(share) if share else RARE_SHARE
    except ValueError:
        raise InvalidInput(
            f"{mix!r}: write hunt:N or hunt:N:SHARE, e.g. hunt:10:0.25 (N positives, SHARE of annotations)"
        ) from None
    if n < 1 or not 0 < rare <= 1:
        raise InvalidInput(f"{mix!r}: hunt for at least 1 positive, with a share in (0, 1]")
    sources = ALL_HUNT_SOURCES if head == "hunt" else (head[len("hunt-") :],)
    if any(s not in ALL_HUNT_SOURCES for s in sources):
        raise InvalidInput(f"unknown hunt source in {mix!r}; choose hunt, hunt-search or hunt-top_positive")
    return Hunt(seed, n, sources)


def make_policy(mix: str, seed: int = 0) -> Policy:
    """The feed-mix policy called ``mix`` (see ``MIXES``)."""
    if mix.startswith("only:"):
        return Only(mix[len("only:") :], seed)
    if mix.startswith("hunt"):
        return _hunt(mix, seed)
    classes = {
        "round-robin": RoundRobin,
        "epsilon-greedy": EpsilonGreedy,
        "ucb": UCB,
        "exp3": Exp3,
        "thompson": Thompson,
    }
    if mix not in classes:
        raise InvalidInput(f"unknown feed mix {mix!r}; choose one of {', '.join(MIXES)}")
    return classes[mix](seed)
