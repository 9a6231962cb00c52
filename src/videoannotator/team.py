"""Team mode: who is who on a shared server.

A workspace is in team mode once it has a user (``va users add NAME`` prints that person's
token, once). From then on the server takes the annotator of every vote, undo, deploy and
label edit from the token of the request, never from the body, so nobody can vote or undo
as somebody else, and the event log records who did it. Only a SHA-256 of each token is
stored: the tokens are 256 random bits, so a plain hash is as good as a slow one here, and
a stolen catalog does not give them away.
"""

from __future__ import annotations

import hashlib
import secrets
import threading
import time
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .catalog.base import Users

TOKEN_BYTES = 32
TEAM_TTL_S = 2.0  # how long a server trusts "this workspace has users" before asking again


def new_token() -> str:
    return "va_" + secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()


class TeamAuth:
    """The server's view of the workspace's users: is it in team mode, and whose token is this.

    Whether the workspace has users is re-read every ``TEAM_TTL_S`` seconds (so the first
    ``va users add`` switches a running server to team mode within that time); a token is
    looked up on every request, so a revoked token stops working at once."""

    def __init__(self, users: Users) -> None:
        self.users = users
        self._lock = threading.Lock()
        self._team: tuple[float, bool] = (float("-inf"), False)

    def team_mode(self) -> bool:
        with self._lock:
            checked, team = self._team
            if time.monotonic() - checked > TEAM_TTL_S:
                team = self.users.active_count() > 0
                self._team = (time.monotonic(), team)
            return team

    def user(self, token: str | None) -> dict[str, Any] | None:
        """The active user whose token this is, else None."""
        if not token:
            return None
        return self.users.by_token_hash(token_hash(token))
