"""What a route gets injected: the one shared Workspace, and the lock around its lazy caches."""

from __future__ import annotations

import threading
from typing import Annotated

from fastapi import Depends, Request

from ..workspace import Workspace


async def _workspace(request: Request) -> Workspace:
    return request.app.state.workspace


async def _compute_lock(request: Request) -> threading.Lock:
    return request.app.state.compute_lock


# The Workspace loads its embedder, vector index and corpus clusters on first use and keeps
# them in plain attributes; routes that reach those (search, similar, build) hold this lock
# so two first requests do not build them twice or grow the index at the same moment.
WorkspaceDep = Annotated[Workspace, Depends(_workspace)]
ComputeLock = Annotated[threading.Lock, Depends(_compute_lock)]
