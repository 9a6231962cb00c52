"""The Ray engine: ingest's workers as a Ray Data pipeline, the writer stays here.

    rows (one per video) → decode + cut (a CPU task per video) → embed (a pool of actors, each
    holding the embedder: on a GPU where the cluster has GPUs) → this process, which commits
    each video in the order given (``Workspace.commit_video``: the same catalog and vector
    store as the local engine)

Without an address a local Ray is started on this machine (a small object store, no
dashboard); with one (``ray start --head`` prints it) the driver joins that cluster. A video
that fails (a corrupt file) is one error result, as with the local engine (a worker process
that dies is retried by Ray Data); a killed run is
resumed by running it again (committed videos are skipped by content hash). ``ray`` is an
optional extra, imported only here: ``pip install 'videoannotator[ray]'``. docs/ray.md.
"""

from __future__ import annotations

import logging
import os
import pickle
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import replace
from typing import TYPE_CHECKING, Any, TypeVar

from ..errors import MediaError, MissingDependency, NotReady
from ..progress import is_terminal
from .base import JobResult, VideoJob

if TYPE_CHECKING:
    from ..embed.base import Embedder
    from ..ingest.embedding import EmbeddedVideo, VideoTask

J = TypeVar("J")
R = TypeVar("R")

INSTALL = "pip install 'videoannotator[ray]'"
#: object store of a local Ray this engine starts: a few decoded videos in flight, not the default 30 % of memory
LOCAL_OBJECT_STORE_BYTES = 400 * 1024**2
#: memory a decode task asks for: a video's kept frames (3 per clip at 320 px: about 0.5 MB a clip)
DECODE_MEMORY_BYTES = 256 * 1024**2


def import_ray() -> Any:
    """The ``ray`` module, or one line saying how to install it."""
    try:
        import ray
        import ray.data
    except ImportError:
        raise MissingDependency(f"the ray engine needs Ray, an optional extra: {INSTALL}") from None
    return ray


