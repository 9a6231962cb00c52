"""Every view of the page at the two sizes editors use (1440×900 and 1024×700), over one real
workspace (bikes, freecol, a generated video; the real default model): home, search, learn,
review, clip page, Videos, one video, the player. Screenshots land in test-artifacts/tour-*.png
(look at them), taken once the thumbnails in view have loaded. At both sizes no view scrolls
sideways and the player fits without scrolling."""

from __future__ import annotations

import pytest
from browser_helpers import SMALL, VIEWPORT, PageProblems, expect, new_page, running_server, shot, sideways_scroll

from videoannotator.embed import get_embedder
from videoannotator.server import create_app
from videoannotator.workspace import Workspace

pytestmark = pytest.mark.slow

SIZES = [VIEWPORT, SMALL]
LONG_NAME = "establishing-shot-of-a-harbour-at-dawn"


@pytest.fixture(scope="module")
def tour(tmp_path_factory, bikes, freecol, cut_video):
    ws = Workspace(tmp_path_factory.mktemp("tour-home"), embedder=get_embedder("conse-effnet-minilm"))
    ws.ingest([bikes, freecol, cut_video([15] * 24, seed=5).path], progress=False)
    n = ws.info()["clips"]
    for name in ("ships", LONG_NAME):
        ws.create_label(name, "A ship at sea, or the harbour it sails from", "ship, harbour")
        ws.annotate(name, list(range(6)), "positive", "Tess")
        ws.annotate(name, list(range(6, min(n, 18))), "negative", "Tess")
        ws.build(name)
    with running_server(create_app(ws)) as url:
        yield ws, url


def _thumbs_loaded(page):
    """Every card thumbnail in view has loaded (a screenshot of black boxes says nothing)."""
    page.wait_for_function(
        "() => [...document.querySelectorAll('.card img')]"
        ".filter(i => i.offsetParent && i.getBoundingClientRect().top < innerHeight)"
        ".every(i => i.complete && i.naturalWidth > 0)"
    )


def _no_sideways_scroll(page, view):
    overflow = sideways_scroll(page)
    assert overflow <= 0, f"{view} scrolls sideways by {overflow}px"


@pytest.mark.parametrize("size", SIZES, ids=["1440", "1024"])
def test_every_view_at_both_sizes(tour, browser, size):
    ws, base_url = tour
    w = size["width"]
    video_id = ws.videos()[1]["id"]
    with new_page(browser, viewport=size, timeout_ms=30_000) as page:
        problems = PageProblems(page)

        page.goto(f"{base_url}#/")
        expect(page.locator(".label-tile").first).to_be_visible()
        _no_sideways_scroll(page, "home")
        shot(page, f"tour-home-{w}")

        page.goto(f"{base_url}#/labels/ships/search")
        expect(page.locator(".card:visible").first).to_be_visible()
        _thumbs_loaded(page)
        _no_sideways_scroll(page, "search")
        shot(page, f"tour-search-{w}")

        page.goto(f"{base_url}#/labels/ships/learn")
        expect(page.locator(".card:visible").first).to_be_visible()
        _thumbs_loaded(page)
        _no_sideways_scroll(page, "learn")
        shot(page, f"tour-learn-{w}")

        page.locator(".card:visible").first.focus()
        page.keyboard.press("o")
        dialog = page.locator("#player-dialog")
        expect(dialog).to_be_visible()
        page.wait_for_timeout(300)  # the dialog's layout settles after its video's metadata
        fits = dialog.evaluate(
            "d => d.scrollHeight <= d.clientHeight + 1 && d.getBoundingClientRect().bottom <= innerHeight"
        )
        shot(page, f"tour-player-{w}")
        assert fits, "the player dialog needs scrolling"
        page.keyboard.press("Escape")

        page.goto(f"{base_url}#/labels/ships/review")
        expect(page.locator(".card:visible").first).to_be_visible()
        _thumbs_loaded(page)
        _no_sideways_scroll(page, "review")
        shot(page, f"tour-review-{w}")

        page.goto(f"{base_url}#/clips/3")
        expect(page.locator(".clip-page")).to_be_visible()
        expect(page.locator(".clip-page")).to_contain_text(LONG_NAME)
        _no_sideways_scroll(page, "clip page")
        shot(page, f"tour-clip-{w}")

        page.goto(f"{base_url}#/videos")
        expect(page.locator("#view")).to_contain_text("freecol")
        expect(page.locator(".library-shot.placeholder")).to_have_count(0)  # every strip in view loaded
        page.wait_for_function("() => [...document.querySelectorAll('.library-shot img')].every(i => i.complete)")
        _no_sideways_scroll(page, "videos")
        shot(page, f"tour-videos-{w}")

        page.goto(f"{base_url}#/videos/{video_id}")
        expect(page.locator("#view")).not_to_contain_text("Loading")
        _no_sideways_scroll(page, "video")
        shot(page, f"tour-video-{w}")

        assert problems.unexpected() == []
