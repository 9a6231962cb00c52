"""JSON out: numpy scalars and arrays become plain numbers and lists, NaN/inf become null
(browsers' JSON.parse rejects NaN)."""

from __future__ import annotations

import json
import math

import numpy as np
from starlette.responses import JSONResponse


def plain(value):
    """A structure json.dumps(allow_nan=False) accepts."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return plain(value.tolist())
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, bytes):
        return None  # never ship raw blobs (e.g. stored weights) by accident
    return value


class DataResponse(JSONResponse):
    def render(self, content) -> bytes:
        return json.dumps(plain(content), ensure_ascii=False, allow_nan=False, separators=(",", ":")).encode("utf-8")


def data(content, status_code: int = 200, headers: dict | None = None) -> DataResponse:
    return DataResponse(content, status_code=status_code, headers=headers)
