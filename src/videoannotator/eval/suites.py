"""Suites by name: where a Dataset comes from, and the slideshow end-to-end run.

fashion-mnist  Debian dataset-fashion-mnist, embedded with the default embedder (cached)
generic        a folder in the generic format (datasets.load_generic)
paper          the paper's released data (datasets.load_paper; needs h5py)
workspace      an ingested workspace + a labels file (datasets.load_workspace)
slideshow      generate slideshow videos, ingest them into a fresh workspace, run the
               experiment on the clips and score shot detection against the known cuts
camera-motion, shot-scale, rare, multi-subject, footage
               the same path on generated footage that looks like the paper's labels
               (eval/scenes.py); ``--seed`` picks the images (1 decides, 0 reports)
synthetic      separable vectors with perfect text vectors (the answer is known)
"""

from __future__ import annotations

import json
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

GENERATED = ("slideshow", "camera-motion", "shot-scale", "rare", "multi-subject", "footage")
SUITES = ("fashion-mnist", "generic", "paper", "workspace", *GENERATED, "synthetic")
SLIDESHOW_DEFAULTS = (4, 60)  # videos, shots per video


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
    """The Dataset of a suite (all but the generated ones, which ``run_generated`` builds)."""
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


def generate_suite(
    suite: str,
    folder: str | os.PathLike[str],
    *,
    n_videos: int | None = None,
    shots_per_video: int | None = None,
    seed: int = 0,
) -> Path:
    """Write a generated suite's videos and truth.json to ``folder``; returns the truth file."""
    if suite == "slideshow":
        from .slideshow import make_fashion_slideshows

        videos, shots = SLIDESHOW_DEFAULTS
        return make_fashion_slideshows(folder, n_videos or videos, shots_per_video or shots, seed)
    from .scenes import generate

    return generate(suite, folder, seed, n_videos, shots_per_video)


def _params(suite: str, n_videos: int | None, shots_per_video: int | None, seed: int) -> dict[str, Any]:
    return {"suite": suite, "videos": n_videos, "shots": shots_per_video, "seed": seed}


def _ingest_params(settings: Settings) -> dict[str, Any]:
    """What decides a generated suite's clips and stored features: rerun ingest when it changes."""
    keys: tuple[str, ...] = ("embedder", "frames_per_clip", "min_shot_seconds", "max_clip_seconds")
    keys += ("shot_detector", "shot_threshold", "detect_width", "thumb_width", "max_pixels")
    return {
        **{k: getattr(settings, k) for k in keys if hasattr(settings, k)},
        "VA_FEATURE_BLOCKS": os.environ.get("VA_FEATURE_BLOCKS", ""),
    }


def run_generated(
    suite: str,
    folder: str | os.PathLike[str],
    config: EvalConfig | None,
    *,
    n_videos: int | None = None,
    shots_per_video: int | None = None,
    seed: int = 0,
    settings: Settings | None = None,
    progress: bool = True,
    labels: Sequence[str] | None = None,
) -> dict[str, Any]:
    """Generate -> ingest into a fresh workspace -> shot-detection scores -> experiment, in ``folder``.

    ``folder/videos`` holds the videos and truth.json, ``folder/home`` the workspace and its
    shot-detection scores. Videos are reused when the same suite, sizes and seed were
    generated there before, the workspace too when the ingest settings (embedder, shot
    detection, VA_FEATURE_BLOCKS) are also the same; otherwise they are written anew (the
    old ones removed). ``folder/generated.json`` records both.
    """
    import shutil
    from dataclasses import replace

    from ..config import Settings
    from ..workspace import Workspace
    from .cuts import score_cuts
    from .simulate import run_experiment

    if suite not in GENERATED:
        raise InvalidInput(f"{suite!r} is not a generated suite; one of {', '.join(GENERATED)}")
    folder = Path(folder).expanduser()
    settings = settings or Settings.from_env()
    timings: dict[str, float] = {}
    t = time.perf_counter()
    videos = folder / "videos"
    truth = videos / "truth.json"
    home = folder / "home"
    stamp = folder / "generated.json"
    wanted = _params(suite, n_videos, shots_per_video, seed)
    ingest_with = _ingest_params(settings)
    old = json.loads(stamp.read_text()) if stamp.exists() else {}
    if not truth.exists() or old.get("generation", old) != wanted:
        for stale in (videos, home):  # what an earlier run of another suite, size or seed left
            if stale.is_dir():
                shutil.rmtree(stale)
        stamp.unlink(missing_ok=True)
        truth = generate_suite(suite, videos, n_videos=n_videos, shots_per_video=shots_per_video, seed=seed)
    elif old.get("ingest") != ingest_with and home.is_dir():
        shutil.rmtree(home)  # ingested with other shot or feature settings: ingest again
    stamp.write_text(json.dumps({"generation": wanted, "ingest": ingest_with}))
    timings["generate"] = round(time.perf_counter() - t, 1)
    t = time.perf_counter()
    ws = Workspace(home, settings=replace(settings, home=str(home)))
    report = ws.ingest([str(p) for p in sorted(videos.glob("*.mp4"))], progress=progress)
    if report.failed:
        raise InvalidInput(f"ingest failed: {report.failed[0]['error']}")
    timings["ingest"] = round(time.perf_counter() - t, 1)
    t = time.perf_counter()
    scored = home / "shot-detection.json"  # scored once per workspace: same videos, same settings
    if scored.exists():
        cuts = json.loads(scored.read_text())
    else:
        cuts = score_cuts(truth, settings)
        scored.write_text(json.dumps(cuts))
    timings["score_cuts"] = round(time.perf_counter() - t, 1)
    dataset = load_workspace(ws, truth)
    if labels:
        dataset = dataset.select(labels)
    out = run_experiment(dataset, config, embedder=ws.embedder)
    out["suite"] = suite
    out["generation"] = {
        **wanted,
        "shots_in_truth": len(json.loads(truth.read_text())["shots"]),
        "clips": len(ws.vectors()),
    }
    out["shot_detection"] = cuts
    out["timings_s"] = {**timings, **out["timings_s"]}
    return out


def run_slideshow(
    folder: str | os.PathLike[str],
    config: EvalConfig | None,
    *,
    n_videos: int = SLIDESHOW_DEFAULTS[0],
    shots_per_video: int = SLIDESHOW_DEFAULTS[1],
    seed: int = 0,
    settings: Settings | None = None,
    progress: bool = True,
    labels: Sequence[str] | None = None,
) -> dict[str, Any]:
    """The slideshow suite: ``run_generated("slideshow", ...)``."""
    return run_generated(
        "slideshow",
        folder,
        config,
        n_videos=n_videos,
        shots_per_video=shots_per_video,
        seed=seed,
        settings=settings,
        progress=progress,
        labels=labels,
    )
