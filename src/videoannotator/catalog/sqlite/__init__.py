"""The SQLite catalog (``catalog.sqlite`` in the workspace): the default, needing no service.

``SQLiteCatalog`` is the ``catalog.base.Catalog`` interface over one file: the connection
handling of ``catalog.py`` plus one small class per group of tables (``tables.py``: the same
classes serve the PostgreSQL catalog), and the workspace's write lock as an advisory file lock
beside the database.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path

from ..filelock import FileLock
from .catalog import Catalog
from .tables import SharedTables

COUNTED_TABLES = ("videos", "clips", "labels", "annotations", "model_versions", "deployments", "users")


class SQLiteCatalog(SharedTables, Catalog):
    def __init__(self, path: str | Path, models_dir: str | Path, synchronous: str = "FULL") -> None:
        super().__init__(path, synchronous)
        self._attach_tables(models_dir)
        self._write_lock = FileLock(Path(path).with_name(".write.lock"))

    def write_lock(self, blocking: bool = True) -> AbstractContextManager[bool]:
        return self._write_lock.hold(blocking)

    def size_bytes(self) -> int:
        from .snapshot import size_bytes

        return size_bytes(Path(self.path))

    def snapshot_to(self, target: Path) -> int:
        """A consistent copy of the catalog as it is now, in one file at ``target``."""
        from .snapshot import copy_to

        return copy_to(Path(self.path), target)

    def table_counts(self) -> dict[str, int]:
        return {t: int(self.scalar(f"SELECT COUNT(*) FROM {t}")) for t in COUNTED_TABLES}


__all__ = ["COUNTED_TABLES", "SQLiteCatalog"]
