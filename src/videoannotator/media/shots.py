"""Shot-boundary detectors: fed one small frame at a time, they report cuts as they find them.

Streaming (rather than "give me a file, get a scene list") is what lets ingest decode each
video once: the frames of a shot can be embedded as soon as its closing cut is known.
"""

from __future__ import annotations

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

    def __init__(self, fps: float, threshold: float = 0.0, min_shot_frames: int = 15):
        from scenedetect.detectors import AdaptiveDetector

        super().__init__(AdaptiveDetector(min_scene_len=int(min_shot_frames)), fps)


DETECTORS = {cls.name: cls for cls in (ContentShotDetector, ContentEdgesShotDetector, AdaptiveShotDetector)}


def make_detector(name: str, fps: float, threshold: float, min_shot_frames: int) -> ShotDetector:
    try:
        cls = DETECTORS[name]
    except KeyError:
        raise InvalidInput(f"unknown shot detector {name!r}; choose one of: {', '.join(DETECTORS)}") from None
    return cls(fps=fps, threshold=threshold, min_shot_frames=min_shot_frames)
