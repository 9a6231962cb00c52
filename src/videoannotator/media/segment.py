"""Decode a video once and cut it into clips: shot detection on small frames, a few larger
frames kept per open shot, each clip handed out as soon as its shot is closed."""

from __future__ import annotations

import os
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import cast

import av
import numpy as np
import numpy.typing as npt
from av.container import InputContainer
from av.video.reformatter import Interpolation, VideoReformatter
from av.video.stream import VideoStream

from ..errors import MediaError
from ..features.motion import ROW_FIELDS, MotionTracker, rows_in
from .clips import nearest_available, sample_positions, split_shot
from .preview import preview_size
from .probe import (
    IMAGE_CODECS,
    VideoInfo,
    decode_reduced,
    image_kind,
    info_from,
    megapixels,
    open_container,
    video_stream,
)
from .shots import make_detector

Uint8Image = npt.NDArray[np.uint8]  # (H, W, 3), RGB or BGR

CANDIDATES_PER_SECOND = 4  # frames kept per second of an open shot, to choose samples from
KEEP_MIDDLE = 0.75  # the middle sample stays the thumbnail unless another has 1/0.75 its detail
FAST = Interpolation.FAST_BILINEAR  # detection frames only: ~10% faster decoding, same cuts


@dataclass
class SegmentOptions:
    frames_per_clip: int = 3
    min_shot_seconds: float = 0.5
    max_clip_seconds: float = 10.0
    shot_threshold: float = 0.0  # 0: the detector's own default
    detect_width: int = 160
    keep_width: int = 320  # width of kept frames (thumbnails; the embedder resizes again)
    detector: str = "auto"
    max_pixels: int = 8192 * 8192  # the pixel budget (VA_MAX_PIXELS): larger pictures are refused
    device: str | None = None  # where a network detector runs (transnetv2, auto); None: VA_DEVICE


@dataclass
class Clip:
    start_frame: int
    end_frame: int  # exclusive
    start: float  # seconds
    end: float
    sample_frames: list[int]
    images: list[Uint8Image]  # RGB uint8, one per sample frame
    thumb_index: int  # which of images is the thumbnail
    # Camera motion inside the clip: features/motion.py rows (index, dx, dy, zoom, diff, response)
    motion: npt.NDArray[np.float32] = field(default_factory=lambda: np.zeros((0, len(ROW_FIELDS)), np.float32))
    motion_stride: int = 1
    shot_seconds: float = 0.0  # length of the shot the clip was cut from
    fps: float = 0.0


@dataclass
class SegmentStats:
    frames: int = 0
    decode_s: float = 0.0
    detect_s: float = 0.0
    motion_s: float = 0.0  # of detect_s: the motion estimate (features/motion.py)
    cuts: list[int] = field(default_factory=list)
    decoded_size: tuple[int, int] = (0, 0)  # of the decoded frames: smaller than the stream's when reduced


def detail(image: Uint8Image) -> float:
    """How much a frame shows: the mean absolute luma step between neighbouring pixels (edge
    energy). Black, flat and washed-out frames (a fade's) score near 0."""
    luma = image[..., :3].astype(np.float32) @ np.array([0.299, 0.587, 0.114], np.float32)
    if min(luma.shape) < 2:
        return 0.0
    return float(np.abs(np.diff(luma, axis=0)).mean() + np.abs(np.diff(luma, axis=1)).mean())


def most_detailed(images: list[Uint8Image]) -> int:
    """The thumbnail among a clip's sampled frames: the most detailed one (a frame taken in a
    fade from black is black), the middle one on a tie."""
    if not images:
        return 0
    middle = len(images) // 2
    scores = [detail(image) for image in images]
    best = max(range(len(images)), key=lambda i: (scores[i], -abs(i - middle)))
    # The middle frame stands for the clip best; another only when clearly more detailed.
    return middle if scores[middle] >= KEEP_MIDDLE * scores[best] else best


def _even(x: int) -> int:
    return max(2, x - x % 2)


def segment(
    path: str | os.PathLike[str], options: SegmentOptions, stats: SegmentStats | None = None
) -> tuple[VideoInfo, Iterator[Clip]]:
    """Open ``path`` and return its info plus a generator of clips (decoding happens lazily)."""
    container = open_container(path)
    try:
        stream = video_stream(container, path)
        info = info_from(container, stream, __import__("pathlib").Path(path))
        if info.width <= 0 or info.height <= 0:
            raise MediaError(f"{path}: video stream has no picture size; the file is corrupt")
        if info.width * info.height > options.max_pixels:
            raise MediaError(
                f"{path}: the picture is {info.width}x{info.height} ({megapixels(info.width, info.height)}), over the "
                f"pixel budget of {options.max_pixels:,} (VA_MAX_PIXELS); raise VA_MAX_PIXELS to at least "
                f"{info.width * info.height} to ingest it, or scale the video down first (e.g. ffmpeg -vf scale=3840:-2)"
            )
    except Exception:
        container.close()
        raise
    return info, _clips(container, stream, info, options, stats if stats is not None else SegmentStats())


