"""The JSON API through FastAPI's TestClient: one error shape for every failure (on an empty
workspace), then the whole loop on a real workspace (real default model, bikes + freecol)
answering exactly what the Workspace answers."""

import contextlib
import csv
import errno
import io
import json
import logging
import sqlite3
import subprocess
import threading
from collections import Counter

import av
import pytest
from fastapi.testclient import TestClient
from PIL import Image

from videoannotator.catalog.sqlite.labels import Labels
from videoannotator.server import create_app
from videoannotator.workspace import Workspace

FEEDS = ("top_positive", "top_negative", "borderline", "random")
BASE_URL = "http://127.0.0.1"  # a loopback Host; TestClient's default, "testserver", is refused


def assert_error(response, status, code=None):
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"code", "message"}, body
    assert isinstance(body["error"]["code"], str) and isinstance(body["error"]["message"], str)
    assert body["error"]["message"] and "Traceback" not in body["error"]["message"]
    if code is not None:
        assert body["error"]["code"] == code, body
    return body["error"]


# -- the error shape, on an empty workspace ------------------------------------------------------
@pytest.fixture
def empty_ws(tmp_home):
    return Workspace(tmp_home)


@pytest.fixture
def client(empty_ws):
    with TestClient(create_app(empty_ws), base_url=BASE_URL) as c:
        yield c


def test_library_errors_keep_their_status_and_code(client):
    assert_error(client.get("/api/labels/nope"), 404, "not_found")
    assert client.post("/api/labels", json={"name": "dup"}).status_code == 201

    def create(name):
        return client.post("/api/labels", json={"name": name})

    assert "exists already" in assert_error(create("dup"), 409, "conflict")["message"]
    assert "needs a name" in assert_error(create("  "), 422, "invalid_input")["message"]
    assert "odd characters" in assert_error(create("a/b"), 422, "invalid_input")["message"]
    message = assert_error(client.post("/api/labels/dup/build", json={}), 409, "not_ready")["message"]
    assert "positive" in message and "negative" in message
    assert_error(client.post("/api/labels/dup/undo", json={"annotator": "ann"}), 404, "not_found")
    assert_error(client.get("/api/labels/dup/feeds/random"), 404, "not_found")  # no model yet
    assert_error(
        client.post("/api/labels/dup/annotations", json={"clip_ids": [3], "value": "positive", "annotator": "ann"}),
        404,
        "not_found",
    )


@pytest.mark.parametrize(
    "method, path, body, field",
    [
        ("post", "/api/labels/dup/annotations", {"clip_ids": [-1], "value": "positive", "annotator": "a"}, "clip_ids"),
        ("post", "/api/labels/dup/annotations", {"clip_ids": [1], "value": "maybe", "annotator": "a"}, "value"),
        (
            "post",
            "/api/labels/dup/annotations",
            {"clip_ids": [*range(1001)], "value": "skip", "annotator": "a"},
            "clip_ids",
        ),
        ("post", "/api/labels/dup/annotations", {"clip_ids": [], "value": "skip", "annotator": "a"}, "clip_ids"),
        ("post", "/api/labels/dup/annotations", {"clip_ids": [1], "value": "skip", "annotator": "a" * 65}, "annotator"),
        ("post", "/api/labels/dup/annotations", {"clip_ids": [1], "value": "skip"}, "annotator"),
        ("post", "/api/labels", {"name": "x", "colour": "red"}, "colour"),
        ("post", "/api/labels", {"name": "x", "description": "d" * 5001}, "description"),
        ("post", "/api/labels/dup/build", {"seed": -1}, "seed"),
        ("get", "/api/search?q=ship&k=0", None, "k"),
        ("get", "/api/search?q=ship&k=1001", None, "k"),
        ("get", "/api/search?q=ship&offset=-3", None, "offset"),
        ("get", "/api/search?k=5", None, "q"),
        ("get", "/api/labels/dup/feeds/sideways", None, "feed"),
        ("get", "/api/labels/dup/review?filter=everything", None, "filter"),
        ("get", "/api/clips/abc", None, "clip_id"),
    ],
)
def test_validation_errors_are_422_and_name_the_field(client, method, path, body, field):
    kwargs = {"json": body} if body is not None else {}
    error = assert_error(getattr(client, method)(path, **kwargs), 422, "invalid_input")
    assert field in error["message"]


