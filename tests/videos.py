"""Tiny real video files for tests, written with PyAV: cuts at known frames, and bad inputs.

Good videos::

    cuts = make_cut_video(tmp / "a.mp4", [30, 20, 25])        # -> [30, 50]
    cuts = make_similar_cut_video(tmp / "b.mp4", [30, 30])    # -> [30]

``make_cut_video`` gives each segment its own colour, texture direction and drift, so a
content detector sees every cut and nothing inside a shot. ``make_similar_cut_video`` gives
each segment a different black line drawing on white: real hard cuts that PySceneDetect's
default ``detect-content`` threshold misses (docs/models-and-media.md), to measure boundary recall.
PySceneDetect also drops cuts closer than ``min_scene_len`` (15 frames by default), so
keep segments at least that long unless that is what is under test. ``stamp=True`` draws
each frame's index as a barcode along the bottom rows; ``read_stamp`` reads it back.

The container follows the file suffix; ``codec=None`` picks one that fits it (see
``DEFAULT_CODECS``). Frame ``i`` starts at ``i / fps`` seconds (MPEG program streams
``.mpg`` add a container start offset of their own, as real ones do).

Bad inputs: ``make_garbage_file``, ``make_truncated_copy``, ``make_audio_only``,
``make_empty_file``, ``make_text_file``.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
from PIL import Image, ImageDraw

DEFAULT_CODECS = {
    ".mp4": "libx264",
    ".mkv": "libx264",
    ".mov": "libx264",
    ".avi": "mpeg4",
    ".webm": "libvpx",
    ".mpg": "mpeg1video",
    ".mpeg": "mpeg1video",
    ".ogv": "theora",
}

# Consecutive colours differ a lot in hue, saturation or brightness (RGB).
SCENE_COLOURS = [
    (210, 40, 40),  # red
    (40, 70, 210),  # blue
    (235, 215, 60),  # yellow
    (120, 30, 140),  # purple
    (60, 200, 90),  # green
    (40, 40, 40),  # near black
    (240, 150, 40),  # orange
    (60, 200, 210),  # cyan
    (160, 160, 160),  # grey
    (220, 60, 180),  # pink
]

_ENCODER_OPTIONS = {
    "libx264": {"preset": "ultrafast", "crf": "16"},
    # A negative cpu-used is a fixed speed; a positive one lets realtime VP8 slow down to fill its budget.
    "libvpx": {"deadline": "realtime", "cpu-used": "-8", "crf": "8", "b": "2M"},
}


def cut_positions(segments: Sequence[int]) -> list[int]:
    """Frame indices where segments after the first begin, e.g. [30, 20, 25] -> [30, 50]."""
    if not segments or any(int(n) < 1 for n in segments):
        raise ValueError(f"segments must be positive frame counts, got {list(segments)!r}")
    return [int(x) for x in np.cumsum(segments)[:-1]]


def write_video(path: str | Path, frames: Iterable[np.ndarray], fps: int = 25, codec: str | None = None) -> int:
    """Encode RGB uint8 frames (H x W x 3, even sides) to ``path``; return the frame count."""
    path = Path(path)
    codec = codec or DEFAULT_CODECS.get(path.suffix.lower(), "libx264")
    count = 0
    with av.open(str(path), "w") as container:
        stream = None
        for count, rgb in enumerate(frames, start=1):
            if stream is None:
                height, width = rgb.shape[:2]
                stream = container.add_stream(codec, rate=fps)
                stream.width, stream.height = width, height
                stream.pix_fmt = "yuv420p"
                stream.codec_context.time_base = Fraction(1, fps)
                if codec in ("mpeg4", "mpeg1video", "mpeg2video", "theora"):
                    stream.bit_rate = 4_000_000
                stream.options = dict(_ENCODER_OPTIONS.get(codec, {}))
                # Encoder threads spin-wait: on a busy two-core machine one thread is fastest.
                stream.codec_context.thread_count = 1
            frame = av.VideoFrame.from_ndarray(np.ascontiguousarray(rgb), format="rgb24")
            frame.pts = count - 1
            frame.time_base = Fraction(1, fps)
            for packet in stream.encode(frame):
                container.mux(packet)
        if stream is None:
            raise ValueError("no frames to write")
        for packet in stream.encode():
            container.mux(packet)
    return count


def _check_size(size: tuple[int, int]) -> tuple[int, int]:
    width, height = size
    if width % 2 or height % 2 or width < 16 or height < 16:
        raise ValueError(f"size must be even and at least 16x16, got {size!r}")
    return width, height


def _textured_scene(index: int, n_frames: int, size: tuple[int, int], seed: int):
    """Frames of one shot: a solid colour shaded by a gradient and a drifting stripe texture, plus noise."""
    width, height = size
    rng = np.random.default_rng(seed * 1000 + index)
    colour = np.array(SCENE_COLOURS[index % len(SCENE_COLOURS)], dtype=np.float32)
    angle = rng.uniform(0, math.pi)
    period = rng.uniform(18, 40)
    drift = rng.uniform(0.5, 1.5) * rng.choice([-1, 1])  # pixels per frame
    y, x = np.mgrid[0:height, 0:width].astype(np.float32)
    along = x * math.cos(angle) + y * math.sin(angle)
    shaded = colour * (0.85 + 0.3 * (y / height))[..., None]  # vertical gradient
    noise = rng.standard_normal((7, height, width, 3), dtype=np.float32) * 3  # sensor noise, cycled
    for t in range(n_frames):
        stripes = np.sin((along + drift * t) * np.float32(2 * math.pi / period))  # drifting texture
        frame = shaded * (0.9 + 0.1 * stripes)[..., None]
        frame += noise[t % len(noise)]
        yield np.clip(frame, 0, 255).astype(np.uint8)


STAMP_BITS = 10  # frame indices 0..1023


def _stamp_rows(height: int) -> int:
    return max(4, height // 15)


def stamp_frame(rgb: np.ndarray, index: int) -> np.ndarray:
    """Draw ``index`` as a black/white barcode along the bottom rows (least significant bit left)."""
    height, width = rgb.shape[:2]
    rows = _stamp_rows(height)
    for bit in range(STAMP_BITS):
        x0, x1 = bit * width // STAMP_BITS, (bit + 1) * width // STAMP_BITS
        rgb[height - rows :, x0:x1] = 255 if (index >> bit) & 1 else 0
    return rgb


def read_stamp(rgb: np.ndarray) -> int:
    """The frame index ``stamp_frame`` drew, read back from a decoded (maybe rescaled) frame."""
    height, width = rgb.shape[:2]
    rows = max(1, round(_stamp_rows(120) / 120 * height))  # stamps are read at their relative size
    band = np.asarray(rgb[height - rows :], dtype=np.float32).mean(axis=(0, 2))
    value = 0
    for bit in range(STAMP_BITS):
        x0, x1 = bit * width // STAMP_BITS, (bit + 1) * width // STAMP_BITS
        margin = max(1, (x1 - x0) // 4)
        if band[x0 + margin : x1 - margin].mean() > 128:
            value |= 1 << bit
    return value


def make_cut_video(
    path: str | Path,
    segments: Sequence[int],
    fps: int = 25,
    size: tuple[int, int] = (160, 120),
    codec: str | None = None,
    seed: int = 0,
    stamp: bool = False,
) -> list[int]:
    """Write a video whose segment ``k`` lasts ``segments[k]`` frames and looks unlike its neighbours.

    ``stamp=True`` draws each frame's index as a barcode along the bottom (``read_stamp``
    reads it back), so a test can tell exactly which frames a decoder or encoder kept.
    Returns the cut frame indices (where each segment after the first begins).
    """
    cuts = cut_positions(segments)
    size = _check_size(size)

    def frames():
        number = 0
        for index, n_frames in enumerate(segments):
            for rgb in _textured_scene(index, int(n_frames), size, seed):
                yield stamp_frame(rgb, number) if stamp else rgb
                number += 1

    write_video(path, frames(), fps=fps, codec=codec)
    return cuts


def _drawing(index: int, size: tuple[int, int], seed: int) -> np.ndarray:
    """A few thin black outlines on white, different for each index."""
    width, height = size
    rng = np.random.default_rng(seed * 1000 + 500 + index)
    image = Image.new("RGB", size, (245, 245, 245))
    draw = ImageDraw.Draw(image)
    line = max(1, width // 80)
    for _ in range(4):
        x0, y0 = rng.uniform(0.05, 0.6) * width, rng.uniform(0.05, 0.6) * height
        x1, y1 = x0 + rng.uniform(0.15, 0.4) * width, y0 + rng.uniform(0.15, 0.4) * height
        shape = rng.integers(3)
        if shape == 0:
            draw.ellipse([x0, y0, x1, y1], outline=(20, 20, 20), width=line)
        elif shape == 1:
            draw.rectangle([x0, y0, x1, y1], outline=(20, 20, 20), width=line)
        else:
            draw.line([x0, y1, (x0 + x1) / 2, y0, x1, y1, x0, y1], fill=(20, 20, 20), width=line)
    return np.asarray(image, dtype=np.float32)


def make_similar_cut_video(
    path: str | Path,
    segments: Sequence[int],
    fps: int = 25,
    size: tuple[int, int] = (160, 120),
    codec: str | None = None,
    seed: int = 0,
) -> list[int]:
    """Like ``make_cut_video``, but every segment is a different line drawing on white.

    The cuts are real (the whole picture changes) yet small in colour terms, so the
    default content-detector threshold misses them. Returns the cut frame indices.
    """
    cuts = cut_positions(segments)
    size = _check_size(size)

    def frames():
        rng = np.random.default_rng(seed)
        for index, n_frames in enumerate(segments):
            drawing = _drawing(index, size, seed)
            for _ in range(int(n_frames)):
                noise = rng.standard_normal(drawing.shape, dtype=np.float32) * 1.5
                yield np.clip(drawing + noise, 0, 255).astype(np.uint8)

    write_video(path, frames(), fps=fps, codec=codec)
    return cuts


# --- bad inputs -------------------------------------------------------------------------


def make_garbage_file(path: str | Path, n_bytes: int = 8192, seed: int = 0) -> Path:
    """Random bytes under a video-looking name (e.g. ``garbage.mp4``)."""
    path = Path(path)
    path.write_bytes(np.random.default_rng(seed).integers(0, 256, n_bytes, dtype=np.uint8).tobytes())
    return path


def make_truncated_copy(src: str | Path, path: str | Path, fraction: float = 0.3) -> Path:
    """The first ``fraction`` of ``src``'s bytes, as a download cut short would leave it."""
    if not 0 < fraction < 1:
        raise ValueError(f"fraction must be between 0 and 1, got {fraction}")
    data = Path(src).read_bytes()
    path = Path(path)
    path.write_bytes(data[: max(1, int(len(data) * fraction))])
    return path


