"""A clip matrix: one append-only float32 file, row i = clip id i, memory-mapped.

Rows are appended and fsynced *before* the catalog commits the clips that point at them, so a
crash leaves at most unreferenced rows at the end. Only a holder of the workspace's write lock
appends or drops rows (``append``, ``drop_rows_after``): a reader that truncated would delete
rows another process has written and is about to commit. Readers map committed rows only.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ..errors import StorageError


class VectorStore:
    def __init__(self, path: str | Path, dim: int):
        self.path = Path(path)
        self.dim = int(dim)
        self._mmap: np.memmap[Any, np.dtype[np.float32]] | None = None
        self._mmap_rows = -1

    @property
    def row_bytes(self) -> int:
        return self.dim * 4

    def rows_on_disk(self) -> int:
        try:
            return self.path.stat().st_size // self.row_bytes
        except FileNotFoundError:
            return 0

    def forget_map(self) -> None:
        """Map the file again on the next read (another writer changed its length)."""
        self._mmap = None

    def drop_rows_after(self, rows: int) -> None:
        """Drop rows past ``rows`` (a crash between append and catalog commit left them).
        The caller holds the write lock; rows the catalog references are never dropped."""
        if self.path.exists() and self.path.stat().st_size > rows * self.row_bytes:
            os.truncate(self.path, rows * self.row_bytes)
            self._mmap = None

    def append(self, vectors: npt.ArrayLike, at_row: int) -> None:
        """Write ``vectors`` as rows ``at_row``… and fsync. The caller holds the write lock.

        Refuses, rather than pads with zeros, when the file holds fewer than ``at_row`` rows:
        committed rows are missing, and writing past the gap would hide it."""
        rows = np.ascontiguousarray(vectors, dtype=np.float32)
        if rows.ndim != 2 or rows.shape[1] != self.dim:
            raise ValueError(f"expected (n, {self.dim}) vectors, got {rows.shape}")
        have = self.path.stat().st_size if self.path.exists() else 0
        if have < at_row * self.row_bytes:
            raise StorageError(
                f"{self.path} holds {have // self.row_bytes} rows but the catalog has {at_row} clips: rows are "
                "missing, so nothing was written; restore the workspace from a backup (`va restore`)"
            )
        self.drop_rows_after(at_row)
        with open(self.path, "ab") as f:
            try:
                f.write(rows.tobytes())
                f.flush()
                os.fsync(f.fileno())
            except BaseException:
                f.truncate(at_row * self.row_bytes)  # a full disk leaves no half row behind
                raise

    def matrix(self, rows: int) -> npt.NDArray[np.float32]:
        """A read-only (rows, dim) view; re-mapped only when the row count changed."""
        if rows == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self._mmap is None or self._mmap_rows != rows:
            if self.rows_on_disk() < rows:
                raise StorageError(
                    f"{self.path} holds {self.rows_on_disk()} rows but the catalog has {rows} clips; "
                    "restore the workspace from a backup (`va restore`)"
                )
            self._mmap = np.memmap(self.path, dtype=np.float32, mode="r", shape=(rows, self.dim))
            self._mmap_rows = rows
        return self._mmap
