"""What the page's live counts read (live.js, labelpage.js), through the real API over a real
workspace: GET /api/info's clip and video counts follow an ingest made while the server runs, and
a label's latest version says how many clips it scored, so "N new clips since vK" is
info.clips − clips_scored; the model summary's figures (annotations learned from, positives,
negatives, calibrated threshold) are in the label's versions."""

from __future__ import annotations

import pytest
from fastapi.testclient import TestClient

from videoannotator.embed import get_embedder
from videoannotator.server import create_app
from videoannotator.workspace import Workspace

BASE_URL = "http://127.0.0.1"  # a loopback Host; TestClient's default, "testserver", is refused


@pytest.fixture
def served(tmp_home, cut_video):
    ws = Workspace(tmp_home, embedder=get_embedder("conse-effnet-minilm"))
    assert ws.ingest([cut_video([15] * 10, seed=21).path], progress=False).ok
    with TestClient(create_app(ws), base_url=BASE_URL) as client:
        yield ws, client


def test_new_clips_since_a_version_are_info_clips_minus_its_clips_scored(served, cut_video):
    ws, client = served
    client.post("/api/labels", json={"name": "boats"}).raise_for_status()
    for ids, value in (([0, 1, 2], "positive"), ([3, 4], "negative")):
        body = {"clip_ids": ids, "value": value, "annotator": "setup"}
        client.post("/api/labels/boats/annotations", json=body).raise_for_status()
    client.post("/api/labels/boats/build", json={}).raise_for_status()
    info = client.get("/api/info").json()
    latest = client.get("/api/labels/boats").json()["versions"][-1]
    assert latest["clips_scored"] == info["clips"] and info["videos"] == 1
    metrics = latest["metrics"]
    assert (metrics["n_labeled"], metrics["n_positive"], metrics["n_negative"]) == (5, 3, 2)
    assert 0 < metrics["threshold"]["probability"] < 1
    assert latest["created_at"]

    assert ws.ingest([cut_video([15] * 5, seed=22).path], progress=False).ok
    now = client.get("/api/info").json()
    assert now["videos"] == 2 and now["clips"] > info["clips"]
    still = client.get("/api/labels/boats").json()["versions"][-1]
    assert still["clips_scored"] == info["clips"]  # the page says: now["clips"] - clips_scored new clips

    client.post("/api/labels/boats/build", json={}).raise_for_status()
    rebuilt = client.get("/api/labels/boats").json()["versions"][-1]
    assert rebuilt["version"] == 2 and rebuilt["clips_scored"] == now["clips"]
