"""A consistent copy of the SQLite catalog while it is in use (``va backup``), and the facts
``va restore`` checks a copy against."""

from __future__ import annotations

import os
import sqlite3
from pathlib import Path
from typing import Any

from ...errors import StorageError
from . import COUNTED_TABLES


def size_bytes(path: Path) -> int:
    """The catalog and its write-ahead log: what a copy needs at most."""
    return sum(p.stat().st_size for p in (path, Path(f"{path}-wal")) if p.exists())


def copy_to(source: Path, target: Path) -> int:
    """One-step online backup: a single read transaction, so one consistent snapshot, folded
    into one self-contained file (no -wal) and fsynced; returns its size."""
    src = sqlite3.connect(str(source), timeout=30.0)
    try:
        dst = sqlite3.connect(str(target))
        try:
            src.backup(dst)  # pages=-1: all pages in one step, WAL content included
            dst.execute("PRAGMA journal_mode=DELETE")
            dst.commit()
        finally:
            dst.close()
    finally:
        src.close()
    return synced_size(target)


def synced_size(target: Path) -> int:
    """fsync a written catalog copy (so a backup's manifest never names bytes still in flight); its size."""
    fd = os.open(target, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
    return target.stat().st_size


def facts(path: Path) -> tuple[dict[str, int], int, dict[str, Any]]:
    """(row counts, schema version, meta) of a catalog file, after SQLite's quick check."""
    conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
    try:
        ok = conn.execute("PRAGMA quick_check").fetchone()[0]
        if ok != "ok":
            raise StorageError(
                f"the catalog copy failed SQLite's check ({ok}); the workspace's catalog may be "
                "damaged: run `sqlite3 catalog.sqlite 'PRAGMA integrity_check'` in the workspace"
            )
        counts = {t: int(conn.execute(f"SELECT COUNT(*) FROM {t}").fetchone()[0]) for t in COUNTED_TABLES}
        schema = int(conn.execute("SELECT COALESCE(MAX(version), 0) FROM schema_migrations").fetchone()[0])
        meta = dict(conn.execute("SELECT key, value FROM meta").fetchall())
    finally:
        conn.close()
    return counts, schema, meta
