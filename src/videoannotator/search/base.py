"""The vector index contract: clip ids and unit vectors in, top-k ids and cosine scores out.

Scores are dot products; corpus rows and queries are L2-normalised, so a score is the
cosine. An index file is one JSON header line (kind + parameters) followed by the
kind's own payload, written to a temporary file and renamed, so a reader never sees a
half-written index.
"""

from __future__ import annotations

import io
import json
import os
import threading
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import TYPE_CHECKING, Any, BinaryIO, TypeAlias, cast

import numpy as np
import numpy.typing as npt

from ..errors import InvalidInput

if TYPE_CHECKING:
    from typing_extensions import Self  # typing.Self from Python 3.11 on

MAGIC = b"VAINDEX1 "

#: Clip vectors and scores (float32) and clip ids (int64), as stored and returned.
FloatArray: TypeAlias = npt.NDArray[np.float32]
IdArray: TypeAlias = npt.NDArray[np.int64]
#: ``search``'s result: (ids, scores), 1-D for one query, (q, m) for a batch.
SearchResult: TypeAlias = tuple[IdArray, FloatArray]
#: What ``exclude`` accepts: None, a set, a list or an array of clip ids.
Exclude: TypeAlias = AbstractSet[int] | npt.ArrayLike | None
#: Where an index is saved.
IndexPath: TypeAlias = str | os.PathLike[str]


