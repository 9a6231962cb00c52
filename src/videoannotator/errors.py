"""User-facing errors: one message that says what went wrong and what to do, plus an HTTP status.

The CLI prints ``str(error)`` on one line; the server turns it into
``{"error": {"code": ..., "message": ...}}`` with ``error.status``.
"""


class VAError(Exception):
    """Base of every error a user should see. ``code`` is stable; ``message`` is for people."""

    status = 400
    code = "bad_request"

    def __init__(self, message: str, *, status: int | None = None, code: str | None = None):
        super().__init__(message)
        self.message = message
        if status is not None:
            self.status = status
        if code is not None:
            self.code = code


class NotFound(VAError):
    status = 404
    code = "not_found"


class Conflict(VAError):
    status = 409
    code = "conflict"


class InvalidInput(VAError):
    status = 422
    code = "invalid_input"


class MediaError(VAError):
    """A file could not be read as a video (corrupt, truncated, audio-only, empty, ...)."""

    status = 422
    code = "bad_media"


class EmbedderMismatch(VAError):
    status = 409
    code = "embedder_mismatch"


class NotReady(VAError):
    """The operation needs something first (e.g. a positive and a negative annotation)."""

    status = 409
    code = "not_ready"


class MissingDependency(VAError):
    status = 500
    code = "missing_dependency"


class DiskFull(VAError):
    """A write failed for lack of space: names the disk and what it needs; nothing stored is lost."""

    status = 507
    code = "disk_full"


class StorageError(VAError):
    """The workspace's files disagree with its catalog (e.g. a vector row missing): never guessed at."""

    status = 500
    code = "storage_error"


class ImportMismatch(InvalidInput):
    """Rows of an imported file that match no clip here; ``problems`` holds one line per row."""

    def __init__(self, message: str, problems: list[str]):
        super().__init__(message)
        self.problems = problems


SQLITE_FULL = 13  # sqlite3.SQLITE_FULL, without importing a backend here


def is_disk_full(exc: BaseException) -> bool:
    """ENOSPC/EDQUOT from a file write, or a catalog's 'database or disk is full'."""
    import errno

    if isinstance(exc, OSError) and exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return True
    if getattr(exc, "sqlite_errorcode", None) == SQLITE_FULL:
        return True
    return "disk is full" in str(exc) and type(exc).__module__ in ("sqlite3", "psycopg", "psycopg.errors")
