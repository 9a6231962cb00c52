"""Recompute every clip vector with another embedder, keeping clips, ids and annotations.

Frames are taken again at each clip's recorded sample positions (one decode per video); where
the classifier features have a motion block, the same decode feeds every frame at the
detection width through the motion tracker and the shot detector, as ingest does, so a
workspace from before the feature blocks gets them all (features/blocks.py). The
new matrices are written as the workspace's next *generation* beside the current one, under
the write lock for the whole run (an ingest started meanwhile waits to commit). The catalog's
meta commit is the switch: a crash before it opens the old generation as if nothing happened,
a crash after it the new one; the files of the other generation are removed afterwards.
"""

from __future__ import annotations

import bisect
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np
from av.video.reformatter import VideoReformatter

from ..embed.base import Embedder, l2_normalise
from ..errors import MediaError
from ..features import blocks as feature_blocks
from ..features.motion import MotionTracker, rows_in
from ..media.probe import open_container, video_stream
from ..media.segment import FAST

if TYPE_CHECKING:
    from ..config import Settings

if TYPE_CHECKING:
    from ..workspace import Workspace


def frames_at(path: str, indices: set[int], width: int) -> dict[int, np.ndarray]:
    return decode_for_features(path, indices, width).frames


@dataclass
class Decoded:
    """What one decode of a video gives reembed: the RGB frames at the wanted indices, and
    (when asked) the camera-motion rows and shot cuts computed as ingest computes them."""

    frames: dict[int, np.ndarray]
    motion: np.ndarray
    stride: int = 1
    cuts: list[int] = field(default_factory=list)
    fps: float = 0.0
    frame_count: int = 0


