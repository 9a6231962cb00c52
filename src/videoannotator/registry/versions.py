"""Model versions as production sees them: calibrated probabilities, the threshold, deploys."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ..errors import NotFound, NotReady
from ..learn.decision import is_positive
from ..loop.clips import calibration_of, describe_clips
from ..loop.scores import model_scores, require_fit

if TYPE_CHECKING:
    from ..workspace import Workspace

MAX_CHANGED_LISTED = 200


def calibration(model: dict[str, Any]) -> tuple[float, float]:
    """(a, b) of the version's Platt scaling, p = sigmoid(a·logit + b); identity for versions
    built before calibration existed."""
    cal = (model.get("metrics") or {}).get("calibration") or {}
    return float(cal.get("a", 1.0)), float(cal.get("b", 0.0))


def probabilities(model: dict[str, Any], logits: npt.NDArray[np.float32]) -> npt.NDArray[np.float32]:
    """The version's calibrated probabilities of the logits."""
    return calibration_of(model).probability(logits)


def threshold_probability(model: dict[str, Any]) -> float:
    """The version's decision threshold as a calibrated probability."""
    chosen = (model.get("metrics") or {}).get("threshold") or {}
    if chosen.get("probability") is not None:
        return float(chosen["probability"])
    a, b = calibration(model)
    return 1.0 / (1.0 + math.exp(-(a * float(model["threshold"]) + b)))


def summary(model: dict[str, Any]) -> dict[str, Any]:
    """What a version row shows: number, when, what it was trained on, AP, threshold."""
    metrics = model.get("metrics") or {}
    return {
        "version": model["version"],
        "created_at": model["created_at"],
        "embedder": model["embedder"],
        "trained_on": model.get("trained_on", "vectors"),
        "clips_scored": model["clips_scored"],
        "ap": (metrics.get("cv") or {}).get("ap"),
        "counts": metrics.get("counts"),
        "threshold": metrics.get("threshold"),
        "calibration": metrics.get("calibration"),
    }


def live(ws: Workspace, label_id: int) -> dict[str, Any] | None:
    """The label's deployed version (the full model row), or None."""
    current = ws.catalog.deployments.current(label_id)
    return None if current is None else ws.models.get(label_id, current["version"])


def require_live(ws: Workspace, label: dict[str, Any]) -> dict[str, Any]:
    model = live(ws, label["id"])
    if model is None:
        raise NotReady(
            f"{label['name']!r} has no deployed version; build it, then `va deploy {label['name']}` "
            "(or deploy from the page)"
        )
    return model


def versions(ws: Workspace, label: str | int) -> dict[str, Any]:
    """Every version of the label, which one is live, and every deploy and rollback."""
    lab = ws.label(label)
    live_row = ws.catalog.deployments.current(lab["id"])
    history = ws.catalog.deployments.history(lab["id"])
    deployed = {h["version"] for h in history}
    rows = []
    for v in ws.models.list(lab["id"]):
        model = ws.models.get(lab["id"], v["version"])
        rows.append(
            {
                **summary(model),
                "live": live_row is not None and live_row["version"] == v["version"],
                "ever_deployed": v["version"] in deployed,
            }
        )
    live_model = None if live_row is None else next((r for r in rows if r["version"] == live_row["version"]), None)
    return {
        "label": lab["name"],
        "live": None if live_row is None else live_row["version"],
        # clips ingested after the live version was built: scored by it as they arrive
        "new_clips_since_live": None if live_model is None else max(0, ws.clip_count() - live_model["clips_scored"]),
        "versions": rows,
        "deployments": history,
    }


def decision_changes(ws: Workspace, label: dict[str, Any], old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    """The production decisions (clips scored by a deployed version) that ``new`` would
    decide differently from ``old``; every clip when nothing has been scored in production."""
    ranges = [r for b in ws.catalog.batches.list(label["id"]) for r in b["clip_ranges"]]
    n = ws.clip_count()
    if ranges:
        ids = np.unique(np.concatenate([np.arange(a, min(e, n), dtype=np.int64) for a, e in ranges]))
        scope = "production"
    else:
        ids = np.arange(n, dtype=np.int64)
        scope = "corpus"
    old_scores = model_scores(ws, old, label["name"])[ids]
    new_scores = model_scores(ws, new, label["name"])[ids]
    before = is_positive(old_scores, float(old["threshold"]))
    after = is_positive(new_scores, float(new["threshold"]))
    changed = np.flatnonzero(before != after)
    listed = ids[changed[:MAX_CHANGED_LISTED]]
    new_p = probabilities(new, new_scores[changed[:MAX_CHANGED_LISTED]])
    clips = describe_clips(ws, listed)
    for clip, p, was in zip(clips, new_p, before[changed[:MAX_CHANGED_LISTED]]):
        clip.update(probability=round(float(p), 4), was_positive=bool(was), now_positive=not bool(was))
    return {
        "scope": scope,
        "decisions": int(ids.size),
        "changed": int(changed.size),
        "became_positive": int(np.count_nonzero(after[changed])),
        "became_negative": int(np.count_nonzero(before[changed])),
        "clips": clips,
    }


def deploy(
    ws: Workspace, label: str | int, version: int | None = None, deployer: str | None = None, dry_run: bool = False
) -> dict[str, Any]:
    """Point the label's production alias at ``version`` (default: the latest). With a live
    version already, say how many production decisions the switch changes; ``dry_run``
    stops there."""
    lab = ws.label(label)
    try:
        model = ws.models.get(lab["id"], version)
    except NotFound:
        raise NotFound(
            f"{lab['name']!r} has no version {version}; `va versions {lab['name']}` lists them"
            if version is not None
            else f"{lab['name']!r} has no model yet; annotate a positive and a negative, then `va build {lab['name']}`"
        ) from None
    require_fit(ws, model, lab["name"])  # a version from before `va reembed` cannot score this workspace
    current = live(ws, lab["id"])
    changes = None
    if current is not None and current["version"] != model["version"]:
        changes = decision_changes(ws, lab, current, model)
    out: dict[str, Any] = {
        "label": lab["name"],
        "version": model["version"],
        "previous": None if current is None else current["version"],
        "changes": changes,
        "dry_run": dry_run,
        "deployed": False,
    }
    if not dry_run:
        out["deployment"] = ws.catalog.deployments.record(lab["id"], model["version"], "deploy", deployer)
        out["deployed"] = True
    return out


def rollback(ws: Workspace, label: str | int, deployer: str | None = None) -> dict[str, Any]:
    """Make the version that was live before the current one live again."""
    lab = ws.label(label)
    history = ws.catalog.deployments.history(lab["id"])
    if not history:
        raise NotReady(f"{lab['name']!r} was never deployed; nothing to roll back")
    current = history[-1]["version"]
    earlier = [h["version"] for h in history if h["version"] != current]
    if not earlier:
        raise NotReady(f"{lab['name']!r} has had only version {current} live; nothing to roll back to")
    target = earlier[-1]
    row = ws.catalog.deployments.record(lab["id"], target, "rollback", deployer, note=f"from v{current}")
    return {"label": lab["name"], "version": target, "previous": current, "deployment": row}
