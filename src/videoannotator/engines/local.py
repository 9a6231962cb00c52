"""The local engine: jobs run one after another in this process (each job's own threads —
decode beside embed — keep both cores busy; two jobs at once would only compete for them)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from typing import TypeVar

from .base import JobResult

J = TypeVar("J")
R = TypeVar("R")


class LocalEngine:
    name = "local"

    def map(self, fn: Callable[[J], R], jobs: Iterable[J]) -> Iterator[JobResult[J, R]]:
        for job in jobs:
            try:
                yield JobResult(job, value=fn(job))
            except Exception as exc:  # noqa: BLE001 - the caller decides what a failed job means
                yield JobResult(job, error=exc)
