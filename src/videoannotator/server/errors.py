"""One error shape for every failure: ``{"error": {"code": str, "message": str}}`` + status.

Library errors (VAError) keep their own status and code; request validation, unknown
routes, wrong methods, oversized bodies, a full disk (507) and unexpected exceptions are
mapped here, so a client never sees FastAPI's ``{"detail": ...}`` or a traceback.
The OpenAPI schema declares every status a route can answer with this shape:
``declare_errors`` adds those the app gives any route of its kind (token, Host, body size,
disk, validation, content type, an unknown name in the path); a route adds its own (a 409,
a 404 from a query parameter) with ``responses=error_responses(...)``.
"""

from __future__ import annotations

import logging
import os
import shutil
from collections.abc import Mapping
from pathlib import Path

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from pydantic import BaseModel
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Match, Mount

from ..errors import DiskFull, VAError, is_disk_full

log = logging.getLogger("videoannotator.server")

# Codes for statuses Starlette raises itself (unknown route, wrong method, ...).
HTTP_CODES = {
    400: "bad_request",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    413: "too_large",
    415: "unsupported_media_type",
    416: "range_not_satisfiable",
    422: "invalid_input",
}


ERROR_DESCRIPTIONS = {
    400: "The request body could not be read (e.g. not UTF-8).",
    401: "This server needs its token (only when started with one).",
    403: "The Host header is not loopback (without a token), or a write came from another site.",
    404: "No such label, clip, model version or route.",
    405: "Not a method of this path; `Allow` lists those that are.",
    409: "Conflicts with what is stored (a name taken, not ready to build, an idempotency key reused).",
    413: "The request body is over the size limit.",
    415: "A write without 'Content-Type: application/json'.",
    416: "The Range header asks for bytes past the end of the file.",
    422: "A parameter or body field is invalid; the message names it.",
    500: "An unexpected error; the server log has the details.",
    507: "The disk holding the workspace is full; nothing stored was lost.",
}


class ErrorDetail(BaseModel):
    code: str
    message: str


class ErrorBody(BaseModel):
    """Every failure: a stable code for programs, a one-line message for people."""

    error: ErrorDetail


def error_responses(*statuses: int) -> dict:
    """The ``responses=`` entries that declare the error shape for these statuses."""
    return {status: {"model": ErrorBody, "description": ERROR_DESCRIPTIONS[status]} for status in statuses}


# Any route, before or after it runs: a missing token, a foreign Host or a cross-site write,
# an oversized body, the unexpected, a full disk.
ANY_ROUTE = (401, 403, 413, 500, 507)
WRITES = ("post", "put", "patch", "delete")


