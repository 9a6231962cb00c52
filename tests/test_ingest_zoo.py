"""The zoo: one `va ingest` of everything a careful operator might feed it by mistake.

Each bad input gives exactly one line on stderr naming it and the reason, never a
traceback; the good videos in the same command are ingested; the exit status is 1; a second
run changes nothing stored. A full disk (a small tmpfs) is one line naming the filesystem
and the space needed, and leaves the workspace as it was.
"""

import hashlib
import json
import os
import shutil
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from videos import (
    make_audio_only,
    make_flat_video,
    make_huge_declared_video,
    make_huge_y4m,
    make_still_image,
    make_text_file,
)

from videoannotator import Workspace
from videoannotator.catalog import open_catalog
from videoannotator.catalog.sqlite.paths import absolutise_video_paths
from videoannotator.cli import printable
from videoannotator.embed import get_embedder
from videoannotator.media.segment import SegmentOptions, SegmentStats, segment

pytestmark = pytest.mark.slow
VA = str(Path(sys.executable).with_name("va"))
# Root reads any folder: without these two capabilities it meets permissions like anyone
# else, while keeping its own files, HOME and caches (checked: `ls` of a 0000 folder fails).
AS_ORDINARY_ROOT = ["setpriv", "--bounding-set", "-dac_override,-dac_read_search", "--inh-caps", "-all", "--"]


def run_va(home, *args, cwd=None, env=None, timeout=600):
    cmd = [VA, "--home", str(home), *map(str, args)]
    if os.geteuid() == 0:
        cmd = AS_ORDINARY_ROOT + cmd
    return subprocess.run(
        cmd, capture_output=True, text=True, timeout=timeout, cwd=cwd, check=False, env={**os.environ, **(env or {})}
    )


def error_lines(stderr: str) -> list[str]:
    return [line for line in stderr.splitlines() if line.startswith("error: ")]


def stored_state(home: Path) -> dict:
    """What the workspace holds: catalog rows, the committed matrix rows, the thumbnails."""
    queries = (
        "SELECT id, path, content_hash, duration, width, height FROM videos ORDER BY id",
        "SELECT id, video_id, position, start_s, end_s, sample_frames FROM clips ORDER BY id",
        "SELECT key, value FROM meta WHERE key IN ('dim', 'feature_dim')",
    )
    if os.environ.get("VA_CATALOG_URL"):  # PostgreSQL: through the catalog
        catalog = open_catalog(home)
        try:
            videos, clips, meta = ([tuple(r) for r in catalog.query(q)] for q in queries)
        finally:
            catalog.close()
    else:  # SQLite: read-only, so reading changes nothing (not even on a full disk)
        db = sqlite3.connect(f"file:{home / 'catalog.sqlite'}?mode=ro", uri=True)
        try:
            videos, clips, meta = (db.execute(q).fetchall() for q in queries)
        finally:
            db.close()
    dims = dict(meta)
    rows = {}
    for name, key in (("vectors.f32", "dim"), ("features.f32", "feature_dim")):
        width = int(dims.get(key) or 0)
        data = (home / name).read_bytes()[: len(clips) * width * 4] if width and (home / name).exists() else b""
        assert len(data) == len(clips) * width * 4, f"{name} lacks committed rows"
        rows[name] = hashlib.sha256(data).hexdigest()
    thumbs = sorted(p.name for p in (home / "thumbs").glob("*.jpg"))
    return {"videos": videos, "clips": clips, "rows": rows, "thumbs": thumbs}


@pytest.fixture(scope="module")
def embedder():
    return get_embedder("conse-effnet-minilm")