_AUDIO_CODECS = {
    ".m4a": ("aac", "ipod"),
    ".mp4": ("aac", "mp4"),
    ".ogg": ("libopus", "ogg"),
    ".opus": ("libopus", "ogg"),
    ".wav": ("pcm_s16le", "wav"),
    ".flac": ("flac", "flac"),
}


def make_audio_only(path: str | Path, seconds: float = 1.0, frequency: float = 440.0, sample_rate: int = 48000) -> Path:
    """A real, playable sound file with no video stream: a sine tone (.m4a, .ogg, .wav, .flac)."""
    path = Path(path)
    codec, fmt = _AUDIO_CODECS[path.suffix.lower()]
    samples = int(seconds * sample_rate)
    tone = (0.3 * np.sin(2 * math.pi * frequency * np.arange(samples) / sample_rate)).astype(np.float32)
    with av.open(str(path), "w", format=fmt) as container:
        stream = container.add_stream(codec, rate=sample_rate)
        stream.layout = "mono"
        frame_size = stream.codec_context.frame_size or 1024
        sample_format = stream.codec_context.format.name
        resampler = av.AudioResampler(format=sample_format, layout="mono", rate=sample_rate)
        for start in range(0, samples, frame_size):
            chunk = tone[start : start + frame_size]
            frame = av.AudioFrame.from_ndarray(chunk[None, :], format="flt", layout="mono")
            frame.sample_rate = sample_rate
            frame.pts = start
            frame.time_base = Fraction(1, sample_rate)
            for resampled in resampler.resample(frame):
                for packet in stream.encode(resampled):
                    container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def make_empty_file(path: str | Path) -> Path:
    """A zero-byte file under a video-looking name."""
    path = Path(path)
    path.write_bytes(b"")
    return path


