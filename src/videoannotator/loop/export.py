"""What ``va export`` writes: a model version as weights, a label's annotations or events."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .clips import clip_origins, describe_clips

if TYPE_CHECKING:
    from ..workspace import Workspace


def export_model(ws: Workspace, label: str | int, version: int | None = None) -> dict[str, Any]:
    lab = ws.label(label)
    model = ws.models.get(lab["id"], version)
    return {
        "label": lab["name"],
        "description": lab["description"],
        "keywords": lab["keywords"],
        "version": model["version"],
        "embedder": model["embedder"],
        "trained_on": model.get("trained_on", "vectors"),
        "dim": model["dim"],
        "weights": [round(float(w), 7) for w in model["coef"]],
        "intercept": model["intercept"],
        "threshold": model["threshold"],
        "score": (
            "logit = weights . clip_features + intercept, clip_features being the embedder's classifier "
            "features (Embedder.classifier_features of the clip's mean frame features)"
            if model.get("trained_on") == "features"
            else "logit = weights . clip_vector + intercept"
        )
        + "; positive if logit > threshold",
        "metrics": model["metrics"],
        "created_at": model["created_at"],
        "annotation_snapshot": model["snapshot"],
    }


def export_annotations(ws: Workspace, label: str | int, events: bool = False) -> list[dict[str, Any]]:
    """Current values per clip (or the raw event log). Every row names its clip by content too
    (the video's ``content_hash`` and the clip's ``position``), so ``va import`` finds the same
    clip in a workspace whose clip ids differ."""
    lab = ws.label(label)
    if events:
        rows = ws.annotations.events(lab["id"])
        origin = clip_origins(ws, {r["clip_id"] for r in rows})
        return [{**r, **origin[r["clip_id"]]} for r in rows]
    current = ws.annotations.current(lab["id"])
    items = describe_clips(ws, sorted(current))
    origin = clip_origins(ws, current)
    for item in items:
        item.update(
            label=lab["name"],
            value=current[item["clip_id"]]["value"],
            votes=current[item["clip_id"]]["votes"],
            **origin[item["clip_id"]],
        )
    return items
