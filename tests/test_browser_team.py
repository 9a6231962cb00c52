"""Team mode in Chromium: a user opens the server's link with their token once, the page shows
who they are signed in as (no name to type), annotates from the keyboard, and the event log
records the token's user; a browser without a token gets nothing from the API."""

import re

import httpx
import pytest
from browser_helpers import SMALL, VIEWPORT, PageProblems, chromium, expect, running_server, shot

from videoannotator import Workspace
from videoannotator.embed import get_embedder
from videoannotator.server import create_app

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def team(tmp_path_factory, cut_video):
    ws = Workspace(tmp_path_factory.mktemp("team-home"), embedder=get_embedder("conse-effnet-minilm"))
    ws.ingest([cut_video([15] * 12, seed=3).path], progress=False)
    ws.create_label("ships")
    tokens = {name: ws.add_user(name)["token"] for name in ("Ana", "Bo")}
    with running_server(create_app(ws)) as url:
        yield ws, tokens, url


@pytest.mark.parametrize("viewport", [VIEWPORT, SMALL])
def test_a_team_member_signs_in_with_the_link_and_votes_under_their_name(team, viewport):
    ws, tokens, base_url = team
    with chromium() as browser:
        context = browser.new_context(viewport=viewport)
        context.set_default_timeout(20_000)
        # Someone else's name in this browser's storage changes nothing in team mode.
        context.add_init_script("localStorage.setItem('va.annotator', 'Mallory');")
        page = context.new_page()
        problems = PageProblems(page)
        page.goto(f"{base_url}?token={tokens['Ana']}")  # sets the cookie, drops the token from the address
        expect(page).to_have_url(re.compile(r"127\.0\.0\.1:\d+/(#.*)?$"))
        button = page.locator("#annotator-button")
        expect(button).to_contain_text("Ana")
        expect(page.locator("#annotator-dialog")).to_be_hidden()
        page.goto(f"{base_url}#/labels/ships/search")
        card = page.locator(".card").first
        expect(card).to_be_visible()
        card.focus()
        page.keyboard.press("p")
        label_id = ws.label("ships")["id"]
        for _ in range(100):
            events = ws.annotations.events(label_id)
            if events:
                break
            page.wait_for_timeout(100)
        assert events and events[-1]["annotator"] == "Ana", events
        button.click()
        expect(page.locator("#annotator-dialog")).to_contain_text("Signed in as Ana")
        shot(page, f"team-signed-in-{viewport['width']}")
        page.keyboard.press("Escape")
        assert problems.unexpected() == []
        context.close()
    with httpx.Client(base_url=base_url) as anonymous:
        assert anonymous.get("/api/labels").status_code == 401
    ws.undo("ships", "Ana")  # the next viewport starts from no votes
