"""`va monitor`: drift, positive rate per batch, the production feed and live precision/recall
of each deployed version."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ..learn.decision import is_positive
from ..learn.feeds import random_keys
from ..loop.clips import describe_clips, page
from ..loop.scores import model_scores
from ..registry.versions import probabilities, require_live, threshold_probability
from .stats import psi, stratified_recall, wilson

if TYPE_CHECKING:
    from ..workspace import Workspace

from ..names import PRODUCTION_SOURCE


def production_ids(ws: Workspace, label_id: int, version: int) -> npt.NDArray[np.int64]:
    """Every clip the version scored in production (its score batches), once."""
    n = ws.clip_count()
    parts = [
        np.arange(a, min(e, n), dtype=np.int64)
        for b in ws.catalog.batches.list(label_id, version)
        for a, e in b["clip_ranges"]
    ]
    return np.unique(np.concatenate(parts)) if parts else np.zeros(0, dtype=np.int64)


def monitor_label(ws: Workspace, label: str | int) -> dict[str, Any]:
    lab = ws.label(label)
    model = require_live(ws, lab)
    ids = production_ids(ws, lab["id"], model["version"])
    logits = model_scores(ws, model, lab["name"])
    built_on = probabilities(model, logits[: model["clips_scored"]])
    live_p = probabilities(model, logits[ids])
    threshold = float(model["threshold"])
    above = is_positive(logits[ids], threshold)
    drift = psi(built_on, live_p)
    batches = [
        {
            "id": b["id"],
            "source": b["source"],
            "created_at": b["created_at"],
            "clips": b["clips"],
            "positives": b["positives"],
            "positive_rate": round(b["positives"] / b["clips"], 4) if b["clips"] else None,
        }
        for b in ws.catalog.batches.list(lab["id"], model["version"])
    ]
    current = ws.annotations.current(lab["id"])
    production_annotated = {e["clip_id"] for e in ws.annotations.events(lab["id"]) if e["source"] == PRODUCTION_SOURCE}
    counts = {"pos_above": 0, "neg_above": 0, "pos_below": 0, "neg_below": 0}
    for clip_id, is_above in zip(ids.tolist(), above.tolist()):
        entry = current.get(clip_id)
        if clip_id not in production_annotated or entry is None or entry["value"] not in ("positive", "negative"):
            continue
        side = "above" if is_above else "below"
        counts[("pos_" if entry["value"] == "positive" else "neg_") + side] += 1
    judged_above = counts["pos_above"] + counts["neg_above"]
    precision = counts["pos_above"] / judged_above if judged_above else None
    interval = wilson(counts["pos_above"], judged_above)
    recall = stratified_recall(
        int(above.sum()),
        counts["pos_above"],
        counts["neg_above"],
        int((~above).sum()),
        counts["pos_below"],
        counts["neg_below"],
    )
    settings = ws.settings
    warnings = []
    if drift is not None and drift > settings.drift_warn_psi:
        warnings.append(
            f"scores drifted: PSI {drift:.2f} > {settings.drift_warn_psi} against the corpus v{model['version']} "
            "was built on; annotate the production feed and build again"
        )
    if precision is not None and judged_above >= 5 and precision < settings.min_live_precision:
        warnings.append(
            f"live precision {precision:.2f} < {settings.min_live_precision} on {judged_above} annotated "
            "production clips above the threshold; fix the edge cases and build again"
        )
    return {
        "label": lab["name"],
        "version": model["version"],
        "threshold": round(threshold_probability(model), 5),
        "built_on": {
            "clips": int(built_on.size),
            "positive_rate": round(float(is_positive(logits[: model["clips_scored"]], threshold).mean()), 4)
            if built_on.size
            else None,
        },
        "production": {
            "clips": int(ids.size),
            "positive_rate": round(float(above.mean()), 4) if ids.size else None,
            "batches": batches,
        },
        "drift": {"psi": None if drift is None else round(drift, 4), "warn_above": settings.drift_warn_psi},
        "live": {
            "annotated": counts,
            "precision": None if precision is None else round(precision, 4),
            "precision_interval": None if interval is None else [round(x, 4) for x in interval],
            "recall": None if recall["recall"] is None else round(float(recall["recall"]), 4),
            "recall_interval": None
            if recall["recall"] is None
            else [round(float(recall["low"] or 0), 4), round(float(recall["high"] or 0), 4)],
        },
        "warnings": warnings,
    }


def monitor(ws: Workspace, label: str | int | None = None) -> dict[str, Any]:
    if label is not None:
        return {"labels": [monitor_label(ws, label)]}
    return {
        "labels": [
            monitor_label(ws, lid) for lid in sorted(ws.catalog.deployments.live()) if not ws.label(lid)["archived"]
        ]
    }


def production_feed(ws: Workspace, label: str | int, n: int = 20, seed: int = 0) -> dict[str, Any]:
    """A stratified random sample of production clips nobody has annotated for the label:
    half above the threshold, half below (each side's share filled from the other when it
    runs out). Annotate them with source "production": they measure live precision and
    recall and flow into the next Build."""
    n, _ = page(n, 0)
    lab = ws.label(label)
    model = require_live(ws, lab)
    ids = production_ids(ws, lab["id"], model["version"])
    annotated = np.fromiter(ws.annotations.current(lab["id"]).keys(), dtype=np.int64)
    ids = ids[~np.isin(ids, annotated)]
    logits = model_scores(ws, model, lab["name"])[ids]
    above = is_positive(logits, float(model["threshold"]))
    keys = random_keys(ids, seed)
    up, down = ids[above][np.argsort(keys[above])], ids[~above][np.argsort(keys[~above])]
    half = n // 2
    take_up = min(up.size, max(half, n - down.size))
    picked = np.concatenate([up[:take_up], down[: n - take_up]])
    by_id = dict(zip(ids.tolist(), logits.tolist()))
    clips = describe_clips(ws, picked)
    picked_logits = np.asarray([by_id[c] for c in picked.tolist()], dtype=np.float32)
    sides = is_positive(picked_logits, float(model["threshold"]))
    for clip, p, side in zip(clips, probabilities(model, picked_logits), sides):
        clip.update(probability=round(float(p), 5), above_threshold=bool(side))
    return {
        "label": lab["name"],
        "version": model["version"],
        "source": PRODUCTION_SOURCE,
        "pool": {"above": int(up.size), "below": int(down.size)},
        "clips": clips,
    }
