"""One error shape for every failure: ``{"error": {"code": str, "message": str}}`` + status.

Library errors (VAError) keep their own status and code; request validation, unknown
routes, wrong methods, oversized bodies and unexpected exceptions are mapped here, so a
client never sees FastAPI's ``{"detail": ...}`` or a traceback.
"""

from __future__ import annotations

import logging

from fastapi import FastAPI
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException
from starlette.responses import JSONResponse

from ..errors import VAError

log = logging.getLogger("videoannotator.server")

# Codes for statuses Starlette raises itself (unknown route, wrong method, ...).
HTTP_CODES = {
    400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
    413: "too_large", 415: "unsupported_media_type", 416: "range_not_satisfiable", 422: "invalid_input",
}


def error_response(status: int, code: str, message: str, headers: dict | None = None) -> JSONResponse:
    return JSONResponse({"error": {"code": code, "message": message}}, status_code=status, headers=headers)


async def _va_error(request, exc: VAError):
    return error_response(exc.status, exc.code, exc.message)


async def _http_error(request, exc: HTTPException):
    method, path = request.method, request.url.path
    if exc.status_code == 404 and exc.detail == "Not Found":
        message = f"no such route: {method} {path}; /openapi.json lists the API"
    elif exc.status_code == 405:
        allow = {k.lower(): v for k, v in (exc.headers or {}).items()}.get("allow", "?")
        message = f"{method} is not allowed on {path}; allowed: {allow}"
    else:
        message = str(exc.detail)
    return error_response(exc.status_code, HTTP_CODES.get(exc.status_code, "http_error"), message, exc.headers)


def validation_message(errors) -> str:
    """'body.clip_ids.3: Input should be greater than or equal to 0' (+ how many more)."""
    errors = list(errors)
    if not errors:
        return "invalid request"
    first = errors[0]
    where = ".".join(str(part) for part in first.get("loc", ()))
    message = f"{where}: {first.get('msg', 'invalid value')}" if where else str(first.get("msg"))
    if len(errors) > 1:
        message += f" (and {len(errors) - 1} more problem{'s' if len(errors) > 2 else ''})"
    return message


async def _validation_error(request, exc: RequestValidationError):
    return error_response(422, "invalid_input", validation_message(exc.errors()))


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(VAError, _va_error)
    app.add_exception_handler(HTTPException, _http_error)
    app.add_exception_handler(RequestValidationError, _validation_error)


class CatchAllMiddleware:
    """Any exception nobody handled: log it with its traceback, answer 500 without one.

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
        except Exception:
            log.exception("unexpected error on %s %s", scope.get("method"), scope.get("path"))
            if started:
                raise
            response = error_response(500, "internal_error",
                                      "unexpected server error; the server log has the details")
            await response(scope, receive, send)
