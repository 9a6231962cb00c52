"""The model card: a plain-language verdict, AP per version, what changed, where the
annotations came from, and what to expect at the threshold."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, Any

from .versions import summary

if TYPE_CHECKING:
    from ..workspace import Workspace


def model_card(ws: Workspace, label: str | int) -> dict[str, Any]:
    from ..learn.card import verdict

    lab = ws.label(label)
    models = [ws.models.get(lab["id"], v["version"]) for v in ws.models.list(lab["id"])]
    _, _, counts = ws.annotations.training_set(lab["id"])
    sources = Counter(e["source"] for e in ws.annotations.events(lab["id"]) if e["source"] != "undo")
    live_row = ws.catalog.deployments.current(lab["id"])
    card = verdict([{"version": m["version"], "metrics": m["metrics"], "created_at": m["created_at"]} for m in models])
    return {
        "label": lab["name"],
        "description": lab["description"],
        **card,
        "versions": [summary(m) for m in models],
        "live": None if live_row is None else live_row["version"],
        "annotations": counts,
        "sources": dict(sorted(sources.items(), key=lambda kv: -kv[1])),
    }
