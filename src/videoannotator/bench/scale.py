"""`va bench scale`: Build and text search at 500k / 2M / 10M clips, and ingest throughput.

Per size, one synthetic corpus is written in chunks to a temporary folder (``--tmp``,
deleted afterwards): Build's features, 430 wide like the product's (semantic 384 from the
clustered mixture of ``bench/search.py``, unit rows; motion + layout 46 fixed-scale
columns), as a float32 file and its int8 scan copy (``vectors/compact.py``). Then:

- **Build** with 1,000 annotations of a planted concept: one cold build (clusters), then
  ``repeats`` warm builds on the compact copy, each warm-started from the previous model;
  the median wall time and stages, the process's peak resident memory over those builds
  (VmHWM, reset before them through /proc/self/clear_refs) and the load (`uptime`). Last, a
  float32 build of the same annotations: how many of each feed's clips the compact build
  also returned (recall of the page) and whether the page is identical.
- **Search** over the semantic block (a strided view of the same file, no second copy):
  an IVF-SQ8 index (``search/ann.py``) trained and filled in batches, median latency over
  fresh clustered queries, recall@100 against exact search of the float32 rows.

Ingest: ``bench.scale_ingest.ingest_throughput`` (1 and 2 Ray workers against the local
engine on the sample media), called lazily; ``--skip-ingest`` leaves it out.
"""

from __future__ import annotations

import itertools
import os
import platform
import shutil
import statistics
import tempfile
import time
from pathlib import Path
from typing import Any

import numpy as np

from .search import ClusteredSource

FEATURES = 430
SEMANTIC = 384
_CHUNK = 1 << 18


def _status() -> dict[str, int]:
    out = {}
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(("VmHWM", "VmRSS", "RssFile", "RssAnon")):
                key, value = line.split(":")
                out[key] = int(value.split()[0]) // 1024  # MB
    return out


def _reset_peak() -> None:
    try:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")  # resets VmHWM to the current RSS (Linux >= 4.0)
    except OSError:
        pass


def _load() -> str:
    return " ".join(f"{v:.2f}" for v in os.getloadavg())


def write_corpus(folder: Path, n: int, seed: int) -> tuple[np.memmap, ClusteredSource, np.random.Generator]:
    """Features (n, 430) float32 at folder/features.f32, written chunk by chunk."""
    rng = np.random.default_rng(seed)
    source = ClusteredSource(SEMANTIC, rng)
    path = folder / "features.f32"
    with open(path, "wb") as f:
        for s in range(0, n, _CHUNK):
            m = min(n, s + _CHUNK) - s
            block = np.empty((m, FEATURES), np.float32)
            source.sample(m, rng, out=block[:, :SEMANTIC])
            rest = rng.standard_normal((m, FEATURES - SEMANTIC), dtype=np.float32)
            block[:, SEMANTIC:] = np.tanh(rest) / np.float32(np.sqrt(FEATURES - SEMANTIC))
            f.write(block.tobytes())
    return np.memmap(path, dtype=np.float32, mode="r", shape=(n, FEATURES)), source, rng


