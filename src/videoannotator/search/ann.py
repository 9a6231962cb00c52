"""Approximate search for large corpora: a faiss inverted-file index (IVF) with 8-bit codes.

Why IVF and not a graph (HNSW): on the 2-core machine this project is measured on,
inserting into an HNSW graph is bound by random memory reads — usearch needed 1.5–2
minutes per 100k clustered clips at f32/f16 (10+ minutes for 500k), and its i8 variant,
though faster, capped recall@100 near 0.93 — while IVF trains k-means on a sample and
appends each new clip to its nearest list: about 20 s for 500k clips. The figures are
in docs/benchmarks.md (search).

How a search runs: the query visits the ``nprobe`` lists whose centroids are nearest,
scores their 8-bit residual codes (a quarter of the float32 matrix's memory), filters
``exclude`` inside the scan, then re-scores ``rerank × (k + offset)`` candidates exactly
against the float32 clip matrix when one is attached (``exact``), so returned scores are
true cosines. Too few results (a huge ``exclude``) or a deep page falls back to the exact
index.
"""

from __future__ import annotations

import io
import math
from types import ModuleType
from typing import TYPE_CHECKING, Any, BinaryIO

import numpy as np
import numpy.typing as npt

from ..errors import InvalidInput, MissingDependency
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
from .exact import ExactIndex

if TYPE_CHECKING:
    import faiss as faiss_types  # imported lazily at run time: see _faiss()

# Codes one query scans at most by default (``_nprobe``): 250k 8-bit codes of 384-d took
# 20.8 ms on the 2-core machine (2M clips, 2,048 lists, nprobe 256); 200k keeps a margin.
SCAN_BUDGET = 200_000

# Rows handed to faiss per add call: bounds the temporary memory of list assignment.
_ADD_BATCH = 65536


def _faiss() -> ModuleType:
    try:
        import faiss
    except ImportError as error:  # pragma: no cover - exercised only without faiss
        raise MissingDependency("The ANN index needs faiss, which is not installed: pip install faiss-cpu") from error
    return faiss


def auto_nlist(n: int) -> int:
    """Number of IVF lists for ``n`` training clips: a power of two near 1.5·√n, 16…4096."""
    return int(min(4096, max(16, 2 ** round(math.log2(max(1.0, 1.5 * math.sqrt(n)))))))