def test_malformed_json_is_422(client):
    response = client.post("/api/labels", content=b'{"name": ', headers={"content-type": "application/json"})
    assert "JSON" in assert_error(response, 422, "invalid_input")["message"]


def test_unknown_route_wrong_method_and_oversized_body(client):
    assert "/api/nothing" in assert_error(client.get("/api/nothing"), 404, "not_found")["message"]
    assert_error(client.get("/favicon.ico"), 404, "not_found")
    error = assert_error(client.get("/api/labels/dup/build"), 405, "method_not_allowed")
    assert "POST" in error["message"]
    assert_error(client.put("/api/labels", json={}), 405, "method_not_allowed")
    assert_error(client.post("/api/labels", json={"name": "big", "description": "x" * (1 << 21)}), 413, "too_large")


@pytest.mark.parametrize(
    "method, path, allow",
    [
        ("PUT", "/api/labels/dup", "GET, PATCH"),  # two routes share the path: both methods listed
        ("DELETE", "/api/labels/dup", "GET, PATCH"),
        ("OPTIONS", "/api/labels", "GET, POST"),
        ("PUT", "/api/labels", "GET, POST"),
        ("GET", "/api/labels/dup/build", "POST"),
        ("POST", "/media/clips/3/thumb.jpg", "GET"),
        ("POST", "/static/app.js", "GET, HEAD"),
    ],
)
def test_a_method_the_path_does_not_take_is_405_with_every_allowed_method(client, method, path, allow):
    # Not JSON either: the method is refused before the body's type matters (405, not 415).
    response = client.request(method, path, content=b"x=1", headers={"content-type": "text/plain"})
    error = assert_error(response, 405, "method_not_allowed")
    assert response.headers["allow"] == allow and allow in error["message"]


def test_a_write_to_a_real_route_still_needs_json(client):
    assert_error(client.patch("/api/labels/dup", content=b"{}", headers={"content-type": "text/plain"}), 415)
    assert_error(client.post("/api/labels/dup/build"), 415, "unsupported_media_type")  # `{}` takes the defaults


# -- integers and label names -----------------------------------------------------------------------
BIG = 9223372036854775808  # 2**63: once a 500 (SQLite's integers stop at 2**63 - 1)


@pytest.mark.parametrize(
    "path, field",
    [
        (f"/api/labels/dup/export/model?version={BIG}", "version"),
        (f"/api/labels/dup/feeds/random?version={BIG}", "version"),
        (f"/api/labels/dup/histogram?version={BIG}", "version"),
        ("/api/labels/dup/histogram?version=9007199254740992", "version"),  # 2**53: past MAX_ID
        (f"/api/clips/{BIG}", "clip_id"),
        (f"/api/clips/{BIG}/similar", "clip_id"),
        (f"/media/clips/{BIG}/thumb.jpg", "clip_id"),
        (f"/api/search?q=ship&k={BIG}", "k"),
        (f"/api/labels/dup/feeds/random?seed={BIG}", "seed"),
    ],
)
def test_huge_integers_in_the_url_are_422_naming_the_parameter(client, path, field):
    client.post("/api/labels", json={"name": "dup"})
    assert field in assert_error(client.get(path), 422, "invalid_input")["message"]


@pytest.mark.parametrize(
    "body, field",
    [
        ({"clip_ids": [True], "value": "positive", "annotator": "a"}, "clip_ids.0"),  # once stored as clip 1
        ({"clip_ids": ["1"], "value": "positive", "annotator": "a"}, "clip_ids.0"),
        ({"clip_ids": [1.5], "value": "positive", "annotator": "a"}, "clip_ids.0"),
        ({"clip_ids": [BIG], "value": "positive", "annotator": "a"}, "clip_ids.0"),
        ({"clip_ids": [1], "value": "positive", "annotator": "a", "model_version": True}, "model_version"),
        ({"clip_ids": [1], "value": "positive", "annotator": "a", "model_version": BIG}, "model_version"),
    ],
)
def test_clip_ids_and_versions_in_bodies_are_whole_json_numbers(client, empty_ws, body, field):
    client.post("/api/labels", json={"name": "dup"})
    response = client.post("/api/labels/dup/annotations", json=body)
    assert field in assert_error(response, 422, "invalid_input")["message"]
    assert empty_ws.annotations.events(empty_ws.labels.get("dup")["id"]) == []


