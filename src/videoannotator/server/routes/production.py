"""Models in production: deploy and roll back, the model card, scoring catalog videos, segments
and timelines, monitoring and the production feed (issue 11).

Nothing here takes a file path: videos are named by their catalog id, so no string from HTTP
reaches the file system."""

from __future__ import annotations

import re
from typing import Annotated

from fastapi import APIRouter, Query
from starlette.responses import Response

from ...errors import NotFound
from ...workspace import Workspace
from ..deps import ComputeLock, UserDep, WorkspaceDep
from ..errors import error_responses
from ..respond import data
from ..schemas import (
    DeployIn,
    LabelPath,
    LabelQuery,
    PageSize,
    RollbackIn,
    ScoreIn,
    Seed,
    SegmentFormat,
    VideoIdPath,
    VideoQuery,
)

router = APIRouter(prefix="/api", tags=["production"])
MAX_SHOTS = 60  # a library row shows at most this many thumbnails
ShotCount = Annotated[int, Query(ge=1, le=MAX_SHOTS, description="How many shots, spread evenly over the video.")]
NOT_READY = error_responses(409)  # no deployed version, or one from before `va reembed`
SEGMENT_MEDIA = {
    "otio": "application/json",
    "edl": "text/plain; charset=utf-8",
    "csv": "text/csv; charset=utf-8",
    "json": "application/json",
}
SEGMENT_CONTENT = {
    "application/json": {"schema": {"type": "object"}},
    "text/plain": {"schema": {"type": "string"}, "example": "TITLE: ships v1 segments\n\n001  FREECOLO V  C  ..."},
    "text/csv": {"schema": {"type": "string"}, "example": "video,label,version,start,end,duration,peak,mean,clips\n"},
}


def _video(ws: Workspace, video_id: int) -> int:
    """The id of a catalog video, checked here so the library never looks the number up as a file name."""
    if not any(v["id"] == video_id for v in ws.videos()):
        raise NotFound(f"no video with id {video_id}; GET /api/videos lists them")
    return video_id


def _attachment(filename: str) -> dict[str, str]:
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", filename)
    return {"content-disposition": f'attachment; filename="{safe}"'}


# -- the registry --------------------------------------------------------------------------------


@router.post("/labels/{name}/deploy", responses=NOT_READY)
def deploy(ws: WorkspaceDep, user: UserDep, lock: ComputeLock, name: LabelPath, body: DeployIn):
    """Put a version (default: the latest) into production; with one live already, say which
    production decisions the switch changes. `dry_run: true` only says. The deployer recorded
    is `deployer`, else the server's user ($VA_ANNOTATOR or the login name), as for label edits."""
    with lock:
        return data(ws.deploy(name, body.version, deployer=user or body.deployer, dry_run=body.dry_run))


@router.post("/labels/{name}/rollback", responses=NOT_READY)
def rollback(ws: WorkspaceDep, user: UserDep, name: LabelPath, body: RollbackIn):
    """Make the version that was live before the current one live again (`{}` takes the defaults)."""
    return data(ws.rollback(name, deployer=user or body.deployer))


@router.get("/labels/{name}/card")
def card(ws: WorkspaceDep, name: LabelPath):
    """The model card: a plain-language verdict and why, AP per version, what changed since the
    last version, what to expect at the threshold, annotation counts and sources."""
    return data(ws.model_card(name))


# -- monitoring and the fix loop -----------------------------------------------------------------


@router.get("/monitor", responses=error_responses(404, 409))
def monitor(ws: WorkspaceDep, lock: ComputeLock, label: LabelQuery = None):
    """Per deployed label (or one): drift against the corpus its version was built on, positive
    rate per scoring batch, live precision and recall from the annotated production feed, warnings."""
    with lock:
        return data(ws.monitor(label))


@router.get("/labels/{name}/production-feed", responses=NOT_READY)
def production_feed(ws: WorkspaceDep, lock: ComputeLock, name: LabelPath, n: PageSize = 20, seed: Seed = 0):
    """A random sample of production clips above and below the live threshold that nobody has
    annotated: annotate them with source "production" (POST …/annotations)."""
    with lock:
        return data(ws.production_feed(name, n, seed))


# -- scoring, segments, timelines ----------------------------------------------------------------


@router.post("/score", responses=error_responses(404, 409))
def score(ws: WorkspaceDep, lock: ComputeLock, body: ScoreIn):
    """Score every clip of catalog videos (by id) with the deployed versions of `labels`
    (default: every deployed label): one row per clip × label. Files are ingested with
    `va score` or `va ingest`; this route never reads a path."""
    with lock:
        return data(ws.score_videos(body.video_ids, body.labels))


@router.get("/labels/{name}/segments", responses=NOT_READY)
def segments(ws: WorkspaceDep, lock: ComputeLock, name: LabelPath, video: VideoQuery = None):
    """The live version's segments (contiguous clips above the threshold) of one video or of all."""
    with lock:
        return data(ws.segments(name, None if video is None else _video(ws, video)))


@router.get(
    "/labels/{name}/export/segments",
    response_class=Response,
    responses={
        200: {
            "description": "otio: an OpenTimelineIO timeline (one marker per segment); edl: a CMX 3600 EDL "
            "(one edit per segment); csv: one row per segment; json: as GET …/segments.",
            "content": SEGMENT_CONTENT,
        },
        **NOT_READY,
    },
)
def export_segments(
    ws: WorkspaceDep, lock: ComputeLock, name: LabelPath, format: SegmentFormat = "otio", video: VideoQuery = None
):
    """The live version's segments as a download for editing tools."""
    with lock:
        body = ws.export_segments(name, format, None if video is None else _video(ws, video))
    filename = f"{ws.label(name)['name']}-v{ws.versions(name)['live']}-segments.{format}"
    return Response(body, media_type=SEGMENT_MEDIA[format], headers=_attachment(filename))


@router.get("/videos/{video_id}/timeline", responses=NOT_READY)
def timeline(ws: WorkspaceDep, lock: ComputeLock, video_id: VideoIdPath):
    """A video's clips with each deployed label's probability, threshold and segments."""
    with lock:
        return data(ws.timeline(_video(ws, video_id)))


@router.get(
    "/videos/{video_id}/timeline.png",
    response_class=Response,
    responses={
        200: {"description": "Each deployed label's probability over the video's time.", "content": {"image/png": {}}},
        **NOT_READY,
    },
)
def timeline_png(ws: WorkspaceDep, lock: ComputeLock, video_id: VideoIdPath):
    """The timeline drawn: one row per deployed label, the threshold dashed, segments shaded."""
    with lock:
        png = ws.timeline_png(_video(ws, video_id))
    return Response(png, media_type="image/png")


# -- the library: label cards and the videos' shot strips (issue 14) -----------------------------


@router.get("/library/labels")
def library_labels(ws: WorkspaceDep):
    """Every label as the home page's card shows it: annotation counts (positive, negative, skip,
    unresolved), the latest model version with its cross-validated AP (and 95% interval) and
    the deployed version, if any."""
    return data({"labels": ws.label_cards()})


@router.get("/videos/{video_id}/shots")
def video_shots(ws: WorkspaceDep, video_id: VideoIdPath, n: ShotCount = 12):
    """Up to `n` of the video's shots, spread evenly over it in time order (the library's strip
    of thumbnails), and how many it has in all."""
    return data(ws.video_shots(video_id, n))
