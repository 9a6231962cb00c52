"""Video paths in the catalog are stored resolved and absolute, so the server plays a file
whatever directory it was started in. Rows from before that hold the path as it was given to
`va ingest` (``clips/x.mp4``); they are made absolute when the workspace is opened from a
directory where that file is found again.
"""

from __future__ import annotations

import logging
import os
import sqlite3
from pathlib import Path

from ..base import Catalog
from .catalog import Catalog as SQLiteConnection

log = logging.getLogger(__name__)


def absolutise_video_paths(catalog: Catalog, base: str | os.PathLike[str] | None = None) -> int:
    """Rewrite each relative video path as the absolute path of ``base / path`` (``base``:
    the current directory by default) where a file of the stored size is there; returns the
    number of rows changed. Rows whose file is not found are left as they are, and nothing
    here raises: a workspace opens whatever its old rows say. Only SQLite catalogs hold such rows."""
    if not isinstance(catalog, SQLiteConnection):
        return 0
    try:
        rows = catalog.query("SELECT id, path, size_bytes FROM videos WHERE path NOT LIKE '/%'")
        if not rows:
            return 0
        folder = Path(base) if base is not None else Path.cwd()
    except (sqlite3.Error, OSError):
        return 0
    found = []
    for row in rows:
        candidate = folder / row["path"]
        try:
            # The size guards against another file that happens to sit at the same relative path.
            if candidate.is_file() and candidate.stat().st_size == row["size_bytes"]:
                found.append((str(candidate.resolve()), row["id"], row["path"]))
        except OSError:
            continue
    if not found:
        return 0
    try:
        with catalog.transaction() as db:
            db.executemany("UPDATE videos SET path = ? WHERE id = ? AND path = ?", found)
    except sqlite3.Error as exc:  # e.g. a read-only workspace: the old paths still work from here
        log.warning("could not store absolute video paths in %s: %s", catalog.path, exc)
        return 0
    return len(found)
