"""GET /api/labels/{name}/history: the label's guideline edits, newest first."""

from __future__ import annotations

from fastapi import APIRouter

from ..deps import WorkspaceDep
from ..respond import data
from ..schemas import LabelPath

router = APIRouter(prefix="/api/labels", tags=["labels"])


@router.get("/{name}/history")
def label_history(ws: WorkspaceDep, name: LabelPath):
    """Every edit of the label's name, description, keywords or archived flag, newest first:
    when, who, which fields, and the values before and after."""
    return data({"label": ws.label(name)["name"], "history": ws.label_history(name)})
