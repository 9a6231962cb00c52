"""GET /api/me: who the page is talking as (team mode's user, from the token)."""

from __future__ import annotations

from fastapi import APIRouter, Request

from ..deps import UserDep
from ..respond import data

router = APIRouter(prefix="/api", tags=["catalog"])


@router.get("/me")
def me(request: Request, user: UserDep):
    """`{team, name}`: in team mode (the workspace has users) `name` is the token's user, whose
    name every vote, undo, deploy and label edit records; otherwise `team` is false and the
    client names its annotator itself."""
    return data({"team": request.app.state.team.team_mode(), "name": user})
