"""Search benchmark: exact vs ANN latency, recall@k against exact, ANN build time, memory.

    va bench search --clips 500000

Two synthetic corpora of unit vectors, each written to a memory-mapped matrix the way the
workspace stores clips, with queries drawn from the same distribution (never corpus rows):

- ``clustered`` — what the targets are claimed on. Real embeddings are clustered: a
  hierarchical Gaussian mixture (32 topics → 1,000 centres of uneven size → clips with
  isotropic noise). Queries are centres plus fresh noise, like a text prompt naming a
  concept; their top-100 cosines (~0.3–0.4) resemble text-to-image scores.
- ``random`` — uniform on the sphere: no structure at all, the worst case for any ANN
  index (reported, not targeted; on such data only exact search keeps recall).
"""

from __future__ import annotations

import os
import platform
import resource
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any, cast

import numpy as np

from ..names import DEFAULT_DIM
from ..search import AUTO_THRESHOLD, open_index
from ..search.ann import AnnIndex
from ..search.exact import ExactIndex

_BLOCK = 65536


def random_unit_vectors(n: int, dim: int, rng: np.random.Generator, out: np.ndarray | None = None) -> np.ndarray:
    """``n`` vectors uniform on the unit sphere (rows of ``out`` when given)."""
    out = np.empty((n, dim), np.float32) if out is None else out
    for s in range(0, n, _BLOCK):
        block = rng.standard_normal((min(n, s + _BLOCK) - s, dim), dtype=np.float32)
        out[s : s + len(block)] = block / np.linalg.norm(block, axis=1, keepdims=True)
    return out


class ClusteredSource:
    """A hierarchical Gaussian mixture on the sphere; ``noise`` is the noise vector's norm."""

    def __init__(self, dim: int, rng: np.random.Generator, centres: int = 1000, topics: int = 32, noise: float = 1.5):
        topic_vectors = random_unit_vectors(topics, dim, rng)
        around = topic_vectors[rng.integers(0, topics, centres)] + 0.8 * random_unit_vectors(centres, dim, rng)
        self.centres = around / np.linalg.norm(around, axis=1, keepdims=True)
        self.weights = rng.dirichlet(np.full(centres, 0.5))  # uneven cluster sizes
        self.sigma = noise / np.sqrt(dim)
        self.dim = dim

    def sample(self, n: int, rng: np.random.Generator, out: np.ndarray | None = None) -> np.ndarray:
        out = np.empty((n, self.dim), np.float32) if out is None else out
        for s in range(0, n, _BLOCK):
            m = min(n, s + _BLOCK) - s
            block = self.centres[rng.choice(len(self.centres), m, p=self.weights)]
            block += self.sigma * rng.standard_normal((m, self.dim), dtype=np.float32)
            out[s : s + m] = block / np.linalg.norm(block, axis=1, keepdims=True)
        return out


def _median_ms(fn, queries: np.ndarray) -> tuple[float, float, list]:
    """Median and 95th-percentile milliseconds of ``fn(q)`` over single queries; results."""
    times, results = [], []
    for q in queries:
        start = time.perf_counter()
        results.append(fn(q))
        times.append((time.perf_counter() - start) * 1e3)
    return round(statistics.median(times), 3), round(float(np.percentile(times, 95)), 3), results


def _memory_mb() -> dict:
    """This process's resident memory split into anonymous (heap: indexes, arrays) and
    file-backed (the memory-mapped matrix, which the kernel can drop), from /proc."""
    try:
        fields = dict(line.split(":", 1) for line in Path("/proc/self/status").read_text().splitlines())
    except OSError:
        return {}
    return {
        key: round(int(fields[key].split()[0]) / 1024, 1) for key in ("RssAnon", "RssFile", "VmHWM") if key in fields
    }


def _recall(found: list, truth: np.ndarray) -> float:
    return round(float(np.mean([len(np.intersect1d(f, t)) / len(t) for f, t in zip(found, truth)])), 4)


