"""`va bench score`: how fast deployed versions score clips that are already embedded.

A synthetic workspace: the first half of the clips is the corpus the labels are built on
(random unit vectors, each label a planted direction, 300 annotations), each label's version
is deployed, then the second half arrives (committed as new videos, as an ingest would) and is
scored two ways:
- ``core``: what the ingest hook and monitoring do per label — the version's logits for the new
  clips (``score_corpus``), calibrated probabilities and decisions: clips × labels per second;
- ``rows``: ``Workspace.score_videos`` over the new videos — the same plus one row per clip ×
  label (what ``va score`` writes) and a score batch per video and label.
Anchor (docs/benchmarks.md, "The loop"): one Build scores 500k clips in ~23–28 ms here.
"""

from __future__ import annotations

import os
import platform
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from ..names import DEFAULT_DIM, DEFAULT_EMBEDDER
from .synthetic import commit_random_video


def run(
    clips: int = 200_000, labels: int = 3, videos: int = 20, repeats: int = 5, seed: int = 0, dim: int = DEFAULT_DIM
) -> dict[str, Any]:
    from ..learn.classifier import score_corpus
    from ..learn.decision import is_positive
    from ..registry.versions import probabilities
    from ..workspace import Workspace

    rng = np.random.default_rng(seed)
    per_video = max(1, clips // (2 * videos))
    with tempfile.TemporaryDirectory(prefix="va-bench-score-") as tmp:
        ws = Workspace(Path(tmp) / "home", embedder=DEFAULT_EMBEDDER)
        for v in range(videos):
            commit_random_video(ws, rng, f"corpus-{v}", per_video, dim)
        corpus = ws.clip_count()
        X = np.asarray(ws.vectors())
        names = []
        for i in range(labels):
            name = f"label-{i}"
            names.append(name)
            ws.create_label(name)
            direction = rng.normal(size=dim).astype(np.float32)
            picked = rng.choice(corpus, size=300, replace=False)
            order = np.argsort(X[picked] @ direction)
            ws.annotate(name, [int(c) for c in picked[order[-75:]]], "positive", "bench")
            ws.annotate(name, [int(c) for c in picked[order[:-75]]], "negative", "bench")
            ws.build(name)
            ws.deploy(name, deployer="bench")
        for v in range(videos):
            commit_random_video(ws, rng, f"new-{v}", per_video, dim)
        new_ids = [v["id"] for v in ws.videos()][videos:]
        new_rows = ws.clip_count() - corpus
        models = [ws.models.get(ws.label(n)["id"]) for n in names]
        Xn = np.asarray(ws.vectors())[corpus:]
        core = []
        for _ in range(repeats):
            t = time.perf_counter()
            for m in models:
                logits = score_corpus(Xn, m["coef"], m["intercept"])
                probabilities(m, logits)
                is_positive(logits, float(m["threshold"]))
            core.append(time.perf_counter() - t)
        rows = []
        for _ in range(max(1, repeats // 2)):
            t = time.perf_counter()
            out = ws.score_videos(new_ids)
            rows.append(time.perf_counter() - t)
        n_rows = len(out["rows"])
        ws.catalog.close()
    work = new_rows * labels
    core_s, rows_s = float(np.median(core)), float(np.median(rows))
    return {
        "clips_scored": new_rows,
        "labels": labels,
        "dim": dim,
        "videos": videos,
        "core": {"median_ms": round(core_s * 1000, 2), "clip_labels_per_s": round(work / core_s)},
        "rows": {"median_ms": round(rows_s * 1000, 1), "rows": n_rows, "rows_per_s": round(n_rows / rows_s)},
        "machine": {
            "cpus": os.cpu_count(),
            "python": platform.python_version(),
            "load": [round(x, 2) for x in os.getloadavg()],
        },
    }
