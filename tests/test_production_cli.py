"""Models in production through `va`, on a workspace holding real sample media (issue 11):
label, annotate from search, build v1, deploy, `va score` two videos not ingested yet → Parquet
and CSV with one row per clip × label, a timeline (PNG and JSON), segments as OpenTimelineIO
and EDL read back with OpenTimelineIO, monitoring with drift and a production feed, the feed
annotated with source "production" → live precision, v2, a dry run that says what would
change, deploy v2, both deployments in `va versions`, rollback."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import opentimelineio as otio
import pyarrow.parquet as pq
import pytest
from click.testing import CliRunner

from videoannotator import Workspace
from videoannotator.cli import cli
from videoannotator.embed import get_embedder
from videoannotator.names import PRODUCTION_SOURCE, SEGMENT_FORMATS
from videoannotator.score import edl_rate

pytestmark = pytest.mark.slow
VA = str(Path(sys.executable).with_name("va"))


@pytest.fixture(scope="module")
def home(tmp_path_factory, freecol, bikes):
    home = tmp_path_factory.mktemp("production-cli")
    ws = Workspace(home, embedder=get_embedder("conse-effnet-minilm"))
    assert ws.ingest([freecol, bikes], progress=False).ok
    ws.catalog.close()
    return home


@pytest.fixture(scope="module")
def new_videos(sample_media):
    """Two sample videos the workspace has not ingested: `va score` takes them in."""
    return [sample_media / "cityCC0.mpg", sample_media / "oa4_launch.webm"]


def va(home, *args, ok=True):
    # A team that wants recall (VA_THRESHOLD_RULE): the production feed then has clips on both
    # sides of the threshold in this small catalog.
    result = CliRunner().invoke(
        cli, ["--home", str(home), *map(str, args)], catch_exceptions=False, env={"VA_THRESHOLD_RULE": "recall>=0.8"}
    )
    if ok:
        assert result.exit_code == 0, result.output
    return result


def va_json(home, *args):
    return json.loads(va(home, *args, "--json").stdout)


def one_line_error(home, *args) -> str:
    """The console script's answer to a bad request: exit status 2, one line on stderr."""
    result = subprocess.run(
        [VA, "--home", str(home), *map(str, args)], capture_output=True, text=True, timeout=300, check=False
    )
    assert result.returncode == 2 and result.stdout == "", result
    assert result.stderr.startswith("error: ") and result.stderr.count("\n") == 1, result.stderr
    return result.stderr


