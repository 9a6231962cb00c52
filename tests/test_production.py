"""The workspace side of production (registry, scoring, monitoring) on a synthetic workspace:
real SQLite, real builds, no model to load."""

import numpy as np
import pytest

from videoannotator.bench.synthetic import commit_random_video as _commit
from videoannotator.errors import NotReady
from videoannotator.monitor.stats import psi, stratified_recall, wilson
from videoannotator.score.production import score_new_clips
from videoannotator.workspace import Workspace


@pytest.fixture
def ws(tmp_path):
    rng = np.random.default_rng(3)
    ws = Workspace(tmp_path / "home", embedder="conse-effnet-minilm")
    for v in range(4):
        _commit(ws, rng, f"corpus-{v}", 150, 16)
    ws.create_label("red")
    X = np.asarray(ws.vectors())
    direction = np.ones(16, dtype=np.float32)
    order = np.argsort(X @ direction)
    ws.annotate("red", [int(c) for c in order[-30:]], "positive", "ann")
    ws.annotate("red", [int(c) for c in order[:60]], "negative", "ann")
    ws.build("red")
    ws.direction = direction
    return ws


def test_deploy_rollback_and_versions(ws):
    with pytest.raises(NotReady, match="no deployed version"):
        ws.monitor("red")
    first = ws.deploy("red", deployer="ann")
    assert first["deployed"] and first["version"] == 1 and first["changes"] is None
    X = np.asarray(ws.vectors())
    more = np.argsort(X @ -ws.direction)[:40]  # flip: what was negative becomes positive
    ws.annotate("red", [int(c) for c in more], "positive", "ann")
    ws.build("red")
    dry = ws.deploy("red", dry_run=True, deployer="ann")
    assert not dry["deployed"] and dry["version"] == 2 and dry["previous"] == 1
    assert dry["changes"]["scope"] == "corpus" and dry["changes"]["changed"] > 0
    assert ws.versions("red")["live"] == 1  # a dry run changes nothing
    ws.deploy("red", deployer="bob")
    listing = ws.versions("red")
    assert listing["live"] == 2 and [d["version"] for d in listing["deployments"]] == [1, 2]
    assert listing["deployments"][1]["deployer"] == "bob"
    back = ws.rollback("red", deployer="ann")
    assert back["version"] == 1 and back["previous"] == 2 and ws.versions("red")["live"] == 1


def test_new_clips_are_scored_by_the_live_version_and_monitored(ws):
    ws.deploy("red", deployer="ann")
    first = ws.clip_count()
    rng = np.random.default_rng(9)
    _commit(ws, rng, "new", 120, 16)
    scored = score_new_clips(ws, first, ws.clip_count())
    assert ws.versions("red")["new_clips_since_live"] == 120
    report = ws.monitor("red")["labels"][0]
    assert report["production"]["clips"] == 120 and report["production"]["batches"][0]["source"] == "ingest"
    assert report["production"]["batches"][0]["positives"] == scored["red"]
    assert report["drift"]["psi"] is not None and report["live"]["precision"] is None
    feed = ws.production_feed("red", n=10)
    assert len(feed["clips"]) == 10 and all(c["clip_id"] >= first for c in feed["clips"])
    above = [c["clip_id"] for c in feed["clips"] if c["above_threshold"]]
    assert above and len(above) < 10  # stratified: both sides of the threshold
    ws.annotate("red", above, "positive", "ann", source="production")
    live = ws.monitor("red")["labels"][0]["live"]
    assert live["precision"] == 1.0 and live["annotated"]["pos_above"] == len(above)
    low, high = live["precision_interval"]
    assert 0 < low < 1.0 and high == 1.0
    rows = ws.score_videos([v["id"] for v in ws.videos()][-1:])["rows"]
    assert len(rows) == 120 and {r["label"] for r in rows} == {"red"} and all(0 <= r["probability"] <= 1 for r in rows)


def test_monitoring_statistics():
    rng = np.random.default_rng(0)
    same = psi(rng.random(5000), rng.random(5000))
    shifted = psi(rng.random(5000), rng.random(5000) ** 4)
    assert same < 0.02 and shifted > 0.25 and psi([], [0.5]) is None
    assert wilson(0, 0) is None
    low, high = wilson(8, 10)
    assert low < 0.8 < high and 0 <= low and high <= 1
    est = stratified_recall(100, 9, 1, 900, 1, 19)  # 90 found above; ~45 missed below
    assert est["recall"] == pytest.approx(90 / (90 + 45)) and est["low"] < est["recall"] < est["high"]
