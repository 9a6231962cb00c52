"""The library's routes on a real workspace (real default model; bikes and a generated 8-shot
video): the label cards' figures (/api/library/labels) equal what the catalog holds, and a
video's strip of shots (/api/videos/ID/shots) is evenly spread, in time order, and bounded."""

import pytest
from fastapi.testclient import TestClient

from videoannotator.server import create_app
from videoannotator.workspace import Workspace

BASE_URL = "http://127.0.0.1"
SHOTS = 8


@pytest.fixture(scope="module")
def ws(tmp_path_factory, bikes, cut_video):
    workspace = Workspace(tmp_path_factory.mktemp("library-home"))
    workspace.ingest([bikes, cut_video([20] * SHOTS, seed=3).path], progress=False)
    workspace.create_label("street", "A street scene.", ["street"])
    ids = [c["clip_id"] for c in workspace.search("a street with bicycles", k=100)]
    workspace.annotate("street", ids[:5], "positive", annotator="a")
    workspace.annotate("street", ids[-5:], "negative", annotator="a")
    workspace.annotate("street", ids[5:6], "skip", annotator="a")
    workspace.build("street")
    workspace.build("street")
    workspace.deploy("street", 1, deployer="a")
    workspace.create_label("empty", "Nothing yet.")
    return workspace


@pytest.fixture(scope="module")
def client(ws):
    with TestClient(create_app(ws), base_url=BASE_URL) as c:
        yield c


def test_label_cards_carry_the_catalogs_counts_latest_ap_and_live_version(client, ws):
    cards = {card["name"]: card for card in client.get("/api/library/labels").json()["labels"]}
    assert set(cards) == {"street", "empty"}
    street = cards["street"]
    assert street["counts"] == ws.label_summary("street")["counts"]
    assert street["counts"]["positive"] == 5 and street["counts"]["negative"] == 5 and street["counts"]["skip"] == 1
    versions = ws.versions("street")
    latest = versions["versions"][-1]
    assert street["latest"]["version"] == latest["version"] == 2
    assert street["latest"]["ap"] == ws.models.list(street["id"])[-1]["metrics"]["cv"]["ap"]
    assert street["latest"]["ap"] is not None and 0 <= street["latest"]["ap"] <= 1
    assert street["live"] == versions["live"] == 1
    assert street["versions"] == 2
    empty = cards["empty"]
    assert empty["latest"] is None and empty["live"] is None and empty["versions"] == 0
    assert empty["counts"] == {"positive": 0, "negative": 0, "skip": 0, "unresolved": 0}


def test_a_videos_shots_are_spread_evenly_in_time_order(client, ws):
    video = next(v for v in ws.videos() if v["clips"] == SHOTS)
    every = ws.timeline(video["id"])["clips"]
    body = client.get(f"/api/videos/{video['id']}/shots", params={"n": 4}).json()
    assert body["clips"] == SHOTS
    assert [s["clip_id"] for s in body["shots"]] == [every[i]["clip_id"] for i in (0, 2, 4, 6)]
    assert body["shots"][0] == every[0]
    whole = client.get(f"/api/videos/{video['id']}/shots", params={"n": 60}).json()["shots"]
    assert whole == every  # asking for more than there are gives them all


def test_bad_video_or_count_is_one_clear_error(client, ws):
    missing = max(v["id"] for v in ws.videos()) + 1
    response = client.get(f"/api/videos/{missing}/shots")
    assert response.status_code == 404
    assert "GET /api/videos" in response.json()["error"]["message"]
    assert client.get(f"/api/videos/{ws.videos()[0]['id']}/shots", params={"n": 0}).status_code == 422
    assert client.get(f"/api/videos/{ws.videos()[0]['id']}/shots", params={"n": 61}).status_code == 422