def make_text_file(path: str | Path, text: str = "This is a text file, not a video.\n") -> Path:
    """Plain text under whatever name is given (e.g. ``notes.mp4`` or ``notes.txt``)."""
    path = Path(path)
    path.write_text(text)
    return path


# --- more bad inputs: pictures and impossible sizes ------------------------------------


def make_still_image(path: str | Path, size: tuple[int, int] = (160, 120), fmt: str | None = None) -> Path:
    """A real picture (a colour gradient) written by Pillow; ``fmt`` ("PNG", "JPEG", "GIF")
    defaults to the suffix's, so ``make_still_image("x.mp4", fmt="PNG")`` is a renamed PNG."""
    path = Path(path)
    width, height = size
    ramp = np.linspace(0, 255, width, dtype=np.float32)[None, :, None]
    rgb = np.broadcast_to(ramp * np.array([1.0, 0.5, 0.2], dtype=np.float32), (height, width, 3))
    Image.fromarray(rgb.astype(np.uint8)).save(path, format=fmt)
    return path


def make_huge_declared_video(path: str | Path, width: int = 16384, height: int = 8192) -> Path:
    """A tiny AVI (raw video, two 16x16 frames) whose headers declare a ``width`` x ``height``
    picture: what a pixel budget must refuse before any frame is decoded. Opens in FFmpeg with
    that size as long as it stays under FFmpeg's own limit (about 268 megapixels)."""
    import struct

    path = Path(path)
    write_video(path, (np.full((16, 16, 3), 60 * i, dtype=np.uint8) for i in range(2)), codec="rawvideo")
    data = bytearray(path.read_bytes())
    main_header = data.find(b"avih")  # AVIMAINHEADER: dwWidth, dwHeight at +40
    bitmap = data.find(b"strf")  # BITMAPINFOHEADER: biWidth, biHeight (negative: top-down) at +12
    if main_header < 0 or bitmap < 0:
        raise ValueError("unexpected AVI layout from the muxer")
    top_down = struct.unpack_from("<i", data, bitmap + 16)[0] < 0
    struct.pack_into("<ii", data, main_header + 40, width, height)
    struct.pack_into("<ii", data, bitmap + 12, width, -height if top_down else height)
    path.write_bytes(bytes(data))
    return path


