"""Embedders: images and texts into one L2-normalised space (see base.Embedder).

Importing this package stays light; torch and the models load on ``get_embedder``.
"""

from .base import Embedder, l2_normalise
from .registry import DEFAULT_EMBEDDER, get_embedder

__all__ = ["DEFAULT_EMBEDDER", "Embedder", "get_embedder", "l2_normalise"]
