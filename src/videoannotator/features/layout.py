"""Where the content of a frame is, and how big: a coarse grid, for shot scale.

Two grids of ``GRID`` x ``GRID`` cells, each given as shares that sum to 1 plus one overall
level, averaged over a clip's kept frames:

- **edges**: mean gradient magnitude (Sobel) per cell of the grey frame made 128 px wide.
  A close-up has few strong edges spread wide; a wide shot many small ones, or a small
  detailed subject in a plain surround.
- **energy**: the image network's final feature map (before pooling) averaged over its
  channels, pooled to the grid (``EfficientNetLite0.forward_extras``): where the network
  sees something. A subject filling the frame spreads it; a small one concentrates it.

Fixed transforms only: shares are shares, levels are ``log1p`` with a fixed divisor.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]

GRID = 4
CELLS = GRID * GRID
WIDTH = 2 * (CELLS + 1)
EDGE_WIDTH_PX = 128
EDGE_LEVEL_SCALE = float(np.log1p(255.0))  # a mean Sobel magnitude of 255 grey levels is 1
ENERGY_LEVEL_SCALE = float(np.log1p(6.0))  # ReLU6 activations: 6 at most
NAMES = (
    *(f"edge_{r}{c}" for r in range(GRID) for c in range(GRID)),
    "edge_level",
    *(f"energy_{r}{c}" for r in range(GRID) for c in range(GRID)),
    "energy_level",
)


def edge_grid(image: npt.NDArray[np.uint8]) -> FloatArray:
    """(CELLS,) mean Sobel magnitude per cell of an RGB (or grey) uint8 image."""
    import cv2

    image = np.asarray(image)
    grey = cv2.cvtColor(np.ascontiguousarray(image[:, :, :3]), cv2.COLOR_RGB2GRAY) if image.ndim == 3 else image
    h, w = grey.shape
    if w != EDGE_WIDTH_PX:
        size = (EDGE_WIDTH_PX, max(GRID, round(h * EDGE_WIDTH_PX / w)))
        grey = cv2.resize(grey, size, interpolation=cv2.INTER_AREA if w > EDGE_WIDTH_PX else cv2.INTER_LINEAR)
    g = grey.astype(np.float32)
    mag = cv2.magnitude(cv2.Sobel(g, cv2.CV_32F, 1, 0, ksize=3), cv2.Sobel(g, cv2.CV_32F, 0, 1, ksize=3))
    return np.asarray(cv2.resize(mag, (GRID, GRID), interpolation=cv2.INTER_AREA), dtype=np.float32).reshape(-1)


def _shares_and_level(grid: FloatArray, scale: float) -> FloatArray:
    total = float(grid.sum())
    shares = grid / total if total > 1e-9 else np.full(grid.shape, 1.0 / grid.size, dtype=np.float32)
    return np.concatenate([shares, [np.log1p(total / grid.size) / scale]]).astype(np.float32)


def layout_block(images: Sequence[npt.NDArray[np.uint8]], energy: FloatArray | None) -> FloatArray:
    """The layout numbers (``NAMES``) of a clip: its frames' edge grid and the mean of their
    network energy grids (``energy``: (CELLS,), None where the embedder has none: zeros)."""
    edges = np.mean([edge_grid(img) for img in images], axis=0) if len(images) else np.zeros(CELLS, np.float32)
    out = [_shares_and_level(np.asarray(edges, dtype=np.float32), EDGE_LEVEL_SCALE)]
    if energy is None:
        out.append(np.zeros(CELLS + 1, dtype=np.float32))
    else:
        out.append(_shares_and_level(np.asarray(energy, dtype=np.float32).reshape(-1), ENERGY_LEVEL_SCALE))
    return np.concatenate(out).astype(np.float32)
