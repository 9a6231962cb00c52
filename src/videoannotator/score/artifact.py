"""A model version as a self-contained file, and its application to vectors with numpy alone.

``va export LABEL --what model`` writes one JSON object; anyone with numpy can score vectors
with it (``load_artifact`` + ``apply_artifact``), without this package's workspace, torch or
scikit-learn. This module imports only the standard library and numpy, on purpose.

The JSON fields (format ``videoannotator.model/1``):

- ``format``: ``"videoannotator.model/1"`` — checked by ``load_artifact``.
- ``label`` (str), ``version`` (int): which model this is.
- ``embedder``: ``{"name": str, "version": str}`` — the embedder whose vectors the model
  scores (e.g. ``conse-effnet-minilm``). Vectors from any other embedder are refused.
- ``trained_on``: which of the embedder's spaces the weights apply to (e.g. ``"features"``,
  the classifier features, or ``"vectors"``, the search space); informative.
- ``dim`` (int): the width of the vectors the weights apply to (= the length of ``weights``).
- ``weights``: the linear model's coefficients, an encoded array (below) of shape ``(dim,)``
  — or a plain JSON list of numbers.
- ``intercept`` (float).
- ``calibration``: ``{"a": float, "b": float}`` — Platt scaling: the probability of a clip
  with logit ``z = vectors @ weights + intercept`` is ``1 / (1 + exp(-(a * z + b)))``.
- ``threshold``: ``{"probability": float, "logit": float, "rule": str, "precision": float,
  "recall": float, "intervals": {...}}`` — a clip is positive when its probability is
  *above* ``probability`` (equal is negative: the product's one decision rule); ``rule``
  says how it was chosen (e.g. ``"f1-best"``, ``"precision>=0.9"``); precision and recall
  are what to expect at it, ``intervals`` their bootstrap intervals (``{"precision": [lo,
  hi], "recall": [lo, hi]}``).
- ``projection`` (optional): the feature projection the model trained behind, an encoded
  array of shape ``(d_in, dim)`` plus ``"normalise": "l2"`` or ``null``. Vectors ``d_in``
  wide (the embedder's raw features) are projected (``x @ P``, then L2-normalised per row
  when ``normalise`` is ``"l2"``) before the weights apply; vectors ``dim`` wide are taken
  as already projected.
- ``metrics``: the Build's metrics (AP, its interval, counts, ...), free-form.
- ``snapshot``: the training snapshot summary ``{"positives": int, "negatives": int,
  "last_annotation_id": int}``.
- ``created_at``: ISO 8601 UTC timestamp of the export.

An encoded array is ``{"shape": [..], "dtype": "float32" | "float64", "base64": str}``: the
array's little-endian bytes in C order, base64-encoded (``encode_array`` / ``decode_array``).
"""

from __future__ import annotations

import base64
import json
import math
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

__all__ = [
    "ARTIFACT_FORMAT",
    "ArtifactError",
    "ArtifactMismatch",
    "apply_artifact",
    "decode_array",
    "encode_array",
    "load_artifact",
    "positive",
]

ARTIFACT_FORMAT = "videoannotator.model/1"

_DTYPES: dict[str, np.dtype[Any]] = {"float32": np.dtype("<f4"), "float64": np.dtype("<f8")}


class ArtifactMismatch(ValueError):
    """The vectors cannot be scored by this artifact (another embedder, another width).

    Its message is one line that says what the model needs and what to do.
    """


class ArtifactError(ValueError):
    """The file is not a model artifact this code can read (format, missing or bad fields)."""


def encode_array(array: npt.ArrayLike) -> dict[str, Any]:
    """An array of floats as ``{"shape", "dtype", "base64"}`` (float64 kept, others → float32)."""
    a = np.asarray(array)
    name = "float64" if a.dtype == np.float64 else "float32"
    data = np.ascontiguousarray(a, dtype=_DTYPES[name])
    return {"shape": list(data.shape), "dtype": name, "base64": base64.b64encode(data.tobytes()).decode("ascii")}


