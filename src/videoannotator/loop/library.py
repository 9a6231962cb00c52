"""The library as the page browses it: every label with its figures (the home page's cards) and
a video's shots spread over it (the Videos page's strips)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..errors import NotFound

if TYPE_CHECKING:
    from ..workspace import Workspace


def label_cards(ws: Workspace) -> list[dict[str, Any]]:
    """Every label with its annotation counts, its latest version (with the cross-validated AP
    and its 95% interval, or why there is none), how many versions it has, and the live one."""
    live = ws.catalog.deployments.live()
    cards = []
    for label in ws.list_labels():
        counts = ws.annotations.training_set(label["id"])[2]
        versions = ws.models.list(label["id"])
        cards.append(
            {
                **label,
                "counts": counts,
                "latest": _version_card(versions[-1]) if versions else None,
                "versions": len(versions),
                "live": live.get(label["id"]),
            }
        )
    return cards


def _version_card(version: dict[str, Any]) -> dict[str, Any]:
    cv = (version.get("metrics") or {}).get("cv") or {}
    return {
        "version": version["version"],
        "created_at": version["created_at"],
        "ap": cv.get("ap"),
        "ap_low": cv.get("ap_low"),
        "ap_high": cv.get("ap_high"),
        "reason": cv.get("reason"),
    }


def video_shots(ws: Workspace, video_id: int, n: int) -> dict[str, Any]:
    """Up to ``n`` of the video's shots, spread evenly over it in time order, and its clip count."""
    clips = ws.catalog.videos.clips_of(int(video_id))
    if not clips and not any(v["id"] == int(video_id) for v in ws.videos()):
        raise NotFound(f"no video with id {video_id}; GET /api/videos (or va videos) lists them")
    count = min(int(n), len(clips))
    picked = [clips[(i * len(clips)) // count] for i in range(count)]
    return {
        "video_id": int(video_id),
        "clips": len(clips),
        "shots": [
            {"clip_id": int(c["id"]), "start": round(float(c["start_s"]), 3), "end": round(float(c["end_s"]), 3)}
            for c in picked
        ],
    }
