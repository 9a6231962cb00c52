"""The worker's half of ingest: one video → shots → clips → vectors, with no workspace write.

``embed_video`` decodes and cuts the video in a background thread while this thread embeds
the clips already cut (PyAV, OpenCV and torch all release the GIL), so on two cores the two
halves overlap. It returns an ``EmbeddedVideo`` for the one writer to commit
(``pipeline.commit``) — the seam an engine distributes (engines/).

An engine that runs the halves apart (a pool of decode processes; Ray's decode tasks and
embedding actors) uses ``VideoTask``: ``decode`` → ``DecodedVideo`` → ``embed``, the same
batches, pooling and features.
"""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from ..catalog.base import ClipRecord, VideoRecord
from ..config import Settings
from ..embed.base import Embedder, l2_normalise
from ..errors import MediaError
from ..features import blocks as feature_blocks
from ..media.probe import VideoInfo
from ..media.segment import Clip, SegmentOptions, SegmentStats, segment


@dataclass
class EmbeddedVideo:
    """What a worker hands the writer: the video, its clips, their vectors (and classifier
    features), one thumbnail image per clip, and where the time went."""

    path: Path
    video: VideoRecord
    clips: list[ClipRecord]
    vectors: npt.NDArray[np.float32]
    features: npt.NDArray[np.float32] | None
    thumbnails: list[npt.NDArray[np.uint8]]
    duration: float
    stages: dict[str, float] = field(default_factory=dict)
    frames: int = 0
    #: the layout of ``features`` (features/blocks.py ``format_layout``); None: no features
    feature_blocks: str | None = None


def segment_options(settings: Settings) -> SegmentOptions:
    return SegmentOptions(
        frames_per_clip=settings.frames_per_clip,
        min_shot_seconds=settings.min_shot_seconds,
        max_clip_seconds=settings.max_clip_seconds,
        shot_threshold=settings.shot_threshold,
        detector=settings.shot_detector,
        detect_width=settings.detect_width,
        keep_width=settings.thumb_width,
        max_pixels=settings.max_pixels,
        device=settings.device,
    )


def embed_video(
    path: Path, digest: str, settings: Settings, embedder: Embedder, progress: bool = True
) -> EmbeddedVideo:
    """Decode, cut and embed one video (``digest``: its content hash, computed by the caller);
    decoding runs in a thread beside the embedding."""
    from ..progress import progress_bar

    stats = SegmentStats()
    info, clip_iter = segment(path, segment_options(settings), stats)
    frames_bar = progress_bar(
        total=info.frame_count or None,
        desc=f"  {bar_label(path.name)[:30]}",
        unit="frame",
        leave=False,
        disable=not progress,
    )

    def on_batch(batch: list[Any], clips: int) -> None:
        frames_bar.n = batch[-1].end_frame
        frames_bar.set_postfix(clips=clips)
        frames_bar.refresh()

    try:
        return _embed(
            path, digest, info, stats, _batches_in_background(clip_iter, settings.batch_size), embedder, on_batch
        )
    finally:
        frames_bar.close()


@dataclass
class DecodedVideo:
    """The decode half's result, for another process or machine to embed: the video's clips
    with their kept frames (``decode_video``)."""

    path: Path
    digest: str
    info: VideoInfo
    clips: list[Clip]
    stats: SegmentStats


def decode_video(path: Path, digest: str, settings: Settings) -> DecodedVideo:
    """Decode and cut one whole video (no embedding): the half a decode process or a Ray task runs."""
    stats = SegmentStats()
    info, clip_iter = segment(path, segment_options(settings), stats)
    clips = list(clip_iter)
    if not clips:
        raise MediaError(f"{path}: no clip could be cut from the video; is it empty?")
    return DecodedVideo(path=Path(path), digest=digest, info=info, clips=clips, stats=stats)


def embed_decoded(decoded: DecodedVideo, settings: Settings, embedder: Embedder) -> EmbeddedVideo:
    """Embed the clips a decode process cut (``decode_video``): the same batches of about
    ``batch_size`` frames, the same pooling and features as ``embed_video``."""
    return _embed(
        decoded.path,
        decoded.digest,
        decoded.info,
        decoded.stats,
        _batches_of(decoded.clips, settings.batch_size),
        embedder,
    )


@dataclass(frozen=True)
class VideoTask:
    """The worker half of ingest as a picklable value, for an engine to run anywhere: the
    settings and the embedder's name (a worker loads the embedder once; ``get_embedder``)."""

    settings: Settings
    embedder_name: str
    progress: bool = False

    def load_embedder(self) -> Embedder:
        from ..embed import get_embedder

        return get_embedder(self.embedder_name, device=self.settings.device, batch_size=self.settings.batch_size)

    def run(self, path: Path, digest: str, embedder: Embedder) -> EmbeddedVideo:
        """Both halves in this process (decode in a thread beside the embedding)."""
        return embed_video(path, digest, self.settings, embedder, progress=self.progress)

    def decode(self, path: Path, digest: str) -> DecodedVideo:
        return decode_video(path, digest, self.settings)

    def embed(self, decoded: DecodedVideo, embedder: Embedder) -> EmbeddedVideo:
        return embed_decoded(decoded, self.settings, embedder)


