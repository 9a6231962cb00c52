"""The page shell at / (server/static/index.html), its files at /static (``PageFiles``) and
the one-time token exchange: /?token=T sets the va_token cookie and drops T from the address."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, Query, Request
from starlette.responses import FileResponse, HTMLResponse, RedirectResponse
from starlette.staticfiles import StaticFiles

from ..errors import error_response
from ..security import TOKEN_COOKIE, token_matches

STATIC = Path(__file__).parent.parent / "static"
COOKIE_DAYS = 30

router = APIRouter(include_in_schema=False)


class PageFiles(StaticFiles):
    """The page's scripts and styles, mounted at /static. Revalidated on every load (the
    ETag answers 304), so after an upgrade the browser never runs yesterday's modules
    against today's API."""

    def file_response(self, *args, **kwargs):
        response = super().file_response(*args, **kwargs)
        response.headers.setdefault("cache-control", "no-cache")
        return response


PLACEHOLDER = """<!doctype html><html lang="en"><meta charset="utf-8"><title>Video Annotator</title>
<h1>Video Annotator</h1>
<p>The JSON API is under <code>/api</code>; its schema is <a href="/openapi.json">/openapi.json</a>.</p>
</html>"""


@router.get("/")
def page(request: Request, token: Annotated[str | None, Query(max_length=256)] = None):
    expected, team_mode = request.app.state.token, request.app.state.team.team_mode()
    if token is not None and (team_mode or expected is not None):
        if team_mode and request.app.state.team.user(token) is None:
            return error_response(401, "unauthorized", "unknown or revoked token; `va users add NAME` makes a new one")
        if not team_mode and not token_matches(token, expected):
            return error_response(401, "unauthorized", "wrong token; use the one the server was started with")
        response = RedirectResponse("/", status_code=303)
        response.set_cookie(
            TOKEN_COOKIE,
            token,
            max_age=COOKIE_DAYS * 86400,
            path="/",
            httponly=True,
            samesite="strict",
            secure=request.url.scheme == "https",
        )
        return response
    index = STATIC / "index.html"
    if index.is_file():
        return FileResponse(index, media_type="text/html; charset=utf-8", headers={"cache-control": "no-cache"})
    return HTMLResponse(PLACEHOLDER)