@pytest.fixture
def zoo(tmp_path, cut_video, bad_media):
    """A folder and an argument list holding every kind of bad input and four good videos
    with odd names. Returns (cwd, arguments, good paths, {bad name as printed: reason words})."""
    root = tmp_path / "zoo"
    folder = root / "folder"
    folder.mkdir(parents=True)
    good = {
        "good.mp4": cut_video([30, 30], seed=101).path,
        "spaced ünïcödé name.mp4": cut_video([30, 30], seed=102).path,
        "new\nline.mp4": cut_video([30, 30], seed=103).path,
    }
    good_paths = []
    for name, src in good.items():
        shutil.copy(src, folder / name)
        good_paths.append(folder / name)
    shutil.copy(cut_video([30, 30], seed=104).path, root / "-lead dash.mp4")
    good_paths.append(root / "-lead dash.mp4")

    for key in ("empty", "truncated", "garbage", "text"):
        shutil.copy(bad_media[key], folder / bad_media[key].name)
    make_still_image(folder / "still-png.mp4", fmt="PNG")  # a PNG renamed .mp4
    make_huge_declared_video(folder / "huge.avi")  # 16384x8192: over the default budget
    make_huge_y4m(folder / "huge.y4m")  # 100000x100000: FFmpeg cannot even open it
    make_text_file(folder / "bad\nname.mp4")
    locked = folder / "locked"
    locked.mkdir()
    shutil.copy(cut_video([30, 30], seed=105).path, locked / "inside.mp4")
    locked.chmod(0)

    make_still_image(root / "still.png")
    make_still_image(root / "photo.jpg")
    make_still_image(root / "still.gif")
    make_audio_only(root / "tone.m4a")
    (root / "loop-a").symlink_to("loop-b")
    (root / "loop-b").symlink_to("loop-a")
    (root / "dangling.mp4").symlink_to("gone.mp4")

    bad = {
        "empty.mp4": ["empty file"],
        "truncated.mp4": ["truncated", "corrupt"],
        "garbage.mp4": ["corrupt"],
        "notes.mp4": ["corrupt"],
        "still-png.mp4": ["still image (PNG)"],
        "huge.avi": ["16384x8192", "VA_MAX_PIXELS"],
        "huge.y4m": ["100000x100000", "too large"],
        printable("bad\nname.mp4"): ["corrupt"],
        "locked": ["permission denied"],
        "still.png": ["still image (PNG)"],
        "photo.jpg": ["still image (JPEG)"],
        "still.gif": ["still image (GIF"],
        "tone.m4a": ["no video stream"],
        "loop-a": ["symlink loop"],
        "dangling.mp4": ["dangling symlink"],
        "missing.mp4": ["no such file"],
    }
    # Relative arguments, run from `root`; `--` lets a name start with a dash.
    args = [
        "folder",
        "still.png",
        "photo.jpg",
        "still.gif",
        "tone.m4a",
        "loop-a",
        "dangling.mp4",
        "missing.mp4",
        "-lead dash.mp4",
    ]
    try:
        yield root, args, good_paths, bad
    finally:
        locked.chmod(0o700)


def test_zoo_each_bad_input_is_one_line_the_good_ones_are_ingested_and_a_rerun_changes_nothing(tmp_path, zoo):
    root, args, good_paths, bad = zoo
    home = tmp_path / "home"
    first = run_va(home, "ingest", "-q", "--", *args, cwd=root)
    assert first.returncode == 1, first.stderr
    assert "Traceback" not in first.stderr
    errors = error_lines(first.stderr)
    for name, reasons in bad.items():
        naming = [line for line in errors if name in line]
        assert len(naming) == 1, f"{name!r}: expected one line, got {naming}"
        assert any(reason in naming[0] for reason in reasons), naming[0]
    assert len(errors) == len(bad), errors

    # Names are escaped: a newline in a name prints as \n, never as a line of its own.
    for line in first.stdout.splitlines():
        assert line.startswith(("ingested ", "skipped  ")) or " ingested, " in line, line
    assert printable(str((root / "folder" / "new\nline.mp4").resolve())) in first.stdout

    # The good ones are stored, under their resolved absolute paths.
    state = stored_state(home)
    assert sorted(v[1] for v in state["videos"]) == sorted(str(p.resolve()) for p in good_paths)
    assert len(state["clips"]) >= 4 and len(state["thumbs"]) == len(state["clips"])

    again = run_va(home, "ingest", "-q", "--", *args, cwd=root)
    assert again.returncode == 1 and "Traceback" not in again.stderr
    assert sorted(error_lines(again.stderr)) == sorted(errors)
    assert again.stdout.count("skipped  ") == len(good_paths) and "ingested /" not in again.stdout
    assert stored_state(home) == state


