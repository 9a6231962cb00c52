"""Videos and their clips in SQLite. A clip's id is its row in the vector matrices."""

from __future__ import annotations

import builtins
from collections.abc import Iterable, Mapping, Sequence

from ..base import ClipRecord, Row, Rows, VideoRecord
from ..rules import utc_now
from ..sql import Store as Catalog
from ..sql import inserted_id

BATCH = 900  # below SQLite's bound-parameter limit


class Videos:
    def __init__(self, catalog: Catalog) -> None:
        self.catalog = catalog

    def clip_count(self) -> int:
        """Rows the matrices must hold: the largest clip id + 1 (ids are dense and never reused)."""
        return int(self.catalog.scalar("SELECT COALESCE(MAX(id) + 1, 0) FROM clips"))

    def counts(self) -> dict[str, int]:
        return {
            "videos": int(self.catalog.scalar("SELECT COUNT(*) FROM videos")),
            "clips": int(self.catalog.scalar("SELECT COUNT(*) FROM clips")),
        }

    def list(self) -> Rows:
        rows = self.catalog.query(
            "SELECT v.*, (SELECT COUNT(*) FROM clips c WHERE c.video_id = v.id) AS clips FROM videos v ORDER BY v.id"
        )
        return [dict(r) for r in rows]

    def has(self, content_hash: str) -> bool:
        return self.catalog.scalar("SELECT 1 FROM videos WHERE content_hash = ?", (content_hash,)) is not None

    def find(self, content_hash: str) -> Row | None:
        """The video with this content, with its clip count, or None."""
        rows = self.catalog.query(
            "SELECT v.*, (SELECT COUNT(*) FROM clips c WHERE c.video_id = v.id) AS clips FROM videos v"
            " WHERE v.content_hash = ?",
            (content_hash,),
        )
        return dict(rows[0]) if rows else None

    def clips_of(self, video_id: int) -> Rows:
        """The video's clips in time order: id, position, start_s, end_s, start_frame, end_frame."""
        return [
            dict(r)
            for r in self.catalog.query(
                "SELECT id, position, start_s, end_s, start_frame, end_frame FROM clips WHERE video_id = ?"
                " ORDER BY position",
                (int(video_id),),
            )
        ]

    def clip(self, clip_id: int) -> Row | None:
        rows = self.catalog.query(
            "SELECT c.*, v.path AS video_path, v.content_hash FROM clips c JOIN videos v ON v.id = c.video_id"
            " WHERE c.id = ?",
            (int(clip_id),),
        )
        return dict(rows[0]) if rows else None

    def describe(self, clip_ids: Iterable[int]) -> dict[int, Row]:
        """clip id -> id, video_id, position, start_s, end_s, path (the video's), content_hash."""
        out: dict[int, Row] = {}
        ids = sorted({int(c) for c in clip_ids})
        for start in range(0, len(ids), BATCH):
            part = ids[start : start + BATCH]
            for r in self.catalog.query(
                "SELECT c.id, c.video_id, c.position, c.start_s, c.end_s, v.path, v.content_hash FROM clips c"
                f" JOIN videos v ON v.id = c.video_id WHERE c.id IN ({','.join('?' * len(part))})",
                part,
            ):
                out[r["id"]] = dict(r)
        return out

    def spans(self) -> Rows:
        """Every clip's id, start_s, end_s and video path, in id order."""
        return [
            dict(r)
            for r in self.catalog.query(
                "SELECT c.id, c.start_s, c.end_s, v.path FROM clips c JOIN videos v ON v.id = c.video_id ORDER BY c.id"
            )
        ]

    def sample_frames(self, video_id: int) -> builtins.list[tuple[int, builtins.list[int]]]:
        """(clip id, the frame numbers its vector was computed from) for each clip of the video."""
        rows = self.catalog.query(
            "SELECT id, sample_frames FROM clips WHERE video_id = ? ORDER BY position", (int(video_id),)
        )
        return [(int(r["id"]), [int(f) for f in r["sample_frames"].split(",") if f]) for r in rows]

    def add(
        self,
        video: VideoRecord,
        clips: Sequence[ClipRecord],
        first_id: int,
        embedder: str,
        meta: Mapping[str, object] | None = None,
    ) -> int:
        """The video and its clips (ids ``first_id``…) in one transaction, with ``meta`` set in the
        same transaction (a first ingest records its embedder there); returns the video id."""
        with self.catalog.transaction() as db:
            for key, value in (meta or {}).items():
                self.catalog.set_meta(key, value, db)
            cur = db.execute(
                "INSERT INTO videos(path, content_hash, duration, fps, width, height, frame_count, size_bytes, codec,"
                " ingested_at) VALUES (?,?,?,?,?,?,?,?,?,?) RETURNING id",
                (
                    video["path"],
                    video["content_hash"],
                    video["duration"],
                    video["fps"],
                    video["width"],
                    video["height"],
                    video["frame_count"],
                    video["size_bytes"],
                    video["codec"],
                    utc_now(),
                ),
            )
            video_id = inserted_id(cur)
            db.executemany(
                "INSERT INTO clips(id, video_id, position, start_s, end_s, start_frame, end_frame, sample_frames,"
                " embedder) VALUES (?,?,?,?,?,?,?,?,?)",
                [
                    (
                        first_id + i,
                        video_id,
                        i,
                        c["start"],
                        c["end"],
                        c["start_frame"],
                        c["end_frame"],
                        ",".join(map(str, c["sample_frames"])),
                        embedder,
                    )
                    for i, c in enumerate(clips)
                ],
            )
        return video_id

    def switch_embedder(self, embedder: str, meta: Mapping[str, object]) -> None:
        """After a reembed: every clip now has ``embedder``'s vectors; ``meta`` (the new
        generation, dim…) is set in the same transaction — the commit is the switch."""
        with self.catalog.transaction() as db:
            for key, value in meta.items():
                self.catalog.set_meta(key, value, db)
            db.execute("UPDATE clips SET embedder = ?", (embedder,))