class RayEngine:
    """``address``: a running cluster's (``ray start --head`` prints it; "auto": the one on this
    machine); None starts a local Ray here with ``num_cpus`` (default: the machine's cores).
    ``workers``: decode tasks at once and embedding actors (default: half the cluster's CPUs,
    or with GPUs one actor per GPU and the CPUs for decoding); ``gpus_per_actor``: None uses
    one GPU per actor where the cluster has GPUs, 0 never."""

    name = "ray"

    def __init__(
        self,
        address: str | None = None,
        workers: int | None = None,
        num_cpus: int | None = None,
        gpus_per_actor: float | None = None,
        object_store_bytes: int = LOCAL_OBJECT_STORE_BYTES,
    ):
        if workers is not None and workers < 1:
            raise ValueError(f"ray workers must be 1 or more, not {workers}")
        if address:
            _check_reachable(address)  # now, before any file is hashed
        self.address = address
        self.workers = workers
        self.num_cpus = num_cpus
        self.gpus_per_actor = gpus_per_actor
        self.object_store_bytes = object_store_bytes
        self.startup_seconds: float | None = None  # time to start or join Ray (0: it was running)

    # -- the cluster ------------------------------------------------------------------------------
    def connect(self) -> Any:
        """Start (or join) Ray once per process; returns the ``ray`` module."""
        ray = import_ray()
        if ray.is_initialized():
            if self.startup_seconds is None:
                self.startup_seconds = 0.0
            return ray
        t = time.perf_counter()
        # Ray's C++ notices (e.g. ray-project/ray#53727) off; errors still raise here
        os.environ.setdefault("RAY_BACKEND_LOG_LEVEL", "fatal")
        quiet = {"logging_level": logging.ERROR, "log_to_driver": False, "include_dashboard": False}
        try:
            if self.address:
                ray.init(address=self.address, **quiet)
            else:
                num_cpus = self.num_cpus or os.cpu_count() or 2
                ray.init(num_cpus=num_cpus, object_store_memory=self.object_store_bytes, **quiet)
        except ConnectionError as exc:
            raise NotReady(
                f"cannot reach the Ray cluster at {self.address!r}: {str(exc).splitlines()[0] if str(exc) else exc}; "
                "start one with `ray start --head` and pass the address it prints"
            ) from None
        logging.getLogger("ray.data").setLevel(logging.ERROR)  # its notices are not ours to show
        self.startup_seconds = time.perf_counter() - t
        return ray

    def plan(self, ray: Any) -> tuple[int, int, float, float]:
        """(decode tasks at once, embedding actors, GPUs per actor, CPUs each asks for).

        On CPUs a worker is one decode task and one embedding actor; with GPUs, one actor per
        GPU and every other CPU decoding (decoding is what bounds ingest there). Where the
        cluster has fewer CPUs than that asks for (``--workers 2`` on two cores) each asks
        for its share, so no stage waits forever for a CPU the actors hold."""
        resources = ray.cluster_resources()
        cpus = float(resources.get("CPU", 1))
        gpus = float(resources.get("GPU", 0))
        per_actor = self.gpus_per_actor if self.gpus_per_actor is not None else (1.0 if gpus else 0.0)
        if per_actor and gpus < per_actor:
            raise MissingDependency(
                f"the Ray cluster has {gpus:g} GPUs, fewer than the {per_actor:g} each embedding actor asks for"
            )
        if per_actor:
            actors = self.workers or max(1, int(gpus / per_actor))
            decoders = max(1, int(cpus) - actors)
            need = float(decoders)
        else:
            actors = decoders = self.workers or max(1, int(cpus) // 2)
            need = float(decoders + actors)
        return decoders, actors, per_actor, min(1.0, cpus / need)

    # -- the engine protocol ------------------------------------------------------------------
    def map(self, fn: Callable[[J], R], jobs: Iterable[J]) -> Iterator[JobResult[J, R]]:
        """Any picklable ``fn`` as one Ray task per job; results in the order of ``jobs``."""
        ray = self.connect()
        remote = ray.remote(_call_safely)
        jobs = list(jobs)
        refs = [remote.remote(fn, job) for job in jobs]
        try:
            for job, ref in zip(jobs, refs):
                value, error = ray.get(ref)
                yield JobResult(job, value=value, error=error)
        finally:
            for ref in refs:
                ray.cancel(ref)

    def map_videos(
        self, jobs: Iterable[VideoJob], task: VideoTask, embedder: Callable[[], Embedder] | None = None
    ) -> Iterator[JobResult[VideoJob, EmbeddedVideo]]:
        """Ingest's worker half as a Ray Data pipeline; results in the order of ``jobs``.
        ``embedder`` is not used: each actor loads its own."""
        from ..media.shots import resolve_name

        jobs = list(jobs)  # the driver hashes every file (and skips the stored ones) first
        if not jobs:
            return
        ray = self.connect()
        from ray.data import ActorPoolStrategy, DataContext, TaskPoolStrategy

        decoders, actors, gpus, cpu_each = self.plan(ray)
        decoders, actors = min(decoders, len(jobs)), min(actors, len(jobs))  # no idle actor loads a model
        settings = task.settings
        # Decode tasks have no GPU: they run the detector the settings name for the
        # embedder's device on CPU (same cuts), the embedding actors the embedder.
        detector = resolve_name(settings.shot_detector, settings.device)
        decode_task = replace(task, settings=replace(settings, device="cpu", shot_detector=detector), progress=False)
        embed_device = ("cuda" if str(settings.device).startswith("cpu") else settings.device) if gpus else "cpu"
        embed_task = replace(task, settings=replace(settings, device=embed_device), progress=False)
        threads = 1  # a CPU actor holds one CPU: one torch thread (more would compete with the decoders)

        ctx = DataContext.get_current()
        ctx.execution_options.preserve_order = True  # the writer commits in the order given
        ctx.enable_progress_bars = task.progress and is_terminal()  # bars in a log are escape codes
        # Errors travel as rows; should a block fail all the same (an actor that cannot be
        # restarted), its video is reported as not stored and the rest go on.
        ctx.max_errored_blocks = len(jobs)
        rows = [{"i": i, "path": str(job[1]), "digest": job[2]} for i, job in enumerate(jobs)]
        ds = ray.data.from_items(rows, override_num_blocks=len(rows))
        # A decode task holds its video's kept frames: it asks for the memory, which also keeps
        # Ray Data from fusing decoding into the actors (so the two run apart, overlapped).
        ds = ds.map(
            _decode_row,
            fn_args=(decode_task,),
            compute=TaskPoolStrategy(size=decoders),
            num_cpus=cpu_each,
            memory=DECODE_MEMORY_BYTES,
        )
        ds = ds.map(
            _embed_stage(embed_task, threads),
            compute=ActorPoolStrategy(size=actors),
            num_cpus=0 if gpus else cpu_each,
            **({"num_gpus": gpus} if gpus else {}),
        )
        seen: set[int] = set()
        for row in ds.iter_rows():
            i = int(row["i"])
            seen.add(i)
            if row["error"]:
                yield JobResult(jobs[i], error=pickle.loads(row["error"]))
            else:
                yield JobResult(jobs[i], value=pickle.loads(row["blob"]))
        for i, job in enumerate(jobs):
            if i not in seen:
                yield JobResult(job, error=MediaError(f"{job[1]}: a Ray worker died on this video; it was not stored"))


def _check_reachable(address: str, timeout: float = 5.0) -> None:
    """A HOST:PORT that nothing answers on is one line now (Ray itself retries for minutes)."""
    import socket

    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        return  # "auto", or a form Ray resolves itself
    try:
        socket.create_connection((host, int(port)), timeout=timeout).close()
    except OSError as exc:
        raise NotReady(
            f"cannot reach the Ray cluster at {address}: {exc.strerror or exc}; start one with "
            "`ray start --head` on the head node and pass the address it prints (HOST:6379)"
        ) from None


def _decode_row(row: dict[str, Any], task: VideoTask) -> dict[str, Any]:
    """Ray Data stage: decode and cut one video (a CPU task); an error travels as the row."""
    from pathlib import Path

    try:
        decoded = task.decode(Path(row["path"]), row["digest"])
    except Exception as exc:  # noqa: BLE001 - handed to the writer, which reports it
        return {"i": row["i"], "blob": b"", "error": _dump_error(exc)}
    return {"i": row["i"], "blob": pickle.dumps(decoded, protocol=5), "error": b""}


def _embed_stage(task: VideoTask, threads: int) -> type:
    """Ray Data stage: an actor class holding the embedder that embeds each decoded video in
    batches of ``batch_size`` frames. The task travels inside the class (not as constructor
    arguments in the object store, which a restarted actor could lose)."""

    class EmbedVideos:
        def __init__(self) -> None:
            if str(task.settings.device).startswith("cpu"):
                import torch

                torch.set_num_threads(threads)
            self.embedder = task.load_embedder()

        def __call__(self, row: dict[str, Any]) -> dict[str, Any]:
            if row["error"]:
                return row
            try:
                done = task.embed(pickle.loads(row["blob"]), self.embedder)
            except Exception as exc:  # noqa: BLE001 - handed to the writer, which reports it
                return {"i": row["i"], "blob": b"", "error": _dump_error(exc)}
            return {"i": row["i"], "blob": pickle.dumps(done, protocol=5), "error": b""}

    return EmbedVideos


def _dump_error(exc: Exception) -> bytes:
    try:
        data = pickle.dumps(exc)
        pickle.loads(data)
        return data
    except Exception:  # noqa: BLE001 - an exception that does not pickle travels as its text
        return pickle.dumps(RuntimeError(f"{type(exc).__name__}: {exc}"))


def _call_safely(fn: Callable[[Any], Any], job: Any) -> tuple[Any, Exception | None]:
    try:
        return fn(job), None
    except Exception as exc:  # noqa: BLE001 - the caller decides what a failed job means
        return None, pickle.loads(_dump_error(exc))
