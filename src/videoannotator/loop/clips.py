"""Clips as the loop shows them: ids → rows with their video and times, one clip across labels."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ..errors import InvalidInput
from ..names import MAX_PAGE
from .scores import fits_workspace

if TYPE_CHECKING:
    from ..learn.calibrate import Calibration
    from ..workspace import Workspace

# ``learn`` (its package imports scikit-learn: 1.1-1.7 s) is imported where a model is
# applied, not here: a text search (`va search`, loop/search.py) describes clips without one.


def calibration_of(model: dict[str, Any]) -> Calibration:
    """The version's Platt scaling (the identity for versions built before calibration)."""
    from ..learn.calibrate import Calibration

    return Calibration.from_dict((model.get("metrics") or {}).get("calibration"))


def page(k: int, offset: int) -> tuple[int, int]:
    k, offset = int(k), int(offset)
    if not 1 <= k <= MAX_PAGE:
        raise InvalidInput(f"k must be between 1 and {MAX_PAGE}, got {k}")
    if offset < 0:
        raise InvalidInput(f"offset must be >= 0, got {offset}")
    return k, offset


def annotated_ids(ws: Workspace, label_id: int) -> npt.NDArray[np.int64]:
    """Every clip with a current value for the label (positive, negative, skip, unresolved)."""
    return np.fromiter(ws.annotations.current(label_id).keys(), dtype=np.int64)


def describe_clips(
    ws: Workspace,
    clip_ids: Sequence[int] | npt.NDArray[np.int64],
    scores: Sequence[float] | npt.NDArray[np.float32] | None = None,
    model: dict[str, Any] | None = None,
) -> list[dict[str, Any]]:
    """The clips in the order given: id, video, video_id, start, end (and the score where
    given: the raw logit, and with the ``model`` it came from the calibrated probability people
    see and which side of the version's threshold the clip is on)."""
    ids = [int(c) for c in clip_ids]
    probability = sides = None
    if scores is not None and model is not None:
        from ..learn.decision import is_positive

        logits = np.asarray(scores, dtype=np.float32)
        probability = calibration_of(model).probability(logits)
        sides = is_positive(logits, float(model["threshold"]))
    rows = ws.catalog.videos.describe(ids)
    out = []
    for i, clip_id in enumerate(ids):
        r = rows[clip_id]
        item: dict[str, Any] = {
            "clip_id": clip_id,
            "video": r["path"],
            "video_id": r["video_id"],
            "start": round(r["start_s"], 3),
            "end": round(r["end_s"], 3),
        }
        if scores is not None:
            item["score"] = round(float(scores[i]), 5)
        if probability is not None and sides is not None:
            item["probability"] = round(float(probability[i]), 5)
            item["above_threshold"] = bool(sides[i])
        out.append(item)
    return out


def with_probabilities(ws: Workspace, clips: list[dict[str, Any]], label: str | int) -> list[dict[str, Any]]:
    """Search results with the label's latest version beside their similarity: its calibrated
    ``probability``, ``above_threshold`` and raw ``logit`` (unchanged without a usable version)."""
    from ..errors import NotReady
    from ..learn.decision import is_positive
    from .scores import model_scores

    lab = ws.label(label)
    model = ws.models.latest_or_none(lab["id"])
    if model is None or not clips:
        return clips
    try:
        scores = model_scores(ws, model, lab["name"])
    except NotReady:  # a version from before a reembed: the similarity alone
        return clips
    logits = scores[[int(c["clip_id"]) for c in clips]]
    probability = calibration_of(model).probability(logits)
    sides = is_positive(logits, float(model["threshold"]))
    for clip, logit, p, side in zip(clips, logits, probability, sides, strict=True):
        clip.update(logit=round(float(logit), 5), probability=round(float(p), 5), above_threshold=bool(side))
    return clips


def clip_origins(ws: Workspace, clip_ids: Sequence[int] | set[int] | dict[int, Any]) -> dict[int, dict[str, Any]]:
    """Each clip named by content: its video's ``content_hash`` and its ``position`` there."""
    rows = ws.catalog.videos.describe(clip_ids)
    return {c: {"content_hash": r["content_hash"], "position": r["position"]} for c, r in rows.items()}


def clip_labels(ws: Workspace, clip_id: int) -> dict[str, Any]:
    """One clip with, for every label, its latest model's score and the clip's current value
    (the paper's Fig. 2: many binary labels describe one shot)."""
    from ..learn.classifier import score_corpus
    from ..learn.decision import is_positive

    clip = ws.clip(clip_id)
    labels = []
    for label in ws.labels.list():
        model = ws.models.latest_or_none(label["id"])
        current = ws.annotations.current(label["id"]).get(clip["id"])
        item: dict[str, Any] = {
            "label": label["name"],
            "annotation": current["value"] if current else None,
            "version": None,
            "score": None,
            "probability": None,
            "threshold": None,
            "threshold_probability": None,
            "positive": None,
        }
        if model is not None:
            path = ws.models.scores_path(label["id"], model["version"])
            if clip["id"] < model["clips_scored"] and path.exists():  # read one float, not the whole file
                score = float(np.memmap(path, dtype=np.float32, mode="r", shape=(model["clips_scored"],))[clip["id"]])
            elif fits_workspace(ws, model):  # ingested after this version was built, or its scores pruned
                score = float(
                    score_corpus(ws.train_vectors()[clip["id"] : clip["id"] + 1], model["coef"], model["intercept"])[0]
                )
            else:  # built before a reembed: no score until the label is built again
                item.update(version=model["version"], threshold=model["threshold"])
                labels.append(item)
                continue
            item.update(
                version=model["version"],
                score=round(score, 5),
                probability=round(float(calibration_of(model).probability(np.asarray([score]))[0]), 5),
                threshold_probability=round(
                    float(calibration_of(model).probability(np.asarray([float(model["threshold"])]))[0]), 5
                ),
                threshold=model["threshold"],
                positive=is_positive(score, model["threshold"]),
            )
        labels.append(item)
    return {
        **describe_clips(ws, [clip["id"]])[0],
        "position": clip["position"],
        "start_frame": clip["start_frame"],
        "end_frame": clip["end_frame"],
        "labels": labels,
    }
