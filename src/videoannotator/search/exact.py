"""Exact search: brute-force dot products over the (memory-mapped) clip matrix, in chunks.

Memory stays bounded whatever the corpus size: one chunk of scores (queries × chunk rows)
at a time, and only the best ``k + offset`` of each chunk are kept. Excluded clips are
masked (their rows found through the id lookup), so a large ``exclude`` costs nothing
extra per chunk.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from typing import Any, BinaryIO

import numpy as np
import numpy.typing as npt

from ..errors import InvalidInput, NotFound
from .base import (
    Exclude,
    FloatArray,
    IdArray,
    SearchResult,
    VectorIndex,
    as_id_array,
    shape_result,
    top_k_rows,
)

# Bytes of scores per chunk (queries × rows × 4) for a batch of queries; selecting the top
# rows adds about 3× that in temporaries (negated copy, int64 positions), so ~64 MB peak.
_SCORE_BUDGET = 16 << 20


class ExactIndex(VectorIndex):
    """Brute force over one or more segments of (ids, vectors).

    ``ExactIndex.over(ids, vectors)`` views the workspace's clip matrix without copying
    it (a ``np.memmap`` is fine); ``add`` copies new rows into memory. ``chunk_rows`` is
    how many rows are scored at once.
    """

    kind = "exact"

    def __init__(self, dim: int, *, chunk_rows: int = 65536):
        super().__init__(dim)
        self.chunk_rows = int(chunk_rows)
        self._segments: list[tuple[IdArray, FloatArray, bool]] = []  # (ids, vectors, owned)
        self._lookup: tuple[IdArray, npt.NDArray[np.intp] | None] | None = None

    @classmethod
    def over(cls, ids: npt.ArrayLike, vectors: FloatArray, **params: Any) -> ExactIndex:
        """An index viewing ``vectors`` (n, dim) whose row i is clip ``ids[i]``; no copy."""
        index = cls(np.shape(vectors)[1], **params)
        index.attach(ids, vectors)
        return index

    def attach(self, ids: npt.ArrayLike, vectors: FloatArray) -> None:
        """Replace the contents by a view of ``ids``/``vectors`` (e.g. the grown matrix)."""
        ids = np.asarray(ids)
        if ids.dtype != np.int64:
            ids = ids.astype(np.int64)
        if vectors.ndim != 2 or vectors.shape[1] != self.dim or len(ids) != len(vectors):
            raise InvalidInput(f"Need ids (n,) and vectors (n, {self.dim}); got {ids.shape} and {vectors.shape}.")
        if vectors.dtype != np.float32:
            raise InvalidInput(f"Clip vectors must be float32, got {vectors.dtype}.")
        self._segments = [(ids, vectors, False)] if len(ids) else []
        self._lookup = None
        self.last_id = int(ids[-1]) if len(ids) else None

    def add(self, ids: npt.ArrayLike, vectors: npt.ArrayLike) -> None:
        ids, vectors = self._check_add(ids, vectors)
        if not len(ids):
            return
        self._segments.append((ids.copy(), vectors.copy(), True))
        self._merge_small_segments()
        self._lookup = None
        self._note_added(ids)

    def sync(self, ids: IdArray, vectors: FloatArray) -> int:
        if all(not owned for _, _, owned in self._segments):
            before = len(self)
            super().sync(ids[:before], vectors[:before])  # only the prefix check
            self.attach(ids, vectors)
            return len(self) - before
        return super().sync(ids, vectors)

    def __len__(self) -> int:
        return sum(len(ids) for ids, _, _ in self._segments)

    def search(self, query: npt.ArrayLike, k: int = 10, *, exclude: Exclude = None, offset: int = 0) -> SearchResult:
        queries, single = self._check_query(query, k, offset)
        excluded_rows = self.rows_of(as_id_array(exclude))
        excluded_rows = np.sort(excluded_rows[excluded_rows >= 0])
        want = min(int(k) + int(offset), len(self) - len(excluded_rows))
        if want <= offset:
            return shape_result(np.empty((len(queries), 0), np.int64), np.empty((len(queries), 0), np.float32), single)

        rows_per_chunk = max(1024, min(self.chunk_rows, _SCORE_BUDGET // (4 * len(queries))))
        best_scores = np.empty((len(queries), 0), np.float32)
        best_rows = np.empty((len(queries), 0), np.int64)
        for start, block in self._chunks(rows_per_chunk):
            scores = queries @ block.T
            lo, hi = np.searchsorted(excluded_rows, [start, start + len(block)])
            if hi > lo:
                scores[:, excluded_rows[lo:hi] - start] = -np.inf
            keep = top_k_rows(scores, min(want, len(block)))
            best_scores = np.concatenate([best_scores, np.take_along_axis(scores, keep, axis=1)], axis=1)
            best_rows = np.concatenate([best_rows, keep + start], axis=1)
            if best_scores.shape[1] >= 4 * want:
                best_scores, best_rows = _reduce(best_scores, best_rows, want)
        best_scores, best_rows = _reduce(best_scores, best_rows, want)
        rows = best_rows[:, offset:]
        return shape_result(self._all_ids()[rows], best_scores[:, offset:], single)

    # -- lookups ----------------------------------------------------------------------
    def rows_of(self, ids: npt.ArrayLike) -> IdArray:
        """Row index of each id in this index, -1 where absent."""
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        if not len(ids) or not len(self):
            return np.full(len(ids), -1, np.int64)
        keys, rows = self._id_lookup()
        pos = np.minimum(np.searchsorted(keys, ids), len(keys) - 1)
        found = keys[pos] == ids
        out = pos if rows is None else rows[pos]
        return np.where(found, out, -1).astype(np.int64)

    def vectors_for(self, ids: npt.ArrayLike) -> FloatArray:
        """The stored vectors (len(ids), dim) of clips ``ids``; ``NotFound`` if one is absent."""
        ids = np.asarray(ids, dtype=np.int64).reshape(-1)
        rows = self.rows_of(ids)
        if np.any(rows < 0):
            raise NotFound(f"Clip {int(ids[rows < 0][0])} is not in the index.")
        return self.vectors_at(rows)

    def vectors_at(self, rows: npt.NDArray[np.integer[Any]]) -> FloatArray:
        out = np.empty((len(rows), self.dim), np.float32)
        start = 0
        for seg_ids, seg_vectors, _ in self._segments:
            inside = (rows >= start) & (rows < start + len(seg_ids))
            if inside.any():
                out[inside] = seg_vectors[rows[inside] - start]
            start += len(seg_ids)
        return out

    # -- persistence ---------------------------------------------------------------------
    def _params(self) -> dict[str, Any]:
        return {"chunk_rows": self.chunk_rows}

    def _write_payload(self, f: BinaryIO) -> None:
        np.save(f, self._all_ids(), allow_pickle=False)
        np.lib.format.write_array_header_1_0(
            f,
            {
                "descr": np.lib.format.dtype_to_descr(np.dtype(np.float32)),
                "fortran_order": False,
                "shape": (len(self), self.dim),
            },
        )
        f.writelines(np.ascontiguousarray(block).tobytes() for _, block in self._chunks(self.chunk_rows))

    @classmethod
    def _read_payload(cls, f: io.BufferedReader, header: dict[str, Any]) -> ExactIndex:
        ids = np.load(f, allow_pickle=False)
        np.lib.format.read_magic(f)
        shape, _, _ = np.lib.format.read_array_header_1_0(f)
        vectors = (
            np.memmap(f.name, dtype=np.float32, mode="r", offset=f.tell(), shape=shape)
            if shape[0]
            else np.empty(shape, np.float32)
        )
        index = cls(header["dim"], **header.get("params", {}))
        index.attach(ids, vectors)
        return index

    # -- internals -----------------------------------------------------------------------
    def _chunks(self, rows_per_chunk: int) -> Iterator[tuple[int, FloatArray]]:
        start = 0
        for _, vectors, _ in self._segments:
            for s in range(0, len(vectors), rows_per_chunk):
                yield start + s, vectors[s : s + rows_per_chunk]
            start += len(vectors)

    def _all_ids(self) -> IdArray:
        if len(self._segments) == 1:
            return self._segments[0][0]
        if not self._segments:
            return np.empty(0, np.int64)
        return np.concatenate([ids for ids, _, _ in self._segments])

    def _id_lookup(self) -> tuple[IdArray, npt.NDArray[np.intp] | None]:
        """(sorted keys, row of each key); rows is None when the ids are already ascending."""
        if self._lookup is None:
            ids = self._all_ids()
            if len(ids) < 2 or bool(np.all(ids[1:] > ids[:-1])):
                self._lookup = (ids, None)
            else:
                order = np.argsort(ids, kind="stable")
                self._lookup = (ids[order], order)
        return self._lookup

    def _merge_small_segments(self) -> None:
        """Many small ``add`` calls would mean many tiny chunks: fold owned ones together."""
        owned = [i for i, (_, _, is_owned) in enumerate(self._segments) if is_owned]
        if len(owned) <= 8:
            return
        first = owned[0]
        merged_ids = np.concatenate([self._segments[i][0] for i in owned])
        merged_vectors = np.concatenate([self._segments[i][1] for i in owned])
        kept = [seg for i, seg in enumerate(self._segments) if i not in set(owned)]
        kept.insert(min(first, len(kept)), (merged_ids, merged_vectors, True))
        self._segments = kept


def _reduce(scores: FloatArray, rows: IdArray, m: int) -> tuple[FloatArray, IdArray]:
    keep = top_k_rows(scores, min(m, scores.shape[1]))
    return np.take_along_axis(scores, keep, axis=1), np.take_along_axis(rows, keep, axis=1)
