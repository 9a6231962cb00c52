"""The `va` package itself: no import cycle, only the Workspace below it, choices from names.py,
`--json` on every command that prints (one JSON document each), export formats as named."""

from __future__ import annotations

import ast
import csv
import io
import itertools
import json
import os
import subprocess
import sys
from pathlib import Path

import click
import numpy as np
import pytest
from click.testing import CliRunner

from videoannotator.cli import cli
from videoannotator.errors import NotFound
from videoannotator.names import (
    DEFAULT_DIM,
    DEFAULT_EMBEDDER,
    EXPORT_FORMATS,
    EXPORT_WHAT,
    FEED_NAMES,
    REVIEW_FILTERS,
    SEGMENT_FORMATS,
    VOTE_VALUES,
)
from videoannotator.workspace import Workspace

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "src" / "videoannotator"
CLI_DIR = PACKAGE / "cli"
CLI_MODULES = sorted(p.stem for p in CLI_DIR.glob("*.py") if p.stem != "__init__")
VA = str(Path(sys.executable).with_name("va"))
# What the CLI must reach only through the Workspace (docs/architecture.md: the shells are thin).
BELOW_THE_WORKSPACE = (
    "catalog",
    "ingest",
    "loop",
    "learn",
    "search",
    "importer",
    "backup",
    "vectors",
    "media",
    "embed",
)
# Commands that print nothing of their own (serve logs requests until stopped).
NO_OUTPUT = {("serve",)}


def _python(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300, check=False)


# --- the package's structure ----------------------------------------------------------------


def test_the_modules_exist():
    assert set(CLI_MODULES) >= {"app", "admin", "bench", "eval", "ingest", "loop"}


@pytest.mark.parametrize("first", CLI_MODULES)
def test_each_module_imports_first_in_a_fresh_process(first):
    result = _python(
        f"import videoannotator.cli.{first}; from videoannotator.cli import cli, main, printable; "
        "print(len(cli.commands))"
    )
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) >= 15


def test_every_import_order_works():
    """All orders of the command modules, each from a clean slate of videoannotator.cli*."""
    code = f"""
import importlib, itertools, sys
names = {CLI_MODULES!r}
count = 0
for order in itertools.permutations(names):
    for key in [k for k in sys.modules if k == "videoannotator.cli" or k.startswith("videoannotator.cli.")]:
        del sys.modules[key]
    for name in order:
        importlib.import_module("videoannotator.cli." + name)
    assert "serve" in sys.modules["videoannotator.cli"].cli.commands
    count += 1
print(count)
"""
    result = _python(code)
    assert result.returncode == 0, result.stderr
    assert int(result.stdout) == len(list(itertools.permutations(CLI_MODULES)))


def _tree(path: Path) -> ast.Module:
    return ast.parse(path.read_text(), filename=str(path))


def _imports(tree: ast.AST):
    """(level, module, names) of every import in the tree, functions' bodies included."""
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom):
            yield node.level, node.module or "", [a.name for a in node.names]
        elif isinstance(node, ast.Import):
            for alias in node.names:
                yield 0, alias.name, []


@pytest.mark.parametrize("name", CLI_MODULES)
def test_command_modules_import_only_app_from_the_package(name):
    for level, module, names in _imports(_tree(CLI_DIR / f"{name}.py")):
        if level == 1:
            assert module == "app", f"cli/{name}.py imports .{module or names} (only .app is allowed)"


@pytest.mark.parametrize("path", sorted(CLI_DIR.glob("*.py")), ids=lambda p: p.name)
def test_no_import_below_the_code(path):
    """Imports sit at the top of each module (or inside a function): none after the code starts."""
    started = False
    for node in _tree(path).body:
        if isinstance(node, ast.Import | ast.ImportFrom):
            assert not started, f"{path.name}:{node.lineno}: an import after the module's code"
        elif not (isinstance(node, ast.Expr) and isinstance(node.value, ast.Constant)):  # the docstring
            started = True


@pytest.mark.parametrize("path", sorted(CLI_DIR.glob("*.py")), ids=lambda p: p.name)
def test_the_cli_reaches_the_library_only_through_the_workspace(path):
    for level, module, names in _imports(_tree(path)):
        if level == 2:
            top = (module or "").split(".")[0]
            targets = [top] if top else names
        elif level == 0 and module.startswith("videoannotator."):
            targets = [module.split(".")[1]]
        else:
            continue
        for target in targets:
            assert target not in BELOW_THE_WORKSPACE, f"{path.name} imports {target}: call the Workspace instead"


