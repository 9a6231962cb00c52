"""Label guideline edits keep their history (who, when, the old text), through the library,
`va label history` and GET /api/labels/{name}/history."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from videoannotator import Workspace
from videoannotator.catalog.sqlite.label_history import history
from videoannotator.errors import InvalidInput
from videoannotator.server import create_app

VA = str(Path(sys.executable).with_name("va"))


def test_every_edit_keeps_the_old_values_and_who_made_it(tmp_home, monkeypatch):
    monkeypatch.delenv("VA_ANNOTATOR", raising=False)
    ws = Workspace(tmp_home)
    lab = ws.labels.create("wide", "A wide shot", "landscape")
    assert history(ws.catalog, lab["id"]) == []
    ws.labels.update("wide", description="Extremely wide shot that sets the location", editor="ann")
    ws.labels.update("wide", name="establishing", keywords="Landscapes, Buildings", editor="bob")
    ws.labels.update("establishing", keywords=["Landscapes", "Buildings"], editor="bob")  # no change: no entry
    monkeypatch.setenv("VA_ANNOTATOR", "carol")
    ws.labels.update("establishing", archived=True)  # editor defaults to $VA_ANNOTATOR
    entries = history(ws.catalog, lab["id"])
    assert [(e["editor"], e["changed"]) for e in entries] == [
        ("carol", ["archived"]),
        ("bob", ["name", "keywords"]),
        ("ann", ["description"]),
    ]
    oldest = entries[-1]
    assert oldest["before"] == {
        "name": "wide",
        "description": "A wide shot",
        "keywords": ["landscape"],
        "archived": False,
    }
    assert oldest["after"]["description"] == "Extremely wide shot that sets the location"
    assert entries[1]["before"]["name"] == "wide" and entries[1]["after"]["name"] == "establishing"
    assert entries[0]["after"]["archived"] is True and entries[0]["edited_at"] >= oldest["edited_at"]
    with pytest.raises(InvalidInput, match="editor"):
        ws.labels.update("establishing", description="x", editor="a\nb")
    assert ws.labels.get("establishing")["description"] == "Extremely wide shot that sets the location"
    assert len(history(ws.catalog, lab["id"])) == 3


def test_history_through_the_cli_and_the_api(tmp_home):
    ws = Workspace(tmp_home)
    ws.labels.create("chase", "A car chase")
    env = {"VA_ANNOTATOR": "dana", "PATH": "/usr/bin:/bin"}
    edit = subprocess.run(
        [VA, "--home", str(tmp_home), "label", "edit", "chase", "-d", "Two or more cars, fast"],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert edit.returncode == 0, edit.stderr
    shown = subprocess.run(
        [VA, "--home", str(tmp_home), "label", "history", "chase"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert shown.returncode == 0, shown.stderr
    assert "dana" in shown.stdout and '"A car chase" -> "Two or more cars, fast"' in shown.stdout
    as_json = json.loads(
        subprocess.run(
            [VA, "--home", str(tmp_home), "label", "history", "chase", "--json"],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        ).stdout
    )
    with TestClient(create_app(ws), base_url="http://127.0.0.1") as client:
        response = client.get("/api/labels/chase/history")
        assert response.status_code == 200
        assert response.json()["history"] == as_json["history"]
        assert response.json()["history"][0]["before"]["description"] == "A car chase"
        missing = client.get("/api/labels/nope/history")
        assert missing.status_code == 404 and missing.json()["error"]["code"] == "not_found"
