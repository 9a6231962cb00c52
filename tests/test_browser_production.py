"""The page's production views in a real Chromium (Debian's, driven by Playwright) against the
real server over a real workspace (the sample media, embedded by the default model): a label
built and deployed (v1, through the Workspace API), its clips scored in production; then in
the browser the label page shows the live version, the videos list and a video's tracks (a
clip plays), the monitor page shows drift and the production feed, annotating three of its
clips makes live precision appear, and — the fix loop — a Build of v2, its dry run ("would
change"), Deploy v2.

Screenshots of every view, at 1440×900 and at 1024×700, land in test-artifacts/production-*.png
(gitignored): look at them. The tests run in file order and share one workspace: each step
starts where the previous one left the label (as the issue's story does).
"""

from __future__ import annotations

import re

import browser_helpers as helpers
import pytest
from browser_helpers import VIEWPORT, PageProblems, expect, shot, sideways_scroll

from videoannotator.embed import get_embedder
from videoannotator.workspace import Workspace

pytestmark = pytest.mark.slow

TIMEOUT_MS = 20_000
LABEL = "ship"
OTHER = "bicycle"
DEPLOYER = "ann"
SHOTS = 40


# -- fixtures ------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def ws(tmp_path_factory, bikes, freecol, cut_video):
    """The sample media; a label with v1 built and deployed by "ann"; then new footage (a
    generated 40-shot video) ingested, which the ingest hook scores with v1, and the sample
    videos scored in production by v1 too (as `va score` does)."""
    workspace = Workspace(tmp_path_factory.mktemp("production-home"), embedder=get_embedder("conse-effnet-minilm"))
    workspace.ingest([bikes, freecol], progress=False)
    workspace.create_label(LABEL, "A ship is in view, at sea or in port.", ["ship", "sea"])
    ids = [c["clip_id"] for c in workspace.search("a ship on the sea", k=1000)]
    assert len(ids) >= 16, len(ids)
    workspace.annotate(LABEL, ids[:6], "positive", annotator="setup")
    workspace.annotate(LABEL, ids[-6:], "negative", annotator="setup")
    workspace.build(LABEL)
    workspace.deploy(LABEL, deployer=DEPLOYER)
    # a second deployed label: a second track, a second panel on the monitor
    workspace.create_label(OTHER, "A bicycle is in view.", ["bicycle"])
    ids = [c["clip_id"] for c in workspace.search("a bicycle in the street", k=1000)]
    workspace.annotate(OTHER, ids[:5], "positive", annotator="setup")
    workspace.annotate(OTHER, ids[-5:], "negative", annotator="setup")
    workspace.build(OTHER)
    workspace.deploy(OTHER, deployer=DEPLOYER)
    sample = [v["id"] for v in workspace.videos()]
    workspace.ingest([cut_video([15] * SHOTS, seed=11).path], progress=False)
    workspace.score_videos(sample)
    return workspace


@pytest.fixture
def context(browser):
    context = browser.new_context(viewport=VIEWPORT)
    context.set_default_timeout(TIMEOUT_MS)
    context.add_init_script("if (!localStorage.getItem('va.annotator')) localStorage.setItem('va.annotator', 'Tess');")
    yield context
    context.close()


@pytest.fixture
def page(context):
    return context.new_page()


@pytest.fixture
def problems(page):
    return PageProblems(page)


def both_sizes(page, name):
    helpers.both_sizes(page, f"production-{name}")


def no_overflow(page):
    """Nothing on the page is wider than the window (the timeline scrolls inside its own box)."""
    width = sideways_scroll(page)
    assert width <= 1, f"the page scrolls sideways by {width}px"


# -- the label page: the live version ------------------------------------------------------------
def test_label_page_shows_the_live_version(page, problems, base_url):
    page.goto(f"{base_url}#/labels/{LABEL}")
    panel = page.locator(".deploy-panel")
    expect(panel.locator(".live-line")).to_contain_text("v1 live")
    expect(panel.locator(".live-line")).to_contain_text(f"deployed by {DEPLOYER}")
    expect(panel.locator(".live-line")).to_contain_text(" new clips since v1")  # the footage ingested after v1
    expect(panel.locator(".live-pill")).to_have_text("v1 live")
    expect(panel.locator(".threshold-block")).to_contain_text("calibrated probability")
    expect(panel.locator(".expect-table")).to_contain_text("precision")
    expect(panel.locator(".verdict-line")).to_be_visible()
    expect(panel).to_contain_text("The latest version, v1, is live.")
    expect(panel.locator(".deploy-button")).to_have_count(0)
    panel.scroll_into_view_if_needed()
    both_sizes(page, "label-live")
    no_overflow(page)
    assert problems.unexpected() == []


