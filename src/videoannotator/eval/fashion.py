"""The Fashion-MNIST suite: 28x28 garment images embedded with the default embedder.

Images come from the Debian package ``dataset-fashion-mnist`` (70,000 images, 10
classes; ``apt-get install dataset-fashion-mnist`` puts them in
/usr/share/datasets/fashion-mnist/). A sample of ``n`` images - the first ``n`` of one
fixed permutation of all 70,000 - is embedded once and cached in chunks under
``$VA_CACHE/eval/fashion-mnist/``, so a rerun, or a larger sample, embeds only what is new.
The embedder upscales each image to 224x224 and repeats the grey channel into RGB.

Ten concepts, each a binary label with the guideline a user would write: single classes,
groups of classes (footwear, upper-body garments, warm tops) and two rare ones whose
positives are thinned to 3% of their universe.
"""

from __future__ import annotations

import gzip
import os
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ..embed.base import l2_normalise
from ..errors import InvalidInput
from .datasets import Concept, Dataset

if TYPE_CHECKING:
    from ..embed.base import Embedder

Images = npt.NDArray[np.uint8]  # (n, 28, 28) grey
Vectors = npt.NDArray[np.float32]
Rows = npt.NDArray[np.int64]

DEFAULT_DIR = "/usr/share/datasets/fashion-mnist"
FILES = (
    ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz"),
    ("t10k-images-idx3-ubyte.gz", "t10k-labels-idx1-ubyte.gz"),
)
CLASS_NAMES = ("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat", "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot")
# Sized so `va eval` embeds a fresh cache and runs within 15 minutes on 2 busy cores
# (measured 6 images/s under other jobs' load, 30-60 idle; docs/evaluation.md).
DEFAULT_SAMPLE = 3_000
CHUNK = 500  # images per cache file
PERMUTATION_SEED = 0
# How images are shown to the embedder; part of the cache key. "dark-on-light" inverts
# Fashion-MNIST's light garments on black back into the product photos they were made
# from (docs/evaluation.md: measured against "as-is").
RENDER = "dark-on-light"
RENDERS = ("as-is", "dark-on-light")


@dataclass(frozen=True)
class ConceptSpec:
    name: str
    classes: tuple[int, ...]
    description: str
    keywords: tuple[str, ...]
    rare_rate: float | None = None  # thin the positives to this share of the universe


CONCEPTS = (
    ConceptSpec(
        "footwear", (5, 7, 9), "Footwear: shoes, sandals, sneakers and boots", ("shoe", "sandal", "sneaker", "boot")
    ),
    ConceptSpec(
        "upper-body",
        (0, 2, 4, 6),
        "Garments worn on the upper body: t-shirts, shirts, pullovers, coats",
        ("t-shirt", "shirt", "sweater", "coat"),
    ),
    ConceptSpec(
        "warm-top", (2, 4), "Warm long-sleeved tops: pullovers and coats", ("pullover", "sweater", "coat", "jacket")
    ),
    ConceptSpec("trousers", (1,), "Trousers: long pants", ("trousers", "jeans", "pants")),
    ConceptSpec("dress", (3,), "A dress", ("dress", "gown", "frock")),
    ConceptSpec("bag", (8,), "A bag", ("handbag", "purse", "bag", "tote")),
    ConceptSpec("sneaker", (7,), "Sneakers: sports shoes", ("sneaker", "running shoe", "trainer")),
    ConceptSpec("shirt", (6,), "A shirt with a collar and buttons", ("shirt", "blouse", "collar")),
    ConceptSpec("rare-ankle-boot", (9,), "Ankle boots", ("ankle boot", "boot"), rare_rate=0.03),
    ConceptSpec("rare-sandal", (5,), "Sandals", ("sandal", "flip-flop"), rare_rate=0.03),
)


