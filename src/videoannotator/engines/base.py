"""The engine seam: run a function over jobs somewhere, hand every result (or the job's error)
back to the caller — the one writer — in the order the jobs were given.

A job's failure is its result, not the end of the run: the writer decides (a bad video is one
entry in the report; a full disk stops the run). Closing the iterator early cancels the jobs
not yet started.

Ingest asks an engine for ``map_videos(jobs, task, embedder)`` where it has one: the worker
half as a picklable ``ingest.embedding.VideoTask`` (decode → cut → embed), so an engine may
run decoding and embedding in other processes or on other machines (engines/ray.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Generic, Protocol, TypeAlias, TypeVar

J = TypeVar("J")
R = TypeVar("R")

#: one video for ingest's workers: (position among the arguments, path, content hash)
VideoJob: TypeAlias = tuple[int, Path, str]


@dataclass
class JobResult(Generic[J, R]):
    job: J
    value: R | None = None
    error: Exception | None = None


class Engine(Protocol):
    name: str

    def map(self, fn: Callable[[J], R], jobs: Iterable[J]) -> Iterator[JobResult[J, R]]: ...
