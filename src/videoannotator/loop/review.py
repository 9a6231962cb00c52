"""Step 3: every annotation of a label with the latest model's view beside it."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import InvalidInput, NotReady
from ..learn.decision import is_positive
from ..names import REVIEW_FILTERS
from .clips import describe_clips
from .scores import model_scores

if TYPE_CHECKING:
    from ..workspace import Workspace


def review(ws: Workspace, label: str | int, filter: str = "all") -> dict[str, Any]:
    if filter not in REVIEW_FILTERS:
        raise InvalidInput(f"unknown review filter {filter!r}; choose one of: {', '.join(REVIEW_FILTERS)}")
    lab = ws.label(label)
    current = ws.annotations.current(lab["id"])
    model = ws.models.latest_or_none(lab["id"])
    scores = None
    if model is not None:
        try:
            scores = model_scores(ws, model, lab["name"])
        except NotReady:  # a version from before a reembed: review the annotations without scores
            scores = None
    clip_ids = sorted(current)
    items = describe_clips(ws, clip_ids, scores[clip_ids] if scores is not None and clip_ids else None, model)
    out = []
    for item in items:
        entry = current[item["clip_id"]]
        votes, value, score = entry["votes"], entry["value"], item.get("score")
        item.update(
            value=value,
            votes=votes,
            annotators_disagree=len({v for v in votes.values() if v != "skip"}) > 1,
            model_disagrees=score is not None
            and model is not None
            and value in ("positive", "negative")
            and is_positive(score, model["threshold"]) != (value == "positive"),
        )
        if filter == "all":
            keep = True
        elif filter in ("model_disagrees", "annotators_disagree"):
            keep = item[filter]
        else:
            keep = value == filter
        if keep:
            out.append(item)
    return {"label": lab["name"], "version": model["version"] if model else None, "filter": filter, "annotations": out}
