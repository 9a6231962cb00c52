"""The web page in a real Chromium (Debian's, driven by Playwright) against the real server
(uvicorn on a free 127.0.0.1 port) over a real workspace: bikes + freecol + a generated
110-shot video, embedded by the real default model. Screenshots of every step land in
test-artifacts/ (gitignored): look at them.

The benchmark at the end (marked ``bench``: left out of `make test`, run by `make bench`)
prints JSON (and writes test-artifacts/browser-bench.json); it asserts what the page did,
never how fast (docs/benchmarks-browser.md has the figures). No test sleeps a fixed time:
each waits for the condition it needs.
"""

from __future__ import annotations

import json
import os
import platform
import re
import statistics
import time
from pathlib import Path

import httpx
import pytest
from browser_helpers import (
    ARTIFACTS,
    VIEWPORT,
    PageProblems,
    expect,
    shot,
    va_serve_process,
)

from videoannotator.embed import get_embedder
from videoannotator.workspace import Workspace

pytestmark = pytest.mark.slow

XSS = "<img src=x onerror=alert(1)>"
TIMEOUT_MS = 20_000
SYNTHETIC_SHOTS = 110  # enough clips for feeds of 100 cards
FEEDS = ["top_positive", "top_negative", "borderline", "random"]


# -- fixtures ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def ws(tmp_path_factory, bikes, freecol, cut_video):
    workspace = Workspace(tmp_path_factory.mktemp("browser-home"), embedder=get_embedder("conse-effnet-minilm"))
    synthetic = cut_video([15] * SYNTHETIC_SHOTS, seed=7)
    workspace.ingest([bikes, freecol, synthetic.path], progress=False)
    assert workspace.info()["clips"] > 100
    return workspace


@pytest.fixture
def context(browser):
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(TIMEOUT_MS)
    yield context
    context.close()


@pytest.fixture
def page(context):
    return context.new_page()


@pytest.fixture
def problems(page):
    return PageProblems(page)


@pytest.fixture
def named(context):
    """The annotator name already chosen (as after a first visit)."""
    context.add_init_script("if (!localStorage.getItem('va.annotator')) localStorage.setItem('va.annotator', 'Tess');")


@pytest.fixture
def api(base_url):
    with httpx.Client(base_url=base_url, timeout=60) as client:
        yield client


# -- helpers -------------------------------------------------------------------------------------
def wait_for(check, timeout=10.0, what="condition"):
    deadline = time.monotonic() + timeout
    while True:
        value = check()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.05)


def label_id(ws, name):
    return ws.labels.get(name)["id"]


def current_values(ws, name) -> dict[int, str]:
    return {clip: entry["value"] for clip, entry in ws.annotations.current(label_id(ws, name)).items()}


def create_label(api, name, description="", keywords=()):
    response = api.post("/api/labels", json={"name": name, "description": description, "keywords": list(keywords)})
    assert response.status_code == 201, response.text
    return response.json()


def annotate(api, name, clip_ids, value, annotator="setup"):
    response = api.post(
        f"/api/labels/{name}/annotations", json={"clip_ids": list(clip_ids), "value": value, "annotator": annotator}
    )
    assert response.status_code == 201, response.text


def seeded_label(api, name, query="a ship on the sea", n=6):
    """A label with a first model: the top search hits positive, the bottom ones negative."""
    create_label(api, name, f"Guideline for {name}", ["ship"])
    clips = api.get("/api/search", params={"q": query, "k": 1000}).json()["clips"]
    ids = [c["clip_id"] for c in clips]
    annotate(api, name, ids[:n], "positive")
    annotate(api, name, ids[-n:], "negative")
    response = api.post(f"/api/labels/{name}/build", json={})
    assert response.status_code == 200, response.text
    return response.json()


def visible_grid(page):
    return page.locator(".step-panel:not([hidden]) .grid-wrap:not([hidden]):not(.offstage) .grid")


def focused_clip(page) -> int:
    return int(page.evaluate("document.activeElement.dataset.clip"))


