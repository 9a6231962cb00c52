"""/api/labels: create, list, show, rename/edit/archive, model versions, exports."""

from __future__ import annotations

import json
import re
from typing import Literal

from fastapi import APIRouter
from starlette.responses import Response

from ...export import to_csv
from ..deps import UserDep, WorkspaceDep
from ..errors import error_responses
from ..respond import data, plain
from ..schemas import LabelCreate, LabelPatch, LabelPath, Version

router = APIRouter(prefix="/api/labels", tags=["labels"])
EXPORT_CONTENT = {
    "application/x-ndjson": {"schema": {"type": "string"}, "example": '{"clip_id": 3, "value": "positive"}\n'},
    "text/csv": {"schema": {"type": "string"}, "example": "clip_id,value\n3,positive\n"},
}


@router.get("")
def list_labels(ws: WorkspaceDep, archived: bool = False):
    """All labels (archived ones too with ?archived=true)."""
    return data({"labels": ws.list_labels(include_archived=archived)})


@router.post("", status_code=201, responses=error_responses(409))
def create_label(ws: WorkspaceDep, body: LabelCreate):
    """Create a label: a name, and the guideline annotators see (description, keywords)."""
    return data(ws.create_label(body.name, body.description, body.keywords), status_code=201)


@router.get("/{name}")
def get_label(ws: WorkspaceDep, name: LabelPath):
    """A label with its annotation counts and its model versions."""
    label = ws.label(name)
    return data(ws.label_summary(label["id"]))


@router.patch("/{name}", responses=error_responses(409))
def update_label(ws: WorkspaceDep, user: UserDep, name: LabelPath, body: LabelPatch):
    """Rename, edit the description or keywords, archive (archived: true) or bring back."""
    return data(
        ws.update_label(
            name,
            name=body.name,
            description=body.description,
            keywords=body.keywords,
            archived=body.archived,
            editor=user,  # None outside team mode: the server's user
        )
    )


@router.get("/{name}/versions")
def list_versions(ws: WorkspaceDep, name: LabelPath):
    """Every model version of the label, oldest first (AP, threshold, which one is live), and
    every deploy and rollback: `{label, live, versions, deployments}`."""
    return data(ws.versions(name))


@router.get("/{name}/export/model", responses=error_responses(409))
def export_model(ws: WorkspaceDep, name: LabelPath, version: Version = None):
    """The model as JSON: weights, intercept, threshold, embedder, metrics, annotation snapshot."""
    model = ws.export_model(name, version)
    return data(model, headers=_attachment(f"{model['label']}-v{model['version']}.json"))


@router.get(
    "/{name}/export/annotations",
    response_class=Response,
    responses={200: {"description": "One row per line (JSONL) or a CSV table.", "content": EXPORT_CONTENT}},
)
def export_label_annotations(
    ws: WorkspaceDep, name: LabelPath, format: Literal["jsonl", "csv"] = "jsonl", events: bool = False
):
    """Current values per clip (or, with events=true, the raw event log) as JSONL or CSV."""
    rows = ws.export_annotations(name, events=events)
    label = ws.label(name)["name"]
    filename = f"{label}-{'events' if events else 'annotations'}.{format}"
    if format == "csv":
        return Response(to_csv(rows), media_type="text/csv; charset=utf-8", headers=_attachment(filename))
    body = "".join(json.dumps(plain(row), ensure_ascii=False, allow_nan=False) + "\n" for row in rows)
    return Response(body, media_type="application/x-ndjson", headers=_attachment(filename))


def _attachment(filename: str) -> dict:
    safe = re.sub(r"[^A-Za-z0-9._-]", "_", filename)
    return {"content-disposition": f'attachment; filename="{safe}"'}