def _bench_corpus(
    name: str, workdir: Path, clips: int, dim: int, queries: int, k: int, seed: int, nprobes, noise: float
) -> dict:
    rng = np.random.default_rng(seed)
    matrix_path = workdir / f"{name}.f32"
    matrix = np.memmap(matrix_path, dtype=np.float32, mode="w+", shape=(clips, dim))
    if name == "clustered":
        source = ClusteredSource(dim, rng, noise=noise)
        source.sample(clips, rng, out=matrix)
        query_vectors = source.sample(queries, np.random.default_rng(seed + 1))
    else:
        random_unit_vectors(clips, dim, rng, out=matrix)
        query_vectors = random_unit_vectors(queries, dim, np.random.default_rng(seed + 1))
    matrix.flush()
    del matrix
    matrix = np.memmap(matrix_path, dtype=np.float32, mode="r", shape=(clips, dim))
    ids = np.arange(1, clips + 1, dtype=np.int64)  # clip ids as the catalog numbers them
    out: dict = {}

    exact = ExactIndex.over(ids, matrix)
    truth, _ = exact.search(query_vectors, k)  # batched: the ground truth
    out["exact_median_ms"], out["exact_p95_ms"], _ = _median_ms(lambda q: exact.search(q, k), query_vectors)
    if clips > AUTO_THRESHOLD:
        below = ExactIndex.over(ids[:AUTO_THRESHOLD], matrix[:AUTO_THRESHOLD])
        out["exact_median_ms_at_auto_threshold"], _, _ = _median_ms(lambda q: below.search(q, k), query_vectors[:50])

    # Build as ingest would: all clips but the last 1,000, then those as one more video.
    index_path = workdir / f"{name}.index"
    head = clips - min(1000, clips // 10)
    start, cpu = time.perf_counter(), time.process_time()
    ann = cast(AnnIndex, open_index(index_path, ids[:head], matrix[:head], kind="ann", save=False))
    out["ann_build_s"] = round(time.perf_counter() - start, 2)
    out["ann_build_cpu_s"] = round(time.process_time() - cpu, 2)
    start = time.perf_counter()
    ann.save(index_path)
    out["ann_save_s"] = round(time.perf_counter() - start, 2)
    start = time.perf_counter()
    ann = cast(AnnIndex, open_index(index_path, ids, matrix, kind="ann"))  # load + add the new rows + save
    out[f"ann_load_add_{clips - head}_save_s"] = round(time.perf_counter() - start, 2)
    out["ann_index_mb"] = round(index_path.stat().st_size / 2**20, 1)
    out["nlist"], out["nprobe"] = ann.nlist, ann._nprobe()
    out["memory_mb_after_build"] = _memory_mb()

    out["ann_median_ms"], out["ann_p95_ms"], found = _median_ms(lambda q: ann.search(q, k)[0], query_vectors)
    out[f"recall_at_{k}"] = _recall(found, truth)
    annotated = rng.choice(ids, 1000, replace=False)
    out["ann_median_ms_exclude_1000"], _, found = _median_ms(
        lambda q: ann.search(q, k, exclude=annotated)[0], query_vectors[:50]
    )
    out["exclude_respected"] = not any(np.isin(f, annotated).any() for f in found)

    sweep = {}
    for nprobe in nprobes:
        ann.nprobe = nprobe
        median, _, found = _median_ms(lambda q: ann.search(q, k)[0], query_vectors)
        sweep[str(nprobe)] = {"median_ms": median, f"recall_at_{k}": _recall(found, truth)}
    if sweep:
        out["nprobe_sweep"] = sweep
    return out


def run(
    clips: int = 500_000,
    dim: int = DEFAULT_DIM,
    queries: int = 200,
    k: int = 100,
    seed: int = 0,
    data=("clustered", "random"),
    nprobes=(),
    noise: float = 1.5,
) -> dict:
    """Benchmark exact and ANN search on synthetic corpora; returns the figures as a dict.

    ``noise`` is the clustered corpus's noise norm (1.5: top-100 cosines ~0.3–0.4; higher
    is closer to random); ``nprobes`` adds a sweep of the ANN index's ``nprobe``.
    """
    result: dict[str, Any] = {
        "machine": {
            "cpus": os.cpu_count(),
            "processor": platform.processor() or platform.machine(),
            "python": platform.python_version(),
            # Other work on the machine inflates latencies: record how busy it was.
            "loadavg_1min_at_start": round(os.getloadavg()[0], 2),
        },
        "clips": clips,
        "dim": dim,
        "queries": queries,
        "k": k,
        "clustered_noise": noise,
        "matrix_mb": round(clips * dim * 4 / 2**20, 1),
        "auto_threshold": AUTO_THRESHOLD,
        "target": {"on": "clustered", "ann_median_ms_max": 20, f"recall_at_{k}_min": 0.95},
        "datasets": {},
    }
    with tempfile.TemporaryDirectory(prefix="va-bench-search-") as workdir:
        for name in data:
            result["datasets"][name] = _bench_corpus(name, Path(workdir), clips, dim, queries, k, seed, nprobes, noise)
            (Path(workdir) / f"{name}.f32").unlink()
    result["machine"]["loadavg_1min_at_end"] = round(os.getloadavg()[0], 2)
    result["peak_rss_mb"] = round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024, 1)
    clustered = result["datasets"].get("clustered")
    if clustered:
        result["meets_target"] = clustered["ann_median_ms"] <= 20 and clustered[f"recall_at_{k}"] >= 0.95
    return result