@pytest.mark.parametrize("path", sorted(CLI_DIR.glob("*.py")), ids=lambda p: p.name)
def test_the_cli_calls_workspace_methods_not_its_stores(path):
    for node in ast.walk(_tree(path)):
        if isinstance(node, ast.Attribute) and node.attr in ("catalog", "labels", "annotations", "models", "matrices"):
            pytest.fail(f"{path.name}:{node.lineno}: .{node.attr} reaches below the Workspace's methods")


@pytest.mark.parametrize("path", sorted((PACKAGE / "bench").glob("*.py")), ids=lambda p: p.name)
def test_benchmarks_have_no_main_of_their_own(path):
    tree = _tree(path)
    assert not any(module == "argparse" for _, module, _ in _imports(tree)), f"{path.name} parses arguments"
    for node in tree.body:
        assert not (isinstance(node, ast.FunctionDef) and node.name == "main"), f"{path.name} has a main()"
        if isinstance(node, ast.If):
            assert "__main__" not in ast.unparse(node.test), f"{path.name} runs as a script"
    assert "python -m" not in path.read_text(), f"{path.name} documents a way in other than `va bench`"


def test_no_module_spells_out_a_list_of_names():
    """The choices' names appear in cli/ only through names.py."""
    spelled = {*FEED_NAMES, *VOTE_VALUES, *REVIEW_FILTERS, *EXPORT_WHAT, *EXPORT_FORMATS, DEFAULT_EMBEDDER}
    for path in sorted(CLI_DIR.glob("*.py")):
        for node in ast.walk(_tree(path)):
            if isinstance(node, ast.List | ast.Tuple | ast.Set):
                items = {e.value for e in node.elts if isinstance(e, ast.Constant) and isinstance(e.value, str)}
                assert len(items & spelled) < 2, f"{path.name}:{node.lineno}: a literal list of names {items}"


# --- choices and flags -----------------------------------------------------------------------


def _commands(group: click.Group = cli, path: tuple = ()):
    """(path, command) of every command that runs something: leaves, and groups that run alone."""
    for name, command in group.commands.items():
        here = (*path, name)
        if isinstance(command, click.Group):
            if command.invoke_without_command:
                yield here, command
            yield from _commands(command, here)
        else:
            yield here, command


def _param(path, name) -> click.Parameter:
    command = dict(_commands())[path]
    return next(p for p in command.params if p.name == name)


@pytest.mark.parametrize(
    ("path", "param", "names"),
    [
        (("feed",), "name", FEED_NAMES),
        (("annotate",), "value", VOTE_VALUES),
        (("review",), "filter_", REVIEW_FILTERS),
        (("export",), "what", EXPORT_WHAT),
        (("export",), "fmt", tuple(dict.fromkeys((*EXPORT_FORMATS, *SEGMENT_FORMATS)))),
    ],
)
def test_choices_come_from_names(path, param, names):
    assert tuple(_param(path, param).type.choices) == tuple(names)


def test_feed_help_lists_exactly_the_feed_names():
    result = subprocess.run([VA, "feed", "--help"], capture_output=True, text=True, timeout=60, check=True)
    usage = result.stdout.split("\n\n")[0]
    listed = usage[usage.index("[", usage.index("LABEL")) + 1 : usage.rindex("]")].split("|")
    assert tuple(listed) == FEED_NAMES


def test_bench_dimension_defaults_to_the_default_embedders():
    assert _param(("bench", "loop"), "dim").default == DEFAULT_DIM
    assert _param(("bench", "search"), "dim").default == DEFAULT_DIM


def test_every_command_that_prints_has_json():
    for path, command in _commands():
        if path in NO_OUTPUT:
            continue
        flags = {opt for p in command.params for opt in getattr(p, "opts", [])}
        assert "--json" in flags, f"va {' '.join(path)} has no --json"
        assert next(p for p in command.params if "--json" in p.opts).name == "as_json"


def test_starting_va_loads_no_numerics():
    result = _python("import sys, videoannotator.cli; print(sorted({'numpy', 'torch'} & set(sys.modules)))")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "[]"


# --- JSON output on a real workspace ---------------------------------------------------------

CLIPS = 40