def measures(page, name):
    return page.evaluate(
        "(name) => performance.getEntriesByName(name).map(e => ({duration: e.duration, detail: e.detail}))", name
    )


# -- the whole loop, keyboard first ----------------------------------------------------------------
def test_create_search_annotate_build_review_reload(page, problems, base_url, ws):
    name = "sailing-ship"
    page.goto(base_url)
    dialog = page.locator("#annotator-dialog")
    expect(dialog).to_be_visible()
    shot(page, "01-annotator-name")
    page.keyboard.type("Ada Lovelace")
    page.keyboard.press("Enter")
    expect(dialog).to_be_hidden()
    expect(page.locator("#annotator-button")).to_contain_text("Ada Lovelace")

    # a label with its guideline
    page.fill(".create-label input[name=name]", name)
    page.fill(".create-label textarea[name=description]", "A sailing ship is in view, at sea or in port.")
    page.fill(".create-label input[name=keywords]", "ship, sea")
    shot(page, "02-new-label")
    page.click(".create-label button[type=submit]")
    expect(page).to_have_url(re.compile(r"#/labels/sailing-ship/search"))
    expect(page.locator(".guideline .description")).to_have_text("A sailing ship is in view, at sea or in port.")
    expect(page.locator(".guideline .keyword")).to_have_text(["ship", "sea"])

    # step 1: search, from the keyboard
    expect(visible_grid(page).locator(".card").first).to_be_visible()
    page.keyboard.press("/")
    expect(page.locator(".search-input")).to_be_focused()
    page.keyboard.type("a ship at sea")
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile(r"q=a\+ship\+at\+sea"))
    grid = visible_grid(page)
    expect(grid.locator(".card").first).to_be_focused()
    expect(grid.locator(".card .badge.score").first).to_contain_text("sim")
    shot(page, "03-search")

    # ten clips, keyboard only: p five times, n five times (each moves on to the next clip)
    ordered = [int(x) for x in grid.locator(".card").evaluate_all("cards => cards.map(c => c.dataset.clip)")]
    for key in "pppppnnnnn":
        page.keyboard.press(key)
    wait_for(lambda: len(current_values(ws, name)) == 10, what="ten stored annotations")
    values = current_values(ws, name)
    assert values == {**{c: "positive" for c in ordered[:5]}, **{c: "negative" for c in ordered[5:10]}}
    events = ws.annotations.events(label_id(ws, name))
    assert {e["annotator"] for e in events} == {"Ada Lovelace"} and {e["source"] for e in events} == {"search"}
    expect(page.locator(".stat-positive .stat-number")).to_have_text("5")
    expect(page.locator(".stat-negative .stat-number")).to_have_text("5")
    expect(grid.locator(".card[data-value=positive]")).to_have_count(5)
    expect(grid.locator(".card[data-value=negative]")).to_have_count(5)
    assert focused_clip(page) == ordered[10]
    shot(page, "04-ten-annotated")

    # step 2: build (watch the progress bar run), then the four feeds
    page.evaluate("""() => {
        window.progressSeen = [];
        const bar = document.querySelector('.progress');
        new MutationObserver(() => window.progressSeen.push(bar.className + (bar.hidden ? ' hidden' : '')))
            .observe(bar, {attributes: true});
    }""")
    page.keyboard.press("b")
    expect(page.locator(".build-status")).to_contain_text("v1 built in")
    assert any("running" in c and "hidden" not in c for c in page.evaluate("window.progressSeen"))
    # 5 positives in 10: not rare, so the server suggests the borderline feed (learn/next_feed.py),
    # the page opens on it, marks its tab and says why.
    suggestion = ws.next_feed(name)
    assert not suggestion["hunting"] and suggestion["feed"] == "borderline"
    expect(page).to_have_url(re.compile(r"/learn/borderline"))
    expect(page.locator(".next-feed")).to_contain_text("Next: Borderline — 5 positives and 5 negatives")
    expect(page.locator("button.tab.suggested")).to_have_attribute("data-feed", "borderline")
    expect(page.locator(".model-panel .version")).to_have_text("v1")
    expect(page.locator(".model-panel .ap-value")).to_have_text(re.compile(r"^[01]\.\d\d$"))
    expect(page.locator(".model-panel .metric.ap")).to_contain_text("95% interval")
    assert page.locator("canvas.histogram").evaluate(
        "c => c.getContext('2d').getImageData(0, 0, c.width, c.height).data.some(v => v !== 0)"
    )
    expect(page.locator(".model-panel .diversity")).to_contain_text("positives")
    expect(page.locator(".model-panel .change")).to_contain_text("first model")
    shot(page, "05-built")

    tabs = page.locator(".step-panel[data-step=learn] button.tab")
    expect(tabs).to_have_text([re.compile(t) for t in ("Top positive", "Top negative", "Borderline", "Random")])
    for number, feed in enumerate(("top_positive", "top_negative", "borderline", "random"), start=1):
        page.keyboard.press(str(number))
        expect(page).to_have_url(re.compile(f"/learn/{feed}$"))
        feed_grid = page.locator(f".grid-wrap[data-feed={feed}]")
        expect(feed_grid).to_be_visible()
        expect(feed_grid.locator(".card").first).to_be_visible()
        assert feed_grid.locator(".card").count() >= 50
        expect(feed_grid.locator(".badge.score").first).to_have_text(re.compile(r"^p \d\.\d\d$"))
        shown = {int(x) for x in feed_grid.locator(".card").evaluate_all("cs => cs.map(c => c.dataset.clip)")}
        assert not shown & set(values), "a feed shows an annotated clip"
        shot(page, f"06-feed-{number}-{feed}")
    page.keyboard.press("f")  # f cycles: random -> top positive
    expect(page).to_have_url(re.compile("/learn/top_positive$"))

    # step 3: review, flip one with one key
    page.keyboard.press("r")
    expect(page).to_have_url(re.compile("/review/all$"))
    review = visible_grid(page)
    expect(review.locator(".card")).to_have_count(10)
    expect(review.locator(".card").first).to_be_focused()
    expect(review.locator(".card .votes").first).to_contain_text("Ada Lovelace")
    flipped = focused_clip(page)
    before = values[flipped]
    after = "negative" if before == "positive" else "positive"
    page.keyboard.press("x")
    wait_for(lambda: current_values(ws, name)[flipped] == after, what="the flip stored")
    last = ws.annotations.events(label_id(ws, name))[-1]
    assert (last["clip_id"], last["value"], last["source"]) == (flipped, after, "review")
    assert last["annotator"] == "Ada Lovelace"
    expect(review.locator(f".card[data-clip='{flipped}']")).to_have_attribute("data-value", after)
    shot(page, "07-review-flipped")
    page.keyboard.press("2")  # the positive filter
    expect(page).to_have_url(re.compile("/review/positive$"))
    positives = sum(1 for v in current_values(ws, name).values() if v == "positive")
    expect(visible_grid(page).locator(".card")).to_have_count(positives)
    expect(visible_grid(page).locator(".card[data-value=positive]")).to_have_count(positives)

    # reload: the name, the annotations, the flip and the model are all still there
    page.reload()
    expect(page.locator("#annotator-dialog")).to_be_hidden()
    expect(page.locator("#annotator-button")).to_contain_text("Ada Lovelace")
    expect(page.locator(".stat-positive .stat-number")).to_have_text(str(positives))
    expect(page.locator(".stat-negative .stat-number")).to_have_text(str(10 - positives))
    expect(page.locator(".model-panel .version")).to_have_text("v1")
    expect(visible_grid(page).locator(".card")).to_have_count(positives)
    page.keyboard.press("1")
    expect(visible_grid(page).locator(f".card[data-clip='{flipped}']")).to_have_attribute("data-value", after)
    shot(page, "08-reloaded-review")
    page.keyboard.press("l")  # opens on the suggested feed
    suggestion = ws.next_feed(name)
    opened = suggestion["feed"] if suggestion["feed"] != "search" else "borderline"
    expect(page).to_have_url(re.compile("/learn$"))
    expect(page.locator(f"button.tab.active[data-feed={opened}]")).to_have_count(1)
    expect(page.locator(f"button.tab.suggested[data-feed={suggestion['feed']}]")).to_have_count(
        1 if suggestion["feed"] != "search" else 0
    )
    expect(page.locator(f".grid-wrap[data-feed={opened}] .card").first).to_be_visible()
    shot(page, "08b-suggested-feed")
    page.keyboard.press("j")

    # ten more annotations from the borderline feed: the page suggests building again
    expect(page.locator(".build-button")).not_to_have_class(re.compile(r"\bdue\b"))
    for key in "pnpnpnpnpn":
        page.keyboard.press(key)
    wait_for(lambda: len(current_values(ws, name)) == 20, what="twenty stored annotations")
    expect(page.locator(".build-status")).to_contain_text("10 new annotations since v1: build again (b)")
    expect(page.locator(".build-button")).to_have_class(re.compile(r"\bdue\b"))
    shot(page, "09-build-due")
    page.keyboard.press("b")
    expect(page.locator(".build-status")).to_contain_text("v2 built in")
    expect(page.locator(".build-button")).not_to_have_class(re.compile(r"\bdue\b"))
    assert problems.unexpected() == [] and problems.dialogs == []


