"""The classifier features as named blocks: what each is, how wide, how much it weighs.

Build trains on one row per clip, the concatenation of blocks in a fixed order::

    semantic   the embedder's classifier features (default embedder: 384-d projection of the
               pooled EfficientNet-Lite0 features; unit rows): what is in the frame
    motion     camera motion from the detection frames, clip and shot length (features/motion.py)
    layout     where the content is and how big: edge and network-energy grids (features/layout.py)
    colour     colour and brightness statistics of the kept frames (features/colour.py)
    mid        pooled features of an intermediate network stage (112-d, before the head);
               measured, not in the product default (see PRODUCT_BLOCKS)

Every block but ``semantic`` is a vector of fixed-scale numbers (tanh / log / shares, never
statistics of the data), stored times ``weight / sqrt(width)``; ``semantic`` is a unit row
times its weight. The weights were chosen with the evaluation harness on decision data only
(``va eval --feature-blocks``; docs/evaluation.md). A workspace records its layout (names,
widths, weights) once, in the catalog's meta ``feature_blocks`` (``semantic:384:1,motion:12:1.5,...``);
a workspace from before the blocks has none and is read as ``semantic`` alone.
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ..errors import InvalidInput
from . import colour, layout, motion

if TYPE_CHECKING:
    from ..embed.base import Embedder

FloatArray = npt.NDArray[np.float32]

META_KEY = "feature_blocks"
SEMANTIC = "semantic"
#: name -> width of the blocks computed here (semantic's width is the embedder's feature_dim;
#: mid's the embedder's mid-level width)
WIDTHS = {"motion": motion.WIDTH, "layout": layout.WIDTH, "colour": colour.WIDTH}
ORDER = (SEMANTIC, "motion", "layout", "colour", "mid")
#: what Build trains on by default, and each block's weight, decided with the harness on
#: decision data (generation seed 1, split seed 1; docs/evaluation.md, "feature blocks"):
#: motion lifts camera-motion from AP 0.25-0.32 to 0.97-1.0 at every budget (weight 2: at 1
#: it reaches only 0.55 at 25 annotations; at 3 it costs the labels motion does not decide,
#: multi-subject 0.60 -> 0.42 at 50); layout adds ~+0.02 on shot-scale at 25-50; colour
#: cost shot-scale 0.93 -> 0.88 at 25 and helped nowhere; mid cost camera-motion and
#: shot-scale's "wide" at low budgets. Both stay computable (VA_FEATURE_BLOCKS) for measuring.
PRODUCT_BLOCKS = (SEMANTIC, "motion", "layout")
WEIGHTS = {SEMANTIC: 1.0, "motion": 2.0, "layout": 1.0, "colour": 1.0, "mid": 1.0}


@dataclass(frozen=True)
class Block:
    name: str
    width: int
    weight: float


Layout = tuple[Block, ...]


def format_layout(blocks: Layout) -> str:
    return ",".join(f"{b.name}:{b.width}:{b.weight:g}" for b in blocks)


def parse_layout(text: str) -> Layout:
    out = []
    for part in str(text).split(","):
        fields = part.strip().split(":")
        if len(fields) != 3:
            raise InvalidInput(f"feature block layout {text!r}: each block is name:width:weight")
        out.append(Block(fields[0], int(fields[1]), float(fields[2])))
    return tuple(out)


def width_of(blocks: Layout) -> int:
    return sum(b.width for b in blocks)


def legacy_layout(feature_dim: int) -> Layout:
    """A workspace from before the blocks: its features are the semantic block alone."""
    return (Block(SEMANTIC, int(feature_dim), 1.0),) if feature_dim else ()


def stored_layout(get_meta: Any, feature_dim: int) -> Layout:
    """The layout a catalog records (``get_meta``: the catalog's method), legacy where none."""
    text = get_meta(META_KEY)
    return parse_layout(text) if text else legacy_layout(feature_dim)


def embedder_widths(embedder: Embedder) -> dict[str, int]:
    """Every block this embedder's ingest can compute, with its width ({} without features)."""
    if not embedder.feature_dim:
        return {}
    widths = {SEMANTIC: int(embedder.feature_dim), **WIDTHS}
    mid = int(getattr(embedder, "mid_dim", 0) or 0)
    if mid:
        widths["mid"] = mid
    return widths


def chosen_blocks() -> tuple[str, ...]:
    """The blocks a new workspace stores: ``PRODUCT_BLOCKS``, or the names in the environment
    variable ``VA_FEATURE_BLOCKS`` (comma-separated; the evaluation uses it to store every
    candidate block, e.g. ``semantic,motion,layout,colour,mid``)."""
    text = os.environ.get("VA_FEATURE_BLOCKS", "").strip()
    if not text:
        return PRODUCT_BLOCKS
    names = tuple(n.strip() for n in text.split(",") if n.strip())
    unknown = [n for n in names if n not in ORDER]
    if unknown or SEMANTIC not in names:
        raise InvalidInput(f"VA_FEATURE_BLOCKS={text!r}: name blocks among {', '.join(ORDER)}, semantic included")
    return names


def product_layout(embedder: Embedder, names: Sequence[str] | None = None) -> Layout:
    """The blocks ingest stores for this embedder (() where it gives no classifier features)."""
    names = chosen_blocks() if names is None else tuple(names)
    widths = embedder_widths(embedder)
    return tuple(Block(n, widths[n], WEIGHTS[n]) for n in ORDER if n in names and n in widths)


def scaled(name: str, values: npt.ArrayLike, weight: float) -> FloatArray:
    """A block's raw values as stored: semantic (unit rows) times the weight, the others
    times weight / sqrt(width)."""
    v = np.asarray(values, dtype=np.float32)
    if name == SEMANTIC:
        return (v * np.float32(weight)).astype(np.float32)
    return (v * np.float32(weight / math.sqrt(max(1, v.shape[-1])))).astype(np.float32)


def assemble(parts: Mapping[str, npt.ArrayLike], blocks: Layout) -> FloatArray:
    """(n, width) rows: each block of ``blocks`` from ``parts`` (raw, unscaled), scaled, side by side."""
    columns = []
    for b in blocks:
        if b.name not in parts:
            raise InvalidInput(f"feature block {b.name!r} was not computed")
        v = np.atleast_2d(np.asarray(parts[b.name], dtype=np.float32))
        if v.shape[1] != b.width:
            raise InvalidInput(f"feature block {b.name!r} is {v.shape[1]} wide, the layout says {b.width}")
        columns.append(scaled(b.name, v, b.weight))
    return np.hstack(columns).astype(np.float32)


def offsets(blocks: Layout) -> dict[str, tuple[int, int]]:
    out, start = {}, 0
    for b in blocks:
        out[b.name] = (start, start + b.width)
        start += b.width
    return out


def parse_selection(spec: str | Iterable[str]) -> list[tuple[str, float | None]]:
    """``semantic,motion:2,layout`` -> [(name, weight or None: the stored weight)]."""
    items = spec.split(",") if isinstance(spec, str) else list(spec)
    out: list[tuple[str, float | None]] = []
    for item in items:
        item = item.strip()
        if not item:
            continue
        name, _, weight = item.partition(":")
        try:
            out.append((name.strip(), float(weight) if weight else None))
        except ValueError:
            raise InvalidInput(f"feature block {item!r}: the weight after ':' must be a number") from None
    if not out:
        raise InvalidInput("name at least one feature block, e.g. semantic,motion,layout,colour")
    return out


def select(matrix: npt.ArrayLike, blocks: Layout, spec: str | Iterable[str]) -> tuple[FloatArray, Layout]:
    """The columns of the named blocks, reweighted where the spec gives a weight (stored rows
    carry their layout's weights: a new weight w multiplies the block by w / stored weight)."""
    m = np.asarray(matrix, dtype=np.float32)
    where = offsets(blocks)
    by_name = {b.name: b for b in blocks}
    picked, out = [], []
    for name, weight in parse_selection(spec):
        if name not in where:
            raise InvalidInput(
                f"no feature block {name!r} here; there are: {', '.join(b.name for b in blocks) or 'none'}"
            )
        stored = by_name[name]
        lo, hi = where[name]
        w = stored.weight if weight is None else weight
        factor = w / stored.weight if stored.weight else 0.0
        picked.append(m[:, lo:hi] * np.float32(factor))
        out.append(Block(name, stored.width, w))
    return np.hstack(picked).astype(np.float32), tuple(out)


def convert(features: npt.ArrayLike, given: Layout, wanted: Layout) -> FloatArray:
    """Rows in layout ``given`` as rows in layout ``wanted`` (a subset, possibly other weights).
    Raises ValueError naming the missing block where ``given`` lacks one ``wanted`` has."""
    have = {b.name: b for b in given}
    for b in wanted:
        if b.name not in have or have[b.name].width != b.width:
            got = f"{have[b.name].width} wide" if b.name in have else "missing"
            raise ValueError(f"feature block {b.name!r} ({b.width} wide) is {got} in what ingest computed")
    spec = [f"{b.name}:{b.weight!r}" for b in wanted]
    return select(features, given, spec)[0]


def clip_parts(
    semantic: npt.ArrayLike,
    images: Sequence[npt.NDArray[np.uint8]],
    energy: npt.ArrayLike | None,
    mid: npt.ArrayLike | None,
    motion_rows: npt.NDArray[np.float32],
    fps: float,
    clip_seconds: float,
    shot_seconds: float,
    names: Iterable[str] = ORDER,
) -> dict[str, FloatArray]:
    """The raw blocks of one clip (``semantic``: its classifier features, already mapped)."""
    names = set(names)
    parts: dict[str, FloatArray] = {SEMANTIC: np.asarray(semantic, dtype=np.float32)}
    if "motion" in names:
        parts["motion"] = motion.motion_block(motion_rows, fps, clip_seconds, shot_seconds)
    if "layout" in names:
        parts["layout"] = layout.layout_block(images, None if energy is None else np.asarray(energy, np.float32))
    if "colour" in names:
        parts["colour"] = colour.colour_block(images)
    if "mid" in names and mid is not None:
        parts["mid"] = _unit(np.asarray(mid, dtype=np.float32))
    return parts


def _unit(v: FloatArray) -> FloatArray:
    """mid-level pooled features as a unit vector (times sqrt(width), so that the block's
    stored norm is its weight like the others' typical norm)."""
    n = float(np.linalg.norm(v))
    return (v / max(n, 1e-12) * math.sqrt(v.shape[-1])).astype(np.float32)


def upgrade_hint(have: Layout, could: Layout) -> str | None:
    """One line for a workspace that stores fewer blocks than ingest computes, else None."""
    missing = [b.name for b in could if b.name not in {h.name for h in have}]
    if not missing or not have:
        return None
    return (
        f"this workspace stores the feature blocks {', '.join(b.name for b in have)} only; new videos are "
        f"stored the same way. To train on {', '.join(missing)} too, run `va reembed` (recomputes every clip's "
        "features from the video files, keeping annotations)"
    )
