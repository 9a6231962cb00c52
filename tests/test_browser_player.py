"""The editor's player in a real Chromium (Debian's, under Playwright) against the real server
over a real workspace (oa4_launch.webm, which has sound, and bikes.mp4, which has none;
embedded by the default model): the player shows the source timecode (clip start + the
player's time) and frame numbers on demand, plays the 640-px rendition with its sound,
muted until the sound button is pressed; at 1024×700 the dialog fits the viewport, long
label names stay on one line (cut with an ellipsis) and the grid shows three columns of
cards; the clip page annotates any label from its row.

Screenshots at 1440×900 and 1024×700 land in test-artifacts/player-*.png (gitignored): look at them.
"""

from __future__ import annotations

import httpx
import pytest
from browser_helpers import ANNOTATOR_INIT, SMALL, VIEWPORT, PageProblems, expect, new_page, shot

from videoannotator.embed import get_embedder
from videoannotator.workspace import Workspace

pytestmark = pytest.mark.slow

TIMEOUT_MS = 30_000
LABEL = "ship"
LONG = "an-establishing-wide-shot-of-the-harbour-at-dawn-with-tall-ships"
SEEK = 1.5  # seconds into the clip
FILLERS = [f"label-{i:02d}" for i in range(10)]


@pytest.fixture(scope="module")
def ws(tmp_path_factory, sample_media, bikes):
    workspace = Workspace(tmp_path_factory.mktemp("player-home"), embedder=get_embedder("conse-effnet-minilm"))
    workspace.ingest([sample_media / "oa4_launch.webm", bikes], progress=False)
    workspace.create_label(LABEL, "A ship is in view.", ["ship"])
    ids = [c["id"] for c in workspace.clip_spans()][2:]  # oa4_launch.webm's two clips stay unannotated
    workspace.annotate(LABEL, ids[:3], "positive", annotator="setup")
    workspace.annotate(LABEL, ids[-3:], "negative", annotator="setup")
    workspace.build(LABEL)
    workspace.create_label(LONG, "A wide shot that says where the scene is.")
    for name in FILLERS:  # a table taller than the dialog has room for at 1024x700
        workspace.create_label(name, f"Filler {name}.")
    return workspace


@pytest.fixture(scope="module")
def sound_clip(ws):
    """The second clip of oa4_launch.webm: it has sound and starts 3 s into the video."""
    clips = [c for c in ws.clip_spans() if str(c["path"]).endswith("oa4_launch.webm")]
    clip = ws.clip(clips[1]["id"])
    assert clip["start_s"] > 1.0
    return clip


@pytest.fixture
def page(browser):
    with new_page(
        browser, timeout_ms=TIMEOUT_MS, init=ANNOTATOR_INIT + "localStorage.removeItem('va.player.frames');"
    ) as opened:
        yield opened


def timecode(seconds: float) -> str:
    ms = round(seconds * 1000)
    s = ms // 1000
    return f"{s // 3600:02d}:{s // 60 % 60:02d}:{s % 60:02d}.{ms % 1000:03d}"


def assert_label_cells_on_one_line(scope):
    heights = scope.locator(".label-scores tbody .label-link").evaluate_all(
        "els => els.map(e => [e.textContent, e.getBoundingClientRect().height,"
        " parseFloat(getComputedStyle(e).lineHeight) || 18, e.scrollWidth > e.clientWidth, e.title])"
    )
    assert heights, "no label rows"
    for name, height, line, cut, title in heights:
        assert height <= line * 1.3, f"{name!r} wraps: {height:.0f} px for a {line:.0f}-px line"
        assert title == name


def assert_fits(page, selector):
    sizes = page.locator(selector).evaluate("d => [d.scrollHeight, d.clientHeight, d.getBoundingClientRect().bottom]")
    scroll, client, bottom = sizes
    assert scroll <= client + 1, f"{selector} scrolls: scrollHeight {scroll} > clientHeight {client}"
    assert bottom <= page.viewport_size["height"], f"{selector} ends at {bottom}, below the viewport"


def open_player(page, base_url, clip_id):
    page.goto(f"{base_url}#/labels/{LABEL}/search?q=ship")
    card = page.locator(f".step-panel:not([hidden]) .grid .card[data-clip='{clip_id}']")
    card.locator(".thumb").click()
    player = page.locator("#player-dialog")
    expect(player.locator(f".clip-detail[data-clip='{clip_id}'] .main-video")).to_be_visible()
    return player


