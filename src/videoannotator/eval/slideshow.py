"""Slideshow videos from labelled images: known cuts, a known label per shot, camera motion.

Each image becomes one shot of 1-2.5 s with a slow zoom or pan over it (or none), and
shots are joined by hard cuts at known frames. Ingesting the videos and reading the
truth file back (``datasets.load_workspace``) runs the whole path - decode, shot
detection, frame sampling, embedding, the loop, AP - and ``eval.cuts.score_cuts`` measures shot
detection against the known cuts.

The truth file (``truth.json``) is a workspace-suite labels file::

    {"labels": {NAME: {"description", "keywords"}},
     "shots": [{"video", "start", "end", "start_frame", "end_frame", "image", "labels"}],
     "cuts": {VIDEO: [frame, ...]}, "fps": FPS}
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Iterator, Sequence
from fractions import Fraction
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ..errors import InvalidInput

Image8 = npt.NDArray[np.uint8]  # grey (H, W) or RGB (H, W, 3)

MOTIONS = ("static", "zoom-in", "zoom-out", "pan-left", "pan-right")


def _frames_of_shot(
    image: npt.ArrayLike, n_frames: int, size: tuple[int, int], motion: str, background: int
) -> list[Image8]:
    """The frames of one shot: the image centred on a canvas, seen through a moving window."""
    from PIL import Image

    width, height = size
    # Work at 1.5x the output size so zooms and pans resample real detail.
    cw, ch = int(width * 1.5), int(height * 1.5)
    side = int(ch * 0.9)
    grey = (
        Image.fromarray(np.asarray(image, dtype=np.uint8)).convert("RGB").resize((side, side), Image.Resampling.BICUBIC)
    )
    canvas = Image.new("RGB", (cw, ch), (background,) * 3)
    canvas.paste(grey, ((cw - side) // 2, (ch - side) // 2))
    frames: list[Image8] = []
    for i in range(n_frames):
        t = i / max(1, n_frames - 1)
        scale = {"zoom-in": 1.0 - 0.25 * t, "zoom-out": 0.75 + 0.25 * t}.get(motion, 0.85)
        bw, bh = cw * scale, ch * scale
        shift = {"pan-left": (0.5 - t) * 0.15, "pan-right": (t - 0.5) * 0.15}.get(motion, 0.0) * cw
        x0 = (cw - bw) / 2 + shift
        y0 = (ch - bh) / 2
        box = (x0, y0, x0 + bw, y0 + bh)
        frames.append(np.asarray(canvas.resize((width, height), Image.Resampling.BILINEAR, box=box)))
    return frames


def write_video(path: Path, frames: Iterable[Image8], fps: int) -> int:
    """Encode RGB frames to an H.264 MP4 with PyAV; returns the frame count."""
    import av

    count = 0
    with av.open(str(path), "w") as container:
        stream = None
        for count, rgb in enumerate(frames, start=1):
            if stream is None:
                stream = container.add_stream("libx264", rate=fps)
                stream.height, stream.width = rgb.shape[:2]
                stream.pix_fmt = "yuv420p"
                stream.codec_context.time_base = Fraction(1, fps)
                stream.options = {"preset": "ultrafast", "crf": "18"}
                stream.codec_context.thread_count = 1
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
            frame.pts = count - 1
            frame.time_base = Fraction(1, fps)
            for packet in stream.encode(frame):
                container.mux(packet)
        if stream is None:
            raise InvalidInput("a slideshow needs at least one image")
        for packet in stream.encode():
            container.mux(packet)
    return count


def make_slideshow(
    path: str | os.PathLike[str],
    images: Sequence[npt.ArrayLike],
    labels: Sequence[Iterable[str]],
    *,
    fps: int = 25,
    size: tuple[int, int] = (320, 240),
    shot_seconds: tuple[float, float] = (1.0, 2.5),
    background: int = 255,
    seed: int = 0,
    keys: Sequence[object] | None = None,
) -> dict[str, Any]:
    """Write one video, one shot per image; returns its truth (cuts, shots with labels).

    ``labels[i]``: the label names image i shows. ``keys[i]``: what to record as the image.
    """
    path = Path(path)
    if len(images) != len(labels):
        raise InvalidInput("make_slideshow needs one label list per image")
    if size[0] % 2 or size[1] % 2:
        raise InvalidInput(f"video size must be even, got {size}")
    rng = np.random.default_rng(seed)
    lengths = [round(rng.uniform(*shot_seconds) * fps) for _ in images]
    motions = [MOTIONS[int(rng.integers(len(MOTIONS)))] for _ in images]

    def frames() -> Iterator[Image8]:
        for image, n, motion in zip(images, lengths, motions):
            yield from _frames_of_shot(image, n, size, motion, background)

    total = write_video(path, frames(), fps)
    starts = np.concatenate([[0], np.cumsum(lengths)[:-1]]).astype(int)
    shots: list[dict[str, Any]] = []
    for i, (start, n) in enumerate(zip(starts, lengths)):
        shots.append(
            {
                "video": path.name,
                "start_frame": int(start),
                "end_frame": int(start + n),
                "start": round(start / fps, 4),
                "end": round((start + n) / fps, 4),
                "image": keys[i] if keys is not None else i,
                "motion": motions[i],
                "labels": sorted(labels[i]),
            }
        )
    return {"video": path.name, "frames": total, "fps": fps, "cuts": [int(s) for s in starts[1:]], "shots": shots}


def make_fashion_slideshows(
    folder: str | os.PathLike[str],
    n_videos: int = 4,
    shots_per_video: int = 100,
    seed: int = 0,
    images_dir: str | os.PathLike[str] | None = None,
    fps: int = 25,
) -> Path:
    """Slideshows of Fashion-MNIST images (the suite's non-rare concepts); returns truth.json."""
    from . import fashion

    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    images, classes = fashion.load_images(images_dir or fashion.DEFAULT_DIR)
    specs = [s for s in fashion.CONCEPTS if s.rare_rate is None]
    # Images the Fashion-MNIST suite's default sample does not use: the two suites stay apart.
    order = fashion.sample_order(len(images))[::-1]
    picked = order[: n_videos * shots_per_video]
    truth: dict[str, Any] = {
        "labels": {s.name: {"description": s.description, "keywords": list(s.keywords)} for s in specs},
        "shots": [],
        "cuts": {},
        "fps": fps,
        "source": "fashion-mnist",
    }
    for v in range(n_videos):
        rows = picked[v * shots_per_video : (v + 1) * shots_per_video]
        labels = [[s.name for s in specs if classes[r] in s.classes] for r in rows]
        shown = fashion.render(images[rows])
        info = make_slideshow(
            folder / f"slideshow-{v:02d}.mp4", shown, labels, fps=fps, seed=seed * 1000 + v, keys=[int(r) for r in rows]
        )
        truth["shots"] += info["shots"]
        truth["cuts"][info["video"]] = info["cuts"]
    out = folder / "truth.json"
    out.write_text(json.dumps(truth, indent=1))
    return out
