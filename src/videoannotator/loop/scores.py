"""A model version's scores over the workspace, and whether the version fits it at all."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ..errors import NotReady

if TYPE_CHECKING:
    from ..workspace import Workspace


def fits_workspace(ws: Workspace, model: dict[str, Any]) -> bool:
    """Whether the version can score this workspace's clips: same embedder, trained on the
    same kind of vectors (features or search vectors) of the same width."""
    return bool(
        model["embedder"] == ws.embedder_name
        and model.get("trained_on", "vectors") == ws.train_space
        and model["dim"] == ws.train_vectors().shape[1]
    )


def require_fit(ws: Workspace, model: dict[str, Any], label_name: str) -> None:
    if not fits_workspace(ws, model):
        raise NotReady(
            f"version {model['version']} of {label_name!r} was built on {model['embedder']} "
            f"{model.get('trained_on', 'vectors')} ({model['dim']}-d), which this workspace no longer has "
            f"(it holds {ws.embedder_name} {ws.train_space}, e.g. after `va reembed`); "
            f"build the label again: `va build {label_name}`"
        )


def model_scores(ws: Workspace, model: dict[str, Any], label_name: str = "this label") -> npt.NDArray[np.float32]:
    """The version's corpus scores, extended to clips ingested after it was built."""
    from ..learn.classifier import score_corpus

    scores = ws.models.scores(model)
    n = ws.clip_count()
    if len(scores) < n:
        require_fit(ws, model, label_name)
        extra = score_corpus(ws.train_vectors()[len(scores) : n], model["coef"], model["intercept"])
        scores = np.concatenate([scores, np.asarray(extra, dtype=np.float32)])
    return scores
