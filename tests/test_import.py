"""`va import` reads back what `va export` writes: annotations (JSONL, CSV) into a workspace
holding the same videos ingested in another order, events (JSONL, CSV) into one whose ids
agree; importing twice adds nothing; rows matching no clip are listed and nothing is imported."""

import json
import subprocess
import sys
from pathlib import Path

import pytest
from videos import make_cut_video

from videoannotator import Workspace
from videoannotator.embed import get_embedder
from videoannotator.errors import ImportMismatch, InvalidInput
from videoannotator.importer import import_annotations

pytestmark = pytest.mark.slow
VA = str(Path(sys.executable).with_name("va"))
LABEL = "ships"


@pytest.fixture(scope="module")
def homes(tmp_path_factory):
    """A: videos one, two. B: two, one (other clip ids). C: one, two (same ids as A). D: one only."""
    media = tmp_path_factory.mktemp("media")
    one, two = media / "one.mp4", media / "two.mp4"
    make_cut_video(one, [30] * 4)
    make_cut_video(two, [25] * 3, seed=1)
    embedder = get_embedder("conse-effnet-minilm")
    homes = {}
    for name, videos in {"A": [one, two], "B": [two, one], "C": [one, two], "D": [one]}.items():
        homes[name] = tmp_path_factory.mktemp(f"ws-{name}")
        for video in videos:  # one at a time: the order sets the clip ids
            assert Workspace(homes[name], embedder=embedder).ingest([video], progress=False).ok
    a = Workspace(homes["A"])
    assert a.info()["clips"] == 7
    a.labels.create(LABEL, "A ship at sea")
    a.annotate(LABEL, [0, 2], "positive", "ann")
    a.annotate(LABEL, [1], "negative", "ann")
    a.annotate(LABEL, [5], "skip", "ann")
    a.annotate(LABEL, [0], "positive", "bob")
    a.annotate(LABEL, [2], "negative", "bob")  # a tie on clip 2: unresolved
    a.annotate(LABEL, [6], "negative", "bob")
    a.annotate(LABEL, [1], "positive", "ann")  # a change of mind ...
    a.undo(LABEL, "ann")  # ... undone: negative again
    a.annotate(LABEL, [3], "positive", "-eve")  # names a spreadsheet would take for formulas
    a.annotate(LABEL, [4], "negative", "=sum(1)")
    return homes


