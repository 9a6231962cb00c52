"""Team mode on the real app over a real workspace: `va users add` prints a token, the server
takes the annotator from it (whatever the body says), nobody can undo another person's vote,
a revoked token stops at once, and the event log records who did what."""

import json

import numpy as np
import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient

from videoannotator.bench.synthetic import commit_random_video
from videoannotator.cli import cli
from videoannotator.errors import Conflict, VAError
from videoannotator.server import create_app, serve
from videoannotator.server.security import check_bind
from videoannotator.team import token_hash
from videoannotator.workspace import Workspace

BASE_URL = "http://127.0.0.1"


def va(home, *args):
    result = CliRunner().invoke(cli, ["--home", str(home), *args], catch_exceptions=False)
    return result


@pytest.fixture
def team(tmp_home):
    ws = Workspace(tmp_home)
    commit_random_video(ws, np.random.default_rng(3), "corpus", 40, 16)
    ws.create_label("ships")
    tokens = {}
    for name in ("ana", "bo"):
        result = va(tmp_home, "users", "add", name, "--json")
        assert result.exit_code == 0, result.output
        tokens[name] = json.loads(result.output)["token"]
    return ws, tokens


def bearer(token):
    return {"Authorization": f"Bearer {token}"}


def test_users_add_prints_a_token_once_and_stores_only_its_hash(tmp_home):
    Workspace(tmp_home)
    result = va(tmp_home, "users", "add", "ana")
    assert result.exit_code == 0
    token = result.output.splitlines()[1]
    assert token.startswith("va_") and len(token) > 40
    assert "team mode is on" in result.stderr
    listed = va(tmp_home, "users", "list")
    assert "ana" in listed.output and "active" in listed.output and token not in listed.output
    copy = tmp_home.parent / "catalog-copy.sqlite"  # every row of the catalog, whatever its backend
    Workspace(tmp_home).catalog.snapshot_to(copy)
    assert token.encode() not in copy.read_bytes() and token_hash(token).encode() in copy.read_bytes()
    with pytest.raises(Conflict, match="exists already"):  # names are unique whatever the case
        va(tmp_home, "users", "add", "ANA")
    # A revoked user gets a new token under the same name; the old one stays dead.
    assert va(tmp_home, "users", "revoke", "ana").exit_code == 0
    new = va(tmp_home, "users", "add", "ana").output.splitlines()[1]
    ws = Workspace(tmp_home)
    assert ws.catalog.users.by_token_hash(token_hash(token)) is None
    assert ws.catalog.users.by_token_hash(token_hash(new))["name"] == "ana"


def test_the_annotator_comes_from_the_token_not_the_body(team):
    ws, tokens = team
    with TestClient(create_app(ws), base_url=BASE_URL) as client:
        r = client.post(
            "/api/labels/ships/annotations",
            json={"clip_ids": [1, 2], "value": "positive", "annotator": "bo"},  # ana claims to be bo
            headers=bearer(tokens["ana"]),
        )
        assert r.status_code == 201, r.text
        assert {e["annotator"] for e in r.json()["events"]} == {"ana"}
        # In team mode the body needs no annotator at all.
        r = client.post(
            "/api/labels/ships/annotations", json={"clip_ids": [3], "value": "negative"}, headers=bearer(tokens["bo"])
        )
        assert r.status_code == 201 and r.json()["events"][0]["annotator"] == "bo"
        assert client.get("/api/me", headers=bearer(tokens["bo"])).json() == {"team": True, "name": "bo"}
    events = ws.catalog.annotations.events(ws.label("ships")["id"])
    assert [(e["clip_id"], e["annotator"]) for e in events] == [(1, "ana"), (2, "ana"), (3, "bo")]


def test_nobody_can_undo_another_persons_vote(team):
    ws, tokens = team
    with TestClient(create_app(ws), base_url=BASE_URL) as client:
        r = client.post(
            "/api/labels/ships/annotations", json={"clip_ids": [5], "value": "positive"}, headers=bearer(tokens["ana"])
        )
        assert r.status_code == 201
        # bo asks to undo "ana"'s vote on clip 5: the server undoes bo's own, and bo has none.
        r = client.post("/api/labels/ships/undo", json={"annotator": "ana", "clip_id": 5}, headers=bearer(tokens["bo"]))
        assert r.status_code == 404, r.text
        assert ws.catalog.annotations.current(ws.label("ships")["id"])[5]["value"] == "positive"
        r = client.post("/api/labels/ships/undo", json={"clip_id": 5}, headers=bearer(tokens["ana"]))
        assert r.status_code == 200, r.text
    assert 5 not in ws.catalog.annotations.current(ws.label("ships")["id"])


