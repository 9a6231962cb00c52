"""The embedder contract: images and texts into one L2-normalised space."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any, TypeAlias

import numpy as np
import numpy.typing as npt

#: Embeddings and features: float32 (n, d).
Vectors: TypeAlias = npt.NDArray[np.float32]
#: Input images: RGB uint8 arrays (H, W, 3) of any size, as a list or one (n, H, W, 3) array.
Frames: TypeAlias = Iterable[npt.NDArray[np.uint8]] | npt.NDArray[np.uint8]


class Embedder:
    """Base class for vision-language embedders.

    ``name`` is stable and recorded with every clip (a workspace refuses vectors from
    another embedder). Both encoders return float32 arrays of shape (n, dim) whose rows
    have unit L2 norm, in one space: cosine(text, image) ranks images for a query.
    """

    name: str = "base"
    dim: int = 0
    #: > 0 when the embedder also gives per-image *features* for the classifier to train
    #: on (stored beside the vectors; the evaluation harness decided it: docs/evaluation.md).
    #: 0: the classifier trains on the vectors themselves (e.g. CLIP image embeddings).
    feature_dim: int = 0

    def encode_images(self, frames: Frames) -> Vectors:
        """frames: a sequence of RGB uint8 arrays (H, W, 3), any size. Returns (n, dim)."""
        raise NotImplementedError

    def encode_texts(self, texts: list[str]) -> Vectors:
        """texts: a list of strings. Returns (n, dim)."""
        raise NotImplementedError

    def encode_images_with_features(self, frames: Frames) -> tuple[Vectors, Vectors | None]:
        """(vectors (n, dim), raw features (n, f) or None). Raw features are pooled per clip
        by the caller, then mapped by ``classifier_features``."""
        return self.encode_images(frames), None

    def encode_images_with_blocks(self, frames: Frames) -> tuple[Vectors, dict[str, Vectors]]:
        """(vectors (n, dim), raw per-image outputs by name): ``semantic`` (the raw features
        ``classifier_features`` maps) where the embedder has features, and any extras the
        feature blocks use (the default embedder: ``energy``, its final feature map's
        energy grid, and ``mid``, a mid-level stage pooled; features/blocks.py)."""
        vectors, raw = self.encode_images_with_features(frames)
        return vectors, ({} if raw is None else {"semantic": raw})

    def classifier_features(self, raw: npt.NDArray[np.floating[Any]]) -> Vectors:
        """Raw (n, f) features → the (n, feature_dim) unit vectors a classifier trains on."""
        if not self.feature_dim:
            raise NotImplementedError(f"{self.name} has no classifier features")
        return l2_normalise(raw)


def l2_normalise(x: npt.ArrayLike) -> Vectors:
    rows = np.asarray(x, dtype=np.float32)
    norms = np.linalg.norm(rows, axis=-1, keepdims=True)
    return rows / np.maximum(norms, np.float32(1e-12))
