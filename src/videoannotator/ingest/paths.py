"""What `va ingest PATH...` means: files as given, folders walked, globs expanded — each
problem one entry naming the argument and the reason, never the end of the run."""

from __future__ import annotations

import errno
import glob
import os
import stat
from pathlib import Path

VIDEO_EXTENSIONS = {
    ".mp4",
    ".m4v",
    ".mov",
    ".mkv",
    ".webm",
    ".avi",
    ".ogv",
    ".ogg",
    ".mpg",
    ".mpeg",
    ".ts",
    ".mts",
    ".m2ts",
    ".wmv",
    ".flv",
    ".3gp",
    ".mxf",
    ".y4m",
}


def expand_paths(paths) -> tuple[list[Path], list[dict]]:
    """Files as given; folders recursively (video extensions only); globs expanded.

    Returns each usable file once, resolved and absolute, and one ``{"path", "error"}`` per
    argument (or entry of a folder) that cannot be used: a missing path, a symlink loop, a
    dangling symlink, a folder that cannot be read. One bad argument never stops the rest.
    """
    files: list[Path] = []
    failed: list[dict] = []
    for raw in paths:
        found, problems = _expand_one(str(raw))
        files += found
        failed += problems
    return list(dict.fromkeys(files)), failed


def _failure(path, reason: str) -> dict:
    return {"path": str(path), "error": f"{path}: {reason}"}


def _expand_one(raw: str) -> tuple[list[Path], list[dict]]:
    path = Path(raw).expanduser()
    try:
        mode = path.stat().st_mode  # follows symlinks
    except OSError as exc:
        if exc.errno == errno.ENOENT and not path.is_symlink() and any(ch in raw for ch in "*?["):
            return _expand_glob(path)
        return [], [_failure(path, _stat_problem(path, exc))]
    if stat.S_ISDIR(mode):
        return _walk_folder(path)
    return [path.resolve()], []


def _stat_problem(path: Path, exc: OSError) -> str:
    """Why ``path`` cannot be used, from the OSError its stat() raised."""
    if exc.errno == errno.ELOOP:
        return "a symlink loop (the link leads back to itself); fix or remove the link"
    if exc.errno == errno.ENOENT and path.is_symlink():
        return f"a dangling symlink (its target {os.readlink(path)} does not exist); fix or remove the link"
    if exc.errno == errno.ENOENT:
        return "no such file or folder; check the path"
    if exc.errno == errno.EACCES:
        return "permission denied (a folder on the way cannot be entered); check its permissions"
    return f"cannot be read: {exc.strerror or exc}"


def _expand_glob(pattern: Path) -> tuple[list[Path], list[dict]]:
    matches = sorted(Path(m) for m in glob.glob(str(pattern), recursive=True))
    files, failed = [], []
    for match in matches:
        try:
            if stat.S_ISDIR(match.stat().st_mode):
                continue  # a pattern names files; folders it matches are not walked
            files.append(match.resolve())
        except OSError as exc:
            failed.append(_failure(match, _stat_problem(match, exc)))
    if not matches:
        failed.append(_failure(pattern, "the pattern matches no file"))
    return files, failed


def _walk_folder(folder: Path) -> tuple[list[Path], list[dict]]:
    """Video files under ``folder`` (symlinked folders are not followed: no loops); each
    sub-folder that cannot be read and each broken link with a video name is one failure."""
    files, failed = [], []

    def unreadable(exc: OSError) -> None:
        where = exc.filename or folder
        reason = (
            "permission denied while reading the folder; check its permissions (its videos were not ingested)"
            if exc.errno == errno.EACCES
            else f"the folder cannot be read: {exc.strerror or exc}"
        )
        failed.append(_failure(where, reason))

    for dirpath, dirnames, filenames in os.walk(folder, onerror=unreadable):
        dirnames.sort()
        for name in sorted(filenames):
            if Path(name).suffix.lower() not in VIDEO_EXTENSIONS:
                continue
            path = Path(os.path.abspath(os.path.join(dirpath, name)))
            try:
                mode = path.stat().st_mode
            except OSError as exc:
                failed.append(_failure(path, _stat_problem(path, exc)))
                continue
            if stat.S_ISREG(mode):
                files.append(path.resolve())
    return files, failed
