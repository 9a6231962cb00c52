"""The `va` command: parses, calls the Workspace, formats. No logic lives only here.

``app`` holds the click group and what the commands share; each other module registers one
group of commands on it (importing only ``app``). Importing this package imports them all.
"""

from __future__ import annotations

from . import admin, bench, eval, ingest, loop, production
from .app import cli, main, printable

__all__ = ["admin", "bench", "cli", "eval", "ingest", "loop", "main", "printable", "production"]
