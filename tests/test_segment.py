"""Shot boundaries and clip plans on generated videos whose cuts are known exactly."""

import pytest
from videos import make_cut_video, make_similar_cut_video

from videoannotator.errors import InvalidInput
from videoannotator.media.clips import sample_positions, split_shot
from videoannotator.media.segment import SegmentOptions, SegmentStats, segment


def cut(path, **options):
    stats = SegmentStats()
    info, clips = segment(path, SegmentOptions(**options), stats)
    return info, list(clips), stats


@pytest.mark.parametrize("suffix", [".mp4", ".mpg", ".webm", ".avi"])
def test_cuts_found_within_a_frame(tmp_path, suffix):
    true_cuts = make_cut_video(tmp_path / f"v{suffix}", [40, 30, 50, 25])
    _info, clips, stats = cut(tmp_path / f"v{suffix}")
    assert len(stats.cuts) == len(true_cuts)
    for found, true in zip(stats.cuts, true_cuts):
        assert abs(found - true) <= 1, (stats.cuts, true_cuts)
    assert [c.start_frame for c in clips] == [0] + stats.cuts
    assert clips[-1].end_frame == stats.frames == 145


def test_clip_times_follow_frames(tmp_path):
    make_cut_video(tmp_path / "v.mp4", [50, 50], fps=25)
    _, clips, _ = cut(tmp_path / "v.mp4")
    assert [round(c.start, 2) for c in clips] == [0.0, 2.0]
    assert round(clips[-1].end, 2) == 4.0


def test_default_detector_misses_cuts_between_similar_drawings_edges_detector_finds_them(tmp_path):
    true_cuts = make_similar_cut_video(tmp_path / "d.mp4", [40, 30, 50])
    _, _, plain = cut(tmp_path / "d.mp4")
    _, _clips, edges = cut(tmp_path / "d.mp4", detector="content-edges")
    assert plain.cuts == []  # documented limitation of the fast default (docs/benchmarks.md)
    assert len(edges.cuts) == len(true_cuts)
    assert all(abs(f - t) <= 1 for f, t in zip(edges.cuts, true_cuts))


def test_long_shot_split_evenly_and_short_shots_merged(tmp_path):
    make_cut_video(tmp_path / "long.mp4", [250, 8, 40], fps=25)  # 10 s, a 0.32 s flash, 1.6 s
    _, clips, _ = cut(tmp_path / "long.mp4", max_clip_seconds=4.0, min_shot_seconds=0.5)
    lengths = [c.end_frame - c.start_frame for c in clips]
    assert lengths[:3] == [83, 83, 84]  # 250 frames in three near-equal clips of <= 4 s
    assert all(length >= 12 for length in lengths)  # no clip shorter than min_shot_seconds
    assert sum(lengths) == 298


@pytest.mark.parametrize("k", [1, 3, 5])
def test_k_frames_spread_over_each_clip(tmp_path, k):
    make_cut_video(tmp_path / "v.mp4", [60, 60])
    _, clips, _ = cut(tmp_path / "v.mp4", frames_per_clip=k)
    for c in clips:
        assert len(c.images) == len(c.sample_frames) == k
        assert all(c.start_frame <= f < c.end_frame for f in c.sample_frames)
        assert c.sample_frames == sorted(c.sample_frames)
        assert c.images[0].shape[1] == 160 and c.images[0].dtype.name == "uint8"


def test_plans():
    assert split_shot(0, 100, 10.0, 4.0) == [(0, 33), (33, 66), (66, 100)]
    assert split_shot(5, 6, 25.0, 10.0) == [(5, 6)]
    assert sample_positions(0, 90, 3) == [15, 45, 75]


def test_unknown_detector_is_a_clear_error(tmp_path):
    make_cut_video(tmp_path / "v.mp4", [30])
    with pytest.raises(InvalidInput, match="unknown shot detector 'nope'; choose one of: content"):
        cut(tmp_path / "v.mp4", detector="nope")
