"""The catalog side: workspace info, videos, text search, similar clips, one clip across labels."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from ... import names
from ..deps import ComputeLock, WorkspaceDep
from ..errors import error_responses
from ..respond import data
from ..schemas import ClipIdPath, Offset, PageSize

router = APIRouter(prefix="/api", tags=["catalog"])

LabelQuery = Annotated[
    str | None, Query(max_length=200, description="With hide_annotated: whose annotated clips to hide.")
]


def media_urls(clip_id: int) -> dict:
    return {"thumb_url": f"/media/clips/{clip_id}/thumb.jpg", "preview_url": f"/media/clips/{clip_id}/preview.webm"}


@router.get("/meta")
def meta():
    """The names the page and clients share with the server: feeds, vote values, review
    filters, export choices, the default embedder, limits (one source: names.py)."""
    return data(names.meta())


@router.get("/info")
def info(ws: WorkspaceDep):
    """What the workspace holds: videos, clips, embedder, dimension; and ``text_model``:
    'cold', 'loading' or 'ready' (a text search now waits for the model to load, or not)."""
    return data({**ws.info(), "text_model": ws.text_model_state})


@router.get("/videos")
def videos(ws: WorkspaceDep):
    """Every ingested video with its clip count."""
    return data({"videos": ws.videos()})


@router.get("/search", responses=error_responses(404, 409))
def search(
    ws: WorkspaceDep,
    lock: ComputeLock,
    q: Annotated[str, Query(min_length=1, max_length=1000)],
    k: PageSize = 20,
    offset: Offset = 0,
    label: LabelQuery = None,
    hide_annotated: bool = False,
):
    """Text → clips, by cosine in the embedder's joint space (zero-shot)."""
    with lock:
        clips = ws.search(q, None, k, offset, label, hide_annotated)
    return data({"query": q, "offset": offset, "clips": clips})


@router.get("/clips/{clip_id}/similar", responses=error_responses(409))
def similar(
    ws: WorkspaceDep,
    lock: ComputeLock,
    clip_id: ClipIdPath,
    k: PageSize = 20,
    offset: Offset = 0,
    label: LabelQuery = None,
    hide_annotated: bool = False,
):
    """More like this clip (the clip itself left out)."""
    with lock:
        clips = ws.search(None, clip_id, k, offset, label, hide_annotated)
    return data({"clip_id": clip_id, "offset": offset, "clips": clips})


@router.get("/clips/{clip_id}", responses=error_responses(409))
def clip_detail(ws: WorkspaceDep, clip_id: ClipIdPath):
    """One clip: where it lies, and every label's latest-model score for it (the paper's Fig. 2)."""
    return data({**ws.clip_labels(clip_id), **media_urls(clip_id)})
