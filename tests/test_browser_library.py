"""The library views in a real Chromium (Debian's, under Playwright) against the real server over
a real workspace (bikes, freecol and a generated 12-shot video, embedded by the default model):
the home page's label cards show the catalog's counts, latest version, AP and live version, long
names and descriptions are cut with an ellipsis (the whole text in the title) and at 1024×700
more than four cards are in view; the Videos page shows each video's clip count, duration, ingest
time and a strip of its shots (one plays in the player); the clip page annotates a label other
than the one last opened, and the server stores it.

Screenshots at 1440×900 and 1024×700 land in test-artifacts/library-*.png (gitignored): look at them.
"""

from __future__ import annotations

import re

import browser_helpers as helpers
import httpx
import pytest
from browser_helpers import SMALL, VIEWPORT, PageProblems, expect, new_page, sideways_scroll

from videoannotator.embed import get_embedder
from videoannotator.workspace import Workspace

pytestmark = pytest.mark.slow

TIMEOUT_MS = 20_000
LABEL = "ship"
SECOND = "sea"
LONG = "an-establishing-wide-shot-of-the-harbour-at-dawn-with-tall-ships-x"[:64]
LONG_TEXT = "A wide shot that shows where the scene takes place: " + "the harbour, the ships, the sea, the sky. " * 6
FILLERS = [f"label-{i:02d}" for i in range(8)]


@pytest.fixture(scope="module")
def ws(tmp_path_factory, bikes, freecol, cut_video):
    workspace = Workspace(tmp_path_factory.mktemp("library-home"), embedder=get_embedder("conse-effnet-minilm"))
    workspace.ingest([bikes, freecol, cut_video([15] * 12, seed=5).path], progress=False)
    workspace.create_label(LABEL, "A ship is in view.", ["ship"])
    ids = [c["clip_id"] for c in workspace.search("a ship on the sea", k=1000)]
    workspace.annotate(LABEL, ids[:6], "positive", annotator="setup")
    workspace.annotate(LABEL, ids[-7:], "negative", annotator="setup")
    workspace.build(LABEL)
    workspace.deploy(LABEL, deployer="setup")
    workspace.annotate(LABEL, ids[6:7], "positive", annotator="setup")
    workspace.build(LABEL)  # v2 is the latest, v1 stays live
    workspace.create_label(SECOND, "The sea is in view.", ["sea"])
    workspace.create_label(LONG, LONG_TEXT, ["harbour", "dawn", "ships", "wide shot", "establishing", "masts"])
    for name in FILLERS:
        workspace.create_label(name, f"Filler {name}.")
    return workspace


@pytest.fixture
def page(browser):
    with new_page(browser, timeout_ms=TIMEOUT_MS, init="localStorage.setItem('va.annotator', 'Tess');") as opened:
        yield opened


@pytest.fixture
def problems(page):
    return PageProblems(page)


def both_sizes(page, name, at_small=None):
    helpers.both_sizes(page, f"library-{name}", at_small)


def no_overflow(page):
    width = sideways_scroll(page)
    assert width <= 1, f"the page scrolls sideways by {width}px"


def test_label_cards_show_the_catalogs_figures(page, problems, base_url, ws):
    page.goto(base_url)
    cards = page.locator(".library-tile")
    expect(cards).to_have_count(len(ws.list_labels()))
    ship = page.locator(f".library-tile[data-label='{LABEL}']")
    counts = ws.label_summary(LABEL)["counts"]
    expect(ship.locator("[data-count=positive]")).to_have_text(str(counts["positive"]))
    expect(ship.locator("[data-count=negative]")).to_have_text(str(counts["negative"]))
    latest = ws.models.list(ws.label(LABEL)["id"])[-1]
    assert latest["version"] == 2 and latest["metrics"]["cv"]["ap"] is not None
    expect(ship.locator(".tile-version")).to_have_text("v2")
    expect(ship.locator(".tile-ap")).to_have_text(f"{latest['metrics']['cv']['ap']:.2f}")
    expect(ship.locator(".tile-live")).to_have_text(f"live v{ws.versions(LABEL)['live']}")
    second = page.locator(f".library-tile[data-label='{SECOND}']")
    expect(second.locator(".tile-model")).to_have_text("no model yet")
    expect(second.locator(".tile-live")).to_have_count(0)
    expect(second.locator("[data-count=positive]")).to_have_text("0")

    # long text: one line for the name, two for the description, cut with an ellipsis, whole in the title
    long_card = page.locator(f".library-tile[data-label='{LONG}']")
    for part, text in ((".tile-name", LONG), (".tile-description", LONG_TEXT)):
        el = long_card.locator(part)
        expect(el).to_have_attribute("title", text)
        cut = el.evaluate("e => e.scrollWidth > e.clientWidth + 1 || e.scrollHeight > e.clientHeight + 1")
        assert cut, f"{part} is not truncated"
        assert el.evaluate("e => getComputedStyle(e).textOverflow") == "ellipsis" or part == ".tile-description"

    def more_cards_at_1024(page):
        seen = page.evaluate(
            "() => [...document.querySelectorAll('.library-tile')].filter(c => {"
            " const r = c.getBoundingClientRect(); return r.top >= 0 && r.bottom <= innerHeight; }).length"
        )
        assert seen >= 8, f"only {seen} label cards in view at 1024×700"
        no_overflow(page)

    info = ws.info()  # the header's figures, filled once the page is on screen (live.js keeps them)
    expect(page.locator("#workspace-info")).to_have_text(f"{info['clips']} clips · {info['videos']} videos")
    both_sizes(page, "home", more_cards_at_1024)
    no_overflow(page)
    assert problems.unexpected() == []