def test_the_locked_folder_really_is_unreadable_to_the_ingest(zoo):
    """Guards the zoo itself: as root the folder would be read and the test prove nothing."""
    root = zoo[0]
    cmd = ["ls", str(root / "folder" / "locked")]
    result = subprocess.run(
        AS_ORDINARY_ROOT + cmd if os.geteuid() == 0 else cmd, capture_output=True, text=True, check=False
    )
    assert result.returncode != 0 and "Permission denied" in result.stderr


def _fill(path: Path, leave: int) -> None:
    """Write zeros to ``path`` until about ``leave`` bytes are free on its filesystem."""

    def free():
        st = os.statvfs(path.parent)
        return st.f_bavail * st.f_frsize

    fd = os.open(path, os.O_WRONLY | os.O_CREAT, 0o644)
    try:
        for chunk in (1 << 20, 1 << 16, 1 << 12):
            while free() - chunk >= leave:
                os.write(fd, bytes(chunk))
    finally:
        os.close(fd)


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MiB tmpfs, mounted for the test and always unmounted."""
    if os.geteuid() != 0:
        pytest.skip("mounting a small tmpfs needs root")
    mount = tmp_path / "small-disk"
    mount.mkdir()
    result = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=2m", "tmpfs", str(mount)], capture_output=True, text=True, check=False
    )
    if result.returncode != 0:
        pytest.skip(f"this machine does not allow a tmpfs mount: {result.stderr.strip()}")
    try:
        yield mount
    finally:
        if subprocess.run(["umount", str(mount)], capture_output=True, check=False).returncode != 0:
            subprocess.run(["umount", "-l", str(mount)], check=True)


def test_full_disk_is_one_line_naming_it_and_the_workspace_is_untouched(small_disk, cut_video):
    home = small_disk / "home"
    first, third = (cut_video([30, 30, 30], seed=s).path for s in (201, 203))
    second = cut_video([25] * 10, seed=202).path  # 10 clips: thumbnails and rows well over the room left
    done = run_va(home, "ingest", "-q", first)
    assert done.returncode == 0, done.stderr
    before = stored_state(home)

    # Leave room to open the workspace (SQLite's shared memory file) but not to store a video.
    _fill(small_disk / "filler", leave=48 * 1024)
    full = run_va(home, "ingest", "-q", second, third)
    assert full.returncode == 1 and "Traceback" not in full.stderr, full.stderr
    lines = error_lines(full.stderr)
    assert len(lines) == 1, full.stderr
    line = lines[0]
    assert str(second) in line and "the disk is full" in line and str(small_disk) in line
    assert " free and this video needs about " in line and "1 more file(s) not tried" in line
    assert "run the same command again" in line
    assert "1 not tried" in full.stdout

    assert stored_state(home) == before  # nothing half-stored: no rows, no thumbnails
    ws = Workspace(home)
    assert ws.info()["videos"] == 1 and ws.vectors().shape == (len(before["clips"]), 384)

    # Not a byte left: a write (annotating) is one line and stores nothing; reading still works.
    label = run_va(home, "label", "create", "ships")
    assert label.returncode == 0, label.stderr
    _fill(small_disk / "filler-2", leave=0)
    refused = run_va(home, "annotate", "ships", "0", "positive")
    assert refused.returncode == 2 and "Traceback" not in refused.stderr, refused.stderr
    assert len(error_lines(refused.stderr)) == 1 and "disk is full" in refused.stderr, refused.stderr
    read = run_va(home, "info", "--json")
    assert read.returncode == 0 and json.loads(read.stdout)["videos"] == 1, read.stderr
    (small_disk / "filler-2").unlink()
    assert stored_state(home) == before
    assert Workspace(home).catalog.scalar("SELECT COUNT(*) FROM annotations") == 0

    # What the line says to do works: free space, run the same command again.
    (small_disk / "filler").unlink()
    resumed = run_va(home, "ingest", "-q", "--json", second, third)
    assert resumed.returncode == 0, resumed.stderr
    assert len(json.loads(resumed.stdout)["ingested"]) == 2
    after = Workspace(home)
    assert after.info()["videos"] == 3 and after.vectors().shape[0] == after.info()["clips"]
    assert stored_state(home)["videos"][:1] == before["videos"]


def test_pixel_budget_is_a_setting_named_in_the_line(tmp_path, cut_video):
    video = cut_video([30, 30], seed=301).path  # 160x120 = 19,200 pixels
    over = run_va(tmp_path / "home", "ingest", "-q", video, env={"VA_MAX_PIXELS": "19199"})
    assert over.returncode == 1 and "Traceback" not in over.stderr
    [line] = error_lines(over.stderr)
    assert "160x120" in line and "VA_MAX_PIXELS" in line and "19200" in line
    within = run_va(tmp_path / "home", "ingest", "-q", video, env={"VA_MAX_PIXELS": "19200"})
    assert within.returncode == 0, within.stderr


def test_a_huge_mjpeg_is_decoded_at_reduced_size_and_still_looks_right(tmp_path):
    video = make_flat_video(tmp_path / "big.avi", (4096, 2304), frames=6)
    stats = SegmentStats()
    info, clips = segment(video, SegmentOptions(), stats)
    clips = list(clips)
    assert (info.width, info.height) == (4096, 2304)
    assert stats.decoded_size == (1024, 576)  # lowres: a quarter of each side, never held at full size
    image = clips[0].images[0]
    assert image.shape == (180, 320, 3)
    for (y, x), colour in {
        (40, 80): (220, 30, 30),
        (40, 240): (30, 220, 30),
        (140, 80): (30, 30, 220),
        (140, 240): (128, 128, 128),
    }.items():
        np.testing.assert_allclose(image[y, x], colour, atol=12)


def test_small_videos_are_decoded_at_full_size(cut_video):
    stats = SegmentStats()
    list(segment(cut_video([30, 30]).path, SegmentOptions(), stats)[1])
    assert stats.decoded_size == (160, 120)


def test_relative_paths_are_stored_absolute_and_old_rows_are_fixed_where_found(
    tmp_path, cut_video, embedder, monkeypatch
):
    project = tmp_path / "project"
    (project / "clips").mkdir(parents=True)
    shutil.copy(cut_video([30, 30], seed=401).path, project / "clips" / "x.mp4")
    monkeypatch.chdir(project)
    ws = Workspace(tmp_path / "home", embedder=embedder)
    assert ws.ingest(["clips/x.mp4"], progress=False).ok
    absolute = str((project / "clips" / "x.mp4").resolve())
    assert ws.videos()[0]["path"] == absolute

    # A row from before: the path as it was given.
    with ws.catalog.transaction() as db:
        db.execute("UPDATE videos SET path = 'clips/x.mp4'")
    elsewhere = tmp_path / "elsewhere"
    (elsewhere / "clips").mkdir(parents=True)
    (elsewhere / "clips" / "x.mp4").write_bytes(b"another file at the same relative path")
    monkeypatch.chdir(elsewhere)
    assert Workspace(tmp_path / "home", embedder=embedder).videos()[0]["path"] == "clips/x.mp4"  # not this file
    monkeypatch.chdir(project)
    assert Workspace(tmp_path / "home", embedder=embedder).videos()[0]["path"] == absolute
    assert absolutise_video_paths(ws.catalog) == 0  # nothing left to fix


def test_printable_escapes_what_would_break_a_line():
    assert printable("plain ünïcödé name.mp4") == "plain ünïcödé name.mp4"
    assert printable("new\nline.mp4") == "new\\nline.mp4"
    assert printable("\x1b[31mred\r") == "\\x1b[31mred\\r"
    assert printable(os.fsdecode(b"bad-\xff.mp4")) == "bad-\\udcff.mp4"


def test_sqlite_full_counts_as_a_full_disk(tmp_path):
    """SQLite says 'database or disk is full' (SQLITE_FULL) rather than raising ENOSPC."""
    from videoannotator.errors import is_disk_full

    db = sqlite3.connect(tmp_path / "small.sqlite")
    db.execute("CREATE TABLE t (b BLOB)")
    db.execute("PRAGMA max_page_count = 8")
    with pytest.raises(sqlite3.OperationalError) as raised:
        for _ in range(100):
            db.execute("INSERT INTO t VALUES (?)", (bytes(4096),))
    db.close()
    assert "full" in str(raised.value) and is_disk_full(raised.value)
    assert not is_disk_full(sqlite3.OperationalError("database is locked"))
    assert is_disk_full(OSError(28, "No space left on device")) and not is_disk_full(OSError(13, "denied"))