@pytest.mark.parametrize(
    "path, body, field",
    [
        ("/api/labels/dup/undo", {"annotator": "a", "clip_id": True}, "clip_id"),
        ("/api/labels/dup/build", {"seed": True}, "seed"),
        ("/api/labels/dup/build", {"seed": "7"}, "seed"),
        ("/api/labels/dup/build", {"n_feed": False}, "n_feed"),
        ("/api/labels/dup", {"archived": "yes"}, "archived"),
    ],
)
def test_other_body_numbers_and_flags_are_typed(client, path, body, field):
    client.post("/api/labels", json={"name": "dup"})
    method = client.patch if path == "/api/labels/dup" else client.post
    assert field in assert_error(method(path, json=body), 422, "invalid_input")["message"]


@pytest.mark.parametrize("name", ["1", "0042", " 7 "])
def test_an_all_digit_label_name_is_refused_in_one_line(client, name):
    error = assert_error(client.post("/api/labels", json={"name": name}), 422, "invalid_input")
    assert "all digits" in error["message"] and f"shot-{name.strip()}" in error["message"]
    assert "\n" not in error["message"]
    client.post("/api/labels", json={"name": "ok"})
    assert_error(client.patch("/api/labels/ok", json={"name": name}), 422, "invalid_input")


@pytest.mark.parametrize(
    "path",
    [
        "/api/labels/%C2%B2",
        "/api/labels/%D9%A3",
        "/api/labels/99999999999999999999999",
        "/api/labels/-1",
        "/api/labels/%C2%B2/review",
        "/api/labels/%C2%B2/feeds/random",
    ],
)
def test_unicode_digits_and_huge_ids_are_no_such_label(client, path):
    client.post("/api/labels", json={"name": "first"})  # id 1 and 2 exist: '²' must not reach them
    client.post("/api/labels", json={"name": "second"})
    assert "no label" in assert_error(client.get(path), 404, "not_found")["message"]


def test_an_old_all_digit_name_is_found_by_name_before_ids(client, empty_ws):
    first = client.post("/api/labels", json={"name": "first"}).json()
    second = client.post("/api/labels", json={"name": "second"}).json()
    # A workspace from before the rule may hold a label named "1"; it keeps answering to its name.
    with empty_ws.catalog.transaction() as db:
        db.execute("INSERT INTO labels(name, created_at, updated_at) VALUES ('1', 'then', 'then')")
    assert client.get("/api/labels/1").json()["name"] == "1"
    assert client.get(f"/api/labels/{second['id']}").json()["name"] == "second"
    assert first["id"] == 1  # shadowed by the name, as before: rename the old label to reach id 1 by id


@pytest.mark.allow_error_logs
def test_unexpected_exception_is_500_without_traceback_and_logged(empty_ws, caplog, monkeypatch):
    def broken(*args, **kwargs):
        raise RuntimeError("secret internals /home/someone/db")

    monkeypatch.setattr(empty_ws, "review", broken)
    with TestClient(create_app(empty_ws), base_url=BASE_URL, raise_server_exceptions=False) as c:
        c.post("/api/labels", json={"name": "boom"})
        with caplog.at_level(logging.ERROR, logger="videoannotator.server"):
            response = c.get("/api/labels/boom/review")
    error = assert_error(response, 500, "internal_error")
    assert "secret" not in error["message"] and "RuntimeError" not in response.text
    assert response.headers["x-content-type-options"] == "nosniff"
    logged = [r for r in caplog.records if r.name == "videoannotator.server" and r.levelno == logging.ERROR]
    assert logged and logged[0].exc_info and "secret internals" in str(logged[0].exc_info[1])


@pytest.mark.parametrize(
    "error",
    [
        OSError(errno.ENOSPC, "No space left on device"),
        sqlite3.OperationalError("database or disk is full"),
    ],
)
def test_a_full_disk_in_any_route_is_507_naming_the_disk(empty_ws, monkeypatch, error):
    def full(*args, **kwargs):
        raise error

    monkeypatch.setattr(Labels, "create", full)
    with TestClient(create_app(empty_ws), base_url=BASE_URL, raise_server_exceptions=False) as c:
        response = c.post("/api/labels", json={"name": "big"})
    message = assert_error(response, 507, "disk_full")["message"]
    assert str(empty_ws.home) in message and "free" in message and "\n" not in message


