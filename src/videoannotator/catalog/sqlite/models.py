"""Model versions: one row per build (weights, embedder, the annotation snapshot, metrics),
plus the corpus scores it produced in ``models/<label id>-v<version>.scores.f32``."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import numpy.typing as npt

from ...errors import NotFound
from ..base import Row, Rows
from ..rules import utc_now
from ..sql import Store as Catalog


class ModelVersions:
    def __init__(self, catalog: Catalog, folder: Path) -> None:
        self.catalog = catalog
        self.folder = Path(folder)

    def scores_path(self, label_id: int, version: int) -> Path:
        return self.folder / f"{label_id}-v{version}.scores.f32"

    def save(
        self,
        label_id: int,
        embedder: str,
        coef: npt.ArrayLike,
        intercept: float,
        threshold: float,
        scores: npt.ArrayLike,
        last_annotation_id: int,
        snapshot: Row,
        metrics: Row,
        trained_on: str = "vectors",
    ) -> Row:
        weights = np.asarray(coef, dtype=np.float32)
        corpus = np.asarray(scores, dtype=np.float32)
        with self.catalog.transaction() as db:
            version = int(
                db.execute(
                    "SELECT COALESCE(MAX(version), 0) + 1 FROM model_versions WHERE label_id=?", (label_id,)
                ).fetchone()[0]
            )
            path = self.scores_path(label_id, version)
            tmp = path.with_suffix(".tmp")
            corpus.tofile(tmp)
            os.replace(tmp, path)
            db.execute(
                "INSERT INTO model_versions(label_id, version, embedder, dim, coef, intercept, threshold, clips_scored,"
                " last_annotation_id, snapshot, metrics, created_at, trained_on) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)",
                (
                    label_id,
                    version,
                    embedder,
                    int(weights.shape[0]),
                    weights.tobytes(),
                    float(intercept),
                    float(threshold),
                    len(corpus),
                    int(last_annotation_id),
                    json.dumps(snapshot),
                    json.dumps(metrics, default=float),
                    utc_now(),
                    trained_on,
                ),
            )
        return self.get(label_id, version)

    def get(self, label_id: int, version: int | None = None) -> Row:
        if version is None:
            rows = self.catalog.query(
                "SELECT * FROM model_versions WHERE label_id=? ORDER BY version DESC LIMIT 1", (label_id,)
            )
        else:
            rows = self.catalog.query(
                "SELECT * FROM model_versions WHERE label_id=? AND version=?", (label_id, int(version))
            )
        if not rows:
            raise NotFound(
                "no model version yet for this label; annotate a positive and a negative, then build"
                if version is None
                else f"no model version {version} for this label"
            )
        r = dict(rows[0])
        r["coef"] = np.frombuffer(r["coef"], dtype=np.float32)
        r["snapshot"] = json.loads(r["snapshot"])
        r["metrics"] = json.loads(r["metrics"])
        return r

    def latest_or_none(self, label_id: int) -> Row | None:
        try:
            return self.get(label_id)
        except NotFound:
            return None

    def list(self, label_id: int) -> Rows:
        rows = self.catalog.query(
            "SELECT version, embedder, trained_on, clips_scored, last_annotation_id, metrics, created_at FROM model_versions"
            " WHERE label_id=? ORDER BY version",
            (label_id,),
        )
        return [{**dict(r), "metrics": json.loads(r["metrics"])} for r in rows]

    def scores(self, model: Row) -> npt.NDArray[np.float32]:
        return np.fromfile(self.scores_path(model["label_id"], model["version"]), dtype=np.float32)