# -- videos and one video's timeline -------------------------------------------------------------
def test_videos_list_and_video_view_play_a_clip(page, problems, base_url, ws, freecol):
    page.goto(base_url)
    page.click(".section-link[data-section=videos]")
    expect(page).to_have_url(re.compile(r"#/videos$"))
    rows = page.locator(".videos-table tbody tr")
    expect(rows).to_have_count(len(ws.videos()))
    expect(page.locator(".section-link[data-section=videos]")).to_have_attribute("aria-current", "page")
    video = next(v for v in ws.videos() if v["path"].endswith(freecol.name))
    row = page.locator(f".videos-table tr[data-video='{video['id']}']")
    expect(row).to_contain_text(freecol.name)
    expect(row).to_contain_text(f"{video['clips']} clips")
    both_sizes(page, "videos")
    no_overflow(page)

    row.locator("a").click()
    expect(page).to_have_url(re.compile(rf"#/videos/{video['id']}$"))
    shots = page.locator(".shot-strip .shot")
    expect(shots).to_have_count(video["clips"])
    track = page.locator(f".track[data-label='{LABEL}']")
    expect(track).to_be_visible()
    expect(track.locator(".track-name")).to_contain_text("v1")
    expect(track.locator(".bar")).to_have_count(video["clips"])
    expect(track.locator(".threshold-line")).to_have_count(1)
    expect(page.locator(".track")).to_have_count(3)  # the shots, and one per deployed label
    expect(page.locator(f".track[data-label='{OTHER}'] .bar")).to_have_count(video["clips"])
    expect(page.locator(f".segment-list[data-label='{LABEL}'] h3")).to_contain_text(re.compile(r"\d+ segments?"))
    # every shot's thumbnail loads (not a broken image)
    page.wait_for_function(
        "() => [...document.querySelectorAll('.shot img')].every(i => i.complete && i.naturalWidth > 0)", timeout=60_000
    )
    both_sizes(page, "video")
    no_overflow(page)

    # keyboard: the first shot has the focus; → moves, Enter plays in the player
    expect(shots.first).to_be_focused()
    page.keyboard.press("ArrowRight")
    expect(shots.nth(1)).to_be_focused()
    page.keyboard.press("Enter")
    dialog = page.locator("#player-dialog")
    expect(dialog).to_be_visible()
    second = int(shots.nth(1).get_attribute("data-clip"))
    expect(dialog.locator(".clip-detail")).to_have_attribute("data-clip", str(second))
    page.keyboard.press("Escape")
    expect(dialog).to_be_hidden()

    # a click on a bar of the track plays that clip
    bar = track.locator(".bar").nth(2)
    clip_id = bar.get_attribute("data-clip")
    bar.click()
    expect(dialog).to_be_visible()
    expect(dialog.locator(".clip-detail")).to_have_attribute("data-clip", clip_id)
    page.wait_for_function(
        "() => { const v = document.querySelector('#player-dialog .main-video'); return v && v.readyState >= 2; }",
        timeout=60_000,
    )
    shot(page, "production-video-player-1440")
    page.keyboard.press("Escape")
    assert problems.unexpected() == []


