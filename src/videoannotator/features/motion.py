"""Camera motion from the small detection frames the decode already makes.

``MotionTracker`` is fed every detection frame (160 px BGR, or grey) in order. Every
``stride`` frames it compares the frame with the one ``stride`` frames before by phase
correlation (``cv2.phaseCorrelate``, Hann-windowed): the whole frame gives the global
translation (pan / tilt), the four quadrants their own translations, whose divergence is the
zoom (content moving out from the centre: zooming in). It also keeps the mean absolute grey
difference. Each comparison is one ``MotionRow`` keyed by the later frame's index, rates per
frame; rows whose two frames lie in different shots are dropped by the caller (``rows_in``).

``motion_block`` turns the rows of one clip into fixed-scale numbers (tanh / log with fixed
constants, never statistics of the data, so every video gets the same scale):

====================  ==============================================================
speed                 mean |global shift|, frame widths per second
dx, dy                mean signed shift (right / down positive), frame widths per second
consistency           |mean shift| / mean |shift|: 1 for a steady pan, ~0 for shake
jitter                mean |shift - its running median|: the high-frequency part (shake)
zoom, zoom_abs        mean signed / absolute scale rate per second (+: zoom in)
diff                  mean absolute grey difference between compared frames (0-255)
response              mean phase-correlation peak: high when a translation explains it
static                share of comparisons with neither shift nor zoom
clip_s, shot_s        the clip's and its shot's length (log seconds)
====================  ==============================================================

Cost: five phase correlations (one 160x90, four 80x45) per ``stride`` frames, measured
0.36 ms of CPU; at 8 comparisons per second of video that is ~0.3% of a core (about 1 s per 6 minutes of video).
"""

from __future__ import annotations

import math
from collections import deque
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

FloatArray = npt.NDArray[np.float32]

#: comparisons per second of video (stride = round(fps / this), at least 1)
COMPARISONS_PER_SECOND = 8.0
#: columns of a row: index of the later frame, then per-frame rates
ROW_FIELDS = ("index", "dx", "dy", "zoom", "diff", "response")
NAMES = (
    "speed",
    "dx",
    "dy",
    "consistency",
    "jitter",
    "zoom",
    "zoom_abs",
    "diff",
    "response",
    "static",
    "clip_s",
    "shot_s",
)
WIDTH = len(NAMES)

# Fixed scales of the transforms (chosen so typical values land in tanh's linear range).
SPEED_SCALE = 0.3  # frame widths per second
SHIFT_SCALE = 0.2
JITTER_SCALE = 0.01  # frame widths per frame
ZOOM_SCALE = 0.15  # relative scale change per second
DIFF_SCALE = 20.0  # grey levels
STATIC_SHIFT = 0.002  # frame widths per frame: below this (and no zoom) a comparison is static
STATIC_ZOOM = 0.001  # relative scale per frame
LENGTH_SCALE = math.log1p(60.0)  # a minute-long clip or shot is 1


def stride_for(fps: float) -> int:
    return max(1, round((fps or 25.0) / COMPARISONS_PER_SECOND))


def _grey(frame: npt.NDArray[np.uint8]) -> FloatArray:
    import cv2

    grey = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY) if frame.ndim == 3 else frame
    return np.asarray(grey, dtype=np.float32)


@dataclass
class _Windows:
    full: FloatArray
    quad: FloatArray


