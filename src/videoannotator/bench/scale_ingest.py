"""Ingest throughput of the local engine against the Ray engine with 1 and 2 workers, in one
run on the same files, each into a fresh workspace: `va bench scale` calls
``ingest_throughput`` (docs/ray.md).

Every run pays what a `va ingest` run pays, except the one-off costs reported apart: the local
engine's model load (once per process) and Ray's startup (once per cluster). A Ray run's
seconds include its actors loading the model, since every Ray job pays that.
"""

from __future__ import annotations

import os
import platform
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

VIDEO_SUFFIXES = {".mp4", ".mpg", ".mpeg", ".ogg", ".ogv", ".webm", ".mkv", ".mov", ".avi", ".m4v"}


def default_media_dir() -> Path:
    from ..config import Settings

    return Path(Settings.from_env().cache) / "media"


def media_files(media_dir: str | os.PathLike[str]) -> list[Path]:
    folder = Path(media_dir).expanduser()
    files = sorted(p for p in folder.iterdir() if p.suffix.lower() in VIDEO_SUFFIXES and p.is_file())
    if not files:
        raise FileNotFoundError(f"no video files in {folder}; `make media` fetches the sample media")
    return files


def ingest_throughput(
    media_dir: str | os.PathLike[str] | None = None,
    workers: Sequence[int] = (1, 2),
    files: Sequence[str | os.PathLike[str]] | None = None,
) -> dict[str, Any]:
    """Seconds, clips/s and × real time of ingesting ``files`` (default: every video in
    ``media_dir``, the sample media) with the local engine and with the Ray engine at each
    count of ``workers`` (a local Ray started once here; its startup time apart)."""
    from ..engines.ray import RayEngine, import_ray
    from ..workspace import Workspace

    paths = [Path(f) for f in files] if files else media_files(media_dir or default_media_dir())
    ray = import_ray()
    runs: list[dict[str, Any]] = []

    with tempfile.TemporaryDirectory(prefix="va-bench-scale-") as tmp:
        # The local engine: the model loads once per process, outside the timing.
        t = time.perf_counter()
        Workspace(Path(tmp) / "warm").embedder  # noqa: B018 - loads the model (a property)
        model_load_s = time.perf_counter() - t
        runs.append(_run("local", None, Workspace(Path(tmp) / "local"), paths, None))

        started_here = not ray.is_initialized()
        cluster = RayEngine()  # a local Ray with this machine's cores
        cluster.connect()
        cluster_cpus = int(ray.cluster_resources().get("CPU", 0))
        try:
            for n in workers:
                runs.append(_run("ray", n, Workspace(Path(tmp) / f"ray-{n}"), paths, RayEngine(workers=n)))
        finally:
            if started_here:
                ray.shutdown()

    local = runs[0]
    for run in runs[1:]:
        run["vs_local"] = round(local["seconds"] / run["seconds"], 2) if run["seconds"] else None
    return {
        "benchmark": "ingest_throughput",
        "files": [p.name for p in paths],
        "video_seconds": local["video_seconds"],
        "clips": local["clips"],
        "runs": runs,
        "local_model_load_seconds": round(model_load_s, 2),
        "ray_startup_seconds": round(cluster.startup_seconds or 0.0, 2),
        "ray_cluster_cpus": cluster_cpus,
        "machine": f"{platform.machine()}, {os.cpu_count()} cpus, {platform.python_implementation()} {platform.python_version()}",
        "load_avg_1m_at_end": round(os.getloadavg()[0], 2),
    }


def _run(engine: str, workers: int | None, ws: Any, paths: list[Path], ray_engine: Any) -> dict[str, Any]:
    t = time.perf_counter()
    report = ws.ingest(paths, progress=False, engine=ray_engine)
    seconds = time.perf_counter() - t
    ws.catalog.close()
    data = report.as_dict()
    return {
        "engine": engine,
        "workers": workers,
        "seconds": round(seconds, 2),
        "clips": data["clips"],
        "clips_per_second": round(data["clips"] / seconds, 2) if seconds else None,
        "video_seconds": data["video_seconds"],
        "x_real_time": round(data["video_seconds"] / seconds, 2) if seconds else None,
        "failed": data["failed"],
        "stages_seconds": data["stages_seconds"],
    }


def gpu_check(
    media_dir: str | os.PathLike[str] | None = None,
    device: str = "cuda",
    batch: int = 1024,
    seconds: float = 5.0,
    files: Sequence[str | os.PathLike[str]] | None = None,
) -> dict[str, Any]:
    """What docs/ray.md asks a GPU machine to measure, in one call: the default image tower's
    images/s at ``batch`` (fp16 on a GPU), decoding + shot detection frames/s per video on one
    core, and ingest end to end (clips/s, × real time) with decode processes and without."""
    from dataclasses import replace

    import numpy as np

    from ..config import Settings
    from ..embed import get_embedder
    from ..engines.local import LocalEngine, auto_decode_workers
    from ..ingest.embedding import decode_video
    from ..workspace import Workspace

    paths = [Path(f) for f in files] if files else media_files(media_dir or default_media_dir())
    settings = replace(Settings.from_env(), device=device, batch_size=batch)
    embedder = get_embedder("conse-effnet-minilm", device=device, batch_size=batch)
    frames = np.random.default_rng(0).integers(0, 256, (batch, 224, 224, 3), dtype=np.uint8)
    embedder.encode_images(frames)  # warm up (cuDNN picks its kernels)
    done, t = 0, time.perf_counter()
    while time.perf_counter() - t < seconds:
        embedder.encode_images(frames)  # returns numpy: the GPU has finished
        done += batch
    images_per_s = done / (time.perf_counter() - t)

    decode = []
    for path in paths:
        t = time.perf_counter()
        decoded = decode_video(path, "bench", replace(settings, device="cpu"))
        wall = time.perf_counter() - t
        decode.append(
            {"file": path.name, "frames": decoded.stats.frames, "frames_per_second": round(decoded.stats.frames / wall)}
        )

    runs = []
    with tempfile.TemporaryDirectory(prefix="va-gpu-check-") as tmp:
        for workers in (0, auto_decode_workers(device) or 1):  # on CPU: 1 decode process, to compare
            ws = Workspace(Path(tmp) / f"d{workers}", settings=settings, embedder=embedder)
            run = _run("local", None, ws, paths, LocalEngine(decode_workers=workers))
            runs.append(run | {"decode_workers": workers})
    return {
        "benchmark": "gpu_check",
        "device": device,
        "gpu": _gpu_name(device),
        "image_tower_images_per_second": round(images_per_s),
        "image_tower_batch": batch,
        "image_tower_fp16": bool(getattr(embedder, "_half", False)),
        "decode_frames_per_second_one_core": decode,
        "ingest": runs,
        "machine": f"{platform.machine()}, {os.cpu_count()} cpus, {platform.python_implementation()} {platform.python_version()}",
        "load_avg_1m_at_end": round(os.getloadavg()[0], 2),
    }


def _gpu_name(device: str) -> str | None:
    import torch

    if str(device).startswith("cpu") or not torch.cuda.is_available():
        return None
    return str(torch.cuda.get_device_name(torch.device(device)))
