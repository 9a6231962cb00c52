"""The workspace's write lock: one writer at a time appends to the matrices and commits.

An advisory ``fcntl`` lock on ``home/.write.lock``, held by ingest (append + commit), reembed
(the whole run) and backup (the copy). Readers never take it: they read only rows the catalog
has committed. Kept behind this small class so a networked catalog can bring its own lock.
"""

from __future__ import annotations

import fcntl
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


class FileLock:
    def __init__(self, path: str | Path) -> None:
        self.path = Path(path)

    @contextmanager
    def hold(self, blocking: bool = True) -> Iterator[bool]:
        """Hold the lock for the ``with`` block. Non-blocking: yields False at once if another
        process (or another open of it here) holds it, True otherwise."""
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | (0 if blocking else fcntl.LOCK_NB))
            except BlockingIOError:
                yield False
                return
            try:
                yield True
            finally:
                fcntl.flock(fd, fcntl.LOCK_UN)
        finally:
            os.close(fd)
