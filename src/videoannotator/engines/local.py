"""The local engine: jobs run one after another in this process (each job's own threads —
decode beside embed — keep both cores busy; two jobs at once would only compete for them).

With ``decode_workers`` > 0 (the default where the embedder runs on a GPU) videos are decoded
and cut in that many processes, a few videos ahead, while this process embeds: on a GPU the
embedder outpaces one decoder many times over (docs/ray.md)."""

from __future__ import annotations

import os
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future
from typing import TYPE_CHECKING, Any, TypeVar

from .base import JobResult, VideoJob

if TYPE_CHECKING:
    from ..embed.base import Embedder
    from ..ingest.embedding import DecodedVideo, EmbeddedVideo, VideoTask

J = TypeVar("J")
R = TypeVar("R")

#: decode processes on a GPU machine when not given: the cores less one (for the embedder's feeding), at most 8
MAX_AUTO_DECODERS = 8


def auto_decode_workers(device: str) -> int:
    """0 (decode in a thread of this process) on CPU; on a GPU, the cores less one, at most 8."""
    if str(device).startswith("cpu"):
        return 0
    return max(1, min(MAX_AUTO_DECODERS, (os.cpu_count() or 2) - 1))


class LocalEngine:
    name = "local"

    def __init__(self, decode_workers: int | None = None):
        if decode_workers is not None and decode_workers < 0:
            raise ValueError(f"decode workers must be 0 or more, not {decode_workers}")
        self.decode_workers = decode_workers  # None: auto_decode_workers(device)

    def map(self, fn: Callable[[J], R], jobs: Iterable[J]) -> Iterator[JobResult[J, R]]:
        for job in jobs:
            try:
                yield JobResult(job, value=fn(job))
            except Exception as exc:  # noqa: BLE001 - the caller decides what a failed job means
                yield JobResult(job, error=exc)

    def map_videos(
        self, jobs: Iterable[VideoJob], task: VideoTask, embedder: Callable[[], Embedder]
    ) -> Iterator[JobResult[VideoJob, EmbeddedVideo]]:
        """Ingest's worker half over ``jobs`` ((position, path, content hash)), in order."""
        workers = self.decode_workers
        if workers is None:
            workers = auto_decode_workers(task.settings.device)
        if not workers:
            return self.map(lambda job: task.run(job[1], job[2], embedder()), jobs)
        return self._with_decoders(jobs, task, embedder, workers)

    def _with_decoders(
        self, jobs: Iterable[VideoJob], task: VideoTask, embedder: Callable[[], Embedder], workers: int
    ) -> Iterator[JobResult[VideoJob, EmbeddedVideo]]:
        import multiprocessing
        from concurrent.futures import ProcessPoolExecutor

        # spawn, not fork: this process holds torch's threads (and maybe a CUDA context)
        pool = ProcessPoolExecutor(workers, mp_context=multiprocessing.get_context("spawn"))
        pending: deque[tuple[VideoJob, Future[DecodedVideo]]] = deque()
        todo = iter(jobs)

        def submit_next() -> None:
            job = next(todo, None)
            if job is not None:
                pending.append((job, pool.submit(_decode, task, job)))

        try:
            for _ in range(2 * workers):  # a few videos ahead of the embedder
                submit_next()
            while pending:
                job, future = pending.popleft()
                submit_next()
                try:
                    decoded = future.result()
                    result: JobResult[VideoJob, EmbeddedVideo] = JobResult(job, value=task.embed(decoded, embedder()))
                except Exception as exc:  # noqa: BLE001 - the caller decides what a failed job means
                    result = JobResult(job, error=exc)
                yield result
        finally:
            pool.shutdown(wait=True, cancel_futures=True)


def _decode(task: VideoTask, job: VideoJob) -> Any:
    return task.decode(job[1], job[2])