def simulate_shards(X: np.memmap, reference: Any, labeled: np.ndarray, shards: int) -> dict[str, Any]:
    """The plan past 10M, in one process: the corpus cut in ``shards`` uneven pieces, each
    scored alone (float32, the reference model), each answering every feed alone; merged
    feeds against the unsharded build's, and exact search per shard, merged, against one
    exact index over all rows."""
    from ..learn.classifier import score_corpus
    from ..learn.shards import sharded_feed
    from ..search.exact import ExactIndex
    from ..search.shards import search_shards

    n = X.shape[0]
    rng = np.random.default_rng(1)
    cuts = np.sort(rng.choice(np.arange(1, n), shards - 1, replace=False))
    bounds = [0, *cuts.tolist(), n]
    model = reference.model
    started = time.perf_counter()
    parts = []
    for lo, hi in itertools.pairwise(bounds):
        scores = score_corpus(X[lo:hi], model.coef, model.intercept)
        parts.append((scores, np.arange(lo, hi, dtype=np.int64)))
    score_s = time.perf_counter() - started
    started = time.perf_counter()
    equal = {
        name: bool(
            np.array_equal(
                sharded_feed(name, parts, 100, 0, exclude=labeled, threshold=model.threshold), reference.feeds[name]
            )
        )
        for name in reference.feeds
    }
    merge_s = time.perf_counter() - started
    vectors = X[:, :SEMANTIC]
    ids = np.arange(n, dtype=np.int64)
    indexes = [ExactIndex.over(ids[lo:hi], vectors[lo:hi]) for lo, hi in itertools.pairwise(bounds)]
    whole = ExactIndex.over(ids, vectors)
    queries = rng.standard_normal((3, SEMANTIC)).astype(np.float32)
    search_equal = all(np.array_equal(whole.search(q, 100)[0], search_shards(indexes, q, 100)[0]) for q in queries)
    return {
        "shards": shards,
        "sizes": [hi - lo for lo, hi in itertools.pairwise(bounds)],
        "feeds_equal_unsharded": equal,
        "search_equal_unsharded": bool(search_equal),
        "score_all_shards_s": round(score_s, 2),
        "feeds_merge_s": round(merge_s, 3),
    }


def bench_build(
    folder: Path,
    X: np.memmap,
    rng: np.random.Generator,
    annotations: int,
    repeats: int,
    workers: int,
    shards: int = 0,
) -> dict[str, Any]:
    import torch

    from ..learn.build import build_model
    from ..learn.feeds import FEEDS
    from ..vectors.compact import CompactMatrix

    torch.set_num_threads(workers)
    n = X.shape[0]
    started = time.perf_counter()
    compact = CompactMatrix(folder / "features.i8", FEATURES)
    whole = np.memmap(folder / "features.f32", dtype=np.float32, mode="r", shape=X.shape)
    compact.sync(whole)  # reads every row: through its own mapping, unmapped before the builds
    del whole
    copy_s = time.perf_counter() - started
    planted = rng.standard_normal(FEATURES)
    labeled = np.sort(rng.choice(n, annotations + repeats, replace=False))
    truth = X[labeled] @ planted
    y_all = (truth > np.quantile(truth, 0.75)).astype(int)  # 25% positive
    ids = np.arange(n, dtype=np.int64)

    first = annotations - repeats
    cold_map = np.memmap(folder / "features.f32", dtype=np.float32, mode="r", shape=X.shape)
    cold = build_model(cold_map, ids, labeled[:first], y_all[:first], compact=compact)
    del cold_map  # the cold build's pages (clusters' sample) unmapped: warm builds map their own
    _reset_peak()
    load_before = _load()
    previous, runs = cold, []
    for i in range(repeats):
        use = slice(0, first + i + 1)
        result = build_model(
            X, ids, labeled[use], y_all[use], previous=previous, clusters=cold.clusters, compact=compact
        )
        runs.append(result)
        previous = result
    peak = _status()
    load_after = _load()
    totals = [r.timings_ms["total"] for r in runs]
    stages = {k: round(statistics.median(r.timings_ms[k] for r in runs), 1) for k in runs[-1].timings_ms}
    last = runs[-1]

    # The float32 reference for the last build (after the peak was read: it maps 4x the bytes).
    started = time.perf_counter()
    reference = build_model(
        X,
        ids,
        labeled[: first + repeats],
        y_all[: first + repeats],
        previous=runs[-2] if repeats > 1 else cold,
        clusters=cold.clusters,
    )
    reference_s = time.perf_counter() - started
    same_model = bool(np.allclose(reference.model.coef, last.model.coef, rtol=1e-4, atol=1e-6))
    feeds = {}
    for name in FEEDS:
        got, want = last.feeds[name], reference.feeds[name]
        feeds[name] = {
            "identical": bool(np.array_equal(got, want)),
            "recall": round(len(np.intersect1d(got, want)) / max(1, len(want)), 4),
        }
    sharded = simulate_shards(X, reference, labeled[: first + repeats], shards) if shards else None
    return {
        "clips": n,
        "features": FEATURES,
        "annotations": annotations,
        "compact_copy_s": round(copy_s, 1),
        "compact_bytes": compact.path.stat().st_size,
        "float32_bytes": n * FEATURES * 4,
        "warm_build_ms": {"median": round(statistics.median(totals), 1), "all": totals},
        "stages_ms_median": stages,
        "scan": last.metrics.get("scan"),
        "peak_rss_mb": peak.get("VmHWM"),
        "rss_mb_after": {k: v for k, v in peak.items() if k != "VmHWM"},
        "load_before_after": [load_before, load_after],
        "float32_reference": {"build_s": round(reference_s, 2), "same_model": same_model, "feeds": feeds},
        "shards": sharded,
        "target": {"warm_build_ms_max": 1500, "peak_rss_mb_max": 12 * 1024},
        "meets_target": statistics.median(totals) <= 1500 and (peak.get("VmHWM") or 0) <= 12 * 1024,
    }