@pytest.fixture
def small_disk(tmp_path):
    """A 4 MiB tmpfs, where the machine lets this process mount one."""
    mount = tmp_path / "disk"
    mount.mkdir()
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(mount)], capture_output=True, check=False
    )
    if made.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {made.stderr.decode(errors='replace').strip()}")
    try:
        yield mount
    finally:
        subprocess.run(["umount", "-l", str(mount)], check=False)


def test_a_really_full_disk_is_507_and_keeps_what_was_stored(small_disk):
    ws = Workspace(small_disk / "home")
    with TestClient(create_app(ws), base_url=BASE_URL) as c:
        assert c.post("/api/labels", json={"name": "kept"}).status_code == 201
        filler = small_disk / "filler"
        with open(filler, "wb", buffering=0) as f, contextlib.suppress(OSError):  # take every free byte
            while True:
                f.write(b"\0" * 4096)
        statuses = []
        for n in range(50):
            response = c.post("/api/labels", json={"name": f"more-{n}", "description": "x" * 4000})
            statuses.append(response.status_code)
            if response.status_code != 201:
                break
        message = assert_error(response, 507, "disk_full")["message"]
        assert str(small_disk) in message and "free" in message
        assert set(statuses[:-1]) <= {201}
        filler.unlink()
        assert c.post("/api/labels", json={"name": "after"}).status_code == 201
        names = {label["name"] for label in c.get("/api/labels").json()["labels"]}
    assert {"kept", "after"} <= names and f"more-{len(statuses) - 1}" not in names


def test_the_names_have_one_source(client):
    """GET /api/meta, the API's parameter enums and the review/feeds code all read names.py."""
    from videoannotator import names

    meta = client.get("/api/meta").json()
    assert meta == names.meta() and meta["feeds"] == list(names.FEED_NAMES)
    spec = client.get("/openapi.json").json()

    def enum_of(path, method, param):
        for p in spec["paths"][path][method]["parameters"]:
            if p["name"] == param:
                return p["schema"]["enum"]
        raise AssertionError(f"{path} has no parameter {param}")

    assert enum_of("/api/labels/{name}/feeds/{feed}", "get", "feed") == list(names.FEED_NAMES)
    assert enum_of("/api/labels/{name}/review", "get", "filter") == list(names.REVIEW_FILTERS)
    body = spec["components"]["schemas"]["AnnotationIn"]["properties"]["value"]
    assert body["enum"] == list(names.VOTE_VALUES)


def test_openapi_schema_lists_the_api(client):
    paths = client.get("/openapi.json").json()["paths"]
    for path in (
        "/api/info",
        "/api/labels",
        "/api/labels/{name}",
        "/api/search",
        "/api/clips/{clip_id}",
        "/api/clips/{clip_id}/similar",
        "/api/labels/{name}/annotations",
        "/api/labels/{name}/undo",
        "/api/labels/{name}/build",
        "/api/labels/{name}/feeds/{feed}",
        "/api/labels/{name}/review",
        "/api/labels/{name}/versions",
        "/api/labels/{name}/export/model",
        "/api/labels/{name}/export/annotations",
        "/media/clips/{clip_id}/thumb.jpg",
        "/media/clips/{clip_id}/preview.webm",
    ):
        assert path in paths, path


def test_label_lifecycle(client):
    created = client.post(
        "/api/labels",
        json={
            "name": "establishing-shots",
            "description": "Extremely wide shot that sets the location",
            "keywords": ["Landscapes", "Buildings"],
        },
    )
    assert created.status_code == 201
    label = created.json()
    assert label["keywords"] == ["Landscapes", "Buildings"] and not label["archived"]
    shown = client.get("/api/labels/establishing-shots").json()
    assert shown["counts"] == {"positive": 0, "negative": 0, "skip": 0, "unresolved": 0} and shown["versions"] == []
    assert client.get(f"/api/labels/{label['id']}").json()["name"] == "establishing-shots"  # by id too
    renamed = client.patch("/api/labels/establishing-shots", json={"name": "wide shots", "keywords": "Sky, Sea"})
    assert renamed.json()["name"] == "wide shots" and renamed.json()["keywords"] == ["Sky", "Sea"]
    assert_error(client.get("/api/labels/establishing-shots"), 404)
    assert client.get("/api/labels/wide shots").json()["id"] == label["id"]
    assert client.patch("/api/labels/wide shots", json={"archived": True}).json()["archived"] is True
    assert client.get("/api/labels").json()["labels"] == []
    assert [lab["name"] for lab in client.get("/api/labels?archived=true").json()["labels"]] == ["wide shots"]


