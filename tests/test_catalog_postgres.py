"""The PostgreSQL catalog against a real server: the same answers as SQLite for the same calls,
one schema per workspace (and another workspace refused), one clear line for a bad URL, a server
that is down or psycopg missing, backups as SQLite files that restore into either backend,
the write lock across connections, and concurrent writers.

The server: conftest's ``pg_url`` ($VA_CATALOG_URL's on the suite's PostgreSQL pass, else one it
starts). No server, no pass: these tests fail, never skip.
"""

from __future__ import annotations

import os
import sys
import threading
import uuid
from pathlib import Path

import numpy as np
import pytest

from videoannotator.catalog import catalog_exists, open_catalog
from videoannotator.catalog.sqlite import SQLiteCatalog
from videoannotator.errors import Conflict, MissingDependency, VAError


def _home(tmp_path: Path, name: str) -> Path:
    home = tmp_path / name
    (home / "models").mkdir(parents=True)
    return home


def _pg(tmp_path: Path, url: str, name: str = "home"):
    return open_catalog(_home(tmp_path, name), url=url)


VIDEO = {
    "path": "/media/a.mp4",
    "content_hash": "h1",
    "duration": 4.0,
    "fps": 25.0,
    "width": 64,
    "height": 48,
    "frame_count": 100,
    "size_bytes": 1234,
    "codec": "h264",
}


def _script(c) -> dict:
    """The same calls on a catalog; what they return, minus the clock."""
    clips = [
        {"start": i, "end": i + 1.0, "start_frame": 25 * i, "end_frame": 25 * i + 25, "sample_frames": [25 * i]}
        for i in range(4)
    ]
    out: dict = {"video": c.videos.add(VIDEO, clips, 0, "emb", meta={"embedder": "emb"})}
    a = c.labels.create("Wide shot", "wide", ["landscape"])
    b = c.labels.create("a_b")
    c.labels.create("a1")
    with pytest.raises(Conflict):
        c.labels.create("WIDE SHOT")
    out["by_other_case"] = c.labels.get("wide SHOT")["id"]
    for clip in range(4):
        c.annotations.add(a["id"], [clip], "positive" if clip % 2 else "negative", "ann", source="search")
    c.annotations.add(a["id"], [0, 1], "positive", "bob", idempotency_key="key-1")
    again = c.annotations.add(a["id"], [0, 1], "positive", "bob", idempotency_key="key-1")
    with pytest.raises(Conflict):
        c.annotations.add(a["id"], [2], "positive", "bob", idempotency_key="key-1")
    out["retry"] = [e["id"] for e in again]
    out["undo"] = {k: v for k, v in c.annotations.undo(a["id"], "ann").items() if k != "created_at"}
    out["imported"] = c.annotations.import_events(
        b["id"],
        [
            {
                "clip_id": 3,
                "value": "positive",
                "annotator": "cy",
                "source": "file",
                "created_at": "2026-01-01T00:00:00Z",
            }
        ],
    )
    model = c.models.save(
        a["id"], "emb", np.arange(4, dtype=np.float32), 0.5, 0.25, np.linspace(0, 1, 4), 7, {"n": 4}, {"f1": 0.5}
    )
    out["model"] = {
        k: model[k] for k in ("version", "dim", "intercept", "threshold", "clips_scored", "snapshot", "metrics")
    }
    out["coef"] = model["coef"].tolist()
    out["deploy"] = c.deployments.record(a["id"], 1, "deploy", "dana", "first")["version"]
    out["live"] = c.deployments.live()
    out["batches"] = [
        (r["clip_ranges"], r["clips"])
        for r in c.batches.add_many(
            [
                {
                    "label_id": a["id"],
                    "version": 1,
                    "source": "score",
                    "clip_ranges": [(0, 4)],
                    "clips": 4,
                    "positives": 2,
                }
            ]
        )
    ]
    c.labels.update("wide shot", name="Establishing", description="where we are", editor="eve")
    out["history"] = [(h["editor"], h["changed"], h["before"], h["after"]) for h in c.labels.history(a["id"])]
    out["user"] = c.users.add("Zoe", "a" * 64)["name"]
    with pytest.raises(Conflict):
        c.users.add("ZOE", "b" * 64)
    out["user_by_hash"] = c.users.by_token_hash("a" * 64)["name"]
    out["revoked"] = c.users.revoke("Zoe")["revoked_at"] is not None
    out["labels"] = [label["name"] for label in c.labels.list()]
    out["events"] = [{k: v for k, v in e.items() if k != "created_at"} for e in c.annotations.events(a["id"])]
    out["current"] = c.annotations.current(a["id"])
    out["training"] = c.annotations.training_set(a["id"])
    out["by_source"] = c.annotations.found_by_source(a["id"])
    out["videos"] = [{k: v for k, v in r.items() if k != "ingested_at"} for r in c.videos.list()]
    out["describe"] = c.videos.describe(range(4))
    out["frames"] = c.videos.sample_frames(out["video"])
    look = c.lookup()
    out["lookup"] = (look.existing_ids([0, 3, 9]), look.videos_named("a.mp4"), look.clip_at(out["video"], 1.0, 2.0))
    out["counts"] = c.table_counts()
    out["clip_count"] = c.videos.clip_count()
    out["meta"] = c.get_meta("embedder")
    out["schema"] = c.schema_version
    return out