def test_undo_and_the_player_from_the_keyboard(page, problems, named, base_url, api, ws):
    name = "undo-and-player"
    seeded_label(api, name)
    page.goto(f"{base_url}#/labels/{name}/learn/borderline")
    grid = page.locator(".grid-wrap[data-feed=borderline]")
    expect(grid.locator(".card").first).to_be_visible()
    page.keyboard.press("j")
    first = focused_clip(page)
    page.keyboard.press("p")
    wait_for(lambda: current_values(ws, name).get(first) == "positive", what="the annotation")
    page.keyboard.press("u")
    wait_for(lambda: first not in current_values(ws, name), what="the undo")
    expect(grid.locator(f".card[data-clip='{first}']")).to_have_attribute("data-value", "")
    assert focused_clip(page) == first
    expect(page.locator(".toast")).to_contain_text(f"clip #{first} is not annotated now")

    page.keyboard.press("Enter")  # the larger player, then annotate from it
    player = page.locator("#player-dialog")
    expect(player.locator(".main-video")).to_be_visible()
    expect(player.locator(".labels-on-clip")).to_contain_text(name)
    expect(player.locator(".context-item.current")).to_have_count(1)
    shot(page, "09-player")
    playing = (
        "() => { const v = document.querySelector('#player-dialog .main-video');"
        " return v && !v.paused && v.currentTime > 0; }"
    )
    page.wait_for_function(playing, timeout=60_000)
    page.keyboard.press(" ")  # Space pauses the player, and plays it again
    page.wait_for_function("() => document.querySelector('#player-dialog .main-video').paused")
    page.keyboard.press(" ")
    page.wait_for_function(playing)
    page.keyboard.press("n")
    wait_for(lambda: current_values(ws, name).get(first) == "negative", what="the annotation from the player")
    expect(player.locator(f".clip-detail[data-clip='{first}']")).to_have_count(0)  # moved on to the next clip
    page.keyboard.press("Escape")
    expect(player).to_be_hidden()
    page.keyboard.press("?")
    help_dialog = page.locator("#help-dialog")
    expect(help_dialog).to_be_visible()
    expect(help_dialog).to_contain_text("Positive, then next clip")
    expect(help_dialog).to_contain_text("Undo your last annotation")
    shot(page, "10-help")
    page.keyboard.press("Escape")
    expect(help_dialog).to_be_hidden()
    assert problems.unexpected() == []


