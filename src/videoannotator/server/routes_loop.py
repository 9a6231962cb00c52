"""The active-learning loop on one label: annotate, undo, build, the four feeds, review."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from .. import loop
from .deps import ComputeLock, WorkspaceDep
from .respond import data
from .schemas import AnnotationIn, BuildIn, FeedName, LabelPath, Offset, PageSize, ReviewFilter, Seed, UndoIn

router = APIRouter(prefix="/api/labels/{name}", tags=["loop"])


@router.post("/annotations", status_code=201)
def annotate(ws: WorkspaceDep, name: LabelPath, body: AnnotationIn):
    """Append one annotation event per clip (positive, negative or skip), all or none."""
    events = ws.annotate(name, body.clip_ids, body.value, body.annotator, body.source, body.model_version)
    return data({"label": ws.labels.get(name)["name"], "events": events}, status_code=201)


@router.post("/undo")
def undo(ws: WorkspaceDep, name: LabelPath, body: UndoIn):
    """Undo the annotator's latest annotation on the label (or on one clip); history is kept."""
    return data(ws.undo(name, body.annotator, body.clip_id))


@router.post("/build")
def build(ws: WorkspaceDep, lock: ComputeLock, name: LabelPath, body: BuildIn | None = None):
    """Fit the label's classifier on its annotations, score every clip, store a version, pick the feeds."""
    body = body or BuildIn()
    with lock:
        return data(ws.build(name, seed=body.seed, n_feed=body.n_feed))


@router.get("/feeds/{feed}")
def feed(ws: WorkspaceDep, name: LabelPath, feed: FeedName, n: PageSize = 20, offset: Offset = 0, seed: Seed = 0,
         version: Annotated[int | None, Query(ge=1)] = None):
    """One page of a feed of the label's latest (or a given) model; annotated clips are left out."""
    return data(ws.feed(name, feed, n, offset, seed, version))


@router.get("/histogram")
def histogram(ws: WorkspaceDep, name: LabelPath, bins: Annotated[int, Query(ge=2, le=200)] = 40,
              version: Annotated[int | None, Query(ge=1)] = None):
    """The latest (or a given) model's score distribution over every clip, and over the annotated ones."""
    return data(loop.score_histogram(ws, name, bins, version))


@router.get("/review")
def review(ws: WorkspaceDep, name: LabelPath, filter: ReviewFilter = "all"):
    """Every annotation of the label with the latest model's score, optionally filtered."""
    return data(ws.review(name, filter))
