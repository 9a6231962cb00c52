"""`va bench annotate` stays runnable: a tiny run through the real server and real writer
processes stores every acknowledged annotation once, at the durability level asked, on SQLite
and on PostgreSQL (the bounded version of issue 13's load test: 20 writers x 500 there)."""

import pytest

from videoannotator.bench import annotate as bench_annotate

pytestmark = pytest.mark.slow


def test_a_tiny_load_run_loses_and_duplicates_nothing(tmp_path, monkeypatch):
    monkeypatch.delenv("VA_CATALOG_URL", raising=False)  # SQLite only: the PostgreSQL run is the test below
    result = bench_annotate.run(writers=3, each=15, rounds=1, clips=5, folder=str(tmp_path))
    assert "postgresql" not in result
    for mode, pragma in (("FULL", 2), ("NORMAL", 1)):
        figures = result[f"synchronous={mode}"]
        run = figures["runs"][0]
        assert run["server_pragma_synchronous"] == pragma
        assert (run["acknowledged"], run["stored"], run["lost"], run["duplicated"], run["errors"]) == (45, 45, 0, 0, 0)
        assert figures["throughput_per_s"] > 0 and 0 < figures["p50_ms"] <= figures["p95_ms"]
    assert not list(tmp_path.iterdir()), "the runs' workspaces were left behind"


def test_a_bounded_load_run_on_postgresql_loses_and_duplicates_nothing(tmp_path, pg_url):
    import psycopg

    result = bench_annotate.run(writers=8, each=40, rounds=1, clips=10, folder=str(tmp_path), catalog_url=pg_url)
    figures = result["postgresql"]
    run = figures["runs"][0]
    assert (run["acknowledged"], run["stored"], run["lost"], run["duplicated"], run["errors"]) == (320, 320, 0, 0, 0)
    assert (run["server_synchronous_commit"], run["server_fsync"]) == ("on", "on")  # durable commits measured
    assert figures["throughput_per_s"] > 0 and 0 < figures["p50_ms"] <= figures["p95_ms"]
    assert result["synchronous=FULL"]["runs"][0]["lost"] == 0 and "postgresql_vs_full" in result
    assert not list(tmp_path.iterdir()), "the runs' workspaces were left behind"
    with psycopg.connect(pg_url.split("?")[0]) as conn:  # and their schemas
        ids = [run["schema"] for run in [figures["runs"][0]]]
        left = conn.execute("SELECT count(*) FROM pg_namespace WHERE nspname = ANY(%s)", (ids,)).fetchone()[0]
    assert left == 0