def declare_errors(openapi: dict) -> dict:
    """Add to each operation of an OpenAPI document the error statuses the app answers for
    any route of its kind: ANY_ROUTE; 422 with parameters or a body; 400 and 415 on writes;
    404 with a path parameter (it names a label or clip that may not exist)."""
    schemas = openapi.setdefault("components", {}).setdefault("schemas", {})
    body = ErrorBody.model_json_schema(ref_template="#/components/schemas/{model}")
    schemas.update(body.pop("$defs", {}))
    schemas["ErrorBody"] = body
    content = {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorBody"}}}
    for path, operations in openapi.get("paths", {}).items():
        for method, operation in operations.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            statuses = set(ANY_ROUTE)
            if operation.get("parameters") or operation.get("requestBody"):
                statuses.add(422)
            if method in WRITES:
                statuses |= {400, 415, 422}
            if "{" in path:
                statuses.add(404)
            for status in sorted(statuses):
                operation["responses"].setdefault(
                    str(status), {"description": ERROR_DESCRIPTIONS[status], "content": content}
                )
    return openapi


def error_response(status: int, code: str, message: str, headers: Mapping[str, str] | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


async def _va_error(request: Request, exc: VAError) -> JSONResponse:
    return error_response(exc.status, exc.code, exc.message)


async def _http_error(request: Request, exc: HTTPException) -> JSONResponse:
    method, path = request.method, request.url.path
    if exc.status_code == 404 and exc.detail == "Not Found":
        message = f"no such route: {method} {path}; /openapi.json lists the API"
    elif exc.status_code == 405:
        allow = allowed_methods(request.scope)
        if allow:  # every route at this path, not only the first one the router tried
            headers = {k: v for k, v in (exc.headers or {}).items() if k.lower() != "allow"}
            exc = HTTPException(405, exc.detail, {**headers, "Allow": ", ".join(allow)})
        allow_header = {k.lower(): v for k, v in (exc.headers or {}).items()}.get("allow", "?")
        message = f"{method} is not allowed on {path}; allowed: {allow_header}"
    else:
        message = str(exc.detail)
    return error_response(exc.status_code, HTTP_CODES.get(exc.status_code, "http_error"), message, exc.headers)


HTTP_METHODS = ("GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "TRACE", "CONNECT")


def allowed_methods(scope) -> list[str]:
    """The methods some route takes at this request's path (all routes, not only the first
    one the router tried, so a path with GET and PATCH lists both)."""
    return [method for method in HTTP_METHODS if is_routed({**scope, "method": method})]


def is_routed(scope) -> bool:
    """Whether some route takes this method at this path (else the router answers 404/405)."""
    router = getattr(scope.get("app"), "router", None)
    if router is None:
        return True
    reading = scope["method"] in ("GET", "HEAD")
    # A Mount matches every method; the only one here serves static files, which are read-only.
    return any(
        route.matches(scope)[0] is Match.FULL for route in router.routes if reading or not isinstance(route, Mount)
    )


# What to do, for fields whose rule a pattern states (pydantic's message only quotes it).
FIELD_HINTS = {"idempotency-key": "send 1-255 printable ASCII characters without spaces, e.g. a UUID"}


def validation_message(errors) -> str:
    """'body.clip_ids.3: Input should be greater than or equal to 0' (+ how many more)."""
    errors = list(errors)
    if not errors:
        return "invalid request"
    first = errors[0]
    where = ".".join(str(part) for part in first.get("loc", ()))
    message = f"{where}: {first.get('msg', 'invalid value')}" if where else str(first.get("msg"))
    hint = FIELD_HINTS.get(str((first.get("loc") or ("",))[-1]))
    if hint:
        message += f"; {hint}"
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    return message


async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    return error_response(422, "invalid_input", validation_message(exc.errors()))


def install_error_handlers(app: FastAPI) -> None:
    # Starlette types a handler as taking any Exception; it calls each with its own class only.
    app.add_exception_handler(VAError, _va_error)  # type: ignore[arg-type]
    app.add_exception_handler(HTTPException, _http_error)  # type: ignore[arg-type]
    app.add_exception_handler(RequestValidationError, _validation_error)  # type: ignore[arg-type]


def disk_full(exc: BaseException) -> bool:
    """ENOSPC anywhere in the exception's chain, or the catalog's 'database or disk is full'."""
    seen = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        if is_disk_full(current):
            return True
        current = current.__cause__ or current.__context__
    return False


CATALOG_UNAVAILABLE = "the catalog's database server cannot be reached; retry in a moment (nothing stored was lost)"


def catalog_unreachable(exc: BaseException) -> bool:
    """A PostgreSQL catalog's server went away mid-request (the next request reconnects)."""
    return any(k.__module__.startswith("psycopg") and k.__name__ == "OperationalError" for k in type(exc).__mro__)


def disk_full_error(home) -> DiskFull:
    """A one-line DiskFull naming the disk that holds the workspace and its free space."""
    home = Path(home)
    mount = home.resolve()
    while not os.path.ismount(mount) and mount != mount.parent:
        mount = mount.parent
    try:
        free = f"{shutil.disk_usage(home).free / 2**20:,.0f} MiB free"
    except OSError:
        free = "free space unknown"
    return DiskFull(
        f"the disk holding the workspace {home} (mounted at {mount}, {free}) is full; "
        "free some space there and retry: nothing stored was lost"
    )


class CatchAllMiddleware:
    """Any exception nobody handled: a full disk answers 507, a PostgreSQL catalog's server
    that went away 503; anything else is logged with its traceback and answers 500 without one.

    (Starlette's own handler for ``Exception`` re-raises after answering, so the server
    would log the traceback a second time; this one ends it here.)
    """

    def __init__(self, app):
        self.app = app

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = False

        async def send_tracking(message):
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, receive, send_tracking)
        except Exception as exc:
            workspace = getattr(getattr(scope.get("app"), "state", None), "workspace", None)
            if disk_full(exc) and workspace is not None and not started:
                log.warning("disk full on %s %s: %s", scope.get("method"), scope.get("path"), exc)
                error = disk_full_error(workspace.home)
                return await error_response(error.status, error.code, error.message)(scope, receive, send)
            if catalog_unreachable(exc) and not started:
                log.warning("catalog server unreachable on %s %s: %s", scope.get("method"), scope.get("path"), exc)
                return await error_response(503, "catalog_unavailable", CATALOG_UNAVAILABLE)(scope, receive, send)
            log.exception("unexpected error on %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise
            response = error_response(500, "internal_error", "unexpected server error; the server log has the details")
            await response(scope, receive, send)
