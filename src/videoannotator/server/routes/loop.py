"""The active-learning loop on one label: annotate, undo, build, the four feeds, review."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from ..deps import ComputeLock, UserDep, WorkspaceDep, who
from ..errors import error_responses
from ..respond import data
from ..schemas import (
    AnnotationIn,
    BuildIn,
    FeedName,
    IdempotencyKey,
    LabelPath,
    Offset,
    PageSize,
    ReviewFilter,
    Seed,
    UndoIn,
    Version,
)

router = APIRouter(prefix="/api/labels/{name}", tags=["loop"])
NOT_READY = error_responses(409)  # build: too few annotations; the rest: a version from before `va reembed`


@router.post("/annotations", status_code=201, responses=error_responses(409))
def annotate(
    ws: WorkspaceDep, user: UserDep, name: LabelPath, body: AnnotationIn, idempotency_key: IdempotencyKey = None
):
    """Append one annotation event per distinct clip (positive, negative or skip), all or none.

    Send an `Idempotency-Key` header to make a retry safe: the same key with the same body
    answers 201 with the first call's events (same ids) and stores nothing new; the same key
    with a different body answers 409. Keys are kept for good, one per workspace. In team mode
    the annotator is the token's user, whatever the body says."""
    events = ws.annotate(
        name,
        body.clip_ids,
        body.value,
        who(user, body.annotator),
        body.source,
        body.model_version,
        idempotency_key=idempotency_key,
    )
    return data({"label": ws.label(name)["name"], "events": events}, status_code=201)


@router.post("/undo")
def undo(ws: WorkspaceDep, user: UserDep, name: LabelPath, body: UndoIn):
    """Undo the annotator's latest annotation on the label (or on one clip); history is kept.
    In team mode only your own: the annotator is the token's user."""
    return data(ws.undo(name, who(user, body.annotator), body.clip_id))


@router.post("/build", responses=NOT_READY)
def build(ws: WorkspaceDep, lock: ComputeLock, name: LabelPath, body: BuildIn):
    """Fit the label's classifier on its annotations, score every clip, store a version, pick the feeds.

    The body is JSON like every write (`{}` takes the defaults): an empty POST is refused with 415."""
    with lock:
        return data(ws.build(name, seed=body.seed, n_feed=body.n_feed))


@router.get("/feeds/{feed}", responses=NOT_READY)
def feed(
    ws: WorkspaceDep,
    name: LabelPath,
    feed: FeedName,
    n: PageSize = 20,
    offset: Offset = 0,
    seed: Seed = 0,
    version: Version = None,
):
    """One page of a feed of the label's latest (or a given) model; annotated clips are left out."""
    return data(ws.feed(name, feed, n, offset, seed, version))


@router.get("/histogram", responses=NOT_READY)
def histogram(
    ws: WorkspaceDep, name: LabelPath, bins: Annotated[int, Query(ge=2, le=200)] = 40, version: Version = None
):
    """The latest (or a given) model's score distribution over every clip, and over the annotated ones."""
    return data(ws.score_histogram(name, bins, version))


@router.get("/review", responses=NOT_READY)
def review(ws: WorkspaceDep, name: LabelPath, filter: ReviewFilter = "all"):
    """Every annotation of the label with the latest model's score, optionally filtered."""
    return data(ws.review(name, filter))