def test_every_action_works_with_the_mouse(page, problems, named, base_url, api, ws):
    name = "mouse-only"
    create_label(api, name, "Clicked, never typed", ["street"])
    page.goto(f"{base_url}#/labels/{name}")
    grid = visible_grid(page)
    cards = grid.locator(".card")
    expect(cards.first).to_be_visible()
    ids = [int(x) for x in cards.evaluate_all("cs => cs.map(c => c.dataset.clip)")]
    for i in range(3):
        cards.nth(i).locator("[data-act=positive]").click()
    for i in range(3, 6):
        cards.nth(i).locator("[data-act=negative]").click()
    cards.nth(6).locator("[data-act=skip]").click()
    wait_for(lambda: len(current_values(ws, name)) == 7, what="seven clicks stored")
    assert current_values(ws, name) == {
        **{c: "positive" for c in ids[:3]},
        **{c: "negative" for c in ids[3:6]},
        ids[6]: "skip",
    }
    page.locator(".counts button", has_text="Undo").click()
    wait_for(lambda: ids[6] not in current_values(ws, name), what="undo by click")
    expect(page.locator(".toast")).to_contain_text(f"clip #{ids[6]} is not annotated now")

    cards.nth(0).locator(".thumb").click()  # the player, by mouse
    player = page.locator("#player-dialog")
    expect(player.locator(".main-video")).to_be_visible()
    player.locator(".annotate-buttons .act-negative").click()
    wait_for(lambda: current_values(ws, name)[ids[0]] == "negative", what="annotation in the player")
    player.locator(".dialog-close").click()
    expect(player).to_be_hidden()

    page.locator(".build-button").click()
    expect(page.locator(".build-status")).to_contain_text("v1 built in")
    page.locator("button.tab[data-feed=borderline]").click()
    expect(page).to_have_url(re.compile("/learn/borderline$"))
    expect(page.locator(".grid-wrap[data-feed=borderline] .card").first).to_be_visible()
    page.locator(".step-tab", has_text="Review").click()
    page.locator("button.tab[data-filter=negative]").click()
    expect(page).to_have_url(re.compile("/review/negative$"))
    review_cards = visible_grid(page).locator(".card")
    expect(review_cards).to_have_count(4)
    target = int(review_cards.first.get_attribute("data-clip"))
    review_cards.first.locator("[data-act=positive]").click()
    wait_for(lambda: current_values(ws, name)[target] == "positive", what="relabel by click")
    page.locator("#help-button").click()
    expect(page.locator("#help-dialog")).to_be_visible()
    page.locator("#help-dialog .dialog-close").click()
    expect(page.locator("#help-dialog")).to_be_hidden()
    page.locator(".step-tab", has_text="Search").click()
    page.fill(".search-input", "bicycle in the street")
    page.locator(".searchbar button[type=submit]").click()
    expect(page).to_have_url(re.compile(r"q=bicycle"))
    visible_grid(page).locator(".card").first.locator("[data-act=similar]").click()
    expect(page).to_have_url(re.compile(r"like=\d+"))
    expect(page.locator(".search-note")).to_contain_text("More like clip")
    shot(page, "11-mouse-similar")
    assert problems.unexpected() == []


