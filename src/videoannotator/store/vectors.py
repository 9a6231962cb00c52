"""The clip-vector matrix: one append-only float32 file, row i = clip id i, memory-mapped.

Writes are append + fsync *before* the catalog commits the clips that point at them, so a
crash leaves at most unreferenced rows at the end, which ``truncate_to`` drops on open.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np


class VectorStore:
    def __init__(self, path: str | Path, dim: int):
        self.path = Path(path)
        self.dim = int(dim)
        self._mmap: np.memmap | None = None
        self._mmap_rows = -1
        if not self.path.exists():
            self.path.touch()

    @property
    def row_bytes(self) -> int:
        return self.dim * 4

    def rows_on_disk(self) -> int:
        return self.path.stat().st_size // self.row_bytes

    def truncate_to(self, rows: int) -> None:
        """Drop rows past ``rows`` (left by a crash between append and catalog commit)."""
        if self.path.stat().st_size != rows * self.row_bytes:
            with open(self.path, "r+b") as f:
                f.truncate(rows * self.row_bytes)
            self._mmap = None

    def append(self, vectors: np.ndarray, at_row: int) -> None:
        vectors = np.ascontiguousarray(vectors, dtype=np.float32)
        if vectors.ndim != 2 or vectors.shape[1] != self.dim:
            raise ValueError(f"expected (n, {self.dim}) vectors, got {vectors.shape}")
        self.truncate_to(at_row)
        with open(self.path, "ab") as f:
            f.write(vectors.tobytes())
            f.flush()
            os.fsync(f.fileno())

    def matrix(self, rows: int) -> np.ndarray:
        """A read-only (rows, dim) view; re-mapped only when the row count changed."""
        if rows == 0:
            return np.zeros((0, self.dim), dtype=np.float32)
        if self._mmap is None or self._mmap_rows != rows:
            self._mmap = np.memmap(self.path, dtype=np.float32, mode="r", shape=(rows, self.dim))
            self._mmap_rows = rows
        return self._mmap
