"""A page that stays true (issue 14), in a real Chromium against the real server over a real
workspace: the header and the "new clips since vN" line follow a real ingest made while the
page is open (no reload); the one-line model summary sits above the feed tabs; helper text and
the Build button follow the counts; `/` goes back to the last search; a search sent while the
text model is cold says so. Screenshots at 1440×900 and 1024×700 land in test-artifacts/live-*.
"""

from __future__ import annotations

import re

import browser_helpers as helpers
import pytest
from browser_helpers import SMALL, VIEWPORT, PageProblems, expect, new_page, running_server, shot

from videoannotator.embed import get_embedder
from videoannotator.server import create_app
from videoannotator.workspace import Workspace

pytestmark = pytest.mark.slow

TIMEOUT_MS = 20_000
POLL_WAIT_MS = 15_000  # live.js asks /api/info every 5 s
TEXT_MODEL_NOTE = "Loading the text model (first search only)…"
# "1 clips", "1 annotations", … anywhere on the page: a plural gone wrong
ONE_PLURAL = re.compile(r"(?<![\d.,])1 (clips|annotations|positives|negatives|videos)\b")


@pytest.fixture(scope="module")
def served(tmp_path_factory, cut_video):
    ws = Workspace(tmp_path_factory.mktemp("live-home"), embedder=get_embedder("conse-effnet-minilm"))
    assert ws.ingest([cut_video([15] * 16, seed=5).path], progress=False).ok
    with running_server(create_app(ws)) as url:
        yield ws, url


@pytest.fixture
def page(browser):
    with new_page(browser, timeout_ms=TIMEOUT_MS) as opened:
        opened.problems = PageProblems(opened)
        yield opened


def both_sizes(page, name):
    """Screenshots at 1440×900 and 1024×700 (test-artifacts/live-NAME-1440.png, -1024.png)."""
    helpers.both_sizes(page, f"live-{name}")


def no_bad_plural(page):
    text = page.locator("body").inner_text()
    assert not ONE_PLURAL.search(text), ONE_PLURAL.search(text)


def test_counts_follow_an_ingest_and_the_new_clips_line_says_what_changed(served, page, cut_video):
    ws, url = served
    ws.create_label("live-ships")
    ws.annotate("live-ships", [0, 1, 2], "positive", "setup")
    ws.annotate("live-ships", [3, 4, 5, 6], "negative", "setup")
    ws.build("live-ships")
    before = ws.info()["clips"]
    page.goto(f"{url}#/labels/live-ships/learn")

    header = page.locator("#workspace-info")
    expect(header).to_have_text(f"{before} clips · 1 video")
    summary = page.locator(".model-summary")
    expect(summary).to_contain_text("v1 · 7 annotations (3 ✓ 4 ✕) · AP ")
    expect(summary).to_contain_text("threshold 0.")
    expect(summary).to_contain_text("built just now")
    box = summary.bounding_box()
    assert box and box["y"] + box["height"] <= VIEWPORT["height"], box  # above the fold at 1440×900
    tabs = page.locator(".step-panel[data-step=learn] .tabs").bounding_box()
    assert tabs and box["y"] < tabs["y"], (box, tabs)  # above the feed tabs
    new_clips = page.locator(".new-clips")
    expect(new_clips).to_be_hidden()
    expect(page.locator(".model-panel .scored")).to_have_text(re.compile(rf"· {before} clips scored$"))

    # a real ingest while the page is open: the page follows without a reload
    assert ws.ingest([cut_video([15] * 7, seed=11).path], progress=False).ok
    added = ws.info()["clips"] - before
    assert added > 1
    expect(header).to_have_text(f"{before + added} clips · 2 videos", timeout=POLL_WAIT_MS)
    expect(new_clips).to_be_visible()
    expect(new_clips).to_contain_text(f"{added} new clips since v1 — not in v1’s histogram or AP")
    expect(new_clips).to_contain_text("so they may top a feed")
    expect(page.locator(".model-panel .scored")).to_contain_text(f"{before} clips scored ({added} new clips since)")
    no_bad_plural(page)
    both_sizes(page, "new-clips")

    # its Build makes v2 over every clip: the line goes, the summary says v2
    new_clips.get_by_role("button", name="Build to score them").click()
    expect(summary).to_contain_text("v2 · 7 annotations", timeout=60_000)
    expect(new_clips).to_be_hidden()
    expect(page.locator(".model-panel .scored")).to_have_text(re.compile(rf"· {before + added} clips scored$"))
    # the last build's timing bar: coloured stages, each as tall as the bar (no blobs)
    timings = page.locator(".model-panel .timings")
    timings.scroll_into_view_if_needed()
    stages = timings.locator(".build-stage")
    assert stages.count() >= 3
    heights = stages.evaluate_all("els => els.map(e => e.getBoundingClientRect().height)")
    assert set(heights) == {8}, heights
    colours = set(stages.evaluate_all("els => els.map(e => getComputedStyle(e).backgroundColor)"))
    assert len(colours) >= 3 and "rgb(0, 0, 0)" not in colours, colours
    timings.screenshot(path=str(shot(page, "live-built-1440").with_name("live-timing-bar.png")))
    page.set_viewport_size(SMALL)
    shot(page, "live-built-1024")
    assert page.problems.unexpected() == []


