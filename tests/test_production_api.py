"""Models in production through the HTTP API (the app in-process, a real workspace on real
sample media): deploy, score catalog videos by id, segments and their downloads (read back
with OpenTimelineIO), timelines (JSON and PNG), monitoring, the production feed annotated with
source "production", v2 with a dry run, deploy, versions, rollback — and the errors, declared
in the OpenAPI schema."""

from __future__ import annotations

import csv
import dataclasses
import io
import json

import opentimelineio as otio
import pytest
from fastapi.testclient import TestClient

from videoannotator.config import Settings
from videoannotator.embed import get_embedder
from videoannotator.names import PRODUCTION_SOURCE
from videoannotator.score import edl_rate
from videoannotator.server import create_app
from videoannotator.workspace import Workspace

BASE_URL = "http://127.0.0.1"  # a loopback Host; TestClient's default, "testserver", is refused
PRODUCTION_PATHS = {
    ("post", "/api/labels/{name}/deploy"),
    ("post", "/api/labels/{name}/rollback"),
    ("get", "/api/labels/{name}/card"),
    ("get", "/api/labels/{name}/production-feed"),
    ("get", "/api/monitor"),
    ("get", "/api/labels/{name}/segments"),
    ("get", "/api/labels/{name}/export/segments"),
    ("get", "/api/videos/{video_id}/timeline"),
    ("get", "/api/videos/{video_id}/timeline.png"),
    ("post", "/api/score"),
    ("get", "/api/labels/{name}/versions"),
}


def assert_error(response, status, code=None) -> str:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    if code is not None:
        assert body["error"]["code"] == code, body
    return body["error"]["message"]


def test_every_production_route_is_in_the_schema_with_its_errors(tmp_home):
    schema = create_app(Workspace(tmp_home)).openapi()
    for method, path in PRODUCTION_PATHS:
        operation = schema["paths"][path][method]
        statuses = set(operation["responses"])
        assert {"200", "422", "500"} <= statuses, (path, statuses)
        if "{" in path or path in ("/api/monitor", "/api/score"):
            assert "404" in statuses, (path, statuses)
    for method, path in PRODUCTION_PATHS - {("get", "/api/labels/{name}/card"), ("get", "/api/labels/{name}/versions")}:
        assert "409" in schema["paths"][path][method]["responses"], path
    deploy = schema["components"]["schemas"]["DeployIn"]
    assert set(deploy["properties"]) == {"version", "dry_run", "deployer"} and deploy["additionalProperties"] is False
    exports = schema["paths"]["/api/labels/{name}/export/segments"]["get"]["responses"]["200"]["content"]
    assert {"application/json", "text/plain", "text/csv"} <= set(exports)
    assert "image/png" in schema["paths"]["/api/videos/{video_id}/timeline.png"]["get"]["responses"]["200"]["content"]


def test_production_errors_on_an_empty_workspace(tmp_home):
    with TestClient(create_app(Workspace(tmp_home)), base_url=BASE_URL) as api:
        assert api.post("/api/labels", json={"name": "ships"}).status_code == 201
        assert "no model yet" in assert_error(api.post("/api/labels/ships/deploy", json={}), 404, "not_found")
        assert_error(api.post("/api/labels/ships/deploy", json={"version": 1, "who": "me"}), 422, "invalid_input")
        assert_error(api.post("/api/labels/ships/deploy", json={"dry_run": "yes"}), 422, "invalid_input")
        assert "never deployed" in assert_error(api.post("/api/labels/ships/rollback", json={}), 409, "not_ready")
        assert_error(api.post("/api/labels/ships/rollback", json={"version": 1}), 422, "invalid_input")
        assert_error(api.get("/api/labels/nope/card"), 404, "not_found")
        assert api.get("/api/labels/ships/card").json()["verdict"] == "no model yet"
        assert api.get("/api/monitor").json() == {"labels": []}
        assert_error(api.get("/api/monitor", params={"label": "nope"}), 404, "not_found")
        assert_error(api.get("/api/monitor", params={"label": "ships"}), 409, "not_ready")
        assert_error(api.get("/api/labels/ships/production-feed"), 409, "not_ready")
        assert_error(api.get("/api/labels/ships/segments"), 409, "not_ready")
        assert_error(api.get("/api/videos/3/timeline"), 404, "not_found")
        assert_error(api.get("/api/videos/3/timeline.png"), 404, "not_found")
        assert_error(api.post("/api/score", json={"video_ids": [3]}), 409, "not_ready")  # nothing deployed
        assert_error(api.post("/api/score", json={"video_ids": []}), 422, "invalid_input")
        assert_error(api.post("/api/score", json={"paths": ["/etc/passwd"]}), 422, "invalid_input")
        # A video is a number: no string from HTTP is looked up as a file.
        assert_error(api.get("/api/labels/ships/segments", params={"video": "/etc/passwd"}), 422, "invalid_input")
        assert_error(api.get("/api/labels/ships/export/segments", params={"format": "mp4"}), 422, "invalid_input")
        assert api.get("/api/labels/ships/versions").json() == {
            "label": "ships",
            "live": None,
            "new_clips_since_live": None,
            "versions": [],
            "deployments": [],
        }