def export(home, tmp_path, what, fmt) -> Path:
    result = subprocess.run(
        [VA, "--home", str(home), "export", LABEL, "--what", what, "--format", fmt],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    path = tmp_path / f"{what}.{fmt}"
    path.write_text(result.stdout)
    return path


def by_clip(ws, label) -> dict:
    """The label's current values keyed by what identifies a clip across workspaces."""
    out = {}
    for clip_id, entry in ws.annotations.current(ws.labels.get(label)["id"]).items():
        clip = ws.clip(clip_id)
        out[(Path(clip["video_path"]).name, round(clip["start_s"], 3), round(clip["end_s"], 3))] = entry
    return out


def log(ws, label) -> list[tuple]:
    return [
        (e["clip_id"], e["annotator"], e["value"], e["source"], e["created_at"])
        for e in ws.annotations.events(ws.labels.get(label)["id"])
    ]


def test_annotations_jsonl_round_trip_into_videos_ingested_in_another_order(homes, tmp_path):
    a, b = Workspace(homes["A"]), Workspace(homes["B"])
    assert a.clip(0)["content_hash"] != b.clip(0)["content_hash"], "B must hold the videos in another order"
    path = export(homes["A"], tmp_path, "annotations", "jsonl")
    result = import_annotations(b, LABEL, path)
    assert result["created_label"] and result["kind"] == "annotations" and result["rows"] == 7
    assert by_clip(b, LABEL) == by_clip(a, LABEL)
    assert by_clip(b, LABEL)[("one.mp4", 2.4, 3.6)]["value"] == "unresolved"
    events = len(log(b, LABEL))
    again = import_annotations(b, LABEL, path)
    assert (again["events_added"], again["events_present"], again["created_label"]) == (0, events, False)
    assert len(log(b, LABEL)) == events and by_clip(b, LABEL) == by_clip(a, LABEL)


def test_annotations_csv_round_trip_as_one_vote_per_row(homes, tmp_path):
    a, b = Workspace(homes["A"]), Workspace(homes["B"])
    path = export(homes["A"], tmp_path, "annotations", "csv")
    result = subprocess.run(
        [VA, "--home", str(homes["B"]), "import", "ships-csv", str(path), "-a", "importer"],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 0, result.stderr
    assert result.stderr.count("not imported:") == 1 and "unresolved" in result.stderr  # the tie
    want = {key: entry["value"] for key, entry in by_clip(a, LABEL).items() if entry["value"] != "unresolved"}
    got = by_clip(b, "ships-csv")
    assert {key: entry["value"] for key, entry in got.items()} == want
    assert {who for entry in got.values() for who in entry["votes"]} == {"importer"}
    again = import_annotations(b, "ships-csv", path, annotator="importer")
    assert again["events_added"] == 0 and again["events_present"] == len(want)


@pytest.mark.parametrize("fmt", ["jsonl", "csv"])
def test_events_round_trip_where_the_clip_ids_agree(homes, tmp_path, fmt):
    a, c = Workspace(homes["A"]), Workspace(homes["C"])
    label = f"ships-events-{fmt}"
    path = export(homes["A"], tmp_path, "events", fmt)
    if fmt == "csv":
        assert "'-eve" in path.read_text() and "'=sum(1)" in path.read_text()  # the export's formula guard
    result = import_annotations(c, label, path)
    n = len(log(a, LABEL))
    assert result["kind"] == "events" and result["events_added"] == n > 0
    assert log(c, label) == log(a, LABEL)  # "-eve" and "=sum(1)" come back unguarded
    assert by_clip(c, label) == by_clip(a, LABEL)
    undo = next(e for e in c.annotations.events(c.labels.get(label)["id"]) if e["source"] == "undo")
    undone = c.annotations._event(undo["undoes"])
    assert (undone["clip_id"], undone["value"], undone["annotator"]) == (1, "positive", "ann")
    again = import_annotations(c, label, path)
    assert (again["events_added"], again["events_present"]) == (0, n)
    assert len(log(c, label)) == n


def test_rows_matching_no_clip_are_listed_and_nothing_is_imported(homes, tmp_path):
    d = Workspace(homes["D"])  # has video one only: the rows of video two match nothing
    path = export(homes["A"], tmp_path, "annotations", "jsonl")
    result = subprocess.run(
        [VA, "--home", str(homes["D"]), "import", LABEL, str(path)],
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    rows_of_two = [json.loads(x) for x in path.read_text().splitlines() if "two.mp4" in x]
    assert len(rows_of_two) == 3 and len(lines) == len(rows_of_two) + 1
    assert all(line.startswith("line ") and "two.mp4" in line for line in lines[:-1])
    assert lines[-1].startswith("error: 3 of 7 rows") and "nothing was imported" in lines[-1]
    assert LABEL not in [x["name"] for x in d.labels.list(include_archived=True)]
    with pytest.raises(ImportMismatch) as caught:
        import_annotations(d, LABEL, export(homes["A"], tmp_path, "events", "jsonl"))  # ids 4-6 do not exist in D
    assert len(caught.value.problems) == 3
    assert d.catalog.scalar("SELECT COUNT(*) FROM annotations") == 0


def test_bad_files_get_one_line_and_change_nothing(homes, tmp_path):
    b = Workspace(homes["B"])
    before = b.catalog.scalar("SELECT COUNT(*) FROM annotations")
    good = export(homes["A"], tmp_path, "annotations", "jsonl").read_text().splitlines()
    rows = [json.loads(x) for x in good]
    rows[0]["votes"] = {"ann": "negative"}  # disagrees with its value: edited by hand
    cases = {
        "missing.jsonl": None,
        "garbage.jsonl": "{not json\n",
        "list.jsonl": "[1, 2]\n",
        "columns.csv": "a,b\n1,2\n",
        "edited.jsonl": "\n".join(json.dumps(r) for r in rows) + "\n",
        "value.jsonl": good[1].replace('"value": "', '"value": "maybe-') + "\n",
        "short.csv": "clip_id,value,annotator,created_at\n1,positive\n",
        "empty.csv": "",
    }
    for name, text in cases.items():
        path = tmp_path / name
        if text is not None:
            path.write_text(text)
        with pytest.raises(InvalidInput) as caught:
            import_annotations(b, "bad-input", path)
        assert "\n" not in caught.value.message, name
    assert b.catalog.scalar("SELECT COUNT(*) FROM annotations") == before
    assert "bad-input" not in [x["name"] for x in b.labels.list(include_archived=True)]


def test_rows_naming_content_and_position_match_whatever_the_ids(homes, tmp_path):
    """Exported event rows carry the video's content hash and the clip's position, so they land
    on the right clips of a workspace whose ids differ."""
    a, b = Workspace(homes["A"]), Workspace(homes["B"])

    def key(ws, clip_id):
        clip = ws.clip(clip_id)
        return clip["content_hash"], clip["position"]

    original = a.annotations.events(a.labels.get(LABEL)["id"])
    path = export(homes["A"], tmp_path, "events", "jsonl")  # every exported row names its clip by content
    rows = [json.loads(x) for x in path.read_text().splitlines()]
    assert [(r["content_hash"], r["position"]) for r in rows] == [key(a, e["clip_id"]) for e in original]
    import_annotations(b, "ships-named", path)
    copied = b.annotations.events(b.labels.get("ships-named")["id"])
    assert [(key(b, e["clip_id"]), e["annotator"], e["value"]) for e in copied] == [
        (key(a, e["clip_id"]), e["annotator"], e["value"]) for e in original
    ]
    assert any(e["clip_id"] != c["clip_id"] for e, c in zip(original, copied)), "the ids should differ in B"
    assert by_clip(b, "ships-named") == by_clip(a, LABEL)