def test_helper_text_and_the_build_button_follow_the_counts(served, page):
    ws, url = served
    ws.create_label("helper", keywords=["stripes"])
    page.goto(f"{url}#/labels/helper/search")
    build = page.locator(".build-button")
    status = page.locator(".build-status")
    model = page.locator(".model-panel")
    expect(build).to_be_disabled()
    expect(build).to_have_attribute("title", "Build needs at least one positive and one negative clip: none yet.")
    expect(model).to_contain_text("No model yet. Mark at least one positive and one negative clip, then Build (b).")
    page.locator(".step-tab[data-step=learn]").click()
    expect(page.locator(".step-panel[data-step=learn] .build-action")).to_be_disabled()
    page.locator(".step-tab[data-step=search]").click()

    page.locator(".card").first.focus()
    page.keyboard.press("p")
    expect(status).to_have_text(
        "Build needs at least one positive and one negative clip: 1 positive so far, no negative."
    )
    expect(model).to_contain_text("No model yet. Mark at least one negative clip (1 positive so far), then Build (b).")
    expect(build).to_be_disabled()
    page.keyboard.press("b")  # said, not sent
    expect(page.locator(".toast")).to_contain_text("Build needs at least one positive and one negative clip")
    page.keyboard.press("n")
    expect(build).to_be_enabled()
    expect(status).to_have_text("Ready: 2 annotations to learn from. Build (b) makes v1.")
    expect(model).to_contain_text("No model yet: 1 positive and 1 negative are ready. Build (b) makes v1.")
    both_sizes(page, "helper-ready")

    build.click()
    expect(status).to_contain_text("v1 built in", timeout=60_000)
    page.locator(".step-tab[data-step=search]").click()
    page.locator(".card").nth(2).focus()
    page.keyboard.press("n")
    expect(status).to_have_text("Model v1 learned from 2 of 3 annotations — Build to use 1 more.")
    page.keyboard.press("u")  # undone: the model saw every annotation there is
    expect(status).to_have_text("Model v1 learned from all 2 annotations.")
    expect(page.locator(".model-panel")).to_contain_text("Trained on 1 positive and 1 negative clip ·")
    no_bad_plural(page)
    both_sizes(page, "helper-learned")
    assert page.problems.unexpected() == []


def test_slash_goes_back_to_the_last_search_not_the_keywords(served, page):
    ws, url = served
    ws.create_label("slash", keywords=["harbour"])
    page.goto(f"{url}#/labels/slash/search")
    search = page.locator(".search-input")
    expect(search).to_have_value("harbour")
    expect(page.locator(".card").first).to_be_visible()
    search.fill("green stripes")
    search.press("Enter")
    expect(page).to_have_url(re.compile(r"q=green\+stripes"))
    expect(page.locator(".card").first).to_be_focused()

    # more like a clip, then its ×: back to the text typed, not the keywords
    page.keyboard.press("m")
    expect(page.locator(".search-note .chip")).to_contain_text("More like clip #")
    expect(search).to_have_value("green stripes")
    page.locator(".search-note .chip-close").click()
    expect(page).to_have_url(re.compile(r"q=green\+stripes"))
    page.locator(".card").first.focus()
    page.keyboard.press("j")
    page.keyboard.press("j")
    third = page.locator(".card").nth(2).get_attribute("data-clip")

    # another step, then `/`: the last search, its text in the box
    page.keyboard.press("l")
    expect(page.locator(".step-panel[data-step=learn]")).to_be_visible()
    page.keyboard.press("/")
    expect(search).to_be_focused()
    expect(search).to_have_value("green stripes")
    expect(page).to_have_url(re.compile(r"q=green\+stripes"))
    expect(page.locator(".card[tabindex='0']")).to_have_attribute("data-clip", third)

    # a reload (a new page object) keeps the last search and the card last in focus
    page.keyboard.press("Escape")
    page.keyboard.press("r")
    expect(page.locator(".step-panel[data-step=review]")).to_be_visible()
    page.reload()
    expect(page.locator(".step-panel[data-step=review]")).to_be_visible()
    page.locator(".step-tab[data-step=search]").click()
    expect(search).to_have_value("green stripes")
    expect(page.locator(".card[tabindex='0']")).to_have_attribute("data-clip", third)
    both_sizes(page, "last-search")
    assert page.problems.unexpected() == []


def test_a_search_while_the_text_model_is_cold_says_so(tmp_path, cut_video, browser):
    """A fresh server (no warm-up asked) has a cold text model: the first search says why it
    waits, until its results come; the next one does not."""
    ws = Workspace(tmp_path / "cold-home", embedder=get_embedder("conse-effnet-minilm"))
    assert ws.ingest([cut_video([15] * 6, seed=9).path], progress=False).ok
    ws.create_label("cold")
    with running_server(create_app(ws)) as url:
        context = browser.new_context(viewport=VIEWPORT)
        context.set_default_timeout(TIMEOUT_MS)
        context.add_init_script("localStorage.setItem('va.annotator', 'Tess');")
        page = context.new_page()
        problems = PageProblems(page)
        info = page.request.get(f"{url}api/info").json()
        assert info.get("text_model") in ("cold", "loading"), info
        held = []
        page.route("**/api/search?*", lambda route: held.append(route))  # answered below, once the note is seen
        page.goto(f"{url}#/labels/cold/search")
        status = page.locator(".step-panel[data-step=search] .grid-status")
        expect(status).to_have_text(TEXT_MODEL_NOTE)
        both_sizes(page, "text-model-loading")
        assert held, "the page sent no search"
        for route in held:
            route.continue_()
        page.unroute("**/api/search?*")
        expect(page.locator(".card").first).to_be_visible(timeout=60_000)
        expect(status).not_to_have_text(TEXT_MODEL_NOTE)
        assert page.request.get(f"{url}api/info").json()["text_model"] == "ready"
        search = page.locator(".search-input")
        search.fill("red")
        search.press("Enter")
        expect(page).to_have_url(re.compile(r"q=red"))
        expect(page.locator(".card").first).to_be_visible()
        expect(status).not_to_have_text(TEXT_MODEL_NOTE)
        assert problems.unexpected() == []
        context.close()
