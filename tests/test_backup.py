"""`va backup` / `va restore` on a real workspace (real clips, the real default model), with
writer processes annotating the whole time: every annotation acknowledged before the backup
started is in the restored workspace, which builds and searches. A damaged backup, a
non-empty destination and a full disk each get one line and change nothing."""

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from videos import make_cut_video

from videoannotator import Workspace
from videoannotator.backup import backup
from videoannotator.embed import get_embedder

pytestmark = pytest.mark.slow
VA = str(Path(sys.executable).with_name("va"))
LABEL = "red-shots"

WRITER = """
import os, sys, time
from videoannotator import Workspace
home, label, name, out, stop, clips = sys.argv[1:7]
clips = int(clips)
ws = Workspace(home)
deadline = time.monotonic() + 180  # bounded, whatever happens to the test
with open(out, "a", buffering=1) as fh:
    for i in range(100_000):
        if os.path.exists(stop) or time.monotonic() > deadline:
            break
        value = "positive" if i % clips % 2 == 0 else "negative"  # the same per clip for every writer
        event = ws.annotate(label, [i % clips], value, name, source="writer")[0]
        fh.write(f"{event['id']} {event['clip_id']} {value}\\n")  # written only once acknowledged
"""


@pytest.fixture(scope="module")
def source(tmp_path_factory):
    """A workspace of 8 real clips with a label, a few annotations and a built model."""
    home = tmp_path_factory.mktemp("source")
    video = home.parent / "eight-shots.mp4"
    make_cut_video(video, [30] * 8)
    ws = Workspace(home, embedder=get_embedder("conse-effnet-minilm"))
    assert ws.ingest([video], progress=False).ok
    ws.labels.create(LABEL, "A shot that is mostly red")
    ws.annotate(LABEL, [0, 1], "positive", "seed")
    ws.annotate(LABEL, [2, 3], "negative", "seed")
    ws.build(LABEL)
    (home / "previews" / "0-preview.webm").write_bytes(b"a cached preview")  # a cache: left out
    return home


def va(home, *args):
    return subprocess.run([VA, "--home", str(home), *args], capture_output=True, text=True, timeout=600, check=False)


def acknowledged(out_dir: Path) -> dict[int, tuple]:
    """Every event id the writers have been told is stored so far: id -> (writer, clip, value)."""
    acks = {}
    for path in out_dir.glob("*.acks"):
        text = path.read_text()
        for line in text[: text.rfind("\n") + 1].splitlines():  # complete lines only
            event_id, clip, value = line.split()
            acks[int(event_id)] = (path.stem, int(clip), value)
    return acks


def per_writer(acks: dict, writers: int) -> list[int]:
    return [sum(1 for w, _, _ in acks.values() if w == f"w{i}") for i in range(writers)]


def wait_for(condition, timeout=120.0, what="condition"):
    deadline = time.monotonic() + timeout
    while not condition():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def events(home) -> dict[int, dict]:
    ws = Workspace(home)
    try:
        rows = ws.catalog.query("SELECT * FROM annotations ORDER BY id")
        return {r["id"]: dict(r) for r in rows}
    finally:
        ws.catalog.close()


def test_backup_under_load_keeps_every_acknowledged_annotation(source, tmp_path):
    out_dir, stop = tmp_path / "acks", tmp_path / "stop"
    out_dir.mkdir()
    writers = [
        subprocess.Popen(
            [sys.executable, "-c", WRITER, str(source), LABEL, f"w{i}", str(out_dir / f"w{i}.acks"), str(stop), "8"]
        )
        for i in range(4)
    ]
    try:
        wait_for(
            lambda: all(n >= 16 for n in per_writer(acknowledged(out_dir), 4)),
            what="every writer to annotate every clip twice",
        )
        ws = Workspace(source)
        before = acknowledged(out_dir)  # read just before the backup starts: acknowledged by then
        report = backup(ws, tmp_path / "backup", progress=False)
        during = acknowledged(out_dir)
        wait_for(lambda: len(acknowledged(out_dir)) >= len(during) + 20, what="writers to go on after the backup")
    finally:
        stop.touch()
        codes = [w.wait(timeout=120) for w in writers]
    assert codes == [0, 0, 0, 0]
    assert len(during) > len(before), "the writers were not writing while the backup ran"

    restored = tmp_path / "restored"
    result = va(restored, "restore", str(tmp_path / "backup"), "--json")
    assert result.returncode == 0, result.stderr
    assert json.loads(result.stdout)["counts"] == report["counts"]

    original, copy = events(source), events(restored)
    missing = sorted(set(before) - set(copy))
    assert not missing, f"{len(missing)} acknowledged annotations missing from the restore, e.g. {missing[:5]}"
    for event_id, (writer, clip, value) in before.items():
        assert (copy[event_id]["annotator"], copy[event_id]["clip_id"], copy[event_id]["value"]) == (
            writer,
            clip,
            value,
        )
    # One consistent snapshot: exactly the source's events up to the newest one copied, no hole, nothing invented.
    newest = max(copy)
    assert copy == {i: e for i, e in original.items() if i <= newest}
    assert len(copy) == report["counts"]["annotations"] < len(original)

    ws, src = Workspace(restored), Workspace(source)
    assert ws.info()["clips"] == src.info()["clips"] == 8
    assert np.array_equal(np.asarray(ws.vectors()), np.asarray(src.vectors()))
    assert np.array_equal(np.asarray(ws.train_vectors()), np.asarray(src.train_vectors()))
    assert sorted(p.name for p in (restored / "thumbs").iterdir()) == sorted(
        p.name for p in (source / "thumbs").iterdir()
    )
    assert not list((restored / "previews").iterdir()), "previews/ is a cache and stays out of the backup"
    assert [v["version"] for v in ws.models.list(ws.labels.get(LABEL)["id"])] == [1]
    built = ws.build(LABEL)
    assert (
        built["version"] == 2 and built["metrics"]["counts"]["positive"] == built["metrics"]["counts"]["negative"] == 4
    )
    hits = ws.search("a red picture", k=5)
    assert len(hits) == 5 and all(0 <= h["clip_id"] < 8 for h in hits)


