"""Where the next annotations should come from (learn/next_feed.py): the rule, the counts it
reads from the catalog, the label summary the page shows, and the harness running the same rule."""

import numpy as np
import pytest

from videoannotator.bench.synthetic import commit_random_video
from videoannotator.errors import InvalidInput
from videoannotator.eval import bandits, strategies
from videoannotator.learn.next_feed import MIN_POSITIVES, RARE_SHARE, best_hunt_source, hunting, suggest
from videoannotator.workspace import Workspace


def test_no_model_yet_means_search_for_the_missing_side():
    assert suggest(0, 0).feed == "search"
    assert "one positive" in suggest(0, 5).reason
    assert "one negative" in suggest(4, 0).reason
    assert suggest(0, 5).hunting


def test_hunt_while_positives_are_few_and_rare_then_borderline():
    few = suggest(1, 30)
    assert few.hunting and few.feed == "top_positive"  # the product hunts in the top-positive feed
    assert "only 1 positive in 31 annotations so far" in few.reason  # singular
    assert f"until there are {MIN_POSITIVES}" in few.reason
    enough = suggest(MIN_POSITIVES, 30)
    assert enough == suggest(MIN_POSITIVES, 30) and enough.feed == "borderline" and not enough.hunting
    assert f"{MIN_POSITIVES} positives and 30 negatives" in enough.reason
    assert suggest(3, 1, min_positives=3).reason.startswith("3 positives and 1 negative:")
    # Few positives that are not rare (a third of what was annotated): nothing to hunt for.
    assert not hunting(4, 8) and suggest(4, 8).feed == "borderline"
    assert hunting(2, 10) and 2 / 12 < RARE_SHARE <= 4 / 12


def test_the_hunt_follows_the_source_that_finds_positives():
    # The harness can hunt in search and the top-positive feed (hunt:N); the product in the
    # top-positive feed alone (decision 4).
    assert suggest(2, 20, found={"search": (9, 10)}).feed == "top_positive"
    assert best_hunt_source(None) == "search"  # nothing known: the label's own words first
    assert best_hunt_source({"search": (0, 20), "top_positive": (3, 10)}) == "top_positive"
    assert best_hunt_source({"search": (5, 10), "top_positive": (1, 10)}) == "search"
    both = ("search", "top_positive")
    assert suggest(2, 20, found={"search": (0, 20), "top_positive": (2, 5)}, sources=both).feed == "top_positive"
    assert suggest(2, 20, found={"search": (5, 10), "top_positive": (0, 5)}, sources=both).feed == "search"
    # Other sources (the borderline feed, the CLI) do not count for the hunt.
    assert best_hunt_source({"borderline": (9, 10)}) == "search"


@pytest.fixture
def ws(tmp_path):
    ws = Workspace(tmp_path / "home", embedder="conse-effnet-minilm")
    commit_random_video(ws, np.random.default_rng(5), "corpus", 200, 16)
    ws.create_label("red")
    return ws


def test_catalog_counts_positives_by_the_source_of_each_current_vote(ws):
    ws.annotate("red", [1, 2, 3], "positive", "ann", source="search")
    ws.annotate("red", [4, 5], "negative", "ann", source="search")
    ws.annotate("red", [6], "positive", "ann", source="top_positive")
    ws.annotate("red", [7, 8], "negative", "ann", source="top_positive")
    ws.annotate("red", [3], "negative", "ann", source="review")  # a changed mind counts where it was made
    ws.annotate("red", [9], "skip", "ann", source="top_positive")  # skips find nothing
    ws.annotate("red", [6], "positive", "bob", source="top_positive")  # a second annotator's vote
    found = ws.catalog.annotations.found_by_source(ws.label("red")["id"])
    assert found == {"search": (2, 4), "top_positive": (2, 4), "review": (0, 1)}


def test_label_summary_carries_the_suggestion(ws):
    assert ws.label_summary("red")["next"]["feed"] == "search"
    ws.annotate("red", [1], "positive", "ann", source="search")
    ws.annotate("red", list(range(10, 40)), "negative", "ann", source="search")
    ws.annotate("red", [2, 3], "positive", "ann", source="top_positive")
    ws.annotate("red", [41], "negative", "ann", source="top_positive")
    nxt = ws.label_summary("red")["next"]
    assert nxt == {"feed": "top_positive", "reason": nxt["reason"], "hunting": True}
    assert "only 3 positives in 34 annotations so far" in nxt["reason"]
    ws.annotate("red", list(range(50, 50 + MIN_POSITIVES)), "positive", "ann", source="borderline")
    assert ws.next_feed("red")["feed"] == "borderline"


def test_api_label_has_next(ws):
    from fastapi.testclient import TestClient

    from videoannotator.server import create_app

    with TestClient(create_app(ws), base_url="http://127.0.0.1") as client:
        body = client.get("/api/labels/red").json()
    assert body["next"]["feed"] == "search" and body["next"]["hunting"] is True


# -- the harness runs the same rule ----------------------------------------------------------
def _pool(n=1500, rate=0.03, seed=0):
    """Rare positives (3 %) a linear model can find; a text vector that finds them poorly."""
    rng = np.random.default_rng(seed)
    y = np.zeros(n, dtype=np.int64)
    y[rng.choice(n, int(n * rate), replace=False)] = 1
    X = rng.standard_normal((n, 12)).astype(np.float32)
    X[:, 0] += 3.0 * y
    text = np.zeros(12, dtype=np.float32)
    text[0], text[1] = 0.3, 1.0  # mostly noise: search finds a few positives, then none
    X /= np.linalg.norm(X, axis=1, keepdims=True)
    return strategies.Pool(X, X, text / np.linalg.norm(text), lambda p: y[p]), y


def test_hunt_policy_hunts_then_takes_borderline():
    pool, y = _pool()
    sel = strategies.va_selection(pool, (60, 200), seed=0, mix="hunt:10:0.25")
    clips = sel.trace["feed_clips"]
    assert set(clips) <= set(bandits.SOURCES) and clips.get("borderline", 0) > 0
    assert clips.get("top_positive", 0) + clips.get("search", 0) > 0  # it hunted first
    order = sel.sets[200]
    assert len(set(order.tolist())) == 200
    # Once the hunt has 10 positives it stops: every batch after that is borderline.
    assert y[order].sum() >= 10


def test_hunt_finds_more_positives_than_borderline_alone_when_they_are_rare():
    found = {}
    for mix in (strategies.DEFAULT_MIX, "only:borderline"):
        got = []
        for seed in range(3):
            pool, y = _pool(seed=seed)
            got.append(int(y[strategies.va_selection(pool, (60,), seed=seed, mix=mix).sets[60]].sum()))
        found[mix] = sum(got)
    assert found[strategies.DEFAULT_MIX] > found["only:borderline"]


@pytest.mark.parametrize("bad", ["hunt:x", "hunt:0", "hunt-random:5"])
def test_bad_hunt_mixes_say_what_to_write(bad):
    with pytest.raises(InvalidInput, match="hunt"):
        bandits.make_policy(bad)
