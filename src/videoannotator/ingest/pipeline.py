"""Videos → shots → clips → vectors: the driver and the one writer of `va ingest`.

The driver expands the arguments, hashes each file and skips what the catalog has; an engine
(engines/: the local one by default; ``ray``) runs the workers (``embedding.embed_video``, or
``embedding.VideoTask`` where the engine runs decoding and embedding apart) and hands each
result back here, where the writer commits it — thumbnails, then the
matrix rows and the catalog rows in ``Workspace.commit_video`` — one video per transaction.

Every argument is handled on its own: one that cannot be used (missing, a symlink loop, a
folder that cannot be read, not a video) is one entry in ``report.failed`` naming it and the
reason, and the others are still ingested; a full disk stops the run and says so once. Paths
are stored resolved and absolute, so the server finds the files whatever directory it starts in.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import sys
import time
from collections.abc import Callable, Iterable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..engines import Engine, LocalEngine
from ..errors import DiskFull, MediaError, is_disk_full
from ..media.probe import check_readable
from .embedding import EmbeddedVideo, VideoTask, bar_label, embed_video
from .paths import expand_paths

if TYPE_CHECKING:
    from ..workspace import Workspace


@dataclass
class IngestReport:
    ingested: list[dict] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)
    failed: list[dict] = field(default_factory=list)
    not_tried: list[str] = field(default_factory=list)  # after a full disk stopped the run
    video_seconds: float = 0.0
    wall_seconds: float = 0.0
    stages: dict = field(
        default_factory=lambda: {"hash": 0.0, "decode": 0.0, "detect": 0.0, "embed": 0.0, "write": 0.0}
    )
    frames: int = 0
    scored: dict[str, int] = field(default_factory=dict)  # label -> positives among the new clips (deployed versions)
    notice: str | None = None  # e.g. how to give a workspace from before the feature blocks the new ones

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
            "scored": self.scored,
            **({"notice": self.notice} if self.notice else {}),
        }


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


def ingest_paths(
    ws: Workspace,
    paths: Iterable[str | os.PathLike[str]],
    progress: bool = True,
    on_event: Callable[[dict[str, Any]], None] | None = None,
    engine: Engine | None = None,
) -> IngestReport:
    from tqdm.auto import tqdm

    from ..progress import progress_bar

    report = IngestReport()
    started = time.perf_counter()
    files, missing = expand_paths(paths)
    report.failed += missing
    bar = progress_bar(total=len(files), desc="videos", unit="video", disable=not progress, leave=True)
    engine = engine or LocalEngine()
    settings = ws.settings

    def work(job: tuple[int, Path, str]) -> EmbeddedVideo:
        return embed_video(job[1], job[2], settings, ws.embedder, progress=progress)

    with _one_core_for_decoding(settings.device):
        jobs = _new_videos(ws, files, report, bar)
        map_videos = getattr(engine, "map_videos", None)
        if map_videos is not None:  # the engine may run decoding and embedding apart (engines/)
            task = VideoTask(settings, ws.embedder_name, progress=progress)
            results = map_videos(jobs, task, lambda: ws.embedder)
        else:
            results = engine.map(work, jobs)
        try:
            for result in results:
                position, path, _ = result.job
                bar.set_postfix_str(bar_label(path.name)[-40:])
                try:
                    if result.error is not None:
                        raise result.error
                    assert result.value is not None
                    entry = commit(ws, result.value, report)
                except DiskFull as exc:
                    # The next files would fail the same way: stop, and say so once.
                    report.not_tried = [str(p) for p in files[position + 1 :]]
                    more = f"; {len(report.not_tried)} more file(s) not tried" if report.not_tried else ""
                    report.failed.append({"path": str(path), "error": exc.message + more})
                    break
                except MediaError as exc:
                    report.failed.append({"path": str(path), "error": exc.message})
                    entry = None
                finally:
                    bar.update(1)
                if entry is not None and len(report.ingested) == 1:
                    report.notice = _upgrade_notice(ws, result.value.feature_blocks if result.value else None)
                    if report.notice and progress:
                        tqdm.write(f"note: {report.notice}", file=sys.stderr)
                if entry is not None and on_event:
                    on_event(entry)
        finally:
            close = getattr(results, "close", None)
            if close is not None:
                close()
    bar.close()
    if report.ingested:
        _update_index(ws)
    report.wall_seconds = time.perf_counter() - started
    return report


def _upgrade_notice(ws: Workspace, computed: str | None) -> str | None:
    """One line where the workspace stores fewer feature blocks than ingest computes (a
    workspace from before the blocks): how to upgrade it. ``computed``: the blocks the worker
    computed (``EmbeddedVideo.feature_blocks``), so a driver whose workers ran elsewhere (Ray)
    need not load the embedder to know them."""
    from ..features.blocks import parse_layout, product_layout, stored_layout, upgrade_hint

    if not ws.clip_count() or not ws.feature_dim:
        return None
    could = parse_layout(computed) if computed else product_layout(ws.embedder)
    return upgrade_hint(stored_layout(ws.catalog.get_meta, ws.feature_dim), could)


def _new_videos(ws: Workspace, files: list[Path], report: IngestReport, bar: Any) -> Iterator[tuple[int, Path, str]]:
    """(position, path, content hash) of each file the catalog does not hold yet; files that
    cannot be read or are stored already become report entries here."""
    for position, path in enumerate(files):
        try:
            check_readable(path)
            t = time.perf_counter()
            digest = content_hash(path)
            report.stages["hash"] += time.perf_counter() - t
        except MediaError as exc:
            report.failed.append({"path": str(path), "error": exc.message})
            bar.update(1)
            continue
        if ws.has_video(digest):
            report.skipped.append({"path": str(path), "reason": "already ingested (same content)"})
            bar.update(1)
            continue
        yield position, path, digest


def commit(ws: Workspace, done: EmbeddedVideo, report: IngestReport) -> dict[str, Any] | None:
    """The writer: the video's thumbnails, then its rows (``Workspace.commit_video``)."""
    t = time.perf_counter()
    digest = done.video["content_hash"]
    try:
        _write_thumbnails(ws, digest, done.thumbnails)
        video_id = ws.commit_video(done.video, done.clips, done.vectors, done.features, done.feature_blocks)
    except BaseException as exc:
        _forget_thumbnails(ws, digest, len(done.clips))
        if is_disk_full(exc):
            needed = (
                done.vectors.nbytes
                + (done.features.nbytes if done.features is not None else 0)
                + _THUMB_BYTES * len(done.clips)
            )
            raise disk_full(ws.home, done.path, needed) from None
        raise
    if video_id is None:
        report.skipped.append(
            {"path": str(done.path), "reason": "already ingested (same content, by another process meanwhile)"}
        )
        return None
    for stage, seconds in done.stages.items():
        report.stages[stage] += seconds
    report.stages["write"] += time.perf_counter() - t
    report.frames += done.frames
    report.video_seconds += done.duration
    entry = {"path": str(done.path), "clips": len(done.clips), "duration": round(done.duration, 3), "hash": digest}
    report.ingested.append(entry)
    return entry


def _update_index(ws: Workspace) -> None:
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


def _forget_thumbnails(ws: Workspace, digest: str, count: int) -> None:
    """Remove the thumbnails of a video whose commit failed (unless another process stored it)."""
    try:
        if ws.has_video(digest):
            return
    except Exception:  # noqa: BLE001,S110 - the catalog may be what failed; the files go regardless
        pass
    for position in range(count):
        ws.thumb_path({"content_hash": digest, "position": position}).unlink(missing_ok=True)


def _write_thumbnails(ws: Workspace, digest: str, images: list[Any]) -> None:
    from PIL import Image

    for position, image in enumerate(images):
        out = ws.thumb_path({"content_hash": digest, "position": position})
        Image.fromarray(image).save(out, "JPEG", quality=85)