def _clips(
    container: InputContainer, stream: VideoStream, info: VideoInfo, opt: SegmentOptions, stats: SegmentStats
) -> Iterator[Clip]:
    fps = info.fps
    dw = _even(min(opt.detect_width, info.width))
    dh = _even(round(info.height * dw / info.width))
    # Kept frames (thumbnails, embedder input) keep the displayed shape, pixel aspect included.
    kw, kh = preview_size(info.width, info.height, stream.sample_aspect_ratio, min(opt.keep_width, info.width))
    detector = make_detector(
        opt.detector, fps, opt.shot_threshold, max(1, round(opt.min_shot_seconds * fps)), device=opt.device
    )
    stride = max(1, round(fps / CANDIDATES_PER_SECOND))
    decode_reduced(stream, needed_width=max(kw, dw))
    tracker = MotionTracker(fps)

    times: list[float] = []
    kept: dict[int, Uint8Image] = {}  # frame index -> RGB, for the open shot only
    shot_start = 0
    # One reformatter per output size: PyAV then reuses its scaler instead of building one
    # per frame (measured 3x faster decoding on freecol).
    to_small, to_kept = VideoReformatter(), VideoReformatter()

    def close_shot(end: int) -> Iterator[Clip]:
        nonlocal shot_start
        rows = tracker.array()
        shot_end_time = times[end] if end < len(times) else times[-1] + 1.0 / fps
        shot_seconds = shot_end_time - times[shot_start]
        for cs, ce in split_shot(shot_start, end, fps, opt.max_clip_seconds):
            available = sorted(i for i in kept if cs <= i < ce)
            if not available:
                continue
            picks = nearest_available(sample_positions(cs, ce, opt.frames_per_clip), available)
            end_time = times[ce] if ce < len(times) else times[-1] + 1.0 / fps
            yield Clip(
                cs,
                ce,
                times[cs],
                end_time,
                picks,
                [kept[i] for i in picks],
                most_detailed([kept[i] for i in picks]),
                motion=rows_in(rows, cs, ce, tracker.stride),
                motion_stride=tracker.stride,
                shot_seconds=shot_seconds,
                fps=fps,
            )
        for i in [i for i in kept if i < end]:
            del kept[i]
        tracker.rows = [r for r in tracker.rows if r[0] >= end]
        shot_start = end

    index = 0
    t0 = time.perf_counter()
    try:
        for frame in container.decode(stream):
            if index == 0:
                stats.decoded_size = (frame.width, frame.height)
            times.append(float(frame.time) if frame.time is not None else index / fps)
            # bgr24 and rgb24 frames come out as uint8 arrays (PyAV types the union over all formats).
            small = cast(
                Uint8Image,
                to_small.reformat(frame, width=dw, height=dh, format="bgr24", interpolation=FAST).to_ndarray(),
            )
            if index % stride == 0:
                kept[index] = cast(
                    Uint8Image, to_kept.reformat(frame, width=kw, height=kh, format="rgb24").to_ndarray()
                )
            t1 = time.perf_counter()
            stats.decode_s += t1 - t0
            cuts = detector.push(index, small)
            t2 = time.perf_counter()
            tracker.push(index, small)
            t3 = time.perf_counter()
            stats.detect_s += t3 - t1
            stats.motion_s += t3 - t2
            index += 1
            for cut in cuts:
                if cut > shot_start:
                    stats.cuts.append(cut)
                    yield from close_shot(cut)
            t0 = time.perf_counter()
    except av.error.FFmpegError as exc:
        raise MediaError(
            f"{info.path}: decoding failed after {index} frames ({index / fps:.1f} s): {exc.strerror or exc}; "
            "the file is corrupt or truncated"
        ) from None
    finally:
        container.close()
    stats.frames = index
    if index == 0:
        raise MediaError(f"{info.path}: no frame could be decoded; the file is corrupt or truncated")
    if index == 1 and info.codec in IMAGE_CODECS:
        raise MediaError(
            f"{info.path}: is a still image ({image_kind(info.codec)}, one frame), not a video; "
            "only video files can be ingested"
        )
    if info.duration > 2.0 and times[-1] < 0.8 * info.duration - 1.0:
        raise MediaError(
            f"{info.path}: truncated: decoded {times[-1]:.1f} s of the {info.duration:.1f} s the file declares"
        )
    for cut in detector.finish():
        if cut > shot_start:
            stats.cuts.append(cut)
            yield from close_shot(cut)
    yield from close_shot(index)
