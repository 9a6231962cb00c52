"""Embedders by name: the offline default and ``hf:<hub id or local dir>``; and the text
encoder a query needs (``get_text_encoder``: the default's text tower alone).

Models take seconds to load and hundreds of MB, so each (name, device) is built once per
process and shared.
"""

from __future__ import annotations

import threading
from typing import Protocol

from ..errors import InvalidInput
from .base import Embedder, Vectors

DEFAULT_EMBEDDER = "conse-effnet-minilm"
CHOICES = f"'{DEFAULT_EMBEDDER}' (offline default) or 'hf:<hub id or local dir>' (e.g. hf:openai/clip-vit-base-patch32)"

_instances: dict[tuple[str, str], Embedder] = {}
_text_encoders: dict[str, TextEncoder] = {}
_lock = threading.Lock()


class TextEncoder(Protocol):
    """What a text query needs: ``encode_texts`` into the embedder's space (an Embedder is one)."""

    name: str
    dim: int

    def encode_texts(self, texts: list[str]) -> Vectors: ...


def get_embedder(name: str = DEFAULT_EMBEDDER, device: str = "cpu", batch_size: int = 32) -> Embedder:
    """The embedder called ``name`` on ``device``, loaded on first use and cached in-process.

    ``batch_size`` applies when the instance is first built; later calls share that instance.
    """
    name = (name or DEFAULT_EMBEDDER).strip()
    if name != DEFAULT_EMBEDDER and not (name.startswith("hf:") and len(name) > 3):
        raise InvalidInput(f"unknown embedder {name!r}; choose {CHOICES}")
    key = (name, str(device))
    with _lock:  # one load per key even when server threads ask at once
        if key not in _instances:
            _instances[key] = _build(name, device, batch_size)
        return _instances[key]


def _build(name: str, device: str, batch_size: int) -> Embedder:
    if name == DEFAULT_EMBEDDER:
        from .conse import ConSEEmbedder

        return ConSEEmbedder(device=device, batch_size=batch_size)
    from .hf_clip import HFClipEmbedder

    return HFClipEmbedder(name[len("hf:") :], device=device, batch_size=batch_size)


def get_text_encoder(name: str = DEFAULT_EMBEDDER, device: str = "cpu", batch_size: int = 32) -> TextEncoder:
    """What encodes text queries for the embedder ``name``, loading as little as it can.

    The default embedder's query is its MiniLM text vector alone: ``minilm.MiniLMTextEncoder``
    (numpy, no torch, ~0.05 s to load) gives the same vectors. Other embedders encode texts
    with their own model: the embedder itself (``get_embedder``), loaded whole.
    """
    name = (name or DEFAULT_EMBEDDER).strip()
    if name != DEFAULT_EMBEDDER:
        return get_embedder(name, device, batch_size)
    with _lock:
        if name not in _text_encoders:
            from .minilm import MiniLMTextEncoder

            _text_encoders[name] = MiniLMTextEncoder(name=name)
        return _text_encoders[name]