def _read_idx(path: Path) -> Images:
    """An IDX file (MNIST's format: big-endian header, then uint8 data), gzipped."""
    with gzip.open(path, "rb") as fh:
        data = fh.read()
    magic = int.from_bytes(data[0:4], "big")
    ndim = magic & 0xFF
    if magic >> 8 != 0x08 or ndim not in (1, 3):
        raise InvalidInput(f"{path}: not an IDX uint8 file (magic {magic:#x})")
    shape = tuple(int.from_bytes(data[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(shape)


def load_images(folder: str | os.PathLike[str] = DEFAULT_DIR) -> tuple[Images, Rows]:
    """All 70,000 images (train then test) as (70000, 28, 28) uint8, and their classes."""
    folder = Path(folder)
    if not all((folder / f).exists() for pair in FILES for f in pair):
        raise InvalidInput(
            f"Fashion-MNIST not found in {folder}; install it with "
            "`apt-get install dataset-fashion-mnist` or pass --data DIR"
        )
    images, classes = [], []
    for image_file, label_file in FILES:
        images.append(_read_idx(folder / image_file))
        classes.append(_read_idx(folder / label_file))
    return np.concatenate(images), np.concatenate(classes).astype(np.int64)


def sample_order(total: int = 70_000) -> Rows:
    """The fixed order images are sampled (and cached) in: a sample of n is its first n."""
    return np.random.default_rng(PERMUTATION_SEED).permutation(total)


def render(images: Images, mode: str = RENDER) -> list[Images]:
    """Grey 28x28 images as the embedder sees them (it upscales and repeats the channel)."""
    if mode not in RENDERS:
        raise InvalidInput(f"render must be one of {', '.join(RENDERS)}")
    return [255 - im if mode == "dark-on-light" else im for im in images]


def cache_dir(embedder_name: str, mode: str = RENDER) -> Path:
    from ..config import Settings

    safe = embedder_name.replace("/", "_").replace(":", "_")
    return (
        Path(Settings.from_env().cache).expanduser() / "eval" / "fashion-mnist" / f"{safe}-{mode}-p{PERMUTATION_SEED}"
    )


def embed_sample(
    n: int,
    images: Images,
    embedder_name: str = "conse-effnet-minilm",
    device: str = "cpu",
    mode: str = RENDER,
    progress: bool = True,
    embedder: Embedder | None = None,
    offset: int = 0,
) -> tuple[Vectors, Vectors, dict[str, Any]]:
    """(joint (n, 384), features (n, 1280), timing) for images offset..offset+n-1 of the sample order.

    Chunks of ``CHUNK`` images are read from the cache or embedded and written to it
    (atomically), so an interrupted run resumes where it stopped.
    """
    import time

    order = sample_order(len(images))  # whole chunks are embedded, so caches of any n agree
    folder = cache_dir(embedder_name, mode)
    joint: list[Vectors] = []
    feats: list[Vectors] = []
    embedded, t_embed = 0, 0.0
    first = offset - offset % CHUNK
    chunks = range(first, offset + n, CHUNK)
    bar = None
    if progress:
        from ..progress import progress_bar

        bar = progress_bar(total=len(chunks) * CHUNK, desc="fashion-mnist embeddings", unit="img", leave=False)
    for start in chunks:
        stop = min(start + CHUNK, len(images))
        path = folder / f"chunk-{start // CHUNK:04d}.npz"
        cached = _read_chunk(path)
        data: tuple[Vectors, Vectors] | None = None
        if cached is not None and {"joint", "features"} <= cached.keys():
            data = (cached["joint"], cached["features"])
        if data is None:
            if embedder is None:
                from ..embed import get_embedder

                embedder = get_embedder(embedder_name, device=device)
            t = time.perf_counter()
            j, f = embedder.encode_images_with_features(render(images[order[start:stop]], mode))
            if f is None:
                raise InvalidInput(
                    f"embedder {embedder_name!r} gives no feature vectors; the Fashion-MNIST "
                    "suite needs the default embedder"
                )
            t_embed += time.perf_counter() - t
            embedded += stop - start
            data = (j.astype(np.float32), f.astype(np.float32))
            _write_chunk(path, {"joint": data[0], "features": data[1]})
        joint.append(data[0])
        feats.append(data[1])
        if bar is not None:
            bar.update(stop - start)
    if bar is not None:
        bar.close()
    timing = {
        "embedded_images": embedded,
        "embed_seconds": round(t_embed, 1),
        "images_per_second": round(embedded / t_embed, 1) if t_embed else None,
        "cache": str(folder),
    }
    skip = offset - first
    return np.concatenate(joint)[skip : skip + n], np.concatenate(feats)[skip : skip + n], timing


def _read_chunk(path: Path) -> dict[str, Vectors] | None:
    """A cached chunk's arrays by name, or None where it is missing or unreadable."""
    if not path.exists():
        return None
    try:
        with np.load(path) as z:
            return {k: z[k] for k in z.files}
    except (OSError, ValueError):
        return None


def _write_chunk(path: Path, data: dict[str, Vectors]) -> None:
    """Write a chunk atomically (a temporary file, then a rename); an unwritable cache only
    costs embedding again."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npz")
        np.savez(partial, **data)  # type: ignore[arg-type]
        os.replace(partial, path)
    except OSError:
        pass


EXTRAS_VERSION = 1  # of the extras cache (energy grid, mid-level features): part of its file names


def embed_extras(
    n: int,
    images: Images,
    embedder_name: str = "conse-effnet-minilm",
    device: str = "cpu",
    mode: str = RENDER,
    progress: bool = True,
    embedder: Embedder | None = None,
    offset: int = 0,
) -> dict[str, Vectors]:
    """The embedder's extra per-image outputs the feature blocks use ("energy", "mid"; see
    ``Embedder.encode_images_with_blocks``) for images offset..offset+n-1, cached in chunks
    beside the features (``extras-v{EXTRAS_VERSION}-chunk-NNNN.npz``): an older cache keeps
    its features and gains only these files."""
    order = sample_order(len(images))
    folder = cache_dir(embedder_name, mode)
    first = offset - offset % CHUNK
    chunks = range(first, offset + n, CHUNK)
    parts: dict[str, list[Vectors]] = {}
    bar = None
    if progress:
        from ..progress import progress_bar

        bar = progress_bar(total=len(chunks) * CHUNK, desc="fashion-mnist feature extras", unit="img", leave=False)
    for start in chunks:
        stop = min(start + CHUNK, len(images))
        path = folder / f"extras-v{EXTRAS_VERSION}-chunk-{start // CHUNK:04d}.npz"
        data = _read_chunk(path)
        if data is None:
            if embedder is None:
                from ..embed import get_embedder

                embedder = get_embedder(embedder_name, device=device)
            _, raw = embedder.encode_images_with_blocks(render(images[order[start:stop]], mode))
            data = {k: v.astype(np.float32) for k, v in raw.items() if k != "semantic"}
            _write_chunk(path, data)
        for key, value in data.items():
            parts.setdefault(key, []).append(value)
        if bar is not None:
            bar.update(stop - start)
    if bar is not None:
        bar.close()
    skip = offset - first
    return {k: np.concatenate(v)[skip : skip + n] for k, v in parts.items()}


def block_features(
    raw: Vectors, rendered: list[Images], extras: dict[str, Vectors], embedder_name: str, embedder: Embedder | None
) -> tuple[Vectors, Any]:
    """The product's block rows for still images (features/blocks.py): the semantic block
    from the cached raw features, layout and colour from the images as the embedder sees
    them, the energy grid and mid-level features from ``extras``; motion is a still's."""
    from ..features import blocks

    semantic = classifier_features(raw, embedder_name, embedder, "product-semantic")
    if semantic is None:
        raise InvalidInput(f"embedder {embedder_name!r} gives no classifier features")
    widths = {blocks.SEMANTIC: semantic.shape[1], **blocks.WIDTHS}
    if "mid" in extras:
        widths["mid"] = extras["mid"].shape[1]
    layout = tuple(
        blocks.Block(n, widths[n], blocks.WEIGHTS[n])
        for n in blocks.ORDER
        if n in blocks.chosen_blocks() and n in widths
    )
    names = [b.name for b in layout]
    still = np.zeros((0, 6), np.float32)
    rows = []
    for i, image in enumerate(rendered):
        rgb = [np.repeat(np.asarray(image)[:, :, None], 3, axis=2)]
        parts = blocks.clip_parts(
            semantic[i],
            rgb,
            extras["energy"][i] if "energy" in extras else None,
            extras["mid"][i] if "mid" in extras else None,
            still,
            25.0,
            0.0,
            0.0,
            names,
        )
        rows.append(blocks.assemble(parts, layout)[0])
    return np.stack(rows).astype(np.float32), layout


def concept_rows(spec: ConceptSpec, classes: Rows) -> tuple[Rows, Rows]:
    """(positive rows, negative rows) of a concept over a sample's classes.

    A rare concept keeps the first m of its positives (in sample order) so that they make
    ``rare_rate`` of its universe; the dropped ones are in no universe of this concept.
    """
    is_pos = np.isin(classes, spec.classes)
    pos, neg = np.flatnonzero(is_pos), np.flatnonzero(~is_pos)
    if spec.rare_rate is not None:
        keep = max(2, round(spec.rare_rate * neg.size / (1 - spec.rare_rate)))
        pos = pos[:keep]
    return pos, neg


FEATURE_KINDS = ("product", "semantic", "full")


def classifier_features(
    raw: Vectors, embedder_name: str, embedder: Embedder | None = None, kind: str = "product"
) -> Vectors | None:
    """The semantic features of these images: the embedder's classifier features of the
    cached raw 1,280-d features (for the default embedder, the fixed projection of
    ``head_projection``, without loading the text model) for 'semantic' (and, inside
    ``load``, the semantic block of 'product', whose other blocks ``block_features`` adds).
    'full': all raw features as unit rows (what the projection is measured against)."""
    if kind == "product-semantic":
        kind = "semantic"
    elif kind == "product":
        raise InvalidInput("features 'product' are made by load() (block_features)")
    if kind not in FEATURE_KINDS:
        raise InvalidInput(f"features must be one of {', '.join(FEATURE_KINDS)}; got {kind!r}")
    if kind == "full":
        return l2_normalise(raw)
    if embedder is not None:
        return embedder.classifier_features(raw) if embedder.feature_dim else None
    from ..embed.conse import NAME, ConSEEmbedder, project_features
    from ..embed.efficientnet_lite import head_projection

    if embedder_name != NAME:
        return None
    return project_features(raw, head_projection(ConSEEmbedder.feature_dim))


def load(
    n: int = DEFAULT_SAMPLE,
    folder: str | os.PathLike[str] = DEFAULT_DIR,
    embedder_name: str = "conse-effnet-minilm",
    device: str = "cpu",
    mode: str = RENDER,
    progress: bool = True,
    embedder: Embedder | None = None,
    offset: int = 0,
    features: str = "product",
) -> Dataset:
    """The Fashion-MNIST suite as a Dataset (embedding what the cache lacks).

    ``offset`` skips the first images of the sample order: e.g. decide on images 0-4,999
    and confirm on 5,000 onwards, which the decisions never saw. ``features``: see
    ``classifier_features``.
    """
    images, classes = load_images(folder)
    if not 100 <= n <= len(images) - offset or offset < 0:
        raise InvalidInput(
            f"the Fashion-MNIST sample must be 100-{len(images) - offset} images from offset "
            f"0-{len(images) - 100}; got {n} from {offset}"
        )
    if features not in FEATURE_KINDS:
        raise InvalidInput(f"features must be one of {', '.join(FEATURE_KINDS)}; got {features!r}")
    joint, raw, timing = embed_sample(n, images, embedder_name, device, mode, progress, embedder, offset)
    rows = sample_order(len(images))[offset : offset + n]
    layout = None
    feats: Vectors | None
    if features == "product":
        from ..features.blocks import chosen_blocks

        wants_extras = bool({"layout", "mid"} & set(chosen_blocks()))
        extras = (
            embed_extras(n, images, embedder_name, device, mode, progress, embedder, offset) if wants_extras else {}
        )
        feats, layout = block_features(raw, render(images[rows], mode), extras, embedder_name, embedder)
    else:
        feats = classifier_features(raw, embedder_name, embedder, features)
    sample_classes = classes[rows]
    concepts: list[Concept] = []
    for spec in CONCEPTS:
        pos, neg = concept_rows(spec, sample_classes)
        concepts.append(Concept(spec.name, pos, neg, spec.description, list(spec.keywords)))
    keys = rows.astype(np.int64)  # key = index in train+test
    return Dataset(
        "fashion-mnist",
        keys,
        joint,
        concepts,
        features=feats,
        embedder=embedder_name,
        meta={
            "sample": n,
            "offset": offset,
            "render": mode,
            "features": features,
            "embedding": timing,
            "classes": {name: int((sample_classes == i).sum()) for i, name in enumerate(CLASS_NAMES)},
        },
        feature_blocks=layout,
    )