def make_huge_y4m(path: str | Path, width: int = 100_000, height: int = 100_000) -> Path:
    """A raw YUV4MPEG2 stream declaring an impossible picture, followed by a few bytes of a
    frame (FFmpeg refuses to open it, with an unrelated errno)."""
    path = Path(path)
    path.write_bytes(f"YUV4MPEG2 W{width} H{height} F25:1 Ip A1:1 C420jpeg\nFRAME\n".encode() + bytes(4096))
    return path


def make_flat_video(
    path: str | Path, size: tuple[int, int], frames: int = 4, codec: str = "mjpeg", fps: int = 25
) -> Path:
    """A large picture that costs little to encode: four flat quadrants (red, green, blue,
    grey), for tests of the pixel budget and reduced-size decoding. ``mjpeg`` can be decoded
    at 1/2, 1/4 or 1/8 of its size; ``libx264`` cannot."""
    path = Path(path)
    width, height = _check_size(size)
    rgb = np.empty((height, width, 3), dtype=np.uint8)
    rgb[: height // 2, : width // 2] = (220, 30, 30)
    rgb[: height // 2, width // 2 :] = (30, 220, 30)
    rgb[height // 2 :, : width // 2] = (30, 30, 220)
    rgb[height // 2 :, width // 2 :] = (128, 128, 128)
    frame = av.VideoFrame.from_ndarray(rgb, format="rgb24")
    with av.open(str(path), "w") as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height = width, height
        stream.pix_fmt = "yuvj420p" if codec == "mjpeg" else "yuv420p"
        stream.codec_context.time_base = Fraction(1, fps)
        stream.options = dict(_ENCODER_OPTIONS.get(codec, {}))
        for index in range(frames):
            frame.pts = index
            for packet in stream.encode(frame):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path
