"""Shared fixtures: real sample media, tiny generated videos with known cuts, bad inputs.

Fixtures:
  sample_media   session  directory holding the six real videos of docs/models-and-media.md;
                          fetched with scripts/fetch-sample-media when missing, and the
                          test fails (never skips) when they cannot be had
  freecol, bikes session  paths of freecol-opening.ogg (77 s, ~21 shots) and bikes.mp4 (10 s)
  bad_media      session  {"garbage", "truncated", "audio_only", "empty", "text"} -> path
  cut_video      session  factory: cut_video([40, 30, 50], similar=False, fps=25,
                          size=(160, 120), codec=None, suffix=".mp4", seed=0, stamp=False) -> CutVideo
                          (path, cuts, fps, frames, duration); cached, shared: copy before changing
  tmp_home       function a fresh empty workspace directory
  fetch_script   session  scripts/fetch-sample-media loaded as a module

Any test that logs a record at ERROR or above fails, unless marked
``@pytest.mark.allow_error_logs`` (an error nobody expected is a bug, even if caught).

The catalog backend: SQLite in each workspace, or, with ``VA_CATALOG_URL=postgresql://...``
(``make test``'s second pass, against scripts/start-postgres), PostgreSQL, each workspace in
its own schema (the URL's default ``schema=va_{workspace}``). The session fails at once when
that server cannot be reached. Tests about SQLite itself (its file, its pragmas, its disk) are
``SQLITE_ONLY`` below, files of computation or page tests ``ONE_PASS``: both deselected (and
counted in the header) on the PostgreSQL pass.
"""

from __future__ import annotations

import importlib.machinery
import importlib.util
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import NamedTuple

import pytest
from videos import (
    make_audio_only,
    make_cut_video,
    make_empty_file,
    make_garbage_file,
    make_similar_cut_video,
    make_text_file,
    make_truncated_copy,
)

ROOT = Path(__file__).resolve().parents[1]
FETCH_SCRIPT = ROOT / "scripts" / "fetch-sample-media"


def pytest_configure(config):
    config.addinivalue_line(
        "markers", "allow_error_logs: the test expects ERROR log records; without it any ERROR record fails the test"
    )
    config.addinivalue_line("markers", "sqlite_only: about SQLite itself; left out when VA_CATALOG_URL is set")


# --- catalog backend ---------------------------------------------------------------------

CATALOG_URL = os.environ.get("VA_CATALOG_URL", "").strip()

# Test ids (or id prefixes) about SQLite itself, with why; left out of the PostgreSQL pass.
SQLITE_ONLY = {
    # the catalog file shares the small disk the test fills; a PostgreSQL catalog is not on it
    "test_api.py::test_a_really_full_disk_is_507_and_keeps_what_was_stored": "SQLite file on the full disk",
    # the last part fills the disk the SQLite file is on and expects an annotation to be refused
    "test_ingest_zoo.py::test_full_disk_is_one_line_naming_it_and_the_workspace_is_untouched": "SQLite file on the full disk",
}


# Test files run on SQLite only: they test computation, not storage, so a second pass on
# PostgreSQL would repeat the same arithmetic (and double the suite's time). The Workspace calls
# they make (ingest, annotate, build, feeds) run on PostgreSQL in the API, CLI, loop, production,
# team and race tests, and test_catalog_postgres.py shows the same versions and feeds on both.
ONE_PASS = {
    **dict.fromkeys(
        (
            "test_calibrate.py",
            "test_cuts.py",
            "test_decision.py",
            "test_docs.py",
            "test_embed.py",
            "test_fetch_and_fixtures.py",
            "test_learn.py",
            "test_preview.py",
            "test_score_parts.py",
            "test_search.py",
            "test_segment.py",
        ),
        "opens no catalog",
    ),
    **dict.fromkeys(("test_eval.py", "test_suites.py", "test_scale.py"), "the evaluation harness and scale arithmetic"),
    # The page's own behaviour; it reaches the catalog only through the API, which runs on both.
    # test_browser_team.py stays: team mode is what PostgreSQL is for.
    **dict.fromkeys(
        (
            "test_browser.py",
            "test_browser_library.py",
            "test_browser_live.py",
            "test_browser_player.py",
            "test_browser_production.py",
            "test_browser_tour.py",
        ),
        "the page (its API runs on both)",
    ),
}


def _sqlite_only_reason(item) -> str | None:
    if item.get_closest_marker("sqlite_only"):
        return "marked sqlite_only"
    name = item.nodeid.split("/")[-1]
    if name.split("::")[0] in ONE_PASS:
        return ONE_PASS[name.split("::")[0]]
    return next((why for test, why in SQLITE_ONLY.items() if name == test or name.startswith(test + "[")), None)


