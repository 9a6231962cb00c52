"""Who may talk to the server, from where, and how much.

- Binding to anything but loopback needs a token (``check_bind``), or team mode.
- Team mode (the workspace has users, team.py): every /api and /media request carries the
  token of one active user, and the routes take the annotator from it (``request_user``);
  the server's own token is then refused.
- With a token, every /api and /media request carries it: ``Authorization: Bearer T`` or
  the ``va_token`` cookie that visiting ``/?token=T`` sets once. Compared in constant time.
- Without a token the server is loopback-only, and the Host header must name loopback too:
  a DNS-rebinding page (evil.example resolving to 127.0.0.1) gets 403.
- State-changing requests (POST, PUT, PATCH, DELETE) to a route that takes them must be
  JSON (a cross-site form can only send form/text types) and, when the browser says where
  they come from (``Origin``, ``Sec-Fetch-Site``), come from this very origin; any other
  method gets 405 with ``Allow``.
- Bodies are bounded (``MAX_BODY_BYTES``); every response carries nosniff, no-framing and
  a Content-Security-Policy.
"""

from __future__ import annotations

import hmac
import ipaddress
import re
import threading
import time
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from starlette.datastructures import Headers, MutableHeaders
from starlette.exceptions import HTTPException

from ..errors import VAError
from .errors import CATALOG_UNAVAILABLE, catalog_unreachable, error_response, is_routed

if TYPE_CHECKING:
    from starlette.requests import Request

    from ..workspace import Workspace

MAX_BODY_BYTES = 1 << 20
TOKEN_COOKIE = "va_token"
# Only names that mean this machine. (Not "testserver", the TestClient's default Host: a
# test gives its client base_url="http://127.0.0.1" instead.)
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "::1"})
PROTECTED_PREFIXES = ("/api", "/media", "/openapi.json")  # everything but the page shell
STATE_CHANGING = frozenset({"POST", "PUT", "PATCH", "DELETE"})
TOKEN_RE = re.compile(r"^[A-Za-z0-9._~+/=-]{8,256}$")

PAGE_CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; "
    "media-src 'self' blob:; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
DATA_CSP = "default-src 'none'; frame-ancestors 'none'; sandbox"  # JSON, CSV, media: never a document


def is_loopback(host: str) -> bool:
    host = host.strip().strip("[]").lower()
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def check_bind(host: str, token: str | None, team: bool = False) -> None:
    """Refuse to listen beyond this machine without a token (or team mode), and refuse a weak token."""
    if token is not None and not TOKEN_RE.match(token):
        raise VAError(
            "the token must be 8-256 characters of letters, digits or ._~+/=- "
            "(e.g. from `python -c 'import secrets; print(secrets.token_urlsafe())'`)",
            code="bad_token",
        )
    if team and token is not None:
        raise VAError(
            "this workspace has users (team mode): everyone signs in with their own token from "
            "`va users add NAME`; start the server without --token (and without VA_TOKEN)",
            code="team_mode",
        )
    if token is None and not team and not is_loopback(host):
        raise VAError(
            f"refusing to listen on {host} without a token: anyone who reaches it could read and change "
            "annotations; pass --token (or set VA_TOKEN), add users for team mode (`va users add NAME`), "
            "or listen on 127.0.0.1",
            code="token_required",
        )


def token_matches(given: str | None, token: str) -> bool:
    return given is not None and hmac.compare_digest(given.encode("utf-8", "replace"), token.encode("utf-8"))


def _hostname(host_header: str) -> str:
    """'Example.com:8765' -> 'example.com'; '[::1]:8765' -> '::1'."""
    return (urlsplit("//" + host_header).hostname or "") if host_header else ""


def _origin_matches(origin: str, host_header: str) -> bool:
    parts = urlsplit(origin)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        return False  # "null" (sandboxed frames, file://) and anything odd
    default = {"http": 80, "https": 443}[parts.scheme]
    here = urlsplit("//" + host_header)
    try:
        return parts.hostname == here.hostname and (parts.port or default) == (here.port or default)
    except ValueError:  # a non-numeric port
        return False


def _request_token(headers: Headers) -> str | None:
    auth = headers.get("authorization", "")
    if auth[:7].lower() == "bearer ":
        return auth[7:].strip()
    for part in headers.get("cookie", "").split(";"):
        name, _, value = part.strip().partition("=")
        if name == TOKEN_COOKIE:
            return value
    return None


TEAM_TTL_S = 2.0  # how long the server trusts "this workspace has users" before asking again


class TeamAuth:
    """The server's view of the workspace's users: is it in team mode, and whose token is this.

    Whether the workspace has users is re-read every ``TEAM_TTL_S`` seconds (so the first
    ``va users add`` switches a running server to team mode within that time); a token is
    looked up on every request, so a revoked token stops working at once."""

    def __init__(self, workspace: Workspace) -> None:
        self.workspace = workspace
        self._lock = threading.Lock()
        self._team: tuple[float, bool] = (float("-inf"), False)

    def team_mode(self) -> bool:
        with self._lock:
            checked, team = self._team
            if time.monotonic() - checked > TEAM_TTL_S:
                team = self.workspace.team_mode
                self._team = (time.monotonic(), team)
            return team

    def user(self, token: str | None) -> dict[str, Any] | None:
        return self.workspace.user_for_token(token) if token else None