def test_the_same_calls_give_the_same_answers_on_both_backends(tmp_path, pg_url):
    lite = SQLiteCatalog(_home(tmp_path, "lite") / "catalog.sqlite", tmp_path / "lite" / "models")
    pg = _pg(tmp_path, pg_url)
    try:
        expected, found = _script(lite), _script(pg)
    finally:
        lite.close()
        pg.close()
    assert type(pg).__name__ == "PostgresCatalog"
    assert found == expected
    assert found["labels"] == ["a1", "a_b", "Establishing"]  # SQLite's NOCASE order on both
    assert found["counts"]["annotations"] == 8 and found["retry"] == [5, 6]


def test_each_workspace_has_its_own_schema_and_a_bound_schema_refuses_another(tmp_path, pg_url):
    one, two = _pg(tmp_path, pg_url, "one"), _pg(tmp_path, pg_url, "two")
    try:
        assert one.schema != two.schema and one.schema.startswith("va_")
        one.labels.create("only-in-one")
        assert [label["name"] for label in two.labels.list()] == []
        assert one.schema == "va_" + (tmp_path / "one" / ".catalog-id").read_text().split()[0]
    finally:
        one.close()
        two.close()
    schema = f"team_{uuid.uuid4().hex[:12]}"  # new on every run: the suite's server may be reused
    fixed = pg_url + ("&" if "?" in pg_url else "?") + f"schema={schema}"
    first = open_catalog(_home(tmp_path, "first"), url=fixed)
    first.close()
    with pytest.raises(VAError, match=f"schema '{schema}' .* holds the catalog of another workspace"):
        open_catalog(_home(tmp_path, "second"), url=fixed)
    open_catalog(tmp_path / "first", url=fixed).close()  # its own workspace opens it again


def test_a_workspace_finds_its_postgres_catalog_without_the_setting(tmp_path, pg_url, monkeypatch):
    home = _home(tmp_path, "home")
    c = open_catalog(home, url=pg_url)
    c.labels.create("kept")
    c.close()
    monkeypatch.delenv("VA_CATALOG_URL", raising=False)
    assert catalog_exists(home) and not (home / "catalog.sqlite").exists()
    again = open_catalog(home)
    try:
        assert [label["name"] for label in again.labels.list()] == ["kept"]
    finally:
        again.close()
    other = pg_url.replace("/va", "/elsewhere") if pg_url.endswith("/va") else pg_url + "x"
    with pytest.raises(VAError, match="catalog is at .* but VA_CATALOG_URL names"):
        open_catalog(home, url=other)


@pytest.mark.parametrize(
    ("url", "says"),
    [
        (
            "postgresql://va@127.0.0.1:1/va",
            r"cannot reach the PostgreSQL catalog at 127.0.0.1:1/va \(Connection refused\)",
        ),
        ("postgresql://va@127.0.0.1:1", "must look like postgresql://"),
        ("postgresql://va@127.0.0.1:5432/va?schema=Bad-Name", "not a plain lower-case name"),
        ("mysql://va@127.0.0.1/va", "is not a catalog URL"),
        ("postgresql://va:secret@127.0.0.1:notaport/va", "not a valid URL"),
    ],
)
def test_a_bad_url_or_a_server_down_is_one_line(tmp_path, url, says):
    home = _home(tmp_path, "home")
    with pytest.raises(VAError, match=says) as caught:
        open_catalog(home, url=url)
    assert "\n" not in str(caught.value) and "secret" not in str(caught.value)
    assert not catalog_exists(home)  # a URL that never opened is not remembered


def test_without_psycopg_the_error_names_the_extra(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "psycopg", None)
    with pytest.raises(MissingDependency, match=r"pip install 'videoannotator\[postgres\]'"):
        open_catalog(_home(tmp_path, "home"), url="postgresql://va@127.0.0.1/va")


