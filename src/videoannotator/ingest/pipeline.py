"""Videos → shots → clips → vectors, one video per transaction.

Decoding and shot detection run in a background thread while the main thread embeds the
clips already cut (PyAV, OpenCV and torch all release the GIL), so on two cores the two
halves overlap. A file already in the catalog (same content hash) is skipped.

Every argument is handled on its own: one that cannot be used (missing, a symlink loop, a
folder that cannot be read, not a video) is one entry in ``report.failed`` naming it and
the reason, and the others are still ingested. Paths are stored resolved and absolute, so
the server finds the files whatever directory it starts in.
"""

from __future__ import annotations

import errno
import glob
import hashlib
import logging
import os
import queue
import shutil
import sqlite3
import stat
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..embed.base import l2_normalise
from ..errors import DiskFull, MediaError, is_disk_full
from ..media.probe import check_readable
from ..media.segment import SegmentOptions, SegmentStats, segment

log = logging.getLogger(__name__)

VIDEO_EXTENSIONS = {
    ".mp4", ".m4v", ".mov", ".mkv", ".webm", ".avi", ".ogv", ".ogg", ".mpg", ".mpeg", ".ts", ".mts",
    ".m2ts", ".wmv", ".flv", ".3gp", ".mxf", ".y4m",
}


@dataclass
class IngestReport:
    ingested: list[dict] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)
    failed: list[dict] = field(default_factory=list)
    not_tried: list[str] = field(default_factory=list)  # after a full disk stopped the run
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
            "not_tried": self.not_tried,
            "clips": sum(v["clips"] for v in self.ingested),
            "video_seconds": round(self.video_seconds, 3),
            "wall_seconds": round(self.wall_seconds, 3),
            "realtime_factor": round(self.video_seconds / self.wall_seconds, 2) if self.wall_seconds else None,
            "stages_seconds": {k: round(v, 3) for k, v in self.stages.items()},
            "frames": self.frames,
        }


def expand_paths(paths) -> tuple[list[Path], list[dict]]:
    """Files as given; folders recursively (video extensions only); globs expanded.

    Returns each usable file once, resolved and absolute, and one ``{"path", "error"}`` per
    argument (or entry of a folder) that cannot be used: a missing path, a symlink loop, a
    dangling symlink, a folder that cannot be read. One bad argument never stops the rest.
    """
    files: list[Path] = []
    failed: list[dict] = []
    for raw in paths:
        found, problems = _expand_one(str(raw))
        files += found
        failed += problems
    return list(dict.fromkeys(files)), failed


def _failure(path, reason: str) -> dict:
    return {"path": str(path), "error": f"{path}: {reason}"}


def _expand_one(raw: str) -> tuple[list[Path], list[dict]]:
    path = Path(raw).expanduser()
    try:
        mode = path.stat().st_mode  # follows symlinks
    except OSError as exc:
        if exc.errno == errno.ENOENT and not path.is_symlink() and any(ch in raw for ch in "*?["):
            return _expand_glob(path)
        return [], [_failure(path, _stat_problem(path, exc))]
    if stat.S_ISDIR(mode):
        return _walk_folder(path)
    return [path.resolve()], []


def _stat_problem(path: Path, exc: OSError) -> str:
    """Why ``path`` cannot be used, from the OSError its stat() raised."""
    if exc.errno == errno.ELOOP:
        return "a symlink loop (the link leads back to itself); fix or remove the link"
    if exc.errno == errno.ENOENT and path.is_symlink():
        return f"a dangling symlink (its target {os.readlink(path)} does not exist); fix or remove the link"
    if exc.errno == errno.ENOENT:
        return "no such file or folder; check the path"
    if exc.errno == errno.EACCES:
        return "permission denied (a folder on the way cannot be entered); check its permissions"
    return f"cannot be read: {exc.strerror or exc}"


def _expand_glob(pattern: Path) -> tuple[list[Path], list[dict]]:
    matches = sorted(Path(m) for m in glob.glob(str(pattern), recursive=True))
    files, failed = [], []
    for match in matches:
        try:
            if stat.S_ISDIR(match.stat().st_mode):
                continue  # a pattern names files; folders it matches are not walked
            files.append(match.resolve())
        except OSError as exc:
            failed.append(_failure(match, _stat_problem(match, exc)))
    if not matches:
        failed.append(_failure(pattern, "the pattern matches no file"))
    return files, failed