# -- video ---------------------------------------------------------------------------------------------
def test_a_clip_really_plays_in_chromium(page, problems, named, base_url, api, ws):
    clips = ws.catalog.query(
        "SELECT c.id, c.start_s, c.end_s FROM clips c JOIN videos v ON v.id = c.video_id "
        "WHERE v.path LIKE '%freecol%' AND c.end_s - c.start_s > 4 ORDER BY c.id"
    )
    clip = dict(clips[1])
    length = clip["end_s"] - clip["start_s"]
    page.goto(f"{base_url}#/clips/{clip['id']}")
    video = page.locator(".main-video")
    expect(video).to_be_visible()
    page.wait_for_function("() => document.querySelector('.main-video').readyState >= 3", timeout=60_000)
    duration = video.evaluate("v => v.duration")
    assert abs(duration - length) < 0.3, (duration, length)  # the preview is exactly the clip
    # sample the playhead every 100 ms until it has moved on by half a second
    video.evaluate("v => { window.vaTimes = [v.currentTime]; }")
    page.wait_for_function(
        """() => { const t = document.querySelector('.main-video').currentTime;
        window.vaTimes.push(t); return t > window.vaTimes[0] + 0.5; }""",
        polling=100,
        timeout=60_000,
    )
    times = page.evaluate("window.vaTimes")
    assert times[-1] > times[0] + 0.5, times  # it plays
    assert all(0 <= t <= length + 0.05 for t in times), (times, length)  # within [0, end - start]
    assert video.evaluate("v => v.muted && v.loop && !v.paused")
    shot(page, "12-clip-playing")

    # hovering a card plays its own preview inside the card
    create_name = "hover-preview"
    create_label(api, create_name)
    page.goto(f"{base_url}#/labels/{create_name}/search?q=ship")
    card = visible_grid(page).locator(".card").first
    expect(card).to_be_visible()
    card.locator(".thumb").hover()
    expect(card).to_have_class(re.compile("playing"), timeout=60_000)
    preview = card.locator("video.preview")
    first = preview.evaluate("v => v.currentTime")
    page.wait_for_function("([v, first]) => v.currentTime !== first", arg=[preview.element_handle(), first])
    assert preview.evaluate("v => v.currentTime") != first  # it plays
    assert preview.evaluate("v => v.muted && v.loop")
    clip_id = int(card.get_attribute("data-clip"))
    row = ws.clip(clip_id)
    assert preview.evaluate("v => v.duration") == pytest.approx(row["end_s"] - row["start_s"], abs=0.3)
    shot(page, "13-card-preview")
    page.mouse.move(5, 5)
    expect(card.locator("video")).to_have_count(0)
    assert problems.unexpected() == []


