"""Labels and the annotation log on a real workspace: validation, aggregation, undo, and
concurrent writers (threads and processes) losing nothing."""

import subprocess
import sys
import threading

import pytest
from videos import make_cut_video

from videoannotator import Workspace
from videoannotator.catalog.rules import aggregate
from videoannotator.embed import get_embedder
from videoannotator.errors import Conflict, InvalidInput, NotFound

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def home(tmp_path_factory):
    home = tmp_path_factory.mktemp("ws")
    video = home.parent / "cuts.mp4"
    make_cut_video(video, [30] * 12)  # 12 shots -> 12 clips
    ws = Workspace(home, embedder=get_embedder("conse-effnet-minilm"))
    assert ws.ingest([video], progress=False).ok
    assert ws.info()["clips"] == 12
    return home


@pytest.fixture
def ws(home):
    return Workspace(home)


def test_label_validation(ws):
    lab = ws.labels.create("establishing-shots", "Extremely wide shot that sets the location", "Landscapes, Buildings")
    assert lab["keywords"] == ["Landscapes", "Buildings"]
    with pytest.raises(Conflict, match="exists already"):
        ws.labels.create("Establishing-Shots")
    with pytest.raises(InvalidInput, match="needs a name"):
        ws.labels.create("  ")
    with pytest.raises(InvalidInput, match="odd characters"):
        ws.labels.create("<img src=x onerror=alert(1)>")
    renamed = ws.labels.update("establishing-shots", name="wide-shots")
    assert ws.labels.get("wide-shots")["id"] == lab["id"] == renamed["id"]
    ws.labels.update("wide-shots", archived=True)
    assert "wide-shots" not in [x["name"] for x in ws.labels.list()]
    assert "wide-shots" in [x["name"] for x in ws.labels.list(include_archived=True)]
    with pytest.raises(NotFound, match="va label list"):
        ws.labels.get("nope")


def test_latest_event_per_annotator_and_majority(ws):
    ws.labels.create("car-chase")
    ws.annotate("car-chase", [0, 1, 2], "positive", "ann")
    ws.annotate("car-chase", [1], "negative", "ann")  # change of mind: latest wins
    ws.annotate("car-chase", [2], "negative", "bob")  # tie on clip 2 -> unresolved
    ws.annotate("car-chase", [0], "positive", "bob")
    ws.annotate("car-chase", [3], "skip", "bob")
    current = ws.annotations.current(ws.labels.get("car-chase")["id"])
    assert current[0]["value"] == "positive" and current[1]["value"] == "negative"
    assert current[2]["value"] == "unresolved" and current[3]["value"] == "skip"
    ids, ys, counts = ws.annotations.training_set(ws.labels.get("car-chase")["id"])
    assert (ids, ys) == ([0, 1], [1, 0])
    assert counts == {"positive": 1, "negative": 1, "skip": 1, "unresolved": 1}
    assert aggregate(["positive", "positive", "negative", "skip"]) == "positive"
    with pytest.raises(NotFound, match="no clip with id 999"):
        ws.annotate("car-chase", [999], "positive", "ann")
    with pytest.raises(InvalidInput, match="not one of"):
        ws.annotate("car-chase", [4], "maybe", "ann")


def test_undo_restores_previous_value_and_keeps_history(ws):
    ws.labels.create("smoking")
    ws.annotate("smoking", [5], "positive", "ann")
    ws.annotate("smoking", [5], "negative", "ann")
    ws.annotate("smoking", [6], "positive", "ann")
    label_id = ws.labels.get("smoking")["id"]
    ws.undo("smoking", "ann")  # undoes clip 6
    assert 6 not in ws.annotations.current(label_id)
    ws.undo("smoking", "ann")  # undoes the flip on clip 5 -> positive again
    assert ws.annotations.current(label_id)[5]["value"] == "positive"
    ws.undo("smoking", "ann")
    assert ws.annotations.current(label_id) == {}
    with pytest.raises(NotFound, match="nothing to undo"):
        ws.undo("smoking", "ann")
    assert len(ws.annotations.events(label_id)) == 6  # three actions + three undos, all kept


def test_concurrent_threads_lose_nothing(ws):
    ws.labels.create("close-up")
    errors = []

    def writer(name):
        try:
            own = Workspace(ws.home)
            for i in range(25):
                own.annotate("close-up", [i % 12], "positive" if i % 2 else "negative", name)
        except Exception as exc:  # noqa: BLE001 - surfaced below
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(f"t{i}",)) for i in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    events = ws.annotations.events(ws.labels.get("close-up")["id"])
    assert len(events) == 100
    assert {e["annotator"] for e in events} == {"t0", "t1", "t2", "t3"}


WRITER = """
import sys
from videoannotator import Workspace
ws = Workspace(sys.argv[1])
for i in range(40):
    ws.annotate("aerial", [i % 12], "positive", sys.argv[2], source="test")
"""


def test_concurrent_processes_lose_nothing(ws):
    ws.labels.create("aerial")
    procs = [subprocess.Popen([sys.executable, "-c", WRITER, str(ws.home), f"p{i}"]) for i in range(3)]
    assert [p.wait(timeout=120) for p in procs] == [0, 0, 0]
    events = ws.annotations.events(ws.labels.get("aerial")["id"])
    assert len(events) == 120
    assert sorted({e["annotator"] for e in events}) == ["p0", "p1", "p2"]
