"""The Ray engine gives what the local engine gives (issue 13), on a local Ray cluster this
module starts once (2 CPUs): the same clips and vectors for real sample media, a bad file
reported while the rest is ingested, a run killed after its first commit resumed to the same
workspace, `va score --engine ray` the same scores, and the one-line message where the extra
is missing."""

from __future__ import annotations

import csv
import os
import select
import shutil
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from click.testing import CliRunner
from videos import make_truncated_copy

from videoannotator import Workspace
from videoannotator.cli import cli
from videoannotator.embed import get_embedder
from videoannotator.engines import get_engine
from videoannotator.engines.ray import RayEngine

pytestmark = pytest.mark.slow
TOLERANCE = 1e-4
VA = str(Path(sys.executable).with_name("va"))


@pytest.fixture(scope="module")
def cluster():
    """One local Ray for the module (starting one takes seconds on two cores)."""
    import ray  # the test extra installs it (pip install -e '.[test]'): no skip where it is missing

    if ray.is_initialized():
        ray.shutdown()
    engine = RayEngine(num_cpus=2, workers=1)
    engine.connect()
    assert engine.startup_seconds is not None and engine.startup_seconds > 0
    yield ray.get_runtime_context().gcs_address
    ray.shutdown()


@pytest.fixture(scope="module")
def inputs(tmp_path_factory, sample_media):
    """Two short sample videos and, between them, a copy cut short: it opens (the driver
    hashes and probes it) and fails while a worker decodes it."""
    bad = make_truncated_copy(sample_media / "oa4_launch.webm", tmp_path_factory.mktemp("bad") / "cut.webm", 0.5)
    return [sample_media / "bikes.mp4", bad, sample_media / "oa4_launch.webm"]


@pytest.fixture(scope="module")
def local_home(tmp_path_factory, inputs):
    home = tmp_path_factory.mktemp("local")
    report = Workspace(home, embedder=get_embedder("conse-effnet-minilm")).ingest(inputs, progress=False)
    assert len(report.ingested) == 2 and [f["path"] for f in report.failed] == [str(inputs[1])]
    return home


def _contents(home: Path) -> dict:
    ws = Workspace(home)
    videos = sorted(ws.videos(), key=lambda v: v["id"])
    clips = [
        (v["content_hash"], c["position"], c["start_frame"], c["end_frame"], c["start_s"], c["end_s"])
        for v in videos
        for c in ws.catalog.videos.clips_of(v["id"])
    ]
    out = {
        "videos": [v["content_hash"] for v in videos],
        "clips": clips,
        "vectors": np.array(ws.vectors()),
        "features": np.array(ws.matrices.read("features", ws.clip_count())) if ws.feature_dim else None,
        "meta": (ws.embedder_name, ws.feature_dim, ws.feature_blocks),
    }
    ws.catalog.close()
    return out


def assert_same_workspace(home: Path, reference: Path) -> None:
    got, want = _contents(home), _contents(reference)
    assert got["videos"] == want["videos"] and got["meta"] == want["meta"]
    assert got["clips"] == want["clips"]  # same boundaries, same order
    assert got["vectors"].shape == want["vectors"].shape == (len(want["clips"]), want["vectors"].shape[1])
    assert float(np.abs(got["vectors"] - want["vectors"]).max()) < TOLERANCE
    if want["features"] is not None:
        assert got["features"].shape == want["features"].shape
        assert float(np.abs(got["features"] - want["features"]).max()) < TOLERANCE


def test_ray_ingest_gives_the_local_clips_and_vectors(cluster, inputs, local_home, tmp_path):
    engine = get_engine("ray", workers=1)
    report = Workspace(tmp_path / "ray").ingest(inputs, progress=False, engine=engine)
    assert [e["path"] for e in report.ingested] == [str(inputs[0]), str(inputs[2])]
    assert len(report.failed) == 1 and report.failed[0]["path"] == str(inputs[1])
    assert "truncated" in report.failed[0]["error"] or "decoding failed" in report.failed[0]["error"]
    assert report.stages["embed"] > 0 and report.stages["decode"] > 0
    assert_same_workspace(tmp_path / "ray", local_home)
    # A second run skips what is stored, on Ray as locally.
    again = Workspace(tmp_path / "ray").ingest(inputs, progress=False, engine=engine)
    assert not again.ingested and len(again.skipped) == 2 and len(again.failed) == 1


HOLD_AFTER_FIRST_COMMIT = """
import sys, time
from videoannotator import Workspace
from videoannotator.engines.ray import RayEngine

def hold(entry):  # the first video is committed: say so, then wait to be killed mid-run
    print("committed", entry["path"], flush=True)
    time.sleep(120)

Workspace(sys.argv[1]).ingest(sys.argv[3:], progress=False, engine=RayEngine(address=sys.argv[2], workers=1), on_event=hold)
"""