# -- the loop on a real workspace ---------------------------------------------------------------
@pytest.fixture(scope="module")
def embedder():
    from videoannotator.embed import get_embedder

    return get_embedder("conse-effnet-minilm")


@pytest.fixture(scope="module")
def ws(tmp_path_factory, embedder, bikes, freecol):
    workspace = Workspace(tmp_path_factory.mktemp("api-home"), embedder=embedder)
    workspace.ingest([bikes, freecol], progress=False)
    return workspace


@pytest.fixture(scope="module")
def api(ws):
    with TestClient(create_app(ws), base_url=BASE_URL) as c:
        yield c


def ranked(api, ws, text):
    """Every clip id, best match for ``text`` first, through the API."""
    clips = api.get("/api/search", params={"q": text, "k": ws.clip_count()}).json()["clips"]
    return [c["clip_id"] for c in clips]


def annotate(api, label, clip_ids, value, annotator="ann", headers=None, **extra):
    body = {"clip_ids": clip_ids, "value": value, "annotator": annotator, **extra}
    return api.post(f"/api/labels/{label}/annotations", json=body, headers=headers)


@pytest.fixture(scope="module")
def ships(api, ws):
    """A label with six positives and six negatives annotated through the API, then built."""
    created = api.post("/api/labels", json={"name": "ships", "description": "A ship or a boat is visible"})
    assert created.status_code == 201
    order = ranked(api, ws, "a ship at sea")
    positives, negatives = order[:6], order[-6:]
    for ids, value in ((positives, "positive"), (negatives, "negative")):
        response = annotate(api, "ships", ids, value, source="search")
        assert response.status_code == 201 and len(response.json()["events"]) == 6
    built = api.post("/api/labels/ships/build", json={"seed": 0})
    assert built.status_code == 200, built.text
    return {"positives": positives, "negatives": negatives, "build": built.json()}


@pytest.mark.slow
def test_info_and_videos(api, ws):
    info = api.get("/api/info").json()
    assert (
        info == {**json.loads(json.dumps(ws.info())), "text_model": ws.text_model_state}
        and info["clips"] >= 15
        and info["videos"] == 2
    )
    assert len(api.get("/api/videos").json()["videos"]) == 2


@pytest.mark.slow
def test_search_returns_clips_and_the_same_answer_as_the_workspace(api, ws):
    response = api.get("/api/search", params={"q": "a ship at sea", "k": 5})
    clips = response.json()["clips"]
    assert len(clips) == 5 and {"clip_id", "score", "video", "start", "end"} <= set(clips[0])
    assert clips == ws.search("a ship at sea", k=5)
    page = api.get("/api/search", params={"q": "a ship at sea", "k": 3, "offset": 2}).json()["clips"]
    assert page == clips[2:5]


@pytest.mark.slow
def test_similar_clips_leave_the_clip_out_and_match_the_workspace(api, ws):
    clips = api.get("/api/clips/3/similar", params={"k": 4}).json()["clips"]
    assert len(clips) == 4 and 3 not in [c["clip_id"] for c in clips]
    assert clips == ws.search(clip_id=3, k=4)
    assert_error(api.get(f"/api/clips/{ws.clip_count() + 5}/similar"), 404, "not_found")


@pytest.mark.slow
def test_build_gives_a_version_metrics_and_four_feeds_without_annotated_clips(ships):
    build = ships["build"]
    annotated = set(ships["positives"]) | set(ships["negatives"])
    assert build["version"] == 1 and build["label"] == "ships"
    assert build["metrics"]["counts"]["positive"] == 6 and build["metrics"]["counts"]["negative"] == 6
    assert set(build["feeds"]) == set(FEEDS)
    for name in FEEDS:
        assert build["feeds"][name], name
        assert not annotated & set(build["feeds"][name]), name


@pytest.mark.slow
def test_feed_pages_match_the_workspace(api, ws, ships):
    first = api.get("/api/labels/ships/feeds/top_positive", params={"n": 3}).json()
    assert first == json.loads(json.dumps(ws.feed("ships", "top_positive", 3)))
    assert first["version"] == 1 and len(first["clips"]) == 3
    second = api.get("/api/labels/ships/feeds/top_positive", params={"n": 3, "offset": 3}).json()
    assert not {c["clip_id"] for c in first["clips"]} & {c["clip_id"] for c in second["clips"]}
    one = api.get("/api/labels/ships/feeds/random", params={"n": 5, "seed": 7}).json()
    assert one == api.get("/api/labels/ships/feeds/random", params={"n": 5, "seed": 7}).json()
    annotated = set(ships["positives"]) | set(ships["negatives"])
    for name in FEEDS:
        clips = api.get(f"/api/labels/ships/feeds/{name}", params={"n": 50}).json()["clips"]
        assert clips and not annotated & {c["clip_id"] for c in clips}