def test_the_production_cycle(home, new_videos, tmp_path):
    # -- v1 of two labels, from search -----------------------------------------------------------
    va(home, "label", "create", "ships", "-d", "A sailing ship at sea")
    hits = va_json(home, "search", "a sailing ship on the sea", "-k", "12")
    ids = [h["clip_id"] for h in hits]
    va(home, "annotate", "ships", *ids[:5], "positive", "-a", "ann", "--source", "search")
    va(home, "annotate", "ships", *ids[5:12], "negative", "-a", "ann", "--source", "search")
    va(home, "label", "create", "bikes")
    bike_hits = [h["clip_id"] for h in va_json(home, "search", "people riding bicycles", "-k", "6")]
    va(home, "annotate", "bikes", *bike_hits[:3], "positive", "-a", "ann")
    va(home, "annotate", "bikes", *ids[:3], "negative", "-a", "ann")
    assert va_json(home, "build", "ships")["version"] == 1
    assert va_json(home, "build", "bikes")["version"] == 1

    assert "has no deployed version" in one_line_error(home, "production-feed", "ships")
    assert "no version 7" in one_line_error(home, "deploy", "ships", "--version", "7")

    first = va_json(home, "deploy", "ships")
    assert first["deployed"] and first["version"] == 1 and first["previous"] is None and first["changes"] is None
    assert va(home, "deploy", "bikes").stdout.strip() == "bikes v1 is live"

    # -- score two videos not ingested yet ---------------------------------------------------------
    before = {v["path"] for v in va_json(home, "videos")}
    parquet = tmp_path / "scores.parquet"
    summary = va_json(home, "score", *new_videos, "--all-deployed", "--out", parquet)
    assert summary["out"] == str(parquet) and len(summary["videos"]) == 2
    assert {x["label"] for x in summary["labels"]} == {"ships", "bikes"}
    assert summary["rows"] == summary["clips"] * 2 and summary["clips"] > 0
    assert len(summary["ingest"]["ingested"]) == 2
    table = pq.read_table(parquet)
    assert table.num_rows == summary["rows"]
    assert table.column_names == ["video", "clip_id", "start", "end", "label", "version", "probability", "positive"]
    assert str(table.schema.field("positive").type) == "bool"
    keys = set(zip(table.column("clip_id").to_pylist(), table.column("label").to_pylist()))
    assert len(keys) == table.num_rows  # one row per clip × label
    videos = va_json(home, "videos")
    assert len(videos) == 4 and {v["path"] for v in videos} - before == {str(p) for p in new_videos}

    csv_path = tmp_path / "ships.csv"
    text = va(home, "score", *new_videos, "--labels", "ships", "--out", csv_path).stdout
    assert "scored 2 videos" in text and "ships v1" in text and str(csv_path) in text
    rows = list(csv.DictReader(csv_path.open()))
    assert len(rows) == summary["clips"] and {r["label"] for r in rows} == {"ships"}
    assert {r["positive"] for r in rows} <= {"true", "false"}
    assert "--out must end in .parquet or .csv" in va(home, "score", new_videos[0], "--out", "x.txt", ok=False).output
    assert (
        "not both"
        in va(home, "score", new_videos[0], "--labels", "ships", "--all-deployed", "--out", "x.csv", ok=False).output
    )

    # -- timelines ---------------------------------------------------------------------------------
    city = next(v for v in videos if v["path"].endswith("cityCC0.mpg"))
    png = tmp_path / "city.png"
    timeline = va_json(home, "timeline", city["id"], "--png", png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert timeline["video_id"] == city["id"] and {t["label"] for t in timeline["tracks"]} == {"ships", "bikes"}
    assert all(len(t["clips"]) == city["clips"] for t in timeline["tracks"])
    human = va(home, "timeline", "cityCC0.mpg", "--labels", "ships").stdout  # by file name
    assert "ships v1 (threshold p=" in human and "bikes" not in human

    # -- segments for editors ----------------------------------------------------------------------
    segments = json.loads(va(home, "export", "ships", "--what", "segments", "--format", "json").stdout)
    assert segments["label"] == "ships" and segments["version"] == 1 and len(segments["videos"]) == 4
    total = sum(len(v["segments"]) for v in segments["videos"])
    assert total > 0  # the annotated positives are above the threshold
    otio_path = tmp_path / "ships.otio"
    va(home, "export", "ships", "--what", "segments", "--format", "otio", "--out", otio_path)
    read = otio.adapters.read_from_file(str(otio_path))
    markers = [m for clip in read.find_clips() for m in clip.markers]
    assert len(list(read.find_clips())) == 4 and len(markers) == total
    assert {m.name for m in markers} == {"ships"}
    expected = sorted(round(s["start"], 1) for v in segments["videos"] for s in v["segments"])
    assert sorted(round(m.metadata["videoannotator"]["start"], 1) for m in markers) == expected
    stdout_otio = va(home, "export", "ships", "--what", "segments", "--format", "otio").stdout
    assert len([m for c in otio.adapters.read_from_string(stdout_otio).find_clips() for m in c.markers]) == total

    busiest = max(segments["videos"], key=lambda v: len(v["segments"]))
    edl_path = tmp_path / "ships.edl"
    va(
        home,
        "export",
        "ships",
        "--what",
        "segments",
        "--format",
        "edl",
        "--video",
        busiest["video_id"],
        "--out",
        edl_path,
    )
    edl = otio.adapters.read_from_file(str(edl_path), rate=edl_rate(busiest["fps"]))
    events = list(edl.find_clips())
    assert len(events) == len(busiest["segments"])
    assert [e.name for e in events] == [f"ships v1 #{i + 1}" for i in range(len(events))]
    for event, segment in zip(events, busiest["segments"]):
        assert abs(event.source_range.start_time.to_seconds() - segment["start"]) < 0.1
        assert abs(event.source_range.end_time_exclusive().to_seconds() - segment["end"]) < 0.1
    assert (
        va(home, "export", "ships", "--what", "segments", "--format", "edl", "--video", busiest["video_id"]).stdout
        == edl_path.read_text()
    )
    table = list(
        csv.DictReader(io.StringIO(va(home, "export", "ships", "--what", "segments", "--format", "csv").stdout))
    )
    assert len(table) == total and table[0]["label"] == "ships"
    assert "goes with --what segments" in va(home, "export", "ships", "--format", SEGMENT_FORMATS[0], ok=False).output

    # -- monitoring and the production feed --------------------------------------------------------
    report = va_json(home, "monitor", "ships")["labels"][0]
    assert report["label"] == "ships" and report["version"] == 1
    assert report["production"]["clips"] == summary["clips"] and report["production"]["batches"]
    assert report["drift"]["psi"] is not None and report["live"]["precision"] is None
    assert {r["label"] for r in va_json(home, "monitor")["labels"]} == {"ships", "bikes"}
    text = va(home, "monitor").stdout
    assert "drift: PSI" in text and "live precision/recall: not yet" in text

    # The sea footage delivered again and scored: a title the catalog holds becomes production
    # footage too, so the feed has clips on both sides of the threshold (none of the new city and
    # rocket clips shows a ship, and the model with motion and layout features knows it).
    freecol = next(v for v in videos if v["path"].endswith("freecol-opening.ogg"))
    va(home, "score", freecol["path"], "--labels", "ships", "--out", tmp_path / "freecol.csv")
    production = summary["clips"] + freecol["clips"]
    assert va_json(home, "monitor", "ships")["labels"][0]["production"]["clips"] == production
    feed = va_json(home, "production-feed", "ships", "-n", "10")
    assert feed["source"] == PRODUCTION_SOURCE and 0 < len(feed["clips"]) <= 10
    assert "--source production" in va(home, "production-feed", "ships", "-n", "10").stdout
    above = [c["clip_id"] for c in feed["clips"] if c["above_threshold"]]
    below = [c["clip_id"] for c in feed["clips"] if not c["above_threshold"]]
    assert above and below, feed["pool"]
    # The model is wrong about its first clip above the threshold and right about the rest.
    va(home, "annotate", "ships", above[0], "negative", "-a", "ann", "--source", PRODUCTION_SOURCE)
    if above[1:]:
        va(home, "annotate", "ships", *above[1:], "positive", "-a", "ann", "--source", PRODUCTION_SOURCE)
    va(home, "annotate", "ships", *below, "negative", "-a", "ann", "--source", PRODUCTION_SOURCE)
    live = va_json(home, "monitor", "ships")["labels"][0]["live"]
    assert live["precision"] == pytest.approx((len(above) - 1) / len(above), abs=1e-4)
    assert live["precision_interval"] and live["precision_interval"][0] <= live["precision"]
    assert "live precision" in va(home, "monitor", "ships").stdout

    # -- v2: the dry run says what would change, then deploy ---------------------------------------
    assert va_json(home, "build", "ships")["version"] == 2
    dry = va_json(home, "deploy", "ships", "--dry-run")
    assert dry["dry_run"] and not dry["deployed"] and dry["version"] == 2 and dry["previous"] == 1
    k = dry["changes"]["changed"]
    assert dry["changes"]["scope"] == "production" and dry["changes"]["decisions"] == production
    assert k == dry["changes"]["became_positive"] + dry["changes"]["became_negative"]
    said = va(home, "deploy", "ships", "--dry-run").stdout
    assert f"would change {k} of {production} production decisions" in said
    assert va_json(home, "versions", "ships")["live"] == 1  # a dry run deploys nothing
    done = va(home, "deploy", "ships").stdout
    assert done.startswith(f"ships v2 is live (was v1); {k} of {production} production decisions changed")

    versions = va_json(home, "versions", "ships")
    assert versions["live"] == 2 and [v["version"] for v in versions["versions"]] == [1, 2]
    assert [(d["version"], d["action"]) for d in versions["deployments"]] == [(1, "deploy"), (2, "deploy")]
    text = va(home, "versions", "ships").stdout
    assert text.splitlines()[0].split() == ["version", "created", "AP", "threshold", "p", "live"]
    assert "* live" in next(line for line in text.splitlines() if line.strip().startswith("v2"))
    assert "deploy v1" in text and "deploy v2" in text

    rescored = va_json(home, "score", *new_videos, "--labels", "ships", "--out", tmp_path / "again.parquet")
    assert rescored["labels"] == [{"label": "ships", "version": 2}]
    assert set(pq.read_table(tmp_path / "again.parquet").column("version").to_pylist()) == {2}

    card = va_json(home, "card", "ships")
    assert card["live"] == 2 and len(card["ap_trend"]) == 2 and card["sources"][PRODUCTION_SOURCE] == len(feed["clips"])
    text = va(home, "card", "ships").stdout
    assert "verdict: " in text and "sources: " in text and PRODUCTION_SOURCE in text
    if all(ap is not None for ap in card["ap_trend"]):
        assert "AP per version: " in text and " → " in text

    back = va_json(home, "rollback", "ships")
    assert back["version"] == 1 and back["previous"] == 2
    assert "has had only version 1 live" in one_line_error(home, "rollback", "bikes")
    assert va_json(home, "versions", "ships")["deployments"][-1]["action"] == "rollback"