def decode_for_features(path: str, indices: set[int], width: int, settings: Settings | None = None) -> Decoded:
    """Decode ``path`` once: frames ``indices`` at ``width``; with ``settings``, also every
    frame at the detection width through the motion tracker and the shot detector (the
    motion feature block needs every detection frame of a clip, and its shot's length)."""
    out: dict[int, np.ndarray] = {}
    last = max(indices) if indices else -1
    scaler, small = VideoReformatter(), VideoReformatter()
    tracker: MotionTracker | None = None
    detector = None
    cuts: list[int] = []
    fps = 0.0
    index = -1
    with open_container(path) as container:
        stream = video_stream(container, path)
        stream.thread_type = "AUTO"
        fps = float(stream.average_rate or stream.guessed_rate or 25.0)
        if settings is not None:
            from ..media.shots import make_detector

            tracker = MotionTracker(fps)
            detector = make_detector(
                settings.shot_detector,
                fps,
                settings.shot_threshold,
                max(1, round(settings.min_shot_seconds * fps)),
                device=settings.device,
            )
        for index, frame in enumerate(container.decode(stream)):
            if index in indices:
                h = max(2, round(frame.height * width / frame.width) // 2 * 2)
                out[index] = scaler.reformat(frame, width=width, height=h, format="rgb24").to_ndarray()
            if tracker is not None and detector is not None:
                dw = max(2, min(settings.detect_width if settings else 160, frame.width) // 2 * 2)
                dh = max(2, round(frame.height * dw / frame.width) // 2 * 2)
                bgr = np.asarray(
                    small.reformat(frame, width=dw, height=dh, format="bgr24", interpolation=FAST).to_ndarray(),
                    dtype=np.uint8,
                )
                cuts += detector.push(index, bgr)
                tracker.push(index, bgr)
            elif index >= last:
                break
    if detector is not None:
        cuts += detector.finish()
    return Decoded(
        out,
        tracker.array() if tracker is not None else np.zeros((0, 6), np.float32),
        tracker.stride if tracker is not None else 1,
        sorted(set(cuts)),
        fps,
        index + 1,
    )


def shot_seconds(cuts: list[int], start_frame: int, frame_count: int, fps: float) -> float:
    """Length of the shot (between the cuts around ``start_frame``) in seconds."""
    i = bisect.bisect_right(cuts, start_frame)
    begin = cuts[i - 1] if i > 0 else 0
    end = cuts[i] if i < len(cuts) else frame_count
    return max(0, end - begin) / (fps or 25.0)


def reembed(ws: Workspace, embedder: Embedder, progress: bool = True) -> dict[str, Any]:
    with ws.write_lock():
        result = _reembed_locked(ws, embedder, progress)
    ws.reopen(embedder)
    return result


def _reembed_locked(ws: Workspace, embedder: Embedder, progress: bool) -> dict[str, Any]:
    from ..progress import progress_bar

    n = ws.clip_count()
    generation = ws.generation + 1
    layout = feature_blocks.product_layout(embedder)
    fdim = feature_blocks.width_of(layout)
    names = [b.name for b in layout]
    need_video = any(name in names for name in ("motion",))
    vpath, fpath = ws.matrix_path("vectors", generation), ws.matrix_path("features", generation)
    written = [vpath] + ([fpath] if fdim else [])
    try:
        out = np.memmap(vpath, mode="w+", dtype=np.float32, shape=(max(n, 1), embedder.dim))
        fout = np.memmap(fpath, mode="w+", dtype=np.float32, shape=(max(n, 1), fdim)) if fdim else None
        for video in progress_bar(ws.videos(), desc="reembed", unit="video", disable=not progress):
            clips = ws.catalog.videos.sample_frames(video["id"])
            spans = {int(c["id"]): c for c in ws.catalog.videos.clips_of(video["id"])}
            wanted = {f for _, frames in clips for f in frames}
            try:
                decoded = decode_for_features(
                    video["path"], wanted, ws.settings.thumb_width, ws.settings if need_video else None
                )
            except MediaError as exc:
                raise MediaError(f"reembed needs the original video files: {exc.message}") from None
            fps = float(video.get("fps") or decoded.fps or 25.0)
            for clip_id, sample in clips:
                picks = [decoded.frames[f] for f in sample if f in decoded.frames]
                if not picks:
                    raise MediaError(f"{video['path']}: changed since ingest (frames missing); re-ingest it")
                vectors, raw = embedder.encode_images_with_blocks(picks)
                out[clip_id] = l2_normalise(vectors.mean(axis=0, keepdims=True))[0]
                if fout is not None and "semantic" in raw:
                    span = spans[clip_id]
                    pooled = {k: v.mean(axis=0) for k, v in raw.items()}
                    parts = feature_blocks.clip_parts(
                        embedder.classifier_features(pooled["semantic"][None, :])[0],
                        picks,
                        pooled.get("energy"),
                        pooled.get("mid"),
                        rows_in(decoded.motion, span["start_frame"], span["end_frame"], decoded.stride),
                        fps,
                        float(span["end_s"]) - float(span["start_s"]),
                        shot_seconds(decoded.cuts, span["start_frame"], decoded.frame_count, fps),
                        names,
                    )
                    fout[clip_id] = feature_blocks.assemble(parts, layout)[0]
        _finish(out, vpath, n * embedder.dim * 4)
        del out
        if fout is not None:
            _finish(fout, fpath, n * fdim * 4)
            del fout
        ws.catalog.videos.switch_embedder(
            embedder.name,
            {  # the switch
                "embedder": embedder.name,
                "dim": embedder.dim,
                "feature_dim": fdim,
                "feature_blocks": feature_blocks.format_layout(layout),
                "generation": generation,
            },
        )
    except BaseException:
        if ws.generation != generation:  # the switch did not happen: the new files are litter
            for path in written:
                path.unlink(missing_ok=True)
        raise
    ws.matrices.remove_other_generations(ws.home / "models")
    return {
        "clips": n,
        "embedder": embedder.name,
        "dim": embedder.dim,
        "feature_dim": fdim,
        "feature_blocks": feature_blocks.format_layout(layout),
        "generation": generation,
    }


def _finish(mm: np.memmap, path: Path, size: int) -> None:
    mm.flush()
    with open(path, "r+b") as fh:
        fh.truncate(size)
        os.fsync(fh.fileno())
