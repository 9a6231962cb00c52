"""A workspace's clip matrices and the generation they belong to.

``vectors`` (the search space, one row per clip) and, where the embedder has them,
``features`` (what Build trains on) are files named by *generation*, recorded in the catalog's
meta: generation 0 is ``vectors.f32`` / ``features.f32`` / ``clips.index``, g > 0
``vectors.g<g>.f32`` and so on. ``va reembed`` writes the next generation beside the current
one and the catalog commit that names it is the switch, so a crash at any moment opens one
consistent generation; files of other generations are removed afterwards (under the lock).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import numpy.typing as npt

from ..catalog.base import Catalog
from .compact import COMPACT_THRESHOLD, CompactMatrix
from .memmap import VectorStore

KINDS = ("vectors", "features")


class Matrices:
    def __init__(self, home: Path, catalog: Catalog):
        self.home = home
        self.catalog = catalog
        self.generation = 0  # of the open matrices
        self._open: dict[str, VectorStore] = {}
        self._compact: dict[str, CompactMatrix] = {}
        self.open_stored()

    # -- what the catalog says -------------------------------------------------------------
    def stored_generation(self) -> int:
        return int(self.catalog.get_meta("generation") or 0)

    def stored_dim(self) -> int | None:
        dim = self.catalog.get_meta("dim")
        return None if dim is None else int(dim)

    def feature_dim(self) -> int:
        """Width of the stored classifier features; 0 where Build trains on the vectors."""
        return int(self.catalog.get_meta("feature_dim") or 0)

    # -- files -------------------------------------------------------------------------------
    def path(self, kind: str, generation: int | None = None) -> Path:
        """``vectors`` or ``features`` file of a generation (default: the stored one)."""
        g = self.stored_generation() if generation is None else int(generation)
        return self.home / (f"{kind}.f32" if g == 0 else f"{kind}.g{g}.f32")

    def index_path(self, generation: int | None = None) -> Path:
        g = self.stored_generation() if generation is None else int(generation)
        return self.home / ("clips.index" if g == 0 else f"clips.g{g}.index")

    def store(self, kind: str, dim: int) -> VectorStore:
        """The open matrix of this kind (opened at this width if it is not yet)."""
        store = self._open.get(kind)
        if store is None or store.dim != dim:
            store = self._open[kind] = VectorStore(self.path(kind, self.generation), dim)
        return store

    def compact_path(self, kind: str, generation: int | None = None) -> Path:
        """The int8 scan copy of a matrix (``features.i8`` beside ``features.f32``)."""
        return self.path(kind, generation).with_suffix(".i8")

    def compact(self, kind: str, rows: int, threshold: int | None = None) -> CompactMatrix | None:
        """The int8 scan copy of the open ``kind`` matrix, synced to its first ``rows`` rows,
        once there are ``threshold`` rows or more; None below (the float32 scan as before).
        The first call past the threshold writes the copy (two passes over the matrix)."""
        store = self._open.get(kind)
        if store is None or rows < (COMPACT_THRESHOLD if threshold is None else threshold):
            return None
        copy = self._compact.get(kind)
        if copy is None or copy.dim != store.dim or copy.path != self.compact_path(kind, self.generation):
            copy = self._compact[kind] = CompactMatrix(self.compact_path(kind, self.generation), store.dim)
        copy.sync(store.matrix(rows))
        return copy

    def opened(self, kind: str) -> VectorStore | None:
        return self._open.get(kind)

    def open_stored(self) -> bool:
        """Forget what is open; open the matrices the catalog names. False if none yet."""
        self._open = {}
        self._compact = {}
        self.generation = self.stored_generation()
        dim = self.stored_dim()
        if dim is None:
            return False
        self.store("vectors", dim)
        if self.feature_dim():
            self.store("features", self.feature_dim())
        return True

    def stale(self) -> bool:
        """Another process's `va reembed` switched generations since these were opened."""
        return bool(self._open) and self.stored_generation() != self.generation

    def read(self, kind: str, rows: int) -> npt.NDArray[np.float32] | None:
        store = self._open.get(kind)
        return None if store is None else store.matrix(rows)

    # -- repairs, under the write lock ------------------------------------------------------------
    def drop_uncommitted_rows(self, rows: int) -> None:
        """Cut every matrix of the stored generation to the catalog's ``rows`` clips."""
        g, dim, fdim = self.stored_generation(), self.stored_dim(), self.feature_dim()
        for kind in KINDS:
            path = self.path(kind, g)
            if not path.exists():
                continue
            if dim is None or (kind == "features" and not fdim):
                os.truncate(path, 0)  # a first ingest that never committed
            else:
                VectorStore(path, dim if kind == "vectors" else fdim).drop_rows_after(rows)
        for store in self._open.values():
            store.forget_map()

    def drop_rows_after(self, rows: int) -> None:
        """A failed commit: leave no rows the catalog does not reference."""
        for store in self._open.values():
            if store.path.exists():
                store.drop_rows_after(rows)

    def remove_other_generations(self, clusters_folder: Path) -> None:
        """Files of generations the catalog does not name (a reembed that crashed before its
        switch, or one that switched and crashed before cleaning up)."""
        keep = {self.path(k).name for k in KINDS} | {self.index_path().name}
        keep |= {self.compact_path(k).name + suffix for k in KINDS for suffix in ("", ".json", ".lock")}
        for pattern in ("vectors*.f32", "features*.f32", "clips*.index", "vectors*.i8*", "features*.i8*"):
            for path in self.home.glob(pattern):
                if path.name not in keep:
                    path.unlink(missing_ok=True)
        for path in clusters_folder.glob("clusters-*.npy"):
            if not path.name.startswith(f"clusters-g{self.stored_generation()}-"):
                path.unlink(missing_ok=True)
