"""Colour and brightness of a clip's kept frames: day / night / golden hour, interiors, grading.

Computed on the RGB frames the embedder sees (320 px wide at ingest; any size works), made
small first (64 px wide) since only averages are kept. Every number has a fixed range, no
data-dependent scaling:

==============  ==========================================================
hue_cos/sin     saturation-weighted mean hue as a unit-circle point (times the mean saturation)
sat, sat_std    mean and spread of saturation (0-1)
value, val_std  mean and spread of brightness (HSV value, 0-1): contrast
dark, bright    share of pixels with value < 0.15 / > 0.85 (night, overexposed sky)
warm            share of saturated pixels whose hue is red-orange-yellow (golden hour)
hue_1..hue_6    saturation-weighted hue histogram, six 60-degree bins (sums to the mean saturation)
colourful       Hasler-Suesstrunk colourfulness / 100
==============  ==========================================================
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]

NAMES = (
    "hue_cos",
    "hue_sin",
    "sat",
    "sat_std",
    "value",
    "val_std",
    "dark",
    "bright",
    "warm",
    "hue_1",
    "hue_2",
    "hue_3",
    "hue_4",
    "hue_5",
    "hue_6",
    "colourful",
)
WIDTH = len(NAMES)
SMALL_WIDTH = 64


def _small(image: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    import cv2

    rgb: npt.NDArray[np.uint8] = np.asarray(image, dtype=np.uint8)
    if rgb.ndim == 2:
        rgb = np.repeat(rgb[:, :, None], 3, axis=2)
    rgb = np.ascontiguousarray(rgb[:, :, :3])
    h, w = rgb.shape[:2]
    if w > SMALL_WIDTH:
        size = (SMALL_WIDTH, max(1, round(h * SMALL_WIDTH / w)))
        rgb = np.asarray(cv2.resize(rgb, size, interpolation=cv2.INTER_AREA), dtype=np.uint8)
    return rgb


def colour_block(images: Sequence[npt.NDArray[np.uint8]]) -> FloatArray:
    """The colour numbers (``NAMES``) of RGB uint8 frames, averaged over the frames."""
    if not len(images):
        return np.zeros(WIDTH, dtype=np.float32)
    return np.mean([_one(img) for img in images], axis=0).astype(np.float32)


def _one(image: npt.NDArray[np.uint8]) -> FloatArray:
    import cv2

    rgb = _small(image)
    hsv = cv2.cvtColor(rgb, cv2.COLOR_RGB2HSV_FULL).reshape(-1, 3).astype(np.float64)
    hue = hsv[:, 0] / 256.0 * 2 * np.pi  # HSV_FULL: hue 0-255 over the whole circle
    sat, val = hsv[:, 1] / 255.0, hsv[:, 2] / 255.0
    mean_sat = float(sat.mean())
    bins = np.minimum((hsv[:, 0] / 256.0 * 6).astype(int), 5)
    hist = np.bincount(bins, weights=sat, minlength=6) / sat.size
    hue_deg = hsv[:, 0] / 256.0 * 360.0
    saturated = sat > 0.25
    warm = float((saturated & ((hue_deg < 60) | (hue_deg >= 345))).mean())
    r, g, b = (rgb.reshape(-1, 3)[:, i].astype(np.float64) for i in range(3))
    rg, yb = r - g, 0.5 * (r + g) - b
    colourful = (np.hypot(rg.std(), yb.std()) + 0.3 * np.hypot(rg.mean(), yb.mean())) / 100.0
    out = [
        float((sat * np.cos(hue)).mean()),
        float((sat * np.sin(hue)).mean()),
        mean_sat,
        float(sat.std()),
        float(val.mean()),
        float(val.std()),
        float((val < 0.15).mean()),
        float((val > 0.85).mean()),
        warm,
        *(float(h) for h in hist),
        float(colourful),
    ]
    return np.asarray(out, dtype=np.float32)