@pytest.fixture(scope="module")
def home(tmp_path_factory) -> Path:
    """A workspace with one video's worth of clips (unit vectors stored as ingest stores them:
    no decoding or model needed), a label and a dozen annotations."""
    home = tmp_path_factory.mktemp("cli") / "home"
    ws = Workspace(home, embedder=DEFAULT_EMBEDDER)
    video = {
        "path": str(home / "synthetic.mp4"),
        "content_hash": "synthetic-" + os.urandom(8).hex(),
        "duration": float(CLIPS),
        "fps": 25.0,
        "width": 160,
        "height": 120,
        "frame_count": 25 * CLIPS,
        "size_bytes": 0,
        "codec": "h264",
    }
    shots = [
        {
            "start": float(i),
            "end": i + 1.0,
            "start_frame": 25 * i,
            "end_frame": 25 * i + 25,
            "sample_frames": [25 * i + 12],
        }
        for i in range(CLIPS)
    ]
    vectors = np.random.default_rng(0).normal(size=(CLIPS, DEFAULT_DIM)).astype(np.float32)
    vectors /= np.linalg.norm(vectors, axis=1, keepdims=True)
    ws.commit_video(video, shots, vectors)
    ws.labels.create("ships", "A ship at sea", "ship, sea")
    ws.annotate("ships", list(range(1, 6)), "positive", "ann")
    ws.annotate("ships", list(range(6, 13)), "negative", "ann")
    ws.catalog.close()
    return home


def invoke(home, *args, ok=True):
    result = CliRunner().invoke(cli, ["--home", str(home), *args], catch_exceptions=False)
    if ok:
        assert result.exit_code == 0, result.output
    return result


def as_json(home, *args):
    """The command's stdout is one JSON document (and nothing else)."""
    stdout = invoke(home, *args, "--json").stdout
    return json.loads(stdout)


def test_every_quick_command_prints_one_json_document(home, tmp_path):
    ran: set[tuple] = set()

    def run(*args):
        path = tuple(a for a in args if not a.startswith("-"))
        ran.update(p for p, _ in _commands() if path[: len(p)] == p)
        return as_json(home, *args)

    assert run("info")["clips"] == CLIPS
    assert any(row["env"] == "VA_HOME" for row in run("config"))
    assert run("label", "create", "cars")["name"] == "cars"
    assert {lab["name"] for lab in run("label", "list")} == {"ships", "cars"}
    assert run("label", "show", "ships")["counts"]["positive"] == 5
    assert run("label", "rename", "cars", "autos")["name"] == "autos"
    assert run("label", "edit", "autos", "-d", "Cars")["description"] == "Cars"
    assert run("label", "archive", "autos")["archived"] is True
    history = run("label", "history", "autos")
    assert history["label"] == "autos" and len(history["history"]) == 3
    hits = run("search", "--like", "3", "-k", "5")
    assert len(hits) == 5 and {"clip_id", "score"} <= set(hits[0])
    events = run("annotate", "ships", "20", "skip", "-a", "ann")
    assert [e["clip_id"] for e in events] == [20]
    assert run("undo", "ships", "-a", "ann")["clip_id"] == 20
    built = run("build", "ships")
    assert built["version"] == 1 and set(built["feeds"]) == set(FEED_NAMES)
    for name in FEED_NAMES:
        assert run("feed", "ships", name, "-n", "3")["feed"] == name
    assert len(run("review", "ships")["annotations"]) == 12
    assert len(run("export", "ships")) == 12  # --json: one document
    backup = tmp_path / "backup"
    assert run("backup", str(backup), "-q")
    restored = as_json(tmp_path / "restored", "restore", str(backup), "-q")  # into another --home
    ran.add(("restore",))
    assert restored and as_json(tmp_path / "restored", "info")["clips"] == CLIPS
    exported = tmp_path / "ships.jsonl"
    exported.write_text(invoke(home, "export", "ships").stdout)
    imported = run("import", "ships-copy", str(exported))
    assert imported["label"] == "ships-copy" and imported["created_label"]
    assert run("bench", "loop", "--clips", "2000", "--annotations", "100", "--repeats", "1", "--queries", "3")["build"]
    assert run("bench", "search", "--clips", "2000", "--queries", "3", "-k", "10", "--data", "clustered")["datasets"]
    cold = run("bench", "search-cold", "--runs", "1")
    assert cold["trees"]["this"]["search"]["median_s"] > 0 and cold["trees"]["this"]["info"]["median_s"] > 0
    scored = run("bench", "score", "--clips", "2000", "--labels", "2", "--repeats", "1")
    assert scored["clips_scored"] == 1000 and scored["rows"]["rows"] == 2000
    scale = run(
        "bench", "scale", "--sizes", "3000", "--annotations", "100", "--repeats", "1", "--queries", "3",
        "--shards", "2", "--skip-ingest",
    )  # fmt: skip
    assert scale["sizes"]["3000"]["build"]["clips"] == 3000 and scale["sizes"]["3000"]["build"]["scan"]["guaranteed"]
    user = run("users", "add", "ana")  # last: team mode from here on
    assert user["name"] == "ana" and user["token"].startswith("va_")
    assert [u["name"] for u in run("users", "list")] == ["ana"]
    assert run("users", "revoke", "ana")["revoked_at"]

    # What this test leaves to the slow ones below (models, real video, schemathesis, servers).
    elsewhere = {
        ("ingest",),
        ("reembed",),
        ("eval",),
        ("eval", "slideshow"),
        ("eval", "scenes"),
        ("eval", "cuts"),
        ("bench", "ingest"),
        ("bench", "annotate"),
        ("bench", "api"),
        ("bench", "gpu"),  # test_bench_gpu_runs_on_the_cpu below
        # production: tests/test_production_cli.py runs each with --json on real media
        ("deploy",),
        ("rollback",),
        ("versions",),
        ("card",),
        ("score",),
        ("timeline",),
        ("monitor",),
        ("production-feed",),
        ("videos",),
    }
    missing = {p for p, _ in _commands()} - ran - elsewhere - NO_OUTPUT
    assert not missing, f"commands with no JSON test: {sorted(missing)}"