class AnnIndex(VectorIndex):
    """IVF index over clip vectors; trained on the first ``add`` (its size picks ``nlist``).

    Parameters (all optional):
      nlist     lists (k-means centroids); None → ``auto_nlist`` of the first batch.
      nprobe    lists visited per query; None → max(16, nlist // 8), about 12 % of the
                data: recall@100 1.0 on the clustered benchmark corpus and still 0.97 on a
                much noisier one (nlist // 16 gave 0.95 there), at < 10 ms for 500k clips;
                capped at ~SCAN_BUDGET codes per query from ~2M clips on (the 20 ms
                target: at 10M clips 82 of 4,096 lists; recall@100 on the clustered corpus
                1.0 at 2M with nprobe 64, decided on seed 1; see docs/benchmarks.md).
      codec     "sq8" (8-bit codes, residual to the centroid) or "flat" (float32 copy).
      rerank    candidates per wanted result re-scored exactly when ``exact`` is attached.
      max_depth offset + k beyond this goes to the exact index (deep pages lose recall).
      exact     an ``ExactIndex`` over the same clips, for re-scoring and fallbacks; not
                saved with the index — attach it again after ``load``.
    """

    kind = "ann"

    def __init__(
        self,
        dim: int,
        *,
        nlist: int | None = None,
        nprobe: int | None = None,
        codec: str = "sq8",
        rerank: int = 3,
        max_depth: int = 1000,
        exact: ExactIndex | None = None,
    ):
        super().__init__(dim)
        if codec not in ("sq8", "flat"):
            raise InvalidInput(f"Unknown ANN codec {codec!r}: use 'sq8' or 'flat'.")
        self.nlist = nlist
        self.nprobe = nprobe
        self.codec = codec
        self.rerank = int(rerank)
        self.max_depth = int(max_depth)
        self.exact = exact
        self.trained_on = 0
        self._index: faiss_types.Index | None = None

    # -- building ------------------------------------------------------------------------
    def add(self, ids: npt.ArrayLike, vectors: npt.ArrayLike) -> None:
        if isinstance(vectors, np.ndarray) and vectors.ndim == 2 and vectors.dtype == np.float32:
            # A (memory-mapped, maybe strided) matrix: converted batch by batch, never whole.
            id_array = np.ascontiguousarray(ids, dtype=np.int64).reshape(-1)
            vector_array = vectors
            self._check_add(id_array[:1], vectors[:1])  # the shape checks, on one row
            if len(id_array) != len(vectors):
                raise InvalidInput(f"{len(id_array)} ids for {len(vectors)} vectors.")
        else:
            id_array, vector_array = self._check_add(ids, vectors)
        if not len(id_array):
            return
        index = self._index if self._index is not None else self._train(vector_array)
        for s in range(0, len(id_array), _ADD_BATCH):
            batch = np.ascontiguousarray(vector_array[s : s + _ADD_BATCH])
            index.add_with_ids(batch, id_array[s : s + _ADD_BATCH])
        self._note_added(id_array)

    def _train(self, vectors: FloatArray) -> faiss_types.Index:
        faiss = _faiss()
        n = len(vectors)
        nlist = self.nlist or auto_nlist(n)
        nlist = max(1, min(nlist, n // 39 or 1))  # faiss wants ≥ 39 training points per list
        self.nlist = nlist
        coarse = faiss.IndexFlatIP(self.dim)
        index: faiss_types.IndexIVF
        if self.codec == "sq8":
            index = faiss.IndexIVFScalarQuantizer(
                coarse, self.dim, nlist, faiss.ScalarQuantizer.QT_8bit, faiss.METRIC_INNER_PRODUCT
            )
        else:
            index = faiss.IndexIVFFlat(coarse, self.dim, nlist, faiss.METRIC_INNER_PRODUCT)
        sample_size = min(n, 64 * nlist)
        sample = (
            vectors
            if sample_size == n
            else vectors[np.sort(np.random.default_rng(0).choice(n, sample_size, replace=False))]
        )
        index.train(np.ascontiguousarray(sample))
        index.own_fields = True
        coarse.this.disown()
        self._index = index
        self.trained_on = n
        return index

    def needs_rebuild(self, size: int | None = None) -> bool:
        """True once the corpus (``size`` clips, default this index's) outgrew the lists it
        was trained with: 8× the training size, and more lists would now be chosen."""
        size = len(self) if size is None else int(size)
        if self._index is None or self.nlist is None:
            return False
        return size > 8 * max(self.trained_on, 1) and auto_nlist(size) > self.nlist

    def __len__(self) -> int:
        return 0 if self._index is None else int(self._index.ntotal)

    # -- searching -----------------------------------------------------------------------
    def _nprobe(self) -> int:
        assert self.nlist is not None, "nlist is set when the index is trained"
        if self.nprobe:
            return min(self.nprobe, self.nlist)
        # About 12 % of the lists, but no more than ~SCAN_BUDGET codes per query: past ~2M
        # clips the 20 ms target caps the scan (10M clips, 4,096 lists: 82 lists, 2 %).
        per_list = max(1.0, len(self) / self.nlist)
        return min(self.nlist, max(16, min(self.nlist // 8, int(SCAN_BUDGET / per_list))))

    def search(self, query: npt.ArrayLike, k: int = 10, *, exclude: Exclude = None, offset: int = 0) -> SearchResult:
        queries, single = self._check_query(query, k, offset)
        k, offset = int(k), int(offset)
        excluded = as_id_array(exclude)
        want = k + offset
        if self._index is None or not len(self):
            empty = np.empty((len(queries), 0))
            return shape_result(empty.astype(np.int64), empty.astype(np.float32), single)
        if want > self.max_depth and self.exact is not None:
            return self.exact.search(query, k, exclude=excluded, offset=offset)

        faiss = _faiss()
        depth = min(want * (self.rerank if self.exact is not None else 1), len(self))
        params = faiss.SearchParametersIVF(nprobe=self._nprobe())
        selectors: tuple[object, ...] = ()
        if len(excluded):
            # Filtered inside the scan, so excluded clips never take a result slot.
            excluded_selector = faiss.IDSelectorBatch(excluded)
            allowed_selector = faiss.IDSelectorNot(excluded_selector)
            params.sel = allowed_selector
            selectors = (excluded_selector, allowed_selector)  # faiss keeps raw pointers only
        scores, ids = self._index.search(queries, depth, params=params)
        del selectors
        if self.exact is not None:
            scores, ids = self._rescore(queries, ids, scores)

        if self.exact is not None:
            eligible = len(self) - int((self.exact.rows_of(excluded) >= 0).sum())
            short = np.flatnonzero((ids >= 0).sum(axis=1) < min(want, eligible))
            if len(short):  # the probed lists ran dry (huge exclude): answer those exactly
                exact_ids, exact_scores = self.exact.search(queries[short], want, exclude=excluded)
                width = exact_ids.shape[1]
                ids[short, :width], scores[short, :width] = exact_ids, exact_scores
                ids[short, width:], scores[short, width:] = -1, -np.inf
        ids, scores = ids[:, :want], scores[:, :want].astype(np.float32)
        scores[ids < 0] = -np.inf
        filled = int((ids >= 0).sum(axis=1).max()) if ids.size else 0
        return shape_result(ids[:, offset:filled], scores[:, offset:filled], single)

    def _rescore(self, queries: FloatArray, ids: IdArray, approximate: FloatArray) -> tuple[FloatArray, IdArray]:
        """Exact float32 scores for the candidates, re-sorted. A clip the exact index does
        not hold (added here but not there) keeps its approximate score."""
        assert self.exact is not None, "only called with an exact index attached"
        rows = self.exact.rows_of(ids.reshape(-1)).reshape(ids.shape)
        known = rows >= 0
        scores = approximate.copy()
        for s in range(0, len(queries), 32):  # bounded: 32 queries' candidate vectors at once
            block = slice(s, s + 32)
            vectors = self.exact.vectors_at(np.where(known[block], rows[block], 0).reshape(-1))
            exact = np.einsum("qcd,qd->qc", vectors.reshape(rows[block].shape + (self.dim,)), queries[block])
            scores[block] = np.where(known[block], exact, approximate[block])
        scores[ids < 0] = -np.inf
        order = top_k_rows(scores, scores.shape[1])
        return np.take_along_axis(scores, order, axis=1), np.take_along_axis(ids, order, axis=1)

    def sync(self, ids: IdArray, vectors: FloatArray) -> int:
        added = super().sync(ids, vectors)
        if self.exact is not None:
            self.exact.sync(ids, vectors)  # the re-scoring view must see the new rows too
        return added

    # -- persistence ---------------------------------------------------------------------
    def _params(self) -> dict[str, Any]:
        return {
            "nlist": self.nlist,
            "nprobe": self.nprobe,
            "codec": self.codec,
            "rerank": self.rerank,
            "max_depth": self.max_depth,
            "trained_on": self.trained_on,
        }

    def _write_payload(self, f: BinaryIO) -> None:
        if self._index is not None:
            faiss = _faiss()
            faiss.write_index(self._index, faiss.PyCallbackIOWriter(f.write))  # streamed, no copy

    @classmethod
    def _read_payload(cls, f: io.BufferedReader, header: dict[str, Any]) -> AnnIndex:
        params = dict(header.get("params", {}))
        trained_on = params.pop("trained_on", 0)
        index = cls(header["dim"], **params)
        if f.peek(1):
            faiss = _faiss()
            try:
                index._index = faiss.read_index(faiss.PyCallbackIOReader(f.read))
            except RuntimeError as error:
                raise InvalidInput(f"{f.name} is a damaged ANN index ({error}); delete it to rebuild.") from None
            index.trained_on = trained_on
        return index
