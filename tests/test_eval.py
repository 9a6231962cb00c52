"""The evaluation harness on cases whose answers are known.

Fast: synthetic separable vectors (a linear model must rank perfectly), a perfect text
vector (zero-shot AP is exactly 1), the held-out split never reaching a strategy, the
bandits, the report, the dataset formats, the slideshow generator and cut scoring.
Slow (marked): the real Fashion-MNIST images and the slideshow suite end to end.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner

from videoannotator.errors import InvalidInput
from videoannotator.eval import bandits, report, simulate, strategies
from videoannotator.eval.cuts import match_cuts, score_cuts
from videoannotator.eval.datasets import (
    Concept,
    Dataset,
    heldout_mask,
    load_generic,
    load_paper,
    load_workspace,
    save_generic,
)
from videoannotator.eval.simulate import EvalConfig, run_experiment, run_label
from videoannotator.eval.slideshow import make_slideshow
from videoannotator.eval.synthetic import make_synthetic

FASHION = Path("/usr/share/datasets/fashion-mnist")


@pytest.fixture(scope="module")
def separable():
    return make_synthetic(n=2500, dim=16, labels=2, positive_rate=0.15, margin=0.08, seed=3)


@pytest.fixture(scope="module")
def separable_results(separable):
    config = EvalConfig(budgets=(25, 100, 250), seeds=2, C=30.0, jobs=1)
    return run_experiment(separable, config)


# -- known answers -----------------------------------------------------------------------
def test_perfect_text_vector_gives_zero_shot_ap_one(separable_results):
    for lab in separable_results["labels"].values():
        for entry in lab["methods"]["zero-shot"].values():
            assert entry["ap"] == 1.0


def test_va_and_random_rank_separable_concepts_perfectly(separable_results):
    for name, lab in separable_results["labels"].items():
        assert lab["methods"]["va"]["250"]["ap"] >= 0.98, name
        assert lab["methods"]["random"]["250"]["ap"] >= 0.95, name
        # Every va training set holds both classes once the loop has run a round.
        assert lab["methods"]["va"]["100"]["train_positives"] > 0


def test_zs_top_with_only_positives_scores_the_positive_rate(separable_results):
    # A perfect text search returns only positives at 25: nothing to learn, a constant score.
    for lab in separable_results["labels"].values():
        rate = lab["info"]["heldout_positives"] / lab["info"]["heldout"]
        assert lab["methods"]["zs-top"]["25"]["ap"] == pytest.approx(rate, abs=1e-3)


def test_summary_gain_is_va_minus_best_baseline(separable_results):
    s = separable_results["summary"]
    for b, g in s["gain"]["va"].items():
        per_label = [
            lab["methods"]["va"][b]["ap"] - max(lab["methods"][m][b]["ap"] for m in s["baselines"])
            for lab in separable_results["labels"].values()
        ]
        assert g["vs_best_baseline"] == pytest.approx(float(np.median(per_label)), abs=1e-4)
        assert g["vs_best_baseline_ci"][0] <= g["vs_best_baseline"] <= g["vs_best_baseline_ci"][1]


def test_heldout_clips_never_reach_a_strategy(separable, monkeypatch):
    seen = []
    real_pool = simulate.Pool

    def spying_pool(X_train, X_search, text, annotate, C):
        def spy(positions):
            seen.append(np.array(X_search[np.asarray(positions)]))
            return annotate(positions)

        return real_pool(X_train, X_search, text, spy, C)

    monkeypatch.setattr(simulate, "Pool", spying_pool)
    config = EvalConfig(budgets=(25, 50, 100), seeds=2, mixes=("round-robin", "thompson"), jobs=1)
    concept = separable.concepts[0]
    run_label(separable, concept.name, config)
    held = concept.rows[heldout_mask(separable.keys[concept.rows], config.heldout, config.split_seed)]
    held_vectors = {v.tobytes() for v in separable.vectors[held]}
    annotated = np.concatenate(seen)
    assert len(annotated) > 100
    assert not any(v.tobytes() in held_vectors for v in annotated)


def test_heldout_split_depends_on_keys_only():
    keys = np.arange(10_000)
    mask = heldout_mask(keys, 0.3, seed=0)
    assert 0.27 < mask.mean() < 0.33
    perm = np.random.default_rng(0).permutation(keys.size)
    assert np.array_equal(heldout_mask(keys[perm], 0.3, seed=0), mask[perm])
    strings = np.array([f"shot-{k}" for k in range(2000)])
    s_mask = heldout_mask(strings, 0.2)
    assert np.array_equal(s_mask, heldout_mask(strings[::-1], 0.2)[::-1])
    assert not np.array_equal(mask, heldout_mask(keys, 0.3, seed=1))


def test_va_stops_exactly_at_each_budget_and_never_repeats_a_clip(separable):
    concept = separable.concepts[1]
    rows = concept.rows
    y = concept.truth(rows)
    pool = strategies.Pool(
        separable.vectors[rows], separable.vectors[rows], concept.text_vector, annotate=lambda pos: y[np.asarray(pos)]
    )
    sel = strategies.va_selection(pool, (10, 35, 60), seed=0, k=20, mix="ucb")
    assert sorted(sel.sets) == [10, 35, 60]
    for b, positions in sel.sets.items():
        assert len(positions) == b and len(set(positions.tolist())) == b
    assert np.array_equal(sel.sets[60][:35], sel.sets[35])
    assert sum(sel.trace["feed_clips"].values()) + sel.trace["before_first_build"] == 60


def test_baseline_training_sets(separable):
    concept = separable.concepts[0]
    rows = concept.rows
    pool = strategies.Pool(
        separable.vectors[rows],
        separable.vectors[rows],
        concept.text_vector,
        annotate=lambda pos: concept.truth(rows[np.asarray(pos)]),
    )
    zs = pool.zero_shot_scores()
    top = strategies.zs_top_selection(pool, (20,), 0).sets[20]
    assert set(top.tolist()) == set(np.argsort(-zs)[:20].tolist())
    mixed = strategies.zs_random_selection(pool, (21,), 0).sets[21]
    assert len(set(mixed.tolist())) == 21 and set(np.argsort(-zs)[:11].tolist()) <= set(mixed.tolist())
    r1 = strategies.random_selection(pool, (30,), 1).sets[30]
    assert not np.array_equal(r1, strategies.random_selection(pool, (30,), 2).sets[30])


# -- bandits -------------------------------------------------------------------------------
@pytest.mark.parametrize("mix", bandits.MIXES)
def test_every_mix_picks_feeds(mix):
    policy = bandits.make_policy(mix, seed=0)
    for _ in range(40):
        arm = policy.choose()
        assert arm in bandits.SOURCES
        policy.update(arm, 1.0 if arm == "borderline" else 0.0)


@pytest.mark.parametrize("mix", ["epsilon-greedy", "ucb", "exp3", "thompson"])
def test_bandits_learn_the_rewarding_feed(mix):
    policy = bandits.make_policy(mix, seed=1)
    picks = []
    for _ in range(300):
        arm = policy.choose()
        picks.append(arm)
        policy.update(arm, 0.9 if arm == "borderline" else 0.1)
    assert picks[-100:].count("borderline") > 60


def test_round_robin_and_unknown_mix():
    policy = bandits.make_policy("round-robin")
    assert [policy.choose() for _ in range(5)] == list(bandits.ARMS) + [bandits.ARMS[0]]
    with pytest.raises(InvalidInput, match="feed mix"):
        bandits.make_policy("greedy")


# -- datasets --------------------------------------------------------------------------------
def test_generic_format_round_trip(tmp_path, separable):
    ds = Dataset(
        "g",
        np.array([f"k{i}" for i in range(separable.keys.size)]),
        separable.vectors,
        separable.concepts,
        features=separable.vectors[:, ::-1].copy(),
        embedder=None,
    )
    save_generic(ds, tmp_path / "g")
    back = load_generic(tmp_path / "g")
    assert back.keys.tolist() == ds.keys.tolist()
    assert np.allclose(back.vectors, ds.vectors) and back.features.shape == ds.features.shape
    for a, b in zip(ds.concepts, back.concepts):
        assert np.array_equal(a.positives, b.positives) and np.array_equal(a.negatives, b.negatives)
        assert np.allclose(a.text_vector, b.text_vector)
    assert back.train_matrix("both").shape == (ds.keys.size, 32)
    manifest = json.loads((tmp_path / "g" / "dataset.json").read_text())
    manifest["labels"]["concept-0"]["positives"].append("nope")
    (tmp_path / "g" / "dataset.json").write_text(json.dumps(manifest))
    with pytest.raises(InvalidInput, match="not in keys.json"):
        load_generic(tmp_path / "g")


def test_concept_rejects_contradictions():
    with pytest.raises(InvalidInput, match="both positive and negative"):
        Concept("x", [1, 2], [2, 3])
    with pytest.raises(InvalidInput, match="needs positive and negative"):
        Concept("x", [], [2, 3])


def test_paper_layout_adapter(tmp_path):
    h5py = pytest.importorskip("h5py")
    rng = np.random.default_rng(0)
    keys = [f"shot{i}" for i in range(60)]
    (tmp_path / "shot-data.csv").write_text(
        "key,cluster_index\n" + "".join(f"{k},{i % 5}\n" for i, k in enumerate(keys))
    )
    with h5py.File(tmp_path / "embeddings.h5", "w") as hf:
        hf["embeddings"] = rng.standard_normal((60, 8)).astype(np.float32)
    (tmp_path / "agg").mkdir()
    data = [{"key": k, "agg": i < 10, "pos_cnt": 3 if i < 10 else 0} for i, k in enumerate(keys[:40])]
    data.append({"key": "unknown-shot", "agg": True, "pos_cnt": 2})
    (tmp_path / "agg" / "aerial.json").write_text(json.dumps({"data": data}))
    (tmp_path / "text-embeddings.json").write_text(json.dumps({"aerial": rng.standard_normal(8).tolist()}))
    (tmp_path / "task_descriptions.json").write_text(
        json.dumps({"aerial": {"description": "A shot from above", "keywords": "Drone Shots, Overhead"}})
    )
    ds = load_paper(tmp_path)
    c = ds.concept("aerial")
    assert c.positives.tolist() == list(range(10)) and c.negatives.tolist() == list(range(10, 40))
    assert c.keywords == ["Drone Shots", "Overhead"] and c.query.startswith("A shot from above")
    assert ds.meta["keys_not_in_shot_data"] == {"aerial": 1}
    assert np.allclose(np.linalg.norm(ds.vectors, axis=1), 1, atol=1e-5)


def test_workspace_suite_from_clip_ids_and_from_shots(tmp_path):
    from videoannotator.workspace import Workspace

    ws = Workspace(tmp_path / "home")
    clips = [
        {
            "start": i * 1.0,
            "end": (i + 1) * 1.0,
            "start_frame": i * 25,
            "end_frame": (i + 1) * 25,
            "sample_frames": [i * 25],
        }
        for i in range(6)
    ]
    info = {
        "path": "/videos/show.mp4",
        "content_hash": "hash",
        "duration": 6.0,
        "fps": 25.0,
        "width": 64,
        "height": 48,
        "frame_count": 150,
        "size_bytes": 1,
        "codec": "h264",
    }
    vectors = np.random.default_rng(0).standard_normal((6, 384)).astype(np.float32)
    ws.commit_video(info, clips, vectors / np.linalg.norm(vectors, axis=1, keepdims=True))
    by_ids = tmp_path / "ids.json"
    by_ids.write_text(json.dumps({"labels": {"red": {"description": "Red", "positives": [0, 1], "negatives": [2, 3]}}}))
    ds = load_workspace(ws, by_ids)
    assert ds.concept("red").positives.tolist() == [0, 1] and ds.concept("red").negatives.tolist() == [2, 3]
    assert ds.features is None and ws.train_space == "vectors"  # committed without features
    # A workspace that keeps classifier features hands them to the harness: it trains on
    # what Build trains on.
    ws2 = Workspace(tmp_path / "home2")
    feats = np.random.default_rng(1).standard_normal((6, 16)).astype(np.float32)
    ws2.commit_video(info, clips, vectors / np.linalg.norm(vectors, axis=1, keepdims=True), feats)
    ds2 = load_workspace(ws2, by_ids)
    assert ws2.train_space == "features" and np.array_equal(ds2.features, feats)
    assert ds2.train_matrix("features").shape == (6, 16)
    by_shots = tmp_path / "shots.json"
    by_shots.write_text(
        json.dumps(
            {
                "labels": {"red": {"description": "Red"}},
                "shots": [
                    {"video": "show.mp4", "start": 0.0, "end": 2.1, "labels": ["red"]},
                    {"video": "show.mp4", "start": 2.1, "end": 5.0, "labels": []},
                ],
            }
        )
    )
    ds = load_workspace(ws, by_shots)
    assert ds.concept("red").positives.tolist() == [0, 1]
    assert ds.concept("red").negatives.tolist() == [2, 3, 4]  # clip 5 overlaps no shot
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"labels": {"red": {"positives": [0, 99], "negatives": [2]}}}))
    with pytest.raises(InvalidInput, match="not in the workspace"):
        load_workspace(ws, bad)


# -- report and CLI ----------------------------------------------------------------------------
def test_cli_writes_table_plot_and_json(tmp_path):
    from videoannotator.cli import cli
    from videoannotator.cli import eval as cli_eval  # noqa: F401  (registers `va eval`)

    out = tmp_path / "out"
    result = CliRunner().invoke(
        cli,
        [
            "eval",
            "--suite",
            "synthetic",
            "--sample",
            "1200",
            "--budgets",
            "25,50",
            "--seeds",
            "1",
            "--jobs",
            "1",
            "--out",
            str(out),
            "--json",
        ],
    )
    assert result.exit_code == 0, result.output
    data = json.loads(result.output)
    assert set(data["summary"]["gain"]["va"]) == {"25", "50"}
    md = (out / "results.md").read_text()
    assert "## Median AP over labels" in md and "| va |" in md and "best baseline" in md
    assert (out / "ap-vs-annotations.png").read_bytes()[:4] == b"\x89PNG"
    human = CliRunner().invoke(
        cli,
        [
            "eval",
            "--suite",
            "synthetic",
            "--sample",
            "1200",
            "--budgets",
            "25",
            "--seeds",
            "1",
            "--jobs",
            "2",
            "--methods",
            "va,random",
            "-q",
            "--out",
            str(out),
        ],
    )
    assert human.exit_code == 0, human.output
    assert "median AP gain over the best baseline" in human.output


def test_config_rejects_bad_values():
    with pytest.raises(InvalidInput, match="unknown method"):
        EvalConfig(methods=("va", "oracle"))
    with pytest.raises(InvalidInput, match="budgets"):
        EvalConfig(budgets=(0,))


def test_markdown_reports_skipped_labels(separable_results):
    out = json.loads(json.dumps(separable_results))
    out["labels"]["tiny"] = {
        "info": {"heldout_positives": 0, "heldout": 3, "heldout_positive_rate": 0.0},
        "skipped": "no positive held out",
        "methods": {},
        "va_traces": {},
    }
    out["summary"] = report.summarise(out)
    assert out["summary"]["skipped"] == ["tiny"]
    assert "skipped: no positive held out" in report.markdown(out)


# -- slideshows and cuts ------------------------------------------------------------------------
def test_match_cuts():
    r = match_cuts([10, 50, 90], [11, 49, 70], tolerance=2)
    assert (r["matched"], r["missed"], r["spurious"]) == (2, [90], [70])
    assert r["recall"] == pytest.approx(2 / 3, abs=1e-3) and r["precision"] == pytest.approx(2 / 3, abs=1e-3)


def test_slideshow_has_known_cuts_that_detection_finds(tmp_path):
    from videoannotator.config import Settings

    rng = np.random.default_rng(0)
    images = [np.pad(rng.integers(0, 255, (20, 20), dtype=np.uint8), 4) for _ in range(4)]
    info = make_slideshow(tmp_path / "s.mp4", images, [["a"], [], ["a"], []], size=(96, 72), seed=1)
    assert len(info["cuts"]) == 3 and info["shots"][0]["labels"] == ["a"]
    assert info["frames"] == info["shots"][-1]["end_frame"]
    assert all(s["end_frame"] - s["start_frame"] >= 25 for s in info["shots"])
    truth = tmp_path / "truth.json"
    truth.write_text(json.dumps({"labels": {"a": {}}, "shots": info["shots"], "cuts": {"s.mp4": info["cuts"]}}))
    scores = score_cuts(truth, Settings.from_env(shot_detector="content-edges"))
    assert scores["recall"] == 1.0 and scores["precision"] == 1.0


# -- real data (slow) ----------------------------------------------------------------------------
def test_fashion_concepts_include_groups_and_rare_ones():
    from videoannotator.eval import fashion

    if not FASHION.exists():
        pytest.fail("Fashion-MNIST missing: apt-get install dataset-fashion-mnist")
    images, classes = fashion.load_images()
    assert images.shape == (70_000, 28, 28) and np.bincount(classes).tolist() == [7000] * 10
    sample = classes[fashion.sample_order()[:5000]]
    assert len(fashion.CONCEPTS) >= 8
    assert any(len(s.classes) >= 3 for s in fashion.CONCEPTS)
    rare = [s for s in fashion.CONCEPTS if s.rare_rate]
    assert rare
    for spec in rare:
        pos, neg = fashion.concept_rows(spec, sample)
        assert pos.size / (pos.size + neg.size) <= 0.05


@pytest.mark.slow
def test_fashion_suite_small_sample_end_to_end(tmp_path, monkeypatch):
    from videoannotator.eval import fashion

    monkeypatch.setenv("VA_CACHE", str(tmp_path / "cache"))
    ds = fashion.load(n=200, progress=False)
    # The features are what the product's Build trains on: its feature blocks, the first the
    # projected network features (unit rows; features/blocks.py).
    from videoannotator.features.blocks import offsets, width_of

    assert ds.vectors.shape == (200, 384) and ds.features.shape == (200, width_of(ds.feature_blocks))
    start, end = offsets(ds.feature_blocks)["semantic"]
    semantic_weight = next(b.weight for b in ds.feature_blocks if b.name == "semantic")
    np.testing.assert_allclose(np.linalg.norm(ds.features[:, start:end], axis=1), semantic_weight, atol=1e-5)
    out = run_experiment(ds.select(["footwear", "upper-body"]), EvalConfig(budgets=(25, 50), seeds=1, jobs=1))
    for lab in out["labels"].values():
        assert lab["methods"]["va"]["50"]["ap"] > lab["info"]["heldout_positive_rate"]
    again = fashion.load(n=200, progress=False)  # from the cache, embedding nothing
    assert again.meta["embedding"]["embedded_images"] == 0
    # --fashion-features full: all 1,280 network features (what the projection is measured
    # against), from the same cache; their projection is exactly the product's features.
    full = fashion.load(n=200, progress=False, features="full")
    assert full.meta["embedding"]["embedded_images"] == 0 and full.features.shape == (200, 1280)
    from videoannotator.embed.efficientnet_lite import head_projection

    projected = full.features @ head_projection(384)
    projected /= np.linalg.norm(projected, axis=1, keepdims=True)
    np.testing.assert_allclose(projected * semantic_weight, ds.features[:, start:end], atol=1e-4)
    alone = fashion.load(n=200, progress=False, features="semantic")  # the projection alone, as before the blocks
    np.testing.assert_allclose(projected, alone.features, atol=1e-4)
    with pytest.raises(InvalidInput, match="features must be one of"):
        fashion.load(n=200, progress=False, features="raw")


@pytest.mark.slow
def test_slideshow_suite_end_to_end(tmp_path):
    from videoannotator.config import Settings
    from videoannotator.eval.suites import run_slideshow

    settings = Settings.from_env(shot_detector="content-edges")
    out = run_slideshow(
        tmp_path,
        EvalConfig(budgets=(5, 10), seeds=1, k=5, jobs=1),
        n_videos=1,
        shots_per_video=24,
        progress=False,
        settings=settings,
        labels=["upper-body"],
    )
    assert out["shot_detection"]["true"] == 23 and out["shot_detection"]["recall"] == 1.0
    assert out["summary"]["labels"] == 1 and out["dataset"]["clips"] == 24