class MotionTracker:
    """Push detection frames in order; ``rows`` holds one row per comparison (see ``ROW_FIELDS``)."""

    def __init__(self, fps: float, stride: int | None = None):
        self.fps = float(fps or 25.0)
        self.stride = int(stride or stride_for(self.fps))
        self._recent: deque[tuple[int, FloatArray]] = deque(maxlen=self.stride + 1)
        self._windows: _Windows | None = None
        self.rows: list[tuple[float, ...]] = []

    def push(self, index: int, frame: npt.NDArray[np.uint8]) -> None:
        if index % self.stride:
            return
        grey = _grey(frame)
        if self._recent and self._recent[-1][0] == index - self.stride:
            self.rows.append((float(index), *measure(self._recent[-1][1], grey, self.stride, self._window(grey))))
        self._recent.append((index, grey))

    def _window(self, grey: FloatArray) -> _Windows:
        import cv2

        h, w = grey.shape
        if self._windows is None or self._windows.full.shape != (h, w):
            self._windows = _Windows(
                np.asarray(cv2.createHanningWindow((w, h), cv2.CV_32F), dtype=np.float32),
                np.asarray(cv2.createHanningWindow((w // 2, h // 2), cv2.CV_32F), dtype=np.float32),
            )
        return self._windows

    def array(self) -> FloatArray:
        return np.asarray(self.rows, dtype=np.float32).reshape(-1, len(ROW_FIELDS))


def measure(a: FloatArray, b: FloatArray, stride: int, windows: _Windows) -> tuple[float, float, float, float, float]:
    """(dx, dy, zoom, diff, response) of frame b against frame a, ``stride`` frames earlier;
    shifts in frame widths per frame, zoom in relative scale per frame, diff in grey levels."""
    import cv2

    h, w = a.shape
    (dx, dy), response = cv2.phaseCorrelate(a, b, windows.full)
    hh, hw = h // 2, w // 2
    # Each quadrant's own shift, projected on the direction away from the centre, over its distance.
    radial = 0.0
    for qy in (0, 1):
        for qx in (0, 1):
            ys, xs = slice(qy * hh, qy * hh + hh), slice(qx * hw, qx * hw + hw)
            (qdx, qdy), _ = cv2.phaseCorrelate(
                np.ascontiguousarray(a[ys, xs]), np.ascontiguousarray(b[ys, xs]), windows.quad
            )
            ox, oy = (qx - 0.5) * hw, (qy - 0.5) * hh  # the quadrant centre relative to the frame centre
            radial += ((qdx - dx) * ox + (qdy - dy) * oy) / (ox * ox + oy * oy)
    diff = float(np.abs(b - a).mean())
    return dx / w / stride, dy / w / stride, radial / 4 / stride, diff, float(response)


def rows_in(rows: FloatArray, start: int, end: int, stride: int) -> FloatArray:
    """The rows whose two frames both lie in frames [start, end)."""
    if rows.size == 0:
        return rows
    index = rows[:, 0]
    return rows[(index - stride >= start) & (index < end)]


def motion_block(rows: FloatArray, fps: float, clip_seconds: float, shot_seconds: float) -> FloatArray:
    """The clip's motion numbers (``NAMES``), fixed transforms of ``rows`` (see the module doc)."""
    fps = float(fps or 25.0)
    out = np.zeros(WIDTH, dtype=np.float32)
    out[NAMES.index("clip_s")] = math.log1p(max(0.0, clip_seconds)) / LENGTH_SCALE
    out[NAMES.index("shot_s")] = math.log1p(max(0.0, shot_seconds)) / LENGTH_SCALE
    if rows.size == 0:  # a still, or a clip too short to compare two frames
        out[NAMES.index("consistency")] = 0.0
        out[NAMES.index("static")] = 1.0
        out[NAMES.index("response")] = 1.0
        return out
    dx, dy, zoom, diff, response = (rows[:, i].astype(np.float64) for i in range(1, 6))
    mag = np.hypot(dx, dy)
    mean_mag = float(mag.mean())
    mdx, mdy = float(dx.mean()), float(dy.mean())
    consistency = math.hypot(mdx, mdy) / mean_mag if mean_mag > 1e-9 else 0.0
    jitter = float(np.hypot(dx - _running_median(dx), dy - _running_median(dy)).mean())
    static = float(((mag < STATIC_SHIFT) & (np.abs(zoom) < STATIC_ZOOM)).mean())
    values = {
        "speed": math.tanh(mean_mag * fps / SPEED_SCALE),
        "dx": math.tanh(mdx * fps / SHIFT_SCALE),
        "dy": math.tanh(mdy * fps / SHIFT_SCALE),
        "consistency": consistency,
        "jitter": math.tanh(jitter / JITTER_SCALE),
        "zoom": math.tanh(float(zoom.mean()) * fps / ZOOM_SCALE),
        "zoom_abs": math.tanh(float(np.abs(zoom).mean()) * fps / ZOOM_SCALE),
        "diff": math.tanh(float(diff.mean()) / DIFF_SCALE),
        "response": float(response.mean()),
        "static": static,
    }
    for name, value in values.items():
        out[NAMES.index(name)] = value
    return out


def _running_median(x: npt.NDArray[np.float64], k: int = 5) -> npt.NDArray[np.float64]:
    """Median of each value's k neighbours (edges repeated): the smooth part of a shift series."""
    if x.size < 3:
        return np.full_like(x, np.median(x))
    half = k // 2
    padded = np.pad(x, half, mode="edge")
    windows = np.lib.stride_tricks.sliding_window_view(padded, k)
    return np.median(windows, axis=1)
