"""The generated suites (eval/scenes.py): each one on a small case whose answer is known.

camera-motion  the motion measured between decoded frames (phase correlation, scale search)
               is the move the truth records: pans slide one way, static shots do not move,
               zooms change scale, handheld shots jitter; an item crossing the scene
               changes a small part of each frame
shot-scale     the subject covers much of a close-up and little of a wide shot (measured on
               pixels, and recorded in the truth); each subject appears at every scale
rare           the rare labels are on <= 3% of shots, spread over every video
multi-subject  two-subject shots carry both subjects' labels; a dissolve is gradual and is
               not in the truth's cut list
footage        8 labels on about 4% of shots each, photo shots with none, missed cuts
seeds          the same seed gives the same truth and bytes; seeds 0 and 1 share no image
end to end     `va eval --suite camera-motion` on 2 videos x 8 shots: every label and method
"""

from __future__ import annotations

import itertools
import json
from pathlib import Path

import av
import numpy as np
import pytest
from click.testing import CliRunner
from PIL import Image

from videoannotator.cli import cli
from videoannotator.eval import scene_render as sr
from videoannotator.eval import scenes

FASHION = Path("/usr/share/datasets/fashion-mnist")


@pytest.fixture(autouse=True)
def _needs_fashion_mnist():
    if not FASHION.is_dir():
        pytest.fail("Debian dataset-fashion-mnist is not installed (make deps)")


def _grey_frames(path: Path) -> list[np.ndarray]:
    with av.open(str(path)) as container:
        return [f.to_ndarray(format="gray").astype(np.float32) for f in container.decode(video=0)]