def test_a_snapshot_is_an_sqlite_file_that_restores_into_either_backend(tmp_path, pg_url):
    source = _pg(tmp_path, pg_url, "source")
    try:
        _script(source)
        counts = source.table_counts()
        n = source.snapshot_to(tmp_path / "snap.sqlite")
    finally:
        source.close()
    assert n == (tmp_path / "snap.sqlite").stat().st_size
    from videoannotator.catalog.sqlite.snapshot import facts

    found, schema, meta = facts(tmp_path / "snap.sqlite")
    assert found == counts and schema == 7 and meta == {"embedder": "emb"}
    # into SQLite: the file is the catalog
    lite_home = _home(tmp_path, "lite")
    (tmp_path / "snap.sqlite").rename(lite_home / "catalog.sqlite")
    lite = SQLiteCatalog(lite_home / "catalog.sqlite", lite_home / "models")
    lite.close()
    # into PostgreSQL: a fresh schema beside a catalog.sqlite takes its rows, ids kept, and goes on counting
    pg_home = _home(tmp_path, "restored")
    (pg_home / "catalog.sqlite").write_bytes((lite_home / "catalog.sqlite").read_bytes())
    restored = open_catalog(pg_home, url=pg_url)
    try:
        assert restored.table_counts() == counts
        assert not (pg_home / "catalog.sqlite").exists() and (pg_home / ".catalog.sqlite.imported").exists()
        label = restored.labels.get("Establishing")
        event = restored.annotations.add(label["id"], [2], "positive", "fay")[0]
        assert event["id"] == counts["annotations"] + 1
        assert restored.models.get(label["id"])["coef"].tolist() == [0.0, 1.0, 2.0, 3.0]
    finally:
        restored.close()


def test_the_write_lock_is_also_an_advisory_lock_on_the_schema(tmp_path, pg_url):
    import psycopg

    from videoannotator.catalog.postgres.store import WRITE_LOCK

    c = _pg(tmp_path, pg_url)
    try:
        with c.write_lock(blocking=False) as held:
            assert held
            with c.write_lock(blocking=False) as again:
                assert not again  # the folder's file lock
        # another host sharing the catalog (no shared file lock) holds the schema's advisory lock
        other = psycopg.connect(c.conninfo, autocommit=True)
        try:
            other.execute("SELECT pg_advisory_lock(%s, %s)", (WRITE_LOCK, c.key))
            with c.write_lock(blocking=False) as held:
                assert not held
        finally:
            other.close()
        with c.write_lock(blocking=False) as held:
            assert held
    finally:
        c.close()


