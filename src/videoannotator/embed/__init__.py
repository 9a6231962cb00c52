"""Embedders: images and texts into one L2-normalised space (see base.Embedder).

Importing this package stays light; torch and the models load on ``get_embedder``, and a
text query's encoder (numpy only, for the default) on ``get_text_encoder``.
"""

from .base import Embedder, l2_normalise
from .registry import DEFAULT_EMBEDDER, TextEncoder, get_embedder, get_text_encoder

__all__ = ["DEFAULT_EMBEDDER", "Embedder", "TextEncoder", "get_embedder", "get_text_encoder", "l2_normalise"]
