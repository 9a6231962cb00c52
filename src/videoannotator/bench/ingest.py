"""`va bench ingest`: real-time factor of ingest on real files, with the stage split."""

from __future__ import annotations

import os
import platform
import resource
import statistics
import tempfile
import time


def _cpu_seconds() -> float:
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime + usage.ru_stime


def run(paths, settings, repeats: int = 1) -> dict:
    from dataclasses import replace

    from ..workspace import Workspace

    results = []
    # Load the model once, outside the timing: it is a one-off cost per process.
    t = time.perf_counter()
    probe_ws = Workspace(tempfile.mkdtemp(prefix="va-bench-"), settings=replace(settings, embedder=settings.embedder))
    embedder = probe_ws.embedder
    load_s = time.perf_counter() - t
    cpu = []
    for _ in range(max(1, repeats)):
        with tempfile.TemporaryDirectory(prefix="va-bench-") as home:
            ws = Workspace(home, settings=settings, embedder=embedder)
            before = _cpu_seconds()
            report = ws.ingest(paths, progress=False)
            cpu.append(_cpu_seconds() - before)
            results.append(report.as_dict())
    rts = [r["realtime_factor"] for r in results if r["realtime_factor"]]
    last = results[-1]
    return {
        "benchmark": "ingest",
        "files": len(last["ingested"]),
        "failed": last["failed"],
        "video_seconds": last["video_seconds"],
        "clips": last["clips"],
        "frames": last["frames"],
        "wall_seconds_median": statistics.median(r["wall_seconds"] for r in results),
        "realtime_factor_median": statistics.median(rts) if rts else None,
        "realtime_factors": rts,
        "stages_seconds": last["stages_seconds"],
        # CPU seconds do not depend on what else runs on a shared machine: with the cores to
        # ourselves, wall time approaches cpu / cores (decode and embedding overlap).
        "cpu_seconds_median": round(statistics.median(cpu), 3),
        "video_seconds_per_cpu_second": round(last["video_seconds"] / statistics.median(cpu), 2),
        "model_load_seconds": round(load_s, 2),
        "embedder": embedder.name,
        "device": settings.device,
        "machine": f"{platform.machine()}, {os.cpu_count()} cpus, {platform.python_implementation()} {platform.python_version()}",
        # Other work on a shared machine slows everything: say how busy it was.
        "load_avg_1m_at_end": round(os.getloadavg()[0], 2),
    }