@pytest.mark.slow
def test_bench_gpu_runs_on_the_cpu(tmp_path, cut_video):
    """`va --device cuda bench gpu` is for a GPU machine; on the CPU it runs the same steps, in
    float32, and says so: one JSON document with each part measured."""
    media = tmp_path / "media"
    media.mkdir()
    cut_video([20, 20], seed=5).path.rename(media / "cuts.mp4")
    result = CliRunner().invoke(
        cli, ["--device", "cpu", "bench", "gpu", "--batch", "8", "--seconds", "0.5", "--media", str(media)]
    )
    assert result.exit_code == 0, result.output
    report = json.loads(result.stdout)
    assert report["device"] == "cpu" and report["image_tower_fp16"] is False
    assert report["image_tower_images_per_second"] > 0
    assert report["decode_frames_per_second_one_core"][0]["frames"] > 0


def test_export_writes_the_format_asked(home):
    lines = invoke(home, "export", "ships").stdout.splitlines()  # the default: JSON Lines
    assert len(lines) == 12 and all(isinstance(json.loads(line), dict) for line in lines)
    document = json.loads(invoke(home, "export", "ships", "--format", "json").stdout)
    assert isinstance(document, list) and [r["clip_id"] for r in document] == [json.loads(x)["clip_id"] for x in lines]
    assert json.loads(invoke(home, "export", "ships", "--format", "jsonl", "--what", "events").stdout.splitlines()[0])
    events = json.loads(invoke(home, "export", "ships", "--what", "events", "--format", "json").stdout)
    assert isinstance(events, list) and len(events) >= 12
    table = list(csv.DictReader(io.StringIO(invoke(home, "export", "ships", "--format", "csv").stdout)))
    assert len(table) == 12 and table[0]["label"] == "ships"
    invoke(home, "build", "ships")
    model = json.loads(invoke(home, "export", "ships", "--what", "model").stdout)
    assert isinstance(model, dict) and len(model["weights"]) == DEFAULT_DIM
    assert json.loads(invoke(home, "export", "ships", "--what", "model", "--json").stdout) == model
    one_line = invoke(home, "export", "ships", "--what", "model", "--format", "jsonl").stdout
    assert one_line.count("\n") == 1 and json.loads(one_line) == model
    refused = invoke(home, "export", "ships", "--what", "model", "--format", "csv", ok=False)
    assert refused.exit_code == 2 and "not csv" in refused.output
    refused = invoke(home, "export", "ships", "--format", "csv", "--json", ok=False)
    assert refused.exit_code == 2 and "--json" in refused.output


