"""Nothing stored is lost when processes meet: an open during an ingest, a crash inside a
reembed, a reader that outlives a reembed, two ingests of one file.

The race the audit found: ``Workspace()`` cut the matrices to the catalog's clip count without
the write lock, so an open landing between an ingest's append and its commit deleted the fresh
rows, and the next append padded the file back with zeros. The test below pauses the ingest at
exactly that point (after the vectors' append, before the catalog commit), opens the workspace
from another process, resumes, and compares every row with an uninterrupted run.
"""

from __future__ import annotations

import os
import subprocess
import sys
import threading

import numpy as np
import pytest

from videoannotator.embed import get_embedder
from videoannotator.errors import StorageError
from videoannotator.ingest.reembed import reembed
from videoannotator.vectors.memmap import VectorStore
from videoannotator.workspace import Workspace

pytestmark = pytest.mark.slow

# What any `va info`, `va annotate` or `va serve` start does: open the workspace and read it.
OPEN_AND_READ = (
    "import sys; from videoannotator.workspace import Workspace; ws = Workspace(sys.argv[1]); "
    "ws.vectors(); ws.train_vectors(); print(ws.info()['vectors'])"
)


@pytest.fixture(scope="module")
def embedder():
    return get_embedder("conse-effnet-minilm")


@pytest.fixture(scope="module")
def three_videos(cut_video):
    return [cut_video([30, 25, 35], seed=seed, stamp=True).path for seed in (11, 12, 13)]


def open_in_another_process(home) -> int:
    done = subprocess.run(
        [sys.executable, "-c", OPEN_AND_READ, str(home)], capture_output=True, text=True, timeout=300, check=False
    )
    assert done.returncode == 0, done.stderr
    return int(done.stdout.split()[-1])


def matrices(ws) -> tuple[np.ndarray, np.ndarray]:
    return np.array(ws.vectors()), np.array(ws.train_vectors())


def test_open_between_append_and_commit_keeps_every_row(tmp_path, three_videos, embedder, monkeypatch):
    reference = Workspace(tmp_path / "reference", embedder=embedder)
    assert reference.ingest(three_videos, progress=False).ok
    want_vectors, want_features = matrices(reference)

    home = tmp_path / "home"
    ws = Workspace(home, embedder=embedder)
    appended, resume = threading.Event(), threading.Event()
    real_append = VectorStore.append

    def append_then_pause(self, vectors, at_row):
        real_append(self, vectors, at_row)
        if self.path.name.startswith("vectors"):  # the last write before the catalog commits
            appended.set()
            assert resume.wait(300)
            resume.clear()

    monkeypatch.setattr(VectorStore, "append", append_then_pause)
    reports = []
    worker = threading.Thread(target=lambda: reports.append(ws.ingest(three_videos, progress=False)))
    worker.start()
    seen = []
    try:
        for _ in three_videos:
            assert appended.wait(300), "the ingest never reached its append"
            appended.clear()
            seen.append(open_in_another_process(home))  # rows appended, not yet committed
            resume.set()
    finally:
        resume.set()
        worker.join(timeout=300)
    assert reports and reports[0].ok, reports

    counts = np.cumsum([0] + [v["clips"] for v in reports[0].ingested])
    assert seen == counts[:-1].tolist()  # the other process saw exactly the committed clips
    for opened in (ws, Workspace(home, embedder=embedder)):
        vectors, features = matrices(opened)
        assert vectors.shape == want_vectors.shape and features.shape == want_features.shape
        assert np.all(np.abs(vectors).sum(axis=1) > 0) and np.all(np.abs(features).sum(axis=1) > 0)
        np.testing.assert_allclose(vectors, want_vectors, atol=1e-5)
        np.testing.assert_allclose(features, want_features, atol=1e-5)
    assert (home / "vectors.f32").stat().st_size == counts[-1] * want_vectors.shape[1] * 4
    assert (home / "features.f32").stat().st_size == counts[-1] * want_features.shape[1] * 4


