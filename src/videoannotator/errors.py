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
