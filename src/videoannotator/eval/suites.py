"""Suites by name: where a Dataset comes from, and the slideshow end-to-end run.

fashion-mnist  Debian dataset-fashion-mnist, embedded with the default embedder (cached)
generic        a folder in the generic format (datasets.load_generic)
paper          the paper's released data (datasets.load_paper; needs h5py)
workspace      an ingested workspace + a labels file (datasets.load_workspace)
slideshow      generate slideshow videos, ingest them into a fresh workspace, run the
               experiment on the clips and score shot detection against the known cuts
synthetic      separable vectors with perfect text vectors (the answer is known)
"""

from __future__ import annotations

import os
import time
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..errors import InvalidInput
from .datasets import Dataset, load_generic, load_paper, load_workspace

if TYPE_CHECKING:
    from ..config import Settings
    from ..workspace import Workspace
    from .simulate import EvalConfig

SUITES = ("fashion-mnist", "generic", "paper", "workspace", "slideshow", "synthetic")


def load_suite(
    suite: str,
    *,
    data: str | os.PathLike[str] | None = None,
    labels_file: str | os.PathLike[str] | None = None,
    sample: int | None = None,
    workspace: Workspace | None = None,
    device: str = "cpu",
    progress: bool = True,
    labels: Sequence[str] | None = None,
    offset: int = 0,
    fashion_features: str = "product",
) -> Dataset:
    """The Dataset of a suite (all but 'slideshow', which ``run_slideshow`` builds)."""
    if suite == "fashion-mnist":
        from . import fashion

        ds = fashion.load(
            sample or fashion.DEFAULT_SAMPLE,
            data or fashion.DEFAULT_DIR,
            device=device,
            progress=progress,
            offset=offset,
            features=fashion_features,
        )
    elif suite == "generic":
        if not data:
            raise InvalidInput("--suite generic needs --data DIR (a folder with dataset.json)")
        ds = load_generic(data)
    elif suite == "paper":
        if not data:
            raise InvalidInput("--suite paper needs --data DIR (the unpacked release: embeddings.h5, agg/, ...)")
        ds = load_paper(data, labels)
    elif suite == "workspace":
        if not labels_file:
            raise InvalidInput("--suite workspace needs --labels-file FILE (see docs/evaluation.md)")
        if workspace is None:
            raise InvalidInput("--suite workspace needs a workspace (--home)")
        ds = load_workspace(workspace, labels_file)
    elif suite == "synthetic":
        from .synthetic import make_synthetic

        ds = make_synthetic(n=sample or 3000)
    else:
        raise InvalidInput(f"unknown suite {suite!r}; choose one of {', '.join(SUITES)}")
    return ds.select(labels) if labels else ds


def run_slideshow(
    folder: str | os.PathLike[str],
    config: EvalConfig | None,
    *,
    n_videos: int = 4,
    shots_per_video: int = 60,
    seed: int = 0,
    settings: Settings | None = None,
    progress: bool = True,
    labels: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Generate -> ingest -> experiment -> shot-detection scores, in ``folder``."""
    from ..config import Settings
    from ..workspace import Workspace
    from .cuts import score_cuts
    from .simulate import run_experiment
    from .slideshow import make_fashion_slideshows

    folder = Path(folder).expanduser()
    settings = settings or Settings.from_env()
    timings: dict[str, float] = {}
    t = time.perf_counter()
    videos = folder / "videos"
    truth = videos / "truth.json"
    if not truth.exists():
        truth = make_fashion_slideshows(videos, n_videos, shots_per_video, seed)
    timings["generate"] = round(time.perf_counter() - t, 1)
    t = time.perf_counter()
    from dataclasses import replace

    ws = Workspace(folder / "home", settings=replace(settings, home=str(folder / "home")))
    report = ws.ingest([str(p) for p in sorted(videos.glob("*.mp4"))], progress=progress)
    if report.failed:
        raise InvalidInput(f"ingest failed: {report.failed[0]['error']}")
    timings["ingest"] = round(time.perf_counter() - t, 1)
    t = time.perf_counter()
    cuts = score_cuts(truth, settings)
    timings["score_cuts"] = round(time.perf_counter() - t, 1)
    dataset = load_workspace(ws, truth)
    if labels:
        dataset = dataset.select(labels)
    out = run_experiment(dataset, config, embedder=ws.embedder)
    out["suite"] = "slideshow"
    out["shot_detection"] = cuts
    out["timings_s"] = {**timings, **out["timings_s"]}
    return out
