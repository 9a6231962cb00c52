"""/media: a clip's thumbnail, its WebM preview and the player's larger one with sound,
addressed by integer clip id only.

No part of the URL reaches the file system: the id is looked up in the catalog and the
file name comes from the catalog row (thumbnail) or from the id (previews).
"""

from __future__ import annotations

from fastapi import APIRouter
from starlette.datastructures import Headers
from starlette.responses import FileResponse, MalformedRangeHeader, RangeNotSatisfiable

from ..deps import WorkspaceDep
from ..errors import error_response, error_responses
from ..schemas import ClipIdPath

router = APIRouter(prefix="/media/clips", tags=["media"])

CACHE = {"cache-control": "private, max-age=86400"}  # a clip id's media never changes
BINARY = {"schema": {"type": "string", "format": "binary"}}


def _file_responses(media_type: str) -> dict:
    return {
        200: {"description": f"The file ({media_type}).", "content": {media_type: BINARY}},
        206: {
            "description": "The byte range asked for with Range (players seek this way).",
            "content": {media_type: BINARY, "multipart/byteranges": BINARY},
        },
        **error_responses(400, 416),
    }


class MediaFile(FileResponse):
    """A FileResponse whose bad Range answers carry the one error shape (Starlette's are plain text)."""

    async def __call__(self, scope, receive, send):
        headers = Headers(scope=scope)
        http_range, if_range = headers.get("range"), headers.get("if-range")
        if (
            http_range is not None
            and self.stat_result is not None
            and (if_range is None or self._should_use_range(if_range))
        ):
            try:
                self._parse_range_header(http_range, self.stat_result.st_size)
            except MalformedRangeHeader as exc:
                return await error_response(400, "bad_request", f"Range header: {exc.content}")(scope, receive, send)
            except RangeNotSatisfiable as exc:
                return await error_response(
                    416,
                    "range_not_satisfiable",
                    f"Range header asks past the end of the file ({exc.max_size} bytes)",
                    {"content-range": f"bytes */{exc.max_size}"},
                )(scope, receive, send)
        return await super().__call__(scope, receive, send)


def _file(path, media_type: str) -> MediaFile:
    return MediaFile(path, media_type=media_type, headers=CACHE, stat_result=path.stat())


@router.get("/{clip_id}/thumb.jpg", response_class=FileResponse, responses=_file_responses("image/jpeg"))
def thumb(ws: WorkspaceDep, clip_id: ClipIdPath):
    """The clip's JPEG thumbnail, made at ingest."""
    return _file(ws.thumbnail(clip_id), "image/jpeg")


@router.get("/{clip_id}/preview.webm", response_class=FileResponse, responses=_file_responses("video/webm"))
def preview(ws: WorkspaceDep, clip_id: ClipIdPath):
    """The clip as a short silent WebM, rendered on first request and kept under previews/."""
    return _file(ws.preview(clip_id), "video/webm")


@router.get("/{clip_id}/player.webm", response_class=FileResponse, responses=_file_responses("video/webm"))
def player(ws: WorkspaceDep, clip_id: ClipIdPath):
    """The clip for the player: 640 px wide (the source's width when smaller) with the
    source's sound (Opus) where it has one; rendered on first request and kept under previews/."""
    return _file(ws.player_preview(clip_id), "video/webm")