def pytest_collection_modifyitems(config, items):
    if not CATALOG_URL:
        return
    left_out = [item for item in items if _sqlite_only_reason(item)]
    if left_out:
        config.hook.pytest_deselected(items=left_out)
        items[:] = [item for item in items if item not in left_out]


def pytest_report_header(config):
    if not CATALOG_URL:
        return "catalog: SQLite (VA_CATALOG_URL unset)"
    from videoannotator.catalog.postgres.url import redact

    return (
        f"catalog: PostgreSQL {redact(CATALOG_URL)}, one schema per workspace; left out: the SQLite-only tests and "
        f"{len(ONE_PASS)} files of computation or page tests run once, on SQLite (conftest.py ONE_PASS)"
    )


@pytest.fixture(scope="session")
def pg_url():
    """A PostgreSQL server's URL: $VA_CATALOG_URL's on the PostgreSQL pass; otherwise one started
    here with scripts/start-postgres (its own data folder and port) and stopped at the end. No
    server, no pass: the test fails (scripts/install-system-deps installs PostgreSQL)."""
    if CATALOG_URL.startswith("postgres"):
        yield CATALOG_URL
        return
    # the data folder directly under /tmp: as root the server runs as `postgres`, and pytest's
    # temporary folders are private to us
    import socket

    with socket.socket() as s:  # a free port: another session may run its own server meanwhile
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**os.environ, "VA_PG_DATA": f"/tmp/va-postgres-tests-{os.getpid()}", "VA_PG_PORT": str(port)}
    started = subprocess.run(
        ["bash", str(ROOT / "scripts" / "start-postgres"), "start"],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert started.returncode == 0, f"scripts/start-postgres failed: {started.stderr}"
    try:
        yield started.stdout.strip()
    finally:
        subprocess.run(
            ["bash", str(ROOT / "scripts" / "start-postgres"), "stop"], capture_output=True, env=env, check=False
        )


@pytest.fixture(scope="session", autouse=True)
def _catalog_server():
    """On the PostgreSQL pass: the server answers, or the whole session stops with why."""
    if not CATALOG_URL:
        return
    try:
        import psycopg

        psycopg.connect(CATALOG_URL.split("?")[0], connect_timeout=10).close()
    except Exception as exc:  # noqa: BLE001 - whatever it is, the session cannot run on this backend
        pytest.exit(f"VA_CATALOG_URL is set but its server cannot be used: {exc}", returncode=3)


# --- fail on unexpected ERROR logs ------------------------------------------------------


class _ErrorRecords(logging.Handler):
    def __init__(self):
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record):
        self.records.append(record)


def _fail_on_error_logs(item, phase):
    if item.get_closest_marker("allow_error_logs"):
        return (yield)
    handler = _ErrorRecords()
    root = logging.getLogger()
    root.addHandler(handler)
    try:
        result = yield
    finally:
        root.removeHandler(handler)
    if handler.records:
        lines = "\n".join(f"  {r.name} {r.levelname}: {r.getMessage()}" for r in handler.records)
        pytest.fail(
            f"unexpected ERROR log records during {phase} (mark the test "
            f"@pytest.mark.allow_error_logs if they are expected):\n{lines}",
            pytrace=False,
        )
    return result


@pytest.hookimpl(wrapper=True)
def pytest_runtest_setup(item):
    return (yield from _fail_on_error_logs(item, "setup"))


@pytest.hookimpl(wrapper=True)
def pytest_runtest_call(item):
    return (yield from _fail_on_error_logs(item, "the test"))


# --- real media ---------------------------------------------------------------------------


def load_fetch_script():
    """scripts/fetch-sample-media as a module (its name has no .py, so load it by path)."""
    loader = importlib.machinery.SourceFileLoader("fetch_sample_media", str(FETCH_SCRIPT))
    spec = importlib.util.spec_from_loader(loader.name, loader)
    module = importlib.util.module_from_spec(spec)
    sys.modules[loader.name] = module  # dataclasses look their module up while it loads
    loader.exec_module(module)
    return module


@pytest.fixture(scope="session")
def fetch_script():
    return load_fetch_script()


def _present(path: Path) -> bool:
    return path.is_file() and path.stat().st_size > 0


@pytest.fixture(scope="session")
def sample_media(fetch_script) -> Path:
    dest = fetch_script.default_dest()
    missing = [name for name in fetch_script.SOURCE_NAMES if not _present(dest / name)]
    if missing:
        result = subprocess.run(
            [sys.executable, str(FETCH_SCRIPT), "--dest", str(dest), "--only", *missing],
            capture_output=True,
            text=True,
            timeout=1800,
            check=False,
        )
        still = [name for name in missing if not _present(dest / name)]
        if still:
            pytest.fail(
                f"sample media missing from {dest}: {', '.join(still)}. scripts/fetch-sample-media "
                f"said:\n{result.stdout}{result.stderr}\nRun `make media` on a machine that reaches the "
                "Debian archive and PyPI.",
                pytrace=False,
            )
    return dest


