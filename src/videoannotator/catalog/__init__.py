"""The catalog: videos, clips, labels, annotations and model versions (``base.Catalog``).

``open_catalog(home)`` opens the workspace's catalog — SQLite (``catalog/sqlite/``) is the one
implementation today; a networked one (PostgreSQL, for teams) plugs in here, behind the same
interface, with its own write lock.
"""

from __future__ import annotations

from pathlib import Path

from .base import Catalog


def open_catalog(home: Path, synchronous: str = "FULL") -> Catalog:
    from .sqlite import SQLiteCatalog

    return SQLiteCatalog(home / "catalog.sqlite", home / "models", synchronous=synchronous)


__all__ = ["Catalog", "open_catalog"]
