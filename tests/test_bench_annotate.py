"""`va bench annotate` stays runnable: a tiny run through the real server and real writer
processes stores every acknowledged annotation once, at the durability level asked."""

import pytest

from videoannotator.bench import annotate as bench_annotate

pytestmark = pytest.mark.slow


def test_a_tiny_load_run_loses_and_duplicates_nothing(tmp_path):
    result = bench_annotate.run(writers=3, each=15, rounds=1, clips=5, folder=str(tmp_path))
    for mode, pragma in (("FULL", 2), ("NORMAL", 1)):
        figures = result[f"synchronous={mode}"]
        run = figures["runs"][0]
        assert run["server_pragma_synchronous"] == pragma
        assert (run["acknowledged"], run["stored"], run["lost"], run["duplicated"], run["errors"]) == (45, 45, 0, 0, 0)
        assert figures["throughput_per_s"] > 0 and 0 < figures["p50_ms"] <= figures["p95_ms"]
    assert not list(tmp_path.iterdir()), "the runs' workspaces were left behind"
