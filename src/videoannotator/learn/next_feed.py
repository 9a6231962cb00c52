"""Where the next annotations should come from, and why: one rule for the page and the harness.

A borderline feed teaches a model most once the model knows roughly where the positives
are. With few positives it does not: a weak model's borderline clips are mostly negatives
when positives are rare, so each round adds negatives the model already had and the
boundary barely moves. So the loop first *hunts* for positives - text search (the label's
description) and the top-positive feed, whichever has been finding them - until the label
has ``min_positives``, and only then takes the borderline feed.

``suggest`` is what the page shows above the feed tabs after a Build;
``eval.strategies`` runs the same rule as its default feed mix (``hunt-then-borderline``),
so the harness measures what the page recommends (docs/evaluation.md, decision 4).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

#: Positives a label needs before the borderline feed is the better teacher (decided with the
#: harness on the decision split: docs/evaluation.md, decision 4).
MIN_POSITIVES: Final = 10
#: The sources a hunt draws from: text search for the label's words, or the model's top.
HUNT_SOURCES: Final = ("search", "top_positive")


@dataclass(frozen=True)
class Suggestion:
    feed: str  # "search" or a feed name (names.FEED_NAMES)
    reason: str
    hunting: bool  # True while the label has fewer positives than the rule needs

    def as_dict(self) -> dict[str, object]:
        return {"feed": self.feed, "reason": self.reason, "hunting": self.hunting}


def _plural(n: int, word: str) -> str:
    return f"{n} {word}" if n == 1 else f"{n} {word}s"


def hunting(positives: int, min_positives: int = MIN_POSITIVES) -> bool:
    return positives < min_positives


def suggest(
    positives: int,
    negatives: int,
    *,
    min_positives: int = MIN_POSITIVES,
    found: dict[str, tuple[int, int]] | None = None,
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
    if hunting(positives, min_positives):
        source = best_hunt_source(found)
        where = "search results" if source == "search" else "the model's top positives"
        return Suggestion(
            source,
            f"only {_plural(positives, 'positive')} so far: look for more in {where} "
            f"until there are {min_positives}; borderline clips teach the model little before that",
            True,
        )
    return Suggestion(
        "borderline",
        f"{_plural(positives, 'positive')} and {_plural(negatives, 'negative')}: "
        "the clips the model is least sure of teach it most",
        False,
    )


def best_hunt_source(found: dict[str, tuple[int, int]] | None) -> str:
    """The hunt source with the highest share of positives so far (Laplace-smoothed)."""
    if not found:
        return HUNT_SOURCES[0]

    def share(source: str) -> float:
        pos, n = found.get(source, (0, 0))
        return (pos + 1) / (n + 2)

    return max(HUNT_SOURCES, key=share)
