"""Step 2's feeds over a model version's scores, and the scores' histogram for the page."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ..errors import InvalidInput
from ..names import FEED_NAMES
from .clips import annotated_ids, describe_clips, page
from .scores import model_scores

if TYPE_CHECKING:
    from ..workspace import Workspace


def feed(
    ws: Workspace, label: str | int, name: str, n: int = 20, offset: int = 0, seed: int = 0, version: int | None = None
) -> dict[str, Any]:
    from ..learn.feeds import FEEDS
    from ..learn.rescore import KEYS, exact_scores, rescored_feed

    n, offset = page(n, offset)
    if name not in FEEDS:
        raise InvalidInput(f"unknown feed {name!r}; choose one of: {', '.join(FEED_NAMES)}")
    lab = ws.label(label)
    model = ws.models.get(lab["id"], version)
    scores = model_scores(ws, model, lab["name"])
    ids = np.arange(len(scores), dtype=np.int64)
    exclude, threshold = annotated_ids(ws, lab["id"]), float(model["threshold"])
    scan = (model.get("metrics") or {}).get("scan")
    if scan and name in KEYS:
        # Scores from the compact scan (approximate, within error_bound): page by re-scoring
        # the candidates against the float32 matrix, as the Build did (learn/rescore.py).
        picked, rows, exact, _ = rescored_feed(
            name,
            scores,
            float(scan["error_bound"]),
            exact_scores(ws.train_vectors(), model["coef"], model["intercept"]),
            ids,
            n,
            exclude,
            offset,
            threshold,
            sigma=scan.get("error_sigma"),
        )
        scores = scores.copy()
        scores[rows] = exact
    else:
        picked = FEEDS[name](scores, ids, n, seed, exclude=exclude, offset=offset, threshold=threshold)
    return {
        "label": lab["name"],
        "feed": name,
        "version": model["version"],
        "offset": offset,
        "clips": describe_clips(ws, picked, scores[picked], model),
    }


def score_histogram(ws: Workspace, label: str | int, bins: int = 40, version: int | None = None) -> dict[str, Any]:
    """How the model's scores spread over the whole corpus (the page's histogram): counts per
    bin for every clip, and for the label's current positive and negative annotations."""
    bins = int(bins)
    if not 2 <= bins <= 200:
        raise InvalidInput(f"bins must be between 2 and 200, got {bins}")
    lab = ws.label(label)
    model = ws.models.get(lab["id"], version)
    scores = model_scores(ws, model, lab["name"])
    finite = scores[np.isfinite(scores)]
    low, high = (float(finite.min()), float(finite.max())) if finite.size else (-1.0, 1.0)
    threshold = float(model["threshold"])
    low, high = min(low, threshold), max(high, threshold)  # the threshold is always on the axis
    if high - low < 1e-6:
        low, high = low - 0.5, high + 0.5
    edges = np.linspace(low, high, bins + 1)
    current = ws.annotations.current(lab["id"])

    def counts(values: npt.NDArray[np.float32]) -> list[int]:
        return [int(c) for c in np.histogram(values[np.isfinite(values)], bins=edges)[0]]

    def annotated(value: str) -> npt.NDArray[np.float32]:
        return scores[np.fromiter((c for c, v in current.items() if v["value"] == value), dtype=np.int64)]

    return {
        "label": lab["name"],
        "version": model["version"],
        "threshold": threshold,
        "edges": [round(float(e), 5) for e in edges],
        "clips": counts(scores),
        "positive": counts(annotated("positive")),
        "negative": counts(annotated("negative")),
    }