def _shift(a: np.ndarray, b: np.ndarray) -> tuple[float, float]:
    """(dy, dx) that moves b back onto a: phase correlation, whole pixels."""
    fa, fb = np.fft.fft2(a - a.mean()), np.fft.fft2(b - b.mean())
    cross = fa * np.conj(fb)
    corr = np.fft.ifft2(cross / (np.abs(cross) + 1e-9)).real
    dy, dx = np.unravel_index(int(np.argmax(corr)), corr.shape)
    h, w = corr.shape
    return float(dy - h if dy > h // 2 else dy), float(dx - w if dx > w // 2 else dx)


def _best_zoom(first: np.ndarray, last: np.ndarray) -> float:
    """The magnification r for which the centre 1/r of ``first``, enlarged, best matches ``last``."""
    h, w = first.shape
    errors = {}
    for r in (1.0, 1.25, 1.5, 1.75, 2.0):
        cw, ch = w / r, h / r
        box = ((w - cw) / 2, (h - ch) / 2, (w + cw) / 2, (h + ch) / 2)
        grown = np.asarray(Image.fromarray(first).resize((w, h), Image.Resampling.BILINEAR, box=box))
        errors[r] = float(np.abs(grown[20:-20, 20:-20] - last[20:-20, 20:-20]).mean())
    return min(errors, key=errors.get)


def test_camera_motion_moves_as_the_truth_says(tmp_path):
    truth = json.loads(scenes.generate("camera-motion", tmp_path, seed=0, n_videos=1, shots_per_video=8).read_text())
    frames = _grey_frames(tmp_path / "camera-motion-00.mp4")
    assert len(frames) == truth["shots"][-1]["end_frame"]
    seen = set()
    for shot in truth["shots"]:
        move = shot["move"]
        seen.add(move.split("-")[0])
        f = frames[shot["start_frame"] + 1 : shot["end_frame"] - 1]
        shifts = np.asarray([_shift(a, b) for a, b in itertools.pairwise(f)])  # (n, 2): dy, dx a frame
        dy, dx = shifts[:, 0], shifts[:, 1]
        apart = np.asarray([_shift(a, b) for a, b in zip(f[:-4], f[4:])])  # ... over 4 frames (slow pans)
        expected = {"pan": "pan" in move, "zoom": "zoom" in move, "handheld": move == "handheld"}
        assert shot["labels"] == sorted(k for k, v in expected.items() if v), shot
        changed = np.median([np.mean(np.abs(a - b) > 10) for a, b in itertools.pairwise(f)])
        if "mover" in shot:  # an item crosses the scene: some pixels change each frame, most do not
            assert 0.002 < changed < 0.5, (shot, changed)
        if move == "static":
            assert _best_zoom(f[0], f[-1]) == 1.0, shot
            assert np.abs(shifts).max() == 0 if "mover" not in shot else changed < 0.5, shot
        elif move.startswith("pan-"):
            along, across = (apart[:, 1], apart[:, 0]) if move in ("pan-left", "pan-right") else apart.T
            sign = -1 if move in ("pan-left", "pan-up") else 1  # the view goes left: the scene slides right
            assert np.median(along) * sign >= 2 and np.mean(along * sign > 0) >= 0.8, (shot, along)
            assert np.abs(np.median(across)) <= 0.5
        elif move.startswith("zoom-"):
            r = _best_zoom(f[0], f[-1]) if move == "zoom-in" else _best_zoom(f[-1], f[0])
            assert r >= 1.25, (shot, r)  # the suite zooms by 1.25-1.8x
            if "mover" not in shot:  # the centre stays put: no steady slide, unlike a pan
                mid = [a[88:152, 128:192] for a in f]  # the central 64x64
                centre = np.asarray([_shift(a, b) for a, b in zip(mid[:-4], mid[4:])])
                assert np.abs(np.median(centre, axis=0)).max() <= 1, (shot, np.median(centre, axis=0))
        else:  # handheld: small, fast, back and forth
            assert dx.std() >= 0.5 and dy.std() >= 0.5, (shot, dx.std(), dy.std())
            for d in (dx, dy):  # back and forth: the net drift is a small part of the way travelled
                assert abs(d.sum()) < 0.5 * np.abs(d).sum() and np.abs(d).max() <= 12, (shot, d)
    assert seen == {"static", "pan", "zoom", "handheld"}


def test_shot_scale_subject_share_by_scale(tmp_path):
    truth = json.loads(scenes.generate("shot-scale", tmp_path, seed=0, n_videos=1, shots_per_video=6).read_text())
    by_subject: dict[str, dict[str, float]] = {}
    for shot in truth["shots"]:
        by_subject.setdefault(shot["subjects"][0], {})[shot["scale"]] = shot["subject_share"]
        assert shot["labels"] == ([] if shot["scale"] == "medium" else [shot["scale"]])
    for shares in by_subject.values():  # every subject at every scale, its share of the frame in order
        assert shares["close-up"] > 0.25 > shares["medium"] > shares["wide"] and shares["wide"] < 0.05, shares

    # On pixels: a subject pasted at each scale's height on a flat canvas, filmed, counted.
    rng = np.random.default_rng(0)
    items, _ = sr.fashion_block(0)
    subject = sr.fashion_subject(rng, items[0])
    W, H = sr.CANVAS
    for scale in scenes.SCALES:
        canvas = np.full((H, W, 3), 128, np.uint8)
        path = sr.camera_path("static", 3, rng, width=(0.6, 0.6), centre=(W / 2, H / 2))
        view = (path[0, 2], path[0, 2] * sr.FRAME[1] / sr.FRAME[0])
        alpha = sr.paste(canvas, subject, W / 2, H / 2, scenes.subject_height(scale, subject[1].shape, view, 0.5))
        frame = sr.film(canvas, path)[1]
        covered = float(np.mean(np.abs(frame.astype(int) - 128).max(axis=2) > 12))
        assert abs(covered - sr.view_share(alpha, path)) < 0.2  # soft edges: counted whole here
        assert {"close-up": covered > 0.25, "medium": 0.03 < covered < 0.5, "wide": covered < 0.03}[scale], scale


def test_rare_labels_are_rare_and_spread_over_the_videos():
    truth = scenes.plan_truth("rare", seed=0)  # default size; nothing drawn
    shots = truth["shots"]
    n_videos = len(truth["cuts"])
    assert len(truth["labels"]) == 8
    for name in truth["labels"]:
        positives = [s for s in shots if name in s["labels"]]
        if name in ("trousers", "sandal", "ankle-boot"):
            assert 0 < len(positives) <= 0.03 * len(shots), name
            assert len({s["video"] for s in positives}) == n_videos, name
        else:
            assert len(positives) > 0.03 * len(shots), name
    assert any(not s["labels"] for s in shots)  # photo shots show no item


def test_footage_is_like_the_held_back_suite():
    truth = scenes.plan_truth("footage", seed=0)  # default size; nothing drawn
    shots = truth["shots"]
    assert len(truth["labels"]) == 8
    shares = [sum(name in s["labels"] for s in shots) / len(shots) for name in truth["labels"]]
    assert all(0.015 < share < 0.07 for share in shares) and 0.03 < float(np.median(shares)) < 0.05, shares
    kinds = {s["kind"] for s in shots}
    assert kinds == {"photo", "single", "side-by-side", "dissolve"}
    assert all(not s["labels"] for s in shots if s["kind"] == "photo")
    cuts = {(s["video"], s["start_frame"] + s["missed_cut"]) for s in shots if s["kind"] == "dissolve"}
    assert cuts and not any(frame in truth["cuts"][video] for video, frame in cuts)


def test_multi_subject_shots_carry_both_labels_and_dissolves_hide_no_cut(tmp_path):
    truth = json.loads(scenes.generate("multi-subject", tmp_path, seed=0, n_videos=1, shots_per_video=10).read_text())
    from videoannotator.eval.fashion import CONCEPTS, load_images

    _, classes = load_images()
    specs = [c for c in CONCEPTS if c.rare_rate is None]
    cuts = set(truth["cuts"]["multi-subject-00.mp4"])
    assert cuts == {s["start_frame"] for s in truth["shots"]} - {0}
    kinds = {s["kind"] for s in truth["shots"]}
    assert kinds == {"single", "side-by-side", "dissolve"}
    # Grey-level histograms change at once at a cut and little a frame in a dissolve (camera moves
    # on a textured backdrop change pixels, not their histogram).
    hists = [
        np.histogram(f, bins=32, range=(0, 256))[0] / f.size for f in _grey_frames(tmp_path / "multi-subject-00.mp4")
    ]
    step = [float(np.abs(a - b).sum()) for a, b in itertools.pairwise(hists)]
    at_cuts = np.median([step[c - 1] for c in cuts])
    for shot in truth["shots"]:
        rows = [int(key.split(":")[1]) for key in shot["subjects"]]
        assert len(rows) == (1 if shot["kind"] == "single" else 2)
        assert shot["labels"] == sorted({c.name for r in rows for c in specs if classes[r] in c.classes})
        if shot["kind"] == "dissolve":
            missed = shot["start_frame"] + shot["missed_cut"]
            assert missed not in cuts
            inside = step[shot["start_frame"] + 1 : shot["end_frame"] - 2]
            assert max(inside) < at_cuts / 3, (max(inside), at_cuts)  # gradual, unlike a cut


def test_a_dissolve_blends_linearly():
    a, b = [np.zeros((4, 4, 3), np.uint8)] * 10, [np.full((4, 4, 3), 240, np.uint8)] * 10
    faded = sr.cross_fade(a, b, 5)
    assert len(faded) == 15
    assert [int(f[0, 0, 0]) for f in faded[4:11]] == [0, 40, 80, 120, 160, 200, 240]


def test_same_seed_same_suite_other_seed_other_images(tmp_path):
    def images(truth):
        return {key.split("#")[0] for s in truth["shots"] for key in s["subjects"]}

    for suite in scenes.SCENE_SUITES:
        zero = scenes.plan_truth(suite, seed=0, n_videos=2, shots_per_video=20)
        assert scenes.plan_truth(suite, seed=0, n_videos=2, shots_per_video=20) == zero
        one = scenes.plan_truth(suite, seed=1, n_videos=2, shots_per_video=20)
        assert zero != one and not images(zero) & images(one), suite
    a = scenes.generate("shot-scale", tmp_path / "a", seed=3, n_videos=1, shots_per_video=3)
    b = scenes.generate("shot-scale", tmp_path / "b", seed=3, n_videos=1, shots_per_video=3)
    assert a.read_text() == b.read_text()
    assert (a.parent / "shot-scale-00.mp4").read_bytes() == (b.parent / "shot-scale-00.mp4").read_bytes()


def test_va_eval_camera_motion_end_to_end(tmp_path):
    out = tmp_path / "out"
    args = ["--home", str(tmp_path / "unused"), "eval", "--suite", "camera-motion", "--videos", "2", "--shots", "8"]
    args += ["--budgets", "5,10", "--seeds", "1", "--heldout", "0.4", "--jobs", "1", "--out", str(out), "--json"]
    result = CliRunner().invoke(cli, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    written = json.loads((out / "results.json").read_text())
    assert written["suite"] == "camera-motion" and written["generation"]["seed"] == 0
    assert written["generation"]["shots_in_truth"] == 16 and written["generation"]["clips"] >= 8
    assert (out / "results.md").exists() and (out / "ap-vs-annotations.png").exists()
    labels = written["labels"]
    assert set(labels) == {"pan", "zoom", "handheld"}
    for name, row in labels.items():
        assert not row.get("skipped"), (name, row.get("skipped"))
        assert set(row["methods"]) == {"va", "random", "zero-shot", "zs-top", "zs+random"}, name
    # Again on the same folder: videos, workspace and cut scores are reused.
    again = CliRunner().invoke(cli, [*args, "--labels", "pan", "--methods", "random"], catch_exceptions=False)
    timings = json.loads(again.stdout)["timings_s"]
    assert timings["generate"] < 1 and timings["score_cuts"] < 1, timings
    made = CliRunner().invoke(
        cli, ["eval", "scenes", "rare", str(tmp_path / "r"), "--videos", "1", "--shots", "4", "--json"]
    )
    assert made.exit_code == 0, made.output
    summary = json.loads(made.stdout)  # `va eval scenes` prints one JSON document
    assert summary["shots"] == 4 and len(summary["labels"]) == 8 and Path(summary["truth"]).exists()