def test_append_refuses_to_write_past_missing_rows(tmp_path):
    store = VectorStore(tmp_path / "vectors.f32", 4)
    store.append(np.ones((3, 4)), at_row=0)
    os.truncate(store.path, 2 * 16)  # a committed row lost
    with pytest.raises(StorageError, match="rows are missing"):
        store.append(np.full((1, 4), 2.0), at_row=3)
    assert store.path.stat().st_size == 2 * 16  # nothing padded, nothing written
    with pytest.raises(StorageError, match="holds 2 rows but the catalog has 3"):
        store.matrix(3)
    # Rows past the catalog's count (a crash before the commit) are the writer's to drop.
    store.append(np.full((2, 4), 5.0), at_row=1)
    assert store.rows_on_disk() == 3
    assert store.matrix(3)[0].tolist() == [1.0] * 4 and store.matrix(3)[2].tolist() == [5.0] * 4


def test_open_drops_uncommitted_rows_only_when_no_writer_holds_the_lock(tmp_path, three_videos, embedder):
    home = tmp_path / "home"
    ws = Workspace(home, embedder=embedder)
    assert ws.ingest(three_videos[:1], progress=False).ok
    committed = (home / "vectors.f32").stat().st_size
    with open(home / "vectors.f32", "ab") as f:  # rows of a writer between append and commit
        f.write(b"\x01" * 384 * 4 * 2)
    with ws.write_lock():
        Workspace(home, embedder=embedder)  # the lock is held: the rows may be about to commit
        assert (home / "vectors.f32").stat().st_size == committed + 384 * 4 * 2
    Workspace(home, embedder=embedder)  # nobody holds it: they are a crash's leftovers
    assert (home / "vectors.f32").stat().st_size == committed


def test_reembed_switches_at_its_meta_commit(tmp_path, three_videos, embedder, tiny_clip_dir, monkeypatch):
    home = tmp_path / "home"
    ws = Workspace(home, embedder=embedder)
    assert ws.ingest(three_videos[:2], progress=False).ok
    before_vectors, before_features = matrices(ws)
    reader = Workspace(home, embedder=embedder)  # a server's workspace, open all along
    tiny = get_embedder(f"hf:{tiny_clip_dir}")

    def crash(*args, **kwargs):
        raise KeyboardInterrupt

    # A crash after the new files are written, before the meta commit: the old generation stays.
    monkeypatch.setattr(ws.catalog, "transaction", crash)
    with pytest.raises(KeyboardInterrupt):
        reembed(ws, tiny, progress=False)
    monkeypatch.undo()
    again = Workspace(home)
    assert (again.embedder_name, again.dim, again.generation) == ("conse-effnet-minilm", 384, 0)
    np.testing.assert_array_equal(again.vectors(), before_vectors)
    np.testing.assert_array_equal(again.train_vectors(), before_features)
    assert sorted(p.name for p in home.glob("*.f32")) == ["features.f32", "vectors.f32"]

    # A crash after the switch, before the old files are removed: the new generation is used,
    # and the next open clears the old files away.
    monkeypatch.setattr(again.matrices, "remove_other_generations", crash)
    with pytest.raises(KeyboardInterrupt):
        reembed(again, tiny, progress=False)
    monkeypatch.undo()
    assert {p.name for p in home.glob("*.f32")} == {"features.f32", "vectors.f32", "vectors.g1.f32"}
    opened = Workspace(home)
    assert (opened.embedder_name, opened.dim, opened.generation) == (tiny.name, 24, 1)
    assert sorted(p.name for p in home.glob("*.f32")) == ["vectors.g1.f32"]
    assert opened.vectors().shape == (before_vectors.shape[0], 24) and opened.train_space == "vectors"
    assert len(opened.search("a ship", k=3)) == 3

    # The long-lived reader follows the switch instead of serving the old matrices.
    assert reader.vectors().shape == (before_vectors.shape[0], 24)
    assert reader.embedder_name == tiny.name


def test_two_ingests_of_one_file_store_it_once(tmp_path, three_videos, embedder):
    home = tmp_path / "home"
    first, second = Workspace(home, embedder=embedder), Workspace(home, embedder=embedder)
    reports = []
    threads = [
        threading.Thread(target=lambda w=w: reports.append(w.ingest(three_videos[:1], progress=False)))
        for w in (first, second)
    ]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=300)
    assert len(reports) == 2 and all(r.ok for r in reports)
    assert sorted(len(r.ingested) for r in reports) == [0, 1]
    assert sum(len(r.skipped) for r in reports) == 1
    opened = Workspace(home, embedder=embedder)
    assert opened.info()["videos"] == 1 and opened.info()["clips"] == opened.info()["vectors"]