@pytest.mark.slow
def test_review_filters_flip_and_undo(api, ws, ships):
    def review(filter_="all"):
        return api.get("/api/labels/ships/review", params={"filter": filter_}).json()["annotations"]

    everything = review()
    assert len(everything) == 12 and all(item["score"] is not None for item in everything)
    assert {i["clip_id"] for i in review("positive")} == set(ships["positives"])
    assert {i["clip_id"] for i in review("negative")} == set(ships["negatives"])
    disagree = review("model_disagrees")
    assert all((i["score"] > 0) != (i["value"] == "positive") for i in disagree)
    assert api.get("/api/labels/ships/review").json() == json.loads(json.dumps(ws.review("ships")))

    flipped = ships["positives"][0]
    response = annotate(api, "ships", [flipped], "negative", source="review", model_version=1)
    assert response.json()["events"][0]["model_version"] == 1
    assert len(review("positive")) == 5 and flipped in {i["clip_id"] for i in review("negative")}

    other = annotate(api, "ships", [flipped], "positive", annotator="bea", source="review")
    assert other.status_code == 201
    assert [i["clip_id"] for i in review("annotators_disagree")] == [flipped]
    assert [i["clip_id"] for i in review("unresolved")] == [flipped]

    assert api.post("/api/labels/ships/undo", json={"annotator": "bea"}).status_code == 200
    assert api.post("/api/labels/ships/undo", json={"annotator": "ann", "clip_id": flipped}).status_code == 200
    assert {i["clip_id"] for i in review("positive")} == set(ships["positives"])
    assert review("annotators_disagree") == []


@pytest.mark.slow
def test_exports_versions_and_a_second_build(api, ws, ships):
    lines = api.get("/api/labels/ships/export/annotations").text.splitlines()
    rows = [json.loads(line) for line in lines]
    assert len(rows) == 12 and Counter(r["value"] for r in rows) == {"positive": 6, "negative": 6}
    response = api.get("/api/labels/ships/export/annotations", params={"format": "csv"})
    assert response.headers["content-type"].startswith("text/csv")
    assert "attachment" in response.headers["content-disposition"]
    table = list(csv.DictReader(io.StringIO(response.text)))
    assert len(table) == 12 and {"clip_id", "value", "label"} <= set(table[0])
    events = api.get("/api/labels/ships/export/annotations", params={"events": "true"}).text.splitlines()
    assert len(events) == len(ws.export_annotations("ships", events=True)) >= 12

    model = api.get("/api/labels/ships/export/model").json()
    assert model == json.loads(json.dumps(ws.export_model("ships")))
    assert len(model["weights"]) == ws.feature_dim and {"intercept", "threshold", "embedder"} <= set(model)

    second = api.post("/api/labels/ships/build", json={}).json()
    assert second["version"] == 2
    versions = api.get("/api/labels/ships/versions").json()["versions"]
    assert [v["version"] for v in versions] == [1, 2]
    assert api.get("/api/labels/ships/export/model", params={"version": 1}).json()["version"] == 1
    assert_error(api.get("/api/labels/ships/export/model", params={"version": 9}), 404, "not_found")


@pytest.mark.slow
def test_clip_page_shows_every_labels_score(api, ws, ships):
    api.post("/api/labels", json={"name": "bicycles"})
    order = ranked(api, ws, "a bicycle")
    assert annotate(api, "bicycles", order[:3], "positive").status_code == 201
    assert annotate(api, "bicycles", order[-3:], "negative").status_code == 201
    assert api.post("/api/labels/bicycles/build", json={}).status_code == 200
    api.post("/api/labels", json={"name": "never-built"})

    clip_id = ships["positives"][1]
    detail = api.get(f"/api/clips/{clip_id}").json()
    assert detail["clip_id"] == clip_id and detail["end"] > detail["start"]
    assert detail["thumb_url"] == f"/media/clips/{clip_id}/thumb.jpg"
    by_label = {item["label"]: item for item in detail["labels"]}
    assert {"ships", "bicycles", "never-built"} <= set(by_label)
    ships_model = ws.models.get(ws.labels.get("ships")["id"])
    expected = float(ws.models.scores(ships_model)[clip_id])
    assert by_label["ships"]["score"] == pytest.approx(expected, abs=1e-4)
    assert by_label["ships"]["annotation"] == "positive" and 0 <= by_label["ships"]["probability"] <= 1
    assert by_label["bicycles"]["version"] == 1 and by_label["bicycles"]["score"] is not None
    assert by_label["never-built"]["score"] is None and by_label["never-built"]["version"] is None


