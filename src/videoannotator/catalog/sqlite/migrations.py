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
    (
        2,
        """
        CREATE TABLE labels (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE COLLATE NOCASE,
            description TEXT NOT NULL DEFAULT '',
            keywords TEXT NOT NULL DEFAULT '[]',
            archived INTEGER NOT NULL DEFAULT 0,
            created_at TEXT NOT NULL,
            updated_at TEXT NOT NULL
        );
        -- Append-only: a change of mind, an undo, a flip in review is a new row.
        CREATE TABLE annotations (
            id INTEGER PRIMARY KEY,
            label_id INTEGER NOT NULL REFERENCES labels(id),
            clip_id INTEGER NOT NULL REFERENCES clips(id),
            value TEXT NOT NULL CHECK (value IN ('positive', 'negative', 'skip', 'cleared')),
            annotator TEXT NOT NULL,
            source TEXT NOT NULL,
            model_version INTEGER,
            undoes INTEGER REFERENCES annotations(id),
            created_at TEXT NOT NULL
        );
        CREATE INDEX annotations_label ON annotations(label_id, clip_id, annotator, id);
        -- A model version is a row, never a file overwritten.
        CREATE TABLE model_versions (
            id INTEGER PRIMARY KEY,
            label_id INTEGER NOT NULL REFERENCES labels(id),
            version INTEGER NOT NULL,
            embedder TEXT NOT NULL,
            dim INTEGER NOT NULL,
            coef BLOB NOT NULL,
            intercept REAL NOT NULL,
            threshold REAL NOT NULL,
            clips_scored INTEGER NOT NULL,
            last_annotation_id INTEGER NOT NULL,
            snapshot TEXT NOT NULL,
            metrics TEXT NOT NULL,
            created_at TEXT NOT NULL,
            UNIQUE (label_id, version)
        );
        """,
    ),
    (
        3,
        """
        -- What a version was trained on: 'features' (the embedder's classifier features,
        -- features.f32) or 'vectors' (the search vectors, vectors.f32, as for every version before 3).
        ALTER TABLE model_versions ADD COLUMN trained_on TEXT NOT NULL DEFAULT 'vectors';
        """,
    ),
    (
        4,
        """
        -- Label guideline edits keep their history: one row per edit, holding the values the
        -- label had *before* it (name, description, keywords, archived), who made it and when.
        CREATE TABLE label_history (
            id INTEGER PRIMARY KEY,
            label_id INTEGER NOT NULL REFERENCES labels(id),
            name TEXT NOT NULL,
            description TEXT NOT NULL,
            keywords TEXT NOT NULL,
            archived INTEGER NOT NULL,
            changed TEXT NOT NULL,
            editor TEXT NOT NULL,
            edited_at TEXT NOT NULL
        );
        CREATE INDEX label_history_label ON label_history(label_id, id);
        """,
    ),
    (
        5,
        """
        -- POST .../annotations with an Idempotency-Key: what the first request asked for (a
        -- hash) and the events it stored, so a retry gets them back instead of voting twice.
        CREATE TABLE idempotency_keys (
            key TEXT PRIMARY KEY,
            request TEXT NOT NULL,
            event_ids TEXT NOT NULL,
            created_at TEXT NOT NULL
        );
        """,
    ),
    (
        6,
        """
        -- Which version of a label is in production: one row per deploy or rollback, never
        -- updated: the label's latest row names the live version.
        CREATE TABLE deployments (
            id INTEGER PRIMARY KEY,
            label_id INTEGER NOT NULL REFERENCES labels(id),
            version INTEGER NOT NULL,
            action TEXT NOT NULL CHECK (action IN ('deploy', 'rollback')),
            deployer TEXT NOT NULL,
            note TEXT NOT NULL DEFAULT '',
            created_at TEXT NOT NULL
        );
        CREATE INDEX deployments_label ON deployments(label_id, id);
        -- Clips a deployed version scored, batch by batch (va score, an ingest, a deploy):
        -- what monitoring compares with the corpus the version was built on. clip_ranges is
        -- JSON: [[first, end), ...] of clip ids.
        CREATE TABLE score_batches (
            id INTEGER PRIMARY KEY,
            label_id INTEGER NOT NULL REFERENCES labels(id),
            version INTEGER NOT NULL,
            source TEXT NOT NULL,
            clip_ranges TEXT NOT NULL,
            clips INTEGER NOT NULL,
            positives INTEGER NOT NULL,
            created_at TEXT NOT NULL
        );
        CREATE INDEX score_batches_label ON score_batches(label_id, version, id);
        """,
    ),
    (
        7,
        """
        -- Team mode: one row per person. The server keeps only a hash of each token and takes
        -- the annotator of every vote from the token (``va users add NAME`` prints it once).
        -- A revoked user keeps the row, so the event log's names still resolve.
        CREATE TABLE users (
            id INTEGER PRIMARY KEY,
            name TEXT NOT NULL UNIQUE COLLATE NOCASE,
            token_hash TEXT NOT NULL UNIQUE,
            created_at TEXT NOT NULL,
            revoked_at TEXT
        );
        """,
    ),
]
