"""Open a file with PyAV and say what it is, or one clear reason why it is not a video."""

from __future__ import annotations

import errno
import os
from dataclasses import dataclass
from pathlib import Path

import av
from av.container import InputContainer
from av.video.stream import VideoStream

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


def check_readable(path: str | os.PathLike[str]) -> Path:
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


def open_container(path: str | os.PathLike[str]) -> InputContainer:
    """av.open with errors turned into one line naming the file."""
    p = check_readable(path)
    try:
        return av.open(str(p), metadata_errors="ignore")
    except PermissionError:
        raise MediaError(f"{p}: permission denied; check the file's permissions") from None
    except av.error.FFmpegError as exc:
        if getattr(exc, "errno", None) == errno.EACCES:
            raise MediaError(f"{p}: permission denied; check the file's permissions") from None
        size = _declared_y4m_size(p)
        if size:  # FFmpeg refuses a huge raw stream with a confusing errno ("Device or resource busy")
            raise MediaError(
                f"{p}: the picture is {size[0]}x{size[1]} ({megapixels(*size)}), too large to "
                "decode; scale the video down first (e.g. ffmpeg -vf scale=3840:-2)"
            ) from None
        raise MediaError(
            f"{p}: not a readable video (corrupt, truncated or not a video file): {exc.strerror or exc}"
        ) from None
    except (OSError, ValueError) as exc:
        raise MediaError(f"{p}: could not be opened as a video: {exc}") from None


def video_stream(container: InputContainer, path: str | os.PathLike[str]) -> VideoStream:
    if not container.streams.video:
        kinds: list[str] = sorted({s.type for s in container.streams}) or ["no streams"]
        raise MediaError(f"{path}: no video stream (found: {', '.join(kinds)}); only video files can be ingested")
    if is_image_demuxer(container.format.name):
        codec = container.streams.video[0].codec_context.name
        raise MediaError(
            f"{path}: is a still image ({image_kind(codec)}), not a video; only video files can be ingested"
        )
    return container.streams.video[0]


def is_image_demuxer(format_name: str) -> bool:
    """FFmpeg reads a single picture (PNG, JPEG, WebP, ... whatever the file is named) with
    ``image2`` or one of its ``<codec>_pipe`` demuxers; animated GIF/APNG have their own."""
    return format_name == "image2" or format_name.endswith("_pipe")


# Codecs that animate pictures: one decoded frame of these is a still image.
IMAGE_CODECS = {"gif", "apng", "png", "mjpeg", "webp", "bmp", "tiff", "jpegxl", "jpeg2000", "qoi"}


def image_kind(codec: str) -> str:
    return "JPEG" if codec == "mjpeg" else codec.upper()


def megapixels(width: int, height: int) -> str:
    return f"{width * height / 1e6:,.0f} megapixels" if width * height >= 1e6 else f"{width * height:,} pixels"


def _declared_y4m_size(path: Path) -> tuple[int, int] | None:
    """Width and height a YUV4MPEG2 header declares (FFmpeg cannot open a huge one at all)."""
    try:
        with open(path, "rb") as fh:
            header = fh.read(256).split(b"\n", 1)[0]
    except OSError:
        return None
    if not header.startswith(b"YUV4MPEG2 "):
        return None
    fields = {tok[:1]: tok[1:] for tok in header.split()[1:]}
    try:
        return int(fields[b"W"]), int(fields[b"H"])
    except (KeyError, ValueError):
        return None


# Decoders that can hand out frames at 1/2, 1/4 or 1/8 of the coded size (FFmpeg's
# ``lowres``): a huge MPEG or MJPEG stream is then never held at full size.
LOWRES_CODECS = {
    "mjpeg",
    "mpeg1video",
    "mpeg2video",
    "mpeg4",
    "h263",
    "h263p",
    "msmpeg4v1",
    "msmpeg4v2",
    "msmpeg4v3",
    "wmv1",
    "wmv2",
    "flv1",
    "dvvideo",
    "jpeg2000",
}
FULL_SIZE_WIDTH = 2048  # below this, frames are decoded at full size (exactly as before)
FRAME_THREADS_MAX_PIXELS = 3840 * 2160  # above 4K, frame threading holds one huge frame per thread


def decode_reduced(stream: VideoStream, needed_width: int) -> int:
    """Set up ``stream``'s decoder (before its first packet) to keep memory bounded for huge
    pictures; returns the factor (1, 2, 4 or 8) by which decoded frames are smaller.

    Where the codec allows, frames come out at a reduced size that still covers
    ``needed_width`` (and at least 1024 pixels); above 4K a stream is decoded with slice
    threads only, since frame threading keeps a full-size frame per thread (measured:
    8192x8192 H.264, 714 MiB peak RSS with frame threads, 337 MiB without)."""
    ctx = stream.codec_context
    width, height = int(ctx.width or 0), int(ctx.height or 0)
    lowres = 0
    if ctx.name in LOWRES_CODECS and width >= FULL_SIZE_WIDTH:
        floor = max(1024, needed_width)
        while lowres < 3 and (width >> (lowres + 1)) >= floor:
            lowres += 1
    if lowres:
        ctx.options = {**ctx.options, "lowres": str(lowres)}
    decoded_pixels = (width >> lowres) * (height >> lowres)
    stream.thread_type = "SLICE" if decoded_pixels > FRAME_THREADS_MAX_PIXELS else "AUTO"
    return 1 << lowres


def probe(path: str | os.PathLike[str]) -> VideoInfo:
    p = check_readable(path)
    with open_container(p) as container:
        stream = video_stream(container, p)
        return info_from(container, stream, p)


def info_from(container: InputContainer, stream: VideoStream, p: Path) -> VideoInfo:
    fps = float(stream.average_rate or stream.guessed_rate or stream.base_rate or 0) or 25.0
    if stream.duration is not None and stream.time_base is not None:
        duration = float(stream.duration * stream.time_base)
    elif container.duration is not None:
        duration = container.duration / av.time_base
    else:
        duration = 0.0
    frames = stream.frames or round(duration * fps)
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