# -- monitoring: drift, the production feed, live precision ----------------------------------------
def test_monitor_shows_drift_and_feed_and_live_precision_after_annotating(page, problems, base_url, ws):
    page.goto(base_url)
    page.click(".section-link[data-section=monitor]")
    expect(page).to_have_url(re.compile(r"#/monitor$"))
    expect(page.locator(".monitor-label")).to_have_count(2)
    expect(page.locator(".production-feed [role=tab]")).to_have_text(["1" + LABEL, "2" + OTHER])
    expect(page.locator(".production-feed [role=tab][aria-selected=true]")).to_have_text("1" + LABEL)
    summary = page.locator(f".monitor-label[data-label='{LABEL}']")
    expect(summary).to_be_visible()
    expect(summary.locator(".panel-title")).to_contain_text("v1")
    expect(summary.locator("[data-stat=drift] .monitor-value")).to_have_text(re.compile(r"^\d+\.\d{3}$"))
    produced = ws.monitor(LABEL)["labels"][0]["production"]["clips"]
    assert produced > 0
    expect(summary.locator("[data-stat=production] .monitor-value")).to_have_text(f"{produced:,}")
    expect(summary.locator("[data-stat=precision]")).to_contain_text("annotate the production feed to measure")

    grid = page.locator(".production-feed .grid")
    cards = grid.locator(".card")
    expect(cards.first).to_be_visible()
    expect(cards.first).to_be_focused()
    expect(page.locator(".production-feed .pool")).to_contain_text("above the threshold")
    page.wait_for_function(
        "() => [...document.querySelectorAll('.production-feed .card img')].slice(0, 3).every(i => i.complete && i.naturalWidth > 0)"
    )
    both_sizes(page, "monitor")
    no_overflow(page)

    # three production clips from the keyboard: the feed lists those above the threshold first
    first = [int(cards.nth(i).get_attribute("data-clip")) for i in range(3)]
    for key in ("p", "p", "n"):
        page.keyboard.press(key)

    def stored():
        events = [e for e in ws.annotations.events(ws.label(LABEL)["id"]) if e["clip_id"] in first]
        return len(events) == 3 and all(e["source"] == "production" and e["annotator"] == "Tess" for e in events)

    page.wait_for_function("() => true")  # let the requests leave
    expect(cards.nth(2)).to_have_attribute("data-value", "negative")
    deadline_ok = False
    for _ in range(100):
        if stored():
            deadline_ok = True
            break
        page.wait_for_timeout(100)
    assert deadline_ok, "the three annotations were not stored with source production"
    precision = summary.locator("[data-stat=precision] .monitor-value")
    expect(precision).not_to_have_text("—")
    expect(precision).to_have_text(re.compile(r"^\d\.\d\d$"))
    expect(summary.locator("[data-stat=precision]")).to_contain_text("95% interval")
    expect(summary.locator("[data-stat=precision]")).to_contain_text("above the threshold")
    live = ws.monitor(LABEL)["labels"][0]["live"]
    assert live["precision"] is not None
    assert precision.text_content() == f"{live['precision']:.2f}"
    both_sizes(page, "monitor-precision")

    # the other label's feed, by its number
    cards.first.focus()
    page.keyboard.press("2")
    expect(page).to_have_url(re.compile(rf"#/monitor\?label={OTHER}$"))
    expect(page.locator(".production-feed .section-title")).to_contain_text(OTHER)
    expect(page.locator(".production-feed .card").first).to_be_focused()
    assert problems.unexpected() == []


# -- the fix loop: build v2, the dry run, deploy ----------------------------------------------------
def test_build_v2_dry_run_then_deploy_and_roll_back(page, problems, base_url, ws):
    page.goto(f"{base_url}#/labels/{LABEL}")
    panel = page.locator(".deploy-panel")
    expect(panel.locator(".live-line")).to_contain_text("v1 live")
    page.locator("#view").focus()
    page.keyboard.press("b")
    expect(page.locator(".model-panel .version")).to_have_text("v2")
    deploy = panel.locator(".deploy-button")
    expect(deploy).to_have_text("Deploy v2…")
    expect(panel.locator(".threshold-block .metric-name")).to_have_text("Threshold of v2")
    expect(panel.locator(".verdict-line")).to_be_visible()
    deploy.focus()
    page.keyboard.press("Enter")
    summary = panel.locator(".dry-summary")
    expect(summary).to_contain_text(re.compile(r"v2 would change \d[\d,]* of [\d,]+ production decisions?"))
    expect(summary).to_contain_text("became positive")
    dry = ws.deploy(LABEL, dry_run=True)
    changed = dry["changes"]["changed"]
    expect(panel.locator(".changed-clips .card")).to_have_count(min(changed, 12))
    confirm = panel.locator(".confirm-deploy")
    expect(confirm).to_have_text("Deploy v2")
    expect(confirm).to_be_focused()
    panel.locator(".dry-run").scroll_into_view_if_needed()
    both_sizes(page, "deploy-dry-run")
    no_overflow(page)
    assert ws.versions(LABEL)["live"] == 1  # a dry run changes nothing

    page.keyboard.press("Enter")
    expect(panel.locator(".live-line")).to_contain_text("v2 live")
    expect(panel.locator(".live-line")).to_contain_text("deployed by Tess")  # the page sends its annotator
    expect(panel.locator(".live-pill")).to_have_text("v2 live")
    assert ws.versions(LABEL)["live"] == 2
    rollback = panel.locator(".rollback-button")
    expect(rollback).to_have_text("Roll back to v1")
    both_sizes(page, "label-deployed-v2")

    rollback.click()
    expect(panel.locator(".live-line")).to_contain_text("v1 live")
    expect(panel.locator(".live-line")).to_contain_text("rolled back")
    expect(panel.locator(".deploy-button")).to_have_text("Deploy v2…")
    assert ws.versions(LABEL)["live"] == 1
    assert problems.unexpected() == []