# -- security and errors ---------------------------------------------------------------------------
def test_user_text_is_rendered_as_text(page, problems, named, base_url, api, ws):
    # The name itself is refused by the server; the message saying so quotes it, as text.
    page.goto(f"{base_url}#/new")
    page.fill(".create-label input[name=name]", XSS)
    page.click(".create-label button[type=submit]")
    error = page.locator(".create-label .form-error")
    expect(error).to_contain_text("odd characters")
    assert XSS in error.text_content()
    assert page.locator(".create-label img").count() == 0

    name = "xss-check"
    create_label(api, name, XSS, [XSS, "<script>alert(2)</script>"])
    clip = api.get("/api/search", params={"q": "ship", "k": 1}).json()["clips"][0]["clip_id"]
    annotate(api, name, [clip], "positive", annotator="<b onmouseover=alert(3)>x</b>")
    page.goto(f"{base_url}#/labels/{name}/review")
    expect(page.locator(".guideline .description")).to_have_text(XSS)
    expect(page.locator(".guideline .keyword")).to_have_text([XSS, "<script>alert(2)</script>"])
    expect(visible_grid(page).locator(".votes")).to_contain_text("<b onmouseover=alert(3)>x</b>: positive")
    page.goto(f"{base_url}#/")
    expect(page.locator(".label-tile", has_text=name)).to_contain_text(XSS)
    page.goto(f"{base_url}#/labels/{name}/review")
    expect(page.locator(".guideline .description")).to_have_text(XSS)
    expect(visible_grid(page).locator(".card")).to_have_count(1)
    # no element came out of the data: no <img>, <script> or <b> anywhere the data shows
    injected = page.evaluate("""() => [...document.querySelectorAll('main img, main script, main b')]
        .filter(el => !el.closest('.thumb, .context-button')).length""")
    assert injected == 0
    shot(page, "14-xss-as-text")
    assert problems.dialogs == [] and problems.unexpected("422") == []  # the refused name