def _walk_folder(folder: Path) -> tuple[list[Path], list[dict]]:
    """Video files under ``folder`` (symlinked folders are not followed: no loops); each
    sub-folder that cannot be read and each broken link with a video name is one failure."""
    files, failed = [], []

    def unreadable(exc: OSError) -> None:
        where = exc.filename or folder
        reason = ("permission denied while reading the folder; check its permissions (its videos were not ingested)"
                  if exc.errno == errno.EACCES else f"the folder cannot be read: {exc.strerror or exc}")
        failed.append(_failure(where, reason))

    for dirpath, dirnames, filenames in os.walk(folder, onerror=unreadable):
        dirnames.sort()
        for name in sorted(filenames):
            if Path(name).suffix.lower() not in VIDEO_EXTENSIONS:
                continue
            path = Path(os.path.abspath(os.path.join(dirpath, name)))
            try:
                mode = path.stat().st_mode
            except OSError as exc:
                failed.append(_failure(path, _stat_problem(path, exc)))
                continue
            if stat.S_ISREG(mode):
                files.append(path.resolve())
    return files, failed


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
        max_pixels=settings.max_pixels,
    )


def ingest_paths(ws, paths, progress: bool = True, on_event=None) -> IngestReport:
    from tqdm.auto import tqdm

    report = IngestReport()
    started = time.perf_counter()
    files, missing = expand_paths(paths)
    report.failed += missing
    bar = tqdm(files, desc="videos", unit="video", disable=not progress, leave=True)
    with _one_core_for_decoding(ws.settings.device):
        for position, path in enumerate(bar):
            bar.set_postfix_str(_bar_label(path.name)[-40:])
            try:
                entry = ingest_one(ws, path, report, progress=progress)
            except DiskFull as exc:
                # The next files would fail the same way: stop, and say so once.
                report.not_tried = [str(p) for p in files[position + 1:]]
                more = f"; {len(report.not_tried)} more file(s) not tried" if report.not_tried else ""
                report.failed.append({"path": str(path), "error": exc.message + more})
                break
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
    from ..search import AUTO_THRESHOLD

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
    frames_bar = tqdm(total=info.frame_count or None, desc=f"  {_bar_label(path.name)[:30]}", unit="frame", leave=False,
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
    features = embedder.classifier_features(np.stack(raw_features)) if embedder.feature_dim and raw_features else None
    vectors = l2_normalise(np.stack(vectors))
    try:
        _write_thumbnails(ws, digest, clips)
        video_id = ws.commit_video(info, digest, clips, vectors, features)
    except BaseException as exc:
        _forget_thumbnails(ws, digest, len(clips))
        if is_disk_full(exc):
            needed = vectors.nbytes + (features.nbytes if features is not None else 0) + _THUMB_BYTES * len(clips)
            raise disk_full(ws.home, path, needed) from None
        raise
    if video_id is None:
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


# What a video costs on disk besides its matrix rows: a thumbnail (JPEG, 320 px wide) and
# its catalog rows, rounded up so the advice leaves room for the SQLite journal too.
_THUMB_BYTES = 32 * 1024


def disk_full(home: Path, path, needed_bytes: int) -> DiskFull:
    """One line: which filesystem is full, what it has free, what this video needs, what to do."""
    home = Path(home)
    mount = home.resolve()
    while not os.path.ismount(mount) and mount != mount.parent:
        mount = mount.parent
    try:
        free = shutil.disk_usage(home).free
    except OSError:
        free = 0
    where = str(mount) + (f" (holding the workspace {home})" if home != mount else "")
    return DiskFull(
        f"{path}: not stored, the disk is full: {where} has {_size(free)} free and this video needs about "
        f"{_size(needed_bytes)} more; nothing of it was kept. Free space on {mount} (or use another --home), "
        "then run the same command again: what is stored is skipped"
    )


def _size(n: float) -> str:
    if n < 1024:
        return f"{int(n)} bytes"
    units = iter(("KB", "MB", "GB", "TB"))
    unit = next(units)
    n /= 1024
    while n >= 1024 and unit != "TB":
        n, unit = n / 1024, next(units)
    return f"{n:.1f} {unit}"


def _forget_thumbnails(ws, digest: str, count: int) -> None:
    """Remove the thumbnails of a video whose commit failed (unless another process stored it)."""
    try:
        if ws.has_video(digest):
            return
    except sqlite3.Error:
        pass
    for position in range(count):
        ws.thumb_path({"content_hash": digest, "position": position}).unlink(missing_ok=True)


def _bar_label(name: str) -> str:
    """A file name as a progress bar can show it: no control characters (a newline breaks the bar)."""
    return "".join(ch if ch.isprintable() else "?" for ch in name)


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
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, which raises it
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
