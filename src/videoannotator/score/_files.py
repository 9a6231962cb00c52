"""Whole-file writes: a temporary file beside the target, renamed over it (never a half file)."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Callable, Iterator
from pathlib import Path


@contextlib.contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary path in ``path``'s folder to write to; renamed to ``path`` on success.

    On an error the temporary file is removed and ``path`` is left as it was.
    """
    target = Path(path)
    fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent or Path("."))
    os.close(fd)
    tmp = Path(name)
    os.chmod(tmp, 0o644)  # mkstemp's 0600 would make every export private (os.umask is process-wide: not read)
    try:
        yield tmp
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise


def write_text(path: str | Path, text: str) -> None:
    """``text`` (UTF-8) at ``path``, whole or not at all."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8", newline="")


def write_with(path: str | Path, writer: Callable[[Path], object]) -> None:
    """``writer(tmp)`` writes the file; it lands at ``path`` whole or not at all."""
    with atomic_path(path) as tmp:
        writer(tmp)