def test_an_api_error_message_is_shown(page, problems, named, base_url, api):
    create_label(api, "nothing-yet", "no annotations")
    page.goto(f"{base_url}#/labels/nothing-yet/search")
    expect(visible_grid(page).locator(".card").first).to_be_visible()
    page.keyboard.press("b")  # the page knows Build cannot run yet: it says why, asks nothing
    toast = page.locator(".toast-error")
    expect(toast).to_contain_text("needs at least one positive and one negative")
    expect(page.locator(".build-status")).to_contain_text("needs at least one positive")
    shot(page, "15-error-message")
    # The server's own message: a label whose name is taken is refused with a 409 and its words.
    page.goto(f"{base_url}#/new")
    form = page.locator(".create-label")
    form.locator("input[name=name]").fill("Nothing-Yet")  # names are unique ignoring case
    form.locator("button[type=submit]").click()
    expect(form.locator(".form-error")).to_contain_text("exists already")
    shot(page, "15b-server-error-message")
    # the refused create is the only failed request (Chromium logs its 409 as a console error)
    assert problems.unexpected("409") == []


def test_clip_page_shows_every_labels_latest_score(page, problems, named, base_url, api, ws):
    seeded_label(api, "clip-page-a")
    seeded_label(api, "clip-page-b", query="a city street")
    clip = 5
    page.goto(f"{base_url}#/clips/{clip}")
    rows = page.locator(".label-scores tbody tr")
    names = [label["name"] for label in ws.labels.list()]
    expect(rows).to_have_count(len(names))
    detail = api.get(f"/api/clips/{clip}").json()
    for item in detail["labels"]:
        row = page.locator(f".label-scores tr[data-label='{item['label']}']")
        if item["probability"] is None:
            expect(row.locator(".prob")).to_have_text("no model")
        else:
            expect(row.locator(".prob-value")).to_have_text(f"{item['probability']:.3f}")
            expect(row.locator(".verdict")).to_have_text("yes" if item["positive"] else "no")
    shot(page, "16-clip-page")
    assert problems.unexpected() == []


def test_histogram_route_counts_every_clip(api, ws):
    seeded_label(api, "histogram-check")
    body = api.get("/api/labels/histogram-check/histogram", params={"bins": 12}).json()
    assert len(body["edges"]) == 13 and len(body["clips"]) == 12
    assert sum(body["clips"]) == ws.info()["clips"]
    assert sum(body["positive"]) == 6 and sum(body["negative"]) == 6
    assert body["edges"][0] <= body["threshold"] <= body["edges"][-1]
    assert api.get("/api/labels/histogram-check/histogram", params={"bins": 1}).status_code == 422


# -- the browser benchmark (figures, not assertions on time) ------------------------------------------
@pytest.mark.bench
def test_browser_benchmark(browser, api, ws):
    """Served by `va serve` in its own process, as users run it (not the in-test server)."""
    name = "bench"
    seeded_label(api, name, n=5)
    with va_serve_process(ws.home) as base_url:
        results = _benchmark(browser, base_url, name, ws)
    ARTIFACTS.mkdir(exist_ok=True)
    (ARTIFACTS / "browser-bench.json").write_text(json.dumps(results, indent=2))
    print(json.dumps(results, indent=2))