@pytest.fixture(scope="session")
def freecol(sample_media) -> Path:
    return sample_media / "freecol-opening.ogg"


@pytest.fixture(scope="session")
def bikes(sample_media) -> Path:
    return sample_media / "bikes.mp4"


@pytest.fixture(scope="session")
def bad_media(tmp_path_factory, bikes) -> dict[str, Path]:
    directory = tmp_path_factory.mktemp("bad-media")
    return {
        "garbage": make_garbage_file(directory / "garbage.mp4"),
        "truncated": make_truncated_copy(bikes, directory / "truncated.mp4", fraction=0.3),
        "audio_only": make_audio_only(directory / "tone.m4a"),
        "empty": make_empty_file(directory / "empty.mp4"),
        "text": make_text_file(directory / "notes.mp4"),
    }


# --- generated videos -------------------------------------------------------------------


class CutVideo(NamedTuple):
    path: Path
    cuts: list[int]  # frame indices where a new shot starts
    fps: int
    frames: int

    @property
    def duration(self) -> float:
        return self.frames / self.fps


@pytest.fixture(scope="session")
def cut_video(tmp_path_factory):
    """Factory for small videos with known cuts, made once per distinct argument set."""
    directory = tmp_path_factory.mktemp("cut-videos")
    made: dict[tuple, CutVideo] = {}

    def make(
        segments=(40, 30, 50), *, similar=False, fps=25, size=(160, 120), codec=None, suffix=".mp4", seed=0, stamp=False
    ) -> CutVideo:
        key = (tuple(segments), similar, fps, tuple(size), codec, suffix, seed, stamp)
        if key not in made:
            path = directory / f"{'similar' if similar else 'cuts'}-{len(made)}{suffix}"
            if similar:
                if stamp:
                    raise ValueError("stamp=True is for make_cut_video only: a barcode would hide the faint cuts")
                cuts = make_similar_cut_video(path, segments, fps=fps, size=size, codec=codec, seed=seed)
            else:
                cuts = make_cut_video(path, segments, fps=fps, size=size, codec=codec, seed=seed, stamp=stamp)
            made[key] = CutVideo(path, cuts, fps, int(sum(segments)))
        return made[key]

    return make


@pytest.fixture(scope="module")
def base_url(ws):
    """The real app over the test module's ``ws`` fixture, on a free loopback port."""
    from browser_helpers import running_server

    from videoannotator.server import create_app

    with running_server(create_app(ws)) as url:
        yield url


@pytest.fixture(scope="module")
def browser():
    """Debian's Chromium under Playwright, one per test module (tests/browser_helpers.py)."""
    from browser_helpers import chromium

    with chromium() as launched:
        yield launched


@pytest.fixture
def tmp_home(tmp_path) -> Path:
    home = tmp_path / "home"
    home.mkdir()
    return home


@pytest.fixture(scope="session")
def tiny_clip_dir(tmp_path_factory):
    """A randomly initialised, tiny CLIP saved with its tokenizer and image processor, no network."""
    import json

    import torch
    import transformers

    folder = tmp_path_factory.mktemp("tiny-clip")
    # A byte-level BPE vocabulary of single printable characters and no merges: enough to tokenize.
    chars = [chr(c) for c in range(33, 127)]
    vocab = {t: i for i, t in enumerate(chars + [c + "</w>" for c in chars] + ["<|startoftext|>", "<|endoftext|>"])}
    (folder / "vocab.json").write_text(json.dumps(vocab))
    (folder / "merges.txt").write_text("#version: 0.2\n")
    tokenizer = transformers.CLIPTokenizer(str(folder / "vocab.json"), str(folder / "merges.txt"))
    special = {
        "bos_token_id": vocab["<|startoftext|>"],
        "eos_token_id": vocab["<|endoftext|>"],
        "pad_token_id": vocab["<|endoftext|>"],
    }
    config = transformers.CLIPConfig(
        text_config={
            "vocab_size": len(vocab),
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "max_position_embeddings": 32,
            **special,
        },
        vision_config={
            "hidden_size": 32,
            "intermediate_size": 64,
            "num_hidden_layers": 2,
            "num_attention_heads": 2,
            "image_size": 32,
            "patch_size": 8,
        },
        projection_dim=24,
    )
    torch.manual_seed(0)
    transformers.CLIPModel(config).save_pretrained(folder)
    image_processor = transformers.CLIPImageProcessor(size={"shortest_edge": 32}, crop_size={"height": 32, "width": 32})
    transformers.CLIPProcessor(image_processor=image_processor, tokenizer=tokenizer).save_pretrained(folder)
    return folder
