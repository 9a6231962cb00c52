"""Vector search over clip vectors: exact brute force, and an ANN index for large corpora.

    index = open_index(home / "clips.index", ids, matrix)   # auto: exact below the threshold
    ids, scores = index.search(query, k=50, exclude=annotated, offset=0)

``make_index(kind, dim)`` builds an empty index of a kind from the registry;
``load_index(path)`` reads any saved index back.
"""

from __future__ import annotations

import os
from importlib import import_module
from pathlib import Path
from typing import Any

import numpy as np

from ..errors import InvalidInput
from .base import FloatArray, IdArray, IndexPath, VectorIndex

# Below this many clips "auto" searches exactly: brute force over 384-d float32 stays
# within the 20 ms target up to about here on the 2-core reference machine (see
# docs/benchmarks.md), and the ANN index, trained on the corpus, needs enough of it.
AUTO_THRESHOLD = 100_000

# kind -> "module:Class", imported on first use so optional backends cost nothing until used.
_KINDS = {
    "exact": "videoannotator.search.exact:ExactIndex",
    "ann": "videoannotator.search.ann:AnnIndex",
}

__all__ = [
    "AUTO_THRESHOLD",
    "VectorIndex",
    "index_class",
    "load_index",
    "make_index",
    "open_index",
]


def index_class(kind: str) -> type[VectorIndex]:
    """The index class registered under ``kind`` ('exact' or 'ann')."""
    try:
        module, name = _KINDS[kind].split(":")
    except KeyError:
        raise InvalidInput(f"Unknown index kind {kind!r}: use one of {', '.join(['auto', *_KINDS])}.") from None
    cls: type[VectorIndex] = getattr(import_module(module), name)
    return cls


def choose_kind(kind: str, size: int, threshold: int | None = None) -> str:
    """Resolve 'auto' for a corpus of ``size`` clips: exact below ``threshold``, else ann."""
    if kind != "auto":
        index_class(kind)  # validates the name
        return kind
    threshold = AUTO_THRESHOLD if threshold is None else threshold
    return "exact" if size < threshold else "ann"


def make_index(
    kind: str = "auto", dim: int = 384, *, size: int = 0, threshold: int | None = None, **params: Any
) -> VectorIndex:
    """An empty index. ``kind='auto'`` picks exact for ``size`` below ``threshold``, else ANN."""
    return index_class(choose_kind(kind, size, threshold))(dim, **params)


def load_index(path: IndexPath) -> VectorIndex:
    """Read back any index written by ``VectorIndex.save``."""
    return VectorIndex.load(path)


def open_index(
    path: IndexPath | None,
    ids: IdArray,
    vectors: FloatArray,
    *,
    kind: str = "auto",
    threshold: int | None = None,
    save: bool = True,
    **params: Any,
) -> VectorIndex:
    """The index to search the clip matrix with, brought up to date with it.

    ``ids`` (n,) int64 and ``vectors`` (n, dim) float32 are the whole append-only matrix
    (memory-mapped is fine). Exact search views them without copying. Otherwise the ANN
    index saved at ``path`` is loaded, given the rows added since (only those), and saved
    again; it is rebuilt from scratch when missing, unreadable, out of step with the
    matrix, or outgrown. ``params`` go to a newly built ANN index.
    """
    from .ann import AnnIndex
    from .exact import ExactIndex

    exact = ExactIndex.over(np.asarray(ids), vectors)
    if choose_kind(kind, len(exact), threshold) == "exact":
        return exact
    index_path = Path(path) if path is not None else None
    ann: AnnIndex | None = None
    if index_path is not None and index_path.exists():
        try:
            ann = AnnIndex.load(index_path)
        except (InvalidInput, ValueError, KeyError, RuntimeError, OSError):
            ann = None  # unreadable or from another version: rebuild below
        if ann is not None and (ann.dim != exact.dim or ann.needs_rebuild(len(exact))):
            ann = None
    added = 0
    if ann is not None:
        try:
            added = ann.sync(ids, vectors)
        except ValueError:
            ann = None
    if ann is None:
        ann = AnnIndex(exact.dim, **params)
        added = ann.sync(ids, vectors)
    ann.exact = exact
    if save and added and index_path is not None:
        os.makedirs(index_path.parent, exist_ok=True)
        ann.save(index_path)
    return ann
