"""Videos → shots → clips → vectors, one video per transaction.

Decoding and shot detection run in a background thread while the main thread embeds the
clips already cut (PyAV, OpenCV and torch all release the GIL), so on two cores the two
halves overlap. A file already in the catalog (same content hash) is skipped.
"""

from __future__ import annotations

import glob
import hashlib
import logging
import os
import queue
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from .embed.base import l2_normalise
from .errors import MediaError
from .media.probe import check_readable
from .media.segment import SegmentOptions, SegmentStats, segment

log = logging.getLogger(__name__)

VIDEO_EXTENSIONS = {
    ".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".ogv", ".ogg", ".mpg", ".mpeg", ".ts", ".mts",
    ".m2ts", ".wmv", ".flv", ".3gp", ".mxf",
}


@dataclass
class IngestReport:
    ingested: list[dict] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)
    failed: list[dict] = field(default_factory=list)
    video_seconds: float = 0.0
    wall_seconds: float = 0.0
    stages: dict = field(default_factory=lambda: {"hash": 0.0, "decode": 0.0, "detect": 0.0, "embed": 0.0, "write": 0.0})
    frames: int = 0

    @property
    def ok(self) -> bool:
        return not self.failed

    def as_dict(self) -> dict:
        return {
            "ingested": self.ingested,
            "skipped": self.skipped,
            "failed": self.failed,
            "clips": sum(v["clips"] for v in self.ingested),
            "video_seconds": round(self.video_seconds, 3),
            "wall_seconds": round(self.wall_seconds, 3),
            "realtime_factor": round(self.video_seconds / self.wall_seconds, 2) if self.wall_seconds else None,
            "stages_seconds": {k: round(v, 3) for k, v in self.stages.items()},
            "frames": self.frames,
        }


def expand_paths(paths) -> tuple[list[Path], list[dict]]:
    """Files as given; folders recursively (video extensions only); globs expanded."""
    files, missing = [], []
    for raw in paths:
        p = Path(raw).expanduser()
        if p.is_dir():
            files += sorted(f for f in p.rglob("*") if f.is_file() and f.suffix.lower() in VIDEO_EXTENSIONS)
        elif p.exists() or p.is_symlink():
            files.append(p)
        elif any(ch in str(raw) for ch in "*?["):
            matches = sorted(Path(m) for m in glob.glob(str(p), recursive=True) if Path(m).is_file())
            if not matches:
                missing.append({"path": str(raw), "error": f"{raw}: the pattern matches no file"})
            files += matches
        else:
            missing.append({"path": str(raw), "error": f"{raw}: no such file or folder; check the path"})
    seen, unique = set(), []
    for f in files:
        key = f.resolve()
        if key not in seen:
            seen.add(key)
            unique.append(f)
    return unique, missing


def content_hash(path: Path) -> str:
    h = hashlib.blake2b(digest_size=20)
    try:
        with open(path, "rb") as fh:
            for chunk in iter(lambda: fh.read(1 << 20), b""):
                h.update(chunk)
    except PermissionError:
        raise MediaError(f"{path}: permission denied; check the file's permissions") from None
    except OSError as exc:
        raise MediaError(f"{path}: could not be read: {exc.strerror or exc}") from None
    return h.hexdigest()


def segment_options(settings) -> SegmentOptions:
    return SegmentOptions(
        frames_per_clip=settings.frames_per_clip,
        min_shot_seconds=settings.min_shot_seconds,
        max_clip_seconds=settings.max_clip_seconds,
        shot_threshold=settings.shot_threshold,
        detector=settings.shot_detector,
        detect_width=settings.detect_width,
        keep_width=settings.thumb_width,
    )


def ingest_paths(ws, paths, progress: bool = True, on_event=None) -> IngestReport:
    from tqdm.auto import tqdm

    report = IngestReport()
    started = time.perf_counter()
    files, missing = expand_paths(paths)
    report.failed += missing
    bar = tqdm(files, desc="videos", unit="video", disable=not progress, leave=True)
    with _one_core_for_decoding(ws.settings.device):
        for path in bar:
            bar.set_postfix_str(path.name[-40:])
            try:
                entry = ingest_one(ws, path, report, progress=progress)
            except MediaError as exc:
                report.failed.append({"path": str(path), "error": exc.message})
                entry = None
            if entry is not None and on_event:
                on_event(entry)
    if report.ingested:
        _update_index(ws)
    report.wall_seconds = time.perf_counter() - started
    return report