def test_requests_without_a_users_token_are_refused_and_revocation_is_immediate(team, tmp_home):
    ws, tokens = team
    vote = {"clip_ids": [7], "value": "positive", "annotator": "ana"}
    with TestClient(create_app(ws), base_url=BASE_URL) as client:
        for headers in ({}, bearer("not-a-real-token"), bearer(tokens["ana"] + "x")):
            r = client.post("/api/labels/ships/annotations", json=vote, headers=headers)
            assert r.status_code == 401 and "team mode" in r.json()["error"]["message"]
            assert client.get("/api/labels", headers=headers).status_code == 401
        assert client.get("/api/labels", headers=bearer(tokens["bo"])).status_code == 200
        assert va(tmp_home, "users", "revoke", "bo").exit_code == 0
        assert client.get("/api/labels", headers=bearer(tokens["bo"])).status_code == 401
        # The page's one-time link takes a user's token, not a made-up one.
        assert client.get("/?token=nope-nope-nope", follow_redirects=False).status_code == 401
        r = client.get(f"/?token={tokens['ana']}", follow_redirects=False)
        assert r.status_code == 303 and "va_token" in r.headers["set-cookie"]
    assert ws.catalog.annotations.events(ws.label("ships")["id"]) == []  # nothing refused was stored
    listed = json.loads(va(tmp_home, "users", "list", "--json").output)
    assert [(u["name"], u["revoked_at"] is not None) for u in listed] == [("ana", False), ("bo", True)]


def test_deploys_and_label_edits_record_the_tokens_user(team):
    ws, tokens = team
    label_id = ws.label("ships")["id"]
    ws.annotate("ships", list(range(6)), "positive", "ana")
    ws.annotate("ships", list(range(6, 20)), "negative", "ana")
    ws.build("ships")
    with TestClient(create_app(ws), base_url=BASE_URL) as client:
        r = client.post("/api/labels/ships/deploy", json={"deployer": "mallory"}, headers=bearer(tokens["bo"]))
        assert r.status_code == 200, r.text
        r = client.patch("/api/labels/ships", json={"description": "ships at sea"}, headers=bearer(tokens["ana"]))
        assert r.status_code == 200, r.text
    assert ws.catalog.deployments.current(label_id)["deployer"] == "bo"
    assert ws.label_history("ships")[0]["editor"] == "ana"


def test_team_mode_serves_beyond_localhost_without_a_server_token_and_refuses_one(team):
    ws, _ = team
    check_bind("0.0.0.0", None, team=True)  # each request carries a user's token instead
    with pytest.raises(VAError) as info:
        serve(ws, host="127.0.0.1", port=1, token="a-shared-server-token")
    assert info.value.code == "team_mode"
    with pytest.raises(VAError) as info:
        check_bind("0.0.0.0", None)
    assert "va users add" in info.value.message


def test_without_users_the_client_names_the_annotator(tmp_home):
    ws = Workspace(tmp_home)
    commit_random_video(ws, np.random.default_rng(4), "corpus", 10, 16)
    ws.create_label("ships")
    with TestClient(create_app(ws), base_url=BASE_URL) as client:
        assert client.get("/api/me").json() == {"team": False, "name": None}
        r = client.post("/api/labels/ships/annotations", json={"clip_ids": [1], "value": "positive", "annotator": "x"})
        assert r.status_code == 201 and r.json()["events"][0]["annotator"] == "x"
        r = client.post("/api/labels/ships/annotations", json={"clip_ids": [1], "value": "positive"})
        assert r.status_code == 422 and "annotator" in r.json()["error"]["message"]


def test_a_catalog_server_gone_while_checking_the_token_is_a_503(team, monkeypatch):
    """Team mode asks the catalog before any route runs; a PostgreSQL server that went away
    there answers 503 in one line, like one that goes away inside a route."""
    import psycopg

    ws, tokens = team

    def gone(*args, **kwargs):
        raise psycopg.errors.AdminShutdown("terminating connection due to administrator command")

    with TestClient(create_app(ws), base_url=BASE_URL) as client:
        monkeypatch.setattr(ws.catalog.users, "by_token_hash", gone)
        r = client.get("/api/labels", headers=bearer(tokens["ana"]))
        assert r.status_code == 503 and r.json()["error"]["code"] == "catalog_unavailable"
        monkeypatch.undo()
        assert client.get("/api/labels", headers=bearer(tokens["ana"])).status_code == 200