@pytest.mark.parametrize("size", [VIEWPORT, SMALL], ids=["1440x900", "1024x700"])
def test_the_player_is_an_editors_player(page, base_url, ws, sound_clip, size):
    problems = PageProblems(page)
    page.set_viewport_size(size)
    tag = f"{size['width']}x{size['height']}"
    player = open_player(page, base_url, sound_clip["id"])
    video = player.locator(".main-video")
    page.wait_for_function("v => v.readyState >= 2", arg=video.element_handle(), timeout=60_000)

    # the larger rendition: 640 px where the grid's preview is 320; with the sound, muted at first
    assert video.evaluate("v => new URL(v.currentSrc).pathname").endswith(f"/{sound_clip['id']}/player.webm")
    assert video.evaluate("v => v.videoWidth") == 640
    small = page.evaluate(
        """(src) => new Promise((ok) => { const v = document.createElement('video'); v.muted = true;
        v.onloadedmetadata = () => ok(v.videoWidth); v.src = src; })""",
        f"/media/clips/{sound_clip['id']}/preview.webm",
    )
    assert small == 320
    assert video.evaluate("v => v.muted") is True
    sound = player.locator(".sound-toggle")
    expect(sound).to_have_text("Sound off")
    page.wait_for_function("v => v.webkitAudioDecodedByteCount > 0", arg=video.element_handle(), timeout=60_000)
    page.wait_for_function("v => v.currentTime > 0.6", arg=video.element_handle(), timeout=60_000)
    expect(sound).to_be_enabled()  # it has sound: the button stays
    sound.click()
    assert video.evaluate("v => v.muted") is False
    expect(sound).to_have_attribute("aria-pressed", "true")
    expect(sound).to_have_text("Sound on")
    sound.click()
    assert video.evaluate("v => v.muted") is True

    # the source timecode after a seek: the clip's start + the player's time
    video.evaluate(f"v => {{ v.pause(); v.currentTime = {SEEK}; }}")
    page.wait_for_function(f"v => !v.seeking && Math.abs(v.currentTime - {SEEK}) < 1e-3", arg=video.element_handle())
    clock = player.locator(".timecode")
    expect(clock).to_have_text(timecode(sound_clip["start_s"] + SEEK))
    assert float(clock.get_attribute("data-seconds")) == pytest.approx(sound_clip["start_s"] + SEEK, abs=1e-3)
    frame = player.locator(".frame-number")
    expect(frame).to_be_hidden()
    player.locator(".frames-toggle").click()  # frame numbers on demand
    fps = next(v["fps"] for v in ws.videos() if v["id"] == sound_clip["video_id"])
    number = sound_clip["start_frame"] + int(SEEK * fps + 1e-3)
    expect(frame).to_have_text(f"frame {number}")
    expect(clock).to_have_text(
        f"00:00:{number // round(fps):02d}:{number % round(fps):02d}"
    )  # HH:MM:SS:FF when frames are shown
    shot(page, f"player-dialog-{tag}")

    # it fits: no scrolling in the dialog (the details scroll on their own), label names on one line
    assert_fits(page, "#player-dialog")
    if size is SMALL:
        assert player.locator(".clip-side").evaluate("e => e.scrollHeight > e.clientHeight")  # the case is real
    assert_label_cells_on_one_line(player)
    player.locator(".frames-toggle").click()
    expect(frame).to_be_hidden()
    assert problems.unexpected() == []


def test_a_clip_without_sound_says_so(page, base_url, ws):
    silent = next(c for c in ws.clip_spans() if str(c["path"]).endswith("bikes.mp4") and c["end_s"] - c["start_s"] > 1)
    page.goto(f"{base_url}#/clips/{silent['id']}")
    sound = page.locator(".sound-toggle")
    expect(sound).to_have_text("No sound", timeout=60_000)  # once it has played half a second
    expect(sound).to_be_disabled()
    assert page.locator(".main-video").evaluate("v => v.muted && v.webkitAudioDecodedByteCount === 0")


def test_the_grid_shows_three_columns_at_1024(page, base_url):
    page.set_viewport_size(SMALL)
    page.goto(f"{base_url}#/labels/{LABEL}/search?q=ship")
    cards = page.locator(".step-panel:not([hidden]) .grid .card")
    expect(cards.first).to_be_visible()
    tops = cards.evaluate_all("els => els.map(e => e.getBoundingClientRect().top)")
    assert tops.count(tops[0]) >= 3, f"{tops.count(tops[0])} cards in the first row"
    shot(page, "player-grid-1024x700")


@pytest.mark.parametrize("size", [VIEWPORT, SMALL], ids=["1440x900", "1024x700"])
def test_the_clip_page_annotates_every_label(page, base_url, ws, sound_clip, size):
    problems = PageProblems(page)
    page.set_viewport_size(size)
    tag = f"{size['width']}x{size['height']}"
    page.goto(f"{base_url}#/clips/{sound_clip['id']}")
    rows = page.locator(".label-scores tbody tr")
    expect(rows).to_have_count(2 + len(FILLERS))
    value = "positive" if size is VIEWPORT else "negative"
    row = page.locator(f".label-scores tr[data-label='{LONG}']")
    row.locator(f"button[data-value='{value}']").click()
    expect(row.locator(".row-annotate")).to_have_attribute("data-value", value)
    expect(row.locator(f"button[data-value='{value}']")).to_have_attribute("aria-pressed", "true")
    stored = httpx.get(f"{base_url}api/clips/{sound_clip['id']}").json()["labels"]
    assert next(item["annotation"] for item in stored if item["label"] == LONG) == value
    assert_label_cells_on_one_line(page)
    page.wait_for_function("() => document.querySelector('.main-video').readyState >= 2", timeout=60_000)
    shot(page, f"player-clip-page-{tag}")
    assert problems.unexpected() == []