class VectorIndex:
    """Base class for vector indexes over clip vectors.

    ``search(query, k, exclude=..., offset=...)`` returns ``(ids, scores)`` sorted by
    descending score: shape (m,) for one query of shape (dim,), (q, m) for queries of
    shape (q, dim), with m ≤ k (fewer when the index has fewer eligible clips; batch rows
    an index could not fill hold id -1 and score -inf).

    An index is fed in the order of the append-only clip matrix: ``sync(ids, vectors)``
    adds the rows past ``len(self)``; ``last_id`` lets it check it is still in step.
    """

    kind: str = "base"

    def __init__(self, dim: int):
        if int(dim) <= 0:
            raise InvalidInput(f"Index dimension must be positive, got {dim}.")
        self.dim = int(dim)
        self.last_id: int | None = None

    # -- the contract ---------------------------------------------------------------
    def add(self, ids: npt.ArrayLike, vectors: npt.ArrayLike) -> None:
        """Append clips. ``ids`` int64 (n,), new to this index; ``vectors`` float32 (n, dim)."""
        raise NotImplementedError

    def search(self, query: npt.ArrayLike, k: int = 10, *, exclude: Exclude = None, offset: int = 0) -> SearchResult:
        """Top ``k`` clips after skipping ``offset`` of them, never returning an id in ``exclude``."""
        raise NotImplementedError

    def __len__(self) -> int:
        raise NotImplementedError

    def _params(self) -> dict[str, Any]:
        """Constructor parameters recorded in the file header."""
        return {}

    def _write_payload(self, f: BinaryIO) -> None:
        raise NotImplementedError

    @classmethod
    def _read_payload(cls, f: io.BufferedReader, header: dict[str, Any]) -> VectorIndex:
        raise NotImplementedError

    # -- shared behaviour -----------------------------------------------------------
    def sync(self, ids: IdArray, vectors: FloatArray) -> int:
        """Add the rows of the clip matrix this index has not seen yet; return how many.

        ``ids``/``vectors`` are the whole matrix (memory-mapped is fine: only the new rows
        are read). Raises ``ValueError`` if the index is not a prefix of the matrix —
        rebuild it then.
        """
        ids = np.asarray(ids)
        have = len(self)
        if have > len(ids) or (have and int(ids[have - 1]) != self.last_id):
            raise ValueError(
                f"{self.kind} index holds {have} clips that are not the first rows of the "
                f"clip matrix ({len(ids)} rows); rebuild the index."
            )
        if have == len(ids):
            return 0
        self.add(ids[have:], vectors[have:])
        return len(ids) - have

    def save(self, path: IndexPath) -> None:
        """Write the index to ``path`` atomically (temporary file, then rename)."""
        path = Path(path)
        header: dict[str, Any] = {"kind": self.kind, "dim": self.dim, "count": len(self), "last_id": self.last_id}
        header["params"] = self._params()
        tmp = path.with_name(f".{path.name}.{os.getpid()}.{threading.get_ident()}.tmp")  # one per writer
        try:
            with open(tmp, "wb") as f:
                f.write(MAGIC + json.dumps(header).encode() + b"\n")
                self._write_payload(f)
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)

    @classmethod
    def load(cls, path: IndexPath) -> Self:
        """Read an index written by ``save``. On the base class, the file decides the kind."""
        from . import index_class

        with open(path, "rb") as f:
            line = f.readline()
            if not line.startswith(MAGIC):
                raise InvalidInput(f"{path} is not a Video Annotator index file; delete it to rebuild.")
            header = json.loads(line[len(MAGIC) :])
            target = index_class(header["kind"])
            if cls is not VectorIndex and not issubclass(target, cls):
                raise InvalidInput(f"{path} holds a {header['kind']!r} index, not {cls.kind!r}.")
            index = cast("Self", target._read_payload(f, header))  # a subclass of cls, checked above
        index.last_id = header.get("last_id")
        return index

    def __repr__(self) -> str:
        return f"{type(self).__name__}(dim={self.dim}, clips={len(self)})"

    # -- argument checks shared by implementations ---------------------------------------
    def _check_add(self, ids: npt.ArrayLike, vectors: npt.ArrayLike) -> tuple[IdArray, FloatArray]:
        id_array = np.ascontiguousarray(ids, dtype=np.int64).reshape(-1)
        vector_array = np.ascontiguousarray(vectors, dtype=np.float32)
        if vector_array.ndim != 2 or vector_array.shape[1] != self.dim:
            raise InvalidInput(f"Vectors must have shape (n, {self.dim}), got {vector_array.shape}.")
        if len(id_array) != len(vector_array):
            raise InvalidInput(f"{len(id_array)} ids for {len(vector_array)} vectors.")
        return id_array, vector_array

    def _check_query(self, query: npt.ArrayLike, k: int, offset: int) -> tuple[FloatArray, bool]:
        """Queries as a C-contiguous (q, dim) float32 array of unit rows; whether it was 1-D."""
        q = np.asarray(query, dtype=np.float32)
        single = q.ndim == 1
        q = np.atleast_2d(q)
        if q.ndim != 2 or q.shape[1] != self.dim:
            raise InvalidInput(f"Query must have shape ({self.dim},) or (q, {self.dim}), got {np.shape(query)}.")
        if int(k) < 1 or int(offset) < 0:
            raise InvalidInput(f"k must be ≥ 1 and offset ≥ 0, got k={k}, offset={offset}.")
        norms = np.linalg.norm(q, axis=1, keepdims=True)
        if not np.all(np.isfinite(norms)) or np.any(norms == 0):
            raise InvalidInput("Query vectors must be finite and non-zero.")
        return np.ascontiguousarray(q / norms), single

    def _note_added(self, ids: IdArray) -> None:
        if len(ids):
            self.last_id = int(ids[-1])


def as_id_array(exclude: Exclude) -> IdArray:
    """``exclude`` (None, a set, a list or an array of ids) as a sorted unique int64 array."""
    if exclude is None:
        return np.empty(0, dtype=np.int64)
    if isinstance(exclude, (set, frozenset)):
        exclude = list(exclude)
    return np.unique(np.asarray(exclude, dtype=np.int64).reshape(-1))


def top_k_rows(scores: FloatArray, m: int) -> npt.NDArray[np.intp]:
    """Column indices of the ``m`` largest scores of each row, best first."""
    if m < scores.shape[1]:
        part = np.argpartition(-scores, m - 1, axis=1)[:, :m]
    else:
        part = np.broadcast_to(np.arange(scores.shape[1]), scores.shape)
    order = np.argsort(-np.take_along_axis(scores, part, axis=1), axis=1, kind="stable")
    return np.take_along_axis(part, order, axis=1)


def shape_result(ids: IdArray, scores: FloatArray, single: bool) -> SearchResult:
    """(q, m) results as returned to callers: 1-D for a single query."""
    if single:
        return ids[0], scores[0]
    return ids, scores
