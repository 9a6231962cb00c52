"""CLIP-family models (CLIP, SigLIP, ...) through Hugging Face ``transformers``.

What networked users pick for the best zero-shot quality. The model is named by hub id or
local directory; we only read files already on disk unless VA_HF_ALLOW_DOWNLOAD=1, so a
workspace never starts a multi-GB download by surprise.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image

from ..errors import InvalidInput, MissingDependency
from .base import Embedder, Frames, Vectors, l2_normalise

ALLOW_DOWNLOAD_ENV = "VA_HF_ALLOW_DOWNLOAD"


def _is_local(model: str) -> bool:
    """A directory rather than a hub id ("org/name" has at most one slash)."""
    return (
        model.startswith((".", "/", "~")) or model.count("/") > 1 or "\\" in model or Path(model).expanduser().exists()
    )


class HFClipEmbedder(Embedder):
    """Any transformers model with ``get_image_features`` and ``get_text_features``."""

    def __init__(self, model: str, device: str = "cpu", batch_size: int = 32):
        try:
            import transformers
        except ImportError:  # pragma: no cover - transformers comes with sentence-transformers
            raise MissingDependency("the hf: embedders need transformers: pip install transformers") from None
        self.model_ref = model
        self.name = "hf:" + model
        self.device = torch.device(device)
        self.batch_size = batch_size
        allow_download = os.environ.get(ALLOW_DOWNLOAD_ENV) == "1"
        local = _is_local(model)
        source = str(Path(model).expanduser()) if local else model
        if local and not Path(source).is_dir():
            raise InvalidInput(f"embedder {self.name!r}: no model directory at {Path(source).resolve()}")
        try:
            self.processor = transformers.AutoProcessor.from_pretrained(source, local_files_only=not allow_download)
            self.model = transformers.AutoModel.from_pretrained(source, local_files_only=not allow_download)
        except (OSError, ValueError) as exc:
            if local or allow_download:
                reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
                raise InvalidInput(f"embedder {self.name!r}: cannot load a model from {source}: {reason}") from None
            raise InvalidInput(
                f"embedder {self.name!r}: {model} is not in the local Hugging Face cache; "
                f"download it once (hf download {model}) or set {ALLOW_DOWNLOAD_ENV}=1"
            ) from None
        if not (hasattr(self.model, "get_image_features") and hasattr(self.model, "get_text_features")):
            raise InvalidInput(
                f"embedder {self.name!r}: {type(self.model).__name__} is not a CLIP-family "
                "model (it lacks an image or a text encoder)"
            )
        # SigLIP was trained on texts padded to the full length; CLIP on unpadded ones.
        self._text_padding = "max_length" if "siglip" in self.model.config.model_type else True
        self.model.eval().to(self.device)
        if self.device.type == "cuda":
            self.model.half()
        self.dim = int(self.encode_texts(["a photo"]).shape[1])

    @staticmethod
    def _pooled(output: Any) -> torch.Tensor:  # a transformers ModelOutput (5.x) or a tensor (4.x)
        # transformers 5 returns a model output whose pooler_output is the projected
        # embedding; 4.x returned the tensor itself.
        return output.pooler_output if hasattr(output, "pooler_output") else output

    def _to_model(self, inputs: Mapping[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        dtype = next(self.model.parameters()).dtype
        return {
            k: (v.to(self.device, dtype) if v.is_floating_point() else v.to(self.device)) for k, v in inputs.items()
        }

    @torch.inference_mode()
    def encode_texts(self, texts: list[str]) -> Vectors:
        texts = [texts] if isinstance(texts, str) else list(texts)
        out = []
        for start in range(0, len(texts), self.batch_size):
            inputs = self.processor(
                text=texts[start : start + self.batch_size],
                padding=self._text_padding,
                truncation=True,
                return_tensors="pt",
            )
            out.append(self._pooled(self.model.get_text_features(**self._to_model(inputs))).float().cpu().numpy())
        return l2_normalise(np.concatenate(out)) if out else np.zeros((0, self.dim), np.float32)

    @torch.inference_mode()
    def encode_images(self, frames: Frames) -> Vectors:
        frames = list(frames)
        out = []
        for start in range(0, len(frames), self.batch_size):
            images = [
                Image.fromarray(np.asarray(f, dtype=np.uint8)).convert("RGB")
                for f in frames[start : start + self.batch_size]
            ]
            inputs = self.processor(images=images, return_tensors="pt")
            out.append(self._pooled(self.model.get_image_features(**self._to_model(inputs))).float().cpu().numpy())
        return l2_normalise(np.concatenate(out)) if out else np.zeros((0, self.dim), np.float32)
