"""Open a file with PyAV and say what it is, or one clear reason why it is not a video."""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass
from pathlib import Path

import av

from ..errors import MediaError


@dataclass(frozen=True)
class VideoInfo:
    path: str
    duration: float  # seconds; 0.0 when the container does not say
    fps: float
    width: int
    height: int
    frame_count: int  # estimate (duration * fps) when the container does not say
    size_bytes: int
    codec: str


def check_readable(path: str | os.PathLike) -> Path:
    """The cheap checks every bad-input case starts with; raises MediaError naming the reason."""
    p = Path(path)
    try:
        st = p.stat()
    except FileNotFoundError:
        raise MediaError(f"{p}: no such file; check the path") from None
    except PermissionError:
        raise MediaError(f"{p}: permission denied; check the file's permissions") from None
    if p.is_dir():
        raise MediaError(f"{p}: is a directory, not a video file")
    if st.st_size == 0:
        raise MediaError(f"{p}: empty file (0 bytes); nothing to ingest")
    if not os.access(p, os.R_OK):
        raise MediaError(f"{p}: permission denied; check the file's permissions")
    return p


def open_container(path: str | os.PathLike):
    """av.open with errors turned into one line naming the file."""
    p = check_readable(path)
    try:
        return av.open(str(p), metadata_errors="ignore")
    except PermissionError:
        raise MediaError(f"{p}: permission denied; check the file's permissions") from None
    except av.error.FFmpegError as exc:
        if getattr(exc, "errno", None) == errno.EACCES:
            raise MediaError(f"{p}: permission denied; check the file's permissions") from None
        raise MediaError(f"{p}: not a readable video (corrupt, truncated or not a video file): {exc.strerror or exc}") from None
    except (OSError, ValueError) as exc:
        raise MediaError(f"{p}: could not be opened as a video: {exc}") from None


def video_stream(container, path) -> "av.video.stream.VideoStream":
    if not container.streams.video:
        kinds = sorted({s.type for s in container.streams}) or ["no streams"]
        raise MediaError(f"{path}: no video stream (found: {', '.join(kinds)}); only video files can be ingested")
    return container.streams.video[0]


def probe(path: str | os.PathLike) -> VideoInfo:
    p = check_readable(path)
    with open_container(p) as container:
        stream = video_stream(container, p)
        return info_from(container, stream, p)


def info_from(container, stream, p: Path) -> VideoInfo:
    fps = float(stream.average_rate or stream.guessed_rate or stream.base_rate or 0) or 25.0
    if stream.duration is not None and stream.time_base is not None:
        duration = float(stream.duration * stream.time_base)
    elif container.duration is not None:
        duration = container.duration / av.time_base
    else:
        duration = 0.0
    frames = stream.frames or int(round(duration * fps))
    ctx = stream.codec_context
    return VideoInfo(
        path=str(p),
        duration=duration,
        fps=fps,
        width=int(ctx.width or 0),
        height=int(ctx.height or 0),
        frame_count=int(frames),
        size_bytes=p.stat().st_size,
        codec=ctx.name or "",
    )