def test_errors_are_one_line_through_the_console_script(home):
    result = subprocess.run(
        [VA, "--home", str(home), "feed", "no-such-label", "--json"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert result.returncode == 2 and result.stdout == ""
    assert result.stderr.startswith("error: ") and "no label 'no-such-label'" in result.stderr
    assert result.stderr.count("\n") == 1


# --- the slow rest: real video, models, the harness, the servers ------------------------------


@pytest.mark.slow
def test_ingest_reembed_and_bench_ingest_print_json(tmp_path, cut_video, tiny_clip_dir):
    video = cut_video().path
    home = tmp_path / "home"
    report = as_json(home, "ingest", "-q", str(video))
    assert report["clips"] >= 3 and len(report["ingested"]) == 1
    # Progress written to a pipe or a file is plain lines, not a bar's escape codes.
    second = CliRunner().invoke(cli, ["--home", str(home), "ingest", str(cut_video(seed=1).path)])
    assert second.exit_code == 0, second.output
    assert "\r" not in second.stderr and "\x1b" not in second.stderr
    assert "videos: 0/1 video (0%)" in second.stderr
    assert "videos: 1/1 video (100%), done in " in second.stderr
    switched = as_json(home, "reembed", "--embedder", f"hf:{tiny_clip_dir}")
    assert isinstance(switched, dict)
    assert as_json(home, "info")["embedder"] == f"hf:{tiny_clip_dir}"
    figures = as_json(home, "--embedder", f"hf:{tiny_clip_dir}", "bench", "ingest", str(video))
    assert isinstance(figures, dict)


@pytest.mark.slow
def test_eval_slideshow_and_cuts_print_json(tmp_path):
    if not Path("/usr/share/datasets/fashion-mnist").is_dir():
        pytest.fail("Debian dataset-fashion-mnist is not installed (make deps)")
    made = as_json(tmp_path, "eval", "slideshow", str(tmp_path / "show"), "--videos", "1", "--shots", "5")
    assert made["videos"] == 1 and made["shots"] == 5
    scored = as_json(tmp_path, "eval", "cuts", made["truth"])
    assert 0 <= scored["recall"] <= 1
    results = as_json(
        tmp_path,
        "eval",
        "--suite",
        "synthetic",
        "--sample",
        "600",
        "--budgets",
        "25",
        "--seeds",
        "1",
        "--jobs",
        "1",
        "--methods",
        "va,random",
        "--out",
        str(tmp_path / "out"),
    )
    assert set(results["summary"]["gain"]["va"]) == {"25"}


@pytest.mark.slow
def test_bench_annotate_and_api_print_json(tmp_path, cut_video):
    figures = as_json(tmp_path, "bench", "annotate", "--writers", "2", "--each", "5", "--rounds", "1", "--clips", "5")
    assert figures["synchronous=FULL"]["runs"][0]["lost"] == 0
    video = cut_video((30, 30, 30, 30, 30)).path  # the contract run needs 4 clips or more
    result = subprocess.run(
        [VA, "bench", "api", str(video), "--requests", "1", "--max-examples", "1", "--json"],
        capture_output=True,
        text=True,
        timeout=900,
        check=False,
    )
    assert result.returncode in (0, 1) and "Traceback" not in result.stderr, result.stderr  # 1: something failed
    assert json.loads(result.stdout)["requests"] >= 1


def test_no_command_summary_is_cut_in_help():
    """`va --help` and each group's --help show every command's summary whole, at 80 columns."""
    groups = [()] + [path for path, command in _commands() if isinstance(command, click.Group)]
    groups += [(name,) for name, command in cli.commands.items() if isinstance(command, click.Group)]
    for path in sorted(set(groups)):
        result = CliRunner().invoke(cli, [*path, "--help"], terminal_width=80)
        assert result.exit_code == 0, result.output
        listing = result.output.split("Commands:", 1)
        if len(listing) < 2:
            continue
        cut = [line.strip() for line in listing[1].splitlines() if line.rstrip().endswith("...")]
        assert not cut, f"va {' '.join(path)} --help cuts: {cut}"


def test_review_says_how_many_clips_even_when_none_match(home):
    listed = invoke(home, "review", "ships").stdout.splitlines()
    assert listed[0].split()[:3] == ["clip", "value", "p"]  # a header, then one line a clip
    assert listed[-1].split(",")[0] == f"{len(listed) - 2} clips"
    invoke(home, "label", "create", "nothing-yet")
    assert invoke(home, "review", "nothing-yet").stdout == "0 clips\n"  # not silence


def test_a_clip_id_that_is_not_there_says_where_ids_come_from(home):
    with pytest.raises(NotFound) as info:
        invoke(home, "annotate", "ships", "999999", "positive")
    assert "va search" in info.value.message and "va info" not in info.value.message
    with pytest.raises(NotFound) as info:
        Workspace(home).clip(999999)
    assert f"clips are 0-{CLIPS - 1}" in info.value.message


@pytest.fixture
def built(home, tmp_path) -> Path:
    """A copy of ``home`` whose label has a model."""
    import shutil

    copy = tmp_path / "built"
    shutil.copytree(home, copy)
    invoke(copy, "build", "ships")
    return copy


def _rows(stdout: str) -> list[list[str]]:
    return [line.split() for line in stdout.splitlines()]


def test_tables_have_headers_and_the_pages_probability(built):
    """search, feed and review print a header line and the same calibrated probability column
    ("p", as the page shows it); --json carries the raw logit as well."""
    feed = as_json(built, "feed", "ships", "top_positive", "-n", "5")
    rows = _rows(invoke(built, "feed", "ships", "top_positive", "-n", "5").stdout)
    assert rows[0] == ["clip", "p", "time", "(s)", "video"]
    for row, clip in zip(rows[1:], feed["clips"], strict=True):
        assert int(row[0]) == clip["clip_id"] and row[1] == f"{clip['probability']:.2f}"
        assert "score" in clip  # the raw logit
    review = as_json(built, "review", "ships")["annotations"]
    rows = _rows(invoke(built, "review", "ships").stdout)
    assert rows[0] == ["clip", "value", "p", "time", "(s)", "video", "note"]
    by_id = {a["clip_id"]: a for a in review}
    for row in rows[1 : len(review) + 1]:
        assert row[2] == f"{by_id[int(row[0])]['probability']:.2f}"
    found = as_json(built, "search", "--like", "3", "-k", "4", "--label", "ships")
    rows = _rows(invoke(built, "search", "--like", "3", "-k", "4", "--label", "ships").stdout)
    assert rows[0] == ["clip", "similarity", "p", "time", "(s)", "video"]
    for row, clip in zip(rows[1:], found, strict=True):
        assert row[1] == f"{clip['score']:.3f}" and row[2] == f"{clip['probability']:.2f}"
        assert {"logit", "above_threshold"} <= clip.keys()
    plain = _rows(invoke(built, "search", "--like", "3", "-k", "4").stdout)
    assert plain[0] == ["clip", "similarity", "time", "(s)", "video"]  # no label: no probability


def test_label_show_is_a_readable_block(built):
    summary = as_json(built, "label", "show", "ships")
    shown = invoke(built, "label", "show", "ships").stdout
    assert "{" not in shown and "[" not in shown  # no Python dicts or lists
    assert "  guideline:   A ship at sea" in shown
    assert "  annotations: 12 (5 positive, 7 negative)" in shown
    ap = summary["versions"][-1]["metrics"]["cv"]["ap"]
    row = next(line for line in shown.splitlines() if line.split()[:1] == ["1"])
    assert f"{ap:.3f}" in row and "5+ 7-" in row
    assert "va feed ships" in shown or "va search" in shown  # the next step as a command
    invoke(built, "label", "create", "fresh")
    assert "model:       none yet" in invoke(built, "label", "show", "fresh").stdout


def test_progress_off_a_terminal_is_periodic_plain_lines():
    import io

    from videoannotator.progress import PlainProgress, progress_bar

    out = io.StringIO()
    bar = progress_bar(total=3, desc="videos", unit="video", file=out)
    assert isinstance(bar, PlainProgress)  # a StringIO is not a terminal
    for name in ("a.mp4", "b.mp4", "c.mp4"):
        bar.set_postfix_str(name)
        bar.update(1)
    bar.close()
    assert out.getvalue().splitlines()[0] == "videos: 0/3 videos (0%)"
    assert out.getvalue().splitlines()[-1].startswith("videos: 3/3 videos (100%), done in ")
    assert len(out.getvalue().splitlines()) == 2  # nothing between: less than LINE_SECONDS passed
    ticking = io.StringIO()
    frames = PlainProgress(total=100, desc="frames", unit="frame", leave=False, file=ticking, interval=0.0)
    frames.n = 50
    frames.refresh()
    frames.close()
    assert ticking.getvalue().splitlines()[0].startswith("frames: 50/100 frames (50%), after ")
    quiet = io.StringIO()
    passing = PlainProgress(total=10, desc="frames", leave=False, file=quiet)
    passing.update(10)
    passing.close()
    assert quiet.getvalue() == ""  # a quick passing step leaves no line