@pytest.fixture(scope="module")
def quiet_backup(source, tmp_path_factory):
    dest = tmp_path_factory.mktemp("quiet") / "backup"
    result = va(source, "backup", str(dest), "--json")
    assert result.returncode == 0, result.stderr
    return dest


def _one_line(stderr: str) -> str:
    lines = stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), stderr
    return lines[0]


@pytest.mark.parametrize("damage", ["flipped byte", "truncated", "missing file", "no manifest"])
def test_restore_refuses_a_damaged_backup(quiet_backup, tmp_path, damage):
    backup = tmp_path / "backup"
    shutil.copytree(quiet_backup, backup)
    manifest = json.loads((backup / "manifest.json").read_text())
    biggest = max((f for f in manifest["files"] if f["path"] != "catalog.sqlite"), key=lambda f: f["bytes"])
    target = backup / biggest["path"]
    if damage == "flipped byte":
        data = bytearray(target.read_bytes())
        data[len(data) // 2] ^= 0x01
        target.write_bytes(bytes(data))
    elif damage == "truncated":
        os.truncate(target, biggest["bytes"] - 4)
    elif damage == "missing file":
        target.unlink()
    else:
        (backup / "manifest.json").unlink()
    home = tmp_path / "new-home"
    result = va(home, "restore", str(backup))
    assert result.returncode == 2
    line = _one_line(result.stderr)
    assert ("manifest.json" if damage == "no manifest" else biggest["path"]) in line
    assert not home.exists() or not any(home.iterdir()), "a refused restore left files behind"


def test_restore_refuses_a_non_empty_home(quiet_backup, tmp_path):
    home = tmp_path / "busy"
    home.mkdir()
    (home / "notes.txt").write_text("mine")
    result = va(home, "restore", str(quiet_backup))
    assert result.returncode == 2
    assert "not empty" in _one_line(result.stderr) and "--home" in result.stderr
    assert [p.name for p in home.iterdir()] == ["notes.txt"] and (home / "notes.txt").read_text() == "mine"


def test_backup_refuses_a_non_empty_destination(source, tmp_path):
    dest = tmp_path / "dest"
    dest.mkdir()
    (dest / "keep.txt").write_text("keep me")
    result = va(source, "backup", str(dest))
    assert result.returncode == 2
    assert "not empty" in _one_line(result.stderr)
    assert [p.name for p in dest.iterdir()] == ["keep.txt"] and (dest / "keep.txt").read_text() == "keep me"
    result = va(tmp_path / "nowhere", "backup", str(tmp_path / "b2"))
    assert result.returncode == 2 and "no workspace" in _one_line(result.stderr)
    assert not (tmp_path / "nowhere").exists() and not (tmp_path / "b2").exists()


@pytest.mark.parametrize("full_during", ["catalog", "files"])
def test_backup_to_a_full_disk_says_so_and_leaves_nothing(source, quiet_backup, tmp_path, full_during):
    """A small tmpfs (root only), too small for the catalog, or for the files after it."""
    manifest = json.loads((quiet_backup / "manifest.json").read_text())
    sizes = {f["path"]: f["bytes"] for f in manifest["files"]}
    catalog, others = sizes.pop("catalog.sqlite"), sum(sizes.values())
    size = catalog // 2 if full_during == "catalog" else catalog + others // 2
    mount = tmp_path / "small-disk"
    mount.mkdir()
    made = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", f"size={size // 1024 + 1}k", "tmpfs", str(mount)],
        capture_output=True,
        text=True,
        check=False,
    )
    if made.returncode != 0:
        pytest.skip(f"cannot mount a small tmpfs here ({made.stderr.strip()})")
    try:
        annotations_before = len(events(source))
        result = va(source, "backup", str(mount / "backup"))
        assert result.returncode == 2
        line = _one_line(result.stderr)
        assert "full" in line and str(mount / "backup") in line
        assert not list(mount.iterdir()), "the partial backup was left behind"
        assert len(events(source)) == annotations_before
        assert Workspace(source).info()["clips"] == 8
    finally:
        subprocess.run(["umount", str(mount)], check=False)
