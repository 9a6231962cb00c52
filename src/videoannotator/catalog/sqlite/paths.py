"""Video paths in the catalog are stored resolved and absolute, so the server plays a file
whatever directory it was started in. Rows from before that hold the path as it was given to
`va ingest` (``clips/x.mp4``); they are made absolute when the workspace is opened from a
directory where that file is found again. (A PostgreSQL catalog holds such rows when it was
imported from an old SQLite workspace: the same fix applies.)
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

from ..base import Catalog

log = logging.getLogger(__name__)


def absolutise_video_paths(catalog: Catalog, base: str | os.PathLike[str] | None = None) -> int:
    """Rewrite each relative video path as the absolute path of ``base / path`` (``base``:
    the current directory by default) where a file of the stored size is there; returns the
    number of rows changed. Rows whose file is not found are left as they are, and nothing
    here raises: a workspace opens whatever its old rows say."""
    store: Any = catalog  # SQLite's or PostgreSQL's store (catalog/sql.py), whichever holds the rows
    if not hasattr(store, "query"):
        return 0
    try:
        rows = store.query("SELECT id, path, size_bytes FROM videos WHERE path NOT LIKE '/%'")
        if not rows:
            return 0
        folder = Path(base) if base is not None else Path.cwd()
    except Exception:  # noqa: BLE001 - the catalog's own error, or OSError: leave the rows as they are
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
        with store.transaction() as db:
            db.executemany("UPDATE videos SET path = ? WHERE id = ? AND path = ?", found)
    except Exception as exc:  # noqa: BLE001 - e.g. a read-only workspace: the old paths still work from here
        log.warning("could not store absolute video paths in %s: %s", store.path, exc)
        return 0
    return len(found)
