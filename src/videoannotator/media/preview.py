"""Clip previews (short WebM VP8 files any Chromium plays) and JPEG thumbnails.

Times are the source's own presentation times in seconds (PyAV's ``frame.time``), the
clock ``media.segment`` gives clips on: most files start at 0, MPEG program streams
(.mpg) a little later (e.g. 0.54 s). A preview of ``[start_s, end_s)`` holds exactly the
frames shown in that range: it seeks to the keyframe before ``start_s``, decodes forward
and drops what comes before. Files are written to a temporary name and renamed, so a
reader never sees half a preview.
"""

from __future__ import annotations

import logging
import math
import os
import tempfile
from collections.abc import Iterable, Iterator
from fractions import Fraction
from pathlib import Path

import av
import numpy as np
import numpy.typing as npt
from av.audio.frame import AudioFrame
from av.audio.resampler import AudioResampler
from av.audio.stream import AudioStream
from av.container import InputContainer, OutputContainer
from av.packet import Packet
from av.video.frame import VideoFrame
from av.video.reformatter import VideoReformatter
from av.video.stream import VideoStream

from ..errors import InvalidInput, MediaError
from .probe import decode_reduced, open_container, video_stream

log = logging.getLogger(__name__)

# libvpx VP8 settings for previews: fast and good enough at thumbnail size.
# A negative cpu-used is a fixed speed; a positive one lets realtime VP8 slow itself down
# to fill the frame's time budget (measured 3x slower here).
_VP8_OPTIONS = {"deadline": "realtime", "cpu-used": "-8", "crf": "20", "auto-alt-ref": "0", "lag-in-frames": "0"}
_VP8_MAX_BIT_RATE = 1_000_000  # with crf, libvpx treats the bit rate as a ceiling
_KEYFRAME_SECONDS = 1.0  # short GOP: scrubbing a preview stays cheap
_AUDIO_RATE = 48_000  # Opus's own rate
_OPUS_BIT_RATE = 96_000
_SEEK_BACK_OFFS = (0.0, 1.0, 3.0, 10.0, 30.0)  # seconds before the start to seek to, in turn


def _even(value: float) -> int:
    return max(2, round(value / 2) * 2)


def preview_size(width: int, height: int, sample_aspect: Fraction | None, out_width: int) -> tuple[int, int]:
    """Output (width, height), both even, keeping the displayed aspect ratio (pixel aspect included)."""
    sar = float(sample_aspect) if sample_aspect else 1.0
    display_width = width * (sar if sar > 0 else 1.0)
    out_w = _even(out_width)
    return out_w, _even(out_w * height / display_width)


def _frame_rate(stream: VideoStream) -> Fraction:
    rate = stream.guessed_rate or stream.average_rate or stream.base_rate
    if not rate or rate <= 0:
        return Fraction(25)
    return Fraction(rate).limit_denominator(1001)


def _atomic_target(out_path: Path, suffix: str) -> Path:
    out_path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{out_path.name}.", suffix=suffix, dir=out_path.parent)
    os.close(fd)
    return Path(tmp)


