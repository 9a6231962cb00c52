"""A text query loads only the text tower (issue 14): the numpy MiniLM gives the default
embedder's query vectors, a cold `va search` imports neither torch nor the image network,
and the server warms the text model in the background and says where it is."""

from __future__ import annotations

import json
import subprocess
import sys
import threading
import time

import numpy as np
import pytest
from fastapi.testclient import TestClient

from videoannotator import embed
from videoannotator.embed import get_embedder, get_text_encoder
from videoannotator.embed.minilm import MAX_TOKENS, MiniLMTextEncoder, erf
from videoannotator.server import create_app
from videoannotator.workspace import Workspace

BASE_URL = "http://127.0.0.1"
TEXTS = [
    "a ship at sea",
    "Establishing shot of a city at NIGHT, rain on the windows!",
    "x",
    "café über naïve 東京 🚀",  # accents kept (strip_accents is None), CJK split, an unknown token
    "ships at sea. " * 120,  # past MAX_TOKENS: cut as sentence-transformers cuts
    "   spaces   around   ",
]


@pytest.fixture(scope="module")
def full_embedder():
    return get_embedder("conse-effnet-minilm")


@pytest.fixture(scope="module")
def searchable(tmp_path_factory, cut_video, full_embedder):
    """A workspace with real clips, ingested with the full default embedder."""
    home = tmp_path_factory.mktemp("cold-search") / "home"
    ws = Workspace(home, embedder=full_embedder)
    assert ws.ingest([cut_video([15] * 6, seed=3).path], progress=False).ok
    return ws


def test_erf_matches_the_c_library():
    import math

    x = np.linspace(-9, 9, 200_001)
    assert np.abs(erf(x) - np.array([math.erf(v) for v in x])).max() < 1e-7


@pytest.mark.slow
def test_the_text_tower_gives_the_full_embedders_vectors(full_embedder):
    encoder = MiniLMTextEncoder()
    tokens = encoder._tokenizer.encode(TEXTS[4])
    assert len(tokens.ids) == MAX_TOKENS  # the long text really is cut
    ours, theirs = encoder.encode_texts(TEXTS), full_embedder.encode_texts(TEXTS)
    assert ours.dtype == np.float32 and ours.shape == (len(TEXTS), 384)
    np.testing.assert_allclose(np.linalg.norm(ours, axis=1), 1.0, atol=1e-6)
    assert np.abs(ours - theirs).max() < 1e-6
    assert encoder.encode_texts([]).shape == (0, 384)
    assert np.array_equal(encoder.encode_texts("a ship at sea"), ours[:1])  # one string is one text


def test_the_default_embedders_text_encoder_is_the_text_tower_alone(tmp_home):
    encoder = get_text_encoder()
    assert isinstance(encoder, MiniLMTextEncoder) and encoder.name == "conse-effnet-minilm"
    assert get_text_encoder("conse-effnet-minilm") is encoder  # one per process
    ws = Workspace(tmp_home)
    assert ws.text_model_state == "cold"
    assert ws.text_encoder is encoder and ws.text_model_state == "ready"


def test_other_embedders_encode_queries_with_themselves(tmp_home, tiny_clip_dir):
    ws = Workspace(tmp_home, embedder=f"hf:{tiny_clip_dir}")
    assert ws.text_encoder is get_embedder(f"hf:{tiny_clip_dir}")
    assert ws.text_encoder.encode_texts(["a red square"]).shape == (1, 24)


