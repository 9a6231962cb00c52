"""Catalog look-ups for ``va import``: which clip here is the clip a file names."""

from __future__ import annotations

import builtins
from collections.abc import Iterable
from pathlib import PurePath
from typing import Any

from ..base import Rows
from ..sql import Store as Catalog

TIME_TOLERANCE = 0.002  # exports round start/end to milliseconds


class ClipLookup:
    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog
        self._clips: dict[int, Rows] = {}

    def existing_ids(self, clip_ids: Iterable[int]) -> set[int]:
        ids = sorted({int(c) for c in clip_ids})
        found: set[int] = set()
        for i in range(0, len(ids), 500):
            chunk = ids[i : i + 500]
            found |= {
                r[0]
                for r in self.catalog.query(f"SELECT id FROM clips WHERE id IN ({','.join('?' * len(chunk))})", chunk)
            }
        return found

    def video_by_hash(self, content_hash: str) -> int | None:
        return _id(self.catalog.scalar("SELECT id FROM videos WHERE content_hash = ?", (content_hash,)))

    def video_by_path(self, path: str) -> int | None:
        return _id(self.catalog.scalar("SELECT id FROM videos WHERE path = ?", (path,)))

    def videos_named(self, name: str) -> builtins.list[int]:
        """Videos whose file name (the path's last part) is ``name``."""
        return [
            r["id"]
            for r in self.catalog.query(
                "SELECT id, path FROM videos WHERE path LIKE ? ESCAPE '\\'", ("%" + _like(name),)
            )
            if PurePath(r["path"]).name == name
        ]

    def clip_at(self, video_id: int, start: float, end: float) -> int | None:
        """The clip of the video spanning [start, end] (to the millisecond the export keeps)."""
        hits = [
            c["id"]
            for c in self._video_clips(video_id)
            if abs(c["start_s"] - start) <= TIME_TOLERANCE and abs(c["end_s"] - end) <= TIME_TOLERANCE
        ]
        return hits[0] if len(hits) == 1 else None

    def clip_by_position(self, video_id: int, position: int) -> int | None:
        hits = [c["id"] for c in self._video_clips(video_id) if c["position"] == position]
        return hits[0] if hits else None

    def _video_clips(self, video_id: int) -> Rows:
        if video_id not in self._clips:
            self._clips[video_id] = [
                dict(r)
                for r in self.catalog.query(
                    "SELECT id, position, start_s, end_s FROM clips WHERE video_id = ? ORDER BY position", (video_id,)
                )
            ]
        return self._clips[video_id]


def _id(value: Any) -> int | None:
    return None if value is None else int(value)


def _like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
