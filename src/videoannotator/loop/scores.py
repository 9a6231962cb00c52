"""A model version's scores over the workspace, and whether the version fits it at all.

Per-version corpus scores are O(clips) on disk per Build (4 bytes a clip: 40 MB at 10M).
From ``KEEP_ALL_BELOW`` clips on, only the versions that can be asked for often keep their
file — each label's latest version and its deployed (live) one; ``prune_scores`` removes
the others after a Build and ``model_scores`` recomputes a removed version's scores on
demand from its weights and the matrix (one float32 scan: the exact logits). Below the
threshold every version keeps its file, as before.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ..errors import NotReady
from ..vectors.compact import COMPACT_THRESHOLD

#: From this many clips on, only the latest and the deployed version keep their scores file.
KEEP_ALL_BELOW = COMPACT_THRESHOLD

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

    try:
        scores = ws.models.scores(model)
    except FileNotFoundError:  # pruned (prune_scores): recompute from the version's weights
        require_fit(ws, model, label_name)
        scores = np.empty(0, np.float32)
    n = ws.clip_count()
    if len(scores) < n:
        require_fit(ws, model, label_name)
        extra = score_corpus(ws.train_vectors()[len(scores) : n], model["coef"], model["intercept"])
        scores = np.concatenate([scores, np.asarray(extra, dtype=np.float32)])
    return scores


def versions_keeping_scores(ws: Workspace, label_id: int) -> set[int]:
    """The versions of a label whose scores file is kept: the latest and the deployed one."""
    keep = set()
    latest = ws.models.latest_or_none(label_id)
    if latest is not None:
        keep.add(int(latest["version"]))
    live = ws.catalog.deployments.live().get(label_id)
    if live is not None:
        keep.add(int(live))
    return keep


def prune_scores(ws: Workspace, label_id: int, clips: int | None = None) -> list[int]:
    """Remove the scores files of a label's versions that are neither latest nor deployed,
    once the workspace holds ``KEEP_ALL_BELOW`` clips or more; the versions removed."""
    clips = ws.clip_count() if clips is None else clips
    if clips < KEEP_ALL_BELOW:
        return []
    keep = versions_keeping_scores(ws, label_id)
    removed = []
    for row in ws.models.list(label_id):
        version = int(row["version"])
        path = ws.models.scores_path(label_id, version)
        if version not in keep and path.exists():
            path.unlink()
            removed.append(version)
    return removed