def _update_index(ws) -> None:
    """Large corpora get their ANN index extended with the new clips now, not at the first search."""
    from .search import AUTO_THRESHOLD

    if ws.clip_count() >= AUTO_THRESHOLD:
        ws.index()


@contextmanager
def _one_core_for_decoding(device: str):
    """Leave one core to the decode thread: torch's intra-op threads spin-wait, and on two
    cores two of them plus the decoder ran 1.2-2.8x slower than one (docs/benchmarks.md)."""
    if not str(device).startswith("cpu"):
        yield
        return
    import torch

    before = torch.get_num_threads()
    torch.set_num_threads(max(1, (os.cpu_count() or 2) - 1))
    try:
        yield
    finally:
        torch.set_num_threads(before)


def ingest_one(ws, path: Path, report: IngestReport, progress: bool = True) -> dict | None:
    from tqdm.auto import tqdm

    check_readable(path)
    t = time.perf_counter()
    digest = content_hash(path)
    report.stages["hash"] += time.perf_counter() - t
    if ws.has_video(digest):
        report.skipped.append({"path": str(path), "reason": "already ingested (same content)"})
        return None

    stats = SegmentStats()
    info, clip_iter = segment(path, segment_options(ws.settings), stats)
    embedder = ws.embedder
    frames_bar = tqdm(total=info.frame_count or None, desc=f"  {path.name[:30]}", unit="frame", leave=False,
                      disable=not progress)

    clips, vectors, raw_features, embed_s = [], [], [], 0.0
    for batch in _batches_in_background(clip_iter, ws.settings.batch_size):
        t = time.perf_counter()
        images = [img for clip in batch for img in clip.images]
        encoded, raw = embedder.encode_images_with_features(images)
        embed_s += time.perf_counter() - t
        i = 0
        for clip in batch:
            k = len(clip.images)
            vectors.append(encoded[i : i + k].mean(axis=0))  # mean-pool the clip's frames
            if raw is not None:
                raw_features.append(raw[i : i + k].mean(axis=0))
            i += k
            clips.append(clip)
        frames_bar.n = batch[-1].end_frame
        frames_bar.set_postfix(clips=len(clips))
        frames_bar.refresh()
    frames_bar.close()
    if not clips:
        raise MediaError(f"{path}: no clip could be cut from the video; is it empty?")

    t = time.perf_counter()
    _write_thumbnails(ws, digest, clips)
    features = embedder.classifier_features(np.stack(raw_features)) if embedder.feature_dim and raw_features else None
    if ws.commit_video(info, digest, clips, l2_normalise(np.stack(vectors)), features) is None:
        report.skipped.append({"path": str(path), "reason": "already ingested (same content, by another process meanwhile)"})
        return None
    write_s = time.perf_counter() - t

    report.stages["decode"] += stats.decode_s
    report.stages["detect"] += stats.detect_s
    report.stages["embed"] += embed_s
    report.stages["write"] += write_s
    report.frames += stats.frames
    report.video_seconds += info.duration
    entry = {"path": str(path), "clips": len(clips), "duration": round(info.duration, 3), "hash": digest}
    report.ingested.append(entry)
    return entry


def _write_thumbnails(ws, digest: str, clips) -> None:
    from PIL import Image

    for position, clip in enumerate(clips):
        out = ws.thumb_path({"content_hash": digest, "position": position})
        Image.fromarray(clip.images[clip.thumb_index]).save(out, "JPEG", quality=85)


_DONE = object()


def _batches_in_background(clip_iter, frames_per_batch: int):
    """Run the clip generator (decode + detect) in a thread; yield lists of clips whose
    frames add up to about one embedding batch. Exceptions are re-raised here."""
    q: queue.Queue = queue.Queue(maxsize=64)
    stop = threading.Event()

    def produce():
        try:
            for clip in clip_iter:
                if stop.is_set():
                    return
                q.put(clip)
            q.put(_DONE)
        except BaseException as exc:  # handed to the consumer, which raises it
            q.put(exc)

    worker = threading.Thread(target=produce, name="va-decode", daemon=True)
    worker.start()
    batch, frames = [], 0
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
