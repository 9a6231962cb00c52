"""Where ingest and scoring work runs: ``get_engine(name)``.

``local`` (the default) runs the workers in this process; a Ray engine (the scale-out issue)
implements the same ``Engine`` protocol: workers decode and embed anywhere, results come back
to the one writer that commits them (``Workspace.commit_video``).
"""

from __future__ import annotations

from .base import Engine, JobResult
from .local import LocalEngine

ENGINES = ("local",)


def get_engine(name: str = "local") -> Engine:
    if name == "local":
        return LocalEngine()
    raise ValueError(f"unknown engine {name!r}; choose one of: {', '.join(ENGINES)}")


__all__ = ["ENGINES", "Engine", "JobResult", "LocalEngine", "get_engine"]
