"""Benchmark of one Build: fit + score every clip + metrics + the four feeds.

    va bench loop --clips 500000 --dim 384 --skip-search

Synthetic random unit vectors (timing does not depend on content) are written to a
float32 file in a temporary directory and opened as a read-only ``np.memmap``, as the
product's vector store does. The file was just written, so it sits in the page cache:
this measures a warm workspace, the state an annotator is in between builds.

Protocol: one cold build (no previous model, corpus clusters computed: the first build
of a workspace) is timed on its own. The repeats then model the loop: ``annotations``
annotated clips, the previous version fitted without the last 25 of them (the warm
start), and the corpus clusters cached. ``cpu_median_ms`` is the process CPU time of a
build (all threads): when other processes load the machine (see the load averages), wall
time grows but CPU time barely does. Peak memory is the process's VmHWM (peak
resident set, mapped file pages included) during the builds, against the matrix size:
mapped pages of the matrix count once (~1x); the rest is the interpreter, the libraries
and the build's own arrays (``rss_after_anon_bytes``).
"""

from __future__ import annotations

import os
import platform
import resource
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np

from ..learn.build import build_model
from ..names import DEFAULT_DIM

NEW_PER_ROUND = 25


def _write_unit_vectors(path: Path, clips: int, dim: int, seed: int, chunk: int = 32_768) -> None:
    """Random unit vectors, written with file writes (not through a mapping, so writing
    does not inflate this process's resident set)."""
    rng = np.random.default_rng(seed)
    with open(path, "wb") as fh:
        for start in range(0, clips, chunk):
            block = rng.standard_normal((min(chunk, clips - start), dim), dtype=np.float32)
            block /= np.linalg.norm(block, axis=1, keepdims=True)
            fh.write(block.tobytes())


def _reset_peak_rss() -> bool:
    """Reset VmHWM (Linux >= 4.0) so the peak covers the builds only."""
    try:
        with open("/proc/self/clear_refs", "w") as fh:
            fh.write("5")
        return True
    except OSError:
        return False


def _rss_bytes(field: str) -> int | None:
    try:
        with open("/proc/self/status") as fh:
            for line in fh:
                if line.startswith(field + ":"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    return None


def _machine() -> dict:
    cpu = platform.processor() or ""
    try:
        with open("/proc/cpuinfo") as fh:
            for line in fh:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    return {
        "cpus": os.cpu_count(),
        "cpu": cpu,
        "python": platform.python_version(),
        "numpy": np.__version__,
        "load_avg_1m": round(os.getloadavg()[0], 2),
    }


def run(
    clips: int = 500_000,
    dim: int = DEFAULT_DIM,
    annotations: int = 1000,
    repeats: int = 7,
    seed: int = 0,
    n_feed: int = 100,
) -> dict:
    """Time ``repeats`` builds at ``clips`` x ``dim``; returns the figures as a dict."""
    if annotations < 2 * NEW_PER_ROUND or annotations > clips:
        raise ValueError(f"annotations must be between {2 * NEW_PER_ROUND} and clips ({clips})")
    rng = np.random.default_rng(seed)
    with tempfile.TemporaryDirectory(prefix="va-bench-loop-") as tmp:
        path = Path(tmp) / "vectors.f32"
        t = time.perf_counter()
        _write_unit_vectors(path, clips, dim, seed)
        write_s = time.perf_counter() - t
        X = np.memmap(path, dtype=np.float32, mode="r", shape=(clips, dim))
        ids = np.arange(1, clips + 1, dtype=np.int64)

        # A planted concept: positives are the clips nearest a random direction, with noise,
        # ~25% of the annotated clips (what the feeds' mix of top and random gives).
        labeled_rows = np.sort(rng.choice(clips, size=annotations, replace=False))
        direction = rng.standard_normal(dim).astype(np.float32)
        direction /= np.linalg.norm(direction)
        signal = X[labeled_rows] @ direction + rng.normal(0, 0.3 / np.sqrt(dim), annotations)
        labels = (signal > np.quantile(signal, 0.75)).astype(np.int64)
        labeled_ids = ids[labeled_rows]
        earlier = rng.permutation(annotations)[: annotations - NEW_PER_ROUND]

        baseline_rss = _rss_bytes("VmRSS")
        peak_reset = _reset_peak_rss()
        cold = build_model(X, ids, labeled_ids[earlier], labels[earlier], seed=seed, n_feed=n_feed)
        totals: list[float] = []
        cpu: list[float] = []
        stages: dict[str, list[float]] = {}
        load_before = os.getloadavg()[0]
        for _ in range(repeats):
            cpu_start = time.process_time()
            result = build_model(
                X, ids, labeled_ids, labels, seed=seed, previous=cold.model, n_feed=n_feed, clusters=cold.clusters
            )
            cpu.append((time.process_time() - cpu_start) * 1000)
            totals.append(result.timings_ms["total"])
            for stage, ms in result.timings_ms.items():
                stages.setdefault(stage, []).append(ms)
        peak = _rss_bytes("VmHWM")
        rss_file, rss_anon = _rss_bytes("RssFile"), _rss_bytes("RssAnon")
        if peak is None or not peak_reset:
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024
        matrix_bytes = clips * dim * 4
        machine = _machine()
        del X
    return {
        "benchmark": "build",
        "clips": clips,
        "dim": dim,
        "annotations": annotations,
        "repeats": repeats,
        "n_feed": n_feed,
        "seed": seed,
        "median_ms": round(statistics.median(totals), 1),
        "min_ms": round(min(totals), 1),
        "target_ms": 300,
        "cpu_median_ms": round(statistics.median(cpu), 1),
        "load_avg_1m_before": round(load_before, 2),
        "stages_median_ms": {k: round(statistics.median(v), 1) for k, v in stages.items()},
        "cold_build_ms": cold.timings_ms,
        "fit_iterations_warm": int(result.metrics["fit_iterations"]),
        "cv_ap": result.metrics["cv"].get("ap"),
        "matrix_bytes": matrix_bytes,
        "baseline_rss_bytes": baseline_rss,
        "peak_rss_bytes": peak,
        "peak_rss_over_matrix": round(peak / matrix_bytes, 3),
        "rss_after_file_bytes": rss_file,
        "rss_after_anon_bytes": rss_anon,
        "peak_measures": "VmHWM reset before the builds" if peak_reset else "ru_maxrss (whole run)",
        "write_vectors_s": round(write_s, 1),
        "machine": machine,
    }
