"""Production scoring, the pure parts: apply a model artifact, merge segments, draw and export.

Everything here works on plain data (dicts, lists, numpy arrays): no workspace, no catalog.
The names are exported lazily so that ``import videoannotator.score`` stays light: applying a
model artifact (``load_artifact``, ``apply_artifact``) needs numpy alone — no torch, no
scikit-learn, no matplotlib, no OpenTimelineIO.

- ``artifact``: the self-contained model file (format ``videoannotator.model/1``) and its use.
- ``segments``: contiguous above-threshold clips of a video merged into segments.
- ``exports``: segments as an OpenTimelineIO timeline, a CMX 3600 EDL or CSV.
- ``plot``: a video's timeline (probability per label over time) as a PNG.
- ``table``: per-clip score rows as Parquet or CSV.

``production`` is the exception: it reads the workspace (the deployed versions, the catalog's
videos) and is what the ``Workspace`` methods ``score``, ``score_videos``, ``segments`` and
``timeline`` call; it is not exported here.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .artifact import (
        ARTIFACT_FORMAT,
        ArtifactError,
        ArtifactMismatch,
        apply_artifact,
        decode_array,
        encode_array,
        load_artifact,
        positive,
    )
    from .exports import (
        edl_rate,
        label_color,
        segments_csv,
        segments_timeline,
        selects_timeline,
        videos_timeline,
        write_edl,
        write_otio,
    )
    from .plot import timeline_png
    from .segments import merge_segments
    from .table import write_rows

# name → the submodule that defines it
_EXPORTS = {
    "ARTIFACT_FORMAT": "artifact",
    "ArtifactError": "artifact",
    "ArtifactMismatch": "artifact",
    "apply_artifact": "artifact",
    "decode_array": "artifact",
    "encode_array": "artifact",
    "load_artifact": "artifact",
    "positive": "artifact",
    "merge_segments": "segments",
    "edl_rate": "exports",
    "label_color": "exports",
    "segments_csv": "exports",
    "segments_timeline": "exports",
    "selects_timeline": "exports",
    "videos_timeline": "exports",
    "write_edl": "exports",
    "write_otio": "exports",
    "timeline_png": "plot",
    "write_rows": "table",
}

__all__ = [
    "ARTIFACT_FORMAT",
    "ArtifactError",
    "ArtifactMismatch",
    "apply_artifact",
    "decode_array",
    "edl_rate",
    "encode_array",
    "label_color",
    "load_artifact",
    "merge_segments",
    "positive",
    "segments_csv",
    "segments_timeline",
    "selects_timeline",
    "timeline_png",
    "videos_timeline",
    "write_edl",
    "write_otio",
    "write_rows",
]


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_EXPORTS))