def _benchmark(browser, base_url, name, ws) -> dict:
    results: dict = {"machine": _machine(browser), "clips": ws.info()["clips"]}

    # first render of a label page: navigation start -> guideline, model and first feed page on screen
    ready = []
    context = browser.new_context(viewport=VIEWPORT)
    context.add_init_script("localStorage.setItem('va.annotator', 'bench');")
    page = context.new_page()
    page.goto(f"{base_url}#/labels/{name}/learn/top_positive")  # warms the server's caches
    expect(page.locator(".grid-wrap[data-feed=top_positive] .card").first).to_be_visible()
    for _ in range(7):
        page.reload()
        expect(page.locator(".grid-wrap[data-feed=top_positive] .card").first).to_be_visible()
        page.wait_for_function("() => performance.getEntriesByName('va:label-ready').length > 0")
        ready.append(measures(page, "va:label-ready")[0]["duration"])
    results["label_page_first_render_ms"] = _summary(ready)

    # switching feed: while the annotator looks at the first feed, the app builds the other
    # three out of sight (first_view); after a feed was shown its grid is kept (again)
    page.reload()
    expect(page.locator(".grid-wrap[data-feed=top_positive] .card").first).to_be_visible()
    page.keyboard.press("j")
    # the annotator looks at the first clip while the app builds the other three feeds out of sight
    page.wait_for_function(
        """(feeds) => feeds.every(
        f => document.querySelectorAll(`.grid-wrap[data-feed=${f}] .card`).length >= 100)""",
        arg=FEEDS,
    )
    for _ in range(2):
        for key, feed in (("2", "top_negative"), ("3", "borderline"), ("4", "random"), ("1", "top_positive")):
            before = len(measures(page, "va:feed-switch"))
            page.keyboard.press(key)
            expect(page.locator(f".grid-wrap[data-feed={feed}]")).to_be_visible()
            # the switch is measured once its frame is painted: wait for it before the next key
            page.wait_for_function("(n) => performance.getEntriesByName('va:feed-switch').length > n", arg=before)
    switches = measures(page, "va:feed-switch")
    assert len(switches) == 8 and all(s["detail"]["cards"] == 100 for s in switches)
    assert all(s["detail"]["prebuilt"] for s in switches if s["detail"]["firstView"])
    feed_requests = page.evaluate("""() => performance.getEntriesByType('resource')
        .filter(r => r.name.includes('/feeds/') && r.name.includes('n=100')).map(r => r.responseEnd - r.startTime)""")
    results["feed_switch_100_cards_ms"] = {
        "first_view": _summary([s["duration"] for s in switches if s["detail"]["firstView"]]),
        "again": _summary([s["duration"] for s in switches if not s["detail"]["firstView"]]),
        "feed_request_100_clips": _summary(feed_requests),
    }
    # what a feed never built ahead adds: building its cards (and the request above)
    builds = [m["duration"] for m in measures(page, "va:cards") if m["detail"]["cards"] == 100]
    results["feed_switch_100_cards_ms"]["build_100_cards"] = _summary(builds) if builds else None

    # an annotation keypress -> the server's answer that it is stored
    page.reload()
    expect(page.locator(".grid-wrap[data-feed=top_positive] .card").first).to_be_visible()
    page.keyboard.press("j")
    for i in range(30):
        annotated = focused_clip(page)
        page.keyboard.press("pn"[i % 2])
        # stored (the measure), and the focus on the next clip, before the next key
        page.wait_for_function(
            """([n, clip]) => performance.getEntriesByName('va:annotate').length >= n
            && document.activeElement.dataset.clip !== String(clip)""",
            arg=[i + 1, annotated],
        )
    annotate_ms = [m["duration"] for m in measures(page, "va:annotate")]
    assert len(annotate_ms) == 30 and len(current_values(ws, name)) == 10 + 30
    results["annotation_keypress_to_stored_ms"] = _summary(annotate_ms)
    context.close()
    results["machine"]["load_average_1min_after"] = round(os.getloadavg()[0], 2)
    return results


def _summary(values):
    values = sorted(values)
    return {
        "n": len(values),
        "median": round(statistics.median(values), 1),
        "min": round(values[0], 1),
        "max": round(values[-1], 1),
    }


def _machine(browser):
    cpu = ""
    try:
        with open("/proc/cpuinfo") as fh:
            cpu = next((line.split(":", 1)[1].strip() for line in fh if line.startswith("model name")), "")
    except OSError:
        pass
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "load_average_1min_before": round(os.getloadavg()[0], 2),
        "chromium": browser.version,
        "python": platform.python_version(),
        "system": platform.platform(),
    }


def test_every_key_is_documented():
    """The help overlay and docs/webapp.md list the same keys: both come from static/keys.js."""
    root = Path(__file__).resolve().parents[1]
    keys = (root / "src/videoannotator/server/static/keys.js").read_text()
    docs = (root / "docs/webapp.md").read_text()
    described = re.findall(r"does: '([^']+)'", keys)
    assert len(described) >= 20
    for text in described:
        assert f"| {text} |" in docs, f"docs/webapp.md does not list the key that does {text!r}"
