"""Where the next annotations should come from, and why: one rule for the page and the harness.

A borderline feed teaches a model most once the model knows roughly where the positives
are. With few positives it does not: a weak model's borderline clips are mostly negatives
when positives are rare, so each round adds negatives the model already had and the
boundary barely moves. So while a label has fewer than ``min_positives`` positives *and*
they are rare among its annotations (under ``rare_share``), the loop *hunts* for positives in
the top-positive feed (text search is the other possible source, measured in the harness),
and otherwise takes the borderline feed.

``suggest`` is what the page shows above the feed tabs after a Build;
``eval.strategies`` runs the same rule as its default feed mix (``hunt-then-borderline``),
so the harness measures what the page recommends (docs/evaluation-decisions.md, decision 4).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

#: Positives a label needs before the borderline feed is the better teacher, and the share of
#: positives among its annotations above which positives are not rare and no hunt is needed
#: (both decided with the harness on the decision splits: docs/evaluation-decisions.md, decision 4).
MIN_POSITIVES: Final = 10
RARE_SHARE: Final = 0.25
#: The sources a hunt may draw from: text search for the label's words, or the model's top.
ALL_HUNT_SOURCES: Final = ("search", "top_positive")
#: Those the product's hunt draws from: the top-positive feed alone lost less at 25-50
#: annotations than alternating with search on three of four decision sets (decision 4).
HUNT_SOURCES: Final = ("top_positive",)


@dataclass(frozen=True)
class Suggestion:
    feed: str  # "search" or a feed name (names.FEED_NAMES)
    reason: str
    hunting: bool  # True while the label has fewer positives than the rule needs

    def as_dict(self) -> dict[str, object]:
        return {"feed": self.feed, "reason": self.reason, "hunting": self.hunting}


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def hunting(positives: int, negatives: int, min_positives: int = MIN_POSITIVES, rare_share: float = RARE_SHARE) -> bool:
    """Hunt while the label has few positives and they are rare among what was annotated."""
    total = positives + negatives
    return positives < min_positives and (total == 0 or positives / total < rare_share)


def suggest(
    positives: int,
    negatives: int,
    *,
    min_positives: int = MIN_POSITIVES,
    rare_share: float = RARE_SHARE,
    found: dict[str, tuple[int, int]] | None = None,
    sources: tuple[str, ...] = HUNT_SOURCES,
) -> Suggestion:
    """The source of the next annotations for a label with these current counts.

    ``found``: per hunt source, (positives found, clips annotated) from it so far; the hunt
    takes the source with the better share (search first, on a tie), so a label whose words
    search cannot find turns to the model's top clips, and the other way round.
    """
    if positives == 0 or negatives == 0:
        missing = "positive" if positives == 0 else "negative"
        return Suggestion(
            "search",
            f"Build needs at least one {missing}: search for the label's words and mark what you find",
            True,
        )
    if hunting(positives, negatives, min_positives, rare_share):
        source = best_hunt_source(found, sources)
        where = "search results" if source == "search" else "the model's top positives"
        return Suggestion(
            source,
            f"only {_plural(positives, 'positive')} in {positives + negatives} annotations so far: look for more in {where} "
            f"until there are {min_positives}; borderline clips teach the model little before that",
            True,
        )
    return Suggestion(
        "borderline",
        f"{_plural(positives, 'positive')} and {_plural(negatives, 'negative')}: "
        "the clips the model is least sure of teach it most",
        False,
    )


def best_hunt_source(found: dict[str, tuple[int, int]] | None, sources: tuple[str, ...] = ALL_HUNT_SOURCES) -> str:
    """The hunt source with the highest share of positives so far (Laplace-smoothed; the
    first of ``sources`` on a tie)."""
    if not found or len(sources) == 1:
        return sources[0]

    def share(source: str) -> float:
        pos, n = found.get(source, (0, 0))
        return (pos + 1) / (n + 2)

    return max(sources, key=share)