def _cold_search(home, *args):
    """`va search` in a fresh interpreter: (its JSON output, the modules it imported)."""
    done = subprocess.run(
        [sys.executable, "-X", "importtime", "-c", "from videoannotator.cli import main; main()"]
        + ["--home", str(home), "search", *args, "--json"],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    imported = {line.split("|")[-1].strip() for line in done.stderr.splitlines() if line.startswith("import time:")}
    return json.loads(done.stdout), imported


@pytest.mark.slow
def test_a_cold_va_search_loads_neither_torch_nor_the_image_network(searchable):
    clips, imported = _cold_search(searchable.home, "a red and green pattern", "-k", "5")
    assert "videoannotator.embed.minilm" in imported  # the probe sees imports at all
    assert not {"torch", "videoannotator.embed.conse", "videoannotator.embed.efficientnet_lite"} & imported
    assert not {"sentence_transformers", "transformers"} & imported
    expected = searchable.search("a red and green pattern", k=5)  # through the full embedder
    assert [c["clip_id"] for c in clips] == [c["clip_id"] for c in expected]
    np.testing.assert_allclose([c["score"] for c in clips], [c["score"] for c in expected], atol=1e-5)


def test_info_reports_the_text_model_and_the_warm_up_ends_ready(tmp_home):
    with TestClient(create_app(Workspace(tmp_home)), base_url=BASE_URL) as client:
        assert client.get("/api/info").json()["text_model"] == "cold"  # no warm-up unless asked
    ws = Workspace(tmp_home)
    with TestClient(create_app(ws, warm=True), base_url=BASE_URL) as client:
        states = [client.get("/api/info").json()["text_model"]]
        deadline = time.monotonic() + 60
        while states[-1] != "ready" and time.monotonic() < deadline:
            time.sleep(0.02)
            states.append(client.get("/api/info").json()["text_model"])
    assert states[-1] == "ready" and set(states) <= {"loading", "ready"}, states


@pytest.mark.slow
def test_a_search_during_the_load_waits_for_that_load(searchable, monkeypatch):
    """The warm-up's load is held until a search has arrived: the search waits, then answers
    with the text tower, and the model was loaded once."""
    release, loads = threading.Event(), []
    real = embed.get_text_encoder

    def slow_load(*args, **kwargs):
        loads.append(args)
        assert release.wait(30)
        return real(*args, **kwargs)

    monkeypatch.setattr(embed, "get_text_encoder", slow_load)
    ws = Workspace(searchable.home)  # a fresh process's view: nothing loaded
    expected = searchable.search("a red and green pattern", k=5)
    with TestClient(create_app(ws, warm=True), base_url=BASE_URL) as client:
        deadline = time.monotonic() + 10
        while ws.text_model_state != "loading" and time.monotonic() < deadline:
            time.sleep(0.01)
        assert client.get("/api/info").json()["text_model"] == "loading"
        answer: dict = {}
        searching = threading.Thread(
            target=lambda: answer.update(
                client.get("/api/search", params={"q": "a red and green pattern", "k": 5}).json()
            )
        )
        searching.start()
        searching.join(0.5)
        assert searching.is_alive() and not answer  # waiting for the model
        release.set()
        searching.join(60)
        assert client.get("/api/info").json()["text_model"] == "ready"
    assert len(loads) == 1
    assert [c["clip_id"] for c in answer["clips"]] == [c["clip_id"] for c in expected]
    np.testing.assert_allclose([c["score"] for c in answer["clips"]], [c["score"] for c in expected], atol=1e-5)


def _va(*args):
    return subprocess.run(
        [sys.executable, "-c", "from videoannotator.cli import main; main()", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_bench_search_cold_says_what_is_wrong_in_one_line(tmp_path):
    done = _va("--home", str(tmp_path / "none"), "bench", "search-cold", "--runs", "1")
    assert done.returncode == 2 and done.stderr.startswith("error: no workspace at"), done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
    Workspace(tmp_path / "empty")
    done = _va("--home", str(tmp_path / "empty"), "bench", "search-cold", "--tree", "old")
    assert done.returncode == 2 and "--tree 'old': give NAME=SRC" in done.stderr, done.stderr


@pytest.mark.slow
def test_bench_search_cold_times_fresh_processes(searchable):
    from click.testing import CliRunner

    from videoannotator.cli import cli

    result = CliRunner().invoke(cli, ["--home", str(searchable.home), "bench", "search-cold", "--runs", "1"])
    assert result.exit_code == 0, result.output
    figures = json.loads(result.output)["trees"]["this"]
    assert figures["src"] == "installed" and len(figures["search"]["runs_s"]) == 1
    assert 0 < figures["info"]["median_s"] and 0 < figures["search"]["median_s"] < 60
    assert figures["search"]["peak_mib"] >= figures["info"]["peak_mib"] > 10
