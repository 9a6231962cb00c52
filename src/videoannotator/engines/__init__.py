"""Where ingest and scoring work runs: ``get_engine(name, **options)``.

``local`` (the default) runs the workers in this process (with ``decode_workers``, decoding in
a pool of processes: the default on a GPU); ``ray`` runs them as a Ray Data pipeline on a local
Ray or a cluster (engines/ray.py, the optional extra ``videoannotator[ray]``). Either way
results come back to the one writer that commits them (``Workspace.commit_video``).
"""

from __future__ import annotations

from typing import Any

from .base import Engine, JobResult, VideoJob
from .local import LocalEngine

ENGINES = ("local", "ray")


def get_engine(name: str = "local", **options: Any) -> Engine:
    """``local`` options: ``decode_workers``; ``ray`` options: ``address``, ``workers``,
    ``num_cpus``, ``gpus_per_actor`` (engines/ray.py). Options left None take their defaults."""
    options = {k: v for k, v in options.items() if v is not None}
    if name == "local":
        return LocalEngine(**options)
    if name == "ray":
        from .ray import RayEngine, import_ray

        import_ray()  # a missing extra is said now, before any file is hashed
        return RayEngine(**options)
    raise ValueError(f"unknown engine {name!r}; choose one of: {', '.join(ENGINES)}")


__all__ = ["ENGINES", "Engine", "JobResult", "LocalEngine", "VideoJob", "get_engine"]
