"""The one decision rule: a clip is positive when its score is above the threshold.

Every place that turns a score into a yes/no (a model's predictions, a feed's notion of
"the boundary", the evaluation's rewards, later a deployed version's segments) calls
``is_positive``, so the rule and its edge case (a score equal to the threshold is
negative) live here only. Scores are logits (threshold 0.0 for a plain fit) or
probabilities (then pass a probability threshold, e.g. 0.5); the rule is the same.
"""

from __future__ import annotations

from typing import Any, overload

import numpy as np
import numpy.typing as npt

__all__ = ["is_positive"]


@overload
def is_positive(scores: float, threshold: float) -> bool: ...


@overload
def is_positive(scores: npt.NDArray[Any], threshold: float) -> npt.NDArray[np.bool_]: ...


def is_positive(scores: float | npt.NDArray[Any], threshold: float) -> bool | npt.NDArray[np.bool_]:
    """``scores > threshold``: a bool for a scalar score, a bool array for an array of them.

    A NaN score (a broken vector) is never positive.
    """
    if isinstance(scores, np.ndarray):
        positive: npt.NDArray[np.bool_] = np.greater(scores, threshold)
        return positive
    return bool(scores > threshold)