def render_preview(
    src_path: str | os.PathLike[str],
    start_s: float,
    end_s: float,
    out_path: str | os.PathLike[str],
    width: int = 320,
    fps: float | None = None,
    audio: bool = False,
) -> Path:
    """Encode ``[start_s, end_s)`` of ``src_path`` as a WebM (VP8) ``width`` pixels wide.

    Silent unless ``audio``: then the source's first audio track, when it has one, comes
    along as Opus (48 kHz stereo) cut to the same range. ``fps=None`` keeps the source's
    frame rate; otherwise frames are picked (or repeated) to give that rate. Returns
    ``out_path``. Raises MediaError when the source cannot be read or has no frame in the
    range, InvalidInput for a bad range or size.
    """
    out_file = Path(out_path)
    if not (math.isfinite(start_s) and math.isfinite(end_s)) or start_s < 0 or end_s <= start_s:
        raise InvalidInput(f"preview range must satisfy 0 <= start < end, got start={start_s} end={end_s}")
    if width < 2:
        raise InvalidInput(f"preview width must be at least 2 pixels, got {width}")
    if fps is not None and fps <= 0:
        raise InvalidInput(f"preview fps must be positive, got {fps}")

    tmp = _atomic_target(out_file, ".part.webm")
    try:
        with open_container(src_path) as source:
            stream = video_stream(source, src_path)
            if not stream.codec_context.width or not stream.codec_context.height:
                raise MediaError(f"{src_path}: video stream has no picture size; the file is corrupt")
            size = preview_size(
                stream.codec_context.width, stream.codec_context.height, stream.sample_aspect_ratio, width
            )
            decode_reduced(stream, needed_width=size[0])  # a huge source is not held at full size
            rate = Fraction(fps).limit_denominator(1001) if fps else _frame_rate(stream)
            frames = _frames_in_range(source, stream, start_s, end_s, rate, src_path)
            sound = _audio_in_range(src_path, start_s, end_s) if audio else None
            written = _encode_webm(frames, tmp, size, rate, sound, bit_rate=_VP8_MAX_BIT_RATE * max(1, size[0] // 320))
        if written == 0:
            raise MediaError(
                f"{src_path}: no frame between {start_s:.2f} s and {end_s:.2f} s; the range lies outside the video"
            )
        os.replace(tmp, out_file)
    finally:
        tmp.unlink(missing_ok=True)
    return out_file


def _decode_from(
    source: InputContainer, stream: VideoStream, seek_seconds: float | None
) -> Iterator[tuple[float, VideoFrame]]:
    """Decoded frames with a time for each, starting at the keyframe before ``seek_seconds``."""
    if seek_seconds is not None:
        time_base = stream.time_base  # set on every demuxed stream; None only on one being built for output
        source.seek(int(seek_seconds / time_base), stream=stream, backward=True, any_frame=False)  # type: ignore[operator]
    previous: float | None = None
    step = 1.0 / float(_frame_rate(stream))
    for frame in source.decode(stream):
        t = frame.time
        if t is None:  # a frame without a timestamp follows the one before it
            if previous is None:
                return  # cannot place it; the caller decodes from the beginning instead
            t = previous + step
        previous = t
        yield float(t), frame


def _frames_in_range(
    source: InputContainer,
    stream: VideoStream,
    start_s: float,
    end_s: float,
    rate: Fraction,
    src_path: str | os.PathLike[str],
) -> Iterator[VideoFrame]:
    """Yield one source frame per output tick ``start_s + k / rate`` inside ``[start_s, end_s)``.

    The frame for a tick is the one on screen at that time; half a source frame of slack
    absorbs timestamp rounding, so a clip from frame a to cut b gives frames a .. b-1.
    """
    source_period = 1.0 / float(_frame_rate(stream))
    slack = 0.5 * source_period
    try:
        first: tuple[float, VideoFrame] | None = None
        decoded: Iterator[tuple[float, VideoFrame]] = iter(())
        # Some demuxers (MPEG program streams) land after the target even when asked for
        # the keyframe before it: step further back, and decode from the start at worst.
        for back_off in _SEEK_BACK_OFFS:
            target = start_s - back_off
            if target <= 0:
                break
            try:
                decoded = _decode_from(source, stream, target)
                first = next(decoded, None)
            except av.error.FFmpegError as exc:
                log.warning("%s: seeking to %.2f s failed (%s); decoding from the start", src_path, target, exc)
                first = None
                break
            if first is not None and first[0] <= start_s + slack:
                break
            first = None  # landed after the start, or past the end: seek further back
        if first is None:
            if start_s > 0:
                source.seek(0, stream=stream, backward=True, any_frame=False)
            decoded = _decode_from(source, stream, None)
            first = next(decoded, None)
    except av.error.FFmpegError as exc:
        raise MediaError(
            f"{src_path}: could not decode near {start_s:.2f} s: {exc.strerror or exc}; "
            "the file is corrupt or truncated"
        ) from None
    if first is None:
        return
    if first[0] > start_s + slack:
        start_s = first[0]  # nothing is shown before the first frame: start there
    period = 1.0 / float(rate)
    # A tick belongs to the range when more than half of its frame time lies inside it.
    ticks = max(1, math.ceil((end_s - start_s) / period - 0.5))

    def all_frames() -> Iterator[tuple[float, VideoFrame]]:
        yield first
        try:
            yield from decoded
        except av.error.FFmpegError as exc:
            # A damaged tail still leaves a usable preview of what came before it.
            log.warning("%s: decoding stopped after %.2f s: %s", src_path, current[0], exc.strerror or exc)

    tick = 0
    current = first  # the frame on screen at the next tick
    for t, frame in all_frames():
        while tick < ticks and t > start_s + tick * period + slack:
            yield current[1]  # the next frame comes after this tick: the current one is shown
            tick += 1
        if tick >= ticks or t >= end_s + slack:
            break
        current = (t, frame)
    else:
        # The video ended inside the range: the last frame is shown for one frame time.
        while tick < ticks and start_s + tick * period < current[0] + source_period - slack:
            yield current[1]
            tick += 1
        return
    while tick < ticks:
        yield current[1]
        tick += 1


def _audio_in_range(src_path: str | os.PathLike[str], start_s: float, end_s: float) -> npt.NDArray[np.float32] | None:
    """The source's first audio track over ``[start_s, end_s)`` as 48 kHz stereo float samples
    (shape (2, n)); None when the file has no audio, or it cannot be decoded (the preview
    then stays silent rather than failing: the picture is what the player is for)."""
    try:
        with open_container(src_path) as source:
            if not source.streams.audio:
                return None
            stream = source.streams.audio[0]
            resampler = AudioResampler(format="fltp", layout="stereo", rate=_AUDIO_RATE)
            chunks: list[npt.NDArray[np.float32]] = []
            first_time: float | None = None
            if start_s > 1.0 and stream.time_base:
                source.seek(int((start_s - 1.0) / stream.time_base), stream=stream, backward=True)
            for frame in _audio_frames(source, stream):
                if frame.time is None:
                    continue
                if first_time is None:
                    first_time = float(frame.time)
                if frame.time >= end_s:
                    break
                for out in resampler.resample(frame):
                    chunks.append(out.to_ndarray().astype(np.float32, copy=False))
            for out in resampler.resample(None):
                chunks.append(out.to_ndarray().astype(np.float32, copy=False))
    except (av.error.FFmpegError, ValueError) as exc:
        log.warning("%s: the audio could not be decoded (%s); the preview is silent", src_path, exc)
        return None
    if first_time is None or not chunks:
        return None
    samples = np.concatenate(chunks, axis=1)
    begin = max(0, round((start_s - first_time) * _AUDIO_RATE))
    end = max(begin, round((end_s - first_time) * _AUDIO_RATE))
    cut = samples[:, begin:end]
    if first_time > start_s:  # the audio starts after the clip does: silence until it does
        lead = np.zeros((2, round((first_time - start_s) * _AUDIO_RATE)), np.float32)
        cut = np.concatenate([lead, samples[:, :end]], axis=1)
    return np.ascontiguousarray(cut) if cut.shape[1] else None


def _audio_frames(source: InputContainer, stream: AudioStream) -> Iterator[AudioFrame]:
    """Decoded audio frames; a packet that does not decode (an MPEG program stream's first
    MP2/MP3 packet after a seek lands mid-frame) is skipped, not the end of the sound."""
    for packet in source.demux(stream):
        try:
            yield from packet.decode()  # type: ignore[misc]
        except av.error.InvalidDataError:
            continue


def _encode_audio(out: OutputContainer, samples: npt.NDArray[np.float32]) -> list[Packet]:
    """Opus packets of ``samples`` (2 x n, 48 kHz), in frames of the encoder's size."""
    stream = out.add_stream("libopus", rate=_AUDIO_RATE, layout="stereo")
    stream.bit_rate = _OPUS_BIT_RATE
    packets: list[Packet] = []
    step = 960  # 20 ms, libopus's default frame
    for start in range(0, samples.shape[1], step):
        part = samples[:, start : start + step]
        if part.shape[1] < step:
            part = np.pad(part, ((0, 0), (0, step - part.shape[1])))
        frame = AudioFrame.from_ndarray(np.ascontiguousarray(part), format="fltp", layout="stereo")
        frame.sample_rate = _AUDIO_RATE
        frame.pts = start
        frame.time_base = Fraction(1, _AUDIO_RATE)
        packets.extend(stream.encode(frame))
    packets.extend(stream.encode(None))
    return packets


def _encode_webm(
    frames: Iterable[VideoFrame],
    tmp: Path,
    size: tuple[int, int],
    rate: Fraction,
    sound: npt.NDArray[np.float32] | None = None,
    bit_rate: int = _VP8_MAX_BIT_RATE,
) -> int:
    out_w, out_h = size
    reformatter = VideoReformatter()  # one scaler reused for every frame
    count = 0
    with av.open(str(tmp), "w", format="webm") as out:
        video = out.add_stream("libvpx", rate=rate)
        video.width, video.height, video.pix_fmt = out_w, out_h, "yuv420p"
        video.codec_context.time_base = 1 / rate
        video.codec_context.gop_size = max(1, round(float(rate) * _KEYFRAME_SECONDS))
        video.bit_rate = bit_rate
        video.options = dict(_VP8_OPTIONS)
        # libvpx threads spin-wait; on a busy two-core machine one thread is several times faster.
        video.codec_context.thread_count = 1
        if sound is not None:
            out.mux(_encode_audio(out, sound))  # small (a few hundred packets): the muxer interleaves
        for frame in frames:
            scaled = reformatter.reformat(frame, width=out_w, height=out_h, format="yuv420p")
            scaled.pts = count
            scaled.time_base = video.codec_context.time_base
            out.mux(video.encode(scaled))
            count += 1
        out.mux(video.encode(None))
    return count


def render_thumbnail(
    rgb_array: npt.ArrayLike, out_path: str | os.PathLike[str], width: int = 320, quality: int = 85
) -> Path:
    """Save an RGB uint8 image (H x W x 3) as a JPEG ``width`` pixels wide (aspect kept)."""
    from PIL import Image

    out_file = Path(out_path)
    array = np.asarray(rgb_array)
    if array.ndim != 3 or array.shape[2] != 3 or array.shape[0] < 1 or array.shape[1] < 1:
        raise InvalidInput(f"thumbnail needs an RGB image of shape (height, width, 3), got {array.shape}")
    if width < 1:
        raise InvalidInput(f"thumbnail width must be at least 1 pixel, got {width}")
    if array.dtype != np.uint8:
        array = np.clip(array, 0, 255).astype(np.uint8)
    height = max(1, round(array.shape[0] * width / array.shape[1]))
    image = Image.fromarray(np.ascontiguousarray(array), "RGB")
    if image.size != (width, height):
        image = image.resize((width, height), Image.Resampling.BILINEAR, reducing_gap=2.0)
    tmp = _atomic_target(out_file, ".part.jpg")
    try:
        image.save(tmp, format="JPEG", quality=quality)
        os.replace(tmp, out_file)
    finally:
        tmp.unlink(missing_ok=True)
    return out_file
