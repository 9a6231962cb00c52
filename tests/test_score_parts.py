"""The pure parts of production scoring (videoannotator.score): segments, exports, plot, artifact, table."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys

import numpy as np
import opentimelineio as otio
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from PIL import Image

from videoannotator.errors import InvalidInput
from videoannotator.learn.decision import is_positive
from videoannotator.score import (
    ARTIFACT_FORMAT,
    ArtifactError,
    ArtifactMismatch,
    apply_artifact,
    decode_array,
    edl_rate,
    encode_array,
    label_color,
    load_artifact,
    merge_segments,
    positive,
    segments_csv,
    segments_timeline,
    timeline_png,
    videos_timeline,
    write_edl,
    write_otio,
    write_rows,
)
from videoannotator.score.plot import tick_step, timecode


def _clips(probabilities, length=2.0, gaps=()):
    """Back-to-back clips of ``length`` seconds; an index in ``gaps`` starts one second late."""
    clips, t = [], 0.0
    for i, p in enumerate(probabilities):
        if i in gaps:
            t += 1.0
        clips.append({"clip_id": 100 + i, "start": t, "end": t + length, "probability": p})
        t += length
    return clips


# --- segments -------------------------------------------------------------------------------


def test_contiguous_positive_clips_merge_into_one_segment_with_peak_and_weighted_mean():
    clips = [
        {"clip_id": 1, "start": 0.0, "end": 1.0, "probability": 0.2},
        {"clip_id": 2, "start": 1.0, "end": 4.0, "probability": 0.9},  # 3 s
        {"clip_id": 3, "start": 4.02, "end": 5.0, "probability": 0.6},  # a 0.02 s gap: still contiguous; 0.98 s
        {"clip_id": 4, "start": 5.0, "end": 6.0, "probability": 0.1},
    ]
    [segment] = merge_segments(clips, 0.5, "establishing", 3)
    assert segment["label"] == "establishing" and segment["version"] == 3
    assert (segment["start"], segment["end"]) == (1.0, 5.0)
    assert segment["clips"] == [2, 3]
    assert segment["peak"] == 0.9
    assert segment["mean"] == pytest.approx((0.9 * 3.0 + 0.6 * 0.98) / 3.98)
    assert segment["mean"] != pytest.approx((0.9 + 0.6) / 2)  # weighted, not plain


def test_a_gap_or_a_negative_clip_splits_segments():
    clips = _clips([0.9, 0.8, 0.7, 0.1, 0.9], gaps={2})  # clip 2 starts 1 s after clip 1 ends
    segments = merge_segments(clips, 0.5, "x", 1)
    assert [s["clips"] for s in segments] == [[100, 101], [102], [104]]
    # a larger tolerance bridges the 1 s gap (but never the negative clip)
    wide = merge_segments(clips, 0.5, "x", 1, max_gap=1.5)
    assert [s["clips"] for s in wide] == [[100, 101, 102], [104]]


def test_single_clip_none_above_and_the_threshold_itself_is_negative():
    [one] = merge_segments(_clips([0.7]), 0.5, "x", 2)
    assert one["clips"] == [100] and one["peak"] == one["mean"] == 0.7
    assert merge_segments(_clips([0.1, 0.2, 0.3]), 0.5, "x", 1) == []
    assert merge_segments([], 0.5, "x", 1) == []
    # equal to the threshold is negative (the product's rule), just above is positive
    assert merge_segments(_clips([0.5, 0.5]), 0.5, "x", 1) == []
    assert [s["clips"] for s in merge_segments(_clips([0.5, 0.5000001]), 0.5, "x", 1)] == [[101]]
    assert merge_segments(_clips([float("nan")]), 0.5, "x", 1) == []


def test_clips_out_of_order_are_sorted_by_time():
    clips = _clips([0.9, 0.9, 0.1, 0.9])
    [first, second] = merge_segments(list(reversed(clips)), 0.5, "x", 1)
    assert first["clips"] == [100, 101] and second["clips"] == [103]


# --- OTIO and EDL ---------------------------------------------------------------------------

SEGMENTS = [
    {"label": "establishing shots", "version": 3, "start": 2.0, "end": 6.0, "peak": 0.9, "mean": 0.85, "clips": [1, 2]},
    {"label": "close-up", "version": 1, "start": 8.0, "end": 12.5, "peak": 0.95, "mean": 0.7, "clips": [4, 5, 6]},
]


def test_the_otio_file_reads_back_with_one_marker_per_segment(tmp_path):
    timeline = segments_timeline("film.mp4", str(tmp_path / "film.mp4"), 20.0, 25.0, SEGMENTS)
    path = tmp_path / "film.otio"
    write_otio(timeline, path)
    back = otio.adapters.read_from_file(str(path))
    [track] = back.video_tracks()
    [clip] = list(track.find_clips())
    assert clip.name == "film.mp4"
    assert clip.media_reference.target_url == (tmp_path / "film.mp4").as_uri()
    available = clip.media_reference.available_range
    assert (available.start_time.value, available.duration.value, available.duration.rate) == (0, 500, 25.0)
    markers = list(clip.markers)
    assert [m.name for m in markers] == ["establishing shots", "close-up"]
    ranges = [(m.marked_range.start_time.value, m.marked_range.duration.value) for m in markers]
    assert ranges == [(50, 100), (200, 112)]  # frames at 25 fps: 2 s → 50, 4 s → 100; 8 s → 200, 4.5 s → 112.5 → 112
    assert [m.marked_range.start_time.rate for m in markers] == [25.0, 25.0]
    assert [m.color for m in markers] == [label_color("establishing shots"), label_color("close-up")]
    meta = markers[0].metadata["videoannotator"]
    assert (meta["label"], meta["version"], meta["peak"], meta["mean"]) == ("establishing shots", 3, 0.9, 0.85)


def test_several_videos_make_one_timeline_with_a_clip_each_in_sequence(tmp_path):
    timeline = videos_timeline(
        [
            {"video": "a.mp4", "path": "/media/a.mp4", "duration": 10.0, "fps": 24.0, "segments": SEGMENTS[:1]},
            {"video": "b.mp4", "path": "/media/b.mp4", "duration": 30.0, "fps": 30.0, "segments": SEGMENTS},
        ]
    )
    path = tmp_path / "all.otio"
    write_otio(timeline, path)
    back = otio.adapters.read_from_file(str(path))
    clips = list(back.find_clips())
    assert [c.name for c in clips] == ["a.mp4", "b.mp4"]
    assert [len(c.markers) for c in clips] == [1, 2]
    assert clips[1].range_in_parent().start_time.to_seconds() == pytest.approx(10.0)
    assert clips[1].markers[1].marked_range.start_time.to_seconds() == pytest.approx(8.0)


@pytest.mark.parametrize("fps", [25.0, 24000 / 1001, 30000 / 1001, 15.0])
def test_the_edl_reads_back_with_one_edit_and_one_locator_per_segment(tmp_path, fps):
    timeline = segments_timeline("My film.mp4", "/media/My film.mp4", 20.0, fps, SEGMENTS)
    path = tmp_path / "film.edl"
    write_edl(timeline, path)
    rate = edl_rate(fps)
    back = otio.adapters.read_from_file(str(path), rate=rate)
    clips = list(back.find_clips())
    assert [c.name for c in clips] == ["establishing shots v3 #1", "close-up v1 #1"]
    # the edits' source ranges are the segments' (whole frames of the video, at the EDL's rate)
    frames = [(round(s["start"] * fps), round(s["end"] * fps)) for s in SEGMENTS]
    scale = 1.0 if round(fps) != fps and rate == round(fps) else rate / fps  # 29.97 → 30 keeps frame numbers
    got = [(c.source_range.start_time.value, c.source_range.end_time_exclusive().value) for c in clips]
    assert got == [(round(a * scale), round(b * scale)) for a, b in frames]
    locators = [[(m.name, m.marked_range.start_time.value) for m in c.markers] for c in clips]
    assert locators == [[("ESTABLISHING SHOTS", got[0][0])], [("CLOSE-UP", got[1][0])]]
    assert [c.markers[0].color for c in clips] == [label_color("establishing shots"), label_color("close-up")]


def test_the_edl_of_markers_keeps_one_edit_and_a_locator_per_segment_start(tmp_path):
    timeline = segments_timeline("film.mp4", "/media/film.mp4", 20.0, 25.0, SEGMENTS)
    path = tmp_path / "markers.edl"
    write_edl(timeline, path, as_edits=False)
    [clip] = list(otio.adapters.read_from_file(str(path), rate=25).find_clips())
    assert clip.source_range.duration.value == 500
    assert [(m.name, m.marked_range.start_time.value) for m in clip.markers] == [
        ("ESTABLISHING SHOTS", 50),
        ("CLOSE-UP", 200),
    ]
    # the original timeline is untouched by the writer
    assert len(next(iter(timeline.find_clips())).markers) == 2


def test_no_segments_still_make_valid_files(tmp_path):
    timeline = segments_timeline("film.mp4", "/media/film.mp4", 20.0, 25.0, [])
    write_otio(timeline, tmp_path / "empty.otio")
    write_edl(timeline, tmp_path / "empty.edl")
    [clip] = list(otio.adapters.read_from_file(str(tmp_path / "empty.otio")).find_clips())
    assert len(clip.markers) == 0
    assert list(otio.adapters.read_from_file(str(tmp_path / "empty.edl"), rate=25).find_clips()) == []


def test_segments_csv_has_a_row_per_segment_and_no_formulas():
    text = segments_csv(SEGMENTS, video="=HYPERLINK(1)")
    rows = list(csv.DictReader(io.StringIO(text)))
    assert [r["label"] for r in rows] == ["establishing shots", "close-up"]
    assert rows[1]["start"] == "8.000" and rows[1]["end"] == "12.500" and rows[1]["duration"] == "4.500"
    assert rows[1]["clips"] == "4 5 6" and rows[0]["peak"] == "0.9000" and rows[0]["version"] == "3"
    assert rows[0]["video"] == "'=HYPERLINK(1)"
    assert "video" not in next(csv.DictReader(io.StringIO(segments_csv(SEGMENTS))))


# --- plot -------------------------------------------------------------------------------------


def test_the_timeline_png_is_drawn_with_a_row_per_label(tmp_path):
    tracks = []
    for i, (label, threshold) in enumerate([("establishing", 0.6), ("close-up", 0.3)]):
        probabilities = [0.1, 0.4, 0.8, 0.9, 0.2, 0.7, 0.05][i:] + [0.5] * i
        clips = _clips(probabilities, length=20.0)
        tracks.append(
            {
                "label": label,
                "version": i + 1,
                "threshold": threshold,
                "clips": clips,
                "segments": merge_segments(clips, threshold, label, i + 1),
            }
        )
    path = tmp_path / "timeline.png"
    timeline_png({"video": "film.mp4", "duration": 140.0, "tracks": tracks}, path)
    assert path.stat().st_size > 10_000
    with Image.open(path) as image:
        assert image.format == "PNG"
        assert image.size == (1200, round((0.9 + 1.5 * 2) * 100))
        colours = image.convert("RGB").getcolors(maxcolors=1_000_000)
    assert colours is not None and len(colours) > 50  # not one colour: lines, shading, text
    rgb = {c for _, c in colours}
    assert (0x1F, 0x77, 0xB4) in rgb and (0xD6, 0x27, 0x28) in rgb  # the two labels' step lines


def test_time_ticks_are_round_and_labelled_as_timecode():
    assert [tick_step(d) for d in (10.0, 140.0, 300.0, 5400.0)] == [1.0, 15.0, 30.0, 600.0]
    assert [timecode(s) for s in (0.0, 75.4, 3725.0)] == ["0:00", "1:15", "1:02:05"]


def test_a_timeline_without_tracks_still_draws(tmp_path):
    path = tmp_path / "empty.png"
    timeline_png({"video": "film.mp4", "duration": 10.0, "tracks": []}, path)
    with Image.open(path) as image:
        assert image.size[0] == 1200 and len(image.convert("RGB").getcolors(maxcolors=1_000_000) or []) > 2


# --- artifact ---------------------------------------------------------------------------------


def _artifact(rng, dim=8, projection=None):
    weights = rng.normal(size=dim)
    artifact = {
        "format": ARTIFACT_FORMAT,
        "label": "establishing",
        "version": 2,
        "embedder": {"name": "conse-effnet-minilm", "version": "1"},
        "trained_on": "features",
        "dim": dim,
        "weights": encode_array(weights),
        "intercept": -0.3,
        "calibration": {"a": 1.7, "b": 0.2},
        "threshold": {"probability": 0.6, "logit": 0.0, "rule": "f1-best", "precision": 0.8, "recall": 0.7},
        "metrics": {"ap": 0.9},
        "snapshot": {"positives": 10, "negatives": 20, "last_annotation_id": 99},
        "created_at": "2026-12-03T08:00:00Z",
    }
    if projection is not None:
        artifact["projection"] = {**encode_array(projection), "normalise": "l2"}
    return artifact, weights


def _direct(x, weights, intercept=-0.3, a=1.7, b=0.2):
    return 1.0 / (1.0 + np.exp(-(a * (x @ weights + intercept) + b)))


def test_the_artifact_round_trips_through_json_and_scores_like_numpy(tmp_path):
    rng = np.random.default_rng(0)
    artifact, weights = _artifact(rng)
    path = tmp_path / "model.json"
    path.write_text(json.dumps(artifact))
    loaded = load_artifact(path)
    x = rng.normal(size=(50, 8)).astype(np.float32)
    p = apply_artifact(loaded, x, "conse-effnet-minilm")
    assert p.shape == (50,)
    np.testing.assert_allclose(p, _direct(x.astype(np.float64), weights), rtol=1e-6)
    assert apply_artifact(loaded, x[0], "conse-effnet-minilm").shape == (1,)
    np.testing.assert_array_equal(decode_array(loaded["weights"]), weights)  # float64 kept exactly


def test_the_projection_path_projects_and_normalises_first():
    rng = np.random.default_rng(1)
    projection = rng.normal(size=(20, 8)).astype(np.float32)
    artifact, weights = _artifact(rng, projection=projection)
    raw = rng.normal(size=(30, 20)).astype(np.float32)
    projected = raw @ projection
    projected = projected / np.linalg.norm(projected, axis=1, keepdims=True)
    expected = _direct(projected.astype(np.float64), weights)
    np.testing.assert_allclose(apply_artifact(artifact, raw, "conse-effnet-minilm"), expected, rtol=1e-5)
    # already-projected vectors (the width of the weights) are scored directly
    np.testing.assert_allclose(apply_artifact(artifact, projected, "conse-effnet-minilm"), expected, rtol=1e-5)


def test_another_embedders_vectors_are_refused_with_one_line():
    rng = np.random.default_rng(2)
    artifact, _ = _artifact(rng)
    with pytest.raises(ArtifactMismatch) as err:
        apply_artifact(artifact, rng.normal(size=(3, 8)), "hf:openai/clip-vit-base-patch32")
    message = str(err.value)
    assert "\n" not in message and isinstance(err.value, ValueError)
    assert "conse-effnet-minilm" in message and "hf:openai/clip-vit-base-patch32" in message and "8-d" in message
    with pytest.raises(ArtifactMismatch) as wide:  # the right embedder, the wrong width
        apply_artifact(artifact, rng.normal(size=(3, 12)), "conse-effnet-minilm")
    assert "\n" not in str(wide.value) and "12-d" in str(wide.value)


def test_positive_is_the_products_rule_and_the_format_is_checked(tmp_path):
    rng = np.random.default_rng(3)
    artifact, _ = _artifact(rng)
    probabilities = np.array([0.2, 0.6, 0.6000001, 0.9, np.nan])
    np.testing.assert_array_equal(positive(artifact, probabilities), is_positive(probabilities, 0.6))
    assert positive(artifact, probabilities).tolist() == [False, False, True, True, False]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({**artifact, "format": "something/2"}))
    with pytest.raises(ArtifactError, match="videoannotator.model/1"):
        load_artifact(bad)
    bad.write_text("not json")
    with pytest.raises(ArtifactError):
        load_artifact(bad)


def test_encoded_arrays_round_trip_and_bad_ones_are_refused():
    a = np.arange(12, dtype=np.float32).reshape(3, 4)
    encoded = encode_array(a)
    assert encoded["dtype"] == "float32" and encoded["shape"] == [3, 4]
    back = decode_array(json.loads(json.dumps(encoded)))
    assert back.dtype == np.float32
    np.testing.assert_array_equal(back, a)
    with pytest.raises(ArtifactError):
        decode_array({**encoded, "shape": [5, 4]})


def test_importing_the_score_package_and_applying_an_artifact_pulls_no_torch_or_sklearn():
    code = (
        "import sys; import videoannotator.score as s; "
        "from videoannotator.score import load_artifact, apply_artifact, ArtifactMismatch; "
        "heavy = sorted(m for m in ('torch', 'sklearn', 'matplotlib', 'pyarrow', 'opentimelineio') if m in sys.modules); "
        "print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


# --- table ------------------------------------------------------------------------------------

ROWS = [
    {
        "video": "a.mp4",
        "clip_id": 1,
        "start": 0.0,
        "end": 2.5,
        "label": "x",
        "version": 2,
        "probability": 0.75,
        "positive": True,
    },
    {
        "video": "b.mp4",
        "clip_id": 2**40,
        "start": 2.5,
        "end": 3.125,
        "label": "x",
        "version": 2,
        "probability": 0.25,
        "positive": False,
    },
]


def test_parquet_reads_back_equal_with_the_declared_types(tmp_path):
    path = tmp_path / "scores.parquet"
    write_rows(ROWS, path)
    table = pq.read_table(path)
    types = {f.name: f.type for f in table.schema}
    assert types == {
        "video": pa.string(),
        "clip_id": pa.int64(),
        "start": pa.float64(),
        "end": pa.float64(),
        "label": pa.string(),
        "version": pa.int32(),
        "probability": pa.float32(),
        "positive": pa.bool_(),
    }
    assert table.to_pylist() == ROWS  # 0.75 and 0.25 are exact in float32
    write_rows([], tmp_path / "empty.parquet")
    assert pq.read_table(tmp_path / "empty.parquet").num_rows == 0


def test_csv_reads_back_with_the_csv_module(tmp_path):
    path = tmp_path / "scores.CSV"
    write_rows(ROWS, path)
    with open(path, newline="") as f:
        rows = list(csv.DictReader(f))
    assert list(rows[0]) == ["video", "clip_id", "start", "end", "label", "version", "probability", "positive"]
    assert [r["positive"] for r in rows] == ["true", "false"]
    assert [int(r["clip_id"]) for r in rows] == [1, 2**40]
    assert [float(r["end"]) for r in rows] == [2.5, 3.125]
    assert [float(r["probability"]) for r in rows] == [0.75, 0.25]


def test_another_extension_is_refused_with_one_line(tmp_path):
    with pytest.raises(InvalidInput) as err:
        write_rows(ROWS, tmp_path / "scores.xlsx")
    assert "\n" not in str(err.value) and ".parquet" in str(err.value) and ".csv" in str(err.value)
    assert not list(tmp_path.iterdir())


def test_a_failed_write_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    path = tmp_path / "scores.parquet"
    write_rows(ROWS, path)
    before = path.read_bytes()

    def broken(table, where, **kwargs):
        with open(where, "wb") as f:
            f.write(b"PAR1 half a file")
        raise OSError("disk full")

    monkeypatch.setattr(pq, "write_table", broken)
    with pytest.raises(OSError, match="disk full"):
        write_rows(ROWS[:1], path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["scores.parquet"]
