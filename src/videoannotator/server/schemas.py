"""Request bodies and parameter bounds. Shapes and sizes are checked here; what a value
means (a valid label name, a known clip) is checked by the library, which says why."""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import Path, Query
from pydantic import BaseModel, ConfigDict, Field

MAX_ID = 2**62  # well inside SQLite's 64-bit integers
MAX_LIST = 1000
MAX_OFFSET = 100_000

ClipId = Annotated[int, Field(ge=0, le=MAX_ID)]
# A list, or one comma-separated string (as the CLI takes them).
Keywords = (Annotated[list[Annotated[str, Field(max_length=200)]], Field(max_length=100)]
            | Annotated[str, Field(max_length=20_000)])

ClipIdPath = Annotated[int, Path(ge=0, le=MAX_ID, description="A clip id from search, a feed or review.")]
LabelPath = Annotated[str, Path(min_length=1, max_length=200, description="Label name (or id).")]
PageSize = Annotated[int, Query(ge=1, le=MAX_LIST)]
Offset = Annotated[int, Query(ge=0, le=MAX_OFFSET, description="Skip this many (paging).")]
Seed = Annotated[int, Query(ge=0, le=2**32 - 1)]
FeedName = Literal["top_positive", "top_negative", "borderline", "random"]
ReviewFilter = Literal["all", "positive", "negative", "skip", "unresolved", "model_disagrees", "annotators_disagree"]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")  # a misspelt field is an error, not silently ignored


class LabelCreate(Body):
    name: str = Field(max_length=200, description="Letters, digits, spaces, '-', '_' or '.', up to 64.")
    description: str = Field("", max_length=5000, description="The guideline: what counts as positive.")
    keywords: Keywords = Field(default_factory=list)


class LabelPatch(Body):
    name: str | None = Field(None, max_length=200, description="Rename; annotations and models follow.")
    description: str | None = Field(None, max_length=5000)
    keywords: Keywords | None = None
    archived: bool | None = None


class AnnotationIn(Body):
    clip_ids: list[ClipId] = Field(min_length=1, max_length=MAX_LIST)
    value: Literal["positive", "negative", "skip"]
    annotator: str = Field(min_length=1, max_length=64)
    source: str = Field("api", min_length=1, max_length=64, description="Where the clips were shown: search, "
                        "similar, a feed name, review, ...")
    model_version: int | None = Field(None, ge=1, le=MAX_ID, description="The model version on screen, if any.")


class UndoIn(Body):
    annotator: str = Field(min_length=1, max_length=64)
    clip_id: ClipId | None = Field(None, description="Undo the latest annotation of this clip only.")


class BuildIn(Body):
    seed: int = Field(0, ge=0, le=2**32 - 1)
    n_feed: int = Field(100, ge=1, le=MAX_LIST, description="Clips per feed in the answer.")
