"""Clip previews (WebM VP8) hold exactly the asked-for frames; thumbnails are JPEGs of the right size."""

from __future__ import annotations

from fractions import Fraction

import av
import numpy as np
import pytest
from PIL import Image
from videos import make_truncated_copy, read_stamp

from videoannotator.errors import InvalidInput, MediaError
from videoannotator.media.preview import preview_size, render_preview, render_thumbnail


def decode(path, width=None, height=None):
    """(times, RGB frames) of the first video stream."""
    with av.open(str(path)) as container:
        frames = list(container.decode(video=0))
    return (
        [float(f.time) for f in frames],
        [
            f.to_ndarray(width=width or f.width, height=height or f.height, format="rgb24").astype(np.float32)
            for f in frames
        ],
    )


def stream_facts(path):
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        count = sum(1 for _ in container.decode(stream))
        return (
            stream.codec_context.name,
            stream.codec_context.width,
            stream.codec_context.height,
            count,
            container.duration / 1e6,
        )


def test_freecol_five_seconds(tmp_path, freecol):
    out = render_preview(freecol, 10.0, 15.0, tmp_path / "p.webm")
    codec, width, height, frames, seconds = stream_facts(out)
    assert codec == "vp8"
    assert (width, height) == (320, 234)  # 640x480 with 295:288 pixels is 655.6x480 on screen
    assert abs(frames - 125) <= 2
    assert seconds == pytest.approx(5.0, abs=2 / 25)


@pytest.mark.parametrize("suffix", [".mp4", ".mpg", ".avi", ".webm"])
@pytest.mark.parametrize("first, last", [(40, 70), (50, 61), (0, 40), (70, 120)])
def test_preview_holds_exactly_the_frames_of_the_range(tmp_path, cut_video, suffix, first, last):
    """Frames first..last-1 of the source, no more, no fewer, read from each frame's index stamp."""
    video = cut_video([40, 30, 50], suffix=suffix, stamp=True)
    times, source = decode(video.path)
    assert [read_stamp(frame) for frame in source] == list(range(120))
    start = times[first]  # the source's own clock (.mpg starts at 0.54 s)
    end = times[last] if last < len(times) else times[-1] + 1 / video.fps
    out = render_preview(video.path, start, end, tmp_path / "p.webm")
    _, preview = decode(out)
    assert [read_stamp(frame) for frame in preview] == list(range(first, last))


def test_dimensions_are_even_and_follow_the_width(tmp_path, bikes):
    out = render_preview(bikes, 1.0, 2.0, tmp_path / "p.webm", width=201)
    _, width, height, _, _ = stream_facts(out)
    assert width % 2 == 0 and height % 2 == 0
    assert width in (200, 202)
    assert height == pytest.approx(width * 272 / 640, abs=2)


def test_preview_size_keeps_the_displayed_aspect():
    assert preview_size(640, 480, None, 320) == (320, 240)
    assert preview_size(720, 576, Fraction(16, 15), 320) == (320, 240)  # PAL 4:3
    assert preview_size(640, 480, Fraction(295, 288), 320) == (320, 234)
    assert preview_size(641, 480, Fraction(1), 321)[0] % 2 == 0


def test_fps_option_resamples(tmp_path, freecol):
    out = render_preview(freecol, 10.0, 15.0, tmp_path / "p.webm", fps=10)
    _, _, _, frames, seconds = stream_facts(out)
    assert frames == 50
    assert seconds == pytest.approx(5.0, abs=2 / 10)


def test_range_past_the_end_stops_at_the_last_frame(tmp_path, bikes):
    out = render_preview(bikes, 8.0, 12.0, tmp_path / "p.webm")
    _, _, _, frames, seconds = stream_facts(out)
    assert frames == 50
    assert seconds == pytest.approx(2.0, abs=2 / 25)


def test_existing_preview_is_replaced_and_no_temp_left(tmp_path, bikes):
    out = tmp_path / "p.webm"
    out.write_bytes(b"old")
    render_preview(bikes, 0.0, 1.0, out)
    assert stream_facts(out)[0] == "vp8"
    assert [p.name for p in tmp_path.iterdir()] == ["p.webm"]


@pytest.mark.parametrize("start, end", [(2.0, 2.0), (3.0, 1.0), (-1.0, 1.0), (0.0, float("nan"))])
def test_bad_range_is_invalid_input(tmp_path, bikes, start, end):
    with pytest.raises(InvalidInput, match="0 <= start < end"):
        render_preview(bikes, start, end, tmp_path / "p.webm")
    assert list(tmp_path.iterdir()) == []


def test_range_after_the_end_is_a_media_error(tmp_path, bikes):
    with pytest.raises(MediaError, match="outside the video"):
        render_preview(bikes, 20.0, 25.0, tmp_path / "p.webm")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize(
    "kind, message",
    [("garbage", "corrupt"), ("text", "corrupt"), ("empty", "empty"), ("audio_only", "no video stream")],
)
def test_bad_sources_are_media_errors(tmp_path, bad_media, kind, message):
    with pytest.raises(MediaError, match=message):
        render_preview(bad_media[kind], 0.0, 1.0, tmp_path / "out" / "p.webm")
    assert list((tmp_path / "out").iterdir()) == []


def test_truncated_mp4_without_its_index_is_a_media_error(tmp_path, bad_media):
    with pytest.raises(MediaError, match="truncated"):
        render_preview(bad_media["truncated"], 0.0, 1.0, tmp_path / "p.webm")


def test_truncated_stream_gives_the_frames_it_still_has(tmp_path, cut_video):
    video = cut_video([40, 30, 50], suffix=".mpg", stamp=True)
    truncated = make_truncated_copy(video.path, tmp_path / "cut-short.mpg", fraction=0.5)
    times, _ = decode(video.path)
    out = render_preview(truncated, times[0], times[-1] + 0.04, tmp_path / "p.webm")
    _, preview = decode(out)
    stamps = [read_stamp(frame) for frame in preview]
    assert 20 < len(stamps) < 100
    # the last, half-received picture may be concealed with its predecessor's content
    assert stamps[:-1] == list(range(len(stamps) - 1)) and stamps[-1] in (len(stamps) - 2, len(stamps) - 1)


def test_thumbnail_is_a_jpeg_of_the_asked_width(tmp_path):
    rgb = np.zeros((120, 160, 3), np.uint8)
    rgb[:, :80] = (255, 0, 0)
    out = render_thumbnail(rgb, tmp_path / "t.jpg", width=320)
    with Image.open(out) as image:
        assert image.format == "JPEG" and image.size == (320, 240)
        left, right = np.asarray(image)[120, 40], np.asarray(image)[120, 280]
    assert left[0] > 200 and left[1] < 50 and right.max() < 50
    assert [p.name for p in tmp_path.iterdir()] == ["t.jpg"]


@pytest.mark.parametrize("shape", [(120, 160), (120, 160, 4), (0, 160, 3)])
def test_thumbnail_needs_an_rgb_image(tmp_path, shape):
    with pytest.raises(InvalidInput, match="RGB image"):
        render_thumbnail(np.zeros(shape, np.uint8), tmp_path / "t.jpg")
    assert list(tmp_path.iterdir()) == []
