"""Step 2's *Build*: train on the label's annotations, score the corpus, compute the feeds."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ..errors import NotReady
from ..learn.decision import is_positive
from .clips import annotated_ids
from .scores import fits_workspace, prune_scores

if TYPE_CHECKING:
    from ..workspace import Workspace


def build(ws: Workspace, label: str | int, seed: int = 0, n_feed: int = 100) -> dict[str, Any]:
    from ..learn.build import ProbeModel, build_model

    lab = ws.label(label)
    label_id = lab["id"]
    last_event = ws.annotations.last_event_id(label_id)
    ids, ys, counts = ws.annotations.training_set(label_id, up_to_id=last_event or None)
    if counts["positive"] == 0 or counts["negative"] == 0:
        raise NotReady(
            f"build needs at least one positive and one negative annotation for {lab['name']!r} "
            f"(has {counts['positive']} positive, {counts['negative']} negative); annotate some clips first"
        )
    started = time.perf_counter()
    X = ws.train_vectors()
    compact = ws.matrices.compact(ws.train_space, X.shape[0])  # None below COMPACT_THRESHOLD clips
    previous = ws.models.latest_or_none(label_id)
    warm = None
    if previous is not None and fits_workspace(ws, previous):
        warm = ProbeModel(coef=previous["coef"], intercept=previous["intercept"], threshold=previous["threshold"])
    skip_ids = np.setdiff1d(annotated_ids(ws, label_id), np.asarray(ids, dtype=np.int64))
    result = build_model(
        X,
        np.arange(X.shape[0], dtype=np.int64),
        np.asarray(ids, dtype=np.int64),
        np.asarray(ys, dtype=np.int8),
        seed=seed,
        previous=warm,
        n_feed=n_feed,
        clusters=ws.clusters(),
        exclude_ids=skip_ids,
        threshold_rule=ws.settings.threshold_rule,
        compact=compact,
    )
    ws.remember_clusters(result.clusters)
    metrics = dict(result.metrics)
    metrics["counts"] = {**counts, **metrics.get("counts", {})}
    metrics["change"] = _change(ws, previous, result.scores, float(result.model.threshold), metrics)
    snapshot = {
        "last_annotation_id": last_event,
        "positives": [i for i, y in zip(ids, ys) if y == 1],
        "negatives": [i for i, y in zip(ids, ys) if y == 0],
    }
    model = ws.models.save(
        label_id,
        ws.embedder_name,
        result.model.coef,
        result.model.intercept,
        result.model.threshold,
        result.scores,
        last_event,
        snapshot,
        metrics,
        trained_on=ws.train_space,
    )
    prune_scores(ws, label_id, X.shape[0])  # large workspaces: old undeployed versions recompute on demand
    feeds = {name: list(map(int, feed_ids)) for name, feed_ids in result.feeds.items()}
    timings = dict(result.timings_ms)
    timings["total"] = round((time.perf_counter() - started) * 1000, 1)
    return {
        "label": lab["name"],
        "version": model["version"],
        "metrics": metrics,
        "feeds": feeds,
        "timings_ms": timings,
        "next": ws.next_feed(label_id, counts),
    }


def _change(
    ws: Workspace,
    previous: dict[str, Any] | None,
    scores: npt.NDArray[np.float32],
    threshold: float,
    metrics: dict[str, Any],
) -> dict[str, Any] | None:
    """How this build differs from the last one: AP delta and clips whose side flipped."""
    if previous is None:
        return None
    old = ws.models.scores(previous)
    n = min(len(old), len(scores))
    flipped = int(np.count_nonzero(is_positive(old[:n], previous["threshold"]) != is_positive(scores[:n], threshold)))
    old_ap = (previous["metrics"].get("cv") or {}).get("ap")
    new_ap = (metrics.get("cv") or {}).get("ap")
    return {
        "previous_version": previous["version"],
        "clips_flipped": flipped,
        "ap_delta": None if old_ap is None or new_ap is None else round(new_ap - old_ap, 4),
        "new_annotations": metrics["counts"]["positive"]
        + metrics["counts"]["negative"]
        - len(previous["snapshot"]["positives"])
        - len(previous["snapshot"]["negatives"]),
    }