def _embed(
    path: Path,
    digest: str,
    info: VideoInfo,
    stats: SegmentStats,
    batches: Iterable[list[Clip]],
    embedder: Embedder,
    on_batch: Callable[[list[Clip], int], None] | None = None,
) -> EmbeddedVideo:
    """Embed the clips batch by batch, mean-pool each clip's frames, build its features."""
    clips: list[Clip] = []
    vectors: list[np.ndarray] = []
    raw_parts: list[dict[str, np.ndarray]] = []  # per clip: the embedder's outputs, mean over its frames
    layout = feature_blocks.product_layout(embedder)
    embed_s = 0.0
    for batch in batches:
        t = time.perf_counter()
        images = [img for clip in batch for img in clip.images]
        encoded, raw = embedder.encode_images_with_blocks(images)
        embed_s += time.perf_counter() - t
        i = 0
        for clip in batch:
            k = len(clip.images)
            vectors.append(encoded[i : i + k].mean(axis=0))  # mean-pool the clip's frames
            if layout:
                raw_parts.append({name: value[i : i + k].mean(axis=0) for name, value in raw.items()})
            i += k
            clips.append(clip)
        if on_batch is not None:
            on_batch(batch, len(clips))
    if not clips:
        raise MediaError(f"{path}: no clip could be cut from the video; is it empty?")
    t = time.perf_counter()
    features = clip_features(embedder, clips, raw_parts, layout) if layout else None
    matrix = l2_normalise(np.stack(vectors))
    features_s = time.perf_counter() - t
    video: VideoRecord = {
        "path": info.path,
        "content_hash": digest,
        "duration": info.duration,
        "fps": info.fps,
        "width": info.width,
        "height": info.height,
        "frame_count": info.frame_count,
        "size_bytes": info.size_bytes,
        "codec": info.codec,
    }
    records: list[ClipRecord] = [
        {
            "start": c.start,
            "end": c.end,
            "start_frame": c.start_frame,
            "end_frame": c.end_frame,
            "sample_frames": list(c.sample_frames),
        }
        for c in clips
    ]
    return EmbeddedVideo(
        path=path,
        video=video,
        clips=records,
        vectors=np.asarray(matrix, dtype=np.float32),
        features=None if features is None else np.asarray(features, dtype=np.float32),
        thumbnails=[c.images[c.thumb_index] for c in clips],
        duration=float(info.duration),
        stages={"decode": stats.decode_s, "detect": stats.detect_s, "embed": embed_s + features_s},
        frames=stats.frames,
        feature_blocks=feature_blocks.format_layout(layout) if features is not None else None,
    )


def _batches_of(clips: list[Clip], frames_per_batch: int) -> Iterator[list[Clip]]:
    """Consecutive clips whose frames add up to at least one embedding batch (the last: the rest)."""
    batch: list[Clip] = []
    frames = 0
    for clip in clips:
        batch.append(clip)
        frames += len(clip.images)
        if frames >= frames_per_batch:
            yield batch
            batch, frames = [], 0
    if batch:
        yield batch


def clip_features(
    embedder: Embedder, clips: list[Any], raw_parts: list[dict[str, np.ndarray]], layout: feature_blocks.Layout
) -> npt.NDArray[np.float32]:
    """(clips, width) classifier features in ``layout``: the embedder's semantic block and the
    motion / layout / colour blocks of each clip (features/blocks.py)."""
    semantic = embedder.classifier_features(np.stack([p["semantic"] for p in raw_parts]))
    names = [b.name for b in layout]
    rows = []
    for clip, raw, sem in zip(clips, raw_parts, semantic):
        parts = feature_blocks.clip_parts(
            sem,
            clip.images,
            raw.get("energy"),
            raw.get("mid"),
            clip.motion,
            clip.fps,
            clip.end - clip.start,
            clip.shot_seconds,
            names,
        )
        rows.append(feature_blocks.assemble(parts, layout)[0])
    return np.stack(rows).astype(np.float32)


def bar_label(name: str) -> str:
    """A file name as a progress bar can show it: no control characters (a newline breaks the bar)."""
    return "".join(ch if ch.isprintable() else "?" for ch in name)


_DONE = object()


def _batches_in_background(clip_iter: Iterator[Any], frames_per_batch: int) -> Iterator[list[Any]]:
    """Run the clip generator (decode + detect) in a thread; yield lists of clips whose
    frames add up to about one embedding batch. Exceptions are re-raised here."""
    q: queue.Queue[Any] = queue.Queue(maxsize=64)
    stop = threading.Event()

    def produce() -> None:
        try:
            for clip in clip_iter:
                if stop.is_set():
                    return
                q.put(clip)
            q.put(_DONE)
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, which raises it
            q.put(exc)

    worker = threading.Thread(target=produce, name="va-decode", daemon=True)
    worker.start()
    batch: list[Any] = []
    frames = 0
    try:
        while True:
            item = q.get()
            if item is _DONE:
                break
            if isinstance(item, BaseException):
                raise item
            batch.append(item)
            frames += len(item.images)
            # Embed whatever is ready rather than wait for a full batch: keeps both cores busy.
            if frames >= frames_per_batch or q.empty():
                yield batch
                batch, frames = [], 0
        if batch:
            yield batch
    finally:
        stop.set()
        while worker.is_alive():
            try:
                q.get_nowait()
            except queue.Empty:
                worker.join(timeout=0.05)
