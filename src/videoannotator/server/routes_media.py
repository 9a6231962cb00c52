"""/media: a clip's thumbnail and its WebM preview, addressed by integer clip id only.

No part of the URL reaches the file system: the id is looked up in the catalog and the
file name comes from the catalog row (thumbnail) or from the id (preview).
"""

from __future__ import annotations

import threading

from fastapi import APIRouter, Request
from starlette.responses import FileResponse

from ..errors import NotFound
from .deps import WorkspaceDep
from .schemas import ClipIdPath

router = APIRouter(prefix="/media/clips", tags=["media"])

CACHE = {"cache-control": "private, max-age=86400"}  # a clip id's media never changes


@router.get("/{clip_id}/thumb.jpg", response_class=FileResponse)
def thumb(ws: WorkspaceDep, clip_id: ClipIdPath):
    """The clip's JPEG thumbnail, made at ingest."""
    path = ws.thumb_path(ws.clip(clip_id))
    if not path.is_file():
        raise NotFound(f"clip {clip_id} has no thumbnail file; ingest its video again to make it")
    return FileResponse(path, media_type="image/jpeg", headers=CACHE)


@router.get("/{clip_id}/preview.webm", response_class=FileResponse)
def preview(ws: WorkspaceDep, request: Request, clip_id: ClipIdPath):
    """The clip as a short silent WebM, rendered on first request and kept under previews/."""
    from ..media.preview import render_preview

    clip = ws.clip(clip_id)
    path = ws.home / "previews" / f"{clip['id']}.webm"
    if not path.is_file():
        with _render_lock(request.app.state, clip["id"]):
            if not path.is_file():  # another request may have rendered it while we waited
                render_preview(clip["video_path"], clip["start_s"], clip["end_s"], path, ws.settings.thumb_width)
    return FileResponse(path, media_type="video/webm", headers=CACHE)


def _render_lock(state, clip_id: int) -> threading.Lock:
    """Striped locks: one render per clip at a time, most different clips in parallel,
    and memory that does not grow with the number of clips ever previewed."""
    locks = state.preview_locks
    return locks[clip_id % len(locks)]