def test_concurrent_writers_lose_nothing_and_an_idempotency_key_stores_once(tmp_path, pg_url):
    c = _pg(tmp_path, pg_url)
    try:
        clips = [
            {"start": i, "end": i + 1.0, "start_frame": i, "end_frame": i + 1, "sample_frames": [i]} for i in range(10)
        ]
        c.videos.add(VIDEO, clips, 0, "emb")
        label = c.labels.create("race")
        errors: list[BaseException] = []
        returned: list[int] = []

        def writer(n: int) -> None:
            try:
                for i in range(25):
                    returned.extend(e["id"] for e in c.annotations.add(label["id"], [i % 10], "positive", f"w{n}"))
                returned.extend(
                    e["id"] for e in c.annotations.add(label["id"], [1, 2], "negative", "same", idempotency_key="once")
                )
            except BaseException as exc:  # noqa: BLE001 - reported below
                errors.append(exc)

        threads = [threading.Thread(target=writer, args=(n,)) for n in range(8)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        assert errors == []
        events = c.annotations.events(label["id"])
        assert len(events) == 8 * 25 + 2  # the keyed request stored once
        assert sorted(set(returned)) == [e["id"] for e in events]
        assert [e["id"] for e in events] == list(range(events[0]["id"], events[0]["id"] + len(events)))
    finally:
        c.close()


def test_a_copied_workspace_folder_gets_its_own_schema_holding_a_copy_of_the_catalog(tmp_path, pg_url):
    import shutil

    original = _pg(tmp_path, pg_url, "original")
    try:
        _script(original)
        counts = original.table_counts()
    finally:
        original.close()
    shutil.copytree(tmp_path / "original", tmp_path / "copy")  # as `cp -r`: the id file comes along
    copy = open_catalog(tmp_path / "copy", url=pg_url)
    again = open_catalog(tmp_path / "original", url=pg_url)
    try:
        assert copy.schema != again.schema  # not one event log under two folders' vectors
        assert copy.table_counts() == counts and copy.get_meta("embedder") == "emb"
        label = copy.labels.get("Establishing")
        added = copy.annotations.add(label["id"], [2], "positive", "gil")[0]
        assert added["id"] == counts["annotations"] + 1  # the copy's ids go on from the original's
        assert again.table_counts() == counts  # the original did not change
    finally:
        copy.close()
        again.close()
    moved = tmp_path / "moved"
    (tmp_path / "original").rename(moved)  # a move keeps the folder (its inode), the id and the schema
    after_move = open_catalog(moved, url=pg_url)
    try:
        assert after_move.schema == again.schema
    finally:
        after_move.close()


def test_a_forked_child_uses_its_own_connection_and_leaves_the_parents_alone(tmp_path, pg_url):
    c = _pg(tmp_path, pg_url)
    try:
        c.labels.create("parent")
        pid = os.fork()
        if pid == 0:  # the child: a session of its own; exits without pytest's teardown
            code = 1
            try:
                c.labels.create("child")
                code = 0
            finally:
                os._exit(code)
        _, status = os.waitpid(pid, 0)
        assert os.waitstatus_to_exitcode(status) == 0
        c.labels.create("parent-again")  # the parent's session survived the child's exit
        assert [label["name"] for label in c.labels.list()] == ["child", "parent", "parent-again"]
    finally:
        c.close()


def test_a_connection_the_server_ended_is_replaced(tmp_path, pg_url):
    import psycopg

    c = _pg(tmp_path, pg_url)
    try:
        c.labels.create("before")
        pid = c.scalar("SELECT pg_backend_pid()")
        with psycopg.connect(c.conninfo, autocommit=True) as admin:
            assert admin.execute("SELECT pg_terminate_backend(%s)", (pid,)).fetchone()[0]
        assert [label["name"] for label in c.labels.list()] == ["before"]  # a read: retried on a new session
        assert c.scalar("SELECT pg_backend_pid()") != pid
        c.labels.create("after")  # and writes go on
        with psycopg.connect(c.conninfo, autocommit=True) as admin:  # ended before a write this time
            admin.execute("SELECT pg_terminate_backend(%s)", (c.scalar("SELECT pg_backend_pid()"),))
        c.users.add("ulla", "c" * 64)  # a transaction first: it starts on a new session
        assert len(c.labels.list()) == 2 and [u["name"] for u in c.users.list()] == ["ulla"]
    finally:
        c.close()


def test_a_workspace_on_postgres_builds_the_same_versions_and_feeds_as_on_sqlite(tmp_path, pg_url, monkeypatch):
    """The product end to end on each backend: the same clips and annotations give the same
    annotations, model versions (weights, threshold, metrics) and four feeds."""
    from videoannotator.bench.synthetic import commit_random_video
    from videoannotator.workspace import Workspace

    def workspace(name: str, url: str | None) -> Workspace:
        if url:
            monkeypatch.setenv("VA_CATALOG_URL", url)
        else:
            monkeypatch.delenv("VA_CATALOG_URL", raising=False)
        ws = Workspace(tmp_path / name)
        commit_random_video(ws, np.random.default_rng(7), "corpus", 300, 16)
        ws.create_label("ships")
        vectors = np.asarray(ws.vectors())
        ws.annotate("ships", [int(i) for i in np.flatnonzero(vectors[:60, 0] > 0.2)], "positive", "ana")
        ws.annotate("ships", [int(i) for i in np.flatnonzero(vectors[:60, 0] <= 0.2)], "negative", "ana")
        ws.undo("ships", "ana")
        return ws

    lite, pg = workspace("lite", None), workspace("pg", pg_url)
    assert type(lite.catalog).__name__ == "SQLiteCatalog" and type(pg.catalog).__name__ == "PostgresCatalog"
    label = {ws: ws.label("ships")["id"] for ws in (lite, pg)}
    strip = lambda events: [{k: v for k, v in e.items() if k != "created_at"} for e in events]
    assert strip(pg.catalog.annotations.events(label[pg])) == strip(lite.catalog.annotations.events(label[lite]))
    for _ in range(2):  # v1, then v2 warm-started from v1
        built = {ws: ws.build("ships") for ws in (lite, pg)}
        assert built[pg]["version"] == built[lite]["version"]
        assert built[pg]["feeds"] == built[lite]["feeds"]
        assert built[pg]["metrics"] == built[lite]["metrics"]
        models = {ws: ws.catalog.models.get(label[ws]) for ws in (lite, pg)}
        np.testing.assert_array_equal(models[pg]["coef"], models[lite]["coef"])
        assert models[pg]["threshold"] == models[lite]["threshold"]
        assert models[pg]["snapshot"] == models[lite]["snapshot"]
        pg.annotate("ships", [100, 101], "positive", "bo")
        lite.annotate("ships", [100, 101], "positive", "bo")
    for ws in (lite, pg):
        ws.catalog.close()