def bench_search(
    X: np.memmap, source: ClusteredSource, rng: np.random.Generator, queries: int, k: int, nprobe: int | None
) -> dict[str, Any]:
    from ..search.ann import AnnIndex, auto_nlist
    from ..search.exact import ExactIndex

    n = X.shape[0]
    vectors = X[:, :SEMANTIC]  # strided view: the semantic block is unit rows from the mixture
    ids = np.arange(n, dtype=np.int64)
    started = time.perf_counter()
    nlist = auto_nlist(n)
    ann = AnnIndex(SEMANTIC, nlist=nlist, nprobe=nprobe)
    for s in range(0, n, 1 << 20):
        ann.add(ids[s : s + (1 << 20)], vectors[s : s + (1 << 20)])
    ann.exact = ExactIndex.over(ids, vectors)
    build_s = time.perf_counter() - started
    qs = source.sample(queries, rng)
    started = time.perf_counter()
    truth, _ = ann.exact.search(qs, k)
    exact_s = time.perf_counter() - started
    ann.search(qs[0], k)  # warm
    times, hits = [], []
    for q, want in zip(qs, truth):
        t = time.perf_counter()
        got, _ = ann.search(q, k)
        times.append((time.perf_counter() - t) * 1000)
        hits.append(len(np.intersect1d(got, want)) / k)
    median = statistics.median(times)
    recall = float(np.mean(hits))
    return {
        "clips": n,
        "dim": SEMANTIC,
        "nlist": ann.nlist,
        "nprobe": ann._nprobe(),
        "index_build_s": round(build_s, 1),
        "median_ms": round(median, 2),
        "p95_ms": round(float(np.percentile(times, 95)), 2),
        f"recall_at_{k}": round(recall, 4),
        "exact_batch_s": round(exact_s, 1),
        "target": {"median_ms_max": 20, f"recall_at_{k}_min": 0.95},
        "meets_target": median <= 20 and recall >= 0.95,
    }


def run(
    sizes: tuple[int, ...] = (500_000, 2_000_000),
    annotations: int = 1000,
    repeats: int = 5,
    queries: int = 100,
    k: int = 100,
    seed: int = 0,
    workers: int = 2,
    nprobe: int | None = None,
    shards: int = 8,
    skip_search: bool = False,
    skip_ingest: bool = False,
    media_dir: str | None = None,
    tmp: str | None = None,
) -> dict[str, Any]:
    result: dict[str, Any] = {
        "machine": {"cpus": os.cpu_count(), "python": platform.python_version(), "processor": platform.processor()},
        "load_start": _load(),
        "sizes": {},
    }
    for n in sizes:
        folder = Path(tempfile.mkdtemp(prefix="va-scale-", dir=tmp))
        try:
            started = time.perf_counter()
            X, source, rng = write_corpus(folder, n, seed)
            entry: dict[str, Any] = {"generate_s": round(time.perf_counter() - started, 1)}
            entry["build"] = bench_build(folder, X, rng, annotations, repeats, workers, shards)
            if not skip_search:
                entry["search"] = bench_search(X, source, rng, queries, k, nprobe)
            result["sizes"][str(n)] = entry
            del X
        finally:
            shutil.rmtree(folder, ignore_errors=True)
    if not skip_ingest:
        from .scale_ingest import ingest_throughput

        result["ingest"] = ingest_throughput(media_dir, workers=(1, 2))
    result["load_end"] = _load()
    return result
