"""``create_app(workspace, token=None, warm=False)``: the JSON API (/api), clip media (/media) and the
page (/, /static) over one shared Workspace. Routes parse, call the Workspace, format."""

from __future__ import annotations

import threading
from typing import TYPE_CHECKING, Any

from fastapi import FastAPI

from .errors import CatchAllMiddleware, declare_errors, install_error_handlers
from .respond import DataResponse
from .routes import clips as routes_clips
from .routes import history as routes_history
from .routes import labels as routes_labels
from .routes import loop as routes_loop
from .routes import me as routes_me
from .routes import media as routes_media
from .routes import page as routes_page
from .routes import production as routes_production
from .security import LOOPBACK_HOSTS, MAX_BODY_BYTES, SecurityMiddleware, TeamAuth, check_bind

if TYPE_CHECKING:
    from ..workspace import Workspace


def create_app(
    workspace: Workspace, token: str | None = None, *, max_body: int = MAX_BODY_BYTES, warm: bool = False
) -> FastAPI:
    """The app for one Workspace. Without a token it answers only to loopback Host names;
    with one, every /api, /media and /openapi.json request must carry it. Once the workspace
    has users (team mode), each request carries its user's token instead (team.py).

    ``warm``: start loading the text model now, in a background thread, so the first search
    does not wait for it (``va serve`` asks; tests and benchmarks that build an app do not,
    unless they say so). GET /api/info's ``text_model`` says where it is."""
    if token is not None:
        check_bind("127.0.0.1", token)  # just the token's form
    app = FastAPI(
        title="Video Annotator",
        version=_version(),
        default_response_class=DataResponse,
        docs_url=None,
        redoc_url=None,  # Swagger/ReDoc pages load scripts from a CDN
        description="Build binary video classifiers: search, annotate, build, four feeds, review.",
    )
    app.state.workspace = workspace
    app.state.token = token
    app.state.compute_lock = threading.Lock()
    install_error_handlers(app)
    for module in (routes_clips, routes_labels, routes_loop, routes_production, routes_media, routes_page):
        app.include_router(module.router)
    app.include_router(routes_history.router)
    app.include_router(routes_me.router)
    if routes_page.STATIC.is_dir():  # the web page's files, once they exist
        app.mount("/static", routes_page.PageFiles(directory=routes_page.STATIC), name="static")
    _declare_errors_in_openapi(app)
    # Added last = outermost: security checks run first and add headers to every answer.
    app.add_middleware(CatchAllMiddleware)
    app.state.team = team = TeamAuth(workspace)
    team_at_start = workspace.team_mode
    app.add_middleware(
        SecurityMiddleware,
        token=token,
        allowed_hosts=None if token or team_at_start else LOOPBACK_HOSTS,
        max_body=max_body,
        team=team,
        team_required=team_at_start and token is None,
    )
    if warm:
        workspace.warm_text_model()
    return app


def _declare_errors_in_openapi(app: FastAPI) -> None:
    """/openapi.json lists the error statuses every route can answer (errors.declare_errors)."""
    generate = app.openapi

    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = declare_errors(generate())
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]  # FastAPI's documented way to extend the schema


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("videoannotator")
    except PackageNotFoundError:
        return "0"