def request_user(request: Request) -> str | None:
    """The team-mode user who sent the request (set by SecurityMiddleware), else None."""
    return request.scope.get("state", {}).get("va_user")


TEAM_UNAUTHORIZED = (
    "this workspace is in team mode: send your own token ('Authorization: Bearer <token>', or open "
    "/?token=<token> once in the browser); `va users add NAME` makes one"
)


class SecurityMiddleware:
    def __init__(
        self,
        app,
        token: str | None = None,
        allowed_hosts=None,
        max_body: int = MAX_BODY_BYTES,
        team: TeamAuth | None = None,
        team_required: bool = False,
    ):
        """``team``: the workspace's users (team mode while it has any). ``team_required``: the
        server was started in team mode with no token of its own, so if the last user is revoked
        it refuses everything rather than fall back to no check at all."""
        self.app, self.token, self.max_body = app, token, max_body
        self.allowed_hosts = frozenset(h.lower() for h in allowed_hosts) if allowed_hosts else None
        self.team, self.team_required = team, team_required

    def _access(self, scope, headers: Headers) -> tuple[int, str, str] | None:
        """Who may reach /api, /media and /openapi.json: a team user's token in team mode,
        else the server's token when it has one; the user's name goes into the scope."""
        given = _request_token(headers)
        if self.team is not None and self.team.team_mode():
            user = self.team.user(given)
            if user is None:
                return 401, "unauthorized", TEAM_UNAUTHORIZED
            scope.setdefault("state", {})["va_user"] = user["name"]
            return None
        if self.team_required:
            return 401, "unauthorized", "this workspace has no active users any more; restart the server"
        if self.token is not None and not token_matches(given, self.token):
            return (
                401,
                "unauthorized",
                (
                    "this server needs its token: send 'Authorization: Bearer <token>', "
                    "or open /?token=<token> once in the browser"
                ),
            )
        return None

    def refusal(self, scope, headers: Headers) -> tuple[int, str, str] | None:
        """(status, code, message) when the request must not reach the app."""
        host = headers.get("host", "")
        if self.allowed_hosts is not None and _hostname(host) not in self.allowed_hosts:
            return (
                403,
                "forbidden_host",
                (
                    "this server answers only to localhost / 127.0.0.1 (Host header "
                    f"{host[:100]!r}); to serve other names, start it with a token"
                ),
            )
        length = headers.get("content-length")
        if length is not None and (not length.isdigit() or int(length) > self.max_body):
            return 413, "too_large", f"request body over {self.max_body:,} bytes"
        if scope["path"].startswith(PROTECTED_PREFIXES):
            refused = self._access(scope, headers)
            if refused is not None:
                return refused
        # A method the path does not take changes nothing: the router answers 405 (or 404).
        if scope["method"] in STATE_CHANGING and is_routed(scope):
            fetch_site = headers.get("sec-fetch-site", "").lower()
            origin = headers.get("origin")
            if fetch_site in ("cross-site", "same-site") or (origin is not None and not _origin_matches(origin, host)):
                return 403, "cross_site", f"{scope['method']} from another site is not allowed"
            content_type = headers.get("content-type", "").split(";")[0].strip().lower()
            if content_type != "application/json":
                return (
                    415,
                    "unsupported_media_type",
                    (f"{scope['method']} needs 'Content-Type: application/json' (got {content_type[:60] or 'none'!r})"),
                )
        return None

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        csp = DATA_CSP if scope["path"].startswith(PROTECTED_PREFIXES) else PAGE_CSP

        async def send_with_headers(message):
            if message["type"] == "http.response.start":
                headers = MutableHeaders(scope=message)
                headers.setdefault("x-content-type-options", "nosniff")
                headers.setdefault("x-frame-options", "DENY")
                headers.setdefault("referrer-policy", "no-referrer")
                headers.setdefault("cross-origin-resource-policy", "same-origin")
                headers.setdefault("content-security-policy", csp)
                if scope["path"].startswith("/api/"):
                    headers.setdefault("cache-control", "no-store")
            await send(message)

        try:
            problem = self.refusal(scope, Headers(scope=scope))
        except Exception as exc:  # team mode asks the catalog: its server may be gone
            if not catalog_unreachable(exc):
                raise
            problem = 503, "catalog_unavailable", CATALOG_UNAVAILABLE
        if problem is not None:
            status, code, message = problem
            extra = {"www-authenticate": "Bearer"} if status == 401 else None
            return await error_response(status, code, message, extra)(scope, receive, send_with_headers)

        received = 0

        async def bounded_receive():
            nonlocal received
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > self.max_body:  # a chunked body with no Content-Length
                    raise HTTPException(413, f"request body over {self.max_body:,} bytes")
            return message

        await self.app(scope, bounded_receive, send_with_headers)
