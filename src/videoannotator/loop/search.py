"""Step 1: text → clips (zero-shot), or clip → similar clips."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import numpy as np

from ..errors import InvalidInput
from .clips import annotated_ids, describe_clips, page

if TYPE_CHECKING:
    from ..workspace import Workspace


def search(
    ws: Workspace,
    text: str | None = None,
    clip_id: int | None = None,
    k: int = 20,
    offset: int = 0,
    label: str | int | None = None,
    hide_annotated: bool = False,
) -> list[dict[str, Any]]:
    k, offset = page(k, offset)
    if (text is None) == (clip_id is None):
        raise InvalidInput("search needs either a text query or a clip id (more like this clip)")
    if text is not None:
        text = str(text).strip()
        if not text or len(text) > 1000:
            raise InvalidInput("the search text must be 1-1,000 characters")
        query = ws.text_encoder.encode_texts([text])[0]  # the text tower alone where it can
    else:
        assert clip_id is not None
        query = np.asarray(ws.vectors()[ws.clip(clip_id)["id"]], dtype=np.float32)
    exclude: set[int] = set()
    if clip_id is not None:
        exclude.add(int(clip_id))
    if hide_annotated:
        if label is None:
            raise InvalidInput("hide_annotated needs a label")
        exclude |= set(annotated_ids(ws, ws.label(label)["id"]).tolist())
    ids, scores = ws.index().search(
        query, k, exclude=np.fromiter(exclude, dtype=np.int64) if exclude else None, offset=offset
    )
    return describe_clips(ws, ids, scores)
