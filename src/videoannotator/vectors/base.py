"""What the workspace needs from a clip matrix (row i = clip i), whatever stores it.

``memmap.VectorStore`` (one float32 file per matrix, memory-mapped) is the implementation
today; compact storage (float16 / int8 with a scale) and sharding fit behind the same four
calls. Only the holder of the workspace's write lock calls ``append`` or ``drop_rows_after``.
"""

from __future__ import annotations

from typing import Protocol

import numpy as np
import numpy.typing as npt


class ClipMatrix(Protocol):
    dim: int

    def rows_on_disk(self) -> int: ...
    def append(self, vectors: npt.ArrayLike, at_row: int) -> None: ...
    def drop_rows_after(self, rows: int) -> None: ...
    def matrix(self, rows: int) -> npt.NDArray[np.float32]: ...
