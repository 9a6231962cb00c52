"""The SQLite catalog (``catalog.sqlite`` in the workspace): the default, needing no service.

``SQLiteCatalog`` is the ``catalog.base.Catalog`` interface over one file: the connection
handling of ``catalog.py`` plus one small class per group of tables, and the workspace's write
lock as an advisory file lock beside the database.
"""

from __future__ import annotations

from contextlib import AbstractContextManager
from pathlib import Path

from .. import base
from ..filelock import FileLock
from .annotations import Annotations
from .catalog import Catalog
from .imports import ClipLookup
from .labels import Labels
from .models import ModelVersions
from .production import Deployments, ScoreBatches
from .users import Users
from .videos import Videos

COUNTED_TABLES = ("videos", "clips", "labels", "annotations", "model_versions", "deployments", "users")


class SQLiteCatalog(Catalog):
    def __init__(self, path: str | Path, models_dir: str | Path, synchronous: str = "FULL") -> None:
        super().__init__(path, synchronous)
        # Typed as the interface (base.Catalog's attributes are settable, so their types must match).
        self.videos: base.Videos = Videos(self)
        self.labels: base.Labels = Labels(self)
        self.annotations: base.Annotations = Annotations(self)
        self.models: base.ModelVersions = ModelVersions(self, Path(models_dir))
        self.deployments: base.Deployments = Deployments(self)
        self.batches: base.ScoreBatches = ScoreBatches(self)
        self.users: base.Users = Users(self)
        self._write_lock = FileLock(Path(path).with_name(".write.lock"))

    def lookup(self) -> ClipLookup:
        """A fresh look-up (it caches each video's clips for one import)."""
        return ClipLookup(self)

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