@pytest.mark.slow
def test_concurrent_writers_through_the_api_lose_nothing(api, ws):
    app = api.app
    api.post("/api/labels", json={"name": "crowd"})
    writers, per_writer, clips = 4, 15, ws.clip_count()
    barrier = threading.Barrier(writers)
    failures = []

    def write(n):
        with TestClient(app, base_url=BASE_URL) as own:
            barrier.wait()
            for i in range(per_writer):
                value = "positive" if (n + i) % 2 else "negative"
                response = annotate(own, "crowd", [(n * 7 + i) % clips], value, annotator=f"w{n}")
                if response.status_code != 201:
                    failures.append(response.text)

    threads = [threading.Thread(target=write, args=(n,)) for n in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert not failures
    events = ws.annotations.events(ws.labels.get("crowd")["id"])
    assert Counter(e["annotator"] for e in events) == {f"w{n}": per_writer for n in range(writers)}


# -- idempotency: a retry after a dropped connection stores the vote once ---------------------------
@pytest.fixture(scope="module")
def votes(api):
    assert api.post("/api/labels", json={"name": "votes"}).status_code == 201
    return "votes"


def stored_events(ws, label):
    return ws.annotations.events(ws.labels.get(label)["id"])


@pytest.mark.slow
def test_the_same_request_twice_with_a_key_stores_one_event(api, ws, votes):
    key = {"idempotency-key": "3f1c2a9e-retry-1"}
    first = annotate(api, votes, [4, 5], "positive", headers=key)
    again = annotate(api, votes, [4, 5], "positive", headers=key)
    assert first.status_code == again.status_code == 201
    assert again.json() == first.json() and len(first.json()["events"]) == 2
    assert len(stored_events(ws, votes)) == 2
    without = annotate(api, votes, [4, 5], "positive")  # no key: a new vote each time, as before
    assert without.status_code == 201 and len(stored_events(ws, votes)) == 4


@pytest.mark.slow
def test_a_key_reused_for_another_request_is_409(api, ws, votes):
    key = {"idempotency-key": "3f1c2a9e-retry-2"}
    assert annotate(api, votes, [6], "negative", headers=key).status_code == 201
    before = len(stored_events(ws, votes))
    for changed in ({"clip_ids": [7]}, {"value": "positive"}, {"annotator": "bea"}, {"source": "review"}):
        body = {"clip_ids": [6], "value": "negative", "annotator": "ann", **changed}
        error = assert_error(api.post(f"/api/labels/{votes}/annotations", json=body, headers=key), 409, "conflict")
        assert "different request" in error["message"] and "new key" in error["message"]
    api.post("/api/labels", json={"name": "votes-too"})
    assert_error(annotate(api, "votes-too", [6], "negative", headers=key), 409, "conflict")  # another label
    assert len(stored_events(ws, votes)) == before


@pytest.mark.slow
def test_retries_racing_each_other_store_one_event(api, ws, votes):
    key = {"idempotency-key": "3f1c2a9e-retry-3"}
    before = len(stored_events(ws, votes))
    answers = []

    def send():
        with TestClient(api.app, base_url=BASE_URL) as own:
            answers.append(annotate(own, votes, [8], "skip", headers=key))

    threads = [threading.Thread(target=send) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=60)
    assert [a.status_code for a in answers] == [201] * 4
    assert len({json.dumps(a.json()) for a in answers}) == 1
    assert len(stored_events(ws, votes)) == before + 1


@pytest.mark.slow
def test_a_failed_request_leaves_its_key_free(api, ws, votes):
    key = {"idempotency-key": "3f1c2a9e-retry-4"}
    assert_error(annotate(api, votes, [ws.clip_count() + 7], "positive", headers=key), 404, "not_found")
    assert annotate(api, votes, [9], "positive", headers=key).status_code == 201


@pytest.mark.slow
def test_repeated_clip_ids_in_one_request_count_once(api, ws, votes):
    before = len(stored_events(ws, votes))
    response = annotate(api, votes, [10, 11, 10, 10, 11], "negative")
    assert [e["clip_id"] for e in response.json()["events"]] == [10, 11]
    assert len(stored_events(ws, votes)) == before + 2


@pytest.mark.parametrize("key", ["", "has space", "x" * 256, "caf\u00e9"])
def test_a_malformed_idempotency_key_is_422(client, key):
    client.post("/api/labels", json={"name": "dup"})
    response = client.post(
        "/api/labels/dup/annotations",
        json={"clip_ids": [1], "value": "skip", "annotator": "a"},
        headers={"idempotency-key": key.encode("utf-8")},
    )
    message = assert_error(response, 422, "invalid_input")["message"]
    assert "idempotency-key" in message and "e.g. a UUID" in message


# -- media ----------------------------------------------------------------------------------------
@pytest.mark.slow
def test_thumbnail_is_served_as_jpeg(api, ws):
    response = api.get("/media/clips/0/thumb.jpg")
    assert response.status_code == 200 and response.headers["content-type"] == "image/jpeg"
    assert response.content == ws.thumb_path(ws.clip(0)).read_bytes()
    assert Image.open(io.BytesIO(response.content)).format == "JPEG"


@pytest.mark.slow
def test_a_bad_range_on_media_is_the_one_error_shape(api, ws):
    size = ws.thumb_path(ws.clip(0)).stat().st_size
    past = api.get("/media/clips/0/thumb.jpg", headers={"range": f"bytes={size + 10}-"})
    assert_error(past, 416, "range_not_satisfiable")
    assert past.headers["content-range"] == f"bytes */{size}"
    assert_error(api.get("/media/clips/0/thumb.jpg", headers={"range": "bytes=9-2"}), 400, "bad_request")
    assert api.get("/media/clips/0/thumb.jpg", headers={"range": "bytes=0-9"}).status_code == 206


@pytest.mark.slow
def test_preview_is_rendered_once_as_decodable_webm(api, ws, tmp_path):
    clip_id = ws.clip_count() - 1
    clip = ws.clip(clip_id)
    results = []

    def fetch():
        results.append(api.get(f"/media/clips/{clip_id}/preview.webm"))

    threads = [threading.Thread(target=fetch) for _ in range(3)]  # the same clip at the same moment
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert [r.status_code for r in results] == [200, 200, 200]
    assert results[0].headers["content-type"] == "video/webm"
    assert results[0].content == results[1].content == results[2].content
    cached = ws.home / "previews" / f"{clip_id}.webm"
    assert cached.read_bytes() == results[0].content
    assert [p.name for p in cached.parent.iterdir() if p.name.startswith(".")] == []  # no half files left

    path = tmp_path / "preview.webm"
    path.write_bytes(results[0].content)
    with av.open(str(path)) as container:
        fps = float(container.streams.video[0].average_rate or 25)
        frames = list(container.decode(video=0))
    assert frames and frames[0].width == ws.settings.thumb_width
    assert len(frames) / fps == pytest.approx(clip["end_s"] - clip["start_s"], abs=0.2)

    partial = api.get(f"/media/clips/{clip_id}/preview.webm", headers={"range": "bytes=0-99"})
    assert partial.status_code == 206 and len(partial.content) == 100  # browsers seek with ranges
    assert_error(api.get(f"/media/clips/{ws.clip_count() + 3}/preview.webm"), 404, "not_found")
    assert_error(api.get("/media/clips/%2e%2e/preview.webm"), 422, "invalid_input")


def test_a_catalog_server_that_went_away_answers_503_not_500():
    """PostgreSQL dropping the connection mid-request (psycopg's OperationalError) is a 503 with
    one line; the next request reconnects (catalog/postgres/store.py)."""
    import psycopg
    from fastapi import FastAPI

    from videoannotator.server.errors import CatchAllMiddleware

    app = FastAPI()

    @app.get("/api/x")
    def boom():
        raise psycopg.errors.AdminShutdown("terminating connection due to administrator command")

    app.add_middleware(CatchAllMiddleware)  # where create_app puts it: inside Starlette's own
    with TestClient(app, raise_server_exceptions=False) as client:
        assert_error(client.get("/api/x"), 503, "catalog_unavailable")