def decode_array(encoded: Mapping[str, Any] | list[Any]) -> npt.NDArray[np.floating[Any]]:
    """The array ``encode_array`` encoded (a plain JSON list of numbers is accepted too)."""
    if isinstance(encoded, list):
        return np.asarray(encoded, dtype=np.float64)
    try:
        dtype = _DTYPES[str(encoded["dtype"])]
        shape = tuple(int(s) for s in encoded["shape"])
        raw = base64.b64decode(str(encoded["base64"]), validate=True)
    except (KeyError, TypeError, ValueError) as e:
        raise ArtifactError(f"bad encoded array ({e}): expected {{shape, dtype: float32|float64, base64}}") from e
    count = math.prod(shape)
    if len(raw) != count * dtype.itemsize:
        raise ArtifactError(f"bad encoded array: {len(raw)} bytes for shape {list(shape)} of {dtype.name}")
    decoded: npt.NDArray[np.floating[Any]] = (
        np.frombuffer(raw, dtype=dtype).reshape(shape).astype(dtype.newbyteorder("="))
    )
    return decoded


def load_artifact(path: str | Path) -> dict[str, Any]:
    """The artifact JSON at ``path``, its format checked (``ArtifactError`` otherwise)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as e:
        raise ArtifactError(f"{path} is not a model artifact (not JSON: {e})") from e
    if not isinstance(data, dict) or data.get("format") != ARTIFACT_FORMAT:
        found = data.get("format") if isinstance(data, dict) else type(data).__name__
        raise ArtifactError(f"{path} is not a model artifact of format {ARTIFACT_FORMAT} (format: {found!r})")
    return data


def _embedder_name(artifact: Mapping[str, Any]) -> str:
    embedder = artifact.get("embedder")
    if isinstance(embedder, Mapping):
        return str(embedder.get("name"))
    return str(embedder)


def apply_artifact(artifact: Mapping[str, Any], vectors: npt.ArrayLike, embedder: str) -> npt.NDArray[np.float64]:
    """Calibrated probabilities, one per row of ``vectors`` (``(n, d)``; one vector ``(d,)`` → ``(1,)``).

    ``embedder`` names the embedder the vectors come from; it must be the artifact's. Vectors
    as wide as the weights are scored directly; vectors as wide as the projection's input
    are projected first. Anything else raises ``ArtifactMismatch`` (one line).
    """
    weights = decode_array(artifact["weights"]).astype(np.float64).reshape(-1)
    dim = weights.shape[0]
    projection = artifact.get("projection")
    matrix = decode_array(projection) if projection else None
    trained = _embedder_name(artifact)
    label = artifact.get("label", "this label")
    widths = f"{dim}-d" if matrix is None else f"{matrix.shape[0]}-d, or {dim}-d projected"
    if embedder != trained:
        raise ArtifactMismatch(
            f"this model ({label} v{artifact.get('version', '?')}) was trained on {trained} features ({widths}); "
            f"these vectors come from {embedder}: score them with a model built on {embedder} vectors, "
            f"or embed the videos with {trained}"
        )
    x = np.asarray(vectors)
    if x.ndim == 1:
        x = x.reshape(1, -1)
    if x.ndim != 2:
        raise ArtifactMismatch(f"vectors must be a matrix (n, d), not an array of shape {list(x.shape)}")
    if x.shape[1] != dim:
        if matrix is None or x.shape[1] != matrix.shape[0]:
            raise ArtifactMismatch(
                f"this model ({label}) scores {trained} vectors {widths} wide; these are {x.shape[1]}-d: "
                f"pass the {trained} vectors it was trained on ({artifact.get('trained_on', 'features')})"
            )
        projected = x.astype(np.float32) @ matrix.astype(np.float32)
        if isinstance(projection, Mapping) and projection.get("normalise") == "l2":
            norms = np.linalg.norm(projected, axis=-1, keepdims=True)
            projected = projected / np.maximum(norms, np.float32(1e-12))
        x = projected
    logits = x.astype(np.float64) @ weights + float(artifact.get("intercept", 0.0))
    calibration = artifact.get("calibration") or {}
    a = float(calibration.get("a", 1.0))
    b = float(calibration.get("b", 0.0))
    z = a * logits + b
    with np.errstate(over="ignore"):
        probabilities: npt.NDArray[np.float64] = 1.0 / (1.0 + np.exp(-z))
    return probabilities


def positive(artifact: Mapping[str, Any], probabilities: npt.ArrayLike) -> npt.NDArray[np.bool_]:
    """Which probabilities are positive: above the artifact's threshold (equal is negative).

    The product's one rule (``videoannotator.learn.decision.is_positive``), restated here
    because this module must not import the package (``videoannotator.learn`` pulls
    scikit-learn); tests/test_score_parts.py checks that the two agree.
    """
    threshold = float(artifact["threshold"]["probability"])
    result: npt.NDArray[np.bool_] = np.greater(np.asarray(probabilities, dtype=np.float64), threshold)
    return result
