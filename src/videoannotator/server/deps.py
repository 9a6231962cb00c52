"""What a route gets injected: the one shared Workspace, and the lock around its lazy caches."""

from __future__ import annotations

import threading
from typing import Annotated

from fastapi import Depends, Request

from ..errors import InvalidInput
from ..workspace import Workspace
from .security import request_user


async def _workspace(request: Request) -> Workspace:
    return request.app.state.workspace


async def _user(request: Request) -> str | None:
    return request_user(request)


async def _compute_lock(request: Request) -> threading.Lock:
    return request.app.state.compute_lock


# The Workspace loads its embedder, vector index and corpus clusters on first use and keeps
# them in plain attributes; routes that reach those (search, similar, build) hold this lock
# so two first requests do not build them twice or grow the index at the same moment.
WorkspaceDep = Annotated[Workspace, Depends(_workspace)]
ComputeLock = Annotated[threading.Lock, Depends(_compute_lock)]
# The team-mode user who sent the request (None outside team mode): routes that record who did
# something take the name from here, never from the body, when it is set.
UserDep = Annotated[str | None, Depends(_user)]


def who(user: str | None, given: str | None) -> str:
    """The name to record: the token's user in team mode, else the name the client gave."""
    if user is not None:
        return user
    if not given:
        raise InvalidInput('annotator: give your name, e.g. "annotator": "ana"')
    return given
