"""The HTTP API keeps the contract its /openapi.json states: a bounded schemathesis run
(every phase, every check; videoannotator.bench.api) over the real app in-process, on a
real workspace (a tiny generated video, the real default model, a built label) finds no
server error, no undeclared status code or content type, and no other check failure.
Then: the run itself catches what it should (a planted 500 and an undeclared status), and
the CLI bounds the same integers, with click's usage line instead of a traceback.

The long run (10,000+ requests) is a benchmark: docs/benchmarks.md.
"""

import pytest

from videoannotator.bench import api as bench_api
from videoannotator.cli import main
from videoannotator.errors import Conflict
from videoannotator.server import create_app
from videoannotator.workspace import Workspace

MAX_EXAMPLES = 25  # per operation and phase: ~20 s on two idle cores, about a minute on busy ones


@pytest.fixture(scope="module")
def contract_ws(tmp_path_factory, cut_video):
    video = cut_video([20, 20, 20, 20, 20], size=(64, 48))
    ws = Workspace(tmp_path_factory.mktemp("contract-home"))
    assert ws.ingest([video.path], progress=False).ok
    bench_api.prepare(ws)
    return ws


@pytest.mark.slow
def test_schemathesis_finds_no_server_error_and_nothing_undeclared(contract_ws):
    result = bench_api.run(create_app(contract_ws), max_examples=MAX_EXAMPLES, seed=0)
    report = "\n".join(result["failure_examples"] + result["engine_errors"])
    assert result["requests"] >= 1000, result
    assert result["server_errors"] == 0, report
    assert result["undeclared_statuses"] == 0 and result["undeclared_content_types"] == 0, report
    assert result["check_failures"] == {}, report
    assert result["engine_errors"] == [], report
    # It went past validation: real answers from every kind, not only 4xx.
    assert {"200", "201", "404", "405", "422"} <= set(result["statuses"]), result["statuses"]


@pytest.mark.slow
@pytest.mark.allow_error_logs  # the planted exception is logged, as any unexpected one is
def test_the_run_counts_a_server_error_and_an_undeclared_status(contract_ws, monkeypatch):
    def broken():
        raise RuntimeError("planted")

    def refused():
        raise Conflict("planted: /api/videos never declares 409")

    monkeypatch.setattr(contract_ws, "info", broken)
    monkeypatch.setattr(contract_ws, "videos", refused)
    result = bench_api.run(create_app(contract_ws), max_examples=2, paths=["/api/info", "/api/videos"])
    assert result["server_errors"] > 0 and result["check_failures"].get("not_a_server_error")
    assert result["undeclared_statuses"] > 0


# -- the CLI takes the same integer bounds -----------------------------------------------------------
HUGE = "123456789012345678901"  # 21 digits: once an OverflowError traceback from SQLite


@pytest.mark.parametrize(
    "args, option",
    [
        (["annotate", "ships", HUGE, "positive"], "CLIP_IDS"),
        (["annotate", "ships", "--", "-1", "positive"], "CLIP_IDS"),
        (["search", "--like", HUGE], "--like"),
        (["search", "ship", "-k", "0"], "-k"),
        (["search", "ship", "--offset", HUGE], "--offset"),
        (["undo", "ships", "--clip", HUGE], "--clip"),
        (["build", "ships", "--seed", HUGE], "--seed"),
        (["feed", "ships", "-n", HUGE], "-n"),
        (["feed", "ships", "--seed", "-4"], "--seed"),
        (["export", "ships", "--what", "model", "--version", HUGE], "--version"),
        (["export", "ships", "--what", "model", "--version", "0"], "--version"),
    ],
)
def test_cli_integers_out_of_range_are_a_usage_line(tmp_home, capsys, args, option):
    with pytest.raises(SystemExit) as exit_info:
        main(["--home", str(tmp_home), *args])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2, err
    error_lines = [line for line in err.splitlines() if line.startswith("Error:")]
    assert len(error_lines) == 1 and option in error_lines[0] and "range" in error_lines[0], err
    assert "Traceback" not in err
    assert not (tmp_home / "catalog.sqlite").exists()  # refused before the workspace was opened


@pytest.mark.parametrize("name", ["²", "٣", "99999999999999999999999"])
def test_cli_label_lookup_by_a_unicode_digit_or_huge_id_is_one_line(tmp_home, capsys, name):
    with pytest.raises(SystemExit) as exit_info:
        main(["--home", str(tmp_home), "label", "show", name])
    err = capsys.readouterr().err
    assert exit_info.value.code == 2 and err.startswith("error: no label") and err.count("\n") == 1, err
