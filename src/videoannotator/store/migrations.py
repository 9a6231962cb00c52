"""Numbered schema migrations. Append a new entry; never edit one that has shipped."""

MIGRATIONS: list[tuple[int, str]] = [
    (
        1,
        """
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE videos (
            id INTEGER PRIMARY KEY,
            path TEXT NOT NULL,
            content_hash TEXT NOT NULL UNIQUE,
            duration REAL NOT NULL,
            fps REAL NOT NULL,
            width INTEGER NOT NULL,
            height INTEGER NOT NULL,
            frame_count INTEGER NOT NULL,
            size_bytes INTEGER NOT NULL,
            codec TEXT NOT NULL,
            ingested_at TEXT NOT NULL
        );
        -- A clip's id is its row in the vector matrix (vectors.f32).
        CREATE TABLE clips (
            id INTEGER PRIMARY KEY,
            video_id INTEGER NOT NULL REFERENCES videos(id),
            position INTEGER NOT NULL,
            start_s REAL NOT NULL,
            end_s REAL NOT NULL,
            start_frame INTEGER NOT NULL,
            end_frame INTEGER NOT NULL,
            sample_frames TEXT NOT NULL,
            embedder TEXT NOT NULL
        );
        CREATE INDEX clips_video ON clips(video_id, position);
        """,
    ),
]
