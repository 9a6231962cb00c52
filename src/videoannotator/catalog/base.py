"""What the product needs from a catalog, whatever stores it (SQLite today, PostgreSQL for teams).

Everything above this interface — the Workspace, ingest, the loop, backup, import — speaks
these methods and plain dicts; SQL, placeholders, ``lastrowid``, locking statements and
collations live only in the implementations (``catalog/sqlite/``). Names and values are checked
by ``catalog/rules.py`` the same way for every backend.

A catalog is grouped like the data: ``videos`` (videos and their clips), ``labels``,
``annotations`` (the append-only event log), ``models`` (model versions and their corpus
scores), ``lookup`` (finding the clip an imported row names), plus meta values and the
workspace's write lock (one writer appends to the matrices and commits at a time).
"""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping, Sequence
from contextlib import AbstractContextManager
from pathlib import Path
from typing import Any, Protocol, TypedDict

import numpy as np
import numpy.typing as npt

Row = dict[str, Any]
Rows = list[Row]  # (a module-level name: inside the classes below, ``list`` is a method)


class VideoRecord(TypedDict):
    path: str
    content_hash: str
    duration: float
    fps: float
    width: int
    height: int
    frame_count: int
    size_bytes: int
    codec: str


class ClipRecord(TypedDict):
    start: float
    end: float
    start_frame: int
    end_frame: int
    sample_frames: Sequence[int]


class Videos(Protocol):
    def clip_count(self) -> int: ...
    def counts(self) -> dict[str, int]: ...
    def list(self) -> Rows: ...
    def has(self, content_hash: str) -> bool: ...
    def find(self, content_hash: str) -> Row | None: ...
    def clips_of(self, video_id: int) -> Rows: ...
    def clip(self, clip_id: int) -> Row | None: ...
    def describe(self, clip_ids: Iterable[int]) -> dict[int, Row]: ...
    def spans(self) -> Rows: ...
    def sample_frames(self, video_id: int) -> builtins.list[tuple[int, builtins.list[int]]]: ...
    def add(
        self,
        video: VideoRecord,
        clips: Sequence[ClipRecord],
        first_id: int,
        embedder: str,
        meta: Mapping[str, object] | None = None,
    ) -> int: ...
    def switch_embedder(self, embedder: str, meta: Mapping[str, object]) -> None: ...


class Labels(Protocol):
    def create(self, name: str, description: str = "", keywords: Any = None) -> Row: ...
    def get(self, name_or_id: str | int) -> Row: ...
    def list(self, include_archived: bool = False) -> Rows: ...
    def update(
        self,
        name_or_id: str | int,
        *,
        name: str | None = None,
        description: str | None = None,
        keywords: Any = None,
        archived: bool | None = None,
        editor: str | None = None,
    ) -> Row: ...
    def history(self, label_id: int) -> Rows: ...


class Annotations(Protocol):
    def add(
        self,
        label_id: int,
        clip_ids: Any,
        value: Any,
        annotator: Any,
        source: str = "cli",
        model_version: int | None = None,
        idempotency_key: str | None = None,
    ) -> Rows: ...
    def undo(self, label_id: int, annotator: Any, clip_id: int | None = None) -> Row: ...
    def events(self, label_id: int, since_id: int = 0) -> Rows: ...
    def last_event_id(self, label_id: int) -> int: ...
    def current(self, label_id: int, up_to_id: int | None = None) -> dict[int, Row]: ...
    def training_set(
        self, label_id: int, up_to_id: int | None = None
    ) -> tuple[builtins.list[int], builtins.list[int], dict[str, int]]: ...
    def found_by_source(self, label_id: int) -> dict[str, tuple[int, int]]: ...
    def import_events(self, label_id: int, events: Rows, skip: str = "same_event") -> Row: ...


class ModelVersions(Protocol):
    def scores_path(self, label_id: int, version: int) -> Path: ...
    def save(
        self,
        label_id: int,
        embedder: str,
        coef: npt.ArrayLike,
        intercept: float,
        threshold: float,
        scores: npt.ArrayLike,
        last_annotation_id: int,
        snapshot: Row,
        metrics: Row,
        trained_on: str = "vectors",
    ) -> Row: ...
    def get(self, label_id: int, version: int | None = None) -> Row: ...
    def latest_or_none(self, label_id: int) -> Row | None: ...
    def list(self, label_id: int) -> Rows: ...
    def scores(self, model: Row) -> npt.NDArray[np.float32]: ...


class ClipLookup(Protocol):
    def existing_ids(self, clip_ids: Iterable[int]) -> set[int]: ...
    def video_by_hash(self, content_hash: str) -> int | None: ...
    def video_by_path(self, path: str) -> int | None: ...
    def videos_named(self, name: str) -> builtins.list[int]: ...
    def clip_at(self, video_id: int, start: float, end: float) -> int | None: ...
    def clip_by_position(self, video_id: int, position: int) -> int | None: ...


class Deployments(Protocol):
    def record(self, label_id: int, version: int, action: str, deployer: str | None, note: str = "") -> Row: ...
    def current(self, label_id: int) -> Row | None: ...
    def history(self, label_id: int) -> Rows: ...
    def live(self) -> dict[int, int]: ...


class ScoreBatches(Protocol):
    def add(
        self,
        label_id: int,
        version: int,
        source: str,
        clip_ranges: Sequence[tuple[int, int]],
        clips: int,
        positives: int,
    ) -> Row: ...
    def add_many(self, batches: Sequence[Row]) -> Rows: ...
    def list(self, label_id: int, version: int | None = None) -> Rows: ...


class Catalog(Protocol):
    videos: Videos
    labels: Labels
    annotations: Annotations
    models: ModelVersions
    deployments: Deployments
    batches: ScoreBatches

    @property
    def schema_version(self) -> int: ...
    def lookup(self) -> ClipLookup: ...
    def get_meta(self, key: str, default: Any = None) -> Any: ...
    def set_meta(self, key: str, value: object) -> None: ...
    def write_lock(self, blocking: bool = True) -> AbstractContextManager[bool]: ...
    def table_counts(self) -> dict[str, int]: ...
    def size_bytes(self) -> int: ...
    def snapshot_to(self, target: Path) -> int: ...
    def close(self) -> None: ...
