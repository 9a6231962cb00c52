"""The table classes both SQL backends share, attached to a store: SQLite's (``sqlite/``) or
PostgreSQL's (``postgres/``). A mixin, so each catalog class names its store once."""

from __future__ import annotations

from pathlib import Path
from typing import cast

from .. import base
from ..sql import Store
from .annotations import Annotations
from .imports import ClipLookup
from .labels import Labels
from .models import ModelVersions
from .production import Deployments, ScoreBatches
from .users import Users
from .videos import Videos


class SharedTables:
    # Typed as the interface (base.Catalog's attributes are settable, so their types must match).
    videos: base.Videos
    labels: base.Labels
    annotations: base.Annotations
    models: base.ModelVersions
    deployments: base.Deployments
    batches: base.ScoreBatches
    users: base.Users

    def _attach_tables(self, models_dir: str | Path) -> None:
        store = cast(Store, self)
        self.videos = Videos(store)
        self.labels = Labels(store)
        self.annotations = Annotations(store)
        self.models = ModelVersions(store, Path(models_dir))
        self.deployments = Deployments(store)
        self.batches = ScoreBatches(store)
        self.users = Users(store)

    def lookup(self) -> ClipLookup:
        """A fresh look-up (it caches each video's clips for one import)."""
        return ClipLookup(cast(Store, self))
