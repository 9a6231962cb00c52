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

TOKEN_BYTES = 32


def new_token() -> str:
    return "va_" + secrets.token_urlsafe(TOKEN_BYTES)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode("utf-8", "replace")).hexdigest()