# -- the cycle on real media ---------------------------------------------------------------------


THRESHOLD_RULE = "recall>=0.8"


@pytest.fixture(scope="module")
def ws(tmp_path_factory, freecol, bikes):
    # A team that wants recall: thresholds at recall >= 0.8 (VA_THRESHOLD_RULE), so the production
    # feed has clips on both sides of the threshold in this small catalog.
    home = tmp_path_factory.mktemp("production-api")
    settings = dataclasses.replace(Settings.from_env(), home=str(home), threshold_rule=THRESHOLD_RULE)
    workspace = Workspace(home, embedder=get_embedder("conse-effnet-minilm"), settings=settings)
    assert workspace.ingest([freecol, bikes], progress=False).ok
    return workspace


@pytest.fixture(scope="module")
def api(ws):
    with TestClient(create_app(ws), base_url=BASE_URL) as client:
        yield client


@pytest.mark.slow
def test_the_production_cycle_over_http(api, ws, sample_media):
    assert api.post("/api/labels", json={"name": "ships"}).status_code == 201
    ranked = [
        c["clip_id"] for c in api.get("/api/search", params={"q": "a sailing ship on the sea", "k": 12}).json()["clips"]
    ]
    for ids, value in ((ranked[:5], "positive"), (ranked[5:], "negative")):
        body = {"clip_ids": ids, "value": value, "annotator": "ann", "source": "search"}
        assert api.post("/api/labels/ships/annotations", json=body).status_code == 201
    assert api.post("/api/labels/ships/build", json={}).json()["version"] == 1

    deployed = api.post("/api/labels/ships/deploy", json={})
    assert deployed.status_code == 200, deployed.text
    first = deployed.json()
    assert first["deployed"] and first["version"] == 1 and first["previous"] is None
    assert first["deployment"]["deployer"]  # the server's user, as for label edits

    # New footage enters the catalog (`va score` / `va ingest`); HTTP scores it by id.
    new = [sample_media / "cityCC0.mpg", sample_media / "oa4_launch.webm"]
    assert ws.ingest(new, progress=False).ok
    videos = api.get("/api/videos").json()["videos"]
    new_ids = [v["id"] for v in videos if v["path"] in {str(p) for p in new}]
    clips = sum(v["clips"] for v in videos if v["id"] in new_ids)
    scored = api.post("/api/score", json={"video_ids": new_ids, "labels": ["ships"]})
    assert scored.status_code == 200, scored.text
    result = scored.json()
    assert result["labels"] == [{"label": "ships", "version": 1}] and len(result["rows"]) == clips
    assert set(result["rows"][0]) == {"video", "clip_id", "start", "end", "label", "version", "probability", "positive"}
    assert api.post("/api/score", json={"video_ids": new_ids}).json()["rows"] == result["rows"]  # every deployed label
    assert_error(api.post("/api/score", json={"video_ids": [max(new_ids) + 10]}), 404, "not_found")
    assert_error(api.post("/api/score", json={"video_ids": new_ids, "labels": ["nope"]}), 404, "not_found")

    # Timelines and segments.
    city = new_ids[0]
    timeline = api.get(f"/api/videos/{city}/timeline").json()
    assert timeline == json.loads(json.dumps(ws.timeline(city))) and timeline["video_id"] == city
    assert [t["label"] for t in timeline["tracks"]] == ["ships"]
    png = api.get(f"/api/videos/{city}/timeline.png")
    assert png.status_code == 200 and png.headers["content-type"] == "image/png"
    assert png.content[:8] == b"\x89PNG\r\n\x1a\n"

    segments = api.get("/api/labels/ships/segments").json()
    assert segments["version"] == 1 and len(segments["videos"]) == 4
    total = sum(len(v["segments"]) for v in segments["videos"])
    assert total > 0
    one = api.get("/api/labels/ships/segments", params={"video": city}).json()
    assert [v["video_id"] for v in one["videos"]] == [city]
    assert_error(api.get("/api/labels/ships/segments", params={"video": 999}), 404, "not_found")

    otio_file = api.get("/api/labels/ships/export/segments", params={"format": "otio"})
    assert otio_file.status_code == 200 and "attachment" in otio_file.headers["content-disposition"]
    assert 'filename="ships-v1-segments.otio"' in otio_file.headers["content-disposition"]
    markers = [m for c in otio.adapters.read_from_string(otio_file.text).find_clips() for m in c.markers]
    assert len(markers) == total and {m.name for m in markers} == {"ships"}
    busiest = max(segments["videos"], key=lambda v: len(v["segments"]))
    edl = api.get("/api/labels/ships/export/segments", params={"format": "edl", "video": busiest["video_id"]})
    assert edl.status_code == 200 and edl.headers["content-type"].startswith("text/plain")
    events = list(
        otio.adapters.read_from_string(edl.text, adapter_name="cmx_3600", rate=edl_rate(busiest["fps"])).find_clips()
    )
    assert [e.name for e in events] == [f"ships v1 #{i + 1}" for i in range(len(busiest["segments"]))]
    table = api.get("/api/labels/ships/export/segments", params={"format": "csv"})
    assert table.headers["content-type"].startswith("text/csv")
    assert len(list(csv.DictReader(io.StringIO(table.text)))) == total

    # Monitoring, the production feed, the fix loop.
    report = api.get("/api/monitor", params={"label": "ships"}).json()["labels"][0]
    assert report["drift"]["psi"] is not None and report["production"]["clips"] == clips
    assert api.get("/api/monitor").json()["labels"][0]["label"] == "ships"
    # The sea footage scored again: its clips become production clips too, so the feed has clips
    # on both sides of the threshold (no new city or rocket clip shows a ship).
    freecol = next(v for v in videos if v["path"].endswith("freecol-opening.ogg"))
    assert api.post("/api/score", json={"video_ids": [freecol["id"]], "labels": ["ships"]}).status_code == 200
    production = clips + freecol["clips"]
    feed = api.get("/api/labels/ships/production-feed", params={"n": 10, "seed": 0}).json()
    assert feed["source"] == PRODUCTION_SOURCE and feed["clips"]
    above = [c["clip_id"] for c in feed["clips"] if c["above_threshold"]]
    below = [c["clip_id"] for c in feed["clips"] if not c["above_threshold"]]
    assert above, feed["pool"]
    for ids, value in ((above[:1], "negative"), (above[1:], "positive"), (below, "negative")):
        if ids:
            body = {"clip_ids": ids, "value": value, "annotator": "ann", "source": PRODUCTION_SOURCE}
            assert api.post("/api/labels/ships/annotations", json=body).status_code == 201
    live = api.get("/api/monitor", params={"label": "ships"}).json()["labels"][0]["live"]
    assert live["precision"] == pytest.approx((len(above) - 1) / len(above), abs=1e-4)
    card = api.get("/api/labels/ships/card").json()
    assert card["sources"][PRODUCTION_SOURCE] == len(above) + len(below) and card["live"] == 1

    assert api.post("/api/labels/ships/build", json={}).json()["version"] == 2
    dry = api.post("/api/labels/ships/deploy", json={"dry_run": True}).json()
    assert dry["dry_run"] and not dry["deployed"] and dry["previous"] == 1 and dry["version"] == 2
    assert dry["changes"]["scope"] == "production" and dry["changes"]["decisions"] == production
    assert api.get("/api/labels/ships/versions").json()["live"] == 1
    done = api.post("/api/labels/ships/deploy", json={"version": 2}).json()
    assert done["deployed"] and done["changes"]["changed"] == dry["changes"]["changed"]

    versions = api.get("/api/labels/ships/versions").json()
    assert versions["live"] == 2 and [v["version"] for v in versions["versions"]] == [1, 2]
    assert [(d["version"], d["action"]) for d in versions["deployments"]] == [(1, "deploy"), (2, "deploy")]
    assert {r["version"] for r in api.post("/api/score", json={"video_ids": new_ids}).json()["rows"]} == {2}

    back = api.post("/api/labels/ships/rollback", json={}).json()
    assert back["version"] == 1 and back["previous"] == 2
    assert api.get("/api/labels/ships/versions").json()["deployments"][-1]["action"] == "rollback"
