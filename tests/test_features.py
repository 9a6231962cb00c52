"""Feature blocks (features/): motion, layout and colour on frames with known answers; ingest
stores the recorded layout; an older workspace still ingests and `reembed` upgrades it; the
evaluation picks blocks by name."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from videoannotator.errors import InvalidInput
from videoannotator.eval.datasets import Concept, Dataset
from videoannotator.eval.simulate import EvalConfig
from videoannotator.features import blocks, colour, layout, motion
from videoannotator.workspace import Workspace

FPS = 25.0


def _texture(seed: int = 0, size: tuple[int, int] = (400, 700)) -> np.ndarray:
    rng = np.random.default_rng(seed)
    grey = cv2.GaussianBlur((rng.random(size) * 255).astype(np.uint8), (0, 0), 2)
    return cv2.cvtColor(grey, cv2.COLOR_GRAY2BGR)


def _filmed(kind: str, n: int = 50, step: int = 3) -> list[np.ndarray]:
    """160x90 detection frames of a textured scene: a window of 480x270 moved ``step`` px per
    frame (1 px at detection scale for step 3), still, shaken, or shrinking (zoom in)."""
    big, rng = _texture(), np.random.default_rng(1)
    frames = []
    for i in range(n):
        if kind == "zoom":
            scale = 1 - 0.006 * i
            crop = cv2.getRectSubPix(big, (int(480 * scale), int(270 * scale)), (350, 200))
        else:
            x0, y0 = {
                "pan": (100 + step * i, 100),
                "static": (100, 100),
                "shake": (100 + int(rng.integers(-4, 5)), 100 + int(rng.integers(-4, 5))),
            }[kind]
            crop = big[y0 : y0 + 270, x0 : x0 + 480]
        frames.append(cv2.resize(crop, (160, 90), interpolation=cv2.INTER_AREA))
    return frames


def _motion(kind: str) -> tuple[np.ndarray, dict[str, float]]:
    tracker = motion.MotionTracker(FPS)
    for i, frame in enumerate(_filmed(kind)):
        tracker.push(i, frame)
    rows = tracker.array()
    return rows, dict(zip(motion.NAMES, motion.motion_block(rows, FPS, 2.0, 4.0).tolist()))


def test_a_pan_of_one_pixel_per_frame_measures_about_one_pixel():
    rows, block = _motion("pan")
    # The window moves right 1 px/frame at detection scale: the content moves left.
    dx_px = float(rows[:, 1].mean()) * 160
    assert -1.25 < dx_px < -0.75
    assert abs(float(rows[:, 2].mean()) * 160) < 0.1  # no vertical move
    assert block["dx"] < -0.3 and block["speed"] > 0.2 and block["consistency"] > 0.9
    assert block["static"] == 0.0


def test_a_static_shot_measures_nothing_moving():
    rows, block = _motion("static")
    assert np.abs(rows[:, 1:3]).max() < 1e-3 and block["speed"] < 0.01 and block["static"] == 1.0
    assert block["diff"] < 0.01 and abs(block["zoom"]) < 0.01


def test_a_zoom_in_gives_a_positive_scale_rate_and_little_shift():
    _, block = _motion("zoom")
    assert block["zoom"] > 0.3 and block["zoom_abs"] > 0.3
    assert block["speed"] < 0.1


def test_shake_gives_jitter_without_a_direction():
    _, shake = _motion("shake")
    _, pan = _motion("pan")
    assert shake["jitter"] > 0.2 > pan["jitter"]
    assert shake["consistency"] < 0.3 < pan["consistency"]


def test_clip_and_shot_length_and_a_still():
    block = dict(zip(motion.NAMES, motion.motion_block(np.zeros((0, 6), np.float32), FPS, 0.0, 60.0)))
    assert block["clip_s"] == 0.0 and block["shot_s"] == pytest.approx(1.0) and block["static"] == 1.0


def test_rows_in_keeps_only_comparisons_inside_the_clip():
    rows = np.array([[i, 0, 0, 0, 0, 1] for i in range(0, 20, 2)], np.float32)
    inside = motion.rows_in(rows, 4, 10, stride=2)
    assert inside[:, 0].tolist() == [6.0, 8.0]  # 4 would compare frame 2, before the clip


def test_layout_a_small_subject_concentrates_where_a_full_frame_one_spreads():
    small = np.full((180, 320, 3), 90, np.uint8)
    small[70:110, 140:180] = cv2.cvtColor(_texture(2, (40, 40)), cv2.COLOR_BGR2RGB)
    full = cv2.cvtColor(cv2.resize(_texture(3), (320, 180)), cv2.COLOR_BGR2RGB)
    centre = [5, 6, 9, 10]  # the four middle cells of the 4x4 grid
    small_shares = layout.layout_block([small], None)[: layout.CELLS]
    full_shares = layout.layout_block([full], None)[: layout.CELLS]
    assert small_shares[centre].sum() > 0.9 and 0.15 < full_shares[centre].sum() < 0.4
    assert small_shares.sum() == pytest.approx(1.0) and full_shares.sum() == pytest.approx(1.0)
    energy = np.arange(16, dtype=np.float32)
    with_energy = layout.layout_block([small], energy)
    assert with_energy[layout.CELLS + 1 : 2 * layout.CELLS + 1] == pytest.approx(energy / energy.sum())
    assert layout.layout_block([small], None)[layout.CELLS + 1 :].tolist() == [0.0] * (layout.CELLS + 1)


def test_colour_of_flat_images_gives_the_known_values():
    red = dict(zip(colour.NAMES, colour.colour_block([np.full((40, 60, 3), (255, 0, 0), np.uint8)]).tolist()))
    assert red["sat"] == pytest.approx(1.0) and red["value"] == pytest.approx(1.0)
    assert red["hue_cos"] == pytest.approx(1.0) and abs(red["hue_sin"]) < 1e-6
    assert red["warm"] == 1.0 and red["hue_1"] == pytest.approx(1.0) and red["bright"] == 1.0
    assert red["val_std"] == 0.0 and red["dark"] == 0.0
    grey = dict(zip(colour.NAMES, colour.colour_block([np.full((40, 60, 3), 51, np.uint8)]).tolist()))
    assert grey["sat"] == 0.0 and grey["value"] == pytest.approx(0.2) and grey["colourful"] == 0.0
    assert grey["warm"] == 0.0 and grey["dark"] == 0.0 and grey["bright"] == 0.0
    night = dict(zip(colour.NAMES, colour.colour_block([np.full((40, 60, 3), 10, np.uint8)]).tolist()))
    assert night["dark"] == 1.0


# -- the layout of the rows --------------------------------------------------------------------
LAYOUT = (blocks.Block("semantic", 4, 1.0), blocks.Block("motion", 2, 1.0), blocks.Block("colour", 3, 2.0))


def test_layout_text_round_trips_and_select_and_convert_pick_columns():
    assert blocks.parse_layout(blocks.format_layout(LAYOUT)) == LAYOUT
    m = np.arange(3 * 9, dtype=np.float32).reshape(3, 9)
    picked, out = blocks.select(m, LAYOUT, "motion,colour:1")
    np.testing.assert_array_equal(picked[:, :2], m[:, 4:6])
    np.testing.assert_allclose(picked[:, 2:], m[:, 6:9] * 0.5)  # stored at weight 2, asked for 1
    assert [b.name for b in out] == ["motion", "colour"] and out[1].weight == 1.0
    np.testing.assert_array_equal(blocks.convert(m, LAYOUT, LAYOUT[:1]), m[:, :4])
    with pytest.raises(ValueError, match="'layout'"):
        blocks.convert(m, LAYOUT, (blocks.Block("layout", 34, 1.0),))
    with pytest.raises(InvalidInput, match="no feature block 'mid'"):
        blocks.select(m, LAYOUT, "semantic,mid")


def test_eval_block_selection_trains_on_the_named_columns():
    rng = np.random.default_rng(0)
    feats = rng.normal(size=(40, 9)).astype(np.float32)
    concept = Concept("x", np.arange(10), np.arange(10, 40))
    ds = Dataset("t", np.arange(40), rng.normal(size=(40, 5)), [concept], features=feats, feature_blocks=LAYOUT)
    np.testing.assert_array_equal(ds.train_matrix("features"), feats)  # as stored: the product's rows
    np.testing.assert_array_equal(
        ds.train_matrix("features", "colour:2,semantic"), np.hstack([feats[:, 6:], feats[:, :4]])
    )
    assert ds.select(["x"]).feature_blocks == LAYOUT
    plain = Dataset("p", np.arange(40), rng.normal(size=(40, 5)), [concept], features=feats)
    with pytest.raises(InvalidInput, match="no named feature blocks"):
        plain.train_matrix("features", "semantic")
    with pytest.raises(InvalidInput, match="must be a number"):
        EvalConfig(feature_blocks="motion:x")
    with pytest.raises(InvalidInput, match="wide"):
        Dataset("w", np.arange(40), rng.normal(size=(40, 5)), [concept], features=feats[:, :5], feature_blocks=LAYOUT)


# -- ingest and reembed on real videos ---------------------------------------------------------
@pytest.fixture(scope="module")
def embedder():
    from videoannotator.embed import get_embedder

    return get_embedder()


def _pan_video(path: Path, frames: int = 75) -> Path:
    """A 320x180 H.264 video panning right 2 px per frame (1 px at the 160-px detection width)."""
    from videoannotator.eval.slideshow import write_video

    big = cv2.cvtColor(_texture(4, (400, 800)), cv2.COLOR_BGR2RGB)
    write_video(path, (big[100:280, 50 + 2 * i : 370 + 2 * i] for i in range(frames)), 25)
    return path


def _unscaled(ws: Workspace, name: str) -> np.ndarray:
    stored = blocks.stored_layout(ws.catalog.get_meta, ws.feature_dim)
    lo, hi = blocks.offsets(stored)[name]
    block = next(b for b in stored if b.name == name)
    return np.asarray(ws.train_vectors())[:, lo:hi] / (block.weight / np.sqrt(block.width))


def test_ingest_stores_the_recorded_width_and_block_layout(tmp_path, bikes, embedder):
    ws = Workspace(tmp_path / "home", embedder=embedder)
    pan = _pan_video(tmp_path / "pan.mp4")
    report = ws.ingest([bikes, pan], progress=False)
    assert report.ok and report.notice is None
    expected = blocks.product_layout(embedder)
    assert ws.catalog.get_meta("feature_blocks") == blocks.format_layout(expected)
    assert ws.feature_dim == blocks.width_of(expected) == np.asarray(ws.train_vectors()).shape[1]
    assert [b.name for b in expected][:1] == ["semantic"]
    move = dict(zip(motion.NAMES, _unscaled(ws, "motion")[-1]))  # the pan video's only clip
    assert move["dx"] < -0.3 and move["consistency"] > 0.9 and move["static"] < 0.2
    assert move["clip_s"] == pytest.approx(np.log1p(3.0) / motion.LENGTH_SCALE, abs=0.02)


def test_a_workspace_from_before_the_blocks_still_ingests_and_reembed_upgrades_it(
    tmp_path, bikes, embedder, monkeypatch
):
    home = tmp_path / "home"
    monkeypatch.setenv("VA_FEATURE_BLOCKS", "semantic")
    old = Workspace(home, embedder=embedder)
    assert old.ingest([bikes], progress=False).ok
    with old.catalog.transaction() as db:  # as a workspace from before the blocks (either backend)
        db.execute("DELETE FROM meta WHERE key='feature_blocks'")
    old.catalog.close()
    monkeypatch.delenv("VA_FEATURE_BLOCKS")
    ws = Workspace(home, embedder=embedder)
    assert ws.feature_dim == 384
    report = ws.ingest([_pan_video(tmp_path / "pan.mp4")], progress=False)
    assert report.ok and "va reembed" in (report.notice or "")
    assert ws.feature_dim == 384 and np.asarray(ws.train_vectors()).shape == (ws.clip_count(), 384)
    before = np.asarray(ws.train_vectors()).copy()
    result = ws.reembed(embedder, progress=False)
    full = blocks.product_layout(embedder)
    assert result["feature_dim"] == ws.feature_dim == blocks.width_of(full)
    assert ws.catalog.get_meta("feature_blocks") == blocks.format_layout(full)
    after = np.asarray(ws.train_vectors())
    np.testing.assert_allclose(after[:, :384], before, atol=2e-3)  # the semantic block is the same
    move = dict(zip(motion.NAMES, _unscaled(ws, "motion")[-1]))
    assert move["dx"] < -0.3 and move["consistency"] > 0.9
