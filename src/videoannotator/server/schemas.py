"""Request bodies and parameter bounds. Shapes and sizes are checked here; what a value
means (a valid label name, a known clip) is checked by the library, which says why."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Header, Path, Query
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, StrictBool
from pydantic_core import PydanticCustomError

from ..names import FEED_NAMES, MAX_ID, REVIEW_FILTERS, SEGMENT_FORMATS, VOTE_VALUES

MAX_LIST = 1000
MAX_OFFSET = 100_000
MAX_SEED = 2**32 - 1


def _json_integer(value):
    """JSON Schema's integer: 3 or 3.0, never `true` (clip 1 to a lax parser) nor "3"."""
    if isinstance(value, (bool, str, bytes)):
        raise PydanticCustomError(
            "int_type", "Input should be a JSON integer, not {kind}", {"kind": type(value).__name__}
        )
    return value


# Body integers: whole JSON numbers only; pydantic still refuses 1.5 and checks the bounds.
# (The bounds come before the validator, or they fall out of the JSON schema.)
ClipId = Annotated[int, Field(ge=0, le=MAX_ID), BeforeValidator(_json_integer)]
VersionNumber = Annotated[int, Field(ge=1, le=MAX_ID), BeforeValidator(_json_integer)]
SeedNumber = Annotated[int, Field(ge=0, le=MAX_SEED), BeforeValidator(_json_integer)]
FeedSize = Annotated[int, Field(ge=1, le=MAX_LIST), BeforeValidator(_json_integer)]
# A list, or one comma-separated string (as the CLI takes them).
Keywords = (
    Annotated[list[Annotated[str, Field(max_length=200)]], Field(max_length=100)]
    | Annotated[str, Field(max_length=20_000)]
)

ClipIdPath = Annotated[int, Path(ge=0, le=MAX_ID, description="A clip id from search, a feed or review.")]
LabelPath = Annotated[str, Path(min_length=1, max_length=200, description="Label name (or id).")]
PageSize = Annotated[int, Query(ge=1, le=MAX_LIST)]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Skip this many (paging).")]
Seed = Annotated[int, Query(ge=0, le=MAX_SEED)]
Version = Annotated[int | None, Query(ge=1, le=MAX_ID, description="A model version (default: the latest).")]
IdempotencyKey = Annotated[
    str | None,
    Header(
        min_length=1,
        max_length=255,
        pattern=r"^[!-~]+$",
        description="Any unique string per request (e.g. a UUID): a retry with the same key and the same body "
        "gets the first answer again and stores nothing twice; the same key with another body is 409.",
    ),
]
FeedName = Literal[FEED_NAMES]  # type: ignore[valid-type]  # names.py is the one list
ReviewFilter = Literal[REVIEW_FILTERS]  # type: ignore[valid-type]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt field is an error, not silently ignored


class LabelCreate(Body):
    name: str = Field(
        max_length=200,
        description="Letters, digits, spaces, '-', '_' or '.', up to 64.",
        examples=["establishing-shot"],
    )
    description: str = Field(
        "",
        max_length=5000,
        description="The guideline: what counts as positive.",
        examples=["An extremely wide shot that sets the location or time period."],
    )
    keywords: Keywords = Field(default_factory=list, examples=[["Landscapes", "Buildings"]])


class LabelPatch(Body):
    name: str | None = Field(None, max_length=200, description="Rename; annotations and models follow.")
    description: str | None = Field(None, max_length=5000)
    keywords: Keywords | None = None
    archived: StrictBool | None = None


WHO = (
    "Who votes. Required, except in team mode (the workspace has users), where the server takes "
    "the name from the request's token and ignores this."
)


class AnnotationIn(Body):
    clip_ids: list[ClipId] = Field(
        min_length=1, max_length=MAX_LIST, description="Repeated ids count once: one event per distinct clip."
    )
    value: Literal[VOTE_VALUES]  # type: ignore[valid-type]
    annotator: str | None = Field(None, min_length=1, max_length=64, description=WHO)
    source: str = Field(
        "api",
        min_length=1,
        max_length=64,
        description="Where the clips were shown: search, similar, a feed name, review, ...",
    )
    model_version: VersionNumber | None = Field(None, description="The model version on screen, if any.")


class UndoIn(Body):
    annotator: str | None = Field(None, min_length=1, max_length=64, description=WHO)
    clip_id: ClipId | None = Field(None, description="Undo the latest annotation of this clip only.")


class BuildIn(Body):
    seed: SeedNumber = 0
    n_feed: FeedSize = Field(100, description="Clips per feed in the answer.")


# -- production (routes/production.py) ------------------------------------------------------------
VideoIdPath = Annotated[int, Path(ge=0, le=MAX_ID, description="A video id (GET /api/videos lists them).")]
VideoQuery = Annotated[
    int | None, Query(ge=0, le=MAX_ID, description="One video by id (GET /api/videos); default: every video.")
]
LabelQuery = Annotated[
    str | None, Query(min_length=1, max_length=200, description="One label (default: every deployed label).")
]
SegmentFormat = Literal[SEGMENT_FORMATS]  # type: ignore[valid-type]
LabelName = Annotated[str, Field(min_length=1, max_length=200)]
VideoId = Annotated[int, Field(ge=0, le=MAX_ID), BeforeValidator(_json_integer)]


class DeployIn(Body):
    version: VersionNumber | None = Field(None, description="The version to put live (default: the latest).")
    dry_run: StrictBool = Field(False, description="Only say which production decisions the switch would change.")
    deployer: str | None = Field(
        None,
        min_length=1,
        max_length=64,
        description="Who deploys (the page sends its annotator); default: the server's user. In team mode: the token's user.",
    )


class RollbackIn(Body):
    deployer: str | None = Field(
        None,
        min_length=1,
        max_length=64,
        description="Who rolls back; default: the server's user. In team mode: the token's user.",
    )


class ScoreIn(Body):
    video_ids: list[VideoId] = Field(
        min_length=1, max_length=MAX_LIST, description="Videos already in the catalog (GET /api/videos), by id."
    )
    labels: list[LabelName] | None = Field(
        None, min_length=1, max_length=100, description="Labels to score with (default: every deployed label)."
    )