def test_a_killed_ray_ingest_resumes_where_it_stopped(cluster, inputs, local_home, tmp_path):
    home = tmp_path / "killed"
    script = tmp_path / "hold.py"
    script.write_text(textwrap.dedent(HOLD_AFTER_FIRST_COMMIT))
    proc = subprocess.Popen(
        [sys.executable, str(script), str(home), cluster, *map(str, inputs)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        ready, _, _ = select.select([proc.stdout], [], [], 300)
        line = proc.stdout.readline() if ready else ""  # type: ignore[union-attr]
        assert line.startswith("committed"), f"the ingest ended before its first commit (status {proc.poll()})"
        time.sleep(2)  # the workers are on the next videos now
        os.kill(proc.pid, signal.SIGKILL)
        proc.wait(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    ws = Workspace(home)
    assert [v["path"] for v in ws.videos()] == [str(inputs[0].resolve())]
    assert ws.vectors().shape[0] == ws.clip_count() > 0  # nothing half-written
    report = ws.ingest(inputs, progress=False, engine=get_engine("ray", workers=1))
    ws.catalog.close()
    assert [e["path"] for e in report.skipped] == [str(inputs[0])]
    assert [e["path"] for e in report.ingested] == [str(inputs[2])]
    assert_same_workspace(home, local_home)


def _va(home: Path, *args: object):
    result = CliRunner().invoke(cli, ["--home", str(home), *map(str, args)], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


def _rows(path: Path) -> list[dict]:
    with open(path, newline="") as fh:
        return list(csv.DictReader(fh))


def test_va_score_on_ray_gives_the_local_scores(cluster, local_home, sample_media, tmp_path):
    deployed = tmp_path / "deployed"
    shutil.copytree(local_home, deployed)
    ws = Workspace(deployed)
    ws.create_label("bikes")
    videos = {v["path"]: v["id"] for v in ws.videos()}
    bike_clips = [c["id"] for c in ws.catalog.videos.clips_of(videos[str((sample_media / "bikes.mp4").resolve())])]
    rocket = [c["id"] for c in ws.catalog.videos.clips_of(videos[str((sample_media / "oa4_launch.webm").resolve())])]
    ws.annotate("bikes", bike_clips, "positive", annotator="t")
    ws.annotate("bikes", rocket, "negative", annotator="t")
    ws.build("bikes")
    ws.deploy("bikes")
    ws.catalog.close()
    new = sample_media / "cityCC0.mpg"  # not in the workspace: `va score` ingests it, on each engine
    local, on_ray = tmp_path / "local", tmp_path / "ray"
    shutil.copytree(deployed, local)
    shutil.copytree(deployed, on_ray)
    _va(local, "score", new, "--out", tmp_path / "local.csv", "-q")
    _va(on_ray, "score", new, "--out", tmp_path / "ray.csv", "-q", "--engine", "ray", "--workers", "1")
    want, got = _rows(tmp_path / "local.csv"), _rows(tmp_path / "ray.csv")
    assert len(got) == len(want) > 0
    for g, w in zip(got, want):
        assert (g["start"], g["end"], g["label"], g["version"], g["positive"]) == (
            w["start"],
            w["end"],
            w["label"],
            w["version"],
            w["positive"],
        )
        assert abs(float(g["probability"]) - float(w["probability"])) < TOLERANCE
    assert_same_workspace(on_ray, local)


def test_a_missing_ray_extra_is_one_line_with_the_install_command(tmp_path, bikes):
    """Without ray (an import that fails, as where the extra is not installed) `va ingest
    --engine ray` says how to install it, on one line, and ingests nothing."""
    site = tmp_path / "no-ray"
    site.mkdir()
    (site / "sitecustomize.py").write_text("import sys\nsys.modules['ray'] = None  # `import ray` raises ImportError\n")
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(filter(None, [str(site), os.environ.get("PYTHONPATH")]))}
    result = subprocess.run(
        [VA, "--home", str(tmp_path / "home"), "ingest", "--engine", "ray", str(bikes)],
        capture_output=True,
        text=True,
        env=env,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0 and result.stdout == ""
    assert result.stderr.count("\n") == 1, result.stderr
    assert "pip install 'videoannotator[ray]'" in result.stderr


def test_the_ingest_throughput_bench_runs_each_engine_on_the_same_files(cluster, bikes):
    from videoannotator.bench.scale_ingest import ingest_throughput

    result = ingest_throughput(files=[bikes], workers=(1, 2))
    assert [(r["engine"], r["workers"]) for r in result["runs"]] == [("local", None), ("ray", 1), ("ray", 2)]
    assert {r["clips"] for r in result["runs"]} == {result["clips"]} and result["clips"] > 0
    assert all(r["seconds"] > 0 and r["clips_per_second"] > 0 and not r["failed"] for r in result["runs"])
    assert result["ray_startup_seconds"] == 0  # the module's cluster was running already


def test_an_address_nothing_answers_on_is_one_line(tmp_path, bikes):
    """Ray itself retries an unreachable cluster for minutes; `va` says so at once."""
    result = subprocess.run(
        [VA, "--home", str(tmp_path / "home"), "ingest", "--engine", "ray", "--address", "127.0.0.1:1", str(bikes)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode != 0 and result.stdout == ""
    assert result.stderr.count("\n") == 1, result.stderr
    assert "cannot reach the Ray cluster at 127.0.0.1:1" in result.stderr and "ray start --head" in result.stderr