def test_videos_page_rows_have_strips_and_the_catalogs_figures(page, problems, base_url, ws):
    page.goto(f"{base_url}#/videos")
    videos = ws.videos()
    rows = page.locator(".videos-table tbody tr")
    expect(rows).to_have_count(len(videos))
    for video in videos:
        row = page.locator(f".videos-table tr[data-video='{video['id']}']")
        expect(row.locator(".clips-cell")).to_have_text(f"{video['clips']} clips")
        expect(row.locator("time")).to_have_attribute("datetime", video["ingested_at"])
        strip = row.locator(".library-strip")
        expect(strip).to_have_attribute("data-loaded", "yes")
        shots = strip.locator(".library-shot")
        n = shots.count()
        assert 1 <= n <= video["clips"]
        assert shots.first.get_attribute("data-clip") == str(ws.timeline(video["id"])["clips"][0]["clip_id"])
    page.wait_for_function(
        "() => [...document.querySelectorAll('.library-shot img')].every(i => i.complete && i.naturalWidth > 0)"
    )
    both_sizes(page, "videos", no_overflow)
    no_overflow(page)

    # A strip first drawn narrow asks for more shots once the window is wider (never past the clip count).
    page.set_viewport_size(SMALL)
    page.reload()
    freecol = max(videos, key=lambda v: v["clips"])
    strip = page.locator(f".videos-table tr[data-video='{freecol['id']}'] .library-strip")
    expect(strip).to_have_attribute("data-loaded", "yes")
    narrow = strip.locator(".library-shot").count()
    assert narrow < freecol["clips"], "the test needs a video with more clips than fit at 1024 px"
    page.set_viewport_size({"width": 1920, "height": 900})
    page.wait_for_function(
        "([sel, n]) => { const s = document.querySelector(sel);"
        " return s.dataset.loaded === 'yes' && s.querySelectorAll('.library-shot').length > n; }",
        arg=[f".videos-table tr[data-video='{freecol['id']}'] .library-strip", narrow],
    )
    assert strip.locator(".library-shot").count() <= freecol["clips"]
    page.set_viewport_size(VIEWPORT)

    # a shot plays in the player; the video's link opens its timeline page
    first = page.locator(".library-shot").first
    clip_id = first.get_attribute("data-clip")
    first.click()
    expect(page.locator("#player-dialog")).to_have_attribute("open", "")
    expect(page.locator(f"#player-dialog .clip-detail[data-clip='{clip_id}']")).to_be_visible()
    page.keyboard.press("Escape")
    video = videos[0]
    page.locator(f".videos-table tr[data-video='{video['id']}'] a").click()
    expect(page).to_have_url(re.compile(rf"#/videos/{video['id']}$"))
    expect(page.locator(".shot-strip .shot")).to_have_count(video["clips"])
    assert problems.unexpected() == []


def test_clip_page_annotates_a_second_label(page, problems, base_url, ws):
    clip_id = ws.timeline(ws.videos()[1]["id"])["clips"][2]["clip_id"]
    page.goto(f"{base_url}#/labels/{LABEL}")  # the label last opened is the first one
    expect(page.locator(".grid, .label-page").first).to_be_visible()
    page.goto(f"{base_url}#/clips/{clip_id}")
    row = page.locator(f".clip-page tr[data-label='{SECOND}']")
    expect(row).to_be_visible()
    row.locator("button[data-value=positive]").click()
    expect(page.locator(".toast").last).to_contain_text(f"positive for {SECOND}")

    def stored():
        labels = httpx.get(f"{base_url}api/clips/{clip_id}").json()["labels"]
        return next(item["annotation"] for item in labels if item["label"] == SECOND)

    assert stored() == "positive"
    events = ws.export_annotations(SECOND, events=True)
    assert [(e["clip_id"], e["value"], e["annotator"]) for e in events] == [(clip_id, "positive", "Tess")]
    both_sizes(page, "clip", no_overflow)
    assert problems.unexpected() == []
